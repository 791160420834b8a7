/**
 * What the GROUP.* commands share: the lease bookkeeping and the waitlists of one server, and
 * the lookup every command starts with.
 *
 * @module
 */

import type { Client } from "../../core/client.ts";
import type { HashValue } from "../../core/types/hash.ts";
import { findGroup, noGroup } from "./group.ts";
import type { Leases } from "./leases.ts";
import type { Waitlist } from "./waitlist.ts";

/** The plugin's state on one server. */
export interface Groups {
  readonly leases: Leases;
  readonly waitlist: Waitlist;
}

/** The group at `key` after its due deadlines passed, or the NOGROUP error. */
export function group(client: Client, g: Groups, key: string): HashValue {
  const hash = findGroup(client.db, key);
  if (hash === undefined) throw noGroup(key);
  g.leases.purge(client.db, key, hash);
  return hash;
}
