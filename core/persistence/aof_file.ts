/**
 * The incremental file being appended to, after aof.c's flushAppendOnlyFile: the buffer of
 * effects is written in one go, then synced as `appendfsync` asks (`always`: at once, before
 * any reply; `everysec`: in the background at most once a second; `no`: never explicitly).
 * Syncing is fdatasync, as Redis's redis_fsync on Linux: the data and the file size, not the
 * times. Write and sync errors are kept so that writes are refused (MISCONF) until they clear.
 * Each completed sync records the replication offset it covers (`fsyncedPending`, Redis's
 * fsynced_reploff_pending), which WAITAOF waits on.
 *
 * @module
 */

import { closeSync, fdatasync, fdatasyncSync, fsyncSync, ftruncateSync, writeSync } from "node:fs";
import { ReplyWriter } from "../resp/writer.ts";
import type { Server } from "../server.ts";
import { errText } from "./aof_manifest.ts";

/** Seconds of the wall clock (fsync pacing, rewrite times: Redis's server.unixtime). */
export function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

/** The open incremental file and its buffer. */
export class AofFile {
  /** The file descriptor, -1 when no file is open. */
  fd = -1;
  /** Effects not written yet, in RESP form. */
  readonly buf = new ReplyWriter(64 * 1024);
  /** aof_current_size: bytes of the whole AOF (base and incremental files). */
  currentSize = 0;
  /** Bytes of the open incremental file. */
  size = 0;
  /** aof_delayed_fsync: writes that could not wait any longer for a background fsync. */
  delayedFsync = 0;
  /** `appendfsync`. */
  policy: string;
  /** True while a background fsync runs (aof_pending_bio_fsync). */
  fsyncing = false;
  /** Set when the buffer could not be written, or a background fsync failed. */
  writeError: string | undefined;
  fsyncError: string | undefined;
  /**
   * The replication offset every write so far has reached (Redis's master_repl_offset): the
   * replication plugin supplies it.
   */
  replOffset: () => number = () => 0;
  /** The replication offset covered by the last completed sync (fsynced_reploff_pending). */
  fsyncedPending = 0;
  /** Called when a background sync completes. */
  onSynced: () => void = () => {};
  private syncedSize = 0;
  private lastFsyncSec = 0;
  private postponedSec = 0;
  private lastErrorLogSec = 0;

  /**
   * @param server the server (log, config)
   * @param busy true while a rewrite or BGSAVE runs (`no-appendfsync-on-rewrite`)
   * @param errorsChanged called when the error state may have changed
   */
  constructor(
    private readonly server: Server,
    private readonly busy: () => boolean,
    private readonly errorsChanged: () => void,
  ) {
    this.policy = server.config.str("appendfsync");
  }

  /** True when a write is postponed behind a background fsync (the cron retries it). */
  get postponed(): boolean {
    return this.postponedSec !== 0;
  }

  /** The error writes are refused with, if any. */
  get error(): string | undefined {
    return this.writeError ?? this.fsyncError;
  }

  /**
   * Writes the buffer and fsyncs as the policy asks. `force` writes even while a background
   * fsync runs (everysec otherwise waits up to 2 s for it, as Redis does).
   */
  flush(force: boolean): void {
    if (this.fd < 0) return;
    const everysec = this.policy === "everysec";
    if (this.buf.length === 0) {
      if (this.syncedSize === this.size && this.policy !== "no" && !this.fsyncing) {
        // All on disk: that covers the offset so far, even writes that never reach the AOF.
        this.fsyncedPending = this.replOffset();
      }
      // Nothing new, but what was written may still need its fsync.
      if (this.syncedSize === this.size || this.policy === "no") return;
      if (everysec && (nowSec() <= this.lastFsyncSec || this.fsyncing)) return;
    } else {
      if (everysec && !force && this.fsyncing) {
        // Linux would block the write behind the fsync: wait up to 2 s.
        const now = nowSec();
        if (this.postponedSec === 0) {
          this.postponedSec = now;
          return;
        }
        if (now - this.postponedSec < 2) return;
        this.delayedFsync++;
        this.server.log(
          "notice",
          "Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer " +
            "without waiting for fsync to complete, this may slow down Redis.",
        );
      }
      this.postponedSec = 0;
      if (!this.write()) return;
    }
    if (this.server.config.bool("no-appendfsync-on-rewrite") && this.busy()) return;
    if (this.policy === "always") {
      try {
        fdatasyncSync(this.fd);
      } catch (e) {
        fatal(
          this.server,
          `Can't persist AOF for fsync error when the AOF fsync policy is 'always': ${
            errText(e)
          }. Exiting...`,
        );
      }
      this.syncedSize = this.size;
      this.lastFsyncSec = nowSec();
      this.fsyncedPending = this.replOffset();
    } else if (everysec && nowSec() > this.lastFsyncSec) {
      if (!this.fsyncing) {
        this.backgroundFsync(this.fd, this.replOffset());
        this.syncedSize = this.size;
      }
      this.lastFsyncSec = nowSec();
    }
  }

  /** Writes the buffer without syncing; true when some bytes still wait for a sync. */
  writeUnsynced(): boolean {
    if (this.fd < 0) return false;
    if (this.buf.length !== 0 && !this.write()) return false;
    return this.syncedSize !== this.size;
  }

  /** Writes the whole buffer; false (and the error state) when the write failed. */
  private write(): boolean {
    const buf = this.buf;
    const len = buf.length;
    let written = 0;
    try {
      while (written < len) written += writeSync(this.fd, buf.buf, written, len - written);
    } catch (e) {
      this.writeFailed(e, written);
      return false;
    }
    if (this.writeError !== undefined) {
      this.server.log("warning", "AOF write error looks solved, Redis can write again.");
      this.writeError = undefined;
      this.errorsChanged();
    }
    this.currentSize += len;
    this.size += len;
    buf.truncate(0);
    if (buf.buf.length > 1 << 20) buf.buf = new Uint8Array(64 * 1024);
    return true;
  }

  private writeFailed(e: unknown, written: number): void {
    if (this.policy === "always") {
      // The data changed and the replies are computed: a write that cannot be logged stops us.
      this.server.log("warning", `Error writing to the AOF file: ${errText(e)}`);
      fatal(
        this.server,
        "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...",
      );
    }
    const now = nowSec();
    if (now - this.lastErrorLogSec > 30) {
      this.lastErrorLogSec = now;
      this.server.log("warning", `Error writing to the AOF file: ${errText(e)}`);
    }
    if (written > 0) {
      // Cut the partial write off, so that the retry cannot apply its commands twice.
      try {
        ftruncateSync(this.fd, this.size);
      } catch {
        this.server.log(
          "warning",
          "Could not remove short write from the append-only file.  Redis may refuse to load " +
            "the AOF the next time it starts.",
        );
      }
    }
    this.writeError = errText(e);
    this.errorsChanged();
  }

  private backgroundFsync(fd: number, offset: number): void {
    this.fsyncing = true;
    // libuv's thread pool runs it: Redis's bio thread.
    fdatasync(fd, (err) => {
      this.fsyncing = false;
      // The file was switched meanwhile: its errors are not the AOF's any more.
      if (fd !== this.fd) return;
      if (err) this.server.log("warning", `Fail to fsync the AOF file: ${errText(err)}`);
      const before = this.fsyncError;
      this.fsyncError = err ? errText(err) : undefined;
      if (before !== this.fsyncError) this.errorsChanged();
      if (err) return;
      this.fsyncedPending = offset;
      this.onSynced();
    });
  }

  /** Forgets past errors (the AOF is turned on again). */
  clearErrors(): void {
    this.writeError = undefined;
    this.fsyncError = undefined;
    this.errorsChanged();
  }

  /** Appends to `fd` (of `size` bytes) from now on; the old file is fsynced and closed. */
  switchTo(fd: number, size: number): void {
    const old = this.fd;
    this.fd = fd;
    if (old >= 0) {
      try {
        fsyncSync(old);
      } catch (e) {
        this.server.log("warning", `Fail to fsync the AOF file: ${errText(e)}`);
      }
      closeSync(old);
    }
    this.size = size;
    this.syncedSize = size;
    this.lastFsyncSec = nowSec();
  }
}

/** Ends the process, as Redis does when `appendfsync always` cannot be honoured. */
function fatal(server: Server, message: string): never {
  server.log("warning", message);
  const proc = (globalThis as { process?: { exit(code: number): never } }).process;
  if (proc) proc.exit(1);
  throw new Error(message);
}
