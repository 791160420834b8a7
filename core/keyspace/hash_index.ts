/**
 * The lookup side of a {@linkcode DenseMap}: an open-addressing hash table from a key to its
 * dense position, with the key's 32-bit hash stored beside the position in one typed array.
 *
 * Why not a native `Map`: V8 hashes a string key on every lookup that comes with a fresh string
 * (every key a client sends is one) and, since V8 12, internalizes it through the global string
 * table first, so a lookup in a large map walks two tables of tagged pointers: measured on a
 * keyspace of 100k keys, a `Map.get` with a fresh key cost 0.5 µs on Node and 0.8–1 µs on Deno
 * (CPU time), this index 0.2–0.4 µs. Here a lookup reads one slot pair (hash, position), then the
 * key at that position to confirm it; a miss usually stops at the first empty slot.
 *
 * Linear probing at a load of at most 1/2 (and at least 1/8 past the smallest size); deletion
 * shifts the following entries back (no tombstones), so lookups never slow down with churn. The
 * hash is seeded per process, so which keys collide cannot be known from outside.
 *
 * @module
 */

const SEED = (Math.random() * 0x100000000) >>> 0;
/** The smallest table: 8 slots. */
const MIN_SLOTS = 8;

/**
 * The last key hashed and its hash: a command often finds one key more than once (read, then
 * write: INCR, SET with options, APPEND...; or a key a pipeline repeats). When `key` is that
 * string (usually the same object: the parser reuses recent strings), the hash is not computed
 * again. `===` of strings compares contents when the objects differ, at most one memcmp of a
 * short key, stopping at the first difference.
 */
let memoKey = "";
let memoHash = hashOf("");

/** The seeded 32-bit hash of a string (two UTF-16 code units a step, then a final mix). */
export function hashKey(key: string): number {
  if (key === memoKey) return memoHash;
  const h = hashOf(key);
  memoKey = key;
  memoHash = h;
  return h;
}

function hashOf(key: string): number {
  const n = key.length;
  let h = SEED ^ n;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    h = Math.imul(h ^ (key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16)), 0x9e3779b1);
    h ^= h >>> 15;
  }
  if (i < n) h = Math.imul(h ^ key.charCodeAt(i), 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * Keys up to this length are hashed here; longer ones go to a native `Map`, whose hashing in
 * native code outruns a JavaScript loop (about 1.2 ns a character) past some 64 characters.
 */
const SHORT_KEY = 64;

/** Key → dense position, for the keys of one dense key array. */
export class HashIndex {
  /** Slot pairs: the key's hash, then its position + 1 (0: the slot is empty). */
  private slots = new Int32Array(2 * MIN_SLOTS);
  /** Slot count - 1 (the count is a power of two). */
  private mask = MIN_SLOTS - 1;
  private count = 0;
  /** The positions of keys longer than {@linkcode SHORT_KEY}, created with the first one. */
  private long: Map<string, number> | undefined;
  /** The hash of the key of the last find() (used by insert and remove after it). */
  private lastHash = 0;

  /** @param keys the dense key array whose positions are indexed (read to confirm a hit) */
  constructor(private readonly keys: readonly string[]) {}

  /** The position of `key`, or -1. */
  find(key: string): number {
    if (key.length > SHORT_KEY) return this.long?.get(key) ?? -1;
    const h = this.lastHash = hashKey(key);
    const slots = this.slots;
    const mask = this.mask;
    for (let i = h & mask;; i = (i + 1) & mask) {
      const at = slots[2 * i + 1]!;
      if (at === 0) return -1;
      if (slots[2 * i] === h && this.keys[at - 1] === key) return at - 1;
    }
  }

  /** Indexes `key` (absent: find(key) just returned -1) at position `pos`. */
  insert(key: string, pos: number): void {
    if (key.length > SHORT_KEY) {
      (this.long ??= new Map()).set(key, pos);
      return;
    }
    if (2 * (this.count + 1) > this.mask + 1) this.resize(2 * (this.mask + 1));
    this.place(this.lastHash, pos + 1);
    this.count++;
  }

  /** The key at position `from` moved to `to`. */
  move(key: string, from: number, to: number): void {
    if (key.length > SHORT_KEY) this.long!.set(key, to);
    else this.slots[2 * this.slotOf(hashKey(key), from) + 1] = to + 1;
  }

  /** Forgets `key` (present at `pos`: find(key) just returned it). */
  remove(key: string, pos: number): void {
    if (key.length > SHORT_KEY) {
      this.long!.delete(key);
      return;
    }
    const slots = this.slots;
    const mask = this.mask;
    let hole = this.slotOf(this.lastHash, pos);
    // Shift back every entry of the run after the hole that may live there (its home slot is
    // not cyclically in (hole, i]), so a probe never meets a gap before its key.
    for (let i = (hole + 1) & mask;; i = (i + 1) & mask) {
      const at = slots[2 * i + 1]!;
      if (at === 0) break;
      const home = slots[2 * i]! & mask;
      if (((i - home) & mask) >= ((i - hole) & mask)) {
        slots[2 * hole] = slots[2 * i]!;
        slots[2 * hole + 1] = at;
        hole = i;
      }
    }
    slots[2 * hole] = 0;
    slots[2 * hole + 1] = 0;
    this.count--;
    if (8 * this.count < this.mask + 1 && this.mask + 1 > MIN_SLOTS) {
      this.resize((this.mask + 1) / 2);
    }
  }

  /** Forgets every position. */
  clear(): void {
    this.slots = new Int32Array(2 * MIN_SLOTS);
    this.mask = MIN_SLOTS - 1;
    this.count = 0;
    this.long = undefined;
  }

  /** The slot holding position `pos` under hash `h` (it must be indexed). */
  private slotOf(h: number, pos: number): number {
    const slots = this.slots;
    const mask = this.mask;
    let i = h & mask;
    while (slots[2 * i + 1] !== pos + 1) i = (i + 1) & mask;
    return i;
  }

  private place(h: number, at: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = h & mask;
    while (slots[2 * i + 1] !== 0) i = (i + 1) & mask;
    slots[2 * i] = h;
    slots[2 * i + 1] = at;
  }

  private resize(size: number): void {
    const old = this.slots;
    this.slots = new Int32Array(2 * size);
    this.mask = size - 1;
    for (let i = 0; i < old.length; i += 2) if (old[i + 1] !== 0) this.place(old[i]!, old[i + 1]!);
  }
}
