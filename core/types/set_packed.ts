/**
 * A small set of strings held as packed entries (packed.ts) in insertion order: the form Redis
 * 7.2 gave small sets (its `set-max-listpack-entries` 128 and `-value` 64). Redis 7.0 keeps
 * such sets in a hashtable, and that is what OBJECT ENCODING keeps answering; only the memory
 * differs (about 10 bytes for an 8-byte member instead of about 90). A lookup walks the entries,
 * as Redis 7.2 walks its listpack; the size limit keeps the walk short.
 *
 * @module
 */

import { copy, entry, findEntry, flat, foundNext, packedAt, readHeader } from "./packed.ts";

/** Most members a packed set holds (Redis 7.2's `set-max-listpack-entries` default). */
export const PACKED_SET_ENTRIES = 128;
/** Longest member a packed set holds (Redis 7.2's `set-max-listpack-value` default). */
export const PACKED_SET_VALUE = 64;

/** Where {@linkcode PackedSet.find} found a member: the end of its entry. */
let foundEnd = 0;

/** A small set of strings in one packed string. */
export class PackedSet {
  /** The members as packed entries. */
  s = "";
  /** Number of members. */
  size = 0;
  // The last position at() reached, so that a walk by increasing index is linear overall.
  private atIndex = -1;
  private atPos = 0;

  /** Where `member`'s entry starts, or -1; sets foundEnd. */
  private find(member: string): number {
    const pos = findEntry(this.s, member, false);
    foundEnd = foundNext;
    return pos;
  }

  /** True when `member` is in the set. */
  has(member: string): boolean {
    return this.find(member) >= 0;
  }

  /** Adds `member` (the caller checked the limits); true when it is new. */
  add(member: string): boolean {
    if (this.find(member) >= 0) return false;
    this.s = flat(this.s, entry(member));
    this.size++;
    this.atIndex = -1;
    return true;
  }

  /** Removes `member`; true when it was there. */
  remove(member: string): boolean {
    const at = this.find(member);
    if (at < 0) return false;
    this.s = flat(this.s.slice(0, at), this.s.slice(foundEnd));
    this.size--;
    this.atIndex = -1;
    return true;
  }

  /**
   * The member at position `i` (0 <= i < size), as a string of its own (not a view of the
   * packed string, so it can be stored elsewhere without keeping this set's string alive).
   */
  at(i: number): string {
    const s = this.s;
    let k = 0;
    let pos = 0;
    if (this.atIndex >= 0 && this.atIndex <= i) {
      k = this.atIndex;
      pos = this.atPos;
    }
    for (; k < i; k++) pos = readHeader(s, pos);
    this.atIndex = i;
    this.atPos = pos;
    const end = readHeader(s, pos);
    return copy(s.slice(packedAt, end));
  }

  /** Every member in insertion order. */
  members(): string[] {
    const s = this.s;
    const out: string[] = new Array(this.size);
    for (let pos = 0, k = 0; pos < s.length; k++) {
      pos = readHeader(s, pos);
      out[k] = s.slice(packedAt, pos);
    }
    return out;
  }
}
