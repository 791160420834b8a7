/**
 * The append only file, after Redis 7's aof.c: every write's effects (the `propagate` hook: SET
 * EX arrives as SET PXAT, expired keys as DEL, transactions and scripts as MULTI ... EXEC) are
 * appended in RESP form, with a SELECT whenever the database changes, to the last incremental
 * file of `<dir>/<appenddirname>` (see aof_manifest.ts for the multi-part layout).
 *
 * Durability: effects collect in a buffer that is written at the end of each batch of commands,
 * before any reply of the batch goes out (the `beforeReplies` hook). With `appendfsync always`
 * it is also fsynced there, so a reply is only sent once its write is on disk; with `everysec`
 * a background fsync runs at most once a second; with `no` the OS decides.
 *
 * BGREWRITEAOF (see aof_rewrite_job.ts) starts a new incremental file and writes a new base from
 * a copy-on-write snapshot in slices, then switches the manifest atomically.
 *
 * @module
 */

import { closeSync, fstatSync, openSync } from "node:fs";
import { join } from "node:path";
import { strToBytes } from "../bytes.ts";
import { CF, type Client, holdReplies, releaseReplies } from "../client.ts";
import { type Command, F } from "../command.ts";
import { ErrorReply } from "../resp/reply.ts";
import type { Server } from "../server.ts";
import { AofFile, nowSec } from "./aof_file.ts";
import { AofLoadError } from "./aof_load.ts";
import { errText, Manifest, removeQuietly, writeFileAtomic } from "./aof_manifest.ts";
import type { RdbBaseCodec } from "./aof_rewrite.ts";
import { RewriteJob } from "./aof_rewrite_job.ts";
import { loadOnStart, openOnStart, readManifest } from "./aof_start.ts";
import { setImmediate } from "node:timers";

/** `off`, `on`, or turned on at runtime and waiting for its first rewrite (AOF_WAIT_REWRITE). */
export type AofState = "off" | "on" | "wait-rewrite";

const aofs = new WeakMap<Server, Aof>();

/**
 * The AOF of `server`, created on first use (the server creates it in its constructor).
 *
 * @param server the server
 * @returns its AOF
 * @example
 * ```ts
 * const server = createServer({ config: { appendonly: "yes", dir: "/tmp/data" } });
 * aofOf(server).state; // "off" until the server loads its data, then "on"
 * ```
 */
export function aofOf(server: Server): Aof {
  let aof = aofs.get(server);
  if (aof === undefined) {
    aof = new Aof(server);
    aofs.set(server, aof);
  }
  return aof;
}

/** The AOF state of one server. */
export class Aof {
  state: AofState = "off";
  manifest = new Manifest();
  /** The RDB file module plugs in here (RDB bases, old-style preambles). */
  rdbBase: RdbBaseCodec | undefined;
  /** The incremental file appended to, and its buffer. */
  readonly file: AofFile;
  /** aof_base_size: the AOF's size after the last rewrite (auto-aof-rewrite-percentage). */
  baseSize = 0;
  /** The rewrite in progress, and BGREWRITEAOF asked while it could not start. */
  job: RewriteJob | undefined;
  scheduled = false;
  rewrites = 0;
  consecutiveFailures = 0;
  lastRewriteOk = true;
  lastRewriteTimeSec = -1;
  /** The database of the last SELECT written, -1 to force one. */
  selectedDb = -1;
  /**
   * fsynced_reploff: the replication offset known to be on disk; -1 while the AOF is off, 0 while
   * turned on at runtime and waiting for its first rewrite (WAITAOF's local count).
   */
  fsyncedReploff = -1;
  /** Called when `fsyncedReploff` moves (WAITAOF waiters). */
  onFsynced: () => void = () => {};
  /** Called for each effect fed to the AOF (the replication offset counts them without a backlog). */
  onFeed: () => void = () => {};
  private started = false;
  private timestamps: boolean;
  private lastTimestamp = 0;
  private gateOn = false;
  private limitDelayMin = 0;
  private limitUntilSec = 0;

  /** @param server the server whose writes are logged */
  constructor(readonly server: Server) {
    this.file = new AofFile(server, () => this.backgroundBusy(), () => this.updateGate());
    this.file.onSynced = () => this.updateFsynced();
    this.timestamps = server.config.bool("aof-timestamp-enabled");
    server.config.onChange((name, value) => {
      if (name === "appendfsync") this.file.policy = value as string;
      else if (name === "aof-timestamp-enabled") this.timestamps = value as boolean;
      else if (name === "appendonly" && this.started) {
        if (value && this.state === "off") this.startAppendOnly();
        else if (!value && this.state !== "off") this.stopAppendOnly();
      }
    });
    server.on("load", () => this.startup());
    server.on("cron", () => this.cron());
    server.on("shutdown", () => this.shutdown());
  }

  /** `<dir>/<appenddirname>`. */
  get dir(): string {
    return join(this.server.config.str("dir"), this.server.config.str("appenddirname"));
  }

  /** The `appendfilename` directive (the prefix of every file name). */
  get filename(): string {
    return this.server.config.str("appendfilename");
  }

  /** `temp-<appendfilename>.incr`: the incremental file of an AOF waiting for its first base. */
  get tempIncr(): string {
    return `temp-${this.filename}.incr`;
  }

  /**
   * Whether the manifest is read at start even with `appendonly no`, as redis-server does (so a
   * later `CONFIG SET appendonly yes` continues the files there). main.ts sets it; an embedded
   * server leaves it off and touches no file unless it was asked to persist.
   */
  readManifestWhenOff = false;
  private manifestRead = false;

  /** Reads the manifest and, with `appendonly yes`, loads the files and opens the last one. */
  private startup(): void {
    this.started = true;
    const on = this.server.config.bool("appendonly");
    if (!on && !this.readManifestWhenOff) return;
    this.manifest = readManifest(this);
    this.manifestRead = true;
    if (!on) return;
    loadOnStart(this);
    this.state = "on";
    this.fsyncedReploff = 0;
    openOnStart(this);
    this.deleteHistory();
    this.listen(true);
  }

  /** Hot-path hooks are registered only while the AOF is on. */
  private listen(on: boolean): void {
    const hooks = this.server.hooks;
    hooks.off("propagate", this.feed);
    hooks.off("beforeReplies", this.beforeReplies);
    if (!on) return;
    hooks.on("propagate", this.feed);
    hooks.on("beforeReplies", this.beforeReplies);
  }

  /** Appends one effect to the buffer (feedAppendOnlyFile). */
  private readonly feed = (db: number, argv: string[]): void => {
    this.onFeed();
    // Waiting for a rewrite that has not started: the snapshot it takes will hold this write.
    if (this.state === "wait-rewrite" && this.job === undefined) return;
    const buf = this.file.buf;
    if (this.timestamps) {
      const now = nowSec();
      if (now > this.lastTimestamp) {
        this.lastTimestamp = now;
        buf.rawStr(`#TS:${now}\r\n`);
      }
    }
    if (db !== this.selectedDb) {
      this.selectedDb = db;
      buf.arrayHeader(2);
      buf.bulk("SELECT");
      buf.bulk(String(db));
    }
    buf.arrayHeader(argv.length);
    for (let i = 0; i < argv.length; i++) buf.bulk(argv[i]!);
  };

  /** A sync is scheduled for this event-loop turn (`appendfsync always`). */
  private syncScheduled = false;

  /**
   * Before a batch's replies: write its effects. Under `always` the replies are held and one
   * fdatasync at the end of the turn covers every client's batch, as Redis does from beforeSleep.
   */
  private readonly beforeReplies = (): void => {
    if (this.file.policy !== "always") {
      this.file.flush(false);
      this.updateFsynced();
      return;
    }
    if (!this.file.writeUnsynced() || this.syncScheduled) return;
    this.syncScheduled = true;
    holdReplies(this.server);
    // setImmediate: after the callbacks of the sockets that were ready together (one shot, so it
    // cannot starve the sockets the way a chain of them does on Deno).
    setImmediate(() => {
      this.syncScheduled = false;
      this.file.flush(false);
      this.updateFsynced();
      releaseReplies(this.server);
    });
  };

  /**
   * Takes the offset of the last completed sync as the fsynced one (Redis does it in
   * beforeSleep), not while the first rewrite is pending; tells the waiters when it moved.
   */
  updateFsynced(): void {
    if (this.state !== "on" || this.fsyncedReploff === -1) return;
    const before = this.fsyncedReploff;
    this.fsyncedReploff = this.file.fsyncedPending;
    if (this.fsyncedReploff !== before) this.onFsynced();
  }

  /** True while a snapshot-based background job (rewrite, BGSAVE) runs: Redis's active child. */
  backgroundBusy(): boolean {
    return this.job !== undefined || this.server.dbs.some((db) => db.beforeWrite !== undefined);
  }

  /** Writes are refused with MISCONF while the AOF cannot be written. */
  private updateGate(): void {
    const on = this.state !== "off" && this.file.error !== undefined;
    if (on === this.gateOn) return;
    this.gateOn = on;
    if (on) this.server.addGate(this.misconfGate, 30);
    else this.server.removeGate(this.misconfGate);
  }

  private readonly misconfGate = (client: Client, cmd: Command): ErrorReply | undefined => {
    if ((cmd.bits & F.write) === 0 && cmd.name !== "ping") return undefined;
    // Gates run before the command, so ask the client, not the server, whether it is our master.
    if ((client.flags & CF.master) !== 0) return undefined;
    return new ErrorReply(`MISCONF Errors writing to the AOF file: ${this.file.error}`);
  };

  /** Size of a file of the AOF directory, 0 when it cannot be read. */
  fileSize(name: string): number {
    try {
      const fd = openSync(join(this.dir, name), "r");
      try {
        return fstatSync(fd).size;
      } finally {
        closeSync(fd);
      }
    } catch {
      return 0;
    }
  }

  /** Writes `m` as the manifest, atomically; false (logged) on failure. */
  persist(m: Manifest): boolean {
    const name = `${this.filename}.manifest`;
    try {
      writeFileAtomic(this.dir, name, strToBytes(m.format()), `temp-${name}`);
      return true;
    } catch (e) {
      this.server.log("warning", `Can't write the AOF manifest file ${name}: ${errText(e)}`);
      return false;
    }
  }

  /** Deletes the history files and writes the manifest without them (aofDelHistoryFiles). */
  deleteHistory(): void {
    if (this.manifest.history.length === 0) return;
    const m = this.manifest.clone();
    for (const f of m.history) {
      this.server.log("notice", `Removing the history file ${f.name} in the background`);
      removeQuietly(join(this.dir, f.name));
    }
    m.history = [];
    if (this.persist(m)) this.manifest = m;
  }

  /** `appendonly yes` at runtime: a rewrite creates the base, then the AOF is on. */
  private startAppendOnly(): void {
    const log = this.server.log;
    if (!this.manifestRead) {
      // An embedded server skipped the manifest at start: read it now, before any file is named.
      try {
        this.manifest = readManifest(this);
        this.manifestRead = true;
      } catch (e) {
        if (!(e instanceof AofLoadError)) throw e;
        log("warning", "Redis needs to enable the AOF but can't read the AOF manifest.");
        return;
      }
    }
    this.state = "wait-rewrite";
    // Not on disk until the first rewrite is: from then on, what was written by now (rewriteDone).
    this.fsyncedReploff = 0;
    this.file.fsyncedPending = this.file.replOffset();
    this.listen(true);
    if (this.server.nested || this.backgroundBusy()) {
      this.scheduled = true;
      log(
        "warning",
        this.server.nested
          ? "AOF was enabled during a transaction. An AOF background was scheduled to start when possible."
          : "AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.",
      );
    } else if (!RewriteJob.start(this)) {
      this.state = "off";
      this.fsyncedReploff = -1;
      this.listen(false);
      log(
        "warning",
        "Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.",
      );
      return;
    }
    if (this.file.error !== undefined) {
      log("warning", "AOF reopen, just ignore the last error.");
      this.file.clearErrors();
    }
  }

  /** `appendonly no` at runtime: flush, fsync, close, cancel any rewrite. */
  private stopAppendOnly(): void {
    this.file.flush(true);
    this.file.switchTo(-1, 0);
    this.file.buf.truncate(0);
    // Waiting for the first base: the incremental file written meanwhile belongs to no manifest.
    if (this.state === "wait-rewrite") removeQuietly(join(this.dir, this.tempIncr));
    this.selectedDb = -1;
    this.state = "off";
    this.fsyncedReploff = -1;
    this.file.fsyncedPending = 0;
    this.scheduled = false;
    this.job?.cancel();
    this.listen(false);
    this.updateGate();
  }

  /** Postponed writes and fsyncs, scheduled and automatic rewrites (serverCron's AOF part). */
  private cron(): void {
    if (this.state !== "off") this.file.flush(false);
    this.updateFsynced();
    if (this.backgroundBusy() || this.server.nested) return;
    if (this.scheduled) {
      if (!this.limited()) RewriteJob.start(this);
      return;
    }
    const perc = this.server.config.num("auto-aof-rewrite-percentage");
    const min = this.server.config.num("auto-aof-rewrite-min-size");
    const size = this.file.currentSize;
    if (this.state === "on" && perc > 0 && size > min) {
      const growth = Math.floor((size * 100) / Math.max(1, this.baseSize)) - 100;
      if (growth >= perc && !this.limited()) {
        this.server.log("notice", `Starting automatic rewriting of AOF on ${growth}% growth`);
        RewriteJob.start(this);
      }
    }
  }

  /**
   * After 3 failed rewrites in a row, automatic ones wait 1, 2, 4... up to 60 minutes
   * (aofRewriteLimited); BGREWRITEAOF is not limited.
   */
  private limited(): boolean {
    if (this.consecutiveFailures < 3) {
      this.limitDelayMin = 0;
      this.limitUntilSec = 0;
      return false;
    }
    const now = nowSec();
    if (this.limitUntilSec !== 0) {
      if (now < this.limitUntilSec) return true;
      this.limitUntilSec = 0;
      return false;
    }
    this.limitDelayMin = Math.min(60, this.limitDelayMin === 0 ? 1 : this.limitDelayMin * 2);
    this.limitUntilSec = now + this.limitDelayMin * 60;
    this.server.log(
      "warning",
      `Background AOF rewrite has repeatedly failed and triggered the limit, will retry in ${this.limitDelayMin} minutes`,
    );
    return true;
  }

  private shutdown(): void {
    this.job?.cancel();
    if (this.state === "off") return;
    this.server.log("notice", "Calling fsync() on the AOF file.");
    this.file.flush(true);
    this.file.switchTo(-1, 0);
  }

  /** INFO persistence fields of the AOF, named and ordered as Redis 7.0 prints them. */
  infoFields(): Array<[string, string | number]> {
    const job = this.job;
    const file = this.file;
    const fields: Array<[string, string | number]> = [
      ["aof_enabled", this.state !== "off" ? 1 : 0],
      ["aof_rewrite_in_progress", job ? 1 : 0],
      ["aof_rewrite_scheduled", this.scheduled ? 1 : 0],
      ["aof_last_rewrite_time_sec", this.lastRewriteTimeSec],
      ["aof_current_rewrite_time_sec", job ? nowSec() - job.startSec : -1],
      ["aof_last_bgrewrite_status", this.lastRewriteOk ? "ok" : "err"],
      ["aof_rewrites", this.rewrites],
      ["aof_rewrites_consecutive_failures", this.consecutiveFailures],
      ["aof_last_write_status", file.error === undefined ? "ok" : "err"],
      ["aof_last_cow_size", 0],
      // Redis prints these two between the AOF fields; there is no fork here.
      ["module_fork_in_progress", 0],
      ["module_fork_last_cow_size", 0],
    ];
    if (this.server.config.bool("appendonly")) {
      fields.push(
        ["aof_current_size", file.currentSize],
        ["aof_base_size", this.baseSize],
        ["aof_pending_rewrite", this.scheduled ? 1 : 0],
        ["aof_buffer_length", file.buf.length],
        ["aof_pending_bio_fsync", file.fsyncing ? 1 : 0],
        ["aof_delayed_fsync", file.delayedFsync],
      );
    }
    return fields;
  }
}
