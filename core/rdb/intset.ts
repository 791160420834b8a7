/**
 * Intsets, the blob of RDB_TYPE_SET_INTSET: `<width u32> <count u32>` then `count` signed
 * little-endian integers of `width` bytes (2, 4 or 8), sorted ascending, no duplicates.
 *
 * @module
 */

import { parseI64 } from "../bytes.ts";
import { RdbFormatError } from "./strings.ts";

/**
 * The intset blob holding `members` (canonical int64 texts, sorted ascending by value), in the
 * narrowest width that fits them all, as Redis's intset grows into.
 *
 * @param members the members, ascending
 * @returns the blob
 * @example
 * ```ts
 * intsetEncode(["1", "2"]); // 2,0,0,0, 2,0,0,0, 1,0, 2,0
 * ```
 */
export function intsetEncode(members: readonly string[]): Uint8Array {
  const values = members.map((m) => {
    const v = parseI64(m);
    if (v === undefined) throw new RangeError(`Not an intset member: ${m}`);
    return v;
  });
  let width = 2;
  for (const v of values) {
    if (v < -2147483648 || v > 2147483647) {
      width = 8;
      break;
    }
    if (v < -32768 || v > 32767) width = 4;
  }
  const out = new Uint8Array(8 + width * values.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, width, true);
  view.setUint32(4, values.length, true);
  let p = 8;
  for (const v of values) {
    if (width === 2) view.setInt16(p, Number(v), true);
    else if (width === 4) view.setInt32(p, Number(v), true);
    else view.setBigInt64(p, BigInt(v), true);
    p += width;
  }
  return out;
}

/**
 * The members of an intset blob as canonical texts, checking the header, the size and that
 * the values ascend strictly (Redis's deep intsetValidateIntegrity).
 *
 * @param blob the intset bytes
 * @returns the members, ascending
 * @throws {RdbFormatError} when the blob is malformed or empty
 * @example
 * ```ts
 * intsetMembers(intsetEncode(["-5", "7"])); // ["-5", "7"]
 * ```
 */
export function intsetMembers(blob: Uint8Array): string[] {
  const bad = (why: string): never => {
    throw new RdbFormatError(`Intset integrity check failed: ${why}`);
  };
  if (blob.length < 8) bad("too short");
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const width = view.getUint32(0, true);
  if (width !== 2 && width !== 4 && width !== 8) bad("bad encoding");
  const count = view.getUint32(4, true);
  if (8 + count * width !== blob.length) bad("size mismatch");
  if (count === 0) bad("empty");
  const out: string[] = new Array(count);
  let prev: number | bigint = 0;
  for (let i = 0, p = 8; i < count; i++, p += width) {
    let v: number | bigint;
    if (width === 2) v = view.getInt16(p, true);
    else if (width === 4) v = view.getInt32(p, true);
    else {
      const big = view.getBigInt64(p, true);
      v = Number.isSafeInteger(Number(big)) ? Number(big) : big;
    }
    if (i > 0 && v <= prev) bad("not sorted");
    prev = v;
    out[i] = String(v);
  }
  return out;
}
