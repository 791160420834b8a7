/**
 * Bitmap helpers shared by the bit commands and BITFIELD. A bitmap is an ordinary string value
 * (one byte per char); bit 0 is the most significant bit of the first byte.
 *
 * @module
 */

import { parseI64 } from "../core/bytes.ts";
import { CF, type Client } from "../core/client.ts";
import { E, fail } from "../core/resp/reply.ts";
import { smallString } from "../core/types/big_string.ts";

const BIT_OFFSET_ERR = "ERR bit offset is not an integer or out of range";

/**
 * Parses a bit offset as Redis's `getBitOffsetFromArgument`: a non-negative integer whose byte
 * lies below proto-max-bulk-len (our master is trusted). With `bits` > 0 the `#n` form means
 * `n * bits` (BITFIELD).
 *
 * @param client the client (its server's proto-max-bulk-len; a master is not limited)
 * @param text the argument
 * @param bits the field width, enabling the `#n` form when positive
 * @returns the bit offset
 */
export function bitOffsetArg(client: Client, text: string, bits = 0): number {
  const hash = bits > 0 && text.charCodeAt(0) === 35;
  let v = parseI64(hash ? text.slice(1) : text);
  if (v === undefined) return fail(BIT_OFFSET_ERR);
  if (hash) {
    const n = Number(v) * bits;
    // The product wraps like the int64 multiplication in C.
    v = Number.isSafeInteger(n) ? n : BigInt.asIntN(64, BigInt(v) * BigInt(bits));
  }
  if (v < 0) return fail(BIT_OFFSET_ERR);
  if ((client.flags & CF.master) === 0) {
    const byte = typeof v === "bigint" ? v >> 3n : Math.floor(v / 8);
    if (byte >= client.server.parserLimits.maxBulkLen) return fail(BIT_OFFSET_ERR);
  }
  return Number(v);
}

/**
 * Looks up a string for a bit write.
 *
 * @param client the client (its selected database)
 * @param key the key
 * @returns the string, or undefined when absent; throws WRONGTYPE for other types
 */
export function bitmapForWrite(client: Client, key: string): string | undefined {
  return smallString(client.db.lookupWrite(key), E.wrongType);
}

/**
 * Stores a changed bitmap; an existing key keeps its TTL.
 *
 * @param client the client (its selected database)
 * @param key the key
 * @param existed whether the key held a string before
 * @param value the new bytes
 */
export function storeBitmap(client: Client, key: string, existed: boolean, value: string): void {
  const db = client.db;
  if (existed) {
    db.replace(key, value);
    db.touch(key);
  } else {
    db.set(key, value);
  }
}

/** Number of set bits of every byte value. */
const POP = new Uint8Array(256);
for (let i = 1; i < 256; i++) POP[i] = (i & 1) + POP[i >> 1]!;

/** Set bits in bytes `[from, to)` of `s`. */
function popcountBytes(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n += POP[s.charCodeAt(i)]!;
  return n;
}

/**
 * Counts set bits.
 *
 * @param s the bitmap
 * @param from first bit position (inside `s`)
 * @param to last bit position, inclusive (inside `s`)
 * @returns the number of set bits in `from..to`
 */
export function countBits(s: string, from: number, to: number): number {
  const first = Math.floor(from / 8);
  const last = Math.floor(to / 8);
  let n = popcountBytes(s, first, last + 1);
  // Drop the bits of the edge bytes that lie outside the range.
  const headMask = (0xff00 >> (from & 7)) & 0xff;
  const tailMask = (1 << (7 - (to & 7))) - 1;
  n -= POP[s.charCodeAt(first) & headMask]! + POP[s.charCodeAt(last) & tailMask]!;
  return n;
}

/**
 * Finds the first bit of a given value.
 *
 * @param s the bitmap
 * @param from first bit position
 * @param to last bit position, inclusive (inside `s`)
 * @param bit the value looked for, 0 or 1
 * @returns the position of the first bit equal to `bit` in `from..to`, or -1
 */
export function findBit(s: string, from: number, to: number, bit: number): number {
  const first = Math.floor(from / 8);
  const last = Math.floor(to / 8);
  // Looking for a zero is looking for a one in the inverted byte.
  const flip = bit === 1 ? 0 : 0xff;
  for (let i = first; i <= last; i++) {
    let byte = s.charCodeAt(i) ^ flip;
    if (i === first) byte &= 0xff >> (from & 7);
    if (i === last) byte &= 0xff00 >> ((to & 7) + 1);
    if (byte !== 0) return i * 8 + Math.clz32(byte) - 24;
  }
  return -1;
}
