/**
 * The CLUSTER subcommands that change the state: ADDSLOTS, ADDSLOTSRANGE, DELSLOTS,
 * DELSLOTSRANGE, SETSLOT, FLUSHSLOTS, BUMPEPOCH, SET-CONFIG-EPOCH, SAVECONFIG, RESET, FORGET,
 * REPLICATE, MEET (the handshake node; the bus connects it), FAILOVER (its checks; the bus runs
 * it), and READONLY, READWRITE, ASKING. Replies and errors are Redis 7.0.15's.
 *
 * @module
 */

import { isIP } from "node:net";
import { parseInteger } from "../core/bytes.ts";
import { intArg } from "../core/args.ts";
import { CF } from "../core/client.ts";
import { E, fail, R, type Reply, SimpleString } from "../core/resp/reply.ts";
import { compat, helpFor } from "../core/compat.ts";
import type { ClusterHandler } from "../commands/cluster_mode.ts";
import type { ClusterContext } from "./context.ts";
import { CLUSTER_SLOTS, type ClusterNode, NodeFlag } from "./node.ts";
import { slotArg } from "./commands_view.ts";
import { Todo } from "./state.ts";

/** CLUSTER HELP of Redis 7.0. */
const HELP_70 = [
  "ADDSLOTS <slot> [<slot> ...]",
  "    Assign slots to current node.",
  "ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
  "    Assign slots which are between <start-slot> and <end-slot> to current node.",
  "BUMPEPOCH",
  "    Advance the cluster config epoch.",
  "COUNT-FAILURE-REPORTS <node-id>",
  "    Return number of failure reports for <node-id>.",
  "COUNTKEYSINSLOT <slot>",
  "    Return the number of keys in <slot>.",
  "DELSLOTS <slot> [<slot> ...]",
  "    Delete slots information from current node.",
  "DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
  "    Delete slots information which are between <start-slot> and <end-slot> from current node.",
  "FAILOVER [FORCE|TAKEOVER]",
  "    Promote current replica node to being a master.",
  "FORGET <node-id>",
  "    Remove a node from the cluster.",
  "GETKEYSINSLOT <slot> <count>",
  "    Return key names stored by current node in a slot.",
  "FLUSHSLOTS",
  "    Delete current node own slots information.",
  "INFO",
  "    Return information about the cluster.",
  "KEYSLOT <key>",
  "    Return the hash slot for <key>.",
  "MEET <ip> <port> [<bus-port>]",
  "    Connect nodes into a working cluster.",
  "MYID",
  "    Return the node id.",
  "NODES",
  "    Return cluster configuration seen by node. Output format:",
  "    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
  "REPLICATE <node-id>",
  "    Configure current node as replica to <node-id>.",
  "RESET [HARD|SOFT]",
  "    Reset current node (default: soft).",
  "SET-CONFIG-EPOCH <epoch>",
  "    Set config epoch of current node.",
  "SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
  "    Set slot state.",
  "REPLICAS <node-id>",
  "    Return <node-id> replicas.",
  "SAVECONFIG",
  "    Force saving cluster configuration on disk.",
  "SLOTS",
  "    Return information about slots range mappings. Each range is made of:",
  "    start, end, master and replicas IP addresses, ports and ids",
  "SHARDS",
  "    Return information about slot range mappings and the nodes associated with them.",
  "LINKS",
  "    Return information about all network links between this node and its peers.",
  "    Output format is an array where each array element is a map containing attributes of a link",
];

/** The subcommands Redis 7.4's CLUSTER HELP lists first (the generic ones), in its order. */
const GENERIC_74 = [
  "COUNTKEYSINSLOT",
  "GETKEYSINSLOT",
  "INFO",
  "KEYSLOT",
  "MYID",
  "MYSHARDID",
  "NODES",
  "REPLICAS",
  "SLOTS",
  "SHARDS",
];

/**
 * CLUSTER HELP of Redis 7.4, made from 7.0's: the generic subcommands first, then the others in
 * 7.0's order; MYSHARDID added; NODES's format line with the bus port and hostname.
 */
const HELP_74: string[] = (() => {
  const entries = new Map<string, string[]>();
  let lines: string[] = [];
  for (const line of HELP_70) {
    if (!line.startsWith(" ")) entries.set(line.split(" ")[0]!, lines = []);
    lines.push(line);
  }
  entries.set("MYSHARDID", ["MYSHARDID", "    Return the node's shard id."]);
  entries.get("NODES")![2] =
    "    <id> <ip:port@bus-port[,hostname]> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...";
  const rest = [...entries.keys()].filter((name) => !GENERIC_74.includes(name));
  return [...GENERIC_74, ...rest].flatMap((name) => entries.get(name)!);
})();

/** Redis's reply when a subcommand's own argument count check fails. */
function syntaxError(argv: string[]): never {
  return fail(
    `ERR unknown subcommand or wrong number of arguments for '${argv[1]!.slice(0, 128)}'. Try ${
      argv[0]!.toUpperCase()
    } HELP.`,
  );
}

/**
 * The slots named by ADDSLOTS/DELSLOTS (singles) or their RANGE forms (pairs), checked as
 * Redis does: all parse first, then none is busy (or free, to delete) nor named twice.
 */
function slotsToUpdate(
  ctx: ClusterContext,
  argv: string[],
  del: boolean,
  ranges: boolean,
): Uint8Array {
  const marks = new Uint8Array(CLUSTER_SLOTS);
  const pairs: Array<[number, number]> = [];
  if (ranges) {
    if (argv.length % 2 === 1) fail(E.wrongArgs(`cluster|${argv[1]!.toLowerCase()}`));
    for (let j = 2; j < argv.length; j += 2) {
      const start = slotArg(argv[j]!);
      const end = slotArg(argv[j + 1]!);
      if (start > end) {
        fail(`ERR start slot number ${start} is greater than end slot number ${end}`);
      }
      pairs.push([start, end]);
      check(ctx, marks, del, start, end);
    }
    return marks;
  }
  for (let j = 2; j < argv.length; j++) pairs.push([slotArg(argv[j]!), 0]);
  for (const [slot] of pairs) check(ctx, marks, del, slot, slot);
  return marks;
}

function check(
  ctx: ClusterContext,
  marks: Uint8Array,
  del: boolean,
  start: number,
  end: number,
): void {
  for (let slot = start; slot <= end; slot++) {
    const owner = ctx.state.slots[slot];
    if (del && owner === undefined) fail(`ERR Slot ${slot} is already unassigned`);
    if (!del && owner !== undefined) fail(`ERR Slot ${slot} is already busy`);
    if (marks[slot] === 1) fail(`ERR Slot ${slot} specified multiple times`);
    marks[slot] = 1;
  }
}

function updateSlots(ctx: ClusterContext, marks: Uint8Array, del: boolean): Reply {
  const st = ctx.state;
  for (let j = 0; j < CLUSTER_SLOTS; j++) {
    if (marks[j] === 0) continue;
    // We now own the slot for real: it is no longer being imported.
    st.importingFrom[j] = undefined;
    if (del) st.unassignSlot(j);
    else st.assignSlot(st.myself, j);
  }
  st.todo(Todo.UPDATE_STATE | Todo.SAVE_CONFIG);
  return R.ok;
}

function masterTarget(ctx: ClusterContext, id: string, unknown: string): ClusterNode {
  const n = ctx.state.lookupNode(id) ?? fail(`ERR ${unknown} ${id}`);
  if (n.isReplica) fail("ERR Target node is not a master");
  return n;
}

function setSlot(ctx: ClusterContext, argv: string[]): Reply {
  const st = ctx.state;
  const me = st.myself;
  if (me.isReplica) fail("ERR Please use SETSLOT only with masters.");
  const slot = slotArg(argv[2]!);
  const action = argv[3]!.toLowerCase();
  if (action === "migrating" && argv.length === 5) {
    if (st.slots[slot] !== me) fail(`ERR I'm not the owner of hash slot ${slot}`);
    st.migratingTo[slot] = masterTarget(ctx, argv[4]!, "I don't know about node");
  } else if (action === "importing" && argv.length === 5) {
    if (st.slots[slot] === me) fail(`ERR I'm already the owner of hash slot ${slot}`);
    st.importingFrom[slot] = masterTarget(ctx, argv[4]!, "I don't know about node");
  } else if (action === "stable" && argv.length === 4) {
    st.importingFrom[slot] = st.migratingTo[slot] = undefined;
  } else if (action === "node" && argv.length === 5) {
    const n = masterTarget(ctx, argv[4]!, "Unknown node");
    const keys = ctx.slotKeys.count(slot);
    if (st.slots[slot] === me && n !== me && keys !== 0) {
      fail(
        `ERR Can't assign hashslot ${slot} to a different node while I still hold keys for this hash slot.`,
      );
    }
    if (keys === 0) st.migratingTo[slot] = undefined;
    const wasMine = st.slots[slot] === me;
    st.unassignSlot(slot);
    st.assignSlot(n, slot);
    if (wasMine && n !== me && me.numSlots === 0 && st.settings.allowReplicaMigration()) {
      ctx.server.log(
        "warning",
        `Configuration change detected. Reconfiguring myself as a replica of ${n.id}`,
      );
      st.setMyMaster(n);
      st.todo(Todo.SAVE_CONFIG | Todo.UPDATE_STATE | Todo.FSYNC_CONFIG);
    }
    if (n === me && st.importingFrom[slot] !== undefined) {
      // A slot moved by hand takes a new config epoch, so that the cluster adopts our claim.
      if (st.bumpConfigEpochWithoutConsensus()) {
        ctx.server.log("warning", `configEpoch updated after importing slot ${slot}`);
      }
      st.importingFrom[slot] = undefined;
      ctx.bus?.broadcastPong?.();
    }
  } else {
    fail("ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP");
  }
  st.todo(Todo.SAVE_CONFIG | Todo.UPDATE_STATE);
  return R.ok;
}

function meet(ctx: ClusterContext, argv: string[]): Reply {
  if (argv.length !== 4 && argv.length !== 5) syntaxError(argv);
  const port = parseInteger(argv[3]!) ?? fail(`ERR Invalid TCP base port specified: ${argv[3]}`);
  const cport = argv.length === 5
    ? parseInteger(argv[4]!) ?? fail(`ERR Invalid TCP bus port specified: ${argv[4]}`)
    : port + 10000;
  const ip = argv[2]!.toLowerCase();
  if (isIP(ip) === 0 || port <= 0 || port > 65535 || cport <= 0 || cport > 65535) {
    fail(`ERR Invalid node address specified: ${argv[2]}:${argv[3]}`);
  }
  const st = ctx.state;
  for (const n of st.nodes.values()) {
    // A handshake with this address is already under way.
    if (n.inHandshake && n.ip === ip && n.port === port && n.cport === cport) return R.ok;
  }
  const n = st.createNode(undefined, NodeFlag.HANDSHAKE | NodeFlag.MEET);
  n.ip = ip;
  n.port = port;
  n.cport = cport;
  st.addNode(n);
  return R.ok;
}

function failover(ctx: ClusterContext, argv: string[]): Reply {
  if (argv.length > 3) syntaxError(argv);
  let mode: "default" | "force" | "takeover" = "default";
  if (argv.length === 3) {
    const opt = argv[2]!.toLowerCase();
    if (opt === "force" || opt === "takeover") mode = opt;
    else fail(E.syntax);
  }
  const me = ctx.state.myself;
  if (me.isMaster) fail("ERR You should send CLUSTER FAILOVER to a replica");
  const master = me.replicaOf ?? fail("ERR I'm a replica but my master is unknown to me");
  if (mode === "default" && (master.failed || master.link === undefined)) {
    fail("ERR Master is down or failed, please use CLUSTER FAILOVER FORCE");
  }
  ctx.bus?.failover?.(mode);
  return R.ok;
}

function reset(ctx: ClusterContext, client: { db: { size: number } }, argv: string[]): Reply {
  if (argv.length > 3) syntaxError(argv);
  let hard = false;
  if (argv.length === 3) {
    const opt = argv[2]!.toLowerCase();
    if (opt === "hard") hard = true;
    else if (opt !== "soft") fail(E.syntax);
  }
  const st = ctx.state;
  if (st.myself.isMaster && client.db.size !== 0) {
    fail("ERR CLUSTER RESET can't be called with master nodes containing keys");
  }
  if (st.myself.isReplica) ctx.becomeEmptyMaster();
  st.reset(hard);
  return R.ok;
}

/**
 * The handlers, by subcommand name (READONLY, READWRITE and ASKING under their own names).
 *
 * @param ctx the cluster mode
 * @returns the handlers
 */
export function adminCommands(ctx: ClusterContext): Array<[string, ClusterHandler]> {
  const st = ctx.state;
  const db0Size = () => ctx.server.dbs[0]!.size;
  return [
    ["help", (c, argv) => {
      const name = argv[0]!.toUpperCase();
      return helpFor(c, [
        `${name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`,
        ...(compat(c.server.config).v74 ? HELP_74 : HELP_70),
        "HELP",
        "    Print this help.",
      ]);
    }],
    ["addslots", (_c, argv) => updateSlots(ctx, slotsToUpdate(ctx, argv, false, false), false)],
    ["delslots", (_c, argv) => updateSlots(ctx, slotsToUpdate(ctx, argv, true, false), true)],
    ["addslotsrange", (_c, argv) => updateSlots(ctx, slotsToUpdate(ctx, argv, false, true), false)],
    ["delslotsrange", (_c, argv) => updateSlots(ctx, slotsToUpdate(ctx, argv, true, true), true)],
    ["setslot", (_c, argv) => setSlot(ctx, argv)],
    ["flushslots", () => {
      if (db0Size() !== 0) fail("ERR DB must be empty to perform CLUSTER FLUSHSLOTS.");
      st.delNodeSlots(st.myself);
      st.todo(Todo.UPDATE_STATE | Todo.SAVE_CONFIG);
      return R.ok;
    }],
    ["bumpepoch", () => {
      const bumped = st.bumpConfigEpochWithoutConsensus();
      return new SimpleString(`${bumped ? "BUMPED" : "STILL"} ${st.myself.configEpoch}`);
    }],
    ["set-config-epoch", (_c, argv) => {
      const epoch = intArg(argv[2]!);
      if (epoch < 0) fail(`ERR Invalid config epoch specified: ${epoch}`);
      if (st.nodes.size > 1) {
        fail(
          "ERR The user can assign a config epoch only when the node does not know any other node.",
        );
      }
      if (st.myself.configEpoch !== 0) fail("ERR Node config epoch is already non-zero");
      st.myself.configEpoch = epoch;
      ctx.server.log("warning", `configEpoch set to ${epoch} via CLUSTER SET-CONFIG-EPOCH`);
      if (st.currentEpoch < epoch) st.currentEpoch = epoch;
      st.todo(Todo.UPDATE_STATE | Todo.SAVE_CONFIG);
      return R.ok;
    }],
    ["saveconfig", () => {
      try {
        ctx.saveConfig(true);
      } catch (e) {
        fail(`ERR error saving the cluster node config: ${(e as Error).message}`);
      }
      return R.ok;
    }],
    ["reset", (c, argv) => reset(ctx, c, argv)],
    ["forget", (_c, argv) => {
      const n = st.lookupNode(argv[2]!) ?? fail(`ERR Unknown node ${argv[2]}`);
      if (n === st.myself) fail("ERR I tried hard but I can't forget myself...");
      if (st.myself.isReplica && st.myself.replicaOf === n) fail("ERR Can't forget my master!");
      st.blacklistAdd(n);
      st.deleteNode(n);
      st.todo(Todo.UPDATE_STATE | Todo.SAVE_CONFIG);
      return R.ok;
    }],
    ["replicate", (_c, argv) => {
      const n = st.lookupNode(argv[2]!) ?? fail(`ERR Unknown node ${argv[2]}`);
      if (n === st.myself) fail("ERR Can't replicate myself");
      if (n.isReplica) fail("ERR I can only replicate a master, not a replica.");
      if (st.myself.isMaster && (st.myself.numSlots !== 0 || db0Size() !== 0)) {
        fail("ERR To set a master the node must be empty and without assigned slots.");
      }
      st.setMyMaster(n);
      st.todo(Todo.UPDATE_STATE | Todo.SAVE_CONFIG);
      return R.ok;
    }],
    ["meet", (_c, argv) => meet(ctx, argv)],
    ["failover", (_c, argv) => failover(ctx, argv)],
  ];
}

/** READONLY, READWRITE and ASKING in cluster mode: they set or clear a client flag. */
export const connectionFlagCommands: Array<[string, ClusterHandler]> = [
  ["readonly", (c) => {
    c.flags |= CF.readonlyCluster;
    return R.ok;
  }],
  ["readwrite", (c) => {
    c.flags &= ~CF.readonlyCluster;
    return R.ok;
  }],
  ["asking", (c) => {
    c.flags |= CF.asking;
    return R.ok;
  }],
];
