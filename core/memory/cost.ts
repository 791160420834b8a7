/**
 * What the keyspace costs, in bytes of the JavaScript representation: the figures behind
 * `used_memory`, `MEMORY USAGE` and maxmemory eviction. Redis reads its allocator; a JavaScript
 * heap cannot be asked what one object costs, so redeno keeps an estimate per key, updated as keys
 * come, change and go (core/keyspace/dense_map.ts keeps one size per entry and their sum).
 *
 * The constants are those of V8 on 64-bit machines without pointer compression (Node and Deno):
 * a one-byte string is a 16-byte header (map, hash, length) and its characters rounded up to 8;
 * a keyspace entry is its share of the hash index's slots plus the dense arrays' slots, access
 * stamp and size. Measured (heap and external bytes after a full GC, 1M keys of 16-byte keys and
 * values, Deno 2.9 and Node 20): 40 + 8 bytes per entry with a native Map as the index (29 with
 * core/keyspace/hash_index.ts, 44–48 between 100k and 600k keys), 32 per string, 35 per expiry
 * time. The constants below take the upper end of each range: the tables' load varies between
 * resizes.
 *
 * @module
 */

import type { Value } from "../keyspace/database.ts";
import type { Measure } from "../keyspace/dense_map.ts";

/** Bytes of a one-byte (binary) string of `length` characters. */
export function stringBytes(length: number): number {
  return 16 + ((length + 7) & ~7);
}

/** Bytes of one keyspace entry apart from its key's and value's own bytes. */
export const KEY_ENTRY_BYTES = 48;

/** Bytes of one entry of a database's expires table (its index slots, key reference and time). */
export const EXPIRE_ENTRY_BYTES = 40;

/** Bytes a value of another type reports when it cannot measure itself. */
const UNSIZED_VALUE_BYTES = 64;

/** The bytes a value holds: its string, or what the typed value estimates (MEMORY USAGE). */
export function valueBytes(value: Value): number {
  if (typeof value === "string") return stringBytes(value.length);
  const sized = value as { memoryUsage?: () => number };
  return sized.memoryUsage === undefined ? UNSIZED_VALUE_BYTES : sized.memoryUsage();
}

/** The bytes of a keyspace entry: the entry, its key and its value. */
export function entryBytes(key: string, value: Value): number {
  return KEY_ENTRY_BYTES + stringBytes(key.length) +
    (typeof value === "string" ? stringBytes(value.length) : valueBytes(value));
}

/** How the keyspace sizes its entries. */
export const KEYSPACE_MEASURE: Measure<Value> = { size: entryBytes };
