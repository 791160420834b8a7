/**
 * The sorted set value, in Redis 7.0's two encodings:
 *
 * - `listpack`: a {@linkcode PackedOrder}, every element in order in one packed string, walked
 *   as Redis walks its listpack (zset_packed.ts).
 * - `skiplist`: a member → score map (a {@linkcode DenseMap}, for O(1) lookups, random picks and
 *   a SCAN cursor) plus an {@linkcode OrderTree} (a counted B+ tree) for order, rank and ranges.
 *
 * A set converts, one way, once it passes `zset-max-listpack-entries` elements or a member passes
 * `zset-max-listpack-value` bytes. Both indexes answer the {@linkcode OrderIndex} interface, which
 * the range commands use through {@linkcode ZSet.list}.
 *
 * @module
 */

import { DenseMap } from "../keyspace/dense_map.ts";
import type { TypedValue } from "../keyspace/database.ts";
import { type OrderIndex, OrderTree } from "./order_tree.ts";
import { PackedOrder } from "./zset_packed.ts";
import { copy } from "./packed.ts";

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
  /** Registers a listener for changes (the server's config has it; it keeps a cache current). */
  onChange?(listener: (name: string, value: unknown) => void): void;
}

/** Each config's thresholds, kept current by a listener: no name lookups per insert. */
const cachedLimits = new WeakMap<ConfigSource, ZsetLimits>();

function currentLimits(config: ConfigSource): ZsetLimits {
  let limits = cachedLimits.get(config);
  if (limits !== undefined) return limits;
  limits = zsetLimits(config);
  if (config.onChange === undefined) return limits;
  const live = limits;
  config.onChange((name, value) => {
    if (name === "zset-max-listpack-entries") live.entries = value as number;
    else if (name === "zset-max-listpack-value") live.value = value as number;
  });
  cachedLimits.set(config, live);
  return live;
}

/** The current listpack thresholds. */
export function zsetLimits(config: ConfigSource): ZsetLimits {
  return {
    entries: config.num("zset-max-listpack-entries"),
    value: config.num("zset-max-listpack-value"),
  };
}

/**
 * Per-element bytes of the skiplist encoding beyond the member string, measured with
 * 100,000-element sets (about 119 heap bytes per element of an 8-byte member on Node 20 and
 * Deno 2): the tree's leaf slots (a double and a pointer, leaves about 3/4 full, and the inner
 * nodes) about 38, the member map's entry and dense slots about 57 (as a set's).
 */
const TREE_PER_ELEMENT = 38;
const DICT_PER_ELEMENT = 57;

/** A sorted set. */
export class ZSet implements TypedValue {
  readonly type = "zset";
  /**
   * Member → score in the skiplist encoding. A listpack-encoded set has none: like Redis's
   * listpack it is searched in order, which its size limit keeps short, and it stays small.
   */
  dict: DenseMap<number> | undefined;
  /** The elements in (score, member) order: packed while a listpack, else a tree. */
  list: OrderIndex;
  /** The score the last {@linkcode add} left the member with. */
  newScore = 0;

  /**
   * @param listpack whether the set starts listpack-encoded
   */
  constructor(listpack: boolean) {
    this.dict = listpack ? undefined : new DenseMap<number>();
    this.list = listpack ? new PackedOrder() : new OrderTree();
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
    const listpack = limits !== undefined && members.length <= limits.entries &&
      longest <= limits.value;
    const z = new ZSet(listpack);
    if (listpack) {
      const order = members.map((_, i) => i);
      const sc = scores.map((x) => x === 0 ? 0 : x);
      order.sort((a, b) =>
        sc[a]! - sc[b]! || (members[a]! < members[b]! ? -1 : members[a]! > members[b]! ? 1 : 0)
      );
      z.list = PackedOrder.sorted(order.map((i) => sc[i]!), order.map((i) => members[i]!));
      return z;
    }
    for (let i = 0; i < members.length; i++) {
      const score = z.stored(scores[i]!);
      // Members read from a listpack set are views of its packed string in V8: an own copy
      // keeps the store's result from holding its sources' strings.
      const member = copy(members[i]!);
      z.list.insert(score, member);
      z.dict?.set(member, score);
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
    return (this.list as PackedOrder).scoreOf(member);
  }

  /** Converts to the skiplist encoding (adds the member map), for good. */
  private convert(): void {
    const tree = (this.list as PackedOrder).toTree();
    const dict = new DenseMap<number>();
    for (const c = tree.first(); c.valid; c.next()) dict.set(c.member, c.score);
    this.list = tree;
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
    if (this.dict === undefined) {
      const limits = currentLimits(config);
      if (this.list.length + 1 > limits.entries || member.length > limits.value) this.convert();
    }
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
    if (this.list instanceof PackedOrder) {
      // The packed string is immutable: the copy shares it until either set is written.
      const p = z.list as PackedOrder;
      p.s = this.list.s;
      p.length = this.list.length;
      return z;
    }
    for (const c = this.list.first(); c.valid; c.next()) {
      z.list.insert(c.score, c.member);
      z.dict?.set(c.member, c.score);
    }
    return z;
  }

  /**
   * Approximate bytes of the JavaScript representation (MEMORY USAGE). A listpack: the object
   * and its index (24 + 4 fields and 24 + 3 fields) and the packed string, O(1). A skiplist:
   * from the member lengths of five elements, per element its member string (16 + bytes padded
   * to 8), {@linkcode TREE_PER_ELEMENT} and {@linkcode DICT_PER_ELEMENT}.
   */
  memoryUsage(): number {
    const base = 24 + 4 * 8;
    if (this.list instanceof PackedOrder) return base + 48 + 16 + ((this.list.s.length + 7) & ~7);
    let sample = 0;
    let bytes = 0;
    for (const c = this.list.first(); c.valid && sample < 5; c.next(), sample++) {
      bytes += 16 + ((c.member.length + 7) & ~7);
    }
    const avg = sample === 0 ? 0 : bytes / sample;
    return base + 64 + Math.round(this.size * (avg + TREE_PER_ELEMENT + DICT_PER_ELEMENT));
  }
}
