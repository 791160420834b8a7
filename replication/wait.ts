/**
 * WAIT numreplicas timeout: blocks the client until `numreplicas` replicas acknowledged every
 * write it made (its offset after its last write), or the timeout passes; replies with the
 * number that did. Blocking asks every replica for an ACK (`REPLCONF GETACK *` in the stream,
 * once per event-loop turn, as Redis does in beforeSleep, and not while clients are paused).
 *
 * @module
 */

import type { Client } from "../core/client.ts";
import { canBlock, parseTimeoutMs } from "../core/blocking.ts";
import { intArg } from "../core/args.ts";
import type { CommandSpec } from "../core/command.ts";
import { fail, R, type Reply } from "../core/resp/reply.ts";
import type { Server } from "../core/server.ts";
import type { MasterSide } from "./master.ts";
import type { ReplState } from "./state.ts";

interface Waiter {
  client: Client;
  offset: number;
  numreplicas: number;
}

/** Clients blocked in WAIT. */
export class Waits {
  private waiters: Waiter[] = [];
  private getackScheduled = false;

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
  }

  /** Replies to the waiters whose replicas caught up. */
  serve(): void {
    if (this.waiters.length === 0) return;
    const blocking = this.server.blocking;
    this.waiters = this.waiters.filter((w) => {
      if (!blocking.isBlocked(w.client)) return false;
      const n = this.master.countAcks(w.offset);
      if (n < w.numreplicas) return true;
      blocking.unblock(w.client, n);
      return false;
    });
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

  /** The WAIT command. */
  readonly command: CommandSpec = {
    name: "wait",
    arity: 3,
    // Redis 7.2 lets scripts call it (it answers at once there, as in MULTI).
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
