/**
 * The set type, with Redis 7.0's two encodings:
 *
 * - `intset`: every member is an int64 in canonical form; kept sorted by value, as Redis's intset
 *   is, so SMEMBERS and SSCAN list them in ascending order like Redis does.
 * - `hashtable`: a {@linkcode DenseMap}, for O(1) membership, O(1) random picks (SPOP,
 *   SRANDMEMBER) and SSCAN's cursor guarantee.
 *
 * A set starts as an intset when its first member is an integer and converts, one way, when a
 * non-integer arrives or it grows past `set-max-intset-entries` (capped at 2^30, as Redis caps it).
 *
 * @module
 */

import { parseI64 } from "../bytes.ts";
import type { TypedValue } from "../keyspace/database.ts";
import { DenseMap } from "../keyspace/dense_map.ts";

/** Redis caps set-max-intset-entries at 2^30 (intset internals). */
const INTSET_HARD_MAX = 1 << 30;

/**
 * Compares two canonical int64 texts by value (no leading zeros, `-` only on negatives), without
 * converting them: sign first, then length, then digits.
 */
function compareInt(a: string, b: string): number {
  if (a === b) return 0;
  const aNeg = a.charCodeAt(0) === 45;
  const bNeg = b.charCodeAt(0) === 45;
  if (aNeg !== bNeg) return aNeg ? -1 : 1;
  const less = a.length !== b.length ? a.length < b.length : a < b;
  return less !== aNeg ? -1 : 1;
}

/** True when `s` is an int64 in the exact form Redis's string2ll accepts. */
function isIntMember(s: string): boolean {
  const c = s.charCodeAt(0);
  // Fast refusal of the common non-numeric member before the full parse.
  if (!((c >= 48 && c <= 57) || c === 45)) return false;
  return parseI64(s) !== undefined;
}

/** A Redis set value. */
export class SetValue implements TypedValue {
  readonly type = "set";
  /** Members of the intset encoding, sorted by value; undefined once converted. */
  private ints: string[] | undefined;
  /** Members of the hashtable encoding; undefined while an intset. */
  private table: DenseMap<boolean> | undefined;

  /**
   * An empty set.
   *
   * @param intset start with the intset encoding (Redis's setTypeCreate picks it when the first
   * member is an integer)
   */
  constructor(intset = true) {
    if (intset) this.ints = [];
    else this.table = new DenseMap();
  }

  /**
   * An empty set with the encoding Redis would create for a first member `member`.
   *
   * @param member the first member that will be added
   * @returns the new set
   */
  static for(member: string): SetValue {
    return new SetValue(isIntMember(member));
  }

  /** `intset` or `hashtable`, as OBJECT ENCODING reports it. */
  encoding(): string {
    return this.ints !== undefined ? "intset" : "hashtable";
  }

  /** Number of members. */
  get size(): number {
    return this.ints !== undefined ? this.ints.length : this.table!.size;
  }

  /** Position of `member` in the intset, or `-(insertion point) - 1`. */
  private search(member: string): number {
    const ints = this.ints!;
    let lo = 0;
    let hi = ints.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareInt(ints[mid]!, member);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -lo - 1;
  }

  /** True when `member` is in the set. */
  has(member: string): boolean {
    if (this.table !== undefined) return this.table.has(member);
    return isIntMember(member) && this.search(member) >= 0;
  }

  /**
   * Adds `member`, converting the encoding as Redis's setTypeAdd does.
   *
   * @param member the member
   * @param maxIntset the `set-max-intset-entries` setting (default: Redis's, 512)
   * @returns true when the member is new
   */
  add(member: string, maxIntset = 512): boolean {
    if (this.table !== undefined) return this.table.set(member, true);
    if (!isIntMember(member)) {
      this.convert();
      return this.table!.set(member, true);
    }
    const at = this.search(member);
    if (at >= 0) return false;
    this.ints!.splice(-at - 1, 0, member);
    if (this.ints!.length > Math.min(maxIntset, INTSET_HARD_MAX)) this.convert();
    return true;
  }

  /** Removes `member`; true when it was present. */
  remove(member: string): boolean {
    if (this.table !== undefined) return this.table.delete(member);
    if (!isIntMember(member)) return false;
    const at = this.search(member);
    if (at < 0) return false;
    this.ints!.splice(at, 1);
    return true;
  }

  /** Turns an intset into a hashtable (one way, as in Redis). */
  convert(): void {
    if (this.ints === undefined) return;
    const table = new DenseMap<boolean>();
    for (const m of this.ints) table.set(m, true);
    this.table = table;
    this.ints = undefined;
  }

  /** A uniformly random member; the set must not be empty. */
  random(): string {
    if (this.table !== undefined) return this.table.randomKey()!;
    return this.ints![Math.floor(Math.random() * this.ints!.length)]!;
  }

  /** Removes and returns a random member; the set must not be empty. */
  pop(): string {
    const m = this.random();
    this.remove(m);
    return m;
  }

  /** The member at position `i` of the iteration order (0 <= i < size). */
  at(i: number): string {
    return this.ints !== undefined ? this.ints[i]! : this.table!.keyAt(i);
  }

  /** Every member in iteration order (ascending for an intset), as a fresh array. */
  members(): string[] {
    return this.ints !== undefined ? this.ints.slice() : this.table!.keys();
  }

  /**
   * One SSCAN step. An intset is returned whole with cursor 0, as Redis does for its compact
   * encodings; a hashtable visits `count` positions from `cursor`.
   *
   * @param cursor 0 to start, or the value a previous call returned
   * @param count positions to visit (hashtable only)
   * @param visit called with each member
   * @returns the next cursor, 0 when done
   */
  scan(cursor: number, count: number, visit: (member: string) => void): number {
    if (this.ints !== undefined) {
      for (const m of this.ints) visit(m);
      return 0;
    }
    return this.table!.scan(cursor, count, visit);
  }

  /** A deep copy with the same encoding (COPY). */
  clone(): SetValue {
    const copy = new SetValue(this.ints !== undefined);
    if (this.ints !== undefined) copy.ints = this.ints.slice();
    else for (let i = 0; i < this.table!.size; i++) copy.table!.set(this.table!.keyAt(i), true);
    return copy;
  }

  /** Approximate bytes used, estimated like Redis from a sample of members (MEMORY USAGE). */
  memoryUsage(): number {
    const n = this.size;
    if (this.ints !== undefined) {
      // An intset uses the width of its widest member for all of them.
      let width = 2;
      for (const m of this.ints) width = Math.max(width, m.length > 9 ? 8 : m.length > 4 ? 4 : 2);
      return 8 + n * width;
    }
    const sample = Math.min(n, 5);
    let bytes = 0;
    for (let i = 0; i < sample; i++) bytes += this.table!.keyAt(i).length + 9 + 24;
    return 56 + (sample === 0 ? 0 : Math.ceil((bytes / sample) * n)) + 8 * n;
  }
}
