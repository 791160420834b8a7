/**
 * The replication backlog: the last `repl-backlog-size` bytes of the replication stream in a
 * circular buffer, so a replica that lost its link can continue from the byte it wants
 * (`PSYNC <replid> <offset>`) instead of loading a whole new RDB.
 *
 * Offsets are Redis's: the stream's first byte has offset 1, and the backlog holds the bytes
 * `firstOffset .. firstOffset + histlen - 1`.
 *
 * @module
 */

/** A fixed-size circular window over the end of the replication stream. */
export class Backlog {
  private buf: Uint8Array;
  /** Where the next byte goes in `buf`. */
  private idx = 0;
  /** Bytes held (at most the buffer's size). */
  histlen = 0;
  /** Offset of the first byte held (`repl_backlog_first_byte_offset`). */
  firstOffset: number;

  /**
   * @param size capacity in bytes (`repl-backlog-size`)
   * @param nextOffset the offset the next appended byte will have (master_repl_offset + 1)
   */
  constructor(size: number, nextOffset: number) {
    this.buf = new Uint8Array(Math.max(1, size));
    this.firstOffset = nextOffset;
  }

  /** Capacity in bytes. */
  get size(): number {
    return this.buf.length;
  }

  /** Appends stream bytes, dropping the oldest ones when full. */
  append(bytes: Uint8Array): void {
    const size = this.buf.length;
    let src = bytes;
    if (src.length >= size) {
      // Only the last `size` bytes can stay.
      this.firstOffset += this.histlen + src.length - size;
      this.buf.set(src.subarray(src.length - size));
      this.idx = 0;
      this.histlen = size;
      return;
    }
    const first = Math.min(src.length, size - this.idx);
    this.buf.set(src.subarray(0, first), this.idx);
    if (first < src.length) {
      src = src.subarray(first);
      this.buf.set(src, 0);
      this.idx = src.length;
    } else {
      this.idx = (this.idx + first) % size;
    }
    const grown = this.histlen + bytes.length;
    if (grown > size) {
      this.firstOffset += grown - size;
      this.histlen = size;
    } else {
      this.histlen = grown;
    }
  }

  /** True when the bytes from `offset` to the end are all held (a partial resync can start). */
  covers(offset: number): boolean {
    return offset >= this.firstOffset && offset <= this.firstOffset + this.histlen;
  }

  /** A copy of the held bytes from `offset` to the end (`covers(offset)` must be true). */
  from(offset: number): Uint8Array {
    const skip = offset - this.firstOffset;
    const n = this.histlen - skip;
    const out = new Uint8Array(n);
    const size = this.buf.length;
    // Index in `buf` of the first held byte, then of the first byte wanted.
    const start = (this.idx - this.histlen + size) % size;
    const at = (start + skip) % size;
    const first = Math.min(n, size - at);
    out.set(this.buf.subarray(at, at + first));
    if (first < n) out.set(this.buf.subarray(0, n - first), first);
    return out;
  }

  /** Changes the capacity, keeping the newest bytes that fit (CONFIG SET repl-backlog-size). */
  resize(size: number): void {
    if (size === this.buf.length) return;
    const keep = Math.min(this.histlen, size);
    const tail = this.from(this.firstOffset + this.histlen - keep);
    this.buf = new Uint8Array(Math.max(1, size));
    this.buf.set(tail);
    this.idx = tail.length % this.buf.length;
    this.firstOffset += this.histlen - keep;
    this.histlen = keep;
  }
}
