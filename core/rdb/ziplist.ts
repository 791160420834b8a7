/**
 * Decoders for the compact encodings of RDB files written before Redis 7 (read-only: Redis 7
 * writes listpacks instead):
 *
 * - ziplist (RDB_TYPE_LIST_ZIPLIST, ZSET_ZIPLIST, HASH_ZIPLIST and LIST_QUICKLIST nodes):
 *   `<bytes u32> <tail offset u32> <count u16> <entry>... 0xFF`, an entry being the previous
 *   entry's size (1 or 5 bytes), an encoding with the length, and the data;
 * - zipmap (RDB_TYPE_HASH_ZIPMAP, Redis 2.4 and older): `<count> (<len> field <len> <free>
 *   value <free bytes>)... 0xFF`.
 *
 * Both check the structure as Redis's deep validation does and throw on any inconsistency.
 *
 * @module
 */

import { bytesToStr } from "../bytes.ts";
import { RdbFormatError } from "./strings.ts";

const ZIP_END = 0xff;
const ZIP_BIG_PREVLEN = 254;
const HEADER = 10;

function u32le(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 16777216;
}

/** A signed little-endian integer of `width` bytes at `p`, as text (exact for 64 bits). */
function intText(b: Uint8Array, p: number, width: number): string {
  if (width === 8) {
    let v = 0n;
    for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(b[p + i]!);
    return String(BigInt.asIntN(64, v));
  }
  let u = 0;
  for (let i = width - 1; i >= 0; i--) u = u * 256 + b[p + i]!;
  const half = 2 ** (8 * width - 1);
  return String(u >= half ? u - 2 * half : u);
}

/**
 * Every entry of a ziplist as a string (integers as their decimal text).
 *
 * @param zl the ziplist bytes
 * @returns the entries in order
 * @throws {RdbFormatError} when the ziplist is malformed
 * @example
 * ```ts
 * // An empty ziplist: 11 bytes, tail at 10, no entries.
 * ziplistEntries(new Uint8Array([11, 0, 0, 0, 10, 0, 0, 0, 0, 0, 255])); // []
 * ```
 */
export function ziplistEntries(zl: Uint8Array): string[] {
  const size = zl.length;
  const bad = (why: string): never => {
    throw new RdbFormatError(`Ziplist integrity check failed: ${why}`);
  };
  if (size < HEADER + 1) bad("too short");
  if (u32le(zl, 0) !== size) bad("size mismatch");
  if (zl[size - 1] !== ZIP_END) bad("no terminator");
  const tail = u32le(zl, 4);
  if (tail > size - 1) bad("tail out of range");
  const declared = zl[8]! | (zl[9]! << 8);
  const last = size - 1;
  const out: string[] = [];
  let p = HEADER;
  let prev = -1;
  let prevSize = 0;
  while (zl[p] !== ZIP_END) {
    // The header (previous size and encoding) must fit before the terminator.
    let h = p;
    let prevLen = zl[h++]!;
    if (prevLen === ZIP_BIG_PREVLEN) {
      if (h + 4 > last) bad("entry out of range");
      prevLen = u32le(zl, h);
      h += 4;
    }
    if (prevLen !== prevSize) bad("bad previous entry length");
    if (h >= last) bad("entry out of range");
    const enc = zl[h]!;
    let len: number;
    let value: string | undefined;
    if (enc < 0xc0) {
      const kind = enc >> 6;
      if (kind === 0) {
        len = enc & 0x3f;
        h += 1;
      } else if (kind === 1) {
        if (h + 1 >= last) bad("entry out of range");
        len = ((enc & 0x3f) << 8) | zl[h + 1]!;
        h += 2;
      } else {
        if (h + 4 >= last) bad("entry out of range");
        len = zl[h + 1]! * 16777216 + ((zl[h + 2]! << 16) | (zl[h + 3]! << 8) | zl[h + 4]!);
        h += 5;
      }
    } else {
      h += 1;
      if (enc >= 0xf1 && enc <= 0xfd) {
        len = 0;
        value = String((enc & 0x0f) - 1);
      } else {
        len = enc === 0xc0 ? 2 : enc === 0xd0 ? 4 : enc === 0xe0 ? 8 : enc === 0xf0 ? 3 : 0;
        if (enc === 0xfe) len = 1;
        if (len === 0) bad("bad encoding");
      }
    }
    if (h + len > last) bad("entry out of range");
    if (value === undefined) {
      value = enc < 0xc0 ? bytesToStr(zl, h, h + len) : intText(zl, h, len);
    }
    out.push(value);
    prev = p;
    prevSize = h + len - p;
    p = h + len;
  }
  if (p !== last) bad("entries overrun");
  if (prev !== -1 && prev !== tail) bad("bad tail offset");
  if (declared !== 65535 && declared !== out.length) bad("count mismatch");
  return out;
}

/**
 * The fields and values of a zipmap, alternating.
 *
 * @param zm the zipmap bytes
 * @returns field, value, field, value...
 * @throws {RdbFormatError} when the zipmap is malformed or empty
 * @example
 * ```ts
 * zipmapPairs(new Uint8Array([1, 1, 97, 1, 0, 98, 255])); // ["a", "b"]
 * ```
 */
export function zipmapPairs(zm: Uint8Array): string[] {
  const size = zm.length;
  const bad = (why: string): never => {
    throw new RdbFormatError(`Zipmap integrity check failed: ${why}`);
  };
  if (size < 2) bad("too short");
  if (zm[size - 1] !== ZIP_END) bad("no terminator");
  const last = size - 1;
  const out: string[] = [];
  let p = 1;
  /** A length (1 byte, or 254 and 4 bytes), checked to leave room for what follows. */
  const length = (): number => {
    const b = zm[p]!;
    if (b < ZIP_BIG_PREVLEN) {
      p += 1;
      return b;
    }
    if (p + 5 > last) bad("entry out of range");
    const n = u32le(zm, p + 1);
    p += 5;
    return n;
  };
  while (zm[p] !== ZIP_END) {
    const flen = length();
    if (p + flen > last) bad("entry out of range");
    const field = bytesToStr(zm, p, p + flen);
    p += flen;
    if (p >= last) bad("entry out of range");
    const vlen = length();
    if (p >= last) bad("entry out of range");
    const free = zm[p++]!;
    if (p + vlen + free > last) bad("entry out of range");
    out.push(field, bytesToStr(zm, p, p + vlen));
    p += vlen + free;
  }
  const count = out.length / 2;
  if (count === 0) bad("empty");
  if (zm[0] !== ZIP_BIG_PREVLEN && zm[0] !== count) bad("count mismatch");
  return out;
}
