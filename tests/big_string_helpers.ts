/**
 * Helpers of the big string tests: a raw connection that sends buffers as arguments and reads
 * replies as bytes, checking a bulk of any size at a few offsets as it passes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import * as net from "node:net";
import process from "node:process";
import { totalmem } from "node:os";

/** proto-max-bulk-len's default: the longest string Redis accepts. */
export const MAX_BULK = 512 * 1024 * 1024;
/** V8's longest string. */
export const JS_MAX = (1 << 29) - 24;
export const SIZE_ERROR = "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n";
export const skip: string | false = totalmem() < 8 * 1024 ** 3 ? "needs 8 GB of memory" : false;
/**
 * The slower checks (MULTI with DUMP and RESTORE of a 512 MB payload, the AOF, replicas: 15 to
 * 35 s each, as strings past 64 MB are converted and checksummed in JavaScript) run when
 * REDENO_BIG_TESTS=all, so the suite's own run stays short.
 */
export const slow: string | false = skip ||
  (process.env.REDENO_BIG_TESTS !== "all" && "slow: set REDENO_BIG_TESTS=all to run it");

/** A raw connection reading replies as bytes, a big bulk checked at sample offsets in passing. */
export class ByteConn {
  private chunks: Buffer[] = [];
  private have = 0;
  private wake: (() => void) | undefined;
  private closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on("data", (d: Buffer) => {
      this.chunks.push(d);
      this.have += d.length;
      this.wake?.();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake?.();
    });
    socket.on("error", () => {});
  }

  static connect(port: number): Promise<ByteConn> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: "127.0.0.1" }, () => resolve(new ByteConn(s)));
      s.once("error", reject);
    });
  }

  /** Sends a command; an argument may be a buffer (sent without a copy). */
  send(...argv: Array<string | Buffer>): void {
    let head = `*${argv.length}\r\n`;
    for (const a of argv) {
      if (typeof a === "string") {
        head += `$${a.length}\r\n${a}\r\n`;
        continue;
      }
      // A buffer goes out as it is, between the text before and after it.
      this.socket.write(Buffer.from(`${head}$${a.length}\r\n`, "latin1"));
      this.socket.write(a);
      head = "\r\n";
    }
    this.socket.write(Buffer.from(head, "latin1"));
  }

  private async need(n: number): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (this.have < n) {
      if (this.closed) throw new Error(`Connection closed, wanted ${n} bytes, have ${this.have}`);
      if (Date.now() > deadline) throw new Error(`Timed out wanting ${n} bytes`);
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 100);
      });
    }
  }

  /** Removes and returns the first `n` buffered bytes. */
  private async take(n: number): Promise<Buffer> {
    await this.need(n);
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    this.have -= n;
    return all.subarray(0, n);
  }

  /** The next line, CRLF included. */
  async line(): Promise<string> {
    for (;;) {
      const all = Buffer.concat(this.chunks);
      this.chunks = [all];
      const at = all.indexOf("\r\n");
      if (at >= 0) return (await this.take(at + 2)).toString("latin1");
      const have = this.have;
      await this.need(have + 1);
    }
  }

  /** A whole reply of one line, or a bulk string (header and content) up to 64 KB. */
  async reply(): Promise<string> {
    const head = await this.line();
    if (head[0] !== "$" || head === "$-1\r\n") return head;
    const n = Number(head.slice(1, -2));
    return head + (await this.take(n + 2)).toString("latin1");
  }

  /** A whole reply of any shape up to 64 KB per bulk (arrays included), as its RESP text. */
  async any(): Promise<string> {
    const head = await this.line();
    if (head[0] === "$" && head !== "$-1\r\n") {
      return head + (await this.take(Number(head.slice(1, -2)) + 2)).toString("latin1");
    }
    if (head[0] !== "*" || head === "*-1\r\n") return head;
    let out = head;
    for (let n = Number(head.slice(1, -2)); n > 0; n--) out += await this.any();
    return out;
  }

  /** A bulk reply's bytes, whole. */
  async bulkBuffer(): Promise<Buffer> {
    const head = await this.line();
    assert.match(head, /^\$\d+\r\n$/, `expected a bulk, got ${JSON.stringify(head)}`);
    const n = Number(head.slice(1, -2));
    const b = Buffer.from(await this.take(n));
    assert.equal((await this.take(2)).toString(), "\r\n");
    return b;
  }

  /**
   * Reads a bulk reply of any size without keeping it: its length and its bytes at `offsets`.
   */
  async bulk(offsets: number[]): Promise<{ length: number; at: Map<number, number> }> {
    const head = await this.line();
    assert.match(head, /^\$\d+\r\n$/, `expected a bulk, got ${JSON.stringify(head)}`);
    const length = Number(head.slice(1, -2));
    const at = new Map<number, number>();
    let pos = 0;
    while (pos < length) {
      await this.need(1);
      const chunk = this.chunks.shift()!;
      const use = Math.min(chunk.length, length - pos);
      for (const o of offsets) if (o >= pos && o < pos + use) at.set(o, chunk[o - pos]!);
      if (use < chunk.length) this.chunks.unshift(chunk.subarray(use));
      this.have -= use;
      pos += use;
    }
    assert.equal((await this.take(2)).toString(), "\r\n");
    return { length, at };
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A 512 MB value with recognisable bytes at its ends and around the JS limit. */
export function bigValue(): Buffer {
  const b = Buffer.alloc(MAX_BULK, 97);
  b[0] = 60;
  b[JS_MAX] = 77;
  b[MAX_BULK - 1] = 62;
  return b;
}

/** Waits until no AOF rewrite is in progress. */
export async function rewriteDone(c: ByteConn): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    c.send("INFO", "persistence");
    if ((await c.reply()).includes("aof_rewrite_in_progress:0")) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("Timed out waiting for the AOF rewrite");
}
