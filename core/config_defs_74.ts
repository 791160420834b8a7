/**
 * The directives Redis 7.2 and 7.4 added to 7.0's table, with their defaults and ranges, so a
 * redis.conf written for 7.4 and the clients and tests that set them are answered as 7.4 answers.
 * None changes anything in redeno yet (all `inert`, named in the start-up warning when set).
 * (`client-default-resp` and `req-res-logfile` exist only in builds for Redis's own test harness.)
 *
 * @module
 */

import type { ConfigDef } from "./config_types.ts";
import { bool, int, str } from "./config_kinds.ts";

const LLONG_MAX = Number.MAX_SAFE_INTEGER;
const inert = { inert: true } as const;

/** Redis 7.2 and 7.4's new directives. */
export const DEFS_72_74: ConfigDef[] = [
  // 7.2's listpack encoding of small sets: redeno keeps small non-integer sets in its packed
  // hashtable form (OBJECT ENCODING says hashtable, as 7.0).
  int("set-max-listpack-entries", 128, 0, LLONG_MAX, inert),
  int("set-max-listpack-value", 64, 0, LLONG_MAX, inert),
  bool("hide-user-data-from-log", false, inert),
  // SORT ... ALPHA and the other collated compares use the byte order whatever the locale (which
  // is not checked: Redis refuses one its C library does not know).
  str("locale-collate", "", inert),
  int("max-new-connections-per-cycle", 10, 1, 1000, inert),
  int("max-new-tls-connections-per-cycle", 1, 1, 1000, inert),
  int("cluster-ping-interval", 0, 0, LLONG_MAX, { inert: true, hidden: true }),
  str("cluster-announce-human-nodename", "", inert),
];
