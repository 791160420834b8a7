/**
 * A group's layout in its hash (see README.md): `capacity`, `open`, one `m:<member>` field per
 * member holding its lease deadline (Unix ms) or `0`, and the optional fields of the second
 * edition (tokens, reservations, grace, metadata, bans). Every change goes through `write`: it
 * mutates the hash, counts the change, raises the keyspace events, records the HSET/HDEL effects
 * that replicas and the AOF receive and keeps the seat counts.
 *
 * @module
 */

import type { Client } from "../../core/client.ts";
import type { Database } from "../../core/keyspace/database.ts";
import { N } from "../../core/notify.ts";
import { E, ErrorReply, fail } from "../../core/resp/reply.ts";
import type { Server } from "../../core/server.ts";
import { type HashLimits, HashValue } from "../../core/types/hash.ts";

export const CAPACITY = "capacity";
export const OPEN = "open";
/** The last fencing token issued in the group. */
export const TOKEN = "token";
/** Prefix of member fields (value: lease deadline or 0). */
export const MEMBER = "m:";
/** Prefix of a member's fencing token. */
export const MEMBER_TOKEN = "t:";
/** Prefix of reservations (value: the deadline). */
export const RESERVED = "r:";
/** Prefix of a member's grace period in ms. */
export const GRACE = "g:";
/** Prefix of away members (value: the deadline of their removal). */
export const AWAY = "a:";
/** Prefix of a member's metadata (a JSON array of field, value, ...). */
export const META = "d:";
/** Prefix of bans (value: the deadline). */
export const BANNED = "b:";

/** Prefixes of the fields whose value is a deadline (Unix ms) that the tick acts on. */
export const DEADLINES = [MEMBER, RESERVED, AWAY, BANNED];

/** The fields of a member besides `m:<member>`, removed with it. */
const MEMBER_EXTRAS = [MEMBER_TOKEN, GRACE, AWAY, META];

/**
 * The prefix of the channel a group's changes are published on: `__group__:<key>`, or in cluster
 * mode the channel in the key's slot (`__group__:{<key>}` for a key without a hash tag; see
 * core/shard_channel.ts).
 */
export const CHANNEL_PREFIX = "__group__:";

/** The limits new hashes are encoded with (Redis's listpack thresholds). */
export function hashLimits(server: Server): HashLimits {
  return {
    entries: server.config.num("hash-max-listpack-entries"),
    value: server.config.num("hash-max-listpack-value"),
  };
}

/** NOGROUP for `key`. */
export function noGroup(key: string): ErrorReply {
  return new ErrorReply(`NOGROUP no such group '${key}'`);
}

/**
 * The group at `key`, looked up for reading: undefined when the key does not exist; WRONGTYPE
 * when it holds anything but a hash with the group fields. Changes open it for writing first (see
 * `write`), so a refused command writes nothing.
 */
export function findGroup(db: Database, key: string): HashValue | undefined {
  const hash = db.getTyped<HashValue>(key, "hash");
  if (hash === undefined) return undefined;
  if (!hash.has(CAPACITY) || !hash.has(OPEN)) return fail(E.wrongType);
  return hash;
}

/** Seats taken in a group: its members and its reservations. */
interface Seats {
  members: number;
  reserved: number;
}

/**
 * Seat counts per group hash, kept by `write` and dropped (recounted on next use) when the hash
 * changes any other way (see `forgetSeats`).
 */
const seatCache = new WeakMap<HashValue, Seats>();

function seats(hash: HashValue): Seats {
  let s = seatCache.get(hash);
  if (s === undefined) {
    s = { members: 0, reserved: 0 };
    hash.forEach((field) => {
      if (field.startsWith(MEMBER)) s!.members++;
      else if (field.startsWith(RESERVED)) s!.reserved++;
    });
    seatCache.set(hash, s);
  }
  return s;
}

/** Forgets the seat counts of a hash changed outside `write` (HSET, HDEL, a replicated write). */
export function forgetSeats(hash: HashValue): void {
  seatCache.delete(hash);
}

/** Members of a group. */
export function sizeOf(hash: HashValue): number {
  return seats(hash).members;
}

/** Reservations held in a group. */
export function reservedOf(hash: HashValue): number {
  return seats(hash).reserved;
}

/** Seats free: the capacity less members and reservations (negative after a shrinking resize). */
export function freeSeats(hash: HashValue): number {
  const s = seats(hash);
  return capacityOf(hash) - s.members - s.reserved;
}

/** The capacity field, 0 if someone stored garbage in it. */
export function capacityOf(hash: HashValue): number {
  const n = Number(hash.get(CAPACITY));
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

/** True when the group admits new members. */
export function isOpen(hash: HashValue): boolean {
  return hash.get(OPEN) === "1";
}

/** A numeric field (a deadline, a token), 0 when absent or not a number. */
export function numberField(hash: HashValue, field: string): number {
  const n = Number(hash.get(field));
  return Number.isSafeInteger(n) ? n : 0;
}

function count(s: Seats, field: string, by: number): void {
  if (field.startsWith(MEMBER)) s.members += by;
  else if (field.startsWith(RESERVED)) s.reserved += by;
}

/**
 * Changes a group: sets `pairs` (field, value, ...) then deletes `remove`, with the HSET and HDEL
 * effects, keyspace events and change count. Runs inside a command or from the server tick.
 */
export function write(
  server: Server,
  db: Database,
  key: string,
  hash: HashValue,
  pairs: string[],
  remove: string[] = [],
): void {
  const s = seats(hash);
  db.lookupWrite(key);
  if (pairs.length !== 0) {
    const lim = hashLimits(server);
    for (let i = 0; i < pairs.length; i += 2) {
      if (hash.set(pairs[i]!, pairs[i + 1]!, lim)) count(s, pairs[i]!, 1);
    }
  }
  const gone = remove.filter((f) => hash.has(f));
  for (const f of gone) {
    hash.delete(f);
    count(s, f, -1);
  }
  db.touch(key);
  if (pairs.length !== 0) {
    db.notify(N.hash, "hset", key);
    server.propagateNow(db.id, ["HSET", key, ...pairs]);
  }
  if (gone.length !== 0) {
    db.notify(N.hash, "hdel", key);
    server.propagateNow(db.id, ["HDEL", key, ...gone]);
  }
  server.dirty += pairs.length / 2 + gone.length;
}

/** Sets fields of a group from a command, with the HSET effect, keyspace event and change count. */
export function setFields(client: Client, key: string, hash: HashValue, pairs: string[]): void {
  write(client.server, client.db, key, hash, pairs);
}

/**
 * What happened to a group on this server since it started (GROUP.INFO): in memory, not in the
 * hash, so that counting never writes (a refused join propagates nothing).
 */
export interface Counters {
  /** Members admitted (joins, confirmed reservations, waiters let in, parties). */
  joins: number;
  /** Joins, reservations and parties refused with FULL. */
  full: number;
  /** Members removed because their lease (and grace) passed, and reservations that passed. */
  expiries: number;
  /** Members and reservations removed by GROUP.KICK. */
  kicks: number;
}

const counters = new WeakMap<HashValue, Counters>();

/** The counters of a group hash. */
export function countersOf(hash: HashValue): Counters {
  let c = counters.get(hash);
  if (c === undefined) counters.set(hash, c = { joins: 0, full: 0, expiries: 0, kicks: 0 });
  return c;
}

/**
 * Counts the notification's event, then publishes `event member size` on the group's channel (a
 * sharded message in cluster mode).
 */
export function publish(
  server: Server,
  key: string,
  event: string,
  member: string,
  hash: HashValue,
): void {
  const c = countersOf(hash);
  if (event === "join") c.joins++;
  else if (event === "expire" || event === "reserve-expire") c.expiries++;
  else if (event === "kick") c.kicks++;
  server.pubsub.publishAbout(CHANNEL_PREFIX, key, `${event} ${member} ${sizeOf(hash)}`);
}

/** The fields that hold `member` in a group (its seat and what belongs to it). */
export function memberFields(member: string): string[] {
  return [MEMBER + member, ...MEMBER_EXTRAS.map((p) => p + member)];
}

/**
 * Removes `member` of the group at `key` in `db` (a leave, a kick or an expired lease): HDEL
 * effect, keyspace event, notification `<why> <member> <size>`.
 */
export function removeMember(
  server: Server,
  db: Database,
  key: string,
  hash: HashValue,
  member: string,
  why: string,
): void {
  write(server, db, key, hash, [], memberFields(member));
  publish(server, key, why, member, hash);
}

/** Creates a group hash at `key` (the caller checked the key is free). */
export function createGroup(client: Client, key: string, capacity: number, open: boolean): void {
  const hash = new HashValue();
  client.db.add(key, hash);
  setFields(client, key, hash, [CAPACITY, String(capacity), OPEN, open ? "1" : "0"]);
}
