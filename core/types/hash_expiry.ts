/**
 * Expiry of hash fields (Redis 7.4): lazily when a command reads a field, and actively from the
 * server tick. An expired field is deleted, its deletion goes to replicas and the AOF as
 * `HDEL key field`, and the `hexpired` event is raised; a hash left empty is deleted (`del`).
 *
 * Like keys, fields only expire on a master: a replica reports them gone but keeps them until
 * its master's HDEL, and a paused server keeps them too.
 *
 * The active cycle walks, per database, the keys of the hashes known to have field TTLs: set by a
 * command, loaded, restored, or read since. Keys that got there another way (RENAME, MOVE, COPY,
 * SWAPDB) are found by a slow scan of the keyspace the cycle also does, a few keys per tick. A
 * key that no longer holds such a hash leaves the set when the cycle meets it.
 *
 * @module
 */

import type { Client } from "../client.ts";
import type { Database } from "../keyspace/database.ts";
import { N } from "../notify.ts";
import type { Server } from "../server.ts";
import type { HashValue } from "./hash.ts";

/** Keys with field TTLs, per database, of each server that ever had one. */
const tracked = new WeakMap<Server, Map<Database, Set<string>>>();
/** Where the discovery scan of each database stands. */
const scanCursor = new WeakMap<Database, number>();

/** Fields the active cycle may delete per tick, so that a tick stays short. */
const FIELDS_PER_TICK = 1000;
/** Keyspace slots the discovery scan visits per database and tick. */
const SCAN_PER_TICK = 100;

/** Remembers that `key` of `db` holds a hash with field TTLs (starts the active cycle). */
export function trackFieldTtls(server: Server, db: Database, key: string): void {
  let dbs = tracked.get(server);
  if (dbs === undefined) {
    dbs = new Map();
    tracked.set(server, dbs);
    const all = dbs;
    // Core work, not a plugin's: its effects are the HDELs it propagates itself.
    server.on("cron", () =>
      server.untracked(() => {
        discover(server, all);
        activeFieldExpiry(server, all);
      }));
  }
  let keys = dbs.get(db);
  if (keys === undefined) dbs.set(db, keys = new Set());
  keys.add(key);
}

/** True when this server deletes expired fields now (a master, not paused). */
function deletesNow(server: Server): boolean {
  return !server.keepsExpiredKeys();
}

/**
 * Deletes one expired field: propagate `HDEL`, and when the hash is left empty delete the key.
 * Returns true when the key was deleted.
 */
function dropField(server: Server, db: Database, key: string, hash: HashValue, field: string) {
  hash.delete(field);
  server.propagateNow(db.id, ["HDEL", key, field]);
  server.stats.expiredSubkeys++;
  if (hash.size !== 0) return false;
  db.delete(key);
  return true;
}

/**
 * What a single-field read finds: `live` (no TTL or not yet due), `expired` (due: deleted unless
 * this server keeps expired data) or `deleted` (the field was the hash's last: the key is gone).
 * With `notify` false the caller raises `hexpired` (and `del`) once for several fields (HMGET).
 */
export function checkField(
  client: Client,
  key: string,
  hash: HashValue,
  field: string,
  notify = true,
): "live" | "expired" | "deleted" {
  const server = client.server;
  if (!hash.expiredAt(field, server.now())) return "live";
  trackFieldTtls(server, client.db, key);
  // Our master's commands see the field until its HDEL arrives.
  if (server.isReplica()) return server.fromMaster() ? "live" : "expired";
  if (!deletesNow(server)) return "expired";
  const db = client.db;
  const gone = dropField(server, db, key, hash, field);
  if (notify) {
    db.notify(N.hash, "hexpired", key);
    if (gone) db.notify(N.generic, "del", key);
  }
  if (!gone) db.touch(key);
  return gone ? "deleted" : "expired";
}

/** True when `hash` has fields that are due at `now` (whole-hash reads skip them). */
export function hasDueFields(hash: HashValue, now: number): boolean {
  const ttls = hash.ttls;
  if (ttls === undefined || ttls.size === 0) return false;
  for (const at of ttls.values()) if (at < now) return true;
  return false;
}

/**
 * Deletes up to `budget` due fields of `hash` (one `hexpired` event for them, `del` when the hash
 * went with them). Returns how many expired and whether the key is gone.
 */
function expireDue(
  server: Server,
  db: Database,
  key: string,
  hash: HashValue,
  now: number,
  budget: number,
): { expired: number; gone: boolean } {
  let expired = 0;
  let gone = false;
  for (const [field, at] of hash.ttls!) {
    if (at >= now) continue;
    expired++;
    if ((gone = dropField(server, db, key, hash, field)) || expired >= budget) break;
  }
  if (expired === 0) return { expired, gone };
  db.notify(N.hash, "hexpired", key);
  if (gone) db.notify(N.generic, "del", key);
  else db.touch(key);
  return { expired, gone };
}

/**
 * Deletes every due field of `hash` first, as Redis 7.4's HRANDFIELD does; true when that took
 * the whole hash. A replica or a paused server deletes nothing.
 */
export function expireAllDue(client: Client, key: string, hash: HashValue): boolean {
  const server = client.server;
  if (server.isReplica() || !deletesNow(server) || !hasDueFields(hash, server.now())) return false;
  return expireDue(server, client.db, key, hash, server.now(), Infinity).gone;
}

/** One step of the discovery scan: hashes with field TTLs the set does not hold yet. */
function discover(server: Server, dbs: Map<Database, Set<string>>): void {
  for (const db of server.dbs) {
    if (db.size === 0) continue;
    let keys: Set<string> | undefined = dbs.get(db);
    const next = db.dict.scan(scanCursor.get(db) ?? 0, SCAN_PER_TICK, (key, v) => {
      if (typeof v === "string" || v.type !== "hash") return;
      const ttls = (v as HashValue).ttls;
      if (ttls === undefined || ttls.size === 0) return;
      if (keys === undefined) dbs.set(db, keys = new Set());
      keys.add(key);
    });
    scanCursor.set(db, next);
  }
}

/**
 * Tracks `key` when `value` is a hash with field TTLs (a loaded or restored value).
 *
 * @param server the server
 * @param db the key's database
 * @param key the key
 * @param value its value
 */
export function trackIfFieldTtls(server: Server, db: Database, key: string, value: unknown): void {
  const ttls = (value as { type?: string; ttls?: Map<string, number> }).ttls;
  if ((value as { type?: string }).type === "hash" && ttls !== undefined && ttls.size !== 0) {
    trackFieldTtls(server, db, key);
  }
}

/** One tick of active field expiry over the tracked keys. */
function activeFieldExpiry(server: Server, dbs: Map<Database, Set<string>>): void {
  if (!server.activeExpireEnabled || server.isReplica() || !deletesNow(server)) return;
  const now = server.now();
  let budget = FIELDS_PER_TICK;
  for (const [db, keys] of dbs) {
    for (const key of keys) {
      if (budget <= 0) return;
      const v = db.peek(key);
      if (v === undefined || typeof v === "string" || v.type !== "hash") {
        keys.delete(key);
        continue;
      }
      const hash = v as HashValue;
      if (hash.ttls === undefined) {
        keys.delete(key);
        continue;
      }
      const res = expireDue(server, db, key, hash, now, budget);
      budget -= res.expired;
      if (res.gone) keys.delete(key);
    }
  }
}

/**
 * How many keys of `db` hold a hash with field TTLs (INFO keyspace's `subexpiry`, Redis 7.4):
 * the tracked keys that still hold a hash with a TTL table. One whose TTLs HPERSIST removed
 * still counts, as Redis counts it until its active expiry passes by. A hash that reached its
 * key by RENAME, MOVE, COPY or SWAPDB counts once the discovery scan has found it (a few keys
 * per tick).
 *
 * @param server the server
 * @param db the database
 * @returns the number of such keys
 */
export function fieldTtlKeyCount(server: Server, db: Database): number {
  const keys = tracked.get(server)?.get(db);
  if (keys === undefined) return 0;
  let n = 0;
  for (const key of keys) {
    const v = db.peek(key) as { type?: string; ttls?: Map<string, number> } | undefined;
    if (v !== undefined && v.type === "hash" && v.ttls !== undefined) n++;
  }
  return n;
}
