/**
 * The replication plugin: Redis-compatible master and replica roles (PSYNC2).
 *
 * Layout:
 * - `state.ts`: replication ids, offset, and the stream encoded from the `propagate` hook
 * - `backlog.ts`: the circular backlog partial resyncs continue from
 * - `channel.ts`: each replica's async channel (a bounded byte queue drained with backpressure)
 * - `master.ts`: attached replicas, REPLCONF/PSYNC handling, full syncs (`full_sync.ts`)
 * - `replica.ts`: the link to our master (handshake, RDB load, stream apply, ACKs, reconnect)
 * - `wait.ts`, `commands.ts`, `gates.ts`, `info.ts`: WAIT, the other commands, the write
 *   gates (READONLY, MASTERDOWN, NOREPLICAS) and INFO replication
 * - `failover.ts`: FAILOVER, and the takeover of a replica its master fails over to
 * - `rdb_bridge.ts`: what replication uses from the RDB layer
 * - `resume.ts`: the history a dump carries, resumed after a restart
 *
 * @example
 * ```ts
 * import { createServer } from "../mod.ts";
 * import { replication } from "./mod.ts";
 *
 * const master = createServer({ plugins: [replication()] });
 * const replica = createServer({ plugins: [replication()], config: { replicaof: "127.0.0.1 6379" } });
 * ```
 *
 * @module
 */

import { markBuiltin } from "../core/command.ts";
import { rdbOf } from "../core/persistence/rdb_file.ts";
import type { Plugin } from "../core/server.ts";
import { replicationCommands } from "./commands.ts";
import { Failover } from "./failover.ts";
import { ReplicationGates } from "./gates.ts";
import { replicationInfo } from "./info.ts";
import { MasterSide } from "./master.ts";
import { ReplicaSide } from "./replica.ts";
import { dumpReplInfo, resumeFromDump } from "./resume.ts";
import { ReplState } from "./state.ts";
import { waitaofCommand, Waits } from "./wait.ts";

/**
 * The replication plugin: REPLICAOF/SLAVEOF, REPLCONF, PSYNC, SYNC, WAIT, ROLE, INFO
 * replication, and the `replicaof` directive.
 *
 * @returns the plugin
 */
export function replication(): Plugin {
  return {
    name: "replication",
    setup(server) {
      const repl = new ReplState(server);
      const master = new MasterSide(server, repl);
      const replica = new ReplicaSide(server, repl, master);
      master.replicaStreamDb = () =>
        server.masterHost !== undefined ? replica.masterClient?.db.id ?? 0 : undefined;
      const waits = new Waits(server, repl, master);
      const failover = new Failover(server, repl, master, replica);
      const parts = { repl, master, replica, failover };
      // Part of the core: these commands write nothing through the keyspace API.
      const specs = [
        ...replicationCommands(parts),
        waits.command,
        waitaofCommand(waits),
        failover.command,
      ];
      markBuiltin(specs);
      for (const spec of specs) server.registerCommand(spec);
      const gates = new ReplicationGates(server, master, replica);
      server.infoSections.set("replication", replicationInfo(server, parts));
      // Dumps carry our history, and the one loaded at startup resumes it.
      const rdb = rdbOf(server);
      rdb.replInfo = () => dumpReplInfo(server, parts);
      server.on("load", () => {
        if (rdb.startAux !== undefined) resumeFromDump(server, parts, rdb.startAux);
      });
      server.on("changeReplId", () => {
        repl.changeReplId();
        repl.clearReplId2();
      });
      server.config.onChange((name, value) => {
        if (name === "repl-backlog-size") repl.backlog?.resize(value as number);
      });
      const configured = server.config.str("replicaof");
      if (configured !== "") {
        const [host = "", port = "0"] = configured.split(" ");
        // Connected from the first cron tick, once the server listens (listening-port).
        replica.host = host;
        replica.port = Number(port);
        replica.state = "connect";
        server.masterHost = host;
      }
      replica.onRoleChange = () => {
        gates.update();
        repl.roleChanged();
        server.logRole = server.isReplica() ? "S" : "M";
      };
      replica.onRoleChange();
      let lastRun = 0;
      // Counted from 1: the first PING to replicas goes out a period after start.
      let loops = 1;
      server.on("cron", () => {
        const now = server.clock.now();
        failover.update();
        // replicationCron runs once a second (the first tick connects a configured replica).
        if (now - lastRun < 1000) {
          // Redis runs all of it ten times a second during a failover, for a faster handshake
          // with the target. Only our link's part here: the master's part would PING replicas
          // ten times as often too, and a PING every second, in step with the replicas' ACKs,
          // could keep the ACK the failover waits for one PING behind, time after time.
          if (failover.active) replica.cron();
          return;
        }
        lastRun = now;
        replica.cron();
        master.cron(loops++);
        waits.serve();
      });
      server.on("memory", (m) => {
        m.replicationBacklog += repl.backlog?.size ?? 0;
        for (const link of master.links.values()) m.replicaBuffers += link.channel.pending;
      });
      server.on("shutdown", () => {
        master.disconnectAll();
        replica.stop();
      });
    },
  };
}
