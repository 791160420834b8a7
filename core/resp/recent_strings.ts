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
  /** The bytes of each string, {@linkcode RECENT_MAX} per slot. */
  private readonly bytes: Uint8Array;
  private readonly mask: number;

  /** @param slots the number of slots, a power of two */
  constructor(slots: number) {
    this.strings = new Array<string>(slots).fill("");
    this.bytes = new Uint8Array(slots * RECENT_MAX);
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
    const bytes = this.bytes;
    const at = slot * RECENT_MAX;
    if (known.length === len) {
      // Against a byte copy of the string: typed array loads beat charCodeAt.
      let i = len - 1;
      while (i >= 0 && u8[p + i] === bytes[at + i]) i--;
      if (i < 0) return known;
    }
    for (let i = 0; i < len; i++) bytes[at + i] = u8[p + i]!;
    return (this.strings[slot] = bytesToStr(u8, p, p + len));
  }
}

/**
 * Recently seen command names, shared by every parser: pipelines and clients repeat a few
 * commands (MULTI, SET, EXEC...), and one table serves them all without costing each connection
 * its own.
 */
const names: string[] = new Array<string>(16).fill("");

/**
 * The command name in bytes `[p, p + len)` of `buf`: recent names are kept in a small table by
 * length and first letter and reused when the bytes match (no allocation, and the string's hash
 * is already computed for the registry lookup).
 *
 * @param buf the bytes
 * @param p where the name starts
 * @param len its length
 * @returns the name as a binary string
 */
export function commandName(buf: Uint8Array, p: number, len: number): string {
  const slot = (len * 7 + (buf[p]! | 32)) & 15;
  const known = names[slot]!;
  if (known.length === len) {
    let same = true;
    for (let i = 0; i < len; i++) {
      if (buf[p + i] !== known.charCodeAt(i)) {
        same = false;
        break;
      }
    }
    if (same) return known;
  }
  return (names[slot] = bytesToStr(buf, p, p + len));
}
