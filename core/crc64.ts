/**
 * CRC-64/Jones as Redis computes it (reflected, polynomial 0xad93d23594c935a9, no final xor):
 * the checksum of RDB files and DUMP payloads. Table-driven over two 32-bit halves.
 *
 * @module
 */

const LO = new Uint32Array(256);
const HI = new Uint32Array(256);
{
  // The polynomial, bit-reflected: 0x95ac9329ac4bc9b5.
  const pLo = 0xac4bc9b5, pHi = 0x95ac9329;
  for (let i = 0; i < 256; i++) {
    let lo = i, hi = 0;
    for (let k = 0; k < 8; k++) {
      const bit = lo & 1;
      lo = ((lo >>> 1) | (hi << 31)) >>> 0;
      hi = hi >>> 1;
      if (bit) {
        lo = (lo ^ pLo) >>> 0;
        hi = (hi ^ pHi) >>> 0;
      }
    }
    LO[i] = lo;
    HI[i] = hi;
  }
}

/** Continues checksum `crc` over `bytes[start, end)`. */
export function crc64(crc: bigint, bytes: Uint8Array, start = 0, end = bytes.length): bigint {
  let lo = Number(crc & 0xffffffffn) >>> 0;
  let hi = Number((crc >> 32n) & 0xffffffffn) >>> 0;
  for (let i = start; i < end; i++) {
    const idx = (lo ^ bytes[i]!) & 0xff;
    lo = (((lo >>> 8) | (hi << 24)) ^ LO[idx]!) >>> 0;
    hi = ((hi >>> 8) ^ HI[idx]!) >>> 0;
  }
  return (BigInt(hi) << 32n) | BigInt(lo);
}
