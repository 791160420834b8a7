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

import { bytesToStr } from "../bytes.ts";
import { copy, flat, flatten, lenChars, packedAt, packedLen, readHeader } from "./packed.ts";

/** Most elements a chunk holds. */
export const CHUNK = 128;
/** A chunk takes no more element once its string is this long (unless it is empty). */
export const CHUNK_BYTES = 8192;

/** Header chars of the short lengths, made once. */
const SHORT: string[] = Array.from({ length: 0x80 }, (_, n) => String.fromCharCode(n));

/**
 * An element as a chunk stores it: length, bytes, reversed length. Not flat: the caller adds it
 * to the rest of the chunk and flattens the whole once (packed.ts's flatten).
 *
 * @param v the element
 * @returns its encoded form
 */
function chunkEntry(v: string): string {
  if (v.length < 0x80) {
    const h = SHORT[v.length]!;
    return h + v + h;
  }
  const h = lenChars(v.length);
  return h.join("") + v + h.reverse().join("");
}

/** Staged elements whose entries take at most this many bytes are packed in {@linkcode scratch}. */
const SCRATCH = 256;
const scratch = new Uint8Array(SCRATCH);

/**
 * The chunk entries of `items` (last first when `reversed`), as one flat string. Short ones are
 * written as bytes and made a string once: adding each element's header, bytes and reversed
 * header with `+` allocated three strings per element, the larger part of a settle's cost
 * (CPU profile of LPUSH: settle 8% of the command path, chunkEntry and the joins most of it).
 */
function packStaged(items: readonly string[], reversed: boolean): string {
  const n = items.length;
  let bytes = 2 * n;
  let longest = 0;
  for (let k = 0; k < n; k++) {
    const len = items[k]!.length;
    bytes += len;
    if (len > longest) longest = len;
  }
  if (bytes > SCRATCH || longest >= 0x80) {
    let out = "";
    if (reversed) { for (let k = n - 1; k >= 0; k--) out += chunkEntry(items[k]!); }
    else for (let k = 0; k < n; k++) out += chunkEntry(items[k]!);
    return out;
  }
  const buf = scratch;
  let p = 0;
  for (let j = 0; j < n; j++) {
    const v = items[reversed ? n - 1 - j : j]!;
    const len = v.length;
    // Every element here is under 128 bytes: its length is one header char.
    buf[p++] = len;
    for (let i = 0; i < len; i++) buf[p++] = v.charCodeAt(i);
    buf[p++] = len;
  }
  return bytesToStr(buf, 0, p);
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

/**
 * Elements pushed at either end wait in a small array until this many are there (or the chunk
 * is read otherwise), then go into the packed string together: a push copies the chunk's string
 * once per this many pushes, not on every push.
 */
const STAGE = 8;

/** A list node. */
export class Chunk {
  /** The packed elements; only `[lo, hi)` is live (pops move the bounds, not the bytes). */
  private s: string;
  private lo = 0;
  private hi: number;
  /** Elements in `[lo, hi)`. */
  private packedN: number;
  /** Pushed at the head and not packed yet; the last one is the first element. */
  private front: string[] | null = null;
  /** Pushed at the tail and not packed yet, in order. */
  private back: string[] | null = null;
  /** Bytes of the staged elements, counted as packed (each with two header chars). */
  private staged = 0;

  /**
   * @param s the packed elements
   * @param n how many
   */
  constructor(s = "", n = 0) {
    this.s = s;
    this.hi = s.length;
    this.packedN = n;
  }

  /** Number of elements. */
  get n(): number {
    return this.packedN + (this.front?.length ?? 0) + (this.back?.length ?? 0);
  }

  /** Bytes the elements take packed (what the chunk's string has or will have). */
  get bytes(): number {
    return this.hi - this.lo + this.staged;
  }

  /**
   * Heap bytes beyond the packed bytes: the object (24 + 8 fields), the string's header, and
   * while pushes are staged their arrays (16 + 8 slots) and each staged element's string header
   * and slot (24; its bytes are in {@linkcode bytes}).
   */
  get overhead(): number {
    let b = 24 + 8 * 8 + 16;
    if (this.front !== null) b += 16 + 64 + this.front.length * 24;
    if (this.back !== null) b += 16 + 64 + this.back.length * 24;
    return b;
  }

  /** True when one more element of `len` bytes should go to a new chunk instead. */
  full(len: number): boolean {
    return this.n >= CHUNK || (this.n > 0 && this.bytes + len > CHUNK_BYTES);
  }

  /** The packed string of every element (staged pushes packed, popped bytes dropped). */
  packed(): string {
    this.settle();
    return this.s;
  }

  /** Packs staged pushes and drops popped bytes: afterwards `s` is exactly the elements. */
  private settle(): void {
    const front = this.front;
    const back = this.back;
    if (front === null && back === null) {
      if (this.lo !== 0 || this.hi !== this.s.length) {
        this.s = copy(this.s.slice(this.lo, this.hi));
        this.lo = 0;
        this.hi = this.s.length;
      }
      return;
    }
    const head = front !== null ? packStaged(front, true) : "";
    const tail = back !== null ? packStaged(back, false) : "";
    this.s = flat(head, this.s.slice(this.lo, this.hi), tail);
    this.lo = 0;
    this.hi = this.s.length;
    this.packedN = this.n;
    this.front = this.back = null;
    this.staged = 0;
  }

  /** After a pop: drops the popped bytes once they outweigh the live ones. */
  private trimmed(): void {
    if (this.packedN === 0) {
      this.s = "";
      this.lo = this.hi = 0;
    } else if (this.s.length - (this.hi - this.lo) > this.hi - this.lo && this.s.length > 256) {
      this.s = copy(this.s.slice(this.lo, this.hi));
      this.lo = 0;
      this.hi = this.s.length;
    }
  }

  /** The offset where element `i` (0 <= i <= n) starts, walking from the nearer end. */
  private offset(i: number): number {
    this.settle();
    const s = this.s;
    if (i <= this.packedN >> 1) {
      let pos = 0;
      for (let k = 0; k < i; k++) pos = entryAfter(s, pos);
      return pos;
    }
    let pos = s.length;
    for (let k = this.packedN; k > i; k--) pos = entryBefore(s, pos);
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
    const pos = this.offset(i);
    const s = this.s;
    this.s = flat(s.slice(0, pos), chunkEntry(v), s.slice(entryAfter(s, pos)));
    this.hi = this.s.length;
  }

  /** Inserts `v` before element `i` (0 <= i <= n). */
  insertAt(i: number, v: string): void {
    const pos = this.offset(i);
    const s = this.s;
    this.s = flat(s.slice(0, pos), chunkEntry(v), s.slice(pos));
    this.hi = this.s.length;
    this.packedN++;
  }

  pushBack(v: string): void {
    (this.back ??= []).push(v);
    this.staged += v.length + 2 * (entrySizeOf(v.length));
    if (this.back.length >= STAGE) this.settle();
  }

  pushFront(v: string): void {
    (this.front ??= []).push(v);
    this.staged += v.length + 2 * (entrySizeOf(v.length));
    if (this.front.length >= STAGE) this.settle();
  }

  popFront(): string {
    if (this.front !== null && this.front.length > 0) return this.unstage(this.front.pop()!);
    if (this.packedN === 0) return this.unstage(this.back!.shift()!);
    const s = this.s;
    const next = entryAfter(s, this.lo);
    const v = copy(s.slice(packedAt, packedAt + packedLen));
    this.lo = next;
    this.packedN--;
    this.trimmed();
    return v;
  }

  popBack(): string {
    if (this.back !== null && this.back.length > 0) return this.unstage(this.back.pop()!);
    if (this.packedN === 0) return this.unstage(this.front!.shift()!);
    const s = this.s;
    this.hi = entryBefore(s, this.hi);
    const v = copy(s.slice(backAt, backAt + backLen));
    this.packedN--;
    this.trimmed();
    return v;
  }

  /** Accounts for a staged element leaving. */
  private unstage(v: string): string {
    this.staged -= v.length + 2 * entrySizeOf(v.length);
    return v;
  }

  /** Drops the first `k` elements. */
  dropFront(k: number): void {
    const pos = this.offset(k);
    this.s = copy(this.s.slice(pos));
    this.hi = this.s.length;
    this.packedN -= k;
  }

  /** Drops the last `k` elements. */
  dropBack(k: number): void {
    const pos = this.offset(this.n - k);
    this.s = copy(this.s.slice(0, pos));
    this.hi = this.s.length;
    this.packedN -= k;
  }

  /** Every element, head to tail. */
  items(): string[] {
    this.settle();
    const s = this.s;
    const out: string[] = new Array(this.packedN);
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
    const pos0 = this.offset(from);
    const s = this.s;
    for (let pos = pos0; pos < s.length && at < out.length;) {
      pos = entryAfter(s, pos);
      out[at++] = s.slice(packedAt, packedAt + packedLen);
    }
    return at;
  }

  /** Replaces the contents with `items`. */
  assign(items: readonly string[]): void {
    let s = "";
    for (let k = 0; k < items.length; k++) s += chunkEntry(items[k]!);
    this.s = flatten(s);
    this.lo = 0;
    this.hi = this.s.length;
    this.packedN = items.length;
    this.front = this.back = null;
    this.staged = 0;
  }
}

/** Chars of the varint of `len`. */
function entrySizeOf(len: number): number {
  return len < 0x80 ? 1 : len < 0x4000 ? 2 : len < 0x200000 ? 3 : 4;
}
