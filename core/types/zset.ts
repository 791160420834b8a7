/**
 * The sorted set value: a member → score map (a {@linkcode DenseMap}, for O(1) lookups, random
 * picks and a SCAN cursor) plus an {@linkcode OrderTree} (a counted B+ tree) for order, rank and
 * ranges.
 *
 * Redis keeps small sorted sets in a listpack and converts them to a skip list once they pass
 * `zset-max-listpack-entries` elements or a member passes `zset-max-listpack-value` bytes, never
 * back. Here one structure serves both sizes (a small set is a single leaf of the tree, much like
 * a listpack); the encoding is tracked as Redis would, so OBJECT ENCODING and ZSCAN (which
 * returns a listpack whole, in order) behave the same.
 *
 * @module
 */

import { DenseMap } from "../keyspace/dense_map.ts";
import type { TypedValue } from "../keyspace/database.ts";
import { OrderTree } from "./order_tree.ts";

/** An element taken out of a set. */
export interface ZElement {
  member: string;
  score: number;
}

/** ZADD input flags. */
export const ZADD_NX = 1;
/** Only update existing members. */
export const ZADD_XX = 2;
/** Only update when the new score is greater. */
export const ZADD_GT = 4;
/** Only update when the new score is less. */
export const ZADD_LT = 8;
/** Add the score to the current one. */
export const ZADD_INCR = 16;

/** Results of {@linkcode ZSet.add}. */
export const ZADD_OUT = {
  /** The resulting score is NaN: nothing was done. */
  nan: 1,
  /** A member was added. */
  added: 2,
  /** A member's score changed. */
  updated: 4,
  /** Nothing to do because of NX, XX, GT or LT. */
  nop: 8,
} as const;

/** The listpack thresholds (`zset-max-listpack-entries` and `-value`). */
export interface ZsetLimits {
  /** Most elements a listpack-encoded set may hold. */
  entries: number;
  /** Longest member (bytes) a listpack-encoded set may hold. */
  value: number;
}

/** Where the thresholds are read from: the server's config. */
export interface ConfigSource {
  /** A number-valued directive. */
  num(name: string): number;
}

/** The current listpack thresholds. */
export function zsetLimits(config: ConfigSource): ZsetLimits {
  return {
    entries: config.num("zset-max-listpack-entries"),
    value: config.num("zset-max-listpack-value"),
  };
}

/** A sorted set. */
export class ZSet implements TypedValue {
  readonly type = "zset";
  /**
   * Member → score in the skiplist encoding. A listpack-encoded set has none: like Redis's
   * listpack it is searched in order, which its size limit keeps short, and it stays small.
   */
  dict: DenseMap<number> | undefined;
  /** The elements in (score, member) order. */
  readonly list: OrderTree = new OrderTree();
  /** The score the last {@linkcode add} left the member with. */
  newScore = 0;

  /**
   * @param listpack whether the set starts listpack-encoded
   */
  constructor(listpack: boolean) {
    this.dict = listpack ? undefined : new DenseMap<number>();
  }

  /**
   * A new empty set for a first member of `memberLength` bytes, encoded as ZADD would create it.
   *
   * @param limits the listpack thresholds
   * @param memberLength length of the first member to be added
   * @returns the set
   * @example
   * ```ts
   * const config = { num: (name: string) => name.endsWith("entries") ? 128 : 64 };
   * const z = ZSet.forFirst(zsetLimits(config), 1);
   * z.add(1, "a", 0, config);
   * ```
   */
  static forFirst(limits: ZsetLimits, memberLength: number): ZSet {
    return new ZSet(limits.entries !== 0 && memberLength <= limits.value);
  }

  /**
   * A set built from elements in any order (store commands, loading), listpack-encoded when it
   * fits the limits as Redis's `zsetConvertToListpackIfNeeded` decides.
   *
   * @param members the members
   * @param scores their scores, same order
   * @param limits the listpack thresholds; undefined for the skiplist encoding whatever the size
   * @returns the set
   */
  static fromElements(members: string[], scores: number[], limits?: ZsetLimits): ZSet {
    let longest = 0;
    for (const m of members) if (m.length > longest) longest = m.length;
    const z = new ZSet(
      limits !== undefined && members.length <= limits.entries && longest <= limits.value,
    );
    for (let i = 0; i < members.length; i++) {
      const score = z.stored(scores[i]!);
      z.list.insert(score, members[i]!);
      z.dict?.set(members[i]!, score);
    }
    return z;
  }

  /** The score as the encoding keeps it: a listpack stores -0 as the integer 0. */
  private stored(score: number): number {
    return this.dict === undefined && score === 0 ? 0 : score;
  }

  /** OBJECT ENCODING: `listpack` or `skiplist`. */
  encoding(): string {
    return this.dict === undefined ? "listpack" : "skiplist";
  }

  /** True while listpack-encoded. */
  get isListpack(): boolean {
    return this.dict === undefined;
  }

  /** Number of elements. */
  get size(): number {
    return this.list.length;
  }

  /** The score of `member`, or undefined. */
  score(member: string): number | undefined {
    if (this.dict !== undefined) return this.dict.get(member);
    for (const c = this.list.first(); c.valid; c.next()) if (c.member === member) return c.score;
    return undefined;
  }

  /** Converts to the skiplist encoding (adds the member map), for good. */
  private convert(): void {
    const dict = new DenseMap<number>();
    for (const c = this.list.first(); c.valid; c.next()) dict.set(c.member, c.score);
    this.dict = dict;
  }

  /**
   * Adds or updates one element as Redis's `zsetAdd` does.
   *
   * @param score the score (or the increment with {@linkcode ZADD_INCR})
   * @param member the member
   * @param flags `ZADD_*` input flags
   * @param config where the listpack thresholds are read, when a member joins a listpack set
   * @returns `ZADD_OUT` bits; {@linkcode newScore} holds the resulting score unless nan or nop
   */
  add(score: number, member: string, flags: number, config: ConfigSource): number {
    const cur = this.score(member);
    if (cur !== undefined) {
      if (flags & ZADD_NX) return ZADD_OUT.nop;
      if (flags & ZADD_INCR) {
        score += cur;
        if (Number.isNaN(score)) return ZADD_OUT.nan;
      }
      if ((flags & ZADD_LT && score >= cur) || (flags & ZADD_GT && score <= cur)) {
        return ZADD_OUT.nop;
      }
      this.newScore = score;
      if (score === cur) return 0;
      score = this.stored(score);
      this.list.updateScore(cur, member, score);
      this.dict?.set(member, score);
      return ZADD_OUT.updated;
    }
    if (flags & ZADD_XX) return ZADD_OUT.nop;
    if (
      this.dict === undefined && (this.list.length + 1 > config.num("zset-max-listpack-entries") ||
        member.length > config.num("zset-max-listpack-value"))
    ) this.convert();
    this.newScore = score;
    score = this.stored(score);
    this.list.insert(score, member);
    this.dict?.set(member, score);
    return ZADD_OUT.added;
  }

  /** Removes `member`; true when it was there. */
  delete(member: string): boolean {
    const score = this.score(member);
    if (score === undefined) return false;
    this.list.delete(score, member);
    this.dict?.delete(member);
    return true;
  }

  /** 0-based rank of `member` (from the top when `reverse`), -1 when absent. */
  rank(member: string, reverse: boolean): number {
    const score = this.score(member);
    if (score === undefined) return -1;
    const r = this.list.rankOf(score, member);
    return reverse ? this.list.length - r : r - 1;
  }

  /** Removes and returns the lowest (or highest, `max`) element; the set must not be empty. */
  pop(max: boolean): ZElement {
    const c = max ? this.list.last() : this.list.first();
    const e = { member: c.member, score: c.score };
    this.list.delete(e.score, e.member);
    this.dict?.delete(e.member);
    return e;
  }

  /** A uniformly random member (the set must not be empty). */
  randomMember(): string {
    const n = this.list.length;
    if (this.dict !== undefined) return this.dict.keyAt(Math.floor(Math.random() * n));
    return this.list.at(1 + Math.floor(Math.random() * n)).member;
  }

  /** Every member, in no particular order. */
  members(): string[] {
    if (this.dict !== undefined) return this.dict.keys();
    const out: string[] = [];
    for (const c = this.list.first(); c.valid; c.next()) out.push(c.member);
    return out;
  }

  /** Drops `member` from the member map after the tree removed it (range deletions). */
  forget(member: string): void {
    this.dict?.delete(member);
  }

  /** A deep copy with the same encoding (COPY). */
  clone(): ZSet {
    const z = new ZSet(this.dict === undefined);
    for (const c = this.list.first(); c.valid; c.next()) {
      z.list.insert(c.score, c.member);
      z.dict?.set(c.member, c.score);
    }
    return z;
  }

  /** Approximate bytes used (MEMORY USAGE), from the member lengths of a few elements. */
  memoryUsage(): number {
    let sample = 0;
    let bytes = 0;
    for (const c = this.list.first(); c.valid && sample < 5; c.next(), sample++) {
      bytes += c.member.length;
    }
    const avg = sample === 0 ? 0 : bytes / sample;
    return 64 + Math.round(this.size * (avg + (this.dict === undefined ? 12 : 80)));
  }
}
