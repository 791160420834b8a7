/**
 * Serializes a value in RDB format (the body after the type byte), choosing what Redis 7.0
 * writes for the same value and encoding:
 *
 * | value                    | RDB type               | body                                  |
 * | ------------------------ | ---------------------- | ------------------------------------- |
 * | string                   | 0 STRING               | int8/16/32, LZF or raw string         |
 * | list                     | 18 LIST_QUICKLIST_2    | listpack nodes, split as Redis's      |
 * |                          |                        | quicklist fills them when appending   |
 * | hash, listpack encoding  | 16 HASH_LISTPACK       | one listpack, insertion order         |
 * | hash, hashtable          | 4 HASH                 | count, field/value strings            |
 * | set, intset encoding     | 11 SET_INTSET          | one intset                            |
 * | set, hashtable           | 2 SET                  | count, member strings                 |
 * | zset, listpack encoding  | 17 ZSET_LISTPACK       | one listpack of member, score         |
 * | zset, skiplist           | 5 ZSET_2               | count, member + binary double, from   |
 * |                          |                        | the highest score down                |
 *
 * Blobs (listpacks, intsets) go through the same string rules, so they may be LZF-compressed.
 *
 * @module
 */

import { formatDouble } from "../bytes.ts";
import type { Value } from "../keyspace/database.ts";
import { BigString } from "../types/big_string.ts";
import { HashValue } from "../types/hash.ts";
import { ListValue } from "../types/list.ts";
import { SetValue } from "../types/set.ts";
import { streamToImage, StreamValue } from "../types/stream.ts";
import { ZSet } from "../types/zset.ts";
import { intsetEncode } from "./intset.ts";
import { lzfCompress } from "./lzf.ts";
import { ListpackBuilder } from "./listpack.ts";
import type { RdbWriter } from "./strings.ts";
import { writeStream } from "./stream.ts";
import { HASH_TTL_TYPES, hashTtlType, writeHashTtl } from "./hash_ttl.ts";

/** RDB type bytes of values (Redis's RDB_TYPE_*). */
export const RDB_TYPE = {
  string: 0,
  list: 1,
  set: 2,
  zset: 3,
  hash: 4,
  zset2: 5,
  module: 6,
  module2: 7,
  hashZipmap: 9,
  listZiplist: 10,
  setIntset: 11,
  zsetZiplist: 12,
  hashZiplist: 13,
  listQuicklist: 14,
  streamListpacks: 15,
  hashListpack: 16,
  zsetListpack: 17,
  listQuicklist2: 18,
  streamListpacks2: 19,
  setListpack: 20,
  hashMetadata: HASH_TTL_TYPES.metadata,
  hashListpackEx: HASH_TTL_TYPES.listpackEx,
} as const;

/** How values are written, from the server's config. */
export interface WriteOptions {
  /** `rdbcompression`: LZF-compress strings and blobs longer than 20 bytes when it pays. */
  compress: boolean;
  /** `list-max-listpack-size`: how full a list node gets (< 0: bytes class, > 0: entries). */
  listFill: number;
  /** `list-compress-depth`: nodes kept uncompressed at each end; the inner ones are LZF'd. */
  listCompressDepth: number;
  /** `stream-node-max-entries` and `stream-node-max-bytes`: how full a stream node gets. */
  streamNodeMaxEntries: number;
  streamNodeMaxBytes: number;
}

/** Where the options are read from. */
export interface WriteConfig {
  /** A number-valued directive. */
  num(name: string): number;
  /** A yes/no directive. */
  bool(name: string): boolean;
}

/**
 * The write options of a server's current config.
 *
 * @param config the config
 * @returns the options
 */
export function writeOptions(config: WriteConfig): WriteOptions {
  return {
    compress: config.bool("rdbcompression"),
    listFill: config.num("list-max-listpack-size"),
    listCompressDepth: config.num("list-compress-depth"),
    streamNodeMaxEntries: config.num("stream-node-max-entries"),
    streamNodeMaxBytes: config.num("stream-node-max-bytes"),
  };
}

/**
 * The RDB type byte {@linkcode writeValue} uses for `value` (an RDB file writes it before the
 * key, DUMP before the body).
 *
 * @param value the value
 * @returns the type byte
 * @throws {TypeError} for a type that has no RDB form here (plugin types)
 */
export function valueType(value: Value): number {
  if (typeof value === "string" || value instanceof BigString) return RDB_TYPE.string;
  if (value instanceof ListValue) return RDB_TYPE.listQuicklist2;
  if (value instanceof HashValue) {
    // A hash that had field TTLs takes Redis 7.4's forms (see hash_ttl.ts).
    if (value.ttls !== undefined) return hashTtlType(value) ?? RDB_TYPE.hash;
    return value.encoding() === "listpack" ? RDB_TYPE.hashListpack : RDB_TYPE.hash;
  }
  if (value instanceof SetValue) {
    return value.encoding() === "intset" ? RDB_TYPE.setIntset : RDB_TYPE.set;
  }
  if (value instanceof ZSet) return value.isListpack ? RDB_TYPE.zsetListpack : RDB_TYPE.zset2;
  if (value instanceof StreamValue) return RDB_TYPE.streamListpacks2;
  throw new TypeError(`Cannot serialize a value of type ${value.type}`);
}

/** The builder of every listpack written here, one at a time: reusing it saves allocations. */
const lp = new ListpackBuilder();

/**
 * Writes the body of `value` (not its type byte) as Redis 7.0 would.
 *
 * @param w where to write
 * @param value the value
 * @param opts the write options (see {@linkcode writeOptions})
 * @returns the RDB type byte of what was written (same as {@linkcode valueType})
 * @throws {TypeError} for a type that has no RDB form here (plugin types)
 * @example
 * ```ts
 * const w = new RdbWriter();
 * writeValue(w, "hello", { compress: true, listFill: -2, listCompressDepth: 0 }); // 0
 * w.result(); // 5, "hello"
 * ```
 */
export function writeValue(w: RdbWriter, value: Value, opts: WriteOptions): number {
  const type = valueType(value);
  const compress = opts.compress;
  switch (type) {
    case RDB_TYPE.string:
      if (typeof value === "string") w.encodedString(value, compress);
      else w.encodedBlob((value as BigString).bytes, compress);
      break;
    case RDB_TYPE.listQuicklist2:
      writeList(w, value as ListValue, opts);
      break;
    case RDB_TYPE.hashListpack: {
      lp.reset();
      (value as HashValue).forEach((f, v) => {
        lp.append(f);
        lp.append(v);
      });
      w.encodedBlob(lp.view(), compress);
      break;
    }
    case RDB_TYPE.hashMetadata:
    case RDB_TYPE.hashListpackEx:
      writeHashTtl(w, value as HashValue, type, compress);
      break;
    case RDB_TYPE.hash: {
      const h = value as HashValue;
      w.length(h.size);
      h.forEach((f, v) => {
        w.encodedString(f, compress);
        w.encodedString(v, compress);
      });
      break;
    }
    case RDB_TYPE.setIntset:
      w.encodedBlob(intsetEncode((value as SetValue).members()), compress);
      break;
    case RDB_TYPE.set: {
      const s = value as SetValue;
      w.length(s.size);
      for (let i = 0; i < s.size; i++) w.encodedString(s.at(i), compress);
      break;
    }
    case RDB_TYPE.streamListpacks2:
      writeStream(w, streamToImage(value as StreamValue), {
        compress,
        nodeMaxEntries: opts.streamNodeMaxEntries,
        nodeMaxBytes: opts.streamNodeMaxBytes,
      });
      break;
    case RDB_TYPE.zsetListpack: {
      lp.reset();
      for (const c = (value as ZSet).list.first(); c.valid; c.next()) {
        lp.append(c.member);
        appendScore(lp, c.score);
      }
      w.encodedBlob(lp.view(), compress);
      break;
    }
    default: {
      // RDB_TYPE.zset2: highest score first, so loading inserts at the head (Redis's reason).
      const z = value as ZSet;
      w.length(z.size);
      for (const c = z.list.last(); c.valid; c.prev()) {
        w.encodedString(c.member, compress);
        w.binaryDouble(c.score);
      }
    }
  }
  return type;
}

const HALF_LLONG = 4611686018427387904; // (double)(LLONG_MAX / 2)

/** A score as Redis's zzlInsertAt stores it: an integer when exact, else `%.17g` text. */
function appendScore(b: ListpackBuilder, score: number): void {
  if (Number.isInteger(score) && score >= -HALF_LLONG && score <= HALF_LLONG) {
    b.appendInteger(score === 0 ? 0 : score);
  } else {
    b.appendString(formatDouble(score));
  }
}

/** Quicklist limits (quicklist.c): node byte classes for negative fills, the safety cap. */
const SIZE_CLASSES = [4096, 8192, 16384, 32768, 65536];
const SIZE_SAFETY_LIMIT = 8192;
const SIZE_ESTIMATE_OVERHEAD = 8;
const FILL_MAX = 32767;
const MIN_COMPRESS_BYTES = 48;
const MIN_COMPRESS_IMPROVE = 8;
/** Container tag of a listpack node (1 is a plain node). */
const QUICKLIST_PACKED = 2;
/** Elements taken from the list at a time. */
const SLICE = 4096;

/** Redis's _quicklistNodeAllowInsert: may a node of `bytes`/`count` take `size` more bytes? */
function allowInsert(bytes: number, count: number, fill: number, size: number): boolean {
  const newSize = bytes + size + SIZE_ESTIMATE_OVERHEAD;
  if (fill < 0) return newSize <= SIZE_CLASSES[-fill - 1]!;
  return newSize <= SIZE_SAFETY_LIMIT && count < fill;
}

/** A list as quicklist nodes filled the way pushing its elements at the tail fills them. */
function writeList(w: RdbWriter, list: ListValue, opts: WriteOptions): void {
  const fill = Math.max(-5, Math.min(FILL_MAX, opts.listFill));
  // Redis stores elements of 1 GiB and more in plain nodes of their own; a JS string cannot be
  // that long, so every node here is a listpack.
  const nodes: Uint8Array[] = [];
  lp.reset();
  for (let start = 0; start < list.length; start += SLICE) {
    const items = list.range(start, Math.min(list.length, start + SLICE) - 1);
    for (const s of items) {
      if (lp.count !== 0 && !allowInsert(lp.bytes, lp.count, fill, s.length)) {
        nodes.push(lp.finish());
        lp.reset();
      }
      lp.append(s);
    }
  }
  if (lp.count !== 0) nodes.push(lp.finish());
  w.length(nodes.length);
  const depth = opts.listCompressDepth;
  for (let i = 0; i < nodes.length; i++) {
    const blob = nodes[i]!;
    w.length(QUICKLIST_PACKED);
    // With list-compress-depth, Redis keeps the inner nodes LZF-compressed and saves them so.
    if (depth > 0 && i >= depth && i < nodes.length - depth && writeCompressedNode(w, blob)) {
      continue;
    }
    w.encodedBlob(blob, opts.compress);
  }
}

/** Writes a node the way quicklist compresses it, when it would; false otherwise. */
function writeCompressedNode(w: RdbWriter, blob: Uint8Array): boolean {
  if (blob.length < MIN_COMPRESS_BYTES) return false;
  const out = new Uint8Array(blob.length);
  const clen = lzfCompress(blob, 0, blob.length, out, blob.length);
  if (clen === 0 || clen + MIN_COMPRESS_IMPROVE >= blob.length) return false;
  w.lzfBlob(out.subarray(0, clen), blob.length);
  return true;
}
