/**
 * Helpers shared by the sorted set command modules: typed lookups, element replies in RESP2 and
 * RESP3 shapes, and storing a computed set at a destination key.
 *
 * @module
 */

import type { Client } from "../core/client.ts";
import { N } from "../core/notify.ts";
import { DoubleReply, type Reply } from "../core/resp/reply.ts";
import { ZSet } from "../core/types/zset.ts";

export { ZSet };

/**
 * The sorted set at `key`, undefined when absent; WRONGTYPE for another type.
 *
 * @param client the calling client
 * @param key the key
 * @param write look the key up for writing (no hit/miss accounting)
 * @returns the set
 */
export function getZset(client: Client, key: string, write = false): ZSet | undefined {
  return client.db.getTyped<ZSet>(key, "zset", write);
}

/**
 * Appends one element to a range reply: the member alone, or with its score as a flat pair
 * (RESP2) or a nested pair (RESP3), as Redis's range replies do.
 *
 * @param out the reply array being built
 * @param member the member
 * @param score its score
 * @param mode 0: members only, 2: flat pairs, 3: nested pairs
 */
export function pushElement(out: Reply[], member: string, score: number, mode: number): void {
  if (mode === 0) out.push(member);
  else if (mode === 2) out.push(member, new DoubleReply(score));
  else out.push([member, new DoubleReply(score)]);
}

/** The {@linkcode pushElement} mode for a client: `withScores` and its protocol version. */
export function scoreMode(client: Client, withScores: boolean): number {
  return withScores ? (client.resp === 2 ? 2 : 3) : 0;
}

/**
 * Stores a computed set at `dst` as Redis's store commands do: a non-empty result replaces the
 * key (dropping its TTL) and fires `event`; an empty one deletes the key (firing `del`).
 *
 * @param client the calling client
 * @param dst the destination key
 * @param result the set to store
 * @param event the keyspace event of a stored result
 * @returns the reply: the stored set's size
 */
export function storeZset(client: Client, dst: string, result: ZSet, event: string): Reply {
  const db = client.db;
  if (result.size > 0) {
    db.set(dst, result);
    db.notify(N.zset, event, dst);
    client.server.dirty++;
    return result.size;
  }
  if (db.delete(dst)) {
    db.notify(N.generic, "del", dst);
    client.server.dirty++;
  }
  return 0;
}

/**
 * Deletes `key` when its set became empty, firing `del` (after the command's own event).
 *
 * @param client the calling client
 * @param key the key
 * @param z the set at the key
 * @returns true when the key was deleted
 */
export function dropIfEmpty(client: Client, key: string, z: ZSet): boolean {
  if (z.size !== 0) return false;
  client.db.delete(key);
  client.db.notify(N.generic, "del", key);
  return true;
}
