/**
 * Redis 7.4's RDB forms of a hash with field TTLs:
 *
 * | type                          | body                                                        |
 * | ----------------------------- | ----------------------------------------------------------- |
 * | 25 HASH_LISTPACK_EX           | min expiry (8-byte LE ms, 0 if none), then one listpack of   |
 * |                               | field, value, expiry-ms-or-0 triples, in listpackex order    |
 * | 24 HASH_METADATA              | min expiry (8-byte LE ms), count, then per field: length-   |
 * |                               | encoded TTL (0 none, else expiry - min + 1), field, value    |
 * | 23 / 22 (7.4 release cand.)   | as 25 / 24 without the min expiry, 22 with absolute times   |
 *
 * 7.4 writes 25 for every `listpackex` hash (even one whose fields have no TTL left) and 24 for a
 * hashtable with at least one field TTL; others keep 7.0's forms.
 *
 * @module
 */

import { HashValue } from "../types/hash.ts";
import { ListpackBuilder, listpackEntries } from "./listpack.ts";
import { RdbFormatError, type RdbReader, type RdbWriter } from "./strings.ts";

/** RDB types of hashes with field TTLs. */
export const HASH_TTL_TYPES = {
  metadataPreGa: 22,
  listpackExPreGa: 23,
  metadata: 24,
  listpackEx: 25,
} as const;

/** Redis 7.4's largest expiry time (48 bits). */
const EXPIRE_TIME_MAX = 0xFFFFFFFFFFFF;

/** The RDB type of a hash with a field TTL map, or undefined for 7.0's forms. */
export function hashTtlType(hash: HashValue): number | undefined {
  if (hash.ttls === undefined) return undefined;
  if (hash.encoding() === "listpackex") return HASH_TTL_TYPES.listpackEx;
  return hash.ttls.size === 0 ? undefined : HASH_TTL_TYPES.metadata;
}

function minExpire(hash: HashValue): number {
  let min = Infinity;
  for (const at of hash.ttls!.values()) if (at < min) min = at;
  return min;
}

function writeMs(w: RdbWriter, at: number): void {
  let lo = at % 0x100000000;
  let hi = Math.floor(at / 0x100000000);
  for (let k = 0; k < 4; k++, lo = Math.floor(lo / 256)) w.byte(lo & 0xff);
  for (let k = 0; k < 4; k++, hi >>= 8) w.byte(hi & 0xff);
}

function readMs(r: RdbReader): number {
  const b = r.bytes(8);
  let lo = 0;
  let hi = 0;
  for (let k = 3; k >= 0; k--) lo = lo * 256 + b[k]!;
  for (let k = 7; k >= 4; k--) hi = hi * 256 + b[k]!;
  return hi * 0x100000000 + lo;
}

const lp = new ListpackBuilder();

/**
 * Writes the body of a hash of type `type` (from {@linkcode hashTtlType}).
 *
 * @param w where to write
 * @param hash the hash
 * @param type 24 or 25
 * @param compress LZF-compress strings and the listpack when it pays
 */
export function writeHashTtl(w: RdbWriter, hash: HashValue, type: number, compress: boolean) {
  const ttls = hash.ttls!;
  const min = minExpire(hash);
  writeMs(w, min === Infinity ? 0 : min);
  if (type === HASH_TTL_TYPES.listpackEx) {
    lp.reset();
    hash.forEach((f, v) => {
      lp.append(f);
      lp.append(v);
      lp.append(String(ttls.get(f) ?? 0));
    });
    w.encodedBlob(lp.view(), compress);
    return;
  }
  w.length(hash.size);
  hash.forEach((f, v) => {
    const at = ttls.get(f);
    w.length(at === undefined ? 0 : at - min + 1);
    w.encodedString(f, compress);
    w.encodedString(v, compress);
  });
}

/**
 * Reads the body of a hash of RDB type 22-25.
 *
 * @param r the reader, after the type byte (and the key)
 * @param type the RDB type
 * @param entries `hash-max-listpack-entries`: more fields make a hashtable
 * @returns the hash, or undefined when it has no fields
 */
export function readHashTtl(r: RdbReader, type: number, entries: number): HashValue | undefined {
  const withMin = type === HASH_TTL_TYPES.metadata || type === HASH_TTL_TYPES.listpackEx;
  const min = withMin ? readMs(r) : 0;
  const hash = new HashValue();
  const ttls = hash.enableTtls();
  const unlimited = { entries: Infinity, value: Infinity };
  const add = (field: string, value: string, at: number) => {
    if (at > EXPIRE_TIME_MAX) throw new RdbFormatError(`invalid expireAt time: ${at}`);
    if (!hash.set(field, value, unlimited)) {
      throw new RdbFormatError("Duplicate hash fields detected");
    }
    // Straight into the map: the file already holds the fields in listpackex order.
    if (at !== 0) ttls.set(field, at);
  };
  if (type === HASH_TTL_TYPES.listpackEx || type === HASH_TTL_TYPES.listpackExPreGa) {
    const flat = listpackEntries(r.blob());
    if (flat.length % 3 !== 0) throw new RdbFormatError("Hash listpack integrity check failed.");
    for (let i = 0; i < flat.length; i += 3) add(flat[i]!, flat[i + 1]!, Number(flat[i + 2]));
  } else {
    const n = r.count();
    for (let i = 0; i < n; i++) {
      const ttl = r.count();
      const at = ttl === 0 ? 0 : type === HASH_TTL_TYPES.metadata ? ttl + min - 1 : ttl;
      const field = r.string();
      add(field, r.string(), at);
    }
    // Redis loads a hashtable when the count is over the limit, else a listpackex.
    if (n > entries) hash.convert();
  }
  if (hash.size === 0) return undefined;
  if (hash.size > entries) hash.convert();
  return hash;
}
