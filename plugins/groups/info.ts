/**
 * GROUP.INFO: a group at a glance. The fields of the first edition come first, in their order
 * (clients read them), then waiters, reservations, away members, the last fencing token and this
 * server's counters.
 *
 * @module
 */

import type { Client } from "../../core/client.ts";
import { MapReply, type Reply } from "../../core/resp/reply.ts";
import { group, type Groups } from "./context.ts";
import {
  AWAY,
  capacityOf,
  countersOf,
  isOpen,
  MEMBER,
  numberField,
  RESERVED,
  sizeOf,
  TOKEN,
} from "./group.ts";

/** GROUP.INFO group */
export function info(client: Client, g: Groups, key: string): Reply {
  const hash = group(client, g, key);
  const now = client.server.now();
  const members: Reply[] = [];
  const reserved: Reply[] = [];
  const away: Reply[] = [];
  const left = (value: string) => Math.max(0, Number(value) - now);
  hash.forEach((field, value) => {
    if (field.startsWith(MEMBER)) {
      const at = Number(value);
      members.push(field.slice(MEMBER.length), at === 0 ? -1 : Math.max(0, at - now));
    } else if (field.startsWith(RESERVED)) {
      reserved.push(field.slice(RESERVED.length), left(value));
    } else if (field.startsWith(AWAY)) {
      away.push(field.slice(AWAY.length), left(value));
    }
  });
  const c = countersOf(hash);
  return new MapReply([
    "name",
    key,
    "capacity",
    capacityOf(hash),
    "size",
    sizeOf(hash),
    "open",
    isOpen(hash) ? 1 : 0,
    "members",
    new MapReply(members),
    "waiters",
    g.waitlist.length(client.db, key),
    "reservations",
    new MapReply(reserved),
    "away",
    new MapReply(away),
    "token",
    numberField(hash, TOKEN),
    "joins",
    c.joins,
    "full",
    c.full,
    "expiries",
    c.expiries,
    "kicks",
    c.kicks,
  ]);
}
