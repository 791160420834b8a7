/**
 * The RDB file of a server (`<dir>/<dbfilename>`): SAVE, BGSAVE, save points, the final save at
 * shutdown, the MISCONF gate after a failed background save, and the INFO persistence fields.
 *
 * A save writes `temp-<pid>.rdb` (`temp-bg-<pid>.rdb` for a background save) in `dir` and
 * renames it over the dump (see rdb_write.ts), so the previous dump stays whole until the new
 * one is complete. BGSAVE has no fork: it takes a {@linkcode Snapshot} (copy-on-write by key)
 * and writes it a few milliseconds at a time between commands (README, Persistence).
 *
 * @module
 */

import { join } from "node:path";
import { librariesOf } from "../../scripting/functions.ts";
import { CF, type Client } from "../client.ts";
import { type Command, F } from "../command.ts";
import { idleSeconds, lfuCounter } from "../keyspace/access.ts";
import { Snapshot } from "../keyspace/snapshot.ts";
import { pid } from "../proc.ts";
import { writeOptions } from "../rdb/write_value.ts";
import { ErrorReply } from "../resp/reply.ts";
import type { Server } from "../server.ts";
import { aofOf } from "./aof.ts";
import type { BaseWriter, RdbBaseCodec } from "./aof_rewrite.ts";
import { errText } from "./aof_manifest.ts";
import { reportedVersion } from "../version.ts";
import { loadRdbFile, RdbLoadError, type RdbLoadOptions, type RdbLoadResult } from "./rdb_load.ts";
import {
  databaseSources,
  type RdbImageOptions,
  RdbImageWriter,
  snapshotSources,
} from "./rdb_save.ts";
import { BackgroundSave, saveFile } from "./rdb_write.ts";

/** An AOF base slice ends after this many milliseconds. */
const BASE_SLICE_MS = 4;
/** Seconds before a failed background save is retried by the save points. */
const BGSAVE_RETRY_DELAY = 5;

const MISCONF = new ErrorReply(
  "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.",
);

/** A background save in progress. */
interface BgSave {
  snapshot: Snapshot;
  save: BackgroundSave;
  /** Clock time (ms) it started. */
  startedAt: number;
}

const states = new WeakMap<Server, RdbPersistence>();

/**
 * The RDB persistence of `server`, created on first use (the server creates it at start).
 *
 * @param server the server
 * @returns its RDB state
 * @example
 * ```ts
 * rdbOf(server).save(); // true once dump.rdb is on disk
 * ```
 */
export function rdbOf(server: Server): RdbPersistence {
  let p = states.get(server);
  if (p === undefined) {
    p = new RdbPersistence(server);
    states.set(server, p);
  }
  return p;
}

/** SAVE, BGSAVE, save points and their state. */
export class RdbPersistence {
  /** The background save in progress. */
  job: BgSave | undefined;
  /** BGSAVE SCHEDULE asked while another background job ran. */
  scheduled = false;
  lastBgsaveOk = true;
  /** Clock time (ms) of the last background save attempt. */
  lastBgsaveTry = 0;
  lastBgsaveTimeSec = -1;
  /** Saves started (INFO rdb_saves). */
  saves = 0;
  lastLoadKeysLoaded = 0;
  lastLoadKeysExpired = 0;
  /**
   * The replication fields a dump carries (Redis's rdbPopulateSaveInfo), from the replication
   * plugin: a master's or replica's id, offset and stream database, or undefined when there is no
   * history to resume.
   */
  replInfo: (() => RdbImageOptions["repl"]) | undefined;
  /** The aux fields of the dump loaded at startup (the replication plugin resumes from them). */
  startAux: Map<string, string> | undefined;
  private dirtyBeforeBgsave = 0;
  private points: Array<[number, number]> = [];
  private gateOn = false;

  /** @param server the server whose data is saved */
  constructor(readonly server: Server) {
    // The AOF writes and reads its RDB bases (aof-use-rdb-preamble) through this module.
    aofOf(server).rdbBase ??= rdbBaseCodec;
    this.points = parseSavePoints(server.config.str("save"));
    server.config.onChange((name, value) => {
      if (name === "save") this.points = parseSavePoints(String(value));
      if (name === "save" || name === "stop-writes-on-bgsave-error") this.updateGate();
    });
    server.on("cron", () => this.cron());
    server.on("shutdown", () => {
      this.shutdownSave(server.shutdownSave, true);
    });
  }

  /** The configured save points as `[seconds, changes]`. */
  get savePoints(): ReadonlyArray<[number, number]> {
    return this.points;
  }

  /** `<dir>/<dbfilename>`. */
  get path(): string {
    return join(this.server.config.str("dir"), this.server.config.str("dbfilename"));
  }

  /** True while another background job (an AOF rewrite, any snapshot) runs: Redis's child. */
  otherJobRunning(): boolean {
    if (this.job !== undefined) return false;
    return aofOf(this.server).job !== undefined ||
      this.server.dbs.some((db) => db.beforeWrite !== undefined);
  }

  // ---- saving ------------------------------------------------------------------------------

  /**
   * SAVE: writes the dump synchronously (Redis's rdbSave). On success the changes counter is
   * reset and LASTSAVE moves.
   *
   * @returns true when the dump is on disk; false after logging why not
   */
  save(): boolean {
    const server = this.server;
    const writer = new RdbImageWriter(databaseSources(server.dbs), this.imageOptions(false));
    const tmp = join(server.config.str("dir"), `temp-${pid()}.rdb`);
    if (!saveFile(writer, { tmp, path: this.path, log: server.log })) return false;
    server.dirty = 0;
    server.lastSave = server.clock.now();
    this.lastBgsaveOk = true;
    this.updateGate();
    return true;
  }

  /**
   * BGSAVE: takes a snapshot and writes it in slices between commands (rdbSaveBackground).
   *
   * @returns false when a background job already runs
   */
  bgsave(): boolean {
    const server = this.server;
    if (this.job !== undefined || this.otherJobRunning()) return false;
    this.saves++;
    this.dirtyBeforeBgsave = server.dirty;
    const startedAt = server.clock.now();
    this.lastBgsaveTry = startedAt;
    const snapshot = new Snapshot(server.dbs);
    const writer = new RdbImageWriter(
      snapshotSources(snapshot),
      this.imageOptions(false, (d, i) => snapshot.written(d, i)),
    );
    server.log("notice", `Background saving started by pid ${pid()}`);
    const job: BgSave = {
      snapshot,
      startedAt,
      save: new BackgroundSave(writer, {
        // Not temp-<pid>.rdb: a SAVE at shutdown may run while an aborted one still fsyncs.
        tmp: join(server.config.str("dir"), `temp-bg-${pid()}.rdb`),
        path: this.path,
        log: server.log,
        written: () => snapshot.release(),
        done: (ok) => this.finish(job, ok),
      }),
    };
    this.job = job;
    return true;
  }

  /** Ends a background save: state, counters and log lines of backgroundSaveDoneHandlerDisk. */
  private finish(job: BgSave, ok: boolean): void {
    const server = this.server;
    job.snapshot.release();
    this.job = undefined;
    const now = server.clock.now();
    this.lastBgsaveTimeSec = Math.floor((now - job.startedAt) / 1000);
    if (ok) {
      server.log("notice", "Background saving terminated with success");
      server.dirty -= this.dirtyBeforeBgsave;
      server.lastSave = now;
      this.lastBgsaveOk = true;
    } else {
      server.log("warning", "Background saving error");
      this.lastBgsaveOk = false;
    }
    this.updateGate();
  }

  /**
   * Stops the background save in progress, without counting it as a failure (Redis kills the
   * child with SIGUSR1 for FLUSHALL and SHUTDOWN).
   */
  abortBgsave(): void {
    const job = this.job;
    if (job === undefined) return;
    this.job = undefined;
    job.save.abort();
    job.snapshot.release();
    this.server.log("warning", "Background saving terminated by signal 10");
  }

  /**
   * The image options from the server's config: value encodings, checksum, aux fields,
   * functions, and the IDLE/FREQ opcodes under an LRU/LFU eviction policy.
   */
  imageOptions(aofBase: boolean, written?: (d: number, i: number) => void): RdbImageOptions {
    const server = this.server;
    const config = server.config;
    const now = server.clock.now();
    const opts: RdbImageOptions = {
      ...writeOptions(config),
      checksum: config.bool("rdbchecksum"),
      redisVer: reportedVersion(config),
      aofBase,
      ctime: Math.floor(now / 1000),
      usedMem: server.memory.used(),
      functions: [...librariesOf(server).libraries.values()].map((l) => l.code),
    };
    if (written !== undefined) opts.written = written;
    // An AOF base carries none, as in Redis (its rewrite saves without rdbSaveInfo).
    const repl = aofBase ? undefined : this.replInfo?.();
    if (repl !== undefined) opts.repl = repl;
    const policy = config.str("maxmemory-policy");
    const stamp = (d: number, key: string) => server.dbs[d]?.dict.stampOf(key) ?? 0;
    if (policy.endsWith("-lru")) opts.idle = (d, key) => idleSeconds(stamp(d, key), now);
    else if (policy.endsWith("-lfu")) {
      const decay = config.num("lfu-decay-time");
      opts.freq = (d, key) => lfuCounter(stamp(d, key), now, decay);
    }
    return opts;
  }

  // ---- save points, shutdown, MISCONF --------------------------------------------------------

  /** The save points and a scheduled BGSAVE, checked on every server tick (serverCron). */
  private cron(): void {
    if (this.job !== undefined || this.otherJobRunning()) return;
    const server = this.server;
    const nowSec = Math.floor(server.clock.now() / 1000);
    const retryOk = nowSec - Math.floor(this.lastBgsaveTry / 1000) > BGSAVE_RETRY_DELAY ||
      this.lastBgsaveOk;
    const sinceSave = nowSec - Math.floor(server.lastSave / 1000);
    for (const [seconds, changes] of this.points) {
      if (server.dirty >= changes && sinceSave > seconds && retryOk) {
        server.log("notice", `${changes} changes in ${seconds} seconds. Saving...`);
        this.bgsave();
        return;
      }
    }
    if (this.scheduled && retryOk && this.bgsave()) this.scheduled = false;
  }

  /**
   * The final save of a shutdown (prepareForShutdown): stops a background save, then saves
   * when asked (`SHUTDOWN SAVE`), or unless told not to (`NOSAVE`) when save points exist.
   *
   * @param mode true: save, false: do not, undefined: save when save points are configured
   * @param force exit even when the save fails
   * @returns false when the save failed and the shutdown must not go on
   */
  shutdownSave(mode: boolean | undefined, force: boolean): boolean {
    const log = this.server.log;
    if (this.job !== undefined) {
      log("warning", "There is a child saving an .rdb. Killing it!");
      this.abortBgsave();
    }
    if (mode === false || (mode === undefined && this.points.length === 0)) return true;
    log("notice", "Saving the final RDB snapshot before exiting.");
    if (this.save()) return true;
    if (force) {
      log("warning", "Error trying to save the DB. Exit anyway.");
      return true;
    }
    log("warning", "Error trying to save the DB, can't exit.");
    return false;
  }

  /** FLUSHALL: a background save would bring the old data back; with save points, save now. */
  afterFlushAll(): void {
    this.abortBgsave();
    if (this.points.length > 0) this.save();
  }

  /** MISCONF is on while the last background save failed (writeCommandsDeniedByDiskError). */
  private updateGate(): void {
    const config = this.server.config;
    const on = !this.lastBgsaveOk && this.points.length > 0 &&
      config.bool("stop-writes-on-bgsave-error");
    if (on === this.gateOn) return;
    this.gateOn = on;
    if (on) this.server.addGate(this.misconfGate, 29);
    else this.server.removeGate(this.misconfGate);
  }

  private readonly misconfGate = (client: Client, cmd: Command): ErrorReply | undefined => {
    if ((client.flags & CF.master) !== 0) return undefined;
    if ((cmd.bits & F.write) !== 0 || cmd.name === "ping") return MISCONF;
    if (cmd.name === "exec" && client.tx?.queue.some((c) => isWrite(c))) return MISCONF;
    return undefined;
  };

  // ---- loading -------------------------------------------------------------------------------

  /**
   * Loads an RDB file into the server, recording INFO's rdb_last_load_keys_* fields.
   *
   * @param path the file
   * @param opts see {@linkcode RdbLoadOptions}
   * @returns what was loaded
   * @throws {RdbLoadError} on a corrupt file (logged); the file system's error if unreadable
   */
  load(path: string, opts: RdbLoadOptions = {}): RdbLoadResult {
    this.lastLoadKeysLoaded = this.lastLoadKeysExpired = 0;
    const result = loadRdbFile(this.server, path, opts);
    this.lastLoadKeysLoaded = result.keysLoaded;
    this.lastLoadKeysExpired = result.keysExpired;
    return result;
  }

  /**
   * Loads the dump at startup when there is one (Redis's loadDataFromDisk without an AOF).
   *
   * @returns true when a dump was loaded, false when there is none
   * @throws {RdbLoadError} on a corrupt dump; the file system's error when it cannot be read
   *   (both logged: the server must not start)
   */
  loadOnStart(): boolean {
    const start = performance.now();
    try {
      this.startAux = this.load(this.path).aux;
    } catch (e) {
      if ((e as { code?: string })?.code === "ENOENT") return false;
      if (!(e instanceof RdbLoadError)) {
        this.server.log("warning", `Fatal error loading the DB: ${errText(e)}. Exiting.`);
      }
      throw e;
    }
    const secs = ((performance.now() - start) / 1000).toFixed(3);
    this.server.log("notice", `DB loaded from disk: ${secs} seconds`);
    return true;
  }
}

function isWrite(entry: Command | string[]): boolean {
  return !Array.isArray(entry) && (entry.bits & F.write) !== 0;
}

/** Parses `save` ("3600 1 300 100") into `[seconds, changes]` pairs. */
function parseSavePoints(text: string): Array<[number, number]> {
  const words = text.split(/\s+/).filter(Boolean).map(Number);
  const points: Array<[number, number]> = [];
  for (let i = 0; i + 1 < words.length; i += 2) points.push([words[i]!, words[i + 1]!]);
  return points;
}

/**
 * The INFO persistence fields about RDB saving and loading, named and ordered as Redis 7.0.
 *
 * @param server the server
 * @returns the fields from `current_cow_peak` to `rdb_last_load_keys_loaded`
 */
export function rdbInfoFields(server: Server): Array<[string, string | number]> {
  const p = rdbOf(server);
  const job = p.job;
  const total = job?.snapshot.size ?? 0;
  const done = job?.save.writer.keys ?? 0;
  return [
    ["current_cow_peak", 0],
    ["current_cow_size", 0],
    ["current_cow_size_age", 0],
    ["current_fork_perc", total > 0 ? ((done / total) * 100).toFixed(2) : "0.00"],
    ["current_save_keys_processed", done],
    ["current_save_keys_total", total],
    ["rdb_changes_since_last_save", server.dirty],
    ["rdb_bgsave_in_progress", job ? 1 : 0],
    ["rdb_last_save_time", Math.floor(server.lastSave / 1000)],
    ["rdb_last_bgsave_status", p.lastBgsaveOk ? "ok" : "err"],
    ["rdb_last_bgsave_time_sec", p.lastBgsaveTimeSec],
    [
      "rdb_current_bgsave_time_sec",
      job ? Math.floor((server.clock.now() - job.startedAt) / 1000) : -1,
    ],
    ["rdb_saves", p.saves],
    ["rdb_last_cow_size", 0],
    ["rdb_last_load_keys_expired", p.lastLoadKeysExpired],
    ["rdb_last_load_keys_loaded", p.lastLoadKeysLoaded],
  ];
}

/**
 * The RDB side of the AOF (`aof-use-rdb-preamble yes` bases and old-style preambles): loads
 * keep expired keys, writers set the `aof-base` aux field.
 */
export const rdbBaseCodec: RdbBaseCodec = {
  load(server: Server, path: string): number {
    return rdbOf(server).load(path, { keepExpired: true }).bytes;
  },
  writer(server: Server, snapshot: Snapshot): BaseWriter {
    const w = new RdbImageWriter(
      snapshotSources(snapshot),
      rdbOf(server).imageOptions(true, (d, i) => snapshot.written(d, i)),
    );
    return { step: (out) => w.step((b) => out.raw(b), performance.now() + BASE_SLICE_MS) };
  },
};
