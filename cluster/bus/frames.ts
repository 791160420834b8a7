/**
 * Cuts the cluster bus byte stream into whole messages, as Redis's clusterReadHandler does:
 * it reads 8 bytes (signature and total length), drops the link when the signature is not
 * `RCmb` or the length is under the header's 2256 bytes, then waits for the whole message.
 * Messages may arrive split across reads or several in one read.
 *
 * @module
 */

import { HEADER_LEN } from "./codec.ts";

/** The link must be dropped: what Redis logs as "Bad message length or signature". */
export class BadFrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BadFrameError";
  }
}

/** Accumulates bytes and hands out whole frames. */
export class FrameReader {
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  /** Length of the frame being read, once its first 8 bytes are in; 0 before. */
  #want = 0;

  /** Bytes held, waiting for the rest of a frame. */
  get buffered(): number {
    return this.#buffered;
  }

  /**
   * Takes a chunk (copied: the caller may reuse it) and returns the frames it completes.
   *
   * @param chunk Bytes read from the link.
   * @returns Whole frames, each its own copy, in order.
   * @throws {BadFrameError} When a frame's signature or length is bad: drop the link.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (chunk.length === 0) return out;
    this.#chunks.push(new Uint8Array(chunk)); // a copy, and never a Buffer
    this.#buffered += chunk.length;
    for (;;) {
      if (this.#want === 0) {
        if (this.#buffered < 8) break;
        const head = this.#peek(8);
        if (head[0] !== 0x52 || head[1] !== 0x43 || head[2] !== 0x6d || head[3] !== 0x62) {
          throw new BadFrameError("Bad message length or signature received from Cluster bus");
        }
        const totlen = new DataView(head.buffer, head.byteOffset, 8).getUint32(4);
        if (totlen < HEADER_LEN) {
          throw new BadFrameError("Bad message length or signature received from Cluster bus");
        }
        this.#want = totlen;
      }
      if (this.#buffered < this.#want) break;
      out.push(this.#take(this.#want));
      this.#want = 0;
    }
    return out;
  }

  #peek(n: number): Uint8Array {
    const first = this.#chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    this.#merge();
    return this.#chunks[0]!.subarray(0, n);
  }

  #take(n: number): Uint8Array {
    this.#merge();
    const all = this.#chunks[0]!;
    const frame = all.length === n ? all : Uint8Array.prototype.slice.call(all, 0, n);
    const rest = all.subarray(n);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered -= n;
    return frame;
  }

  /** Joins the held chunks into one. */
  #merge(): void {
    if (this.#chunks.length <= 1) return;
    const all = new Uint8Array(this.#buffered);
    let at = 0;
    for (const c of this.#chunks) {
      all.set(c, at);
      at += c.length;
    }
    this.#chunks = [all];
  }
}
