/**
 * Score and lex intervals of the sorted set range commands: the bound tests, and the rank
 * searches and range deletions on an {@linkcode OrderIndex} built on its lower bounds.
 *
 * @module
 */

import type { OrderIndex } from "./order_tree.ts";

/** A score interval; `minex`/`maxex` make a bound exclusive. */
export interface ScoreRange {
  min: number;
  max: number;
  minex: boolean;
  maxex: boolean;
}

/**
 * A member interval. Redis's `-` and `+` are expressed as plain bounds: `-` as the inclusive
 * (min) or exclusive (max) empty string, `+` as {@linkcode LEX_MAX}, a string above every member.
 */
export interface LexRange {
  min: string;
  max: string;
  minex: boolean;
  maxex: boolean;
}

/** A string greater than every binary string (its one char is past the byte range). */
export const LEX_MAX = "\u0100";

/** True when `score` is at or past the range's lower bound. */
export function gteMin(score: number, r: ScoreRange): boolean {
  return r.minex ? score > r.min : score >= r.min;
}

/** True when `score` is at or before the range's upper bound. */
export function lteMax(score: number, r: ScoreRange): boolean {
  return r.maxex ? score < r.max : score <= r.max;
}

/** True when `member` is at or past the lex range's lower bound. */
export function lexGteMin(member: string, r: LexRange): boolean {
  return r.minex ? member > r.min : member >= r.min;
}

/** True when `member` is at or before the lex range's upper bound. */
export function lexLteMax(member: string, r: LexRange): boolean {
  return r.maxex ? member < r.max : member <= r.max;
}

function emptyRange(r: ScoreRange | LexRange): boolean {
  return r.min > r.max || (r.min === r.max && (r.minex || r.maxex));
}

/** 1-based rank of the first element of `t` in the score range, 0 when none is. */
export function firstRankInRange(t: OrderIndex, r: ScoreRange): number {
  if (emptyRange(r)) return 0;
  const c = t.countBefore((s) => !gteMin(s, r));
  return c < t.length && lteMax(t.at(c + 1).score, r) ? c + 1 : 0;
}

/** 1-based rank of the last element of `t` in the score range, 0 when none is. */
export function lastRankInRange(t: OrderIndex, r: ScoreRange): number {
  if (emptyRange(r)) return 0;
  const c = t.countBefore((s) => lteMax(s, r));
  return c > 0 && gteMin(t.at(c).score, r) ? c : 0;
}

/** Like {@linkcode firstRankInRange} for a lex range (scores are assumed all equal). */
export function firstRankInLex(t: OrderIndex, r: LexRange): number {
  if (emptyRange(r)) return 0;
  const c = t.countBefore((_, m) => !lexGteMin(m, r));
  return c < t.length && lexLteMax(t.at(c + 1).member, r) ? c + 1 : 0;
}

/** Like {@linkcode lastRankInRange} for a lex range. */
export function lastRankInLex(t: OrderIndex, r: LexRange): number {
  if (emptyRange(r)) return 0;
  const c = t.countBefore((_, m) => lexLteMax(m, r));
  return c > 0 && lexGteMin(t.at(c).member, r) ? c : 0;
}

/** Deletes the elements in the score range, calling `removed` for each; returns how many. */
export function deleteRangeByScore(
  t: OrderIndex,
  r: ScoreRange,
  removed: (member: string) => void,
): number {
  const first = firstRankInRange(t, r);
  return first === 0 ? 0 : t.deleteRangeByRank(first, lastRankInRange(t, r), removed);
}

/** Deletes the elements in the lex range, calling `removed` for each; returns how many. */
export function deleteRangeByLex(
  t: OrderIndex,
  r: LexRange,
  removed: (member: string) => void,
): number {
  const first = firstRankInLex(t, r);
  return first === 0 ? 0 : t.deleteRangeByRank(first, lastRankInLex(t, r), removed);
}
