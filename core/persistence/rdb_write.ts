/**
 * Writing a dump file atomically, as Redis's rdbSave: the image goes to a temp file in the same
 * directory, which is fsynced, closed and renamed over the dump, then the directory is fsynced.
 * Until the rename the previous dump is untouched; a failure removes the temp file and leaves a
 * log line in Redis's words.
 *
 * {@linkcode saveFile} does it in one go (SAVE, SHUTDOWN); {@linkcode BackgroundSave} writes the
 * image a slice at a time between commands and fsyncs off the event loop (BGSAVE).
 *
 * @module
 */

import { closeSync, fsync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { setImmediate } from "node:timers";
import type { LogLevel } from "../log.ts";
import { runtimeName } from "../net/runtime.ts";
import { errText } from "./aof_manifest.ts";
import type { RdbImageWriter } from "./rdb_save.ts";

/** Where log lines go. */
export type Log = (level: LogLevel, message: string) => void;

/** A background save slice ends after this many milliseconds. */
const SLICE_MS = 5;

/**
 * Runs `fn` on a later turn of the event loop, once pending socket I/O has been served: the way
 * a background job yields between slices. Node: setImmediate. Deno runs setImmediate (and
 * MessageChannel) callbacks without polling sockets in between, so a chain of them starves
 * clients; setTimeout(0) does not.
 */
export const afterIo: (fn: () => void) => void = runtimeName === "deno"
  ? (fn) => void setTimeout(fn, 0)
  : (fn) => void setImmediate(fn);

/** Where a dump goes. */
export interface DumpTarget {
  /** The temp file, in the directory of `path`. */
  tmp: string;
  /** The dump. */
  path: string;
  /** Where progress and failures are logged. */
  log: Log;
}

/**
 * Writes the whole image of `writer` to the dump through its temp file, synchronously.
 *
 * @param writer the image
 * @param target the temp file, the dump and the log
 * @returns true once the dump is durably in place
 * @example
 * ```ts
 * saveFile(writer, { tmp: "/data/temp-1.rdb", path: "/data/dump.rdb", log: server.log });
 * ```
 */
export function saveFile(writer: RdbImageWriter, target: DumpTarget): boolean {
  const { tmp, path, log } = target;
  let fd: number;
  try {
    fd = openSync(tmp, "w");
  } catch (e) {
    openFailed(tmp, e, log);
    return false;
  }
  let op = "rdbSaveRio";
  try {
    writer.step((b) => writeAll(fd, b));
    op = "fsync";
    fsyncSync(fd);
    op = "fclose";
    closeSync(fd);
    fd = -1;
    if (!renameOver(tmp, path, log)) return false;
    op = "fsyncFileDir";
    fsyncDirSync(path);
  } catch (e) {
    log("warning", `Write error saving DB on disk(${op}): ${errText(e)}`);
    if (fd >= 0) closeSync(fd);
    removeQuietly(tmp);
    return false;
  }
  log("notice", "DB saved on disk");
  return true;
}

/** What a background save calls back. */
export interface BackgroundTarget extends DumpTarget {
  /** The whole image is in the temp file (the snapshot can be let go). */
  written(): void;
  /** The dump is in place (true) or the save failed (false); not called after an abort. */
  done(ok: boolean): void;
}

/** A dump written a slice at a time between commands. */
export class BackgroundSave {
  private fd = -1;
  /** Waiting for the temp file's fsync: an abort leaves the cleanup to its callback. */
  private syncing = false;
  private aborted = false;
  private readonly tmp: string;
  private readonly path: string;
  private readonly log: Log;

  /**
   * Starts writing on the next turn of the event loop.
   *
   * @param writer the image (of a snapshot)
   * @param target the temp file, the dump, the log and the callbacks
   */
  constructor(readonly writer: RdbImageWriter, private readonly target: BackgroundTarget) {
    this.tmp = target.tmp;
    this.path = target.path;
    this.log = target.log;
    afterIo(() => this.slice());
  }

  /** Stops the save and removes its temp file; `done` is not called. */
  abort(): void {
    this.aborted = true;
    if (!this.syncing) this.cleanup();
  }

  private slice(): void {
    if (this.aborted) return;
    if (this.fd < 0) {
      try {
        this.fd = openSync(this.tmp, "w");
      } catch (e) {
        openFailed(this.tmp, e, this.log);
        this.fail();
        return;
      }
    }
    try {
      const fd = this.fd;
      if (!this.writer.step((b) => writeAll(fd, b), performance.now() + SLICE_MS)) {
        afterIo(() => this.slice());
        return;
      }
    } catch (e) {
      this.log("warning", `Write error saving DB on disk(rdbSaveRio): ${errText(e)}`);
      this.fail();
      return;
    }
    this.target.written();
    this.syncing = true;
    fsync(this.fd, (err) => {
      this.syncing = false;
      if (this.aborted) this.cleanup();
      else if (err) {
        this.log("warning", `Write error saving DB on disk(fsync): ${errText(err)}`);
        this.fail();
      } else this.install();
    });
  }

  /** Closes, renames over the dump, fsyncs the directory. */
  private install(): void {
    try {
      closeSync(this.fd);
      this.fd = -1;
      if (!renameOver(this.tmp, this.path, this.log)) {
        this.target.done(false);
        return;
      }
      fsyncDirSync(this.path);
    } catch (e) {
      this.log("warning", `Write error saving DB on disk(fsyncFileDir): ${errText(e)}`);
      this.fail();
      return;
    }
    this.log("notice", "DB saved on disk");
    this.target.done(true);
  }

  private fail(): void {
    this.cleanup();
    this.target.done(false);
  }

  private cleanup(): void {
    if (this.fd >= 0) {
      try {
        closeSync(this.fd);
      } catch { /* already closed */ }
      this.fd = -1;
    }
    removeQuietly(this.tmp);
  }
}

function openFailed(tmp: string, e: unknown, log: Log): void {
  log(
    "warning",
    `Failed opening the temp RDB file ${basename(tmp)} (in server root dir ${
      resolve(dirname(tmp))
    }) for saving: ${errText(e)}`,
  );
}

/** Renames the temp file over the dump; logs and removes the temp file on failure. */
function renameOver(tmp: string, path: string, log: Log): boolean {
  try {
    renameSync(tmp, path);
    return true;
  } catch (e) {
    log(
      "warning",
      `Error moving temp DB file ${basename(tmp)} on the final destination ${
        basename(path)
      } (in server root dir ${resolve(dirname(tmp))}): ${errText(e)}`,
    );
    removeQuietly(tmp);
    return false;
  }
}

/** Writes all of `bytes` (writeSync may write less than asked). */
function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}

/** Makes a rename in the directory of `path` durable. */
function fsyncDirSync(path: string): void {
  const fd = openSync(dirname(path), "r");
  try {
    fsyncSync(fd);
  } catch (e) {
    // Some systems cannot fsync a directory; Redis ignores EBADF and EINVAL too.
    const code = (e as { code?: string }).code;
    if (code !== "EBADF" && code !== "EINVAL") throw e;
  } finally {
    closeSync(fd);
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch { /* already gone */ }
}
