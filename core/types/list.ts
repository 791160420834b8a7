/**
 * The list type: a deque of chunks. Elements (binary strings) live in chunks of at most
 * {@linkcode CHUNK} elements packed in one string each (list_chunk.ts, a listpack's
 * counterpart); the chain of chunks is a ring buffer, so a push or a pop at either end touches
 * one chunk, and reaching index `i` walks chunks from the nearer end, then elements inside the
 * chunk from its nearer end, like Redis's quicklist walks its nodes and their listpacks.
 *
 * Redis 7.0 always reports the `quicklist` encoding for lists (the listpack encoding of small
 * lists came with 7.2), so `list-max-listpack-size` only shapes Redis's nodes, not what clients
 * see; our chunk size is fixed.
 *
 * @module
 */

import type { TypedValue } from "../keyspace/database.ts";
import { CHUNK, Chunk } from "./list_chunk.ts";

export { CHUNK } from "./list_chunk.ts";

/** A ring buffer whose capacity is a power of two; grows by doubling. */
class Ring<T> {
  items: (T | undefined)[];
  head = 0;
  len = 0;

  constructor(capacity: number) {
    this.items = new Array(capacity);
  }

  get(i: number): T {
    return this.items[(this.head + i) & (this.items.length - 1)]!;
  }

  set(i: number, v: T): void {
    this.items[(this.head + i) & (this.items.length - 1)] = v;
  }

  pushBack(v: T): void {
    if (this.len === this.items.length) this.grow();
    this.items[(this.head + this.len++) & (this.items.length - 1)] = v;
  }

  pushFront(v: T): void {
    if (this.len === this.items.length) this.grow();
    this.head = (this.head - 1) & (this.items.length - 1);
    this.items[this.head] = v;
    this.len++;
  }

  popFront(): T {
    const items = this.items;
    const v = items[this.head]!;
    items[this.head] = undefined;
    this.head = (this.head + 1) & (items.length - 1);
    this.len--;
    return v;
  }

  popBack(): T {
    const items = this.items;
    const at = (this.head + --this.len) & (items.length - 1);
    const v = items[at]!;
    items[at] = undefined;
    return v;
  }

  /** Inserts `v` before position `i` (0..len), moving the shorter side. */
  insertAt(i: number, v: T): void {
    if (this.len === this.items.length) this.grow();
    if (i < this.len - i) {
      this.head = (this.head - 1) & (this.items.length - 1);
      for (let j = 0; j < i; j++) this.set(j, this.get(j + 1));
    } else {
      for (let j = this.len; j > i; j--) this.set(j, this.get(j - 1));
    }
    this.len++;
    this.set(i, v);
  }

  private grow(): void {
    const old = this.items;
    const next: (T | undefined)[] = new Array(Math.max(4, old.length * 2));
    for (let j = 0; j < this.len; j++) next[j] = old[(this.head + j) & (old.length - 1)];
    this.items = next;
    this.head = 0;
  }
}

/** A Redis list: binary strings with O(1) access at both ends. */
export class ListValue implements TypedValue {
  /** The name TYPE reports. */
  readonly type = "list";
  /** Number of elements. */
  length = 0;
  private chunks = new Ring<Chunk>(1);
  // Where locate() found an index: the chunk's position in the chain and the offset in it.
  private atChunk = 0;
  private atOffset = 0;

  /**
   * A list holding `items` in order.
   *
   * @param items the elements, head first
   * @returns the new list
   * @example
   * ```ts
   * ListValue.from(["a", "b"]).range(0, 1); // ["a", "b"]
   * ```
   */
  static from(items: Iterable<string>): ListValue {
    const list = new ListValue();
    for (const v of items) list.pushBack(v);
    return list;
  }

  /** Always `quicklist`, as Redis 7.0 reports every list. */
  encoding(): string {
    return "quicklist";
  }

  /** A deep copy (COPY): chunk strings are immutable, so the copy shares them. */
  clone(): ListValue {
    const copy = new ListValue();
    const chunks = this.chunks;
    for (let k = 0; k < chunks.len; k++) {
      const c = chunks.get(k);
      copy.chunks.pushBack(new Chunk(c.packed(), c.n));
    }
    copy.length = this.length;
    return copy;
  }

  /**
   * Approximate bytes of the JavaScript representation (MEMORY USAGE), in O(1): the object and
   * its ring of chunks (24 + 6 fields, 8 per ring slot), then the bytes per element of the first
   * five chunks (packed bytes and each chunk's {@linkcode Chunk.overhead}) times the length, as
   * Redis's MEMORY USAGE samples a quicklist's first nodes.
   */
  memoryUsage(): number {
    const chunks = this.chunks;
    const sampled = Math.min(chunks.len, 5);
    let sampledN = 0;
    let sampledBytes = 0;
    for (let k = 0; k < sampled; k++) {
      const c = chunks.get(k);
      sampledN += c.n;
      sampledBytes += ((c.bytes + 7) & ~7) + c.overhead;
    }
    // The tail chunk is where pushes are staged: its staging counts even past the sample (the
    // 104 bytes every chunk has are in the sampled average already).
    let bytes = 24 + 6 * 8 + 40 + chunks.items.length * 8;
    if (chunks.len > sampled) bytes += chunks.get(chunks.len - 1).overhead - 104;
    const perElement = sampledN === 0 ? 0 : sampledBytes / sampledN;
    return bytes + Math.round(perElement * this.length);
  }

  /** Adds `v` at the head. */
  pushFront(v: string): void {
    const chunks = this.chunks;
    let c = chunks.len === 0 ? undefined : chunks.get(0);
    if (c === undefined || c.full(v.length)) {
      c = new Chunk();
      chunks.pushFront(c);
    }
    c.pushFront(v);
    this.length++;
  }

  /** Adds `v` at the tail. */
  pushBack(v: string): void {
    const chunks = this.chunks;
    let c = chunks.len === 0 ? undefined : chunks.get(chunks.len - 1);
    if (c === undefined || c.full(v.length)) {
      c = new Chunk();
      chunks.pushBack(c);
    }
    c.pushBack(v);
    this.length++;
  }

  /**
   * Adds `values[from..]` at the head (`left`, each in turn, as LPUSH) or at the tail, then
   * packs what waits at that end: a command pushing many elements leaves none staged (each
   * staged element is a string of its own, ~32 bytes more than packed).
   */
  pushAll(values: readonly string[], from: number, left: boolean): void {
    if (left) { for (let i = from; i < values.length; i++) this.pushFront(values[i]!); }
    else for (let i = from; i < values.length; i++) this.pushBack(values[i]!);
    if (values.length - from > 1) this.chunks.get(left ? 0 : this.chunks.len - 1).packed();
  }

  /** Removes and returns the head element; the list must not be empty. */
  popFront(): string {
    const chunks = this.chunks;
    const c = chunks.get(0);
    const v = c.popFront();
    if (c.n === 0) chunks.popFront();
    this.length--;
    return v;
  }

  /** Removes and returns the tail element; the list must not be empty. */
  popBack(): string {
    const chunks = this.chunks;
    const c = chunks.get(chunks.len - 1);
    const v = c.popBack();
    if (c.n === 0) chunks.popBack();
    this.length--;
    return v;
  }

  /** Finds index `i` (0 <= i < length), walking chunks from the nearer end. */
  private locate(i: number): void {
    const chunks = this.chunks;
    if (i < this.length >> 1) {
      let k = 0;
      let c = chunks.get(0);
      while (i >= c.n) {
        i -= c.n;
        c = chunks.get(++k);
      }
      this.atChunk = k;
      this.atOffset = i;
    } else {
      let back = this.length - 1 - i;
      let k = chunks.len - 1;
      let c = chunks.get(k);
      while (back >= c.n) {
        back -= c.n;
        c = chunks.get(--k);
      }
      this.atChunk = k;
      this.atOffset = c.n - 1 - back;
    }
  }

  /** The element at index `i` (negative counts from the tail), or undefined when out of range. */
  get(i: number): string | undefined {
    if (i < 0) i += this.length;
    if (i < 0 || i >= this.length) return undefined;
    this.locate(i);
    return this.chunks.get(this.atChunk).get(this.atOffset);
  }

  /** Replaces the element at index `i` (negative counts from the tail); false when out of range. */
  set(i: number, v: string): boolean {
    if (i < 0) i += this.length;
    if (i < 0 || i >= this.length) return false;
    this.locate(i);
    this.chunks.get(this.atChunk).set(this.atOffset, v);
    return true;
  }

  /** Elements `start..end` (inclusive, both within bounds, start <= end), head to tail. */
  range(start: number, end: number): string[] {
    const out: string[] = new Array(end - start + 1);
    if (out.length === 0) return out;
    this.locate(start);
    const chunks = this.chunks;
    let n = 0;
    for (let k = this.atChunk, skip = this.atOffset; n < out.length; k++, skip = 0) {
      n = chunks.get(k).readInto(skip, out, n);
    }
    return out;
  }

  /** Every element, head to tail. */
  toArray(): string[] {
    return this.range(0, this.length - 1);
  }

  /** Removes the first `n` elements (n <= length). */
  trimFront(n: number): void {
    const chunks = this.chunks;
    this.length -= n;
    while (n > 0) {
      const c = chunks.get(0);
      if (c.n <= n) {
        n -= c.n;
        chunks.popFront();
      } else {
        c.dropFront(n);
        n = 0;
      }
    }
  }

  /** Removes the last `n` elements (n <= length). */
  trimBack(n: number): void {
    const chunks = this.chunks;
    this.length -= n;
    while (n > 0) {
      const c = chunks.get(chunks.len - 1);
      if (c.n <= n) {
        n -= c.n;
        chunks.popBack();
      } else {
        c.dropBack(n);
        n = 0;
      }
    }
  }

  /**
   * Inserts `v` before (or after) the first element equal to `pivot`, scanning from the head.
   * Returns false when there is no such element.
   */
  insert(pivot: string, v: string, after: boolean): boolean {
    const chunks = this.chunks;
    for (let k = 0; k < chunks.len; k++) {
      const j = chunks.get(k).items().indexOf(pivot);
      if (j >= 0) {
        this.insertInChunk(k, after ? j + 1 : j, v);
        this.length++;
        return true;
      }
    }
    return false;
  }

  /** Inserts `v` at position `at` of chunk `k`, splitting a full chunk. */
  private insertInChunk(k: number, at: number, v: string): void {
    const chunks = this.chunks;
    const c = chunks.get(k);
    if (!c.full(v.length)) {
      c.insertAt(at, v);
      return;
    }
    // A full chunk: use the room of a neighbour at the edges, else split it in two halves.
    if (at === c.n && k + 1 < chunks.len && !chunks.get(k + 1).full(v.length)) {
      chunks.get(k + 1).pushFront(v);
      return;
    }
    if (at === 0 && k > 0 && !chunks.get(k - 1).full(v.length)) {
      chunks.get(k - 1).pushBack(v);
      return;
    }
    const items = c.items();
    items.splice(at, 0, v);
    const half = items.length >> 1;
    const tail = new Chunk();
    tail.assign(items.slice(half));
    c.assign(items.slice(0, half));
    chunks.insertAt(k + 1, tail);
  }

  /**
   * Removes elements equal to `v`: the first `count` from the head when count > 0, the last
   * `-count` from the tail when count < 0, all of them when count is 0. Returns how many.
   */
  remove(v: string, count: number): number {
    const chunks = this.chunks;
    const limit = count === 0 ? Infinity : Math.abs(count);
    let removed = 0;
    const fromTail = count < 0;
    for (let step = 0; step < chunks.len && removed < limit; step++) {
      const c = chunks.get(fromTail ? chunks.len - 1 - step : step);
      const items = c.items();
      if (!items.includes(v)) continue;
      const kept: string[] = [];
      if (!fromTail) {
        for (const e of items) {
          if (e === v && removed < limit) removed++;
          else kept.push(e);
        }
      } else {
        for (let r = items.length - 1; r >= 0; r--) {
          const e = items[r]!;
          if (e === v && removed < limit) removed++;
          else kept.push(e);
        }
        kept.reverse();
      }
      c.assign(kept);
    }
    if (removed !== 0) {
      this.length -= removed;
      this.compact();
    }
    return removed;
  }

  /** Drops empty chunks and merges neighbours that fit in one chunk together. */
  private compact(): void {
    const old = this.chunks;
    const next = new Ring<Chunk>(old.items.length);
    for (let k = 0; k < old.len; k++) {
      const c = old.get(k);
      if (c.n === 0) continue;
      const prev = next.len === 0 ? undefined : next.get(next.len - 1);
      if (prev !== undefined && prev.n + c.n <= CHUNK && !prev.full(c.bytes)) {
        prev.assign([...prev.items(), ...c.items()]);
      } else {
        next.pushBack(c);
      }
    }
    this.chunks = next;
  }

  /**
   * Indexes of elements equal to `v`, as LPOS finds them: scanning from the head (or from the
   * tail when `fromTail`), skipping the first `skip` matches, returning at most `count` (0 = all)
   * and looking at no more than `maxlen` elements (0 = all).
   */
  positions(v: string, fromTail: boolean, skip: number, count: number, maxlen: number): number[] {
    const out: number[] = [];
    const chunks = this.chunks;
    const len = this.length;
    const limit = maxlen === 0 || maxlen > len ? len : maxlen;
    let seen = 0;
    let matches = 0;
    if (!fromTail) {
      for (let k = 0; k < chunks.len && seen < limit; k++) {
        const c = chunks.get(k).items();
        for (let j = 0; j < c.length && seen < limit; j++, seen++) {
          if (c[j] === v && ++matches > skip) {
            out.push(seen);
            if (out.length === count) return out;
          }
        }
      }
    } else {
      for (let k = chunks.len - 1; k >= 0 && seen < limit; k--) {
        const c = chunks.get(k).items();
        for (let j = c.length - 1; j >= 0 && seen < limit; j--, seen++) {
          if (c[j] === v && ++matches > skip) {
            out.push(len - 1 - seen);
            if (out.length === count) return out;
          }
        }
      }
    }
    return out;
  }
}
