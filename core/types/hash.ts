/**
 * The hash type, with Redis 7.0's two encodings:
 *
 * - `listpack`: a small hash, held as packed entries (packed.ts: field, value, field, value...
 *   in one binary string) in insertion order, so HGETALL and HSCAN list fields the way Redis
 *   lists them. A lookup walks the entries, as Redis walks its listpack; a write builds a new
 *   string (Redis moves the listpack's bytes too).
 * - `hashtable`: a {@linkcode DenseMap}, for O(1) random picks (HRANDFIELD) and HSCAN's
 *   cursor guarantee.
 *
 * A hash converts, one way, when it grows past `hash-max-listpack-entries` or a field or value
 * longer than `hash-max-listpack-value` arrives.
 *
 * Redis 7.4's field expiration (HEXPIRE...) keeps the fields' expiry times in a side map,
 * {@linkcode HashValue.ttls}, created the first time a field TTL command touches the hash (as
 * 7.4 turns a `listpack` into `listpackex` then): a hash that never had one pays one empty slot.
 *
 * @module
 */

import type { TypedValue } from "../keyspace/database.ts";
import { DenseMap } from "../keyspace/dense_map.ts";
import {
  copy,
  entry,
  equalAt,
  findEntry,
  flat,
  foundNext,
  packedAt,
  readHeader,
} from "./packed.ts";

/** The conversion thresholds, read from the config at write time. */
export interface HashLimits {
  /** `hash-max-listpack-entries` */
  entries: number;
  /** `hash-max-listpack-value` */
  value: number;
}

/** Redis's default `hash-max-listpack-entries` and `hash-max-listpack-value`. */
export const DEFAULT_HASH_LIMITS: HashLimits = { entries: 128, value: 64 };

/**
 * Bytes of a V8 object of `slots` fields (header: map, properties, elements) and of a one-byte
 * string of `len` chars (map, hash, length, then the chars padded to 8), without pointer
 * compression (Node and Deno builds), as measured with heap snapshots.
 */
const OBJECT_HEADER = 24;
function stringBytes(len: number): number {
  return 16 + ((len + 7) & ~7);
}

/**
 * Per-field cost of the hashtable encoding beyond the two strings: the Map entry (key, value,
 * chain: 24 bytes, plus its share of the buckets and of the table's spare room) and the two
 * dense-array slots (8 each, with spare room). Measured: a 100,000-field hash grew the heap by
 * about 79 bytes per field beyond its strings on Node 20 and about 55 on Deno 2 (the tables grow
 * at different points); this is between the two.
 */
const TABLE_PER_FIELD = 68;

/** Where {@linkcode HashValue} found a field: its value's entry and the end of that entry. */
let foundValue = 0;
let foundEnd = 0;

/** A Redis hash value. */
export class HashValue implements TypedValue {
  readonly type = "hash";
  /** The listpack encoding: fields and values as packed entries; undefined once converted. */
  private small: string | undefined = "";
  /** Number of fields while a listpack. */
  private count = 0;
  /** Fields of the hashtable encoding; undefined while a listpack. */
  private table: DenseMap<string> | undefined;
  /**
   * Expiry times (Unix ms) of the fields that have one; undefined until a field TTL command
   * touched the hash (see `hash_ttl.ts`).
   */
  ttls: Map<string, number> | undefined;

  /** `listpack` (`listpackex` once fields may expire) or `hashtable`, as OBJECT ENCODING says. */
  encoding(): string {
    if (this.small === undefined) return "hashtable";
    return this.ttls === undefined ? "listpack" : "listpackex";
  }

  /** The field expiry map, created when absent (Redis 7.4's conversion to `listpackex`). */
  enableTtls(): Map<string, number> {
    return this.ttls ??= new Map();
  }

  /** True when `field` has an expiry time at or before `now` (ms). */
  expiredAt(field: string, now: number): boolean {
    const at = this.ttls?.get(field);
    return at !== undefined && at < now;
  }

  /** Number of fields. */
  get size(): number {
    return this.small !== undefined ? this.count : this.table!.size;
  }

  /**
   * Where `field` starts in the packed string, or -1; sets foundValue and foundEnd to its
   * value's entry (and packed.ts's packedAt to the value's bytes).
   */
  private find(field: string): number {
    const s = this.small!;
    const pos = findEntry(s, field, true);
    if (pos >= 0) {
      foundValue = foundNext;
      foundEnd = readHeader(s, foundNext);
    }
    return pos;
  }

  /** The value of `field`, or undefined. */
  get(field: string): string | undefined {
    if (this.small === undefined) return this.table!.get(field);
    if (this.find(field) < 0) return undefined;
    readHeader(this.small, foundValue);
    return this.small.slice(packedAt, foundEnd);
  }

  /** True when `field` exists. */
  has(field: string): boolean {
    return this.small !== undefined ? this.find(field) >= 0 : this.table!.has(field);
  }

  /**
   * Sets `field` to `value`, converting the encoding as Redis's hashTypeSet does.
   *
   * @param field the field
   * @param value its value
   * @param limits the listpack thresholds (default: Redis's, 128 entries of 64 bytes)
   * @param keepTtl keep the field's expiry time (HINCRBY), instead of clearing it (HSET)
   * @returns true when the field is new
   */
  set(
    field: string,
    value: string,
    limits: HashLimits = DEFAULT_HASH_LIMITS,
    keepTtl = false,
  ): boolean {
    // Setting a field clears its TTL, as Redis 7.4's HSET does (and moves it to the end);
    // HINCRBY and HINCRBYFLOAT keep it, in place.
    if (this.ttls !== undefined && !keepTtl && this.ttls.has(field)) {
      const added = this.setValue(field, value, limits);
      this.setFieldTtl(field, undefined);
      return added;
    }
    return this.setValue(field, value, limits);
  }

  /** {@linkcode set} without the TTL rule. */
  private setValue(field: string, value: string, limits: HashLimits): boolean {
    const s = this.small;
    if (s === undefined) return this.table!.set(field, value);
    if (field.length > limits.value || value.length > limits.value) {
      this.convert();
      return this.table!.set(field, value);
    }
    if (this.find(field) >= 0) {
      // An unchanged value (a client setting what is there) leaves the string as it is.
      if (foundEnd - packedAt !== value.length || !equalAt(s, packedAt, value)) {
        this.small = flat(s.slice(0, foundValue), entry(value), s.slice(foundEnd));
      }
      return false;
    }
    this.small = flat(s, entry(field), entry(value));
    if (++this.count > limits.entries) this.convert();
    return true;
  }

  /** Removes `field`; true when it existed. */
  delete(field: string): boolean {
    if (this.ttls !== undefined) this.ttls.delete(field);
    const s = this.small;
    if (s === undefined) return this.table!.delete(field);
    const at = this.find(field);
    if (at < 0) return false;
    this.small = flat(s.slice(0, at), s.slice(foundEnd));
    this.count--;
    return true;
  }

  /**
   * Sets (or with undefined removes) the expiry time of an existing `field`. A listpack keeps
   * Redis 7.4's `listpackex` order: fields with a TTL first, soonest first (a field goes before
   * those of an equal time), then those without, in the order they lost or never had one.
   */
  setFieldTtl(field: string, at: number | undefined): void {
    const ttls = this.enableTtls();
    if (at === undefined) ttls.delete(field);
    else ttls.set(field, at);
    const s = this.small;
    if (s === undefined) return;
    const pos = this.find(field);
    if (pos < 0) return;
    const chunk = s.slice(pos, foundEnd);
    const rest = s.slice(0, pos) + s.slice(foundEnd);
    let to = rest.length;
    if (at !== undefined) {
      for (let p = 0; p < rest.length;) {
        const next = readHeader(rest, p);
        const other = ttls.get(rest.slice(packedAt, next));
        if (other === undefined || other >= at) {
          to = p;
          break;
        }
        p = readHeader(rest, next);
      }
    }
    this.small = flat(rest.slice(0, to), chunk, rest.slice(to));
  }

  /** Turns a listpack into a hashtable (one way, as in Redis). */
  convert(): void {
    if (this.small === undefined) return;
    const table = new DenseMap<string>();
    // Copies, not slices: a slice would keep the whole packed string alive.
    this.forEach((f, v) => table.set(copy(f), copy(v)));
    this.table = table;
    this.small = undefined;
    this.count = 0;
  }

  /** Calls `fn` with every field and value, in iteration order. */
  forEach(fn: (field: string, value: string) => void): void {
    const s = this.small;
    if (s !== undefined) {
      for (let pos = 0; pos < s.length;) {
        pos = readHeader(s, pos);
        const field = s.slice(packedAt, pos);
        pos = readHeader(s, pos);
        fn(field, s.slice(packedAt, pos));
      }
      return;
    }
    const t = this.table!;
    for (let i = 0; i < t.size; i++) fn(t.keyAt(i), t.valueAt(i));
  }

  /**
   * The fields and values as two parallel arrays in iteration order: the random-access view
   * HRANDFIELD works on (a listpack hash is small, so this is what Redis's listpack walk costs).
   */
  toArrays(): { fields: string[]; values: string[] } {
    const fields: string[] = [];
    const values: string[] = [];
    this.forEach((f, v) => {
      fields.push(f);
      values.push(v);
    });
    return { fields, values };
  }

  /**
   * A uniformly random field and its value as `[field, value]`; the hash must not be empty.
   * O(1) for a hashtable; a listpack is walked, as Redis's lpRandomPair walks it.
   */
  randomPair(): [string, string] {
    const s = this.small;
    if (s === undefined) {
      const t = this.table!;
      const i = Math.floor(Math.random() * t.size);
      return [t.keyAt(i), t.valueAt(i)];
    }
    if (this.count === 0) throw new RangeError("Random pick from an empty hash");
    let i = Math.floor(Math.random() * this.count);
    let pos = 0;
    while (i-- > 0) pos = readHeader(s, readHeader(s, pos));
    pos = readHeader(s, pos);
    const field = s.slice(packedAt, pos);
    pos = readHeader(s, pos);
    return [field, s.slice(packedAt, pos)];
  }

  /**
   * One HSCAN step. A listpack is returned whole with cursor 0, as Redis does for its compact
   * encodings; a hashtable visits `count` positions from `cursor`.
   *
   * @param cursor 0 to start, or the value a previous call returned
   * @param count positions to visit (hashtable only)
   * @param visit called with each field and value
   * @returns the next cursor, 0 when done
   */
  scan(cursor: number, count: number, visit: (field: string, value: string) => void): number {
    if (this.small !== undefined) {
      this.forEach(visit);
      return 0;
    }
    return this.table!.scan(cursor, count, visit);
  }

  /** A deep copy with the same encoding (COPY). */
  clone(): HashValue {
    const copy = new HashValue();
    if (this.small !== undefined) {
      // Strings are immutable: the copy can share the packed string until either is written.
      copy.small = this.small;
      copy.count = this.count;
    } else {
      copy.small = undefined;
      const table = new DenseMap<string>();
      this.forEach((f, v) => table.set(f, v));
      copy.table = table;
    }
    if (this.ttls !== undefined) copy.ttls = new Map(this.ttls);
    return copy;
  }

  /**
   * Approximate bytes of the JavaScript representation (MEMORY USAGE), O(1) for a listpack and
   * from a sample of five fields for a hashtable: the object (6 fields), the field TTLs, plus the packed string,
   * or plus per field its two strings and {@linkcode TABLE_PER_FIELD}.
   */
  memoryUsage(): number {
    // A field TTL costs a Map entry (key, value, chain) and a heap number.
    const base = OBJECT_HEADER + 6 * 8 + (this.ttls === undefined ? 0 : 64 + 40 * this.ttls.size);
    if (this.small !== undefined) return base + stringBytes(this.small.length);
    const t = this.table!;
    const n = t.size;
    const sample = Math.min(n, 5);
    let bytes = 0;
    for (let i = 0; i < sample; i++) {
      bytes += stringBytes(t.keyAt(i).length) + stringBytes(t.valueAt(i).length);
    }
    return base + 64 + (sample === 0 ? 0 : Math.ceil((bytes / sample) * n)) + TABLE_PER_FIELD * n;
  }
}
