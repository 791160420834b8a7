/**
 * A group's layout in its hash (see README.md): `capacity`, `open`, and one `m:<member>` field per
 * member holding its lease deadline (Unix ms) or `0`. Every change goes through here: it mutates
 * the hash, counts the change, raises the keyspace event, records the HSET/HDEL effect that
 * replicas and the AOF receive, and publishes the membership notification.
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
/** Prefix of member fields. */
export const MEMBER = "m:";

/** The channel a group's membership changes are published on. */
export function channelOf(key: string): string {
  return `__group__:${key}`;
}

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
 * `setFields` and `removeMember`), so a refused command writes nothing.
 */
export function findGroup(db: Database, key: string): HashValue | undefined {
  const hash = db.getTyped<HashValue>(key, "hash");
  if (hash === undefined) return undefined;
  if (!hash.has(CAPACITY) || !hash.has(OPEN)) return fail(E.wrongType);
  return hash;
}

/** Members of a group (the hash holds exactly the two settings besides them). */
export function sizeOf(hash: HashValue): number {
  return hash.size - 2;
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

/** Sets fields of a group, with the HSET effect, keyspace event and change count. */
export function setFields(client: Client, key: string, hash: HashValue, pairs: string[]): void {
  const server = client.server;
  const lim = hashLimits(server);
  client.db.lookupWrite(key);
  for (let i = 0; i < pairs.length; i += 2) hash.set(pairs[i]!, pairs[i + 1]!, lim);
  client.db.touch(key);
  client.db.notify(N.hash, "hset", key);
  server.dirty += pairs.length / 2;
  server.replicate(client.db.id, ["HSET", key, ...pairs]);
}

/**
 * Removes member `field` of the group at `key` in `db` (a leave or an expired lease): HDEL effect,
 * keyspace event, notification. Runs inside a command or from the server tick.
 */
export function removeMember(
  server: Server,
  db: Database,
  key: string,
  hash: HashValue,
  member: string,
  why: "leave" | "expire",
): void {
  const field = MEMBER + member;
  db.lookupWrite(key);
  hash.delete(field);
  db.touch(key);
  db.notify(N.hash, "hdel", key);
  server.dirty++;
  server.propagateNow(db.id, ["HDEL", key, field]);
  server.pubsub.publish(channelOf(key), `${why} ${member} ${sizeOf(hash)}`);
}

/** Creates a group hash at `key` (the caller checked the key is free). */
export function createGroup(client: Client, key: string, capacity: number, open: boolean): void {
  const hash = new HashValue();
  client.db.add(key, hash);
  setFields(client, key, hash, [CAPACITY, String(capacity), OPEN, open ? "1" : "0"]);
}
