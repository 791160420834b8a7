/**
 * GROUP.RESERVE: a seat held for a member for a while (the lobby promised it a place; its socket
 * has yet to connect). It counts against the capacity like a member; the member's GROUP.JOIN
 * confirms it (join.ts); when its deadline passes unconfirmed the seat frees (expiry.ts).
 *
 * @module
 */

import type { Client } from "../../core/client.ts";
import { E, fail, type Reply } from "../../core/resp/reply.ts";
import { ttlArg } from "./args.ts";
import { group, type Groups } from "./context.ts";
import { MEMBER, publish, RESERVED, reservedOf, setFields, sizeOf } from "./group.ts";
import { banned, refusal, refused } from "./join.ts";

/** GROUP.RESERVE group member TTL ms: seats taken (members and reservations) after the call. */
export function reserve(client: Client, g: Groups, argv: string[]): Reply {
  const key = argv[1]!;
  const member = argv[2]!;
  if (argv[3]!.toUpperCase() !== "TTL") return fail(E.syntax);
  const ttl = ttlArg(argv[4]!);
  const hash = group(client, g, key);
  const taken = () => sizeOf(hash) + reservedOf(hash);
  // A member already in has its seat.
  if (hash.has(MEMBER + member)) return taken();
  const field = RESERVED + member;
  const deadline = client.server.now() + ttl;
  if (!hash.has(field)) {
    const no = banned(client, hash, key, member) ?? refusal(client, g, key, hash, "new");
    if (no !== undefined) return refused(hash, no);
  }
  const fresh = !hash.has(field);
  setFields(client, key, hash, [field, String(deadline)]);
  g.leases.add(client.db, key, hash, field, deadline);
  if (fresh) publish(client.server, key, "reserve", member, hash);
  return taken();
}
