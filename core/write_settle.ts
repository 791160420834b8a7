/**
 * Settling a write log (see core/keyspace/write_log.ts) when a plugin command, or plugin code
 * outside commands, ends:
 *
 * 1. The dirty counter (save points, `rdb_changes_since_last_save`) grows by the changes logged,
 *    unless the code counted its own.
 * 2. An aggregate the code left empty is deleted, as Redis never keeps an empty list, hash, set
 *    or sorted set.
 * 3. The keyspace events the API calls imply (`set`, `del`, `expire`, `persist`) are raised for
 *    each key the code raised no event for itself.
 * 4. Every written key that no effect recorded since the last flush or swap names is propagated
 *    as its new value: a string as `SET key value [PXAT ms]`, any other type as
 *    `RESTORE key <abs ms | 0> <payload> REPLACE ABSTTL`, a key gone as `DEL key`. Stock Redis
 *    replicas and Redis's AOF loader apply these, and since each describes the key's final state
 *    it is correct after whatever effects came before it.
 *
 * @module
 */

import { bytesToStr } from "./bytes.ts";
import { N } from "./notify.ts";
import type { Database, TypedValue } from "./keyspace/database.ts";
import type { WriteLog } from "./keyspace/write_log.ts";
import { dumpValue } from "./rdb/payload.ts";
import { writeOptions } from "./rdb/write_value.ts";
import type { Server } from "./server.ts";
import { BIG_ERROR, MAX_STRING_LENGTH } from "./types/big_string.ts";

/**
 * Settles `log`: dirty counter, empty aggregates, implied events, effects.
 *
 * @param server the server the writes happened on
 * @param log the writes
 * @param dirtyBefore the dirty counter when the code started
 */
export function settleWrites(server: Server, log: WriteLog, dirtyBefore: number): void {
  const prevWrites = server.writes;
  // What settling does itself is not logged again.
  server.writes = undefined;
  try {
    if (server.dirty === dirtyBefore) server.dirty += log.changes;
    for (const [db, keys] of log.keys) {
      for (const key of keys) {
        const v = db.peek(key);
        if (v !== undefined && typeof v !== "string" && isEmptyAggregate(v)) {
          db.delete(key);
          log.implied(db, N.generic, "del", key);
        }
      }
    }
    for (const [db, type, event, key] of log.impliedEvents) {
      if (log.notifiedKeys.get(db)?.has(key) !== true) server.notify(db, type, event, key);
    }
    if (server.hooks.propagate.length !== 0) propagateImages(server, log);
  } finally {
    server.writes = prevWrites;
  }
}

function propagateImages(server: Server, log: WriteLog): void {
  const covered = coveredKeys(server, log.coverFrom);
  for (const [db, keys] of log.keys) {
    const done = covered.get(db.id);
    for (const key of keys) {
      if (done?.has(key) === true) continue;
      const image = imageOf(server, db, key);
      if (image !== undefined) server.replicate(db.id, image);
    }
  }
}

/** Keys named by the effects recorded from index `from` on, per database index. */
function coveredKeys(server: Server, from: number): Map<number, Set<string>> {
  const out = new Map<number, Set<string>>();
  for (const [dbIndex, argv] of server.effects.since(from)) {
    const cmd = server.resolve(argv);
    if (typeof cmd === "string") continue;
    let set = out.get(dbIndex);
    if (set === undefined) out.set(dbIndex, set = new Set());
    for (const i of cmd.keyPositions(argv)) set.add(argv[i]!);
  }
  return out;
}

/** The command that gives a replica `key` as it is now, or undefined when it cannot be encoded. */
function imageOf(server: Server, db: Database, key: string): string[] | undefined {
  const v = db.peek(key);
  if (v === undefined) return ["DEL", key];
  const at = db.getExpire(key);
  if (typeof v === "string") return at === -1 ? ["SET", key, v] : ["SET", key, v, "PXAT", `${at}`];
  let payload: Uint8Array;
  try {
    payload = dumpValue(v, writeOptions(server.config));
  } catch (e) {
    // A plugin's own value type has no RDB encoding: only the plugin can say how to replicate it.
    server.log("warning", `Cannot propagate key '${key}' of type ${v.type}: ${e}`);
    return undefined;
  }
  if (payload.length > MAX_STRING_LENGTH) {
    // A big string (core/types/big_string.ts) whose payload cannot be one argument string.
    server.log("warning", `Cannot propagate key '${key}': ${BIG_ERROR}`);
    return undefined;
  }
  return ["RESTORE", key, at === -1 ? "0" : `${at}`, bytesToStr(payload), "REPLACE", "ABSTTL"];
}

/** True for a list, hash, set or sorted set with no element (streams may be empty). */
function isEmptyAggregate(v: TypedValue): boolean {
  if (v.type === "stream") return false;
  const sized = v as unknown as { size?: unknown; length?: unknown };
  const n = typeof sized.size === "number" ? sized.size : sized.length;
  return n === 0;
}
