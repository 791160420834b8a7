/**
 * Stream entry IDs: `<ms>-<seq>`, two unsigned 64-bit integers. Each half is a {@linkcode U64}:
 * a plain number below 2^53 (every ID a clock makes) and a bigint from 2^53 up, never both for
 * one value, so `===` is exact equality and `<`/`>` (which compare a number and a bigint by
 * value) are exact ordering over the whole range.
 *
 * IDs are parsed here the way Redis's streamGenericParseIDOrReply reads them, quirks included
 * (`string2ull` falls back to `strtoull`, which takes leading blanks, `+`, leading zeros and a
 * wrapping `-`), and encoded as 16-byte big-endian binary strings where an ordered key is needed
 * (pending entries lists).
 *
 * @module
 */

/** An unsigned 64-bit integer: a number below 2^53, a bigint from there. */
export type U64 = number | bigint;

/** 2^64 - 1, as a bigint. */
export const U64_MAX = 18446744073709551615n;
const SAFE_BIG = 9007199254740991n;

/** The canonical {@linkcode U64} of a bigint in range. */
export function u64(b: bigint): U64 {
  return b <= SAFE_BIG ? Number(b) : b;
}

/** A {@linkcode U64} as a bigint. */
export function big(x: U64): bigint {
  return typeof x === "bigint" ? x : BigInt(x);
}

/** `x + 1` (the caller makes sure x is not 2^64 - 1). */
export function inc(x: U64): U64 {
  return typeof x === "number" && x < 9007199254740991 ? x + 1 : u64(big(x) + 1n);
}

/** `x - 1` (the caller makes sure x is not 0). */
export function dec(x: U64): U64 {
  return typeof x === "number" ? x - 1 : u64(x - 1n);
}

/** True when x is 2^64 - 1. */
export function isMax(x: U64): boolean {
  return x === U64_MAX;
}

/** -1, 0 or 1 as the ID (ams, aseq) sorts before, with or after (bms, bseq). */
export function cmpId(ams: U64, aseq: U64, bms: U64, bseq: U64): number {
  if (ams !== bms) return ams < bms ? -1 : 1;
  if (aseq === bseq) return 0;
  return aseq < bseq ? -1 : 1;
}

/** A stream ID. */
export interface StreamId {
  ms: U64;
  seq: U64;
}

/** The smallest ID, 0-0. */
export const MIN_ID: StreamId = Object.freeze({ ms: 0, seq: 0 });
/** The greatest ID. */
export const MAX_ID: StreamId = Object.freeze({ ms: U64_MAX, seq: U64_MAX });

/** The text of an ID, `<ms>-<seq>`. */
export function idText(ms: U64, seq: U64): string {
  return `${ms}-${seq}`;
}

/** The ID right after `id`, or undefined past the greatest (Redis's streamIncrID failing). */
export function nextId(id: StreamId): StreamId | undefined {
  if (!isMax(id.seq)) return { ms: id.ms, seq: inc(id.seq) };
  if (isMax(id.ms)) return undefined;
  return { ms: inc(id.ms), seq: 0 };
}

/** The ID right before `id`, or undefined before 0-0 (Redis's streamDecrID failing). */
export function prevId(id: StreamId): StreamId | undefined {
  if (id.seq !== 0) return { ms: id.ms, seq: dec(id.seq) };
  if (id.ms === 0) return undefined;
  return { ms: dec(id.ms), seq: U64_MAX };
}

const BLANKS = " \t\n\v\f\r";

/**
 * Redis's `string2ull` on a C string: `string2ll` (canonical int64, negatives refused), else
 * `strtoull` (leading blanks, a sign, leading zeros; `-n` wraps modulo 2^64; nothing after).
 */
export function parseU64(s: string): U64 | undefined {
  const len = s.length;
  // The common case: canonical digits that fit a number.
  if (len > 0 && len <= 15) {
    let n = 0;
    let i = 0;
    for (; i < len; i++) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      n = n * 10 + c;
    }
    if (i === len && (s.charCodeAt(0) !== 48 || len === 1)) return n;
  }
  let i = 0;
  while (i < len && BLANKS.includes(s[i]!)) i++;
  let neg = false;
  if (s[i] === "+" || s[i] === "-") neg = s[i++] === "-";
  const start = i;
  while (i < len && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
  if (i === start || i !== len) return undefined;
  const v = BigInt(s.slice(start, i));
  if (v > U64_MAX) return undefined;
  // string2ll accepted "-<canonical>" first and string2ull refuses negatives.
  if (neg && v !== 0n && /^-[1-9][0-9]*$/.test(s) && v <= 9223372036854775808n) return undefined;
  return u64(neg ? (U64_MAX + 1n - v) % (U64_MAX + 1n) : v);
}

/** A parsed ID argument. */
export interface ParsedId extends StreamId {
  /** False for the `<ms>-*` form (the sequence is to be generated). */
  seqGiven: boolean;
}

/**
 * Parses an ID argument as Redis's streamGenericParseIDOrReply does: `-` and `+` (unless
 * `strict`), `<ms>` (the sequence is `missingSeq`), `<ms>-<seq>`, and with `seqStar` `<ms>-*`.
 * The text is read as a C string: it ends at the first NUL byte.
 *
 * @returns the ID, or undefined when invalid
 */
export function parseStreamId(
  arg: string,
  missingSeq: U64,
  strict: boolean,
  seqStar = false,
): ParsedId | undefined {
  if (arg.length > 127) return undefined;
  const nul = arg.indexOf("\0");
  const s = nul < 0 ? arg : arg.slice(0, nul);
  if (s === "-") return strict ? undefined : { ms: 0, seq: 0, seqGiven: true };
  if (s === "+") return strict ? undefined : { ms: U64_MAX, seq: U64_MAX, seqGiven: true };
  const dash = s.indexOf("-");
  const ms = parseU64(dash < 0 ? s : s.slice(0, dash));
  if (ms === undefined) return undefined;
  if (dash < 0) return { ms, seq: missingSeq, seqGiven: true };
  const tail = s.slice(dash + 1);
  if (seqStar && tail === "*") return { ms, seq: 0, seqGiven: false };
  const seq = parseU64(tail);
  return seq === undefined ? undefined : { ms, seq, seqGiven: true };
}

const TWO32 = 4294967296;
const f = String.fromCharCode;

function u64Bytes(x: U64): string {
  if (typeof x === "number") {
    const hi = Math.floor(x / TWO32);
    const lo = x % TWO32;
    return f(
      hi >>> 24,
      (hi >>> 16) & 255,
      (hi >>> 8) & 255,
      hi & 255,
      lo >>> 24,
      (lo >>> 16) & 255,
      (lo >>> 8) & 255,
      lo & 255,
    );
  }
  let out = "";
  for (let shift = 56n; shift >= 0n; shift -= 8n) out += f(Number((x >> shift) & 255n));
  return out;
}

/** The ID as a 16-byte big-endian binary string: such keys sort as the IDs do. */
export function idKey(ms: U64, seq: U64): string {
  return u64Bytes(ms) + u64Bytes(seq);
}

function bytesU64(key: string, at: number): U64 {
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 4; i++) hi = hi * 256 + key.charCodeAt(at + i);
  for (let i = 4; i < 8; i++) lo = lo * 256 + key.charCodeAt(at + i);
  if (hi < 2097152) return hi * TWO32 + lo;
  return u64((BigInt(hi) << 32n) | BigInt(lo));
}

/** The ID of a key made by {@linkcode idKey}. */
export function keyId(key: string): StreamId {
  return { ms: bytesU64(key, 0), seq: bytesU64(key, 8) };
}
