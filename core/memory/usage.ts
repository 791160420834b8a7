/**
 * `used_memory` and its parts, as redeno defines them. Redis asks its allocator; redeno adds up
 * what it holds for its users, each part measured where it lives:
 *
 * - **dataset**: every database's keys, values and expiry times, by the per-entry estimate of
 *   core/memory/cost.ts, kept up to date as keys are written (O(1) to read);
 * - **clients**: each connection's query storage, reply buffers, unsent output and its share of
 *   command and session state (core/client_memory.ts);
 * - **replication**: the backlog and the replicas' output (reported by the replication plugin
 *   through the `memory` hook);
 * - **AOF buffer**, **script and function caches**;
 * - **startup**: the server's own structures, a constant (what `createServer` adds to the heap,
 *   measured at 0.35 MB on Deno 2.9 and Node 20).
 *
 * The figure follows the dataset exactly: it grows with each write and returns after deletes,
 * without waiting for the garbage collector. What the process really holds (`used_memory_rss`,
 * the V8 heap) is reported beside it.
 *
 * @module
 */

import { CF } from "../client.ts";
import type { Server } from "../server.ts";
import { clientMemoryTotal } from "../client_memory.ts";
import { aofOf } from "../persistence/aof.ts";
import { scriptCacheBytes } from "../../scripting/info.ts";

/** Bytes of the server's own structures at start (`used_memory_startup`). */
export const STARTUP_BYTES = 393216;

/** What plugins report through the `memory` hook. */
export interface MemoryParts {
  /** The replication backlog. */
  replicationBacklog: number;
  /** Output waiting for replicas (not counted for eviction, as in Redis). */
  replicaBuffers: number;
  /** Cluster bus links. */
  clusterLinks: number;
}

/** Every part of `used_memory` (INFO memory, MEMORY STATS). */
export interface MemoryFigures extends MemoryParts {
  /** `used_memory`: the sum of every part. */
  used: number;
  /** The server's own structures (`used_memory_startup`). */
  startup: number;
  /** Keys, values and expiry times of every database. */
  dataset: number;
  /** Query and reply buffers of the clients, replicas excepted (`mem_clients_normal`). */
  clientsNormal: number;
  /** The AOF buffer (`mem_aof_buffer`). */
  aofBuffer: number;
  /** The EVAL script cache (`lua.caches`). */
  luaCaches: number;
  /** The function libraries' code (`functions.caches`). */
  functionsCaches: number;
  /** Replica output and the AOF buffer: memory eviction does not try to free. */
  notCountedForEvict: number;
  /** Per database with keys: [id, keys, main table overhead, expires table overhead]. */
  dbs: Array<[number, number, number, number]>;
  /** Keys in every database. */
  keys: number;
}

/**
 * Memory accounting of one server (`server.memory`): `used_memory` and its parts.
 *
 * @example
 * ```ts
 * import { createServer } from "../../mod.ts";
 * const server = createServer();
 * server.dispatch(["SET", "k", "v"]);
 * console.log(server.memory.figures().used);
 * ```
 */
export class MemoryMeter {
  /** Highest `used_memory` seen (INFO used_memory_peak). */
  peak = 0;
  private clientsBytes = 0;
  private clientsAt = -1;

  /**
   * Measures `server` (the server makes its own: read it as `server.memory`).
   *
   * @param server the server measured
   */
  constructor(private readonly server: Server) {}

  /** Bytes held by the databases. */
  dataset(): number {
    let n = 0;
    const dbs = this.server.dbs;
    for (let i = 0; i < dbs.length; i++) n += dbs[i]!.bytes;
    return n;
  }

  /**
   * Bytes held by normal clients (replicas excepted). Recomputed at most once per clock tick of
   * the server, or always when `fresh`.
   */
  clients(fresh = false): number {
    const s = this.server;
    if (fresh || s.time !== this.clientsAt) {
      this.clientsAt = s.time;
      let n = 0;
      for (const c of s.clients.values()) {
        if ((c.flags & CF.replica) === 0) n += clientMemoryTotal(c);
      }
      this.clientsBytes = n;
    }
    return this.clientsBytes;
  }

  /**
   * Of the last `used_memory` computed, the bytes eviction does not try to free (replica output
   * and the AOF buffer, as in Redis).
   */
  notCounted = 0;
  /** What plugins reported at the last reading (one object, refilled each time). */
  private readonly parts: MemoryParts = {
    replicationBacklog: 0,
    replicaBuffers: 0,
    clusterLinks: 0,
  };

  /** `used_memory`, read before each command under `maxmemory`: no allocation on the way. */
  used(): number {
    return this.total(this.dataset(), this.clients());
  }

  /**
   * `used_memory` for this dataset and client figure: adds the startup constant, the AOF buffer,
   * the script caches and what plugins report (the `memory` hook); sets {@linkcode notCounted}.
   */
  private total(dataset: number, clients: number): number {
    const parts = this.parts;
    parts.replicationBacklog = parts.replicaBuffers = parts.clusterLinks = 0;
    const hooks = this.server.hooks.memory;
    for (let i = 0; i < hooks.length; i++) hooks[i]!(parts);
    const aof = aofOf(this.server).file.buf.length;
    const caches = scriptCacheBytes(this.server);
    this.notCounted = parts.replicaBuffers + aof;
    const used = STARTUP_BYTES + dataset + clients + aof + caches.scripts + caches.functions +
      parts.replicationBacklog + parts.replicaBuffers + parts.clusterLinks;
    if (used > this.peak) this.peak = used;
    return used;
  }

  /** Every figure, freshly computed (INFO memory, MEMORY STATS). */
  figures(): MemoryFigures {
    const s = this.server;
    const clientsNormal = this.clients(true);
    const dbs: MemoryFigures["dbs"] = [];
    let dataset = 0;
    let keys = 0;
    for (const db of s.dbs) {
      dataset += db.bytes;
      if (db.size === 0) continue;
      keys += db.size;
      dbs.push([db.id, db.size, db.tableBytes(), db.expiresTableBytes()]);
    }
    const used = this.total(dataset, clientsNormal);
    const parts = this.parts;
    const aofBuffer = aofOf(s).file.buf.length;
    const caches = scriptCacheBytes(s);
    return {
      ...parts,
      used,
      startup: STARTUP_BYTES,
      dataset,
      clientsNormal,
      aofBuffer,
      luaCaches: caches.scripts,
      functionsCaches: caches.functions,
      notCountedForEvict: this.notCounted,
      dbs,
      keys,
    };
  }
}
