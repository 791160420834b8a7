/**
 * CRC-64/Jones as Redis computes it (reflected, polynomial 0xad93d23594c935a9, no final xor):
 * the checksum of RDB files and DUMP payloads. Slicing-by-8 over tables of two 32-bit halves,
 * kept in int32 range so V8 never boxes the running value (a whole RDB file goes through here).
 *
 * @module
 */

/** Table k, low and high halves: the CRC of byte i followed by k zero bytes. */
const LO: Int32Array[] = [];
const HI: Int32Array[] = [];
{
  // The polynomial, bit-reflected: 0x95ac9329ac4bc9b5.
  const pLo = 0xac4bc9b5 | 0, pHi = 0x95ac9329 | 0;
  const lo0 = new Int32Array(256);
  const hi0 = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let lo = i, hi = 0;
    for (let k = 0; k < 8; k++) {
      const bit = lo & 1;
      lo = (lo >>> 1) | (hi << 31);
      hi = hi >>> 1;
      if (bit) {
        lo ^= pLo;
        hi ^= pHi;
      }
    }
    lo0[i] = lo;
    hi0[i] = hi;
  }
  LO.push(lo0);
  HI.push(hi0);
  for (let t = 1; t < 8; t++) {
    const pl = LO[t - 1]!, ph = HI[t - 1]!;
    const lo = new Int32Array(256), hi = new Int32Array(256);
    for (let i = 0; i < 256; i++) {
      const idx = pl[i]! & 0xff;
      lo[i] = ((pl[i]! >>> 8) | (ph[i]! << 24)) ^ lo0[idx]!;
      hi[i] = (ph[i]! >>> 8) ^ hi0[idx]!;
    }
    LO.push(lo);
    HI.push(hi);
  }
}
const [L0, L1, L2, L3, L4, L5, L6, L7] = LO as [
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
];
const [H0, H1, H2, H3, H4, H5, H6, H7] = HI as [
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
];

/** Continues checksum `crc` over `bytes[start, end)`. */
export function crc64(crc: bigint, bytes: Uint8Array, start = 0, end = bytes.length): bigint {
  let lo = Number(crc & 0xffffffffn) | 0;
  let hi = Number((crc >> 32n) & 0xffffffffn) | 0;
  let i = start;
  for (const stop = end - 8; i <= stop; i += 8) {
    const a = lo ^
      (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    const b = hi ^
      (bytes[i + 4]! | (bytes[i + 5]! << 8) | (bytes[i + 6]! << 16) | (bytes[i + 7]! << 24));
    const c0 = a & 0xff, c1 = (a >>> 8) & 0xff, c2 = (a >>> 16) & 0xff, c3 = a >>> 24;
    const c4 = b & 0xff, c5 = (b >>> 8) & 0xff, c6 = (b >>> 16) & 0xff, c7 = b >>> 24;
    lo = L7[c0]! ^ L6[c1]! ^ L5[c2]! ^ L4[c3]! ^ L3[c4]! ^ L2[c5]! ^ L1[c6]! ^ L0[c7]!;
    hi = H7[c0]! ^ H6[c1]! ^ H5[c2]! ^ H4[c3]! ^ H3[c4]! ^ H2[c5]! ^ H1[c6]! ^ H0[c7]!;
  }
  for (; i < end; i++) {
    const idx = (lo ^ bytes[i]!) & 0xff;
    lo = ((lo >>> 8) | (hi << 24)) ^ L0[idx]!;
    hi = (hi >>> 8) ^ H0[idx]!;
  }
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}
