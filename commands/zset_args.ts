/**
 * Argument parsing for the sorted set commands: scores as Redis reads them with C's `strtod`
 * (hex floats, `inf`, `infinity`), score intervals (`(1.5`, `-inf`, `+inf`) and lex intervals
 * (`[a`, `(a`, `-`, `+`), with Redis's error texts.
 *
 * @module
 */

import { LEX_MAX, type LexRange, type ScoreRange } from "../core/types/zset_range_spec.ts";
import { E, fail } from "../core/resp/reply.ts";

/** Error of a bad score interval. */
export const NOT_FLOAT_RANGE = "ERR min or max is not a float";
/** Error of a bad lex interval. */
export const NOT_LEX_RANGE = "ERR min or max not valid string range item";

// Results of the last strtod() call besides its value: where it stopped, and whether the
// value over- or underflowed (C's ERANGE).
let strtodEnd = 0;
let strtodRange = false;

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 32;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/** `word` (lowercase) at `s[i]`, in any case. */
function hasWord(s: string, i: number, word: string): boolean {
  if ((s.charCodeAt(i) | 32) !== word.charCodeAt(0)) return false;
  return s.slice(i, i + word.length).toLowerCase() === word;
}

function hexFloat(s: string, i: number): number {
  let mant = 0n;
  let digits = 0;
  let exp = 0;
  let seenPoint = false;
  let nonzero = false;
  for (;; i++) {
    const c = s.charCodeAt(i);
    const h = hexValue(c);
    if (h >= 0) {
      mant = mant * 16n + BigInt(h);
      if (h !== 0) nonzero = true;
      digits++;
      if (seenPoint) exp -= 4;
    } else if (c === 46 && !seenPoint) {
      seenPoint = true;
    } else break;
  }
  if (digits === 0) return NaN;
  const pc = s.charCodeAt(i) | 32;
  if (pc === 112) {
    let j = i + 1;
    let neg = false;
    if (s[j] === "+" || s[j] === "-") neg = s[j++] === "-";
    if (isDigit(s.charCodeAt(j))) {
      let e = 0;
      while (isDigit(s.charCodeAt(j))) e = Math.min(e * 10 + s.charCodeAt(j++) - 48, 1e6);
      exp += neg ? -e : e;
      i = j;
    }
  }
  strtodEnd = i;
  // Two steps, so that a tiny or huge intermediate power does not round to 0 or Infinity.
  const half = Math.trunc(exp / 2);
  const value = Number(mant) * 2 ** half * 2 ** (exp - half);
  strtodRange = !Number.isFinite(value) || (value === 0 && nonzero);
  return value;
}

/**
 * C's `strtod` on `s` from `start`: skips white space, reads the longest number it can. Sets
 * `strtodEnd` (where it stopped: `start` when nothing was read) and `strtodRange`.
 */
function strtod(s: string, start: number): number {
  strtodRange = false;
  strtodEnd = start;
  let i = start;
  while (isSpace(s.charCodeAt(i))) i++;
  let neg = false;
  if (s[i] === "+" || s[i] === "-") neg = s[i++] === "-";
  if (hasWord(s, i, "inf")) {
    strtodEnd = i + (hasWord(s, i, "infinity") ? 8 : 3);
    return neg ? -Infinity : Infinity;
  }
  if (hasWord(s, i, "nan")) {
    let j = i + 3;
    if (s[j] === "(") {
      let k = j + 1;
      while (k < s.length && /[0-9A-Za-z_]/.test(s[k]!)) k++;
      if (s[k] === ")") j = k + 1;
    }
    strtodEnd = j;
    return NaN;
  }
  if (s[i] === "0" && (s[i + 1] === "x" || s[i + 1] === "X")) {
    const v = hexFloat(s, i + 2);
    if (!Number.isNaN(v)) return neg ? -v : v;
    // "0x" without hex digits reads as the number 0 followed by junk.
  }
  const from = i;
  let digits = 0;
  let nonzero = false;
  while (isDigit(s.charCodeAt(i))) {
    if (s[i] !== "0") nonzero = true;
    i++;
    digits++;
  }
  if (s[i] === ".") {
    i++;
    while (isDigit(s.charCodeAt(i))) {
      if (s[i] !== "0") nonzero = true;
      i++;
      digits++;
    }
  }
  if (digits === 0) return 0;
  if (s[i] === "e" || s[i] === "E") {
    let j = i + 1;
    if (s[j] === "+" || s[j] === "-") j++;
    if (isDigit(s.charCodeAt(j))) {
      while (isDigit(s.charCodeAt(j))) j++;
      i = j;
    }
  }
  strtodEnd = i;
  const value = Number(s.slice(from, i));
  strtodRange = !Number.isFinite(value) || (value === 0 && nonzero);
  return neg ? -value : value;
}

/** Scores in plain decimal notation, which need no strtod emulation. */
const PLAIN_DECIMAL = /^-?(?:\d+\.?\d*|\.\d+)$/;

/**
 * A score argument as Redis's `getDoubleFromObject` reads it: the whole text is a number (no
 * leading space), not NaN, not out of the double range.
 *
 * @param s the argument
 * @param error the error text when it is not a valid float
 * @returns the score
 */
export function scoreArg(s: string, error: string = E.notFloat): number {
  // Fast paths for the common plain decimals ("0", "-12", "3.25"): strtod reads them exactly as
  // Number does. Short integers are read by hand (a third of the regular expression's cost).
  const n = s.length;
  if (n <= 9) {
    const neg = s.charCodeAt(0) === 45;
    let i = neg ? 1 : 0;
    let v = 0;
    for (; i < n; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
    if (i === n && n > (neg ? 1 : 0)) return neg ? -v : v;
  }
  if (n <= 16 && PLAIN_DECIMAL.test(s)) return Number(s);
  const v = strtod(s, 0);
  if (
    s.length === 0 || isSpace(s.charCodeAt(0)) || strtodEnd !== s.length ||
    (strtodRange && (v === 0 || !Number.isFinite(v))) || Number.isNaN(v)
  ) return fail(error);
  return v;
}

// Whether the bound scoreBound() read last was exclusive.
let boundEx = false;

/** One bound of a score interval; sets `boundEx`. Returns NaN when invalid. */
function scoreBound(s: string): number {
  boundEx = s.charCodeAt(0) === 40;
  const v = strtod(s, boundEx ? 1 : 0);
  // Like C, the text ends at the first NUL byte.
  const end = s.indexOf("\0");
  return strtodEnd === (end < 0 ? s.length : end) ? v : NaN;
}

/**
 * A score interval as Redis's `zslParseRange` reads it: `(` makes a bound exclusive.
 *
 * @param min the lower bound argument
 * @param max the upper bound argument
 * @returns the interval; ERR min or max is not a float otherwise
 */
export function scoreRangeArg(min: string, max: string): ScoreRange {
  const lo = scoreBound(min);
  const minex = boundEx;
  const hi = scoreBound(max);
  if (Number.isNaN(lo) || Number.isNaN(hi)) return fail(NOT_FLOAT_RANGE);
  return { min: lo, max: hi, minex, maxex: boundEx };
}

/**
 * A lex interval as Redis's `zslParseLexRange` reads it: `[x` inclusive, `(x` exclusive, `-`
 * and `+` the extremes.
 *
 * @param min the lower bound argument
 * @param max the upper bound argument
 * @returns the interval; ERR min or max not valid string range item otherwise
 */
export function lexRangeArg(min: string, max: string): LexRange {
  const r: LexRange = { min: "", max: "", minex: false, maxex: false };
  if (!lexBound(min, r, true) || !lexBound(max, r, false)) return fail(NOT_LEX_RANGE);
  return r;
}

function lexBound(s: string, r: LexRange, isMin: boolean): boolean {
  let value: string;
  let ex: boolean;
  switch (s[0]) {
    case "+":
      if (s.length !== 1) return false;
      value = LEX_MAX;
      ex = true;
      break;
    case "-":
      if (s.length !== 1) return false;
      // Below every string: as a minimum it admits everything, as a maximum nothing.
      value = "";
      ex = !isMin;
      break;
    case "(":
    case "[":
      value = s.slice(1);
      ex = s[0] === "(";
      break;
    default:
      return false;
  }
  if (isMin) {
    r.min = value;
    r.minex = ex;
  } else {
    r.max = value;
    r.maxex = ex;
  }
  return true;
}
