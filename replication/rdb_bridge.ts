/**
 * What replication needs from the RDB layer (core/persistence): an image of the dataset as it
 * is at one instant, written a slice at a time while the server keeps serving (the payload of a
 * full sync), and loading a received image in place of the whole dataset (a replica's sync).
 *
 * @module
 */

import { librariesOf } from "../scripting/functions.ts";
import { Snapshot } from "../core/keyspace/snapshot.ts";
import { rdbOf } from "../core/persistence/rdb_file.ts";
import { loadRdbBytes } from "../core/persistence/rdb_load.ts";
import { RdbImageWriter, type RdbSink, snapshotSources } from "../core/persistence/rdb_save.ts";
import type { Server } from "../core/server.ts";

/** An RDB image being written from a point-in-time view of the dataset. */
export interface ImageJob {
  /**
   * Writes the next part of the image to `sink` (whose argument is only valid during the call).
   *
   * @returns true once the whole image went to the sink
   */
  step(sink: RdbSink, deadline: number): boolean;
  /** Stops guarding the view (the image is done, or abandoned). */
  release(): void;
}

/** The replication fields an image carries (RDB aux `repl-stream-db`, `repl-id`, `repl-offset`). */
export interface ReplAux {
  streamDb: number;
  replId: string;
  offset: number;
}

/**
 * Starts an image of the dataset as it is now. Returns undefined while another background job
 * (BGSAVE, AOF rewrite) holds the copy-on-write view: the caller tries again later, as Redis
 * delays a replication BGSAVE while another child runs.
 *
 * @param server the server whose data is written
 * @param repl the replication aux fields
 * @returns the job, or undefined when it cannot start now
 */
export function startImage(server: Server, repl: ReplAux): ImageJob | undefined {
  const rdb = rdbOf(server);
  if (rdb.job !== undefined || server.dbs.some((db) => db.beforeWrite !== undefined)) {
    return undefined;
  }
  const snapshot = new Snapshot(server.dbs);
  const opts = rdb.imageOptions(false, (d, i) => snapshot.written(d, i));
  opts.repl = repl;
  const writer = new RdbImageWriter(snapshotSources(snapshot), opts);
  return {
    step: (sink, deadline) => writer.step(sink, deadline),
    release: () => snapshot.release(),
  };
}

/**
 * Replaces the whole dataset (keys and function libraries) by an RDB image received from a
 * master. Throws (after the RDB layer logged why) when the image is invalid; the dataset is then
 * left empty, as Redis leaves it.
 *
 * @param server the server to load into
 * @param image the RDB bytes
 * @returns the `repl-stream-db` aux field (the database the stream continues in), or 0
 */
export function loadImage(server: Server, image: Uint8Array): number {
  // The AOF restarts from a rewrite of the new dataset (Redis's restartAOFAfterSYNC).
  const aof = server.config.bool("appendonly");
  if (aof) server.config.set("appendonly", false);
  try {
    // The new dataset reaches our own replicas and AOF by a full sync and a rewrite, not as writes.
    server.untracked(() => {
      for (const db of server.dbs) db.flush();
    });
    librariesOf(server).flush();
    const rdb = rdbOf(server);
    const result = loadRdbBytes(server, image);
    rdb.lastLoadKeysLoaded = result.keysLoaded;
    rdb.lastLoadKeysExpired = result.keysExpired;
    const db = Number(result.aux.get("repl-stream-db") ?? 0);
    return Number.isInteger(db) && db >= 0 && db < server.dbs.length ? db : 0;
  } finally {
    if (aof) server.config.set("appendonly", true);
  }
}
