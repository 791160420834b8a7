/**
 * Packed entries: a small collection held in one binary string, the JavaScript counterpart of
 * Redis's listpack. Each entry is its length as a little-endian base-128 varint (one char per 7
 * bits, the high bit set on every char but the last), then its bytes. Entries are reached by
 * walking from the start, as Redis walks a listpack; the collections that use this keep few
 * entries (the `*-max-listpack-*` limits), so the walk stays short.
 *
 * Why one string: a JS string costs a 16-byte header plus its bytes, while an array of strings
 * costs 8 bytes per slot plus a 16-byte header and 8-byte padding per element (a 10-byte member:
 * 40 bytes against 11). Every modification builds a new string with `+` and then flattens it
 * ({@linkcode flatten}): a cons string left as it is would keep the old string alive and be slow
 * to walk.
 *
 * The walk keeps its position in module variables ({@linkcode packedAt}, {@linkcode packedLen}),
 * as order_tree.ts keeps its path, so that no object is allocated per step.
 *
 * @module
 */

import process from "node:process";

/** After {@linkcode readHeader}: where the entry's bytes start. */
export let packedAt = 0;
/** After {@linkcode readHeader}: the entry's length. */
export let packedLen = 0;

/** After {@linkcode findEntry}: where the found entry ends (the next entry starts). */
export let foundNext = 0;

/**
 * Where the first entry equal to `v` starts, or -1; sets {@linkcode foundNext}. With `pairs`,
 * only every other entry is compared (the fields of field/value pairs).
 *
 * @param s the packed string
 * @param v the entry looked for
 * @param pairs compare entries 0, 2, 4... only, skipping the one after each
 * @returns where the entry's header starts, or -1
 */
export function findEntry(s: string, v: string, pairs: boolean): number {
  const n = v.length;
  const last = n === 0 ? -1 : v.charCodeAt(n - 1);
  for (let pos = 0; pos < s.length;) {
    // One-char headers (entries under 128 bytes) read inline; longer ones through readHeader.
    let at = pos + 1;
    let len = s.charCodeAt(pos);
    if (len >= 0x80) {
      readHeader(s, pos);
      at = packedAt;
      len = packedLen;
    }
    const next = at + len;
    if (len === n && (n === 0 || (s.charCodeAt(next - 1) === last && equalAt(s, at, v)))) {
      foundNext = next;
      return pos;
    }
    if (!pairs) {
      pos = next;
    } else {
      const vlen = s.charCodeAt(next);
      pos = vlen < 0x80 ? next + 1 + vlen : readHeader(s, next);
    }
  }
  return -1;
}

/**
 * Reads the header of the entry at `pos`, setting {@linkcode packedAt} and
 * {@linkcode packedLen}.
 *
 * @param s the packed string
 * @param pos where the entry starts
 * @returns the position of the next entry
 */
export function readHeader(s: string, pos: number): number {
  let c = s.charCodeAt(pos++);
  let len = c & 0x7f;
  let shift = 7;
  while (c & 0x80) {
    c = s.charCodeAt(pos++);
    len += (c & 0x7f) * 2 ** shift;
    shift += 7;
  }
  packedAt = pos;
  packedLen = len;
  return pos + len;
}

/**
 * True when V8 compares a sliced string (a slice of 13 chars or more is a view of its parent)
 * with `===` through a runtime call: V8 11.3 (Node 20) does (String::SlowEquals, 5% of an
 * in-process ZADD by perf), V8 15 (Deno 2.9) compares in place.
 */
const SLOW_SLICED_EQUALS = Number(process.versions.v8.split(".")[0]) < 12;

/**
 * True when `s` holds `v` at `at` (the caller checked that the lengths match). The callers only
 * get here for a candidate whose length and last char match, usually the entry sought.
 *
 * A slice and `===`: a `charCodeAt` loop is slower from 8 chars up (Deno: 14 against 27 ns at 8
 * chars, 28 against 106 at 40). Where `===` of a sliced string is a runtime call
 * ({@linkcode SLOW_SLICED_EQUALS}), `indexOf` compares the chars in place (equal lengths make it
 * one comparison, 0 or -1); its cost grows faster with the length, so long entries keep `===`.
 * SetValue.add of a present member among 8 (min CPU per call, Node 20): 63 ns before, 47 with
 * `indexOf` at 14 bytes, 52 at 20, 63 at 40 (65 before), 74 at 60 (67 before); on Deno `===`
 * stays ahead at every length (47 ns against 49 to 75).
 *
 * @param s the packed string
 * @param at where the candidate's bytes start
 * @param v the string sought
 * @returns whether they are equal
 */
export function equalAt(s: string, at: number, v: string): boolean {
  const n = v.length;
  return SLOW_SLICED_EQUALS && n >= 13 && n <= 40
    ? s.slice(at, at + n).indexOf(v) === 0
    : s.slice(at, at + n) === v;
}

/**
 * Byte order of the `len` bytes of `s` at `at` against `v`, as memcmp with the shorter first
 * (Redis's sdscmp), without making a string of them.
 *
 * @param s the packed string
 * @param at where the bytes start
 * @param len how many
 * @param v the string to compare with
 * @returns negative, 0 or positive
 */
export function compareAt(s: string, at: number, len: number, v: string): number {
  const n = Math.min(len, v.length);
  for (let i = 0; i < n; i++) {
    const d = s.charCodeAt(at + i) - v.charCodeAt(i);
    if (d !== 0) return d;
  }
  return len - v.length;
}

/** Varint chars of `len`, little-endian groups of 7 bits, high bit on all but the last. */
export function lenChars(len: number): string[] {
  const out: string[] = [];
  while (len >= 0x80) {
    out.push(String.fromCharCode((len % 0x80) | 0x80));
    len = Math.floor(len / 0x80);
  }
  out.push(String.fromCharCode(len));
  return out;
}

/** The header chars of an entry of `len` bytes. */
function header(len: number): string {
  return len < 0x80 ? String.fromCharCode(len) : lenChars(len).join("");
}

/** Header chars of the short lengths, made once. */
const HEADERS: string[] = Array.from({ length: 0x80 }, (_, n) => String.fromCharCode(n));

/**
 * One entry: its header and its bytes.
 *
 * @param v the entry (a binary string)
 * @returns the encoded entry
 */
export function entry(v: string): string {
  return (v.length < 0x80 ? HEADERS[v.length]! : header(v.length)) + v;
}

/**
 * The bytes a packed entry of `len` bytes takes, header included.
 *
 * @param len the entry's length
 * @returns its encoded size
 */
export function entrySize(len: number): number {
  let n = 1;
  for (let rest = len; rest >= 0x80; rest = Math.floor(rest / 0x80)) n++;
  return n + len;
}

/**
 * Bumped by {@linkcode flatten}: a use of `trim()`'s result, so that no compiler may drop the
 * call as dead code.
 */
let trimmed = 0;

/**
 * `s`, made flat. A `+` concatenation of 13 chars or more is a cons string in V8 (a tree of its
 * pieces, which holds them and the strings they are slices of); `trim()` needs the chars in one
 * run, so V8 flattens the tree in place first: one copy into a new sequential string, and the
 * pieces (and the old packed string they are slices of) are free. The cons cell left pointing
 * at the flat string is dropped by the next GC. This is 2 to 3 times faster than
 * `Array.prototype.join`, the other way to a flat string. (`charCodeAt` reads a cons string
 * without flattening it; `join` of one piece and "" returns that piece.)
 *
 * @param s the string
 * @returns `s`, flat
 */
export function flatten(s: string): string {
  trimmed += s.trim().length & 1;
  return s;
}

/**
 * A flat string of the pieces, in order (see {@linkcode flatten}).
 *
 * @param a first piece
 * @param b second piece
 * @param c third piece (optional)
 * @param d fourth piece (optional)
 * @returns the flat concatenation
 */
export function flat(a: string, b: string, c = "", d = ""): string {
  return flatten(a + b + c + d);
}

/**
 * The packed string of `entries`, in order.
 *
 * @param entries the entries
 * @returns the packed string
 * @example
 * ```ts
 * import { pack, unpack } from "./packed.ts";
 * unpack(pack(["a", "", "bc"])); // ["a", "", "bc"]
 * ```
 */
export function pack(entries: readonly string[]): string {
  const out: string[] = new Array(entries.length);
  for (let i = 0; i < entries.length; i++) out[i] = entry(entries[i]!);
  return out.join("");
}

/**
 * Every entry of a packed string, as fresh strings (so that they do not hold the packed
 * string: a slice of 13 or more chars is a view of its parent in V8).
 *
 * @param s the packed string
 * @returns the entries in order
 */
export function unpack(s: string): string[] {
  const out: string[] = [];
  for (let pos = 0; pos < s.length;) {
    pos = readHeader(s, pos);
    out.push(copy(s.slice(packedAt, pos)));
  }
  return out;
}

/**
 * A copy of `s` that owns its chars (V8 may return a slice as a view of the parent string; this
 * one is sequential).
 *
 * @param s the string
 * @returns an equal string that refers to no other
 */
export function copy(s: string): string {
  if (s.length < 13) return s;
  // Two pieces make a cons string, which flatten() copies into a string of its own.
  return flatten(s.slice(0, 1) + s.slice(1));
}
