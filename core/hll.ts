/**
 * Redis's HyperLogLog, byte for byte: a plain string value made of a 16-byte header (`HYLL`, the
 * encoding byte, three unused bytes, the cached cardinality as 8 little-endian bytes whose top
 * bit marks it stale) and either 16384 dense 6-bit registers or the sparse ZERO / XZERO / VAL
 * opcodes. The same adds produce the same bytes as Redis 7.0, and the count is Redis 7.0's
 * estimator (Ertl's improved "tau/sigma" formula).
 *
 * Values are worked on in an {@linkcode Hll} buffer; the last one loaded is cached against its
 * string, so repeated PFADDs to one key do not decode the string again.
 *
 * @module
 */

import { bytesToStr, writeStr } from "./bytes.ts";
import { patIndex, patLen } from "./hll_hash.ts";
import { PROMOTE, sparseSet } from "./hll_sparse.ts";

/** Number of registers (2^14). */
export const HLL_REGISTERS = 16384;
/** Header size in bytes. */
export const HLL_HDR = 16;
/** Size of a dense HyperLogLog in bytes. */
export const HLL_DENSE_SIZE = HLL_HDR + HLL_REGISTERS * 6 / 8;
/** Encoding byte of a dense HyperLogLog. */
export const HLL_DENSE = 0;
/** Encoding byte of a sparse HyperLogLog. */
export const HLL_SPARSE = 1;

/** A HyperLogLog's bytes being read or changed: `buf[0..len)`, with room to grow. */
export interface Hll {
  /** The bytes (capacity may exceed `len`). */
  buf: Uint8Array;
  /** Length of the value. */
  len: number;
}

/** The value of a new (empty, sparse) HyperLogLog: the header and one XZERO of 16384. */
export const HLL_EMPTY = "HYLL\x01" + "\x00".repeat(11) + "\x7f\xff";

/**
 * True when `s` passes Redis's `isHLLObjectOrReply` checks: long enough, the `HYLL` magic, a
 * known encoding, and the exact size when dense. The sparse opcodes are checked when read.
 *
 * @param s a string value
 * @returns whether it can be used as a HyperLogLog
 * @example
 * ```ts
 * isHll(HLL_EMPTY); // true
 * ```
 */
export function isHll(s: string): boolean {
  // The value last loaded or saved was checked (or made) here already; reading its bytes again
  // would also flatten a dense value's rope (see saveHll).
  if (s === cachedStr) return true;
  if (s.length < HLL_HDR || !s.startsWith("HYLL")) return false;
  const enc = s.charCodeAt(4);
  return enc === HLL_SPARSE || (enc === HLL_DENSE && s.length === HLL_DENSE_SIZE);
}

let cachedStr: string | undefined;
let cached: Hll = { buf: new Uint8Array(0), len: 0 };

/**
 * A dense value is saved as a rope of pieces of this many bytes, which V8 keeps as a tree of
 * strings instead of copying them: a PFADD that raises a register rebuilds the one piece it
 * changed and the joins above it. Building the whole 12 KiB string on every change was PFADD's
 * largest cost (CPU profile: latin1Slice under saveHll, and the GC of those strings). The rope
 * is flattened once, when something reads the value's bytes (GET, PFCOUNT, DUMP...).
 */
const PIECE = 1024;
const PIECES = Math.ceil(HLL_DENSE_SIZE / PIECE);
const ALL_PIECES = (1 << PIECES) - 1;
/** Leaves of the rope's tree: a power of two, the ones past the last piece empty. */
const LEAVES = 16;
/**
 * The rope of the dense buffer `piecesOf` (the cached one) as a complete binary tree: node `i`
 * joins nodes `2i` and `2i + 1`, piece `p` is node `LEAVES + p`, and node 1 is the value. A
 * change costs one piece and the four joins above it, not a join of every piece (twelve).
 */
const rope: string[] = new Array<string>(2 * LEAVES).fill("");
let piecesOf: Uint8Array | null = null;
/** Pieces of `piecesOf` written since their strings were made (bit i: piece i). */
let dirty = 0;

/** The rope of `buf` with its dirty pieces (all of them when `fresh`) made again. */
function ropeOf(buf: Uint8Array, fresh: boolean): string {
  if (fresh) dirty = ALL_PIECES;
  if (dirty === 0) return rope[1]!;
  let joins = 0; // Bit j: node j (below LEAVES) must be joined again.
  for (let p = 0; p < PIECES; p++) {
    if ((dirty & (1 << p)) === 0) continue;
    rope[LEAVES + p] = bytesToStr(buf, p * PIECE, Math.min(HLL_DENSE_SIZE, (p + 1) * PIECE));
    joins |= 1 << ((LEAVES + p) >>> 1);
  }
  for (let j = LEAVES - 1; j >= 1; j--) {
    if ((joins & (1 << j)) === 0) continue;
    rope[j] = rope[2 * j]! + rope[2 * j + 1]!;
    joins |= 1 << (j >>> 1);
  }
  dirty = 0;
  return rope[1]!;
}

/**
 * The working buffer of string `s` (a valid HyperLogLog). The last buffer loaded is reused when
 * `s` is the string it was loaded from or saved as; a caller that changes the buffer must then
 * {@linkcode saveHll} it or {@linkcode forgetHll}.
 *
 * @param s the value
 * @returns its buffer
 * @example
 * ```ts
 * const h = loadHll(HLL_EMPTY);
 * ```
 */
export function loadHll(s: string): Hll {
  if (s === cachedStr) return cached;
  // Another value: the cached buffer may be reused below, and its pieces describe nothing now.
  piecesOf = null;
  const len = s.length;
  if (cached.buf.length >= len + 1 && len < 512) {
    // The previous value is saved as a string: its buffer is free, and creating a typed array
    // costs more than a small PFADD.
    const buf = cached.buf;
    for (let i = 0; i < len; i++) buf[i] = s.charCodeAt(i);
    buf[len] = 0;
    cached.len = len;
  } else cached = hllFromString(s);
  cachedStr = s;
  return cached;
}

/**
 * A fresh buffer holding `s`, outside the cache (PFSELFTEST's scratch values).
 *
 * @param s the value
 * @returns its buffer
 * @example
 * ```ts
 * const h = hllFromString(HLL_EMPTY);
 * ```
 */
export function hllFromString(s: string): Hll {
  // Room for a few sparse splits, and the byte past the last dense register that Redis reads.
  const buf = new Uint8Array(s.length + 16);
  // A loop beats the native latin1 write below a few hundred bytes (a new sparse value is 18).
  if (s.length >= 512) writeStr(buf, 0, s);
  else for (let i = 0; i < s.length; i++) buf[i] = s.charCodeAt(i);
  return { buf, len: s.length };
}

/**
 * The string of a changed buffer, remembered as its cache key.
 *
 * @param h the buffer (from {@linkcode loadHll})
 * @returns the new value
 * @example
 * ```ts
 * const value = saveHll(loadHll(HLL_EMPTY));
 * ```
 */
export function saveHll(h: Hll): string {
  let s: string;
  if (h.buf[4] === HLL_DENSE && h.len === HLL_DENSE_SIZE) {
    s = ropeOf(h.buf, h.buf !== piecesOf);
    piecesOf = h.buf;
  } else {
    piecesOf = null;
    s = bytesToStr(h.buf, 0, h.len);
  }
  cached = h;
  cachedStr = s;
  return s;
}

/** Marks the cached cardinality stale. */
export function invalidateCard(h: Hll): void {
  const b = h.buf[15]!;
  if (b & 0x80) return; // Already stale: the first piece need not be made again.
  h.buf[15] = b | 0x80;
  if (h.buf === piecesOf) dirty |= 1;
}

/** Stores `card` as the cached cardinality (which makes it valid). */
export function setCachedCard(h: Hll, card: number): void {
  if (h.buf === piecesOf) dirty |= 1;
  for (let i = 8; i < 16; i++) {
    h.buf[i] = card % 256;
    card = Math.floor(card / 256);
  }
}

/** Dense register `i` of the registers starting at `buf[off]`. */
export function denseGet(buf: Uint8Array, off: number, i: number): number {
  const bit = i * 6;
  const byte = off + (bit >>> 3);
  const fb = bit & 7;
  return ((buf[byte]! >>> fb) | ((buf[byte + 1] ?? 0) << (8 - fb))) & 63;
}

/** Sets dense register `i` of the registers starting at `buf[off]` to `val`. */
export function denseSetRaw(buf: Uint8Array, off: number, i: number, val: number): void {
  const bit = i * 6;
  const byte = off + (bit >>> 3);
  const fb = bit & 7;
  buf[byte] = (buf[byte]! & ~(63 << fb)) | (val << fb);
  const fb8 = 8 - fb;
  if (byte + 1 < buf.length) buf[byte + 1] = (buf[byte + 1]! & ~(63 >>> fb8)) | (val >>> fb8);
  if (buf === piecesOf) dirty |= (1 << ((byte / PIECE) | 0)) | (1 << (((byte + 1) / PIECE) | 0));
}

/** Raises dense register `index` to `count`; 1 when it changed, else 0 (`hllDenseSet`). */
export function denseSet(h: Hll, index: number, count: number): number {
  if (count <= denseGet(h.buf, HLL_HDR, index)) return 0;
  denseSetRaw(h.buf, HLL_HDR, index, count);
  return 1;
}

/**
 * Converts a sparse HyperLogLog to dense in place (the header, cached cardinality included, is
 * kept). False when the sparse opcodes do not cover exactly 16384 registers.
 *
 * @param h the buffer
 * @returns false when the value is corrupted
 * @example
 * ```ts
 * sparseToDense(loadHll(HLL_EMPTY)); // true
 * ```
 */
export function sparseToDense(h: Hll): boolean {
  if (h.buf[4] === HLL_DENSE) return true;
  const dense = new Uint8Array(HLL_DENSE_SIZE + 1);
  dense.set(h.buf.subarray(0, HLL_HDR));
  dense[4] = HLL_DENSE;
  const src = h.buf;
  let idx = 0;
  for (let p = HLL_HDR; p < h.len;) {
    const op = src[p]!;
    if ((op & 0xc0) === 0) {
      idx += (op & 0x3f) + 1;
      p++;
    } else if ((op & 0xc0) === 0x40) {
      idx += (((op & 0x3f) << 8) | src[p + 1]!) + 1;
      p += 2;
    } else {
      let run = (op & 3) + 1;
      const val = ((op >>> 2) & 0x1f) + 1;
      // A run past the last register is corruption even when it starts at the end: the
      // redis-server 7.0.15 we match carries the CVE-2025-32023 bounds checks.
      if (run + idx > HLL_REGISTERS) return false;
      while (run--) denseSetRaw(dense, HLL_HDR, idx++, val);
      p++;
    }
  }
  if (idx !== HLL_REGISTERS) return false;
  h.buf = dense;
  h.len = HLL_DENSE_SIZE;
  return true;
}

function promote(h: Hll, index: number, count: number): number {
  if (!sparseToDense(h)) return -1;
  return denseSet(h, index, count);
}

/**
 * Adds element `ele`: 1 when a register changed, 0 when not, -1 when the value is corrupted.
 *
 * @param h the buffer
 * @param ele the element (binary string)
 * @param maxBytes `hll-sparse-max-bytes`
 * @returns the change flag
 * @example
 * ```ts
 * hllAdd(loadHll(HLL_EMPTY), "a", 3000); // 1
 * ```
 */
export function hllAdd(h: Hll, ele: string, maxBytes: number): number {
  const count = patLen(ele);
  const enc = h.buf[4];
  if (enc === HLL_DENSE) return denseSet(h, patIndex, count);
  if (enc === HLL_SPARSE) {
    const r = sparseSet(h, patIndex, count, maxBytes);
    return r === PROMOTE ? promote(h, patIndex, count) : r;
  }
  return -1;
}

/**
 * Raises register `index` to `count` in either encoding (PFMERGE's write of the merged
 * registers); may promote a sparse value.
 *
 * @param h the buffer
 * @param index the register
 * @param count the value
 * @param maxBytes `hll-sparse-max-bytes`
 * @example
 * ```ts
 * hllSetRegister(loadHll(HLL_EMPTY), 0, 3, 3000);
 * ```
 */
export function hllSetRegister(h: Hll, index: number, count: number, maxBytes: number): void {
  if (h.buf[4] === HLL_DENSE) denseSet(h, index, count);
  else if (sparseSet(h, index, count, maxBytes) === PROMOTE) promote(h, index, count);
}

/**
 * Merges `h` into `max` (one byte per register): `max[i] = MAX(max[i], h[i])`. False when the
 * sparse opcodes are corrupted.
 *
 * @param max the merged registers
 * @param h the HyperLogLog to merge in
 * @returns false when `h` is corrupted
 * @example
 * ```ts
 * hllMerge(new Uint8Array(16384), loadHll(HLL_EMPTY)); // true
 * ```
 */
export function hllMerge(max: Uint8Array, h: Hll): boolean {
  const buf = h.buf;
  if (buf[4] === HLL_DENSE) {
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const v = denseGet(buf, HLL_HDR, i);
      if (v > max[i]!) max[i] = v;
    }
    return true;
  }
  let i = 0;
  for (let p = HLL_HDR; p < h.len;) {
    const op = buf[p]!;
    if ((op & 0xc0) === 0) {
      i += (op & 0x3f) + 1;
      p++;
    } else if ((op & 0xc0) === 0x40) {
      i += (((op & 0x3f) << 8) | buf[p + 1]!) + 1;
      p += 2;
    } else {
      let run = (op & 3) + 1;
      const val = ((op >>> 2) & 0x1f) + 1;
      if (run + i > HLL_REGISTERS) return false; // See sparseToDense.
      for (; run > 0; run--, i++) if (val > max[i]!) max[i] = val;
      p++;
    }
  }
  return i === HLL_REGISTERS;
}

export { hllCount, rawCount } from "./hll_count.ts";
