/**
 * RDB length and string encodings (shared by DUMP payloads and, later, RDB files): lengths in
 * 1, 2, 5 or 9 bytes, strings raw, as small integers or LZF-compressed.
 *
 * @module
 */

import { bytesToStr, writeStr } from "../bytes.ts";

/** Reads RDB values from a byte array; throws on truncated or malformed input. */
export class RdbReader {
  pos = 0;

  constructor(readonly buf: Uint8Array, readonly end = buf.length) {}

  byte(): number {
    if (this.pos >= this.end) throw new Error("truncated payload");
    return this.buf[this.pos++]!;
  }

  /** A length; `encoded` is set when the value is a special string encoding instead. */
  length(): { n: number; encoded: boolean } {
    const b = this.byte();
    const type = b >> 6;
    if (type === 0) return { n: b & 0x3f, encoded: false };
    if (type === 1) return { n: ((b & 0x3f) << 8) | this.byte(), encoded: false };
    if (type === 3) return { n: b & 0x3f, encoded: true };
    if (b === 0x80) {
      let n = 0;
      for (let i = 0; i < 4; i++) n = n * 256 + this.byte();
      return { n, encoded: false };
    }
    if (b === 0x81) {
      let n = 0;
      for (let i = 0; i < 8; i++) n = n * 256 + this.byte();
      return { n, encoded: false };
    }
    throw new Error("unknown length encoding");
  }

  /** A string in any of its encodings, as a binary string. */
  string(): string {
    const { n, encoded } = this.length();
    if (!encoded) {
      if (this.pos + n > this.end) throw new Error("truncated payload");
      const s = bytesToStr(this.buf, this.pos, this.pos + n);
      this.pos += n;
      return s;
    }
    switch (n) {
      case 0:
        return String((this.byte() << 24) >> 24);
      case 1: {
        const v = this.byte() | (this.byte() << 8);
        return String((v << 16) >> 16);
      }
      case 2: {
        const v = this.byte() | (this.byte() << 8) | (this.byte() << 16) | (this.byte() << 24);
        return String(v | 0);
      }
      case 3: {
        const clen = this.length().n;
        const len = this.length().n;
        if (this.pos + clen > this.end) throw new Error("truncated payload");
        const out = lzfDecompress(this.buf.subarray(this.pos, this.pos + clen), len);
        this.pos += clen;
        return bytesToStr(out);
      }
    }
    throw new Error("unknown string encoding");
  }
}

/** Appends RDB values to a growable byte array. */
export class RdbWriter {
  private buf = new Uint8Array(256);
  pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  length(n: number): void {
    if (n < 64) this.byte(n);
    else if (n < 16384) {
      this.byte(0x40 | (n >> 8));
      this.byte(n & 0xff);
    } else if (n <= 0xffffffff) {
      this.byte(0x80);
      for (let i = 3; i >= 0; i--) this.byte(Math.floor(n / 2 ** (8 * i)) & 0xff);
    } else {
      this.byte(0x81);
      for (let i = 7; i >= 0; i--) this.byte(Math.floor(n / 2 ** (8 * i)) & 0xff);
    }
  }

  /** A binary string, stored raw. */
  string(s: string): void {
    this.length(s.length);
    this.ensure(s.length);
    this.pos += writeStr(this.buf, this.pos, s);
  }

  /** The bytes written so far. */
  result(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/** LZF decompression (the format of RDB's compressed strings) into `len` bytes. */
export function lzfDecompress(input: Uint8Array, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let ip = 0, op = 0;
  while (ip < input.length) {
    const ctrl = input[ip++]!;
    if (ctrl < 32) {
      const n = ctrl + 1;
      if (op + n > len || ip + n > input.length) throw new Error("invalid LZF data");
      out.set(input.subarray(ip, ip + n), op);
      ip += n;
      op += n;
    } else {
      let n = ctrl >> 5;
      if (n === 7) n += input[ip++]!;
      const ref = op - ((ctrl & 0x1f) << 8) - 1 - input[ip++]!;
      n += 2;
      if (ref < 0 || op + n > len) throw new Error("invalid LZF data");
      for (let i = 0; i < n; i++) out[op++] = out[ref + i]!;
    }
  }
  if (op !== len) throw new Error("invalid LZF data");
  return out;
}
