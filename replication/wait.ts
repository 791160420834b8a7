/**
 * WAIT numreplicas timeout: blocks the client until `numreplicas` replicas acknowledged every
 * write it made (its offset after its last write), or the timeout passes; replies with the
 * number that did. Blocking asks every replica for an ACK (`REPLCONF GETACK *` in the stream,
 * once per event-loop turn, as Redis does in beforeSleep, and not while clients are paused).
 *
 * WAITAOF numlocal numreplicas timeout (Redis 7.2) waits the same way for those writes to be
 * synced to our AOF (numlocal, 0 or 1: the AOF's fsynced offset) and to the AOF of `numreplicas`
 * replicas (the `FACK` offset of their ACKs); it replies `[local, replicas]`.
 *
 * @module
 */

import type { Client } from "../core/client.ts";
import { canBlock, parseTimeoutMs } from "../core/blocking.ts";
import { intArg } from "../core/args.ts";
import type { CommandSpec } from "../core/command.ts";
import { ErrorReply, fail, R, type Reply } from "../core/resp/reply.ts";
import type { Server } from "../core/server.ts";
import { type Aof, aofOf } from "../core/persistence/aof.ts";
import type { MasterSide } from "./master.ts";
import type { ReplState } from "./state.ts";

interface Waiter {
  client: Client;
  offset: number;
  numreplicas: number;
  /** WAITAOF's numlocal; undefined for WAIT. */
  numlocal?: number;
}

const REPLICA_WAITAOF =
  "ERR WAITAOF cannot be used with replica instances. Please also note that writes to replicas are just local and are not propagated.";
const NO_AOF = "ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.";

/** Clients blocked in WAIT. */
export class Waits {
  private waiters: Waiter[] = [];
  private getackScheduled = false;
  private readonly aof: Aof;

  /**
   * @param server the server
   * @param repl its replication stream
   * @param master its replicas
   */
  constructor(
    private readonly server: Server,
    private readonly repl: ReplState,
    private readonly master: MasterSide,
  ) {
    master.onAck = () => this.serve();
    this.aof = aofOf(server);
    this.aof.onFsynced = () => this.serve();
  }

  /** Replies to the waiters whose replicas (and, for WAITAOF, AOF) caught up. */
  serve(): void {
    if (this.waiters.length === 0) return;
    const blocking = this.server.blocking;
    this.waiters = this.waiters.filter((w) => {
      if (!blocking.isBlocked(w.client)) return false;
      if (w.numlocal === undefined) {
        const n = this.master.countAcks(w.offset);
        if (n < w.numreplicas) return true;
        blocking.unblock(w.client, n);
        return false;
      }
      // The AOF was turned off meanwhile.
      if (w.numlocal > 0 && !this.server.config.bool("appendonly")) {
        blocking.unblock(w.client, new ErrorReply(NO_AOF));
        return false;
      }
      const [local, replicas] = this.aofAcks(w.offset);
      if (replicas < w.numreplicas || local < w.numlocal) return true;
      blocking.unblock(w.client, [local, replicas]);
      return false;
    });
  }

  /** WAITAOF's counts for `offset`: our AOF (0 or 1) and the replicas' AOFs. */
  private aofAcks(offset: number): [number, number] {
    return [this.aof.fsyncedReploff >= offset ? 1 : 0, this.master.countAofAcks(offset)];
  }

  /** Asks every replica for an ACK, once for this event-loop turn. */
  requestAcks(): void {
    if (this.getackScheduled) return;
    this.getackScheduled = true;
    queueMicrotask(() => {
      this.getackScheduled = false;
      // Not while clients are paused: the GETACK would move the replication offset (a failover
      // waits for it to hold still); it goes out when the pause ends, as in Redis.
      if (this.server.pause.active) {
        this.server.pause.whenEased(() => this.requestAcks());
        return;
      }
      this.repl.feedCommand(["REPLCONF", "GETACK", "*"]);
      this.repl.flush();
    });
  }

  /** WAITAOF: see the module doc (the spec is {@linkcode waitaofCommand}). */
  waitaof(client: Client, argv: string[]): Reply {
    const numlocal = intArg(argv[1]!);
    if (numlocal < 0 || numlocal > 1) {
      return fail("ERR value is out of range, value must between 0 and 1");
    }
    const numreplicas = intArg(argv[2]!, "ERR value is out of range, must be positive");
    if (numreplicas < 0) return fail("ERR value is out of range, must be positive");
    const timeoutMs = parseTimeoutMs(argv[3]!);
    const server = this.server;
    if (server.masterHost !== undefined) return fail(REPLICA_WAITAOF);
    if (numlocal > 0 && !server.config.bool("appendonly")) return fail(NO_AOF);
    const offset = this.repl.woff.get(client) ?? 0;
    const now = this.aofAcks(offset);
    if ((now[1] >= numreplicas && now[0] >= numlocal) || !canBlock(client)) return now;
    const acks = () => this.aofAcks(offset);
    server.blocking.block(client, {
      keys: [],
      timeoutMs,
      command: "waitaof",
      serve: () => undefined,
      // Computed when the timeout passes: what was synced by then.
      get timeoutReply() {
        return acks();
      },
    });
    this.waiters.push({ client, offset, numreplicas, numlocal });
    this.requestAcks();
    return R.none;
  }

  /** The WAIT command. */
  readonly command: CommandSpec = {
    name: "wait",
    arity: 3,
    flags: ["blocking"],
    acl: ["connection"],
    docs: {
      summary:
        "Wait for the synchronous replication of all the write commands sent in the context of the current connection",
      since: "3.0.0",
      group: "generic",
      complexity: "O(1)",
      args: "numreplicas timeout",
    },
    execute: (client, argv): Reply => {
      const server = this.server;
      if (server.masterHost !== undefined) {
        return fail(
          "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.",
        );
      }
      const numreplicas = intArg(argv[1]!);
      const timeoutMs = parseTimeoutMs(argv[2]!);
      const offset = this.repl.woff.get(client) ?? 0;
      const acked = this.master.countAcks(offset);
      if (acked >= numreplicas || !canBlock(client)) return acked;
      const master = this.master;
      server.blocking.block(client, {
        keys: [],
        timeoutMs,
        command: "wait",
        serve: () => undefined,
        // Computed when the timeout passes: the replicas that made it by then.
        get timeoutReply() {
          return master.countAcks(offset);
        },
      });
      this.waiters.push({ client, offset, numreplicas });
      this.requestAcks();
      return R.none;
    },
  };
}

/** WAITAOF numlocal numreplicas timeout (on `waits`' server). */
export function waitaofCommand(waits: Waits): CommandSpec {
  return {
    name: "waitaof",
    arity: 4,
    flags: ["blocking"],
    acl: ["connection"],
    tips: ["request_policy:all_shards", "response_policy:agg_min"],
    docs: {
      summary:
        "Blocks until all of the preceding write commands sent by the connection are written to the append-only file of the master and/or replicas.",
      since: "7.2.0",
      group: "generic",
      complexity: "O(1)",
      args: "numlocal numreplicas timeout",
    },
    execute: (client, argv) => waits.waitaof(client, argv),
  };
}
