/**
 * Each server's hash listpack thresholds, kept current by a config listener.
 *
 * @module
 */

import type { Client } from "../core/client.ts";
import type { Config } from "../core/config.ts";
import type { HashLimits } from "../core/types/hash.ts";

/** Each server's listpack thresholds (no config lookups per write). */
const limitsOf = new WeakMap<Config, HashLimits>();

/** The listpack thresholds of the client's server. */
export function hashLimits(client: Client): HashLimits {
  const config = client.server.config;
  let limits = limitsOf.get(config);
  if (limits === undefined) {
    const l: HashLimits = {
      entries: config.num("hash-max-listpack-entries"),
      value: config.num("hash-max-listpack-value"),
    };
    config.onChange((name, value) => {
      if (name === "hash-max-listpack-entries") l.entries = value as number;
      else if (name === "hash-max-listpack-value") l.value = value as number;
    });
    limitsOf.set(config, l);
    limits = l;
  }
  return limits;
}
