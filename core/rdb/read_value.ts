/**
 * Deserializes a value from RDB format (the body after the type byte), for every value type
 * Redis 7.0 writes and the older encodings it still loads (ziplists, zipmaps, quicklists of
 * ziplists, text-score sorted sets). The loaded value gets the encoding Redis would give it
 * under the current thresholds, so OBJECT ENCODING answers the same after a load or RESTORE.
 *
 * Input is never trusted: every length is checked against the bytes left, compact encodings are
 * validated entry by entry (as Redis's `sanitize-dump-payload yes` would), duplicates are
 * refused, and any problem throws {@linkcode RdbFormatError}; a value with no elements throws
 * the subclass {@linkcode RdbEmptyValueError} (an RDB loader skips such keys, as Redis does).
 *
 * @module
 */

import { bytesToStr, parseFloatStrict } from "../bytes.ts";
import type { Value } from "../keyspace/database.ts";
import { BigString, MAX_STRING_LENGTH } from "../types/big_string.ts";
import { HashValue } from "../types/hash.ts";
import { HASH_TTL_TYPES, readHashTtl } from "./hash_ttl.ts";
import { ListValue } from "../types/list.ts";
import { SetValue } from "../types/set.ts";
import { streamFromImage } from "../types/stream.ts";
import { ZSet } from "../types/zset.ts";
import { intsetMembers } from "./intset.ts";
import { listpackEntries } from "./listpack.ts";
import { readStream } from "./stream.ts";
import { RdbFormatError, type RdbReader } from "./strings.ts";
import { RDB_TYPE } from "./write_value.ts";
import { ziplistEntries, zipmapPairs } from "./ziplist.ts";

/** A value without elements (Redis refuses it in RESTORE and skips it when loading a file). */
export class RdbEmptyValueError extends RdbFormatError {
  constructor() {
    super("Empty value");
  }
}

/** The encoding thresholds a loaded value is shaped by (from the server's config). */
export interface ReadLimits {
  /** `hash-max-listpack-entries` */
  hashEntries: number;
  /** `hash-max-listpack-value` */
  hashValue: number;
  /** `set-max-intset-entries` */
  setIntsetEntries: number;
  /** `zset-max-listpack-entries` */
  zsetEntries: number;
  /** `zset-max-listpack-value` */
  zsetValue: number;
  /** `stream-node-max-entries` */
  streamNodeMaxEntries: number;
  /** `stream-node-max-bytes` */
  streamNodeMaxBytes: number;
}

/**
 * The read limits of a server's current config.
 *
 * @param config the config
 * @returns the limits
 */
export function readLimits(config: { num(name: string): number }): ReadLimits {
  return {
    hashEntries: config.num("hash-max-listpack-entries"),
    hashValue: config.num("hash-max-listpack-value"),
    setIntsetEntries: config.num("set-max-intset-entries"),
    zsetEntries: config.num("zset-max-listpack-entries"),
    zsetValue: config.num("zset-max-listpack-value"),
    streamNodeMaxEntries: config.num("stream-node-max-entries"),
    streamNodeMaxBytes: config.num("stream-node-max-bytes"),
  };
}

/**
 * True when `type` is a value type byte (Redis's rdbIsObjectType), as opposed to an opcode.
 *
 * @param type the byte
 * @returns whether it introduces a value
 */
export function isValueType(type: number): boolean {
  return (type >= 0 && type <= 7) || (type >= 9 && type <= 20) || (type >= 22 && type <= 25);
}

/** A string value: a {@linkcode BigString} when longer than a JS string can be. */
function stringValue(r: RdbReader): Value {
  const mark = r.pos;
  const { n, encoded } = r.length();
  let len = encoded ? 0 : n;
  if (encoded && n === 3) {
    r.count();
    len = r.count();
  }
  r.pos = mark;
  if (len <= MAX_STRING_LENGTH) return r.string();
  const bytes = r.blob();
  // A raw string is a view of the input: the value gets its own copy.
  return new BigString(encoded ? bytes : bytes.slice());
}

/** Limits that never convert: for compact encodings kept as loaded. */
const UNLIMITED = { entries: Infinity, value: Infinity };
/** Redis caps the intset size at 2^30 whatever the setting. */
const INTSET_HARD_MAX = 1 << 30;

/**
 * Reads the body of a value of RDB type `type`.
 *
 * @param r the reader, positioned after the type byte (and, in a file, the key)
 * @param type the RDB type byte
 * @param limits the encoding thresholds (see {@linkcode readLimits})
 * @returns the value
 * @throws {RdbFormatError} on corrupt, truncated or unsupported data
 * @throws {RdbEmptyValueError} for a value without elements
 * @example
 * ```ts
 * const r = new RdbReader(new Uint8Array([5, 104, 101, 108, 108, 111]));
 * readValue(r, 0, limits); // "hello"
 * ```
 */
export function readValue(r: RdbReader, type: number, limits: ReadLimits): Value {
  switch (type) {
    case RDB_TYPE.string:
      return stringValue(r);
    case RDB_TYPE.list:
      return ListValue.from(nonEmpty(strings(r, r.count())));
    case RDB_TYPE.listZiplist:
      return ListValue.from(nonEmpty(ziplistEntries(r.blob())));
    case RDB_TYPE.listQuicklist:
    case RDB_TYPE.listQuicklist2:
      return ListValue.from(nonEmpty(quicklistItems(r, type === RDB_TYPE.listQuicklist2)));
    case RDB_TYPE.set:
      return readSet(r, limits);
    case RDB_TYPE.setIntset: {
      const members = intsetMembers(r.blob());
      const set = new SetValue(true);
      for (const m of members) set.add(m, Infinity);
      if (members.length > limits.setIntsetEntries) set.convert();
      return set;
    }
    case RDB_TYPE.zset:
    case RDB_TYPE.zset2:
      return readZset(r, type === RDB_TYPE.zset2, limits);
    case RDB_TYPE.zsetZiplist:
    case RDB_TYPE.zsetListpack: {
      const flat = type === RDB_TYPE.zsetListpack
        ? listpackEntries(r.blob())
        : ziplistEntries(r.blob());
      return compactZset(pairs(flat), limits);
    }
    case RDB_TYPE.hash:
      return readHash(r, limits);
    case HASH_TTL_TYPES.metadataPreGa:
    case HASH_TTL_TYPES.listpackExPreGa:
    case HASH_TTL_TYPES.metadata:
    case HASH_TTL_TYPES.listpackEx:
      return readHashTtl(r, type, limits.hashEntries) ?? emptyValue();
    case RDB_TYPE.setListpack: {
      // Redis 7.2's small sets (RDB 11): one listpack of members.
      const set = new SetValue(false);
      for (const m of listpackEntries(r.blob())) set.add(m, Infinity);
      if (set.size === 0) return emptyValue();
      return set;
    }
    case RDB_TYPE.hashZipmap:
    case RDB_TYPE.hashZiplist:
    case RDB_TYPE.hashListpack: {
      const blob = r.blob();
      const flat = type === RDB_TYPE.hashListpack
        ? listpackEntries(blob)
        : type === RDB_TYPE.hashZiplist
        ? ziplistEntries(blob)
        : zipmapPairs(blob);
      return compactHash(pairs(flat), type === RDB_TYPE.hashZipmap, limits);
    }
    case RDB_TYPE.streamListpacks:
    case RDB_TYPE.streamListpacks2:
      return streamFromImage(readStream(r, type), {
        maxEntries: limits.streamNodeMaxEntries,
        maxBytes: limits.streamNodeMaxBytes,
      });
    case RDB_TYPE.module:
    case RDB_TYPE.module2:
      throw new RdbFormatError("Module values are not supported");
    default:
      throw new RdbFormatError(`Unknown RDB value type ${type}`);
  }
}

function emptyValue(): never {
  throw new RdbEmptyValueError();
}

function nonEmpty(items: string[]): string[] {
  if (items.length === 0) throw new RdbEmptyValueError();
  return items;
}

/** `n` strings; each takes at least a byte, so a hostile count runs out of input quickly. */
function strings(r: RdbReader, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(r.string());
  return out;
}

/** A flat field, value, field, value... list, which must have an even, non-zero length. */
function pairs(flat: string[]): string[] {
  if (flat.length % 2 !== 0) throw new RdbFormatError("Odd number of entries in pairs");
  return nonEmpty(flat);
}

/** The elements of a quicklist: nodes of ziplists (v1) or plain/listpack nodes (v2). */
function quicklistItems(r: RdbReader, v2: boolean): string[] {
  const nodes = r.count();
  const items: string[] = [];
  for (let i = 0; i < nodes; i++) {
    const container = v2 ? r.count() : 2;
    if (container !== 1 && container !== 2) {
      throw new RdbFormatError("Quicklist integrity check failed");
    }
    const blob = r.blob();
    if (blob.length === 0) throw new RdbFormatError("Empty quicklist node");
    if (container === 1) {
      items.push(bytesToStr(blob));
      continue;
    }
    // Empty nodes are skipped, as Redis does; an all-empty list is refused by the caller.
    for (const e of v2 ? listpackEntries(blob) : ziplistEntries(blob)) items.push(e);
  }
  return items;
}

function readSet(r: RdbReader, limits: ReadLimits): SetValue {
  const n = r.count();
  if (n === 0) throw new RdbEmptyValueError();
  const max = Math.min(limits.setIntsetEntries, INTSET_HARD_MAX);
  // Like Redis: a hashtable from the start when too many, else an intset until a non-integer.
  const set = new SetValue(n <= max);
  for (let i = 0; i < n; i++) {
    if (!set.add(r.string(), max)) throw new RdbFormatError("Duplicate set members detected");
  }
  return set;
}

function readZset(r: RdbReader, binary: boolean, limits: ReadLimits): ZSet {
  const n = r.count();
  if (n === 0) throw new RdbEmptyValueError();
  const members: string[] = [];
  const scores: number[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const member = r.string();
    const score = binary ? r.binaryDouble() : r.textDouble();
    if (Number.isNaN(score)) throw new RdbFormatError("Zset with NAN score detected");
    if (seen.has(member)) throw new RdbFormatError("Duplicate zset fields detected");
    seen.add(member);
    members.push(member);
    scores.push(score);
  }
  // Loaded as a skiplist, then converted when small enough (Redis's order of things).
  return ZSet.fromElements(members, scores, {
    entries: limits.zsetEntries,
    value: limits.zsetValue,
  });
}

/** A listpack/ziplist sorted set: kept compact unless it has too many elements. */
function compactZset(flat: string[], limits: ReadLimits): ZSet {
  const members: string[] = [];
  const scores: number[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < flat.length; i += 2) {
    const member = flat[i]!;
    const score = parseFloatStrict(flat[i + 1]!);
    if (score === undefined) throw new RdbFormatError("Invalid zset score");
    if (seen.has(member)) throw new RdbFormatError("Duplicate zset fields detected");
    seen.add(member);
    members.push(member);
    scores.push(score);
  }
  return ZSet.fromElements(
    members,
    scores,
    members.length > limits.zsetEntries ? undefined : UNLIMITED,
  );
}

function readHash(r: RdbReader, limits: ReadLimits): HashValue {
  const n = r.count();
  if (n === 0) throw new RdbEmptyValueError();
  const hash = new HashValue();
  if (n > limits.hashEntries) hash.convert();
  const shape = { entries: limits.hashEntries, value: limits.hashValue };
  for (let i = 0; i < n; i++) {
    const field = r.string();
    const value = r.string();
    if (!hash.set(field, value, shape)) throw new RdbFormatError("Duplicate hash fields detected");
  }
  return hash;
}

/**
 * A listpack/ziplist/zipmap hash: kept compact unless it has too many fields (or, for a zipmap,
 * a field or value too long, as Redis checks there only).
 */
function compactHash(flat: string[], zipmap: boolean, limits: ReadLimits): HashValue {
  const hash = new HashValue();
  let longest = 0;
  for (let i = 0; i < flat.length; i += 2) {
    const field = flat[i]!;
    const value = flat[i + 1]!;
    longest = Math.max(longest, field.length, value.length);
    if (!hash.set(field, value, UNLIMITED)) {
      throw new RdbFormatError("Duplicate hash fields detected");
    }
  }
  if (hash.size > limits.hashEntries || (zipmap && longest > limits.hashValue)) hash.convert();
  return hash;
}
