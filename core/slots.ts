/**
 * Hash slots of keys (Redis Cluster): CRC16 (the XMODEM variant: polynomial 0x1021, initial
 * value 0, no reflection, as Redis's crc16.c) of the key, or of its `{hashtag}`, modulo 16384.
 *
 * @module
 */

const TABLE: Uint16Array = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let b = 0; b < 8; b++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    t[i] = crc;
  }
  return t;
})();

/**
 * CRC16-XMODEM of characters `[start, end)` of a binary string (one byte per character).
 *
 * @param s the binary string
 * @param start first character
 * @param end one past the last character
 * @returns the checksum
 */
export function crc16(s: string, start = 0, end = s.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ s.charCodeAt(i)) & 0xff]!;
  }
  return crc;
}

/**
 * The hash slot of a key: only the part between the first `{` and the first `}` after it is
 * hashed, when that part is not empty.
 *
 * @example
 * ```ts
 * import { keyHashSlot } from "./slots.ts";
 *
 * keyHashSlot("foo"); // 12182, as CLUSTER KEYSLOT foo answers
 * keyHashSlot("{user:1}:cart") === keyHashSlot("user:1"); // true
 * ```
 *
 * @param key the key (a binary string)
 * @returns the slot, 0..16383
 */
export function keyHashSlot(key: string): number {
  const s = key.indexOf("{");
  if (s !== -1) {
    const e = key.indexOf("}", s + 1);
    if (e !== -1 && e !== s + 1) return crc16(key, s + 1, e) & 0x3fff;
  }
  return crc16(key) & 0x3fff;
}
