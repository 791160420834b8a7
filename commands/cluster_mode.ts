/**
 * The commands of cluster mode that a server without cluster support still answers, as Redis
 * 7.0 does with `cluster-enabled no`: READONLY, READWRITE, ASKING and every CLUSTER subcommand
 * refuse with its error; RESTORE-ASKING is RESTORE. ACL rules name them (`+readonly`) and COMMAND
 * lists them, so they exist for the rules and clients to refer to.
 *
 * @module
 */

import type { Client } from "../core/client.ts";
import type { CommandFlag, CommandSpec } from "../core/command.ts";
import { fail, type Reply } from "../core/resp/reply.ts";
import type { Server } from "../core/server.ts";
import { restoreCommand } from "./dump.ts";

const DISABLED = "ERR This instance has cluster support disabled";

/** Cluster mode's answer to READONLY, READWRITE, ASKING or a CLUSTER subcommand. */
export type ClusterHandler = (client: Client, argv: string[]) => Reply;

/** The handlers of servers in cluster mode, by name (`asking`, `cluster|nodes`...). */
const clusterModes = new WeakMap<Server, Map<string, ClusterHandler>>();

/**
 * Turns on cluster mode's answers on `server` (the cluster plugin does, with `cluster-enabled
 * yes`): each command named in `handlers` answers through its handler instead of refusing.
 *
 * @param server the server
 * @param handlers by name: `readonly`, `readwrite`, `asking`, `cluster|<subcommand>`
 */
export function enableClusterCommands(server: Server, handlers: Map<string, ClusterHandler>): void {
  clusterModes.set(server, handlers);
}

/** The command's cluster-mode handler when the server has one, else the disabled error. */
function clusterAnswer(name: string): (client: Client, argv: string[]) => Reply {
  return (client, argv) => {
    const handler = clusterModes.get(client.server)?.get(name);
    return handler !== undefined ? handler(client, argv) : fail(DISABLED);
  };
}

function connectionCommand(name: string, summary: string): CommandSpec {
  return {
    name,
    arity: 1,
    flags: ["loading", "stale", "fast"],
    acl: ["connection"],
    docs: { summary, since: "3.0.0", group: "cluster", complexity: "O(1)" },
    execute: clusterAnswer(name),
  };
}

const ADMIN: readonly CommandFlag[] = ["admin", "stale"];
const ADMIN_SYNC: readonly CommandFlag[] = ["admin", "stale", "no_async_loading"];

/** One CLUSTER subcommand: Redis 7.0.15's arity, flags and documentation. */
function clusterSub(
  name: string,
  arity: number,
  flags: readonly CommandFlag[],
  docs: { summary: string; since?: string; complexity?: string; args?: string },
): CommandSpec {
  const { summary, since = "3.0.0", complexity = "O(1)", args } = docs;
  return {
    name,
    arity,
    flags,
    docs: { summary, since, group: "cluster", complexity, ...(args ? { args } : {}) },
    execute: clusterAnswer(`cluster|${name}`),
  };
}

const NODES = "O(N) where N is the total number of Cluster nodes";
const SLOT_RANGE = {
  since: "7.0.0",
  complexity:
    "O(N) where N is the total number of the slots between the start slot and end slot arguments.",
  args: "start-slot end-slot [start-slot end-slot ...]",
};

/** CLUSTER: without cluster mode, every subcommand answers that cluster support is disabled. */
export const clusterCommand: CommandSpec = {
  name: "cluster",
  arity: -2,
  docs: {
    summary: "A container for cluster commands",
    since: "3.0.0",
    group: "cluster",
    complexity: "Depends on subcommand.",
  },
  subcommands: [
    clusterSub("addslots", -3, ADMIN_SYNC, {
      summary: "Assign new hash slots to receiving node",
      complexity: "O(N) where N is the total number of hash slot arguments",
      args: "slot [slot ...]",
    }),
    clusterSub("addslotsrange", -4, ADMIN_SYNC, {
      summary: "Assign new hash slots to receiving node",
      ...SLOT_RANGE,
    }),
    clusterSub("bumpepoch", 2, ADMIN_SYNC, { summary: "Advance the cluster config epoch" }),
    clusterSub("count-failure-reports", 3, ADMIN, {
      summary: "Return the number of failure reports active for a given node",
      complexity: "O(N) where N is the number of failure reports",
      args: "node-id",
    }),
    clusterSub("countkeysinslot", 3, ["stale"], {
      summary: "Return the number of local keys in the specified hash slot",
      args: "slot",
    }),
    clusterSub("delslots", -3, ADMIN_SYNC, {
      summary: "Set hash slots as unbound in receiving node",
      complexity: "O(N) where N is the total number of hash slot arguments",
      args: "slot [slot ...]",
    }),
    clusterSub("delslotsrange", -4, ADMIN_SYNC, {
      summary: "Set hash slots as unbound in receiving node",
      ...SLOT_RANGE,
    }),
    clusterSub("failover", -2, ADMIN_SYNC, {
      summary: "Forces a replica to perform a manual failover of its master.",
      args: "[FORCE | TAKEOVER]",
    }),
    clusterSub("flushslots", 2, ADMIN_SYNC, { summary: "Delete a node's own slots information" }),
    clusterSub("forget", 3, ADMIN_SYNC, {
      summary: "Remove a node from the nodes table",
      args: "node-id",
    }),
    clusterSub("getkeysinslot", 4, ["stale"], {
      summary: "Return local key names in the specified hash slot",
      complexity: "O(log(N)) where N is the number of requested keys",
      args: "slot count",
    }),
    clusterSub("help", 2, ["loading", "stale"], {
      summary: "Show helpful text about the different subcommands",
      since: "5.0.0",
    }),
    clusterSub("info", 2, ["stale"], { summary: "Provides info about Redis Cluster node state" }),
    clusterSub("keyslot", 3, ["stale"], {
      summary: "Returns the hash slot of the specified key",
      complexity: "O(N) where N is the number of bytes in the key",
      args: "key",
    }),
    clusterSub("links", 2, ["stale"], {
      summary: "Returns a list of all TCP links to and from peer nodes in cluster",
      since: "7.0.0",
      complexity: NODES,
    }),
    clusterSub("meet", -4, ADMIN_SYNC, {
      summary: "Force a node cluster to handshake with another node",
      args: "ip port [cluster-bus-port]",
    }),
    clusterSub("myid", 2, ["stale"], { summary: "Return the node id" }),
    clusterSub("nodes", 2, ["stale"], {
      summary: "Get Cluster config for the node",
      complexity: NODES,
    }),
    clusterSub("replicas", 3, ADMIN, {
      summary: "List replica nodes of the specified master node",
      since: "5.0.0",
      args: "node-id",
    }),
    clusterSub("replicate", 3, ADMIN_SYNC, {
      summary: "Reconfigure a node as a replica of the specified master node",
      args: "node-id",
    }),
    clusterSub("reset", -2, ["admin", "stale", "noscript"], {
      summary: "Reset a Redis Cluster node",
      complexity:
        "O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect.",
      args: "[HARD | SOFT]",
    }),
    clusterSub("saveconfig", 2, ADMIN_SYNC, {
      summary: "Forces the node to save cluster state on disk",
    }),
    clusterSub("set-config-epoch", 3, ADMIN_SYNC, {
      summary: "Set the configuration epoch in a new node",
      args: "config-epoch",
    }),
    clusterSub("setslot", -4, ADMIN_SYNC, {
      summary: "Bind a hash slot to a specific node",
      args: "slot <IMPORTING node-id | MIGRATING node-id | NODE node-id | STABLE>",
    }),
    clusterSub("shards", 2, ["stale"], {
      summary: "Get array of cluster slots to node mappings",
      since: "7.0.0",
      complexity: "O(N) where N is the total number of cluster nodes",
    }),
    clusterSub("slaves", 3, ADMIN, {
      summary: "List replica nodes of the specified master node",
      args: "node-id",
    }),
    clusterSub("slots", 2, ["stale"], {
      summary: "Get array of Cluster slot to node mappings",
      complexity: NODES,
    }),
  ],
};

/** RESTORE-ASKING: RESTORE, as Redis runs it without cluster support. */
export const restoreAskingCommand: CommandSpec = {
  ...restoreCommand,
  name: "restore-asking",
  flags: ["write", "denyoom", "asking"],
  docs: {
    ...restoreCommand.docs!,
    summary: "An internal command for migrating keys in a cluster",
    since: "3.0.0",
    group: "server",
  },
};

/** READONLY, READWRITE, ASKING, CLUSTER and RESTORE-ASKING. */
export const clusterModeCommands: CommandSpec[] = [
  connectionCommand(
    "readonly",
    "Enables read queries for a connection to a cluster replica node",
  ),
  connectionCommand(
    "readwrite",
    "Disables read queries for a connection to a cluster replica node",
  ),
  {
    ...connectionCommand("asking", "Sent by cluster clients after an -ASK redirect"),
    flags: ["fast"],
  },
  clusterCommand,
  restoreAskingCommand,
];
