/**
 * The HyperLogLog cardinality estimate of Redis 7.0: a histogram of the register values fed to
 * Otmar Ertl's estimator ("New cardinality estimation algorithms for HyperLogLog sketches",
 * arXiv:1702.01284), rounded as `llroundl` does.
 *
 * @module
 */

import type { Hll } from "./hll.ts";

const M = 16384;
const Q = 50;
const ALPHA_INF = 0.721347520444481703680; // 0.5 / ln(2)

const histo = new Float64Array(64);

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  let prev: number;
  do {
    x *= x;
    prev = z;
    z += x * y;
    y += y;
  } while (prev !== z);
  return z;
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let prev: number;
  do {
    x = Math.sqrt(x);
    prev = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
  } while (prev !== z);
  return z / 3;
}

function estimate(): number {
  let z = M * tau((M - histo[Q + 1]!) / M);
  for (let j = Q; j >= 1; j--) {
    z += histo[j]!;
    z *= 0.5;
  }
  z += M * sigma(histo[0]! / M);
  return Math.round(ALPHA_INF * M * M / z);
}

/**
 * The estimated cardinality of a dense or sparse HyperLogLog, or -1 when the sparse opcodes do
 * not cover exactly 16384 registers (Redis's `hllCount` with its `invalid` flag).
 *
 * @param h the value's buffer
 * @returns the estimate, or -1
 * @example
 * ```ts
 * hllCount(loadHll(HLL_EMPTY)); // 0
 * ```
 */
export function hllCount(h: Hll): number {
  histo.fill(0);
  const buf = h.buf;
  if (buf[4] === 0) {
    // Four registers in every three bytes.
    for (let p = 16; p < 16 + 12288; p += 3) {
      const b0 = buf[p]!;
      const b1 = buf[p + 1]!;
      const b2 = buf[p + 2]!;
      histo[b0 & 63]!++;
      histo[((b0 >>> 6) | (b1 << 2)) & 63]!++;
      histo[((b1 >>> 4) | (b2 << 4)) & 63]!++;
      histo[b2 >>> 2]!++;
    }
    return estimate();
  }
  let idx = 0;
  for (let p = 16; p < h.len;) {
    const op = buf[p]!;
    if ((op & 0xc0) === 0) {
      const run = (op & 0x3f) + 1;
      idx += run;
      histo[0]! += run;
      p++;
    } else if ((op & 0xc0) === 0x40) {
      const run = (((op & 0x3f) << 8) | buf[p + 1]!) + 1;
      idx += run;
      histo[0]! += run;
      p += 2;
    } else {
      const run = (op & 3) + 1;
      idx += run;
      histo[((op >>> 2) & 0x1f) + 1]! += run;
      p++;
    }
  }
  return idx === M ? estimate() : -1;
}

/**
 * The estimated cardinality of registers held one per byte (PFCOUNT of several keys).
 *
 * @param regs 16384 register values
 * @returns the estimate
 * @example
 * ```ts
 * rawCount(new Uint8Array(16384)); // 0
 * ```
 */
export function rawCount(regs: Uint8Array): number {
  histo.fill(0);
  for (let i = 0; i < M; i++) histo[regs[i]!]!++;
  return estimate();
}
