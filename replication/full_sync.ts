/**
 * One full synchronisation: an RDB image of the dataset at the offset announced with
 * `+FULLRESYNC`, written a few milliseconds at a time between commands and shared by every
 * replica that joined it. Each replica reads it in the form it asked for:
 *
 * - disk style, `$<len>\r\n<rdb>`: the length must be known first, so it starts once the image
 *   is complete (Redis sends the file a BGSAVE wrote to disk);
 * - diskless, `$EOF:<40 random chars>\r\n<rdb><same 40 chars>` for replicas with `capa eof`:
 *   chunks go out as they are produced.
 *
 * @module
 */

import { afterIo } from "../core/persistence/rdb_write.ts";
import { randomHex } from "../core/bytes.ts";
import type { Server } from "../core/server.ts";
import type { ImageJob } from "./rdb_bridge.ts";

/** A slice of image writing ends after this many milliseconds. */
const SLICE_MS = 5;

const encoder = new TextEncoder();

/** An RDB image in production, readable by several replicas at once. */
export class SyncJob {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;
  private finished = false;
  private error: Error | undefined;
  private waiters: Array<() => void> = [];
  private readers = 0;
  private cancelled = false;

  /**
   * @param server the server (for logging)
   * @param image the image writer over the dataset's point-in-time view
   * @param offset the replication offset the image corresponds to
   * @param onEnd called once the image is complete, failed or cancelled
   */
  constructor(
    private readonly server: Server,
    private readonly image: ImageJob,
    readonly offset: number,
    private readonly onEnd: () => void,
  ) {
    afterIo(() => this.slice());
  }

  private slice(): void {
    if (this.finished) return;
    if (this.cancelled) {
      this.end(new Error("cancelled"));
      return;
    }
    let done: boolean;
    try {
      done = this.image.step((b) => {
        this.chunks.push(b.slice());
        this.size += b.length;
      }, performance.now() + SLICE_MS);
    } catch (e) {
      this.server.log("warning", `Failed writing the RDB for replication: ${e}`);
      this.end(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    this.wakeAll();
    if (done) this.end(undefined);
    else afterIo(() => this.slice());
  }

  private end(error: Error | undefined): void {
    this.finished = true;
    this.error = error;
    this.image.release();
    this.wakeAll();
    this.onEnd();
  }

  private wakeAll(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /**
   * The payload for one replica, in the form it asked for. The image is abandoned when every
   * reader stopped before it was complete (all its replicas went away).
   *
   * @param eof diskless form (`$EOF:`) instead of `$<len>`
   * @returns the payload's chunks
   */
  payload(eof: boolean): AsyncGenerator<Uint8Array> {
    this.readers++;
    return this.read(eof);
  }

  private async *read(eof: boolean): AsyncGenerator<Uint8Array> {
    let sent = 0;
    try {
      const mark = eof ? randomHex(40) : "";
      if (eof) yield encoder.encode(`$EOF:${mark}\r\n`);
      else {
        while (!this.finished) await this.more();
        this.check();
        yield encoder.encode(`$${this.size}\r\n`);
      }
      for (;;) {
        while (sent < this.chunks.length) yield this.chunks[sent++]!;
        if (this.finished) break;
        await this.more();
      }
      this.check();
      if (eof) yield encoder.encode(mark);
    } finally {
      // A reader stopping early (its replica closed) may leave the image without readers.
      if (--this.readers === 0 && !this.finished) this.cancelled = true;
    }
  }

  private more(): Promise<void> {
    return new Promise((r) => this.waiters.push(r));
  }

  private check(): void {
    if (this.error !== undefined) throw this.error;
  }
}
