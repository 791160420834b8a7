/**
 * Listpacks, Redis 7's compact sequence of strings and integers (the blob inside
 * RDB_TYPE_HASH_LISTPACK, RDB_TYPE_ZSET_LISTPACK and quicklist nodes):
 *
 * `<total bytes u32> <count u16> <entry>... 0xFF`, each entry being an encoding byte (7-bit
 * uint, 6/12/32-bit length string, 13/16/24/32/64-bit int), the data, and the entry's length
 * written backwards in 1 to 5 bytes (so the list can be walked from the tail).
 *
 * {@linkcode ListpackBuilder} encodes exactly as Redis's lpAppend does (a string that is the
 * canonical text of an int64 is stored as an integer), so blobs are byte-identical to Redis's.
 *
 * @module
 */

import { bytesToStr, parseI64, writeStr } from "../bytes.ts";
import { RdbFormatError } from "./strings.ts";

const HEADER = 6;
const EOF = 0xff;
/** Entry counts from here on are not kept in the header (Redis's LP_HDR_NUMELE_UNKNOWN). */
const COUNT_UNKNOWN = 65535;
/** Largest buffer a builder keeps across {@linkcode ListpackBuilder.reset}. */
const KEEP_BYTES = 1 << 20;

/** Bytes of the backwards length of an entry of `l` bytes (Redis's lpEncodeBacklen). */
function backlenSize(l: number): number {
  return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

/** Builds a listpack by appending entries. */
export class ListpackBuilder {
  private buf = new Uint8Array(64);
  private pos = HEADER;
  /** Number of entries appended. */
  count = 0;

  /** Size in bytes of the finished listpack (what Redis's lpBytes reports). */
  get bytes(): number {
    return this.pos + 1;
  }

  private ensure(n: number): void {
    if (this.pos + n + 1 <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n + 1) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** Appends `s`, as an integer when it is the canonical text of an int64. */
  append(s: string): void {
    const v = s.length <= 20 ? parseI64(s) : undefined;
    if (v !== undefined) this.appendInteger(v);
    else this.appendString(s);
  }

  /** Appends a string entry. */
  appendString(s: string): void {
    const len = s.length;
    const head = len < 64 ? 1 : len < 4096 ? 2 : 5;
    const entry = head + len;
    this.ensure(entry + 5);
    const b = this.buf;
    let p = this.pos;
    if (len < 64) b[p++] = 0x80 | len;
    else if (len < 4096) {
      b[p++] = 0xe0 | (len >> 8);
      b[p++] = len & 0xff;
    } else {
      b[p++] = 0xf0;
      for (let i = 0; i < 4; i++) b[p++] = Math.floor(len / 2 ** (8 * i)) & 0xff;
    }
    p += writeStr(b, p, s);
    this.pos = this.backlen(p, entry);
    this.count++;
  }

  /** Appends an integer entry in the smallest encoding. */
  appendInteger(v: number | bigint): void {
    this.ensure(9 + 5);
    const b = this.buf;
    let p = this.pos;
    const n = Number(v);
    if (n >= 0 && n <= 127) {
      b[p++] = n;
    } else if (n >= -4096 && n <= 4095) {
      const u = n < 0 ? 8192 + n : n;
      b[p++] = 0xc0 | (u >> 8);
      b[p++] = u & 0xff;
    } else if (n >= -32768 && n <= 32767) {
      b[p++] = 0xf1;
      b[p++] = n & 0xff;
      b[p++] = (n >> 8) & 0xff;
    } else if (n >= -8388608 && n <= 8388607) {
      b[p++] = 0xf2;
      for (let i = 0; i < 3; i++) b[p++] = (n >> (8 * i)) & 0xff;
    } else if (n >= -2147483648 && n <= 2147483647) {
      b[p++] = 0xf3;
      for (let i = 0; i < 4; i++) b[p++] = (n >> (8 * i)) & 0xff;
    } else {
      b[p++] = 0xf4;
      let u = BigInt.asUintN(64, BigInt(v));
      for (let i = 0; i < 8; i++) {
        b[p++] = Number(u & 0xffn);
        u >>= 8n;
      }
    }
    this.pos = this.backlen(p, p - this.pos);
    this.count++;
  }

  /** Writes the backwards length of an entry of `l` bytes at `p`; returns the new end. */
  private backlen(p: number, l: number): number {
    const b = this.buf;
    const size = backlenSize(l);
    for (let i = size - 1; i >= 0; i--) {
      const part = Math.floor(l / 2 ** (7 * i)) & 127;
      b[p++] = i === size - 1 ? part : part | 128;
    }
    return p;
  }

  /** Empties the builder, keeping its buffer (reuse avoids an allocation per listpack). */
  reset(): void {
    this.pos = HEADER;
    this.count = 0;
    // A huge element must not pin a huge buffer for good.
    if (this.buf.length > KEEP_BYTES) this.buf = new Uint8Array(64);
  }

  /** The finished listpack as a view of the builder's buffer, valid until the next change. */
  view(): Uint8Array {
    const b = this.buf;
    const total = this.pos + 1;
    for (let i = 0; i < 4; i++) b[i] = Math.floor(total / 2 ** (8 * i)) & 0xff;
    const count = Math.min(this.count, COUNT_UNKNOWN);
    b[4] = count & 0xff;
    b[5] = count >> 8;
    b[this.pos] = EOF;
    return b.subarray(0, total);
  }

  /** The finished listpack as a fresh copy. */
  finish(): Uint8Array {
    return this.view().slice();
  }
}

/** An integer entry's value as text, exact past 2^53. */
function intText(lo: number, hi: number): string {
  if (hi === 0 && lo >= 0) return String(lo);
  return String((BigInt(hi) << 32n) | BigInt(lo >>> 0));
}

/**
 * Every entry of a listpack as a string (integers as their decimal text), checking the whole
 * structure as Redis's deep lpValidateIntegrity does: header size and count, entry bounds,
 * back lengths, terminator.
 *
 * @param lp the listpack bytes
 * @returns the entries in order
 * @throws {RdbFormatError} when the listpack is malformed
 * @example
 * ```ts
 * const b = new ListpackBuilder();
 * b.append("a");
 * b.append("12");
 * listpackEntries(b.finish()); // ["a", "12"]
 * ```
 */
export function listpackEntries(lp: Uint8Array): string[] {
  const size = lp.length;
  const bad = (why: string): never => {
    throw new RdbFormatError(`Listpack integrity check failed: ${why}`);
  };
  if (size < HEADER + 1) bad("too short");
  const total = (lp[0]! | (lp[1]! << 8) | (lp[2]! << 16)) + lp[3]! * 16777216;
  if (total !== size) bad("size mismatch");
  if (lp[size - 1] !== EOF) bad("no terminator");
  const declared = lp[4]! | (lp[5]! << 8);
  const out: string[] = [];
  const last = size - 1;
  let p = HEADER;
  while (p < last) {
    const c = lp[p]!;
    let head = 1;
    let len = 0;
    let value: string;
    if (c < 0x80) {
      value = String(c);
    } else if (c < 0xc0) {
      len = c & 0x3f;
      value = "";
    } else if (c < 0xe0) {
      head = 2;
      if (p + 1 >= last) bad("entry out of range");
      const u = ((c & 0x1f) << 8) | lp[p + 1]!;
      value = String(u >= 4096 ? u - 8192 : u);
    } else if (c < 0xf0) {
      head = 2;
      if (p + 1 >= last) bad("entry out of range");
      len = ((c & 0x0f) << 8) | lp[p + 1]!;
      value = "";
    } else if (c === 0xf0) {
      head = 5;
      if (p + 4 >= last) bad("entry out of range");
      len = (lp[p + 1]! | (lp[p + 2]! << 8) | (lp[p + 3]! << 16)) + lp[p + 4]! * 16777216;
      value = "";
    } else if (c <= 0xf4) {
      const width = c === 0xf1 ? 2 : c === 0xf2 ? 3 : c === 0xf3 ? 4 : 8;
      head = 1 + width;
      if (p + width >= last) bad("entry out of range");
      value = intAt(lp, p + 1, width);
    } else {
      return bad("bad encoding");
    }
    const isString = c >= 0x80 && (c < 0xc0 || (c >= 0xe0 && c <= 0xf0));
    const entry = head + len;
    const back = backlenSize(entry);
    if (p + entry + back > last) bad("entry out of range");
    if (isString) value = bytesToStr(lp, p + head, p + entry);
    // The back length must say the same size, written as Redis writes it.
    let decoded = 0;
    for (let i = 0; i < back; i++) {
      const byte = lp[p + entry + i]!;
      if ((i === 0) !== (byte < 128)) bad("bad back length");
      decoded = decoded * 128 + (byte & 127);
    }
    if (decoded !== entry) bad("bad back length");
    out.push(value);
    p += entry + back;
  }
  if (declared !== COUNT_UNKNOWN && declared !== out.length) bad("count mismatch");
  return out;
}

/** A little-endian two's complement integer of `width` bytes at `p`, as text. */
function intAt(b: Uint8Array, p: number, width: number): string {
  if (width === 8) {
    const lo = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
    const hi = b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24);
    if (hi === 0 || hi === -1) {
      const n = hi * 4294967296 + lo;
      if (Number.isSafeInteger(n)) return String(n);
    }
    return intText(lo, hi);
  }
  let u = 0;
  for (let i = width - 1; i >= 0; i--) u = u * 256 + b[p + i]!;
  const half = 2 ** (8 * width - 1);
  return String(u >= half ? u - 2 * half : u);
}
