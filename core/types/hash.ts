/**
 * The hash type, with Redis 7.0's two encodings:
 *
 * - `listpack`: a small hash, kept in insertion order (a JS `Map` keeps order across deletes,
 *   as a listpack does), so HGETALL and HSCAN list fields the way Redis lists them.
 * - `hashtable`: a {@linkcode DenseMap}, for O(1) random picks (HRANDFIELD) and HSCAN's
 *   cursor guarantee.
 *
 * A hash converts, one way, when it grows past `hash-max-listpack-entries` or a field or value
 * longer than `hash-max-listpack-value` arrives.
 *
 * @module
 */

import type { TypedValue } from "../keyspace/database.ts";
import { DenseMap } from "../keyspace/dense_map.ts";

/** The conversion thresholds, read from the config at write time. */
export interface HashLimits {
  /** `hash-max-listpack-entries` */
  entries: number;
  /** `hash-max-listpack-value` */
  value: number;
}

/** Redis's default `hash-max-listpack-entries` and `hash-max-listpack-value`. */
export const DEFAULT_HASH_LIMITS: HashLimits = { entries: 128, value: 64 };

/** A Redis hash value. */
export class HashValue implements TypedValue {
  readonly type = "hash";
  /** Fields of the listpack encoding, in insertion order; undefined once converted. */
  private small: Map<string, string> | undefined = new Map();
  /** Fields of the hashtable encoding; undefined while a listpack. */
  private table: DenseMap<string> | undefined;

  /** `listpack` or `hashtable`, as OBJECT ENCODING reports it. */
  encoding(): string {
    return this.small !== undefined ? "listpack" : "hashtable";
  }

  /** Number of fields. */
  get size(): number {
    return this.small !== undefined ? this.small.size : this.table!.size;
  }

  /** The value of `field`, or undefined. */
  get(field: string): string | undefined {
    return this.small !== undefined ? this.small.get(field) : this.table!.get(field);
  }

  /** True when `field` exists. */
  has(field: string): boolean {
    return this.small !== undefined ? this.small.has(field) : this.table!.has(field);
  }

  /**
   * Sets `field` to `value`, converting the encoding as Redis's hashTypeSet does.
   *
   * @param field the field
   * @param value its value
   * @param limits the listpack thresholds (default: Redis's, 128 entries of 64 bytes)
   * @returns true when the field is new
   */
  set(field: string, value: string, limits: HashLimits = DEFAULT_HASH_LIMITS): boolean {
    const small = this.small;
    if (small === undefined) return this.table!.set(field, value);
    if (field.length > limits.value || value.length > limits.value) {
      this.convert();
      return this.table!.set(field, value);
    }
    const size = small.size;
    small.set(field, value);
    if (small.size === size) return false;
    if (small.size > limits.entries) this.convert();
    return true;
  }

  /** Removes `field`; true when it existed. */
  delete(field: string): boolean {
    return this.small !== undefined ? this.small.delete(field) : this.table!.delete(field);
  }

  /** Turns a listpack into a hashtable (one way, as in Redis). */
  convert(): void {
    if (this.small === undefined) return;
    const table = new DenseMap<string>();
    for (const [f, v] of this.small) table.set(f, v);
    this.table = table;
    this.small = undefined;
  }

  /** Calls `fn` with every field and value, in iteration order. */
  forEach(fn: (field: string, value: string) => void): void {
    if (this.small !== undefined) {
      for (const [f, v] of this.small) fn(f, v);
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
    if (this.small === undefined) {
      const t = this.table!;
      const i = Math.floor(Math.random() * t.size);
      return [t.keyAt(i), t.valueAt(i)];
    }
    let i = Math.floor(Math.random() * this.small.size);
    for (const pair of this.small) if (i-- === 0) return pair;
    throw new RangeError("Random pick from an empty hash");
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
      for (const [f, v] of this.small) visit(f, v);
      return 0;
    }
    return this.table!.scan(cursor, count, visit);
  }

  /** A deep copy with the same encoding (COPY). */
  clone(): HashValue {
    const copy = new HashValue();
    if (this.small !== undefined) {
      copy.small = new Map(this.small);
    } else {
      copy.small = undefined;
      const table = new DenseMap<string>();
      this.forEach((f, v) => table.set(f, v));
      copy.table = table;
    }
    return copy;
  }

  /** Approximate bytes used, estimated like Redis from a sample of fields (MEMORY USAGE). */
  memoryUsage(): number {
    const n = this.size;
    if (this.small !== undefined) {
      let bytes = 7;
      for (const [f, v] of this.small) bytes += f.length + v.length + 4;
      return bytes;
    }
    const sample = Math.min(n, 5);
    let bytes = 0;
    for (let i = 0; i < sample; i++) {
      bytes += this.table!.keyAt(i).length + this.table!.valueAt(i).length + 18 + 24;
    }
    return 56 + (sample === 0 ? 0 : Math.ceil((bytes / sample) * n)) + 8 * n;
  }
}
