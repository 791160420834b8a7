/**
 * How the HyperLogLog commands find and store their values: a HyperLogLog is a plain string,
 * checked on every access (`isHLLObjectOrReply`), and its error texts.
 *
 * @module
 */

import type { Client } from "./client.ts";
import type { Config } from "./config.ts";
import { isHll } from "./hll.ts";
import { E, fail } from "./resp/reply.ts";

/** The WRONGTYPE error of a string that is not a HyperLogLog. */
export const HLL_WRONGTYPE = "WRONGTYPE Key is not a valid HyperLogLog string value.";
/** The error of a HyperLogLog whose sparse opcodes are corrupted. */
export const HLL_CORRUPTED = "INVALIDOBJ Corrupted HLL object detected";

/**
 * The HyperLogLog at `key` (undefined when missing), read for writing or for reading; fails
 * with WRONGTYPE for another type or a string that is not a HyperLogLog.
 *
 * @param client the calling client
 * @param key the key
 * @param write look the key up for writing (no hit/miss count)
 * @returns the value
 * @example
 * ```ts
 * const value = hllAt(client, "visitors", false);
 * ```
 */
export function hllAt(client: Client, key: string, write: boolean): string | undefined {
  const v = write ? client.db.lookupWrite(key) : client.db.get(key);
  if (v === undefined) return undefined;
  // A string too long for a JS string (core/types/big_string.ts) is no HyperLogLog either.
  if (typeof v !== "string") return fail(v.type === "string" ? HLL_WRONGTYPE : E.wrongType);
  return isHll(v) ? v : fail(HLL_WRONGTYPE);
}

/**
 * Stores a changed HyperLogLog: adds the key when it was missing, else replaces the value
 * keeping its TTL; either way watchers are told.
 *
 * @param client the calling client
 * @param key the key
 * @param value the new value
 * @param existed whether the key held a value
 * @example
 * ```ts
 * storeHll(client, "visitors", saveHll(h), true);
 * ```
 */
export function storeHll(client: Client, key: string, value: string, existed: boolean): void {
  const db = client.db;
  if (existed) {
    db.replace(key, value);
    db.touch(key);
  } else db.add(key, value);
}

/** Each server's `hll-sparse-max-bytes`, kept current by a config listener. */
const maxBytesOf = new WeakMap<Config, { value: number }>();
/** The last server's config and box: one process rarely runs several servers. */
let lastConfig: Config | undefined;
let lastBox = { value: 0 };

/**
 * `hll-sparse-max-bytes` of the client's server, without a config lookup per command.
 *
 * @param client the calling client
 * @returns the largest size of a sparse HyperLogLog
 * @example
 * ```ts
 * hllAdd(h, "a", sparseMaxBytes(client));
 * ```
 */
export function sparseMaxBytes(client: Client): number {
  const config = client.server.config;
  if (config === lastConfig) return lastBox.value;
  let box = maxBytesOf.get(config);
  if (box === undefined) {
    const b = { value: config.num("hll-sparse-max-bytes") };
    config.onChange((name, value) => {
      if (name === "hll-sparse-max-bytes") b.value = value as number;
    });
    maxBytesOf.set(config, b);
    box = b;
  }
  lastConfig = config;
  lastBox = box;
  return box.value;
}
