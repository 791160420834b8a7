/**
 * The replication commands: REPLCONF, PSYNC, SYNC (the replica's side of the handshake, served
 * by the master), REPLICAOF/SLAVEOF and ROLE. WAIT is in wait.ts.
 *
 * @module
 */

import { CF } from "../core/client.ts";
import { intArg } from "../core/args.ts";
import { parseInteger } from "../core/bytes.ts";
import type { CommandSpec } from "../core/command.ts";
import { E, fail, R, type Reply, SimpleString } from "../core/resp/reply.ts";
import type { Failover } from "./failover.ts";
import type { MasterSide } from "./master.ts";
import type { ReplicaSide } from "./replica.ts";
import type { ReplState } from "./state.ts";

/** What the commands work on. */
export interface ReplicationParts {
  repl: ReplState;
  master: MasterSide;
  replica: ReplicaSide;
  failover: Failover;
}

/** REPLCONF option value ... */
function replconf(parts: ReplicationParts): CommandSpec {
  return {
    name: "replconf",
    arity: -1,
    flags: ["admin", "noscript", "loading", "stale", "allow_busy"],
    docs: {
      summary: "An internal command for configuring the replication stream",
      since: "3.0.0",
      group: "server",
      complexity: "O(1)",
    },
    execute(client, argv) {
      if (argv.length % 2 === 0) return fail(E.syntax);
      const conf = parts.master.confOf(client);
      for (let j = 1; j < argv.length; j += 2) {
        const opt = argv[j]!.toLowerCase();
        const value = argv[j + 1]!;
        if (opt === "listening-port") {
          conf.port = intArg(value);
        } else if (opt === "ip-address") {
          if (value.length >= 46) {
            return fail(
              `ERR REPLCONF ip-address provided by replica instance is too long: ${value.length} bytes`,
            );
          }
          conf.ip = value;
        } else if (opt === "capa") {
          // Capabilities this master does not know are ignored.
          const capa = value.toLowerCase();
          if (capa === "eof") conf.eof = true;
          else if (capa === "psync2") conf.psync2 = true;
        } else if (opt === "ack") {
          // No reply: the replica does not read any.
          if ((client.flags & CF.replica) === 0) return R.none;
          const offset = parseInteger(value);
          if (offset === undefined) return R.none;
          // Redis 7.2: `ACK <offset> FACK <aofoffset>`, the replica's AOF-synced offset.
          let fack: number | undefined;
          if (argv.length > j + 3 && argv[j + 2]!.toLowerCase() === "fack") {
            fack = parseInteger(argv[j + 3]!);
            if (fack === undefined) return R.none;
          }
          parts.master.ack(client, offset, fack);
          return R.none;
        } else if (opt === "getack") {
          if ((client.flags & CF.master) !== 0) parts.replica.getAck();
          return R.none;
        } else if (opt === "rdb-only" || opt === "rdb-filter-only") {
          // Accepted for compatibility; full syncs always carry the whole dataset here.
          continue;
        } else {
          return fail(`ERR Unrecognized REPLCONF option: ${argv[j]}`);
        }
      }
      return R.ok;
    },
  };
}

/** PSYNC replid offset, and SYNC. */
function syncCommand(parts: ReplicationParts, name: "psync" | "sync"): CommandSpec {
  return {
    name,
    arity: name === "psync" ? -3 : 1,
    flags: ["admin", "no_multi", "noscript", "no_async_loading"],
    docs: {
      summary: "Internal command used for replication",
      since: name === "psync" ? "2.8.0" : "1.0.0",
      group: "server",
      ...(name === "psync" ? { args: "replicationid offset" } : {}),
    },
    execute(client, argv) {
      // A replica asking again, or a master link: ignored, as Redis does.
      if ((client.flags & (CF.replica | CF.master | CF.local)) !== 0) return R.none;
      const server = client.server;
      if (name === "psync" && argv.length > 3 && argv[3]!.toLowerCase() === "failover") {
        parts.failover.takeOver(client, argv[1]!);
      }
      // Replicas cannot sync with us while we hand over (or take back) the master role.
      if (parts.failover.active) return fail("NOMASTERLINK Can't SYNC while failing over");
      if (server.masterHost !== undefined && parts.replica.state !== "connected") {
        return fail("NOMASTERLINK Can't SYNC while not connected with my master");
      }
      if (name === "psync") {
        const offset = parseInteger(argv[2]!);
        if (offset === undefined) return fail(E.notInteger);
        parts.master.sync(client, argv[1]!, offset);
      } else {
        parts.master.sync(client, undefined, -1);
      }
      return R.none;
    },
  };
}

/** REPLICAOF host port | NO ONE (and SLAVEOF, its old name). */
function replicaof(parts: ReplicationParts, name: "replicaof" | "slaveof"): CommandSpec {
  return {
    name,
    arity: 3,
    flags: ["admin", "noscript", "stale", "no_async_loading"],
    docs: {
      summary: "Make the server a replica of another instance, or promote it as master.",
      since: name === "replicaof" ? "5.0.0" : "1.0.0",
      group: "server",
      complexity: "O(1)",
      args: "<host port | NO ONE>",
    },
    execute(client, argv) {
      const server = client.server;
      const host = argv[1]!;
      if (parts.failover.active) return fail("ERR REPLICAOF not allowed while failing over.");
      if (host.toLowerCase() === "no" && argv[2]!.toLowerCase() === "one") {
        if (server.masterHost !== undefined) {
          parts.replica.unsetMaster();
          server.log("notice", `MASTER MODE enabled (user request from '${client.describe()}')`);
        }
        return R.ok;
      }
      if ((client.flags & CF.replica) !== 0) {
        return fail("ERR Command is not valid when client is a replica.");
      }
      const port = parseInteger(argv[2]!);
      if (port === undefined || port < 0 || port > 65535) return fail("ERR Invalid master port");
      const replica = parts.replica;
      if (
        server.masterHost !== undefined && replica.host.toLowerCase() === host.toLowerCase() &&
        replica.port === port
      ) {
        server.log(
          "notice",
          "REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.",
        );
        return new SimpleString("OK Already connected to specified master");
      }
      replica.setMaster(host, port);
      server.log(
        "notice",
        `REPLICAOF ${host}:${port} enabled (user request from '${client.describe()}')`,
      );
      return R.ok;
    },
  };
}

/** ROLE */
function role(parts: ReplicationParts): CommandSpec {
  return {
    name: "role",
    arity: 1,
    flags: ["noscript", "loading", "stale", "fast"],
    acl: ["admin", "dangerous"],
    docs: {
      summary: "Return the role of the instance in the context of replication",
      since: "2.8.12",
      group: "server",
      complexity: "O(1)",
    },
    execute(client) {
      const server = client.server;
      if (server.masterHost === undefined) {
        parts.repl.flush();
        const replicas: Reply[] = [];
        for (const link of parts.master.links.values()) {
          if (link.state !== "online") continue;
          replicas.push([link.ip, String(link.conf.port), String(link.ackOffset)]);
        }
        return ["master", parts.repl.offset, replicas];
      }
      const r = parts.replica;
      return [
        "slave",
        r.host,
        r.port,
        r.state,
        r.masterClient !== undefined ? r.reploff : -1,
      ];
    },
  };
}

/** Every replication command but WAIT. */
export function replicationCommands(parts: ReplicationParts): CommandSpec[] {
  return [
    replconf(parts),
    syncCommand(parts, "psync"),
    syncCommand(parts, "sync"),
    replicaof(parts, "replicaof"),
    replicaof(parts, "slaveof"),
    role(parts),
  ];
}
