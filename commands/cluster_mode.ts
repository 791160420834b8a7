/**
 * The commands of cluster mode that a server without cluster support still answers, as Redis
 * 7.0 does with `cluster-enabled no`: READONLY, READWRITE, ASKING and every CLUSTER subcommand
 * refuse with its error. They exist so that COMMAND lists them, ACL rules can name them
 * (`+readonly`, `-cluster|reset`) and the dispatch gates judge them by their flags (CLUSTER RESET
 * is `noscript`: a script calling it is told the command is not allowed, not that it is unknown).
 *
 * @module
 */

import type { CommandFlag, CommandSpec } from "../core/command.ts";
import { fail } from "../core/resp/reply.ts";

const DISABLED = "ERR This instance has cluster support disabled";

function connectionCommand(name: string, summary: string): CommandSpec {
  return {
    name,
    arity: 1,
    flags: ["loading", "stale", "fast"],
    acl: ["connection"],
    docs: { summary, since: "3.0.0", group: "cluster", complexity: "O(1)" },
    execute: () => fail(DISABLED),
  };
}

/** One CLUSTER subcommand as Redis 7.0's command table declares it. */
interface Sub {
  arity: number;
  /** `admin` subcommands change the cluster; all are `stale`. */
  admin?: boolean;
  /** Subcommands whose reply differs between calls with the same arguments. */
  nondeterministic?: boolean;
  since?: string;
  summary: string;
  complexity?: string;
  args?: string;
}

const SUBCOMMANDS: Record<string, Sub> = {
  addslots: {
    arity: -3,
    admin: true,
    summary: "Assign new hash slots to receiving node",
    complexity: "O(N) where N is the total number of hash slot arguments",
    args: "slot [slot ...]",
  },
  addslotsrange: {
    arity: -4,
    admin: true,
    since: "7.0.0",
    summary: "Assign new hash slots to receiving node",
    complexity:
      "O(N) where N is the total number of the slots between the start slot and end slot arguments.",
    args: "start-slot end-slot [start-slot end-slot ...]",
  },
  bumpepoch: {
    arity: 2,
    admin: true,
    nondeterministic: true,
    summary: "Advance the cluster config epoch",
  },
  "count-failure-reports": {
    arity: 3,
    admin: true,
    nondeterministic: true,
    summary: "Return the number of failure reports active for a given node",
    complexity: "O(N) where N is the number of failure reports",
    args: "node-id",
  },
  countkeysinslot: {
    arity: 3,
    summary: "Return the number of local keys in the specified hash slot",
    args: "slot",
  },
  delslots: {
    arity: -3,
    admin: true,
    summary: "Set hash slots as unbound in receiving node",
    complexity: "O(N) where N is the total number of hash slot arguments",
    args: "slot [slot ...]",
  },
  delslotsrange: {
    arity: -4,
    admin: true,
    since: "7.0.0",
    summary: "Set hash slots as unbound in receiving node",
    complexity:
      "O(N) where N is the total number of the slots between the start slot and end slot arguments.",
    args: "start-slot end-slot [start-slot end-slot ...]",
  },
  failover: {
    arity: -2,
    admin: true,
    summary: "Forces a replica to perform a manual failover of its master.",
    args: "[FORCE | TAKEOVER]",
  },
  flushslots: { arity: 2, admin: true, summary: "Delete a node's own slots information" },
  forget: {
    arity: 3,
    admin: true,
    summary: "Remove a node from the nodes table",
    args: "node-id",
  },
  getkeysinslot: {
    arity: 4,
    nondeterministic: true,
    summary: "Return local key names in the specified hash slot",
    complexity: "O(log(N)) where N is the number of requested keys",
    args: "slot count",
  },
  info: {
    arity: 2,
    nondeterministic: true,
    summary: "Provides info about Redis Cluster node state",
  },
  keyslot: {
    arity: 3,
    summary: "Returns the hash slot of the specified key",
    complexity: "O(N) where N is the number of bytes in the key",
    args: "key",
  },
  links: {
    arity: 2,
    nondeterministic: true,
    since: "7.0.0",
    summary: "Returns a list of all TCP links to and from peer nodes in cluster",
    complexity: "O(N) where N is the total number of Cluster nodes",
  },
  meet: {
    arity: -4,
    admin: true,
    summary: "Force a node cluster to handshake with another node",
    args: "ip port [cluster_bus_port]",
  },
  myid: { arity: 2, summary: "Return the node id" },
  nodes: {
    arity: 2,
    nondeterministic: true,
    summary: "Get Cluster config for the node",
    complexity: "O(N) where N is the total number of Cluster nodes",
  },
  replicas: {
    arity: 3,
    admin: true,
    nondeterministic: true,
    since: "5.0.0",
    summary: "List replica nodes of the specified master node",
    args: "node-id",
  },
  replicate: {
    arity: 3,
    admin: true,
    summary: "Reconfigure a node as a replica of the specified master node",
    args: "node-id",
  },
  reset: {
    arity: -2,
    admin: true,
    summary: "Reset a Redis Cluster node",
    complexity:
      "O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect.",
    args: "[HARD | SOFT]",
  },
  saveconfig: {
    arity: 2,
    admin: true,
    summary: "Forces the node to save cluster state on disk",
  },
  "set-config-epoch": {
    arity: 3,
    admin: true,
    summary: "Set the configuration epoch in a new node",
    args: "config-epoch",
  },
  setslot: {
    arity: -4,
    admin: true,
    summary: "Bind a hash slot to a specific node",
    args: "slot <IMPORTING node-id | MIGRATING node-id | NODE node-id | STABLE>",
  },
  shards: {
    arity: 2,
    nondeterministic: true,
    since: "7.0.0",
    summary: "Get array of cluster slots to node mappings",
    complexity: "O(N) where N is the total number of cluster nodes",
  },
  slaves: {
    arity: 3,
    admin: true,
    nondeterministic: true,
    summary: "List replica nodes of the specified master node",
    args: "node-id",
  },
  slots: {
    arity: 2,
    nondeterministic: true,
    summary: "Get array of Cluster slot to node mappings",
    complexity: "O(N) where N is the total number of Cluster nodes",
  },
};

function subcommand(name: string, sub: Sub): CommandSpec {
  const flags: CommandFlag[] = sub.admin ? ["admin", "stale"] : ["stale"];
  // Redis refuses a node reset inside a script: it may flush the dataset.
  if (name === "reset") flags.push("noscript");
  const spec: CommandSpec = {
    name,
    arity: sub.arity,
    flags,
    docs: {
      summary: sub.summary,
      since: sub.since ?? "3.0.0",
      group: "cluster",
      complexity: sub.complexity ?? "O(1)",
      ...(sub.args ? { args: sub.args } : {}),
    },
    execute: () => fail(DISABLED),
  };
  return sub.nondeterministic ? { ...spec, tips: ["nondeterministic_output"] } : spec;
}

/** CLUSTER HELP: answered with the same refusal as the rest, before any help, as Redis does. */
const help: CommandSpec = {
  name: "help",
  arity: 2,
  flags: ["loading", "stale"],
  docs: {
    summary: "Show helpful text about the different subcommands",
    since: "5.0.0",
    group: "cluster",
    complexity: "O(1)",
  },
  execute: () => fail(DISABLED),
};

/** CLUSTER <subcommand>: every subcommand of Redis 7.0, all refused without cluster support. */
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
    ...Object.entries(SUBCOMMANDS).map(([name, sub]) => subcommand(name, sub)),
    help,
  ],
};

/** READONLY, READWRITE, ASKING and CLUSTER. */
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
];
