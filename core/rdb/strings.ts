/**
 * RDB primitives shared by DUMP payloads and RDB files: lengths in 1, 2, 5 or 9 bytes, strings
 * raw, as small integers or LZF-compressed, and doubles (binary, or the old length-prefixed
 * text). {@linkcode RdbReader} never trusts a length: everything is checked against the bytes
 * left before anything is allocated, and malformed input throws {@linkcode RdbFormatError}.
 *
 * @module
 */

import { bytesToStr, parseFloatStrict, parseI64, writeStr } from "../bytes.ts";
import { lzfCompress, lzfDecompress } from "./lzf.ts";

/** Malformed, truncated or unsupported RDB data. */
export class RdbFormatError extends Error {}

/**
 * The data ends before the value does. A loader reading a file in pieces can catch this, add
 * bytes and read the value again from where it started; for a complete payload it is corrupt.
 */
export class RdbTruncatedError extends RdbFormatError {
  constructor() {
    super("Truncated RDB data");
  }
}

/** The first byte of an encoded string: `11` + the encoding in the low bits. */
const ENC_INT8 = 0xc0;
const ENC_INT16 = 0xc1;
const ENC_INT32 = 0xc2;
const ENC_LZF = 0xc3;

/** Scratch space for LZF, kept while small so most strings compress without allocating. */
let scratchIn = new Uint8Array(1024);
let scratchOut = new Uint8Array(1024);
const SCRATCH_KEEP = 1 << 20;

const f64 = new DataView(new ArrayBuffer(8));

/** Reads RDB values from a byte array; throws {@linkcode RdbFormatError} on bad input. */
export class RdbReader {
  /** The read position. */
  pos = 0;

  /**
   * @param buf the bytes
   * @param end where the readable bytes end (a DUMP payload stops before its trailer)
   */
  constructor(readonly buf: Uint8Array, readonly end = buf.length) {}

  /** One byte. */
  byte(): number {
    if (this.pos >= this.end) throw new RdbTruncatedError();
    return this.buf[this.pos++]!;
  }

  /** `n` bytes as a view into the buffer (not a copy). */
  bytes(n: number): Uint8Array {
    if (n > this.end - this.pos) throw new RdbTruncatedError();
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Set by {@linkcode rawLength}: the value read was a string encoding, not a length. */
  private encoded = false;

  /** A length or (setting `encoded`) a string encoding; no allocation on this hot path. */
  private rawLength(): number {
    const b = this.byte();
    const type = b >> 6;
    this.encoded = type === 3;
    if (type === 0 || type === 3) return b & 0x3f;
    if (type === 1) return ((b & 0x3f) << 8) | this.byte();
    if (b === 0x80 || b === 0x81) {
      let n = 0;
      for (let i = b === 0x80 ? 4 : 8; i > 0; i--) n = n * 256 + this.byte();
      return n;
    }
    throw new RdbFormatError("Unknown length encoding");
  }

  /** A length; `encoded` is set when the value is a special string encoding instead. */
  length(): { n: number; encoded: boolean } {
    const n = this.rawLength();
    return { n, encoded: this.encoded };
  }

  /** A plain length (a count), refusing string encodings. */
  count(): number {
    const n = this.rawLength();
    if (this.encoded) throw new RdbFormatError("Unexpected string encoding");
    return n;
  }

  /** A string in any of its encodings, as a binary string. */
  string(): string {
    const n = this.rawLength();
    if (!this.encoded) {
      if (n > this.end - this.pos) throw new RdbTruncatedError();
      const s = bytesToStr(this.buf, this.pos, this.pos + n);
      this.pos += n;
      return s;
    }
    if (n === 3) return bytesToStr(this.lzf(scratchIn));
    return this.integer(n);
  }

  /** A string in any of its encodings as bytes: a listpack, intset or ziplist blob. */
  blob(): Uint8Array {
    const n = this.rawLength();
    if (!this.encoded) return this.bytes(n);
    if (n === 3) return this.lzf();
    const s = this.integer(n);
    const out = new Uint8Array(s.length);
    writeStr(out, 0, s);
    return out;
  }

  /** The text of an integer-encoded string (encoding 0, 1 or 2). */
  private integer(enc: number): string {
    if (enc === 0) return String((this.byte() << 24) >> 24);
    if (enc === 1) {
      const v = this.byte() | (this.byte() << 8);
      return String((v << 16) >> 16);
    }
    if (enc === 2) {
      const v = this.byte() | (this.byte() << 8) | (this.byte() << 16) | (this.byte() << 24);
      return String(v);
    }
    throw new RdbFormatError("Unknown string encoding");
  }

  /** An LZF-compressed string, decompressed (into `scratch` when given and large enough). */
  private lzf(scratch?: Uint8Array): Uint8Array {
    const clen = this.count();
    const len = this.count();
    const input = this.bytes(clen);
    try {
      return lzfDecompress(input, len, scratch);
    } catch (e) {
      throw new RdbFormatError((e as Error).message);
    }
  }

  /** A little-endian IEEE 754 double (RDB_TYPE_ZSET_2 scores). */
  binaryDouble(): number {
    const b = this.bytes(8);
    for (let i = 0; i < 8; i++) f64.setUint8(i, b[i]!);
    return f64.getFloat64(0, true);
  }

  /** A double as RDB_TYPE_ZSET stores it: a length byte (253 NaN, 254 +inf, 255 -inf), text. */
  textDouble(): number {
    const len = this.byte();
    if (len === 253) return NaN;
    if (len === 254) return Infinity;
    if (len === 255) return -Infinity;
    const v = parseFloatStrict(bytesToStr(this.bytes(len)));
    if (v === undefined) throw new RdbFormatError("Invalid double");
    return v;
  }
}

/** Appends RDB values to a growable byte array. */
export class RdbWriter {
  private buf = new Uint8Array(256);
  /** Bytes written so far. */
  pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    // A huge value (a big string) gets what it needs and a little more, not up to twice that.
    if (n > 1 << 20 && this.pos < n) size = Math.min(size, this.pos + n + (1 << 20));
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** One byte. */
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** Bytes, verbatim. */
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** A length in 1, 2, 5 or 9 bytes. */
  length(n: number): void {
    if (n < 64) this.byte(n);
    else if (n < 16384) {
      this.ensure(2);
      this.buf[this.pos++] = 0x40 | (n >> 8);
      this.buf[this.pos++] = n & 0xff;
    } else if (n <= 0xffffffff) {
      this.ensure(5);
      this.buf[this.pos++] = 0x80;
      for (let i = 3; i >= 0; i--) this.buf[this.pos++] = Math.floor(n / 2 ** (8 * i)) & 0xff;
    } else {
      this.ensure(9);
      this.buf[this.pos++] = 0x81;
      for (let i = 7; i >= 0; i--) this.buf[this.pos++] = Math.floor(n / 2 ** (8 * i)) & 0xff;
    }
  }

  /** A binary string, stored raw (no integer or LZF encoding). */
  string(s: string): void {
    const len = s.length;
    this.length(len);
    this.ensure(len);
    if (len > 64) {
      this.pos += writeStr(this.buf, this.pos, s);
      return;
    }
    // A plain loop beats the native latin1 write on short strings (by 4x on Deno).
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < len; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /**
   * A binary string as Redis's rdbSaveRawString stores it: an int8/16/32 when it is the
   * canonical text of one, LZF when `compress`, longer than 20 bytes and at least 5 bytes
   * smaller, raw otherwise.
   */
  encodedString(s: string, compress: boolean): void {
    const len = s.length;
    if (len <= 11 && this.integer(s)) return;
    if (compress && len > 20) {
      if (scratchIn.length < len) scratchIn = new Uint8Array(len);
      if (len > 64) writeStr(scratchIn, 0, s);
      else for (let i = 0; i < len; i++) scratchIn[i] = s.charCodeAt(i);
      const ok = this.lzf(scratchIn, len);
      if (scratchIn.length > SCRATCH_KEEP) scratchIn = new Uint8Array(1024);
      if (ok) return;
    }
    this.string(s);
  }

  /** Bytes (a listpack or intset blob) with the same encoding rules as {@linkcode encodedString}. */
  encodedBlob(b: Uint8Array, compress: boolean): void {
    if (b.length <= 11 && this.integer(bytesToStr(b))) return;
    if (compress && b.length > 20 && this.lzf(b, b.length)) return;
    this.length(b.length);
    this.bytes(b);
  }

  /** An LZF blob: the compressed length, the original length, the compressed bytes. */
  lzfBlob(compressed: Uint8Array, originalLength: number): void {
    this.byte(ENC_LZF);
    this.length(compressed.length);
    this.length(originalLength);
    this.bytes(compressed);
  }

  /** Writes `s` as an int8/16/32 encoded string when it is one; false otherwise. */
  private integer(s: string): boolean {
    const v = parseI64(s);
    if (typeof v !== "number" || v < -2147483648 || v > 2147483647) return false;
    if (v >= -128 && v <= 127) {
      this.byte(ENC_INT8);
      this.byte(v & 0xff);
    } else if (v >= -32768 && v <= 32767) {
      this.byte(ENC_INT16);
      this.byte(v & 0xff);
      this.byte((v >> 8) & 0xff);
    } else {
      this.byte(ENC_INT32);
      for (let i = 0; i < 4; i++) this.byte((v >> (8 * i)) & 0xff);
    }
    return true;
  }

  /** Writes `input[0, len)` LZF-compressed when that saves at least 5 bytes; false otherwise. */
  private lzf(input: Uint8Array, len: number): boolean {
    // Redis asks for at least four bytes of gain (output limited to len - 4).
    const limit = len - 4;
    if (scratchOut.length < limit) scratchOut = new Uint8Array(limit);
    const out = scratchOut;
    if (scratchOut.length > SCRATCH_KEEP) scratchOut = new Uint8Array(1024);
    const clen = lzfCompress(input, 0, len, out, limit);
    if (clen === 0) return false;
    this.lzfBlob(out.subarray(0, clen), len);
    return true;
  }

  /** A little-endian IEEE 754 double. */
  binaryDouble(v: number): void {
    f64.setFloat64(0, v, true);
    this.ensure(8);
    for (let i = 0; i < 8; i++) this.buf[this.pos++] = f64.getUint8(i);
  }

  /** The bytes written so far, as a copy. */
  result(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  /** The bytes written so far as a view, valid until the next write or {@linkcode reset}. */
  view(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /** Forgets what was written, keeping the buffer (to stream a file out in pieces). */
  reset(): void {
    this.pos = 0;
  }
}
