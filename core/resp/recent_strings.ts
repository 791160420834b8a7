/**
 * A small table of strings recently made from short byte runs (keys, members, fields, script
 * SHAs): requests and scripts keep naming the same keys, and a string met again is reused, so it
 * is not allocated again and its hash (computed by the first Map lookup) is kept. Slots are
 * chosen by length and first and last byte; each keeps its string's bytes beside it, compared
 * from the end (keys that differ tend to differ in their last chars: `user:1001`, `user:1002`).
 * Command names have a table of their own ({@linkcode commandName}).
 *
 * @module
 */

import { bytesToStr } from "../bytes.ts";

/** Byte runs up to this long are looked up; longer ones should be decoded directly. */
export const RECENT_MAX = 48;

/** A table of recently made strings (see the module doc). */
export class RecentStrings {
  private readonly strings: string[];
  /**
   * The bytes of each string, {@linkcode RECENT_MAX} per slot, four to a word (the first in the
   * low byte, a short last word padded with zeros): compared a word at a time.
   */
  private readonly words: Int32Array;
  private readonly mask: number;

  /** @param slots the number of slots, a power of two */
  constructor(slots: number) {
    this.strings = new Array<string>(slots).fill("");
    this.words = new Int32Array(slots * (RECENT_MAX >> 2));
    this.mask = slots - 1;
  }

  /**
   * Bytes `[p, p + len)` of `u8` as a binary string, reused when the same bytes came lately.
   *
   * @param u8 the bytes
   * @param p where the run starts
   * @param len its length, 1 to {@linkcode RECENT_MAX}
   * @returns the string
   */
  get(u8: Uint8Array, p: number, len: number): string {
    const slot = (len * 31 + u8[p + len - 1]! * 7 + u8[p]!) & this.mask;
    const known = this.strings[slot]!;
    const words = this.words;
    const at = slot * (RECENT_MAX >> 2);
    const end = p + len;
    if (known.length === len) {
      // From the end: keys that differ tend to differ in their last chars.
      let w = at + ((len - 1) >> 2);
      let q = p + ((len - 1) & ~3);
      if (word(u8, q, end) === words[w]) {
        while (q > p && word4(u8, q - 4) === words[w - 1]) {
          q -= 4;
          w--;
        }
        if (q === p) return known;
      }
    }
    for (let q = p, w = at; q < end; q += 4, w++) words[w] = word(u8, q, end);
    return (this.strings[slot] = bytesToStr(u8, p, end));
  }
}

/** Bytes `[q, q + 4)` of `u8` as a word, the first in the low byte. */
function word4(u8: Uint8Array, q: number): number {
  return u8[q]! | (u8[q + 1]! << 8) | (u8[q + 2]! << 16) | (u8[q + 3]! << 24);
}

/** Bytes `[q, min(q + 4, end))` of `u8` as a word, padded with zeros. */
function word(u8: Uint8Array, q: number, end: number): number {
  if (end - q >= 4) return word4(u8, q);
  let x = 0;
  for (let i = end - q - 1; i >= 0; i--) x = (x << 8) | u8[q + i]!;
  return x;
}

/**
 * Recently seen command names, shared by every parser: pipelines and clients repeat a few
 * commands (MULTI, SET, EXEC...), and one table serves them all without costing each connection
 * its own. Slots by length and first letter; each keeps its name's bytes as four words.
 */
const names: string[] = new Array<string>(16).fill("");
const nameWords = new Int32Array(16 * 4);

/**
 * The command name in bytes `[p, p + len)` of `buf` (up to 16 bytes): recent names are reused
 * when the bytes match (no allocation, and the string's hash is already computed for the
 * registry lookup).
 *
 * @param buf the bytes
 * @param p where the name starts
 * @param len its length, at most 16
 * @returns the name as a binary string
 */
export function commandName(buf: Uint8Array, p: number, len: number): string {
  const slot = (len * 7 + (buf[p]! | 32)) & 15;
  const known = names[slot]!;
  const end = p + len;
  let w = slot * 4;
  if (known.length === len) {
    let q = p;
    while (q < end && word(buf, q, end) === nameWords[w]) {
      q += 4;
      w++;
    }
    if (q >= end) return known;
    w = slot * 4;
  }
  for (let q = p; q < end; q += 4, w++) nameWords[w] = word(buf, q, end);
  return (names[slot] = bytesToStr(buf, p, end));
}
