/**
 * Commands on a group's members besides the join: GROUP.LEAVE, GROUP.KICK (with a ban),
 * GROUP.JOINALL (a party, all or none), GROUP.SETMETA and GROUP.MEMBERS.
 *
 * @module
 */

import type { Client } from "../../core/client.ts";
import { E, ErrorReply, fail, MapReply, type Reply } from "../../core/resp/reply.ts";
import type { HashValue } from "../../core/types/hash.ts";
import { banArg, tokenArg } from "./args.ts";
import { group, type Groups } from "./context.ts";
import { BANNED, MEMBER, publish, removeMember, RESERVED, sizeOf, write } from "./group.ts";
import { banned, holds, refusal, refused, stale } from "./join.ts";
import { mergeMeta, metaOf } from "./meta.ts";

/** Removes `member`'s reservation, notifying `why`; false when it has none. */
function dropReservation(
  client: Client,
  key: string,
  hash: HashValue,
  member: string,
  why: string,
) {
  if (!hash.has(RESERVED + member)) return false;
  write(client.server, client.db, key, hash, [], [RESERVED + member]);
  publish(client.server, key, why, member, hash);
  return true;
}

/** GROUP.LEAVE group member [TOKEN t] */
export function leave(client: Client, g: Groups, argv: string[]): Reply {
  const key = argv[1]!;
  const member = argv[2]!;
  let token: number | undefined;
  if (argv.length === 5 && argv[3]!.toUpperCase() === "TOKEN") token = tokenArg(argv[4]!);
  else if (argv.length === 5) return fail(E.syntax);
  // The command had exactly these two arguments before TOKEN: other counts keep their error.
  else if (argv.length !== 3) return fail(E.wrongArgs("group.leave"));
  const hash = group(client, g, key);
  if (!hash.has(MEMBER + member)) {
    // Leaving a reservation cancels it (not with a token: reservations have none).
    if (token !== undefined) return 0;
    return dropReservation(client, key, hash, member, "unreserve") ? 1 : 0;
  }
  if (token !== undefined && !holds(hash, member, token)) return stale(key, member, token);
  removeMember(client.server, client.db, key, hash, member, "leave");
  return 1;
}

/** GROUP.KICK group member [BAN ms]: 1 when a member (or reservation) was removed. */
export function kick(client: Client, g: Groups, argv: string[]): Reply {
  const key = argv[1]!;
  const member = argv[2]!;
  let ban = 0;
  if (argv.length === 5 && argv[3]!.toUpperCase() === "BAN") ban = banArg(argv[4]!);
  else if (argv.length !== 3) return fail(E.syntax);
  const hash = group(client, g, key);
  let removed = 0;
  if (hash.has(MEMBER + member)) {
    removeMember(client.server, client.db, key, hash, member, "kick");
    removed = 1;
  } else if (dropReservation(client, key, hash, member, "kick")) {
    removed = 1;
  }
  if (ban !== 0) {
    const until = client.server.now() + ban;
    write(client.server, client.db, key, hash, [BANNED + member, String(until)]);
    g.leases.add(client.db, key, hash, BANNED + member, until);
  }
  return removed;
}

/** GROUP.JOINALL group member [member ...]: every member admitted, or none. */
export function joinAll(client: Client, g: Groups, argv: string[]): Reply {
  const key = argv[1]!;
  const party = [...new Set(argv.slice(2))];
  const hash = group(client, g, key);
  for (const m of party) {
    const no = banned(client, hash, key, m);
    if (no !== undefined) return no;
  }
  // Members already in stay as they are; reservations are confirmed without a new seat.
  const fresh = party.filter((m) => !hash.has(MEMBER + m));
  const needSeats = fresh.filter((m) => !hash.has(RESERVED + m)).length;
  if (needSeats !== 0) {
    const no = refusal(client, g, key, hash, "new", needSeats);
    if (no !== undefined) return refused(hash, no);
  }
  if (fresh.length !== 0) {
    const reserved = fresh.filter((m) => hash.has(RESERVED + m)).map((m) => RESERVED + m);
    write(client.server, client.db, key, hash, fresh.flatMap((m) => [MEMBER + m, "0"]), reserved);
    // One notification per member, each with the size once the whole party is in.
    for (const m of fresh) publish(client.server, key, "join", m, hash);
  }
  return sizeOf(hash);
}

/** GROUP.SETMETA group member field value [field value ...]: fields added. */
export function setMeta(client: Client, g: Groups, argv: string[]): Reply {
  if (argv.length % 2 === 0) return fail(E.wrongArgs("group.setmeta"));
  const key = argv[1]!;
  const member = argv[2]!;
  const hash = group(client, g, key);
  if (!hash.has(MEMBER + member)) {
    return new ErrorReply(`NOMEMBER '${member}' is not a member of group '${key}'`);
  }
  const { pair, added } = mergeMeta(hash, member, argv.slice(3));
  if (pair !== undefined) {
    write(client.server, client.db, key, hash, pair);
    publish(client.server, key, "meta", member, hash);
  }
  return added;
}

/** GROUP.MEMBERS group [WITHMETA] */
export function members(client: Client, g: Groups, argv: string[]): Reply {
  let withMeta = false;
  if (argv.length === 3 && argv[2]!.toUpperCase() === "WITHMETA") withMeta = true;
  else if (argv.length !== 2) return fail(E.syntax);
  const hash = group(client, g, argv[1]!);
  const names: string[] = [];
  hash.forEach((field) => {
    if (field.startsWith(MEMBER)) names.push(field.slice(MEMBER.length));
  });
  if (!withMeta) return names;
  return new MapReply(names.flatMap((m) => [m, new MapReply([...metaOf(hash, m)].flat())]));
}
