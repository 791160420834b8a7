/**
 * GROUP.JOIN: the checks and the admission in one step, and `WAIT`, which puts the caller in the
 * group's line (waitlist.ts) and blocks it as BLPOP blocks (core/blocking.ts) until a seat is its
 * turn. A seat that frees while people wait belongs to the first in line: a newcomer is admitted
 * only when there are more free seats than waiters.
 *
 * @module
 */

import { canBlock, parseTimeoutSeconds } from "../../core/blocking.ts";
import type { Client } from "../../core/client.ts";
import { E, ErrorReply, fail, R, type Reply } from "../../core/resp/reply.ts";
import type { HashValue } from "../../core/types/hash.ts";
import { graceArg, tokenArg, ttlArg } from "./args.ts";
import { group, type Groups } from "./context.ts";
import {
  AWAY,
  BANNED,
  countersOf,
  freeSeats,
  GRACE,
  isOpen,
  MEMBER,
  MEMBER_TOKEN,
  numberField,
  publish,
  RESERVED,
  setFields,
  sizeOf,
  TOKEN,
  write,
} from "./group.ts";
import { mergeMeta } from "./meta.ts";
import type { Waiter } from "./waitlist.ts";

/** The options of a join. */
export interface JoinArgs {
  /** Lease in ms, 0 for none. */
  ttl: number;
  /** With WAIT: how long to wait in ms (0: forever). */
  waitMs: number | undefined;
  /** WITHTOKEN: the reply is `[size, token]`. */
  withToken: boolean;
  /** TOKEN t: the member must hold its seat under this fencing token. */
  token: number | undefined;
  /** GRACE ms: once the lease passes, away this long before removal (0: none). */
  grace: number;
  /** META field value ...: metadata to set. */
  meta: string[];
}

/**
 * Parses `[TTL ms] [GRACE ms] [WITHTOKEN] [TOKEN t] [WAIT timeout] [META field value ...]` from
 * argv[3] on.
 */
export function parseJoinArgs(argv: string[]): JoinArgs {
  const out: JoinArgs = {
    ttl: 0,
    waitMs: undefined,
    withToken: false,
    token: undefined,
    grace: 0,
    meta: [],
  };
  for (let i = 3; i < argv.length; i++) {
    const opt = argv[i]!.toUpperCase();
    if (opt === "WITHTOKEN") {
      out.withToken = true;
      continue;
    }
    if (opt === "META") {
      // The field-value pairs run to the end of the command.
      out.meta = argv.slice(i + 1);
      if (out.meta.length === 0 || out.meta.length % 2 !== 0) return fail(E.syntax);
      break;
    }
    const value = argv[++i];
    if (value === undefined) return fail(E.syntax);
    if (opt === "TTL") out.ttl = ttlArg(value);
    else if (opt === "WAIT") out.waitMs = parseTimeoutSeconds(value);
    else if (opt === "TOKEN") out.token = tokenArg(value);
    else if (opt === "GRACE") out.grace = graceArg(value);
    else return fail(E.syntax);
  }
  if (out.grace !== 0 && out.ttl === 0) return fail("ERR GRACE needs a TTL");
  return out;
}

/** STALE for a fencing token that no longer holds the member's seat. */
export function stale(key: string, member: string, token: number): ErrorReply {
  return new ErrorReply(`STALE token ${token} does not hold the seat of '${member}' in '${key}'`);
}

/** True when `member` holds its seat under fencing token `token`. */
export function holds(hash: HashValue, member: string, token: number): boolean {
  return hash.get(MEMBER_TOKEN + member) === String(token);
}

/** BANNED for a member whose ban has not passed, or undefined. */
export function banned(
  client: Client,
  hash: HashValue,
  key: string,
  member: string,
): ErrorReply | undefined {
  if (numberField(hash, BANNED + member) <= client.server.now()) return undefined;
  return new ErrorReply(`BANNED member '${member}' is banned from group '${key}'`);
}

/** `err`, a refusal answered to the client, counted when it is FULL (GROUP.INFO `full`). */
export function refused(hash: HashValue, err: ErrorReply): ErrorReply {
  if (err.message.startsWith("FULL ")) countersOf(hash).full++;
  return err;
}

/** Who asks for a seat: a newcomer, or a waiter whose turn it may be. */
export type Place = "new" | Waiter;

/**
 * Why `seats` new seats cannot be taken in the group now (CLOSED or FULL), or undefined when they
 * can. While people wait, free seats are theirs: a newcomer needs more free seats than waiters,
 * a waiter must be first in line.
 */
export function refusal(
  client: Client,
  g: Groups,
  key: string,
  hash: HashValue,
  place: Place,
  seats = 1,
): ErrorReply | undefined {
  if (!isOpen(hash)) return new ErrorReply(`CLOSED group '${key}' is closed`);
  const full = () => new ErrorReply(`FULL group '${key}' is full`);
  const free = freeSeats(hash);
  // Full whoever asks: the line need not be looked at.
  if (free < seats) return full();
  const ahead = place === "new"
    ? g.waitlist.length(client.db, key)
    : (g.waitlist.isFirst(place) ? 0 : Infinity);
  return free - ahead < seats ? full() : undefined;
}

/**
 * One try at joining: the reply, or undefined when the caller (with WAIT) is to wait. Throws
 * NOGROUP or WRONGTYPE.
 */
function attempt(
  client: Client,
  g: Groups,
  key: string,
  member: string,
  args: JoinArgs,
  place: Place,
): Reply | undefined {
  const hash = group(client, g, key);
  const field = MEMBER + member;
  // A waiter not first in line and with no seat of its own waits on: nothing else to work out.
  if (
    place !== "new" && !hash.has(field) && !hash.has(RESERVED + member) &&
    !g.waitlist.isFirst(place)
  ) return undefined;
  const deadline = args.ttl === 0 ? 0 : client.server.now() + args.ttl;
  const value = String(deadline);
  const waits = args.waitMs !== undefined;
  // A heartbeat with a token that lost its seat must not take one again.
  if (args.token !== undefined && !holds(hash, member, args.token)) {
    return stale(key, member, args.token);
  }
  let token = args.withToken ? numberField(hash, MEMBER_TOKEN + member) : 0;
  const pairs: string[] = [];
  if (args.withToken && token === 0) {
    // A new fencing token: one more than the last the group issued, stored with the seat.
    token = numberField(hash, TOKEN) + 1;
    pairs.push(TOKEN, String(token), MEMBER_TOKEN + member, String(token));
  }
  let metaChanged = false;
  if (args.meta.length !== 0) {
    const { pair } = mergeMeta(hash, member, args.meta);
    if (pair !== undefined) {
      pairs.push(...pair);
      metaChanged = true;
    }
  }
  const graceField = GRACE + member;
  if (args.grace !== 0) {
    if (hash.get(graceField) !== String(args.grace)) pairs.push(graceField, String(args.grace));
  }
  if (hash.has(field)) {
    // Already in: a retried join or a heartbeat. Only the lease (and grace) change; an away
    // member is back.
    if (hash.get(field) !== value) pairs.unshift(field, value);
    const remove = [];
    if (args.grace === 0 && hash.has(graceField)) remove.push(graceField);
    const back = hash.has(AWAY + member);
    if (back) remove.push(AWAY + member);
    if (pairs.length !== 0 || remove.length !== 0) {
      write(client.server, client.db, key, hash, pairs, remove);
    }
    if (back) publish(client.server, key, "back", member, hash);
    if (metaChanged) publish(client.server, key, "meta", member, hash);
  } else if (hash.has(RESERVED + member)) {
    // A reservation confirmed: its seat is this member's, open or closed, full or not.
    write(client.server, client.db, key, hash, [field, value, ...pairs], [RESERVED + member]);
    publish(client.server, key, "join", member, hash);
  } else {
    const ban = banned(client, hash, key, member);
    if (ban !== undefined) return ban;
    const no = refusal(client, g, key, hash, place);
    if (no !== undefined) return waits ? undefined : refused(hash, no);
    setFields(client, key, hash, [field, value, ...pairs]);
    publish(client.server, key, "join", member, hash);
  }
  if (deadline !== 0) g.leases.add(client.db, key, hash, field, deadline);
  return args.withToken ? [sizeOf(hash), token] : sizeOf(hash);
}

/**
 * GROUP.JOIN group member [TTL ms] [GRACE ms] [WITHTOKEN] [TOKEN t] [WAIT timeout]
 * [META field value ...]
 */
export function join(client: Client, g: Groups, argv: string[]): Reply {
  const key = argv[1]!;
  const member = argv[2]!;
  const args = parseJoinArgs(argv);
  const now = attempt(client, g, key, member, args, "new");
  if (now !== undefined) return now;
  // Inside MULTI or a script the caller cannot wait: the answer is the timeout's, as BLPOP's.
  if (!canBlock(client)) return null;
  const w = g.waitlist.add(client, client.db, key, member);
  client.server.blocking.block(client, {
    keys: [key],
    timeoutMs: args.waitMs!,
    command: "group.join",
    timeoutReply: null,
    serve: () =>
      g.leases.run(() => {
        let reply: Reply | undefined;
        try {
          reply = attempt(client, g, key, member, args, w);
        } catch (e) {
          g.waitlist.remove(w);
          throw e;
        }
        if (reply !== undefined) g.waitlist.remove(w);
        return reply;
      }),
  });
  return R.none;
}
