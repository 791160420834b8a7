/**
 * A string-keyed map that also keeps its entries in one dense array. Lookups go through a hash
 * index of its own (hash_index.ts), while the array gives O(1) random picks (RANDOMKEY, SPOP,
 * SRANDMEMBER) and a SCAN cursor with Redis's guarantee: every entry present for the whole scan
 * is returned at least once, whatever is added or deleted in between.
 *
 * How the cursor keeps that guarantee: deletion moves the last entry into the hole, and the scan
 * walks positions downwards from the top. An entry can only move from the end of the array to a
 * lower position, so an entry not yet visited (below the cursor) stays below it, and one already
 * visited may be visited twice, which SCAN allows. New entries land at the top, past the cursor.
 *
 * @module
 */

import { HashIndex } from "./hash_index.ts";

/** How a {@linkcode DenseMap} sizes its entries (memory accounting). */
export interface Measure<V> {
  /**
   * The bytes of an entry. Its size is recorded when it is set; a value changed in place is
   * measured again by {@linkcode DenseMap.remeasure}.
   */
  size(key: string, value: V): number;
}

/** A Map with dense storage for random access and stable scanning. */
export class DenseMap<V> {
  private readonly keyArr: string[] = [];
  private readonly valArr: V[] = [];
  private readonly index = new HashIndex(this.keyArr);
  /**
   * Per-entry 32-bit fields, `stride` of them per entry, side by side so one cache line serves
   * an entry's: its access stamp (Redis's LRU/LFU field) when asked for (the keyspace tracks
   * them for OBJECT IDLETIME/FREQ, hash fields and set members do not), then its size when the
   * map measures its entries. Null when neither is kept.
   */
  private meta: Uint32Array | null;
  private readonly stride: number;
  /** Offset of the size in an entry's fields (after the stamp, when there is one). */
  private readonly sizeAt: number;
  /** Sum of the entries' sizes (0 without a {@linkcode Measure}). */
  bytes = 0;

  /**
   * @param trackAccess keep a 32-bit access stamp per entry (see {@linkcode getStamped})
   * @param measure how to size entries: the map then keeps their sum in {@linkcode bytes},
   *   updated as entries come, change and go (see {@linkcode remeasure})
   */
  constructor(private readonly trackAccess = false, private readonly measure?: Measure<V>) {
    this.sizeAt = trackAccess ? 1 : 0;
    this.stride = this.sizeAt + (measure === undefined ? 0 : 1);
    this.meta = this.stride === 0 ? null : new Uint32Array(16 * this.stride);
  }

  /** Number of entries. */
  get size(): number {
    return this.keyArr.length;
  }

  /** The value for `key`, or undefined. */
  get(key: string): V | undefined {
    const i = this.index.find(key);
    return i < 0 ? undefined : this.valArr[i];
  }

  /** True when `key` is present. */
  has(key: string): boolean {
    return this.index.find(key) >= 0;
  }

  /**
   * The value for `key`, recording `stamp` as its access stamp; undefined when absent. With
   * `update`, the new stamp is computed from the old one (LFU counters).
   */
  getStamped(key: string, stamp: number, update?: (old: number) => number): V | undefined {
    const i = this.index.find(key);
    if (i < 0) return undefined;
    if (this.trackAccess) {
      const meta = this.meta!;
      const at = i * this.stride;
      meta[at] = update === undefined ? stamp : update(meta[at]!);
    }
    return this.valArr[i];
  }

  /** The access stamp of `key` (0 when absent or not tracked). */
  stampOf(key: string): number {
    const i = this.index.find(key);
    return i < 0 ? 0 : this.stampAt(i);
  }

  /** The access stamp at dense position `i` (0 when not tracked). */
  stampAt(i: number): number {
    return this.trackAccess ? this.meta![i * this.stride]! : 0;
  }

  /** Sets `key` to `value` (and its access stamp when tracked); returns true when it is new. */
  set(key: string, value: V, stamp = 0): boolean {
    let i = this.index.find(key);
    const fresh = i < 0;
    if (fresh) {
      i = this.keyArr.length;
      this.index.insert(key, i);
      this.keyArr.push(key);
      this.valArr.push(value);
      if (this.meta !== null && (i + 1) * this.stride > this.meta.length) {
        const grown = new Uint32Array(this.meta.length * 2);
        grown.set(this.meta);
        this.meta = grown;
      }
    } else this.valArr[i] = value;
    if (this.meta !== null) {
      const at = i * this.stride;
      if (this.trackAccess) this.meta[at] = stamp;
      if (this.measure !== undefined) {
        // Every size is recorded: the old one is read here rather than measured again from the
        // old value, an object elsewhere in memory.
        const n = this.measure.size(key, value);
        if (!fresh) this.bytes -= this.meta[at + this.sizeAt]!;
        this.meta[at + this.sizeAt] = n;
        this.bytes += n;
      }
    }
    return fresh;
  }

  /**
   * Measures the entry of `key` again, after its value changed in place; returns its new size
   * (0 when absent or not measured).
   */
  remeasure(key: string): number {
    const i = this.index.find(key);
    if (i < 0 || this.measure === undefined) return 0;
    const at = i * this.stride + this.sizeAt;
    const meta = this.meta!;
    const n = this.measure.size(key, this.valArr[i]!);
    this.bytes += n - meta[at]!;
    meta[at] = n;
    return n;
  }

  /** The size counted for the entry of `key` (0 when absent or not measured). */
  sizeOf(key: string): number {
    const i = this.index.find(key);
    return i < 0 || this.measure === undefined ? 0 : this.meta![i * this.stride + this.sizeAt]!;
  }

  /** Removes `key`; returns true when it was present. */
  delete(key: string): boolean {
    const i = this.index.find(key);
    if (i < 0) return false;
    this.index.remove(key, i);
    const meta = this.meta;
    const stride = this.stride;
    if (this.measure !== undefined) this.bytes -= meta![i * stride + this.sizeAt]!;
    const last = this.keyArr.length - 1;
    if (i !== last) {
      const movedKey = this.keyArr[last]!;
      this.keyArr[i] = movedKey;
      this.valArr[i] = this.valArr[last]!;
      if (meta !== null) meta.copyWithin(i * stride, last * stride, (last + 1) * stride);
      this.index.move(movedKey, last, i);
    }
    this.keyArr.pop();
    this.valArr.pop();
    return true;
  }

  /** Removes every entry. */
  clear(): void {
    this.index.clear();
    this.keyArr.length = 0;
    this.valArr.length = 0;
    if (this.meta !== null) this.meta = new Uint32Array(16 * this.stride);
    this.bytes = 0;
  }

  /** The key at dense position `i` (0 <= i < size). */
  keyAt(i: number): string {
    return this.keyArr[i]!;
  }

  /** The value at dense position `i` (0 <= i < size). */
  valueAt(i: number): V {
    return this.valArr[i]!;
  }

  /** A uniformly random dense position, or -1 when empty. */
  randomIndex(): number {
    const n = this.keyArr.length;
    return n === 0 ? -1 : Math.floor(Math.random() * n);
  }

  /**
   * The next position of a round-robin walk that goes downwards and wraps around: `cursor - 1`,
   * or the top when `cursor` is 0 or past the end; -1 when the map is empty. Keep the returned
   * position as the next cursor. As with {@linkcode scan}, an entry present for a whole pass is
   * reached at least once in it, whatever is deleted meanwhile.
   */
  nextDown(cursor: number): number {
    const n = this.keyArr.length;
    if (n === 0) return -1;
    return cursor > 0 && cursor <= n ? cursor - 1 : n - 1;
  }

  /** A uniformly random key, or undefined when empty. */
  randomKey(): string | undefined {
    const n = this.keyArr.length;
    return n === 0 ? undefined : this.keyArr[Math.floor(Math.random() * n)];
  }

  /**
   * Visits up to `count` positions starting at `cursor` (0 starts a new scan) and returns the
   * cursor for the next call, 0 when the scan is complete.
   */
  scan(cursor: number, count: number, visit: (key: string, value: V) => void): number {
    let top = cursor === 0 ? this.keyArr.length : Math.min(cursor, this.keyArr.length);
    const stop = Math.max(0, top - Math.max(1, count));
    while (top > stop) {
      top--;
      visit(this.keyArr[top]!, this.valArr[top]!);
    }
    return top;
  }

  /** All keys, in storage order (a copy). */
  keys(): string[] {
    return this.keyArr.slice();
  }

  /** All values, in the order of {@linkcode keys} (a copy). */
  values(): V[] {
    return this.valArr.slice();
  }

  /** Iterates `[key, value]` pairs; do not modify the map while iterating. */
  *entries(): IterableIterator<[string, V]> {
    for (let i = 0; i < this.keyArr.length; i++) yield [this.keyArr[i]!, this.valArr[i]!];
  }
}
