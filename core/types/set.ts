/**
 * The set type, with Redis 7.0's two encodings:
 *
 * - `intset`: every member is an int64 in canonical form; kept sorted by value in one binary
 *   string of fixed-width words (intset.ts), as Redis's intset is, so SMEMBERS and SSCAN list
 *   them in ascending order like Redis does.
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
import { encodeKey, inserted, lastKeyWidth, memberAt, removed, search } from "./intset.ts";
import { PACKED_SET_ENTRIES, PACKED_SET_VALUE, PackedSet } from "./set_packed.ts";

/** Redis caps set-max-intset-entries at 2^30 (intset internals). */
const INTSET_HARD_MAX = 1 << 30;

/** True when `s` is an int64 in the exact form Redis's string2ll accepts. */
function isIntMember(s: string): boolean {
  const c = s.charCodeAt(0);
  // Fast refusal of the common non-numeric member before the full parse.
  if (!((c >= 48 && c <= 57) || c === 45)) return false;
  return parseI64(s) !== undefined;
}

/**
 * Heap bytes of the JavaScript representation, without pointer compression (Node and Deno
 * builds): an object of `slots` fields is a 24-byte header plus 8 per field; a one-byte string is
 * 16 bytes plus its chars padded to 8.
 */
function stringBytes(len: number): number {
  return 16 + ((len + 7) & ~7);
}

/**
 * Per-member cost of the hashtable encoding beyond the member's string: the Map entry (key,
 * value, chain, 24 bytes, with its share of the buckets and spare room) and the two dense-array
 * slots. Measured: a 100,000-member set grew the heap by about 57 bytes per member beyond its
 * strings on Node 20.
 */
const TABLE_PER_MEMBER = 57;

/** Sets intset.ts's key to `member`; false when it is not an int64 in canonical form. */
function intKey(member: string): boolean {
  const c = member.charCodeAt(0);
  // Fast refusal of the common non-numeric member before the full parse.
  return ((c >= 48 && c <= 57) || c === 45) && encodeKey(member);
}

/** A Redis set value. */
export class SetValue implements TypedValue {
  readonly type = "set";
  /** The intset encoding: the members as words of {@linkcode width} bytes; else undefined. */
  private ints: string | undefined;
  /** Bytes per member of the intset (2, 4 or 8). */
  private width = 2;
  /**
   * A small hashtable-encoded set, packed (set_packed.ts): OBJECT ENCODING says `hashtable`, as
   * Redis 7.0 does, but the members take one string. Undefined otherwise.
   */
  private small: PackedSet | undefined;
  /** Members of a big hashtable-encoded set; undefined while an intset or packed. */
  private table: DenseMap<boolean> | undefined;

  /**
   * An empty set.
   *
   * @param intset start with the intset encoding (Redis's setTypeCreate picks it when the first
   * member is an integer)
   */
  constructor(intset = true) {
    if (intset) this.ints = "";
    else this.small = new PackedSet();
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
    if (this.ints !== undefined) return this.ints.length / this.width;
    return this.small !== undefined ? this.small.size : this.table!.size;
  }

  /** Position of `member` in the intset, or a negative number when it is not there. */
  private search(member: string): number {
    if (!intKey(member)) return -1;
    if (lastKeyWidth() > this.width) return -1;
    return search(this.ints!, this.width);
  }

  /** True when `member` is in the set. */
  has(member: string): boolean {
    if (this.table !== undefined) return this.table.has(member);
    if (this.small !== undefined) return this.small.has(member);
    return this.search(member) >= 0;
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
    if (this.small !== undefined) return this.addPacked(member);
    if (!intKey(member)) {
      if (this.size >= PACKED_SET_ENTRIES || member.length > PACKED_SET_VALUE) {
        this.convert();
        return this.table!.set(member, true);
      }
      this.toPacked();
      return this.addPacked(member);
    }
    const from = this.width;
    const w = Math.max(from, lastKeyWidth());
    // A wider value than every member lies past either end: no search needed.
    const at = w === from
      ? search(this.ints!, w)
      : -1 - (member.charCodeAt(0) === 45 ? 0 : this.size);
    if (at >= 0) return false;
    this.ints = inserted(this.ints!, from, w, -at - 1);
    this.width = w;
    if (this.size > Math.min(maxIntset, INTSET_HARD_MAX)) this.convert();
    return true;
  }

  /** Adds to the packed form, moving to a table past the packed limits. */
  private addPacked(member: string): boolean {
    const small = this.small!;
    if (member.length > PACKED_SET_VALUE || small.size >= PACKED_SET_ENTRIES) {
      if (small.has(member)) return false;
      this.toTable();
      return this.table!.set(member, true);
    }
    return small.add(member);
  }

  /** Intset to packed hashtable (the first non-integer member of a small intset). */
  private toPacked(): void {
    const small = new PackedSet();
    for (let i = 0; i < this.size; i++) small.add(memberAt(this.ints!, this.width, i));
    this.small = small;
    this.ints = undefined;
  }

  /** Packed to a real table (past the packed limits). */
  private toTable(): void {
    const table = new DenseMap<boolean>();
    const small = this.small!;
    for (let i = 0; i < small.size; i++) table.set(small.at(i), true);
    this.table = table;
    this.small = undefined;
  }

  /** Removes `member`; true when it was present. */
  remove(member: string): boolean {
    if (this.table !== undefined) return this.table.delete(member);
    if (this.small !== undefined) return this.small.remove(member);
    const at = this.search(member);
    if (at < 0) return false;
    this.ints = removed(this.ints!, this.width, at);
    return true;
  }

  /** Turns an intset into a hashtable (one way, as in Redis). */
  convert(): void {
    if (this.small !== undefined) this.toTable();
    if (this.ints === undefined) return;
    const table = new DenseMap<boolean>();
    for (let i = 0; i < this.size; i++) table.set(memberAt(this.ints, this.width, i), true);
    this.table = table;
    this.ints = undefined;
  }

  /** A uniformly random member; the set must not be empty. */
  random(): string {
    if (this.table !== undefined) return this.table.randomKey()!;
    if (this.small !== undefined) return this.small.at(Math.floor(Math.random() * this.size));
    return this.at(Math.floor(Math.random() * this.size));
  }

  /** Removes and returns a random member; the set must not be empty. */
  pop(): string {
    const m = this.random();
    this.remove(m);
    return m;
  }

  /** The member at position `i` of the iteration order (0 <= i < size). */
  at(i: number): string {
    if (this.ints !== undefined) return memberAt(this.ints, this.width, i);
    return this.small !== undefined ? this.small.at(i) : this.table!.keyAt(i);
  }

  /** Every member in iteration order (ascending for an intset), as a fresh array. */
  members(): string[] {
    if (this.small !== undefined) return this.small.members();
    if (this.ints === undefined) return this.table!.keys();
    const out: string[] = new Array(this.size);
    for (let i = 0; i < out.length; i++) out[i] = memberAt(this.ints, this.width, i);
    return out;
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
    if (this.ints !== undefined || this.small !== undefined) {
      for (const m of this.members()) visit(m);
      return 0;
    }
    return this.table!.scan(cursor, count, visit);
  }

  /** A deep copy with the same encoding (COPY). */
  clone(): SetValue {
    const copy = new SetValue(this.ints !== undefined);
    if (this.ints !== undefined) {
      // Strings are immutable: the copy shares the intset until either is written.
      copy.ints = this.ints;
      copy.width = this.width;
    } else if (this.small !== undefined) {
      const small = new PackedSet();
      small.s = this.small.s;
      small.size = this.small.size;
      copy.small = small;
    } else {
      copy.small = undefined;
      copy.table = new DenseMap();
      for (let i = 0; i < this.table!.size; i++) copy.table.set(this.table!.keyAt(i), true);
    }
    return copy;
  }

  /**
   * Approximate bytes of the JavaScript representation (MEMORY USAGE): O(1) for an intset or a
   * packed set (the object, the packed set's object of 24 + 4 fields, the string), from a sample
   * of five members for a table (their strings plus {@linkcode TABLE_PER_MEMBER} each).
   */
  memoryUsage(): number {
    const base = 24 + 5 * 8;
    if (this.ints !== undefined) return base + stringBytes(this.ints.length);
    if (this.small !== undefined) return base + 56 + stringBytes(this.small.s.length);
    const t = this.table!;
    const n = t.size;
    const sample = Math.min(n, 5);
    let bytes = 0;
    for (let i = 0; i < sample; i++) bytes += stringBytes(t.keyAt(i).length);
    return base + 64 + (sample === 0 ? 0 : Math.ceil((bytes / sample) * n)) + TABLE_PER_MEMBER * n;
  }
}
