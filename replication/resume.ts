/**
 * Replication across a restart, after Redis's rdbPopulateSaveInfo and loadDataFromDisk: a dump
 * (SAVE, BGSAVE, the save at SHUTDOWN) carries the id, offset and stream database of the history
 * it was taken in. Loaded at startup, it lets a replica ask its master to continue
 * (`PSYNC <id> <offset + 1>`) instead of syncing in full, and lets a master keep it as its
 * previous id, so its replicas continue from it after its restart.
 *
 * @module
 */

import type { Server } from "../core/server.ts";
import type { MasterSide } from "./master.ts";
import type { ReplAux } from "./rdb_bridge.ts";
import type { ReplicaSide } from "./replica.ts";
import type { ReplState } from "./state.ts";

/** The parts of the plugin involved. */
export interface ResumeParts {
  repl: ReplState;
  master: MasterSide;
  replica: ReplicaSide;
}

/**
 * The replication fields of a dump taken now: a master's when it has a backlog (replicas could
 * continue), a replica's when it has a master link or remembers one; else none.
 *
 * @param server the server
 * @param parts the plugin's state
 * @returns the aux fields, or undefined
 */
export function dumpReplInfo(server: Server, parts: ResumeParts): ReplAux | undefined {
  const { repl, replica } = parts;
  let streamDb: number | undefined;
  if (server.masterHost === undefined) {
    if (repl.backlog !== undefined) streamDb = repl.seldb === -1 ? 0 : repl.seldb;
  } else {
    streamDb = replica.streamDb();
  }
  if (streamDb === undefined) return undefined;
  repl.flush();
  return { streamDb, replId: repl.replid, offset: repl.offset };
}

/**
 * Resumes the history recorded in the aux fields of the dump loaded at startup, when they are
 * all there and sane (Redis ignores them otherwise).
 *
 * @param server the server
 * @param parts the plugin's state
 * @param aux the dump's aux fields
 */
export function resumeFromDump(
  server: Server,
  parts: ResumeParts,
  aux: Map<string, string>,
): void {
  const id = aux.get("repl-id") ?? "";
  const offset = Number(aux.get("repl-offset"));
  const db = Number(aux.get("repl-stream-db"));
  if (!/^[0-9a-f]{40}$/.test(id) || !Number.isSafeInteger(offset) || offset < 0) return;
  if (!Number.isSafeInteger(db) || db < 0 || db >= server.dbs.length) return;
  const { repl, master, replica } = parts;
  if (server.masterHost !== undefined) {
    replica.resume(id, offset, db);
    return;
  }
  repl.replid2 = id;
  repl.secondOffset = offset + 1;
  repl.offset = offset;
  repl.seldb = -1;
  repl.createBacklog();
  master.resetNoReplicasSince();
}
