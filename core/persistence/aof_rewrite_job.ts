/**
 * BGREWRITEAOF without fork, after Redis 7's rewriteAppendOnlyFileBackground and
 * backgroundRewriteDoneHandler. At the start, in one synchronous step: the AOF buffer is
 * written, a new incremental file is opened (and listed in the manifest) for every write from
 * now on, and a copy-on-write {@linkcode Snapshot} of the dataset is taken. The new base is then
 * written from the snapshot to a temp file in slices between which the server keeps serving.
 * At the end the temp file is fsynced and renamed to the next base name, the manifest switches
 * to the new base plus the incremental file opened at the start (temp file, fsync, rename,
 * directory fsync), and the old base and incremental files are deleted.
 *
 * @module
 */

import { closeSync, fsync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Snapshot } from "../keyspace/snapshot.ts";
import { pid } from "../proc.ts";
import { ReplyWriter } from "../resp/writer.ts";
import { librariesOf } from "../../scripting/functions.ts";
import type { Aof } from "./aof.ts";
import { nowSec } from "./aof_file.ts";
import { AofLoadError } from "./aof_load.ts";
import { errText, removeQuietly } from "./aof_manifest.ts";
import { type BaseWriter, CommandBaseWriter } from "./aof_rewrite.ts";
import { afterIo } from "./rdb_write.ts";

/** The base writer for the current settings: RDB when available and asked for. */
function baseWriter(aof: Aof, snapshot: Snapshot, rdb: boolean): BaseWriter {
  if (rdb) return aof.rdbBase!.writer(aof.server, snapshot);
  const functions = [...librariesOf(aof.server).libraries.values()].map((l) => l.code);
  const ts = aof.server.config.bool("aof-timestamp-enabled") ? nowSec() : undefined;
  return new CommandBaseWriter(snapshot, functions, ts);
}

/** True when the base is to be an RDB image. */
function wantsRdb(aof: Aof): boolean {
  return aof.rdbBase !== undefined && aof.server.config.bool("aof-use-rdb-preamble");
}

function writeAll(fd: number, out: ReplyWriter): void {
  const len = out.length;
  let off = 0;
  while (off < len) off += writeSync(fd, out.buf, off, len - off);
  out.truncate(0);
}

/**
 * Writes a base file of the current dataset at once (server start with no AOF files yet).
 *
 * @param aof the AOF
 * @param name the base file's name in the AOF directory
 * @param rdb whether to write an RDB image
 * @throws {AofLoadError} when the file cannot be written (logged)
 */
export function writeBaseSync(aof: Aof, name: string, rdb: boolean): void {
  const temp = join(aof.server.config.str("dir"), `temp-rewriteaof-${pid()}.aof`);
  const snapshot = new Snapshot(aof.server.dbs);
  try {
    const writer = baseWriter(aof, snapshot, rdb);
    const out = new ReplyWriter(64 * 1024);
    const fd = openSync(temp, "w", 0o644);
    try {
      while (!writer.step(out)) writeAll(fd, out);
      writeAll(fd, out);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, join(aof.dir, name));
  } catch (e) {
    removeQuietly(temp);
    const message = `Write error writing append only file on disk: ${errText(e)}`;
    aof.server.log("warning", message);
    throw new AofLoadError(message);
  } finally {
    snapshot.release();
  }
}

/** A background rewrite in progress. */
export class RewriteJob {
  /** Unix seconds when it started. */
  readonly startSec: number;
  private readonly out = new ReplyWriter(64 * 1024);
  private fd: number;
  private over = false;

  private constructor(
    private readonly aof: Aof,
    private readonly snapshot: Snapshot,
    private readonly writer: BaseWriter,
    private readonly temp: string,
    private readonly rdb: boolean,
  ) {
    this.startSec = nowSec();
    this.fd = openSync(temp, "w", 0o644);
  }

  /**
   * Starts a rewrite. The caller checked that none runs and that no command is inside EXEC.
   *
   * @param aof the AOF
   * @returns false when it could not start (logged, counted as a failed rewrite)
   */
  static start(aof: Aof): boolean {
    const log = aof.server.log;
    try {
      makeDirSafe(aof);
      aof.selectedDb = -1;
      aof.file.flush(true);
      openNewIncr(aof);
    } catch (e) {
      log("warning", `Can't rewrite append only file in background: ${errText(e)}`);
      aof.lastRewriteOk = false;
      return false;
    }
    aof.rewrites++;
    const snapshot = new Snapshot(aof.server.dbs);
    const rdb = wantsRdb(aof);
    const temp = join(aof.server.config.str("dir"), `temp-rewriteaof-bg-${pid()}.aof`);
    let job: RewriteJob;
    try {
      job = new RewriteJob(aof, snapshot, baseWriter(aof, snapshot, rdb), temp, rdb);
    } catch (e) {
      snapshot.release();
      log("warning", `Can't rewrite append only file in background: ${errText(e)}`);
      aof.lastRewriteOk = false;
      return false;
    }
    aof.job = job;
    aof.scheduled = false;
    log("notice", "Background append only file rewriting started");
    afterIo(() => job.step());
    return true;
  }

  /** Stops the rewrite without counting it as failed (AOF turned off, shutdown). */
  cancel(): void {
    if (this.over) return;
    this.aof.server.log("notice", "Killing running AOF rewrite child");
    this.end();
    this.aof.lastRewriteTimeSec = -1;
  }

  /** Writes one slice of the base, then yields to the event loop. */
  private step(): void {
    if (this.over) return;
    let done: boolean;
    try {
      done = this.writer.step(this.out);
      writeAll(this.fd, this.out);
    } catch (e) {
      this.aof.server.log("warning", `Write error writing append only file on disk: ${errText(e)}`);
      this.failed();
      return;
    }
    if (!done) {
      afterIo(() => this.step());
      return;
    }
    // The base is fsynced off the event loop (libuv's thread pool), like Redis's child does.
    fsync(this.fd, (err) => {
      if (this.over) return;
      if (err) {
        this.aof.server.log(
          "warning",
          `Write error writing append only file on disk: ${errText(err)}`,
        );
        this.failed();
        return;
      }
      this.aof.server.log(
        "notice",
        `Successfully created the temporary AOF base file ${this.tempName}`,
      );
      this.finish();
    });
  }

  private get tempName(): string {
    return this.temp.slice(this.temp.lastIndexOf("/") + 1);
  }

  /** Installs the new base: rename, manifest, history deletion. */
  private finish(): void {
    const aof = this.aof;
    const log = aof.server.log;
    log("notice", "Background AOF rewrite terminated with success");
    const m = aof.manifest.clone();
    const base = m.newBase(aof.filename, this.rdb);
    const basePath = join(aof.dir, base);
    try {
      renameSync(this.temp, basePath);
    } catch (e) {
      log(
        "warning",
        `Error trying to rename the temporary AOF base file ${this.tempName} into ${basePath}: ${
          errText(e)
        }`,
      );
      this.failed();
      return;
    }
    log("notice", `Successfully renamed the temporary AOF base file ${this.tempName} into ${base}`);
    let incrPath: string | undefined;
    if (aof.state === "wait-rewrite") {
      const temp = aof.tempIncr;
      const incr = m.newIncr(aof.filename);
      incrPath = join(aof.dir, incr);
      try {
        renameSync(join(aof.dir, temp), incrPath);
      } catch (e) {
        log(
          "warning",
          `Error trying to rename the temporary AOF incr file ${temp} into ${incr}: ${errText(e)}`,
        );
        removeQuietly(basePath);
        this.failed();
        return;
      }
      log("notice", `Successfully renamed the temporary AOF incr file ${temp} into ${incr}`);
    }
    m.incrToHistory(aof.file.fd >= 0);
    if (!aof.persist(m)) {
      removeQuietly(basePath);
      if (incrPath !== undefined) removeQuietly(incrPath);
      this.failed();
      return;
    }
    aof.manifest = m;
    if (aof.state !== "off") {
      aof.file.currentSize = aof.fileSize(base) + aof.file.size;
      aof.baseSize = aof.file.currentSize;
    }
    aof.deleteHistory();
    aof.lastRewriteOk = true;
    aof.consecutiveFailures = 0;
    log("notice", "Background AOF rewrite finished successfully");
    if (aof.state === "wait-rewrite") {
      aof.state = "on";
      // What was synced meanwhile is now part of a complete AOF.
      aof.updateFsynced();
    }
    this.end();
  }

  private failed(): void {
    const aof = this.aof;
    aof.lastRewriteOk = false;
    aof.consecutiveFailures++;
    aof.server.log("warning", "Background AOF rewrite terminated with error");
    this.end();
    if (aof.state === "wait-rewrite") {
      // The writes buffered for the temp incr file are in the next attempt's snapshot.
      aof.file.buf.truncate(0);
      const temp = aof.tempIncr;
      aof.server.log("notice", `Removing the temp incr aof file ${temp} in the background`);
      removeQuietly(join(aof.dir, temp));
      aof.scheduled = true;
    }
  }

  /** Releases the snapshot and the temp file; the job is over. */
  private end(): void {
    this.over = true;
    this.snapshot.release();
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    removeQuietly(this.temp);
    const aof = this.aof;
    aof.lastRewriteTimeSec = nowSec() - this.startSec;
    aof.job = undefined;
  }
}

function makeDirSafe(aof: Aof): void {
  try {
    mkdirSync(aof.dir, { recursive: true });
  } catch (e) {
    aof.server.log(
      "warning",
      `Can't open or create append-only dir ${aof.server.config.str("appenddirname")}: ${
        errText(e)
      }`,
    );
    throw e;
  }
}

/**
 * Opens the incremental file writes go to during the rewrite (openNewIncrAofForAppend): a new
 * numbered one listed in the manifest at once when the AOF is on, the temp one while waiting
 * for the first base, none when the AOF is off.
 */
function openNewIncr(aof: Aof): void {
  if (aof.state === "off") return;
  if (aof.state === "wait-rewrite") {
    const name = aof.tempIncr;
    const fd = openSync(join(aof.dir, name), "w", 0o644);
    aof.server.log("notice", `Creating AOF incr file ${name} on background rewrite`);
    aof.file.switchTo(fd, 0);
    return;
  }
  const m = aof.manifest.clone();
  const name = m.newIncr(aof.filename);
  const fd = openSync(join(aof.dir, name), "w", 0o644);
  if (!aof.persist(m)) {
    closeSync(fd);
    throw new Error("Can't persist the AOF manifest");
  }
  aof.server.log("notice", `Creating AOF incr file ${name} on background rewrite`);
  aof.file.switchTo(fd, 0);
  aof.manifest = m;
}
