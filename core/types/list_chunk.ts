/**
 * One node of a list: up to {@linkcode CHUNK} elements packed in one binary string, like a node
 * of Redis's quicklist is one listpack. Each element is its length as a varint, its bytes, then
 * its length again with the varint's chars reversed (Redis's listpack "backlen"), so the chunk
 * can be walked from either end: a pop at the tail does not walk from the head.
 *
 * A chunk's string is replaced on every change (a push copies the chunk, as Redis's listpack
 * insert moves its bytes); chunks are capped at {@linkcode CHUNK} elements and about
 * {@linkcode CHUNK_BYTES} bytes, Redis's `list-max-listpack-size -2` (8 KB nodes), so a copy
 * stays short.
 *
 * @module
 */

import { copy, flat, packedAt, packedLen, readHeader } from "./packed.ts";

/** Most elements a chunk holds. */
export const CHUNK = 128;
/** A chunk takes no more element once its string is this long (unless it is empty). */
export const CHUNK_BYTES = 8192;

/** Header chars of the short lengths, made once. */
const SHORT: string[] = Array.from({ length: 0x80 }, (_, n) => String.fromCharCode(n));

/** Varint chars of `len`, little-endian groups, high bit on all but the last. */
function lenChars(len: number): string[] {
  const out: string[] = [];
  while (len >= 0x80) {
    out.push(String.fromCharCode((len % 0x80) | 0x80));
    len = Math.floor(len / 0x80);
  }
  out.push(String.fromCharCode(len));
  return out;
}

/**
 * An element as a chunk stores it: length, bytes, reversed length.
 *
 * @param v the element
 * @returns its encoded form
 */
export function chunkEntry(v: string): string {
  if (v.length < 0x80) {
    const h = SHORT[v.length]!;
    return flat(h, v, h);
  }
  const h = lenChars(v.length);
  return flat(h.join(""), v, h.reverse().join(""));
}

/** After {@linkcode entryBefore}: where the element's bytes start and its length. */
let backAt = 0;
let backLen = 0;

/**
 * Reads the element that ends at `end` (walking backwards), setting backAt and backLen.
 *
 * @returns where that element's encoding starts
 */
function entryBefore(s: string, end: number): number {
  let p = end - 1;
  let c = s.charCodeAt(p);
  let len = c & 0x7f;
  let groups = 1;
  // Reversed varint: the chars read backwards are the low groups first.
  let shift = 7;
  while (c & 0x80) {
    c = s.charCodeAt(--p);
    len += (c & 0x7f) * 2 ** shift;
    shift += 7;
    groups++;
  }
  backLen = len;
  backAt = p - len;
  return backAt - groups;
}

/** Where the element after the one at `pos` starts (its bytes: packedAt, packedLen). */
function entryAfter(s: string, pos: number): number {
  const end = readHeader(s, pos);
  // Skip the reversed length: as many chars as the header took.
  return end + (packedAt - pos);
}

/** A list node. */
export class Chunk {
  /**
   * @param s the packed elements
   * @param n how many
   */
  constructor(public s = "", public n = 0) {}

  /** True when one more element of `len` bytes should go to a new chunk instead. */
  full(len: number): boolean {
    return this.n >= CHUNK || (this.n > 0 && this.s.length + len > CHUNK_BYTES);
  }

  /** The offset where element `i` (0 <= i <= n) starts, walking from the nearer end. */
  offset(i: number): number {
    const s = this.s;
    if (i <= this.n >> 1) {
      let pos = 0;
      for (let k = 0; k < i; k++) pos = entryAfter(s, pos);
      return pos;
    }
    let pos = s.length;
    for (let k = this.n; k > i; k--) pos = entryBefore(s, pos);
    return pos;
  }

  /** Element `i` (0 <= i < n). */
  get(i: number): string {
    const pos = this.offset(i);
    readHeader(this.s, pos);
    return this.s.slice(packedAt, packedAt + packedLen);
  }

  /** Replaces element `i` (0 <= i < n). */
  set(i: number, v: string): void {
    const s = this.s;
    const pos = this.offset(i);
    this.s = flat(s.slice(0, pos), chunkEntry(v), s.slice(entryAfter(s, pos)));
  }

  /** Inserts `v` before element `i` (0 <= i <= n). */
  insertAt(i: number, v: string): void {
    const s = this.s;
    const pos = i === this.n ? s.length : this.offset(i);
    this.s = flat(s.slice(0, pos), chunkEntry(v), s.slice(pos));
    this.n++;
  }

  pushBack(v: string): void {
    if (v.length < 0x80) {
      const h = SHORT[v.length]!;
      this.s = flat(this.s, h, v, h);
    } else this.s = flat(this.s, chunkEntry(v));
    this.n++;
  }

  pushFront(v: string): void {
    if (v.length < 0x80) {
      const h = SHORT[v.length]!;
      this.s = flat(h, v, h, this.s);
    } else this.s = flat(chunkEntry(v), this.s);
    this.n++;
  }

  popFront(): string {
    const s = this.s;
    const next = entryAfter(s, 0);
    const v = copy(s.slice(packedAt, packedAt + packedLen));
    this.s = copy(s.slice(next));
    this.n--;
    return v;
  }

  popBack(): string {
    const s = this.s;
    const start = entryBefore(s, s.length);
    const v = copy(s.slice(backAt, backAt + backLen));
    this.s = copy(s.slice(0, start));
    this.n--;
    return v;
  }

  /** Drops the first `k` elements. */
  dropFront(k: number): void {
    this.s = copy(this.s.slice(this.offset(k)));
    this.n -= k;
  }

  /** Drops the last `k` elements. */
  dropBack(k: number): void {
    this.s = copy(this.s.slice(0, this.offset(this.n - k)));
    this.n -= k;
  }

  /** Every element, head to tail. */
  items(): string[] {
    const s = this.s;
    const out: string[] = new Array(this.n);
    for (let pos = 0, k = 0; pos < s.length; k++) {
      pos = entryAfter(s, pos);
      out[k] = s.slice(packedAt, packedAt + packedLen);
    }
    return out;
  }

  /**
   * Copies elements from `from` on into `out` from position `at`, until `out` is full or the
   * chunk ends.
   *
   * @returns the next free position of `out`
   */
  readInto(from: number, out: string[], at: number): number {
    const s = this.s;
    for (let pos = this.offset(from); pos < s.length && at < out.length;) {
      pos = entryAfter(s, pos);
      out[at++] = s.slice(packedAt, packedAt + packedLen);
    }
    return at;
  }

  /** Replaces the contents with `items`. */
  assign(items: readonly string[]): void {
    const parts: string[] = new Array(items.length);
    for (let k = 0; k < items.length; k++) parts[k] = chunkEntry(items[k]!);
    this.s = parts.join("");
    this.n = items.length;
  }
}
