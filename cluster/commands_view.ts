/**
 * The CLUSTER subcommands that read the state: INFO, NODES, MYID, SLOTS, SHARDS, REPLICAS
 * (SLAVES), COUNT-FAILURE-REPORTS, KEYSLOT, COUNTKEYSINSLOT, GETKEYSINSLOT, LINKS, with Redis
 * 7.0.15's replies and errors.
 *
 * @module
 */

import { parseInteger } from "../core/bytes.ts";
import type { ClusterHandler } from "../commands/cluster_mode.ts";
import { intArg } from "../core/args.ts";
import { fail, MapReply, type Reply, VerbatimReply } from "../core/resp/reply.ts";
import type { ClusterContext } from "./context.ts";
import { CLUSTER_SLOTS, type ClusterNode } from "./node.ts";
import { nodeDescription, nodesDescription } from "./nodes_conf.ts";
import { preferredEndpoint } from "./routing.ts";
import { keyHashSlot } from "./slots.ts";
import { MSG_TYPE_COUNT, MSG_TYPE_NAMES } from "./state_types.ts";

/**
 * A slot argument (Redis's getSlotOrReply).
 *
 * @param arg the argument
 * @returns the slot
 */
export function slotArg(arg: string): number {
  const n = parseInteger(arg);
  if (n === undefined || n < 0 || n >= CLUSTER_SLOTS) fail("ERR Invalid or out of range slot");
  return n;
}

/** The runs of consecutive slots served by one node, ascending: `[first, last, node]` each. */
function* slotRuns(ctx: ClusterContext): Generator<[number, number, ClusterNode]> {
  const slots = ctx.state.slots;
  let j = 0;
  while (j < CLUSTER_SLOTS) {
    const n = slots[j];
    let k = j;
    while (k + 1 < CLUSTER_SLOTS && slots[k + 1] === n) k++;
    if (n !== undefined) yield [j, k, n];
    j = k + 1;
  }
}

/** The slot ranges of each node from the slot table, ascending. */
function rangesByOwner(ctx: ClusterContext): Map<ClusterNode, Array<[number, number]>> {
  const out = new Map<ClusterNode, Array<[number, number]>>();
  for (const [first, last, n] of slotRuns(ctx)) {
    let list = out.get(n);
    if (list === undefined) out.set(n, list = []);
    list.push([first, last]);
  }
  return out;
}

function clusterInfo(ctx: ClusterContext): Reply {
  const st = ctx.state;
  let assigned = 0, ok = 0, pfail = 0, failed = 0;
  for (let j = 0; j < CLUSTER_SLOTS; j++) {
    const n = st.slots[j];
    if (n === undefined) continue;
    assigned++;
    if (n.failed) failed++;
    else if (n.timedOut) pfail++;
    else ok++;
  }
  const me = st.myself;
  const myEpoch = me.isReplica && me.replicaOf !== undefined
    ? me.replicaOf.configEpoch
    : me.configEpoch;
  const lines = [
    `cluster_state:${st.state}`,
    `cluster_slots_assigned:${assigned}`,
    `cluster_slots_ok:${ok}`,
    `cluster_slots_pfail:${pfail}`,
    `cluster_slots_fail:${failed}`,
    `cluster_known_nodes:${st.nodes.size}`,
    `cluster_size:${st.size}`,
    `cluster_current_epoch:${st.currentEpoch}`,
    `cluster_my_epoch:${myEpoch}`,
  ];
  for (const [dir, counts] of [["sent", st.statsSent], ["received", st.statsReceived]] as const) {
    let total = 0;
    for (let i = 0; i < MSG_TYPE_COUNT; i++) {
      const n = counts[i]!;
      if (n === 0) continue;
      total += n;
      lines.push(`cluster_stats_messages_${MSG_TYPE_NAMES[i]}_${dir}:${n}`);
    }
    lines.push(`cluster_stats_messages_${dir}:${total}`);
  }
  lines.push(`total_cluster_links_buffer_limit_exceeded:${st.linksBufferLimitExceeded}`);
  return new VerbatimReply(lines.join("\r\n") + "\r\n");
}

/** A node as CLUSTER SLOTS lists it: endpoint, port, id, and the other endpoints it has. */
function nodeEntry(ctx: ClusterContext, n: ClusterNode): Reply {
  const type = ctx.endpointType();
  const extra: Reply[] = [];
  if (type !== "ip") extra.push("ip", n.ip);
  if (type !== "hostname" && n.hostname !== "") extra.push("hostname", n.hostname);
  const endpoint = type === "unknown-endpoint"
    ? null
    : type === "hostname"
    ? preferredEndpoint(n, type)
    : n.ip;
  return [endpoint, n.port, n.id, new MapReply(extra)];
}

/** A replica counts in CLUSTER SLOTS once it is not failed and has an offset. */
function replicaAvailable(ctx: ClusterContext, n: ClusterNode): boolean {
  if (n.failed) return false;
  const offset = n === ctx.state.myself ? ctx.replOffset() : n.replOffset;
  return offset !== 0;
}

function clusterSlots(ctx: ClusterContext): Reply {
  const out: Reply[] = [];
  for (const [first, last, n] of slotRuns(ctx)) {
    const entry: Reply[] = [first, last, nodeEntry(ctx, n)];
    for (const r of n.replicas) if (replicaAvailable(ctx, r)) entry.push(nodeEntry(ctx, r));
    out.push(entry);
  }
  return out;
}

function shardNode(ctx: ClusterContext, n: ClusterNode): Reply {
  const m: Reply[] = ["id", n.id];
  if (n.port !== 0) m.push("port", n.port);
  m.push("ip", n.ip, "endpoint", preferredEndpoint(n, ctx.endpointType()));
  if (n.hostname !== "") m.push("hostname", n.hostname);
  const offset = n === ctx.state.myself ? ctx.replOffset() : n.replOffset;
  const health = n.failed ? "fail" : n.isReplica && offset === 0 ? "loading" : "online";
  m.push(
    "role",
    n.isReplica ? "replica" : "master",
    "replication-offset",
    offset,
    "health",
    health,
  );
  return new MapReply(m);
}

function clusterShards(ctx: ClusterContext): Reply {
  const ranges = rangesByOwner(ctx);
  const out: Reply[] = [];
  for (const n of ctx.state.nodes.values()) {
    if (!n.isMaster) continue;
    const slots: Reply[] = (ranges.get(n) ?? []).flat();
    out.push(
      new MapReply(["slots", slots, "nodes", [n, ...n.replicas].map((x) => shardNode(ctx, x))]),
    );
  }
  return out;
}

function knownNode(ctx: ClusterContext, id: string): ClusterNode {
  return ctx.state.lookupNode(id) ?? fail(`ERR Unknown node ${id}`);
}

/**
 * The handlers, by subcommand name.
 *
 * @param ctx the cluster mode
 * @returns the handlers
 */
export function viewCommands(ctx: ClusterContext): Array<[string, ClusterHandler]> {
  const st = ctx.state;
  return [
    ["info", () => clusterInfo(ctx)],
    ["nodes", () => {
      ctx.refreshMyself();
      return new VerbatimReply(nodesDescription(st));
    }],
    ["myid", () => st.myself.id],
    ["slots", () => {
      ctx.refreshMyself();
      return clusterSlots(ctx);
    }],
    ["shards", () => {
      ctx.refreshMyself();
      return clusterShards(ctx);
    }],
    ["replicas", (_c, argv) => {
      const n = knownNode(ctx, argv[2]!);
      if (n.isReplica) fail("ERR The specified node is not a master");
      return n.replicas.map((r) => nodeDescription(st, r));
    }],
    ["count-failure-reports", (_c, argv) => st.failureReportsCount(knownNode(ctx, argv[2]!))],
    ["keyslot", (_c, argv) => keyHashSlot(argv[2]!)],
    ["countkeysinslot", (_c, argv) => {
      const slot = intArg(argv[2]!);
      if (slot < 0 || slot >= CLUSTER_SLOTS) fail("ERR Invalid slot");
      return ctx.slotKeys.count(slot);
    }],
    ["getkeysinslot", (_c, argv) => {
      const slot = intArg(argv[2]!);
      const max = intArg(argv[3]!);
      if (slot < 0 || slot >= CLUSTER_SLOTS || max < 0) fail("ERR Invalid slot or number of keys");
      return ctx.slotKeys.keys(slot, max);
    }],
    ["links", () => {
      const out: Reply[] = [];
      for (const n of st.nodes.values()) {
        for (const [dir, link] of [["to", n.link], ["from", n.inboundLink]] as const) {
          if (link === undefined) continue;
          out.push(
            new MapReply([
              "direction",
              dir,
              "node",
              n.id,
              "create-time",
              link.createTime,
              "events",
              link.events,
              "send-buffer-allocated",
              link.sendBufferAllocated,
              "send-buffer-used",
              link.sendBufferUsed,
            ]),
          );
        }
      }
      return out;
    }],
  ];
}
