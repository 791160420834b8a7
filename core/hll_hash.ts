/**
 * The element hash of Redis's HyperLogLog: MurmurHash64A (endian-neutral, seed `0xadc83b19`),
 * computed on 32-bit halves with `Math.imul` so that no BigInt is allocated per element, and
 * the register index / run length Redis derives from it (`hllPatLen`).
 *
 * @module
 */

// The multiplier 0xc6a4a7935bd1e995 in halves, and the low half in 16-bit pieces.
const M_HI = 0xc6a4a793;
const M_LO = 0x5bd1e995;
const M_LO0 = M_LO & 0xffff;
const M_LO1 = M_LO >>> 16;
const SEED = 0xadc83b19;

// Results live in typed arrays, not in module variables: a 32-bit value past 2^30 stored in a
// variable of the module is a heap number, one allocation per store (the profile of PFADD
// showed murmur, mulM and "(program)" at 25% of its time with those).
/** The result of the last mulM call: low half, high half. */
const R = new Uint32Array(2);
/** The hash of the last murmur call: low half, high half. */
const H = new Uint32Array(2);

/** (hi, lo) * m modulo 2^64, into R. */
function mulM(hi: number, lo: number): void {
  const a0 = lo & 0xffff;
  const a1 = lo >>> 16;
  const p00 = a0 * M_LO0;
  const p01 = a0 * M_LO1;
  const p10 = a1 * M_LO0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  // High 32 bits of the full product lo * M_LO, then the cross terms (their low halves only).
  const carry = a1 * M_LO1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  R[0] = Math.imul(lo, M_LO);
  R[1] = carry + Math.imul(hi, M_LO) + Math.imul(lo, M_HI);
}

/**
 * MurmurHash64A of the binary string `s` with Redis's HyperLogLog seed; the result is left in
 * H (no allocation).
 */
function murmur(s: string): void {
  const len = s.length;
  mulM(0, len);
  let hHi = R[1]!;
  let hLo = (R[0]! ^ SEED) >>> 0;
  const end = len - (len & 7);
  let i = 0;
  for (; i < end; i += 8) {
    const kLo = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) |
      (s.charCodeAt(i + 3) << 24);
    const kHi = s.charCodeAt(i + 4) | (s.charCodeAt(i + 5) << 8) |
      (s.charCodeAt(i + 6) << 16) | (s.charCodeAt(i + 7) << 24);
    mulM(kHi >>> 0, kLo >>> 0);
    // k ^= k >> 47 only touches the low half.
    const rHi = R[1]!;
    mulM(rHi, (R[0]! ^ (rHi >>> 15)) >>> 0);
    mulM((hHi ^ R[1]!) >>> 0, (hLo ^ R[0]!) >>> 0);
    hHi = R[1]!;
    hLo = R[0]!;
  }
  const tail = len & 7;
  if (tail !== 0) {
    let tLo = 0;
    let tHi = 0;
    for (let j = tail - 1; j >= 0; j--) {
      const b = s.charCodeAt(i + j);
      if (j >= 4) tHi |= b << ((j - 4) * 8);
      else tLo |= b << (j * 8);
    }
    mulM((hHi ^ tHi) >>> 0, (hLo ^ tLo) >>> 0);
    hHi = R[1]!;
    hLo = R[0]!;
  }
  mulM(hHi, (hLo ^ (hHi >>> 15)) >>> 0);
  H[1] = R[1]!;
  H[0] = R[0]! ^ (R[1]! >>> 15);
}

/**
 * The 64-bit MurmurHash64A of `s` (seed `0xadc83b19`) as a bigint, for tests and debugging; the
 * hot path uses {@linkcode patLen}.
 *
 * @param s a binary string
 * @returns the hash
 * @example
 * ```ts
 * hllHash("a"); // the same value Redis computes for element "a"
 * ```
 */
export function hllHash(s: string): bigint {
  murmur(s);
  return (BigInt(H[1]!) << 32n) | BigInt(H[0]!);
}

/** The register index of the last {@linkcode patLen} call. */
export let patIndex = 0;

/**
 * Hashes element `s` and returns the length of its `000..1` pattern (1 to 51) past the 14 index
 * bits; the register index is left in {@linkcode patIndex}. Redis's `hllPatLen`.
 *
 * @param s the element, a binary string
 * @returns the run length
 * @example
 * ```ts
 * const count = patLen("foo");
 * const register = patIndex;
 * ```
 */
export function patLen(s: string): number {
  murmur(s);
  const hLo = H[0]!;
  const hHi = H[1]!;
  patIndex = hLo & 0x3fff;
  // hash >> 14 with bit 50 set so that the run ends: the low and high words of that value.
  const vLo = (hLo >>> 14) | (hHi << 18);
  if (vLo !== 0) return 32 - Math.clz32(vLo & -vLo);
  const vHi = (hHi >>> 14) | (1 << 18);
  return 64 - Math.clz32(vHi & -vHi);
}
