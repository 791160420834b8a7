/**
 * A string-keyed map that also keeps its entries in one dense array. Lookups go through a native
 * `Map` (V8 caches string hashes), while the array gives O(1) random picks (RANDOMKEY, SPOP,
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

/** How a {@linkcode DenseMap} sizes its entries (memory accounting). */
export interface Measure<V> {
  /** The bytes of an entry. */
  size(key: string, value: V): number;
  /**
   * True when the value never changes in place, so its entry can be measured again at any time
   * with the same answer (nothing is stored for it); false when it may grow or shrink in place,
   * so the size counted for it is recorded until it is measured again.
   */
  fixed(value: V): boolean;
}

/** A Map with dense storage for random access and stable scanning. */
export class DenseMap<V> {
  private readonly index = new Map<string, number>();
  private readonly keyArr: string[] = [];
  private readonly valArr: V[] = [];
  /**
   * Per-entry 32-bit access stamps (Redis's LRU/LFU field), kept only when asked for: the
   * keyspace tracks them for OBJECT IDLETIME/FREQ, hash fields and set members do not.
   */
  private stamps: Uint32Array | null;
  /**
   * The sizes recorded for entries whose value may change in place (see {@linkcode Measure});
   * created when the first such entry comes.
   */
  private sizes: Uint32Array | null = null;
  /** Sum of the entries' sizes (0 without a {@linkcode Measure}). */
  bytes = 0;

  /**
   * @param trackAccess keep a 32-bit access stamp per entry (see {@linkcode getStamped})
   * @param measure how to size entries: the map then keeps their sum in {@linkcode bytes},
   *   updated as entries come, change and go (see {@linkcode remeasure})
   */
  constructor(trackAccess = false, private readonly measure?: Measure<V>) {
    this.stamps = trackAccess ? new Uint32Array(64) : null;
  }

  /** Number of entries. */
  get size(): number {
    return this.keyArr.length;
  }

  /** The value for `key`, or undefined. */
  get(key: string): V | undefined {
    const i = this.index.get(key);
    return i === undefined ? undefined : this.valArr[i];
  }

  /** True when `key` is present. */
  has(key: string): boolean {
    return this.index.has(key);
  }

  /**
   * The value for `key`, recording `stamp` as its access stamp; undefined when absent. With
   * `update`, the new stamp is computed from the old one (LFU counters).
   */
  getStamped(key: string, stamp: number, update?: (old: number) => number): V | undefined {
    const i = this.index.get(key);
    if (i === undefined) return undefined;
    const stamps = this.stamps;
    if (stamps !== null) stamps[i] = update === undefined ? stamp : update(stamps[i]!);
    return this.valArr[i];
  }

  /** The access stamp of `key` (0 when absent or not tracked). */
  stampOf(key: string): number {
    const i = this.index.get(key);
    return i === undefined || this.stamps === null ? 0 : this.stamps[i]!;
  }

  /** The access stamp at dense position `i` (0 when not tracked). */
  stampAt(i: number): number {
    return this.stamps === null ? 0 : this.stamps[i]!;
  }

  /** Sets `key` to `value` (and its access stamp when tracked); returns true when it is new. */
  set(key: string, value: V, stamp = 0): boolean {
    const i = this.index.get(key);
    if (i !== undefined) {
      if (this.stamps !== null) this.stamps[i] = stamp;
      if (this.measure === undefined) {
        this.valArr[i] = value;
      } else {
        // The old size, before the value is replaced (a fixed one is measured again from it).
        const m = this.measure;
        const old = this.valArr[i]!;
        this.bytes -= m.fixed(old) ? m.size(key, old) : this.sizes![i]!;
        this.valArr[i] = value;
        this.record(i, key, value);
      }
      return false;
    }
    const pos = this.keyArr.length;
    this.index.set(key, pos);
    this.keyArr.push(key);
    this.valArr.push(value);
    if (this.stamps !== null) {
      if (pos >= this.stamps.length) this.stamps = grow(this.stamps);
      this.stamps[pos] = stamp;
    }
    if (this.measure !== undefined) this.record(pos, key, value);
    return true;
  }

  /** Adds the size of the entry at `i` to the sum, recording it when the value is not fixed. */
  private record(i: number, key: string, value: V): number {
    const m = this.measure!;
    const n = m.size(key, value);
    this.bytes += n;
    if (!m.fixed(value)) {
      let sizes = this.sizes;
      if (sizes === null || i >= sizes.length) {
        const grown = new Uint32Array(Math.max(64, this.keyArr.length * 2));
        if (sizes !== null) grown.set(sizes);
        sizes = this.sizes = grown;
      }
      sizes[i] = n;
    }
    return n;
  }

  /** The size counted for the entry at `i`. */
  private sizeAt(i: number): number {
    const m = this.measure!;
    const v = this.valArr[i]!;
    return m.fixed(v) ? m.size(this.keyArr[i]!, v) : this.sizes![i]!;
  }

  /**
   * Measures the entry of `key` again, after its value changed in place; returns its new size
   * (0 when absent or not measured).
   */
  remeasure(key: string): number {
    const i = this.index.get(key);
    if (i === undefined || this.measure === undefined) return 0;
    this.bytes -= this.sizeAt(i);
    return this.record(i, key, this.valArr[i]!);
  }

  /** The size counted for the entry of `key` (0 when absent or not measured). */
  sizeOf(key: string): number {
    const i = this.index.get(key);
    return i === undefined || this.measure === undefined ? 0 : this.sizeAt(i);
  }

  /** Removes `key`; returns true when it was present. */
  delete(key: string): boolean {
    const i = this.index.get(key);
    if (i === undefined) return false;
    this.index.delete(key);
    if (this.measure !== undefined) this.bytes -= this.sizeAt(i);
    const last = this.keyArr.length - 1;
    if (i !== last) {
      const movedKey = this.keyArr[last]!;
      this.keyArr[i] = movedKey;
      this.valArr[i] = this.valArr[last]!;
      if (this.stamps !== null) this.stamps[i] = this.stamps[last]!;
      const sizes = this.sizes;
      if (sizes !== null && last < sizes.length) sizes[i] = sizes[last]!;
      this.index.set(movedKey, i);
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
    if (this.stamps !== null) this.stamps = new Uint32Array(64);
    this.sizes = null;
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

/** A copy of `a` with twice the room. */
function grow(a: Uint32Array): Uint32Array {
  const grown = new Uint32Array(a.length * 2);
  grown.set(a);
  return grown;
}
