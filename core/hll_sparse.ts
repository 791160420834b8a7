/**
 * Updates of the sparse HyperLogLog encoding, byte for byte as Redis makes them. The opcodes:
 * ZERO `00xxxxxx` (1-64 zero registers), XZERO `01xxxxxx yyyyyyyy` (1-16384 zero registers), VAL
 * `1vvvvvxx` (1-4 registers of value 1-32).
 *
 * @module
 */

import type { Hll } from "./hll.ts";

const HDR = 16;
const ZERO_MAX = 64;
const VAL_MAX_VALUE = 32;
const VAL_MAX_LEN = 4;

/** {@linkcode sparseSet}'s answer when the value must become dense first. */
export const PROMOTE = 2;

function ensureRoom(h: Hll, extra: number): void {
  if (h.len + extra <= h.buf.length) return;
  const bigger = new Uint8Array(Math.max(h.len + extra, h.buf.length * 2));
  bigger.set(h.buf.subarray(0, h.len));
  h.buf = bigger;
}

/** Writes a ZERO or XZERO opcode for `len` registers at `seq[n]`; returns the next position. */
function putZeros(seq: number[], n: number, len: number): number {
  if (len > ZERO_MAX) {
    seq[n] = ((len - 1) >>> 8) | 0x40;
    seq[n + 1] = (len - 1) & 0xff;
    return n + 2;
  }
  seq[n] = len - 1;
  return n + 1;
}

function valOp(val: number, len: number): number {
  return ((val - 1) << 2) | (len - 1) | 0x80;
}

const seq: number[] = [0, 0, 0, 0, 0];

/**
 * Raises sparse register `index` to `count`, splitting the opcode that covers it and merging
 * equal neighbours as Redis does (`hllSparseSet`). Returns 1 when the register changed, 0 when
 * not, -1 when the opcodes are corrupted, and {@linkcode PROMOTE} (the value is unchanged) when
 * `count` exceeds 32 or the value would grow past `maxBytes`.
 *
 * @param h the buffer, sparse
 * @param index the register
 * @param count the new value, if larger
 * @param maxBytes `hll-sparse-max-bytes`
 * @returns the outcome
 * @example
 * ```ts
 * sparseSet(loadHll(HLL_EMPTY), 0, 3, 3000); // 1
 * ```
 */
export function sparseSet(h: Hll, index: number, count: number, maxBytes: number): number {
  if (count > VAL_MAX_VALUE) return PROMOTE;
  ensureRoom(h, 3);
  let buf = h.buf;
  let end = h.len;
  let p = HDR;
  let first = 0;
  let prev = -1;
  let span = 0;
  while (p < end) {
    const op = buf[p]!;
    let oplen = 1;
    if ((op & 0xc0) === 0) span = (op & 0x3f) + 1;
    else if (op & 0x80) span = (op & 3) + 1;
    else {
      span = (((op & 0x3f) << 8) | buf[p + 1]!) + 1;
      oplen = 2;
    }
    if (index <= first + span - 1) break;
    prev = p;
    p += oplen;
    first += span;
  }
  if (span === 0 || p >= end) return -1;
  const op = buf[p]!;
  const isXzero = (op & 0xc0) === 0x40;
  const isVal = (op & 0x80) !== 0;
  const isZero = !isXzero && !isVal;
  let next = isXzero ? p + 2 : p + 1;
  if (next >= end) next = -1;
  const runlen = isZero ? (op & 0x3f) + 1 : isXzero ? span : (op & 3) + 1;

  let updated = false;
  if (isVal) {
    const old = ((op >>> 2) & 0x1f) + 1;
    if (old >= count) return 0;
    if (runlen === 1) {
      buf[p] = valOp(count, 1);
      updated = true;
    }
  }
  if (!updated && isZero && runlen === 1) {
    buf[p] = valOp(count, 1);
    updated = true;
  }
  if (!updated) {
    // Split the opcode into up to three: before, our register, after.
    const last = first + span - 1;
    let n = 0;
    if (isVal) {
      const cur = ((op >>> 2) & 0x1f) + 1;
      if (index !== first) seq[n++] = valOp(cur, index - first);
      seq[n++] = valOp(count, 1);
      if (index !== last) seq[n++] = valOp(cur, last - index);
    } else {
      if (index !== first) n = putZeros(seq, n, index - first);
      seq[n++] = valOp(count, 1);
      if (index !== last) n = putZeros(seq, n, last - index);
    }
    const delta = n - (isXzero ? 2 : 1);
    if (delta > 0 && end + delta > maxBytes) return PROMOTE;
    if (delta !== 0 && next >= 0) buf.copyWithin(next + delta, next, end);
    end += delta;
    // Redis keeps a NUL past the value and reads it as the second byte of a truncated XZERO:
    // written before the new opcodes, as sdsIncrLen does before the copy.
    buf[end] = 0;
    for (let i = 0; i < n; i++) buf[p + i] = seq[i]!;
  }
  // Merge adjacent VAL opcodes of the same value, scanning up to 5 opcodes from prev.
  p = prev >= 0 ? prev : HDR;
  buf = h.buf;
  let scan = 5;
  while (p < end && scan--) {
    const o = buf[p]!;
    if ((o & 0xc0) === 0x40) {
      p += 2;
      continue;
    }
    if ((o & 0xc0) === 0) {
      p++;
      continue;
    }
    if (p + 1 < end && buf[p + 1]! & 0x80) {
      const o2 = buf[p + 1]!;
      if (((o >>> 2) & 0x1f) === ((o2 >>> 2) & 0x1f)) {
        const len = (o & 3) + (o2 & 3) + 2;
        if (len <= VAL_MAX_LEN) {
          buf[p + 1] = valOp(((o >>> 2) & 0x1f) + 1, len);
          buf.copyWithin(p, p + 1, end);
          buf[--end] = 0;
          continue;
        }
      }
    }
    p++;
  }
  h.len = end;
  h.buf[15]! |= 0x80; // The cached cardinality is stale.
  return 1;
}
