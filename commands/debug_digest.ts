/**
 * DEBUG DIGEST and DEBUG DIGEST-VALUE, with Redis 7.0's digest, so the same dataset gives the
 * same 40 hex digits on redeno and on redis-server (Redis's replication tests compare them).
 *
 * Two ways of folding a SHA1 into a 20-byte digest: *xor* (`digest ^= SHA1(data)`, order-free,
 * for the members of sets, hashes, sorted sets and the keys of a database) and *mix* (`digest =
 * SHA1(digest ^ SHA1(data))`, ordered, for list elements and stream entries). A key's digest mixes
 * its name, its type number (4 bytes, big-endian), its value, then xors `!!expire!!` when it has a
 * TTL; a database's keys are xored together after mixing its number; an empty dataset is 40 zeros.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { formatDouble, shortestDouble, strToBytes } from "../core/bytes.ts";
import { compat } from "../core/compat.ts";
import type { Database, Value } from "../core/keyspace/database.ts";
import type { Server } from "../core/server.ts";
import { BigString } from "../core/types/big_string.ts";
import { HashValue } from "../core/types/hash.ts";
import { ListValue } from "../core/types/list.ts";
import { SetValue } from "../core/types/set.ts";
import { streamToImage, StreamValue } from "../core/types/stream.ts";
import { ZSet } from "../core/types/zset.ts";

/** `digest ^= SHA1(data)`. */
function xorDigest(digest: Uint8Array, data: Uint8Array): void {
  const hash = createHash("sha1").update(data).digest();
  for (let i = 0; i < 20; i++) digest[i]! ^= hash[i]!;
}

/** `digest = SHA1(digest ^ SHA1(data))`. */
function mixDigest(digest: Uint8Array, data: Uint8Array): void {
  xorDigest(digest, data);
  digest.set(createHash("sha1").update(digest).digest());
}

const mixStr = (d: Uint8Array, s: string) => mixDigest(d, strToBytes(s));

/** Redis's type numbers (OBJ_STRING ... OBJ_STREAM), which the digest mixes in. */
function typeNumber(value: Value): number {
  if (typeof value === "string" || value instanceof BigString) return 0;
  if (value instanceof ListValue) return 1;
  if (value instanceof SetValue) return 2;
  if (value instanceof ZSet) return 3;
  if (value instanceof HashValue) return 4;
  if (value instanceof StreamValue) return 6;
  // A plugin's type: Redis's module type number; no digest of its own.
  return 5;
}

/**
 * Adds `value` (with its type and TTL) to `digest` (xorObjectDigest); `v72`: scores as Redis
 * 7.2+ writes them there (fpconv_dtoa), else 7.0's `%.17g`.
 */
function addValue(
  digest: Uint8Array,
  db: Database,
  key: string,
  value: Value,
  v72: boolean,
): void {
  const type = new Uint8Array(4);
  new DataView(type.buffer).setUint32(0, typeNumber(value));
  mixDigest(digest, type);
  if (typeof value === "string") mixStr(digest, value);
  else if (value instanceof BigString) mixDigest(digest, value.bytes);
  else if (value instanceof ListValue) { for (const e of value.toArray()) mixStr(digest, e); }
  else if (value instanceof SetValue) {
    for (let i = 0; i < value.size; i++) xorDigest(digest, strToBytes(value.at(i)));
  } else if (value instanceof ZSet) {
    for (const c = value.list.first(); c.valid; c.next()) {
      const ele = new Uint8Array(20);
      mixStr(ele, c.member);
      mixStr(ele, v72 ? shortestDouble(c.score) : formatDouble(c.score));
      xorDigest(digest, ele);
    }
  } else if (value instanceof HashValue) {
    value.forEach((field, v) => {
      const ele = new Uint8Array(20);
      mixStr(ele, field);
      mixStr(ele, v);
      xorDigest(digest, ele);
    });
  } else if (value instanceof StreamValue) {
    for (const entry of streamToImage(value).entries) {
      mixStr(digest, `${entry.id.ms}.${entry.id.seq}`);
      for (const f of entry.fields) mixStr(digest, f);
    }
  }
  if (db.expires.has(key)) xorDigest(digest, strToBytes("!!expire!!"));
}

const hex = (d: Uint8Array) => Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");

/**
 * DEBUG DIGEST: the digest of every database, logically expired keys included.
 *
 * @param server the server
 * @returns 40 hex digits
 */
export function datasetDigest(server: Server): string {
  const final = new Uint8Array(20);
  const v72 = compat(server.config).v72;
  for (const db of server.dbs) {
    if (db.size === 0) continue;
    const id = new Uint8Array(4);
    new DataView(id.buffer).setUint32(0, db.id);
    mixDigest(final, id);
    const keys = db.dict.keys();
    const values = db.dict.values();
    for (let i = 0; i < keys.length; i++) {
      const digest = new Uint8Array(20);
      mixStr(digest, keys[i]!);
      addValue(digest, db, keys[i]!, values[i]!, v72);
      xorDigest(final, digest);
    }
  }
  return hex(final);
}

/**
 * DEBUG DIGEST-VALUE: the digest of one key's value (type, value, TTL; not the name), or 40
 * zeros when the key does not exist.
 *
 * @param server the server (its version decides how scores are written)
 * @param db the client's database
 * @param key the key (logically expired keys count)
 * @returns 40 hex digits
 */
export function valueDigest(server: Server, db: Database, key: string): string {
  const digest = new Uint8Array(20);
  const value = db.dict.get(key);
  if (value !== undefined) addValue(digest, db, key, value, compat(server.config).v72);
  return hex(digest);
}
