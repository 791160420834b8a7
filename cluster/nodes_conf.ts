/**
 * The node description lines of CLUSTER NODES and nodes.conf, written and read as Redis 7.0
 * writes and reads them:
 *
 *     <id> <ip>:<port>@<cport>[,<hostname>] <flags> <master|-> <ping-sent> <pong-recv>
 *       <config-epoch> <connected|disconnected> <slot|start-end>... [<slot>->-<id>] [<slot>-<-<id>]
 *     vars currentEpoch <n> lastVoteEpoch <n>
 *
 * Migrating and importing marks are printed on myself's line only; a replica shows its master's
 * config epoch; nodes.conf leaves out nodes in handshake.
 *
 * @module
 */

import type { Clock } from "../core/clock.ts";
import { splitArgs } from "../core/resp/parser.ts";
import { CLUSTER_SLOTS, ClusterNode, isNodeId, NodeFlag } from "./node.ts";
import { type ClusterHooks, type ClusterSettings, ClusterState } from "./state.ts";

/** Redis's message for a nodes.conf it cannot read (it then exits). */
export const CORRUPTED = "Unrecoverable error: corrupted cluster config file.";

/**
 * The slot ranges of every node, from the slot table (as Redis computes them once per listing).
 *
 * @param state the cluster state
 * @returns each owner's inclusive ranges, ascending
 */
function rangesByNode(state: ClusterState): Map<ClusterNode, Array<[number, number]>> {
  const out = new Map<ClusterNode, Array<[number, number]>>();
  let owner: ClusterNode | undefined;
  let start = 0;
  for (let j = 0; j <= CLUSTER_SLOTS; j++) {
    const n = j < CLUSTER_SLOTS ? state.slots[j] : undefined;
    if (n === owner && j < CLUSTER_SLOTS) continue;
    if (owner !== undefined) {
      let list = out.get(owner);
      if (list === undefined) out.set(owner, list = []);
      list.push([start, j - 1]);
    }
    owner = n;
    start = j;
  }
  return out;
}

/**
 * One node's line (without the newline).
 *
 * @param state the cluster state
 * @param node the node
 * @param ranges its slot ranges
 * @param usePport print the plaintext port (a TLS cluster seen from a plain client)
 * @returns the line
 */
export function nodeDescription(
  state: ClusterState,
  node: ClusterNode,
  ranges: ReadonlyArray<[number, number]> = node.slotRanges(),
  usePport = false,
): string {
  const port = usePport && node.pport !== 0 ? node.pport : node.port;
  let line = `${node.id} ${node.ip}:${port}@${node.cport}`;
  if (node.hostname !== "") line += `,${node.hostname}`;
  line += ` ${node.flagsString()} ${node.replicaOf?.id ?? "-"}`;
  const epoch = node.isReplica && node.replicaOf !== undefined
    ? node.replicaOf.configEpoch
    : node.configEpoch;
  const linked = node.link !== undefined || (node.flags & NodeFlag.MYSELF) !== 0;
  line += ` ${node.pingSent} ${node.pongReceived} ${epoch} ${
    linked ? "connected" : "disconnected"
  }`;
  for (const [a, b] of ranges) line += a === b ? ` ${a}` : ` ${a}-${b}`;
  if (node === state.myself) {
    for (let j = 0; j < CLUSTER_SLOTS; j++) {
      const to = state.migratingTo[j];
      const from = state.importingFrom[j];
      if (to !== undefined) line += ` [${j}->-${to.id}]`;
      else if (from !== undefined) line += ` [${j}-<-${from.id}]`;
    }
  }
  return line;
}

/**
 * Every node's line, each ending with a newline (CLUSTER NODES).
 *
 * @param state the cluster state
 * @param options `filter`: nodes with any of these flags are left out; `usePport` as above
 * @returns the text
 */
export function nodesDescription(
  state: ClusterState,
  options: { filter?: number; usePport?: boolean } = {},
): string {
  const filter = options.filter ?? 0;
  const ranges = rangesByNode(state);
  let out = "";
  for (const node of state.nodes.values()) {
    if (node.flags & filter) continue;
    out += nodeDescription(state, node, ranges.get(node) ?? [], options.usePport ?? false) + "\n";
  }
  return out;
}

/**
 * The content of nodes.conf.
 *
 * @param state the cluster state
 * @returns the file's text
 */
export function nodesConfText(state: ClusterState): string {
  return nodesDescription(state, { filter: NodeFlag.HANDSHAKE }) +
    `vars currentEpoch ${state.currentEpoch} lastVoteEpoch ${state.lastVoteEpoch}\n`;
}

const FLAG_BY_NAME: Record<string, number> = {
  myself: NodeFlag.MYSELF,
  master: NodeFlag.MASTER,
  slave: NodeFlag.SLAVE,
  "fail?": NodeFlag.PFAIL,
  fail: NodeFlag.FAIL,
  handshake: NodeFlag.HANDSHAKE,
  noaddr: NodeFlag.NOADDR,
  nofailover: NodeFlag.NOFAILOVER,
  noflags: 0,
};

function corrupted(): never {
  throw new Error(CORRUPTED);
}

/** C's atoi: the leading decimal digits (with a sign), 0 when none. */
function atoi(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s);
  return m === null ? 0 : parseInt(m[1]!, 10);
}

/**
 * Reads nodes.conf into a new cluster state. Throws {@linkcode CORRUPTED} as Redis exits with it.
 *
 * @param text the file's content (not empty)
 * @param clock the server's clock
 * @param options settings and hooks of the state
 * @returns the state, myself being the node flagged `myself`
 */
export function loadNodesConf(
  text: string,
  clock: Clock,
  options: { settings?: ClusterSettings; hooks?: ClusterHooks } = {},
): ClusterState {
  const now = clock.now();
  const nodes = new Map<string, ClusterNode>();
  const get = (id: string): ClusterNode => {
    if (!isNodeId(id)) corrupted();
    let n = nodes.get(id);
    if (n === undefined) nodes.set(id, n = new ClusterNode(id, 0, now));
    return n;
  };
  let myself: ClusterNode | undefined;
  let currentEpoch = 0;
  let lastVoteEpoch = 0;
  const claims: Array<[ClusterNode, number]> = [];
  const migrating: Array<[number, ClusterNode]> = [];
  const importing: Array<[number, ClusterNode]> = [];
  for (const line of text.split("\n")) {
    if (line === "" || line === "\r") continue;
    const argv = splitArgs(line);
    if (argv === undefined) corrupted();
    if (argv.length === 0) continue;
    if (argv[0]!.toLowerCase() === "vars") {
      if (argv.length % 2 === 0) corrupted();
      for (let j = 1; j < argv.length; j += 2) {
        const name = argv[j]!.toLowerCase();
        if (name === "currentepoch") currentEpoch = atoi(argv[j + 1]!);
        else if (name === "lastvoteepoch") lastVoteEpoch = atoi(argv[j + 1]!);
      }
      continue;
    }
    if (argv.length < 8) corrupted();
    const n = get(argv[0]!);
    let addr = argv[1]!;
    const comma = addr.indexOf(",");
    n.hostname = comma === -1 ? "" : addr.slice(comma + 1);
    if (comma !== -1) addr = addr.slice(0, comma);
    const colon = addr.lastIndexOf(":");
    if (colon === -1) corrupted();
    n.ip = addr.slice(0, colon);
    const [port = "", bus] = addr.slice(colon + 1).split("@");
    n.port = atoi(port);
    n.cport = bus !== undefined ? atoi(bus) : n.port + 10000;
    for (const name of argv[2]!.split(",")) {
      const bit = FLAG_BY_NAME[name.toLowerCase()];
      if (bit === undefined) throw new Error("Unknown flag in redis cluster config file");
      if (bit === NodeFlag.MYSELF) {
        if (myself !== undefined) corrupted();
        myself = n;
      }
      if (bit === NodeFlag.FAIL) n.failTime = now;
      n.flags |= bit;
    }
    if (argv[3]![0] !== "-") {
      const master = get(argv[3]!);
      n.replicaOf = master;
      if (!master.replicas.includes(n)) master.replicas.push(n);
      master.flags |= NodeFlag.MIGRATE_TO;
    }
    if (atoi(argv[4]!) !== 0) n.pingSent = now;
    if (atoi(argv[5]!) !== 0) n.pongReceived = now;
    n.configEpoch = n.isReplica && n.replicaOf !== undefined ? 0 : atoi(argv[6]!);
    for (let j = 8; j < argv.length; j++) {
      const arg = argv[j]!;
      if (arg[0] === "[") {
        const dash = arg.indexOf("-");
        if (dash === -1) corrupted();
        const slot = atoi(arg.slice(1, dash));
        if (slot < 0 || slot >= CLUSTER_SLOTS) corrupted();
        const end = arg.indexOf("]", dash + 3);
        if (end === -1) corrupted();
        const peer = get(arg.slice(dash + 3, end));
        (arg[dash + 1] === ">" ? migrating : importing).push([slot, peer]);
        continue;
      }
      const dash = arg.indexOf("-");
      const start = atoi(dash === -1 ? arg : arg.slice(0, dash));
      const stop = dash === -1 ? start : atoi(arg.slice(dash + 1));
      if (start < 0 || start >= CLUSTER_SLOTS || stop < 0 || stop >= CLUSTER_SLOTS) corrupted();
      for (let s = start; s <= stop; s++) claims.push([n, s]);
    }
  }
  if (myself === undefined) corrupted();
  const state = new ClusterState(clock, { ...options, myself });
  for (const n of nodes.values()) if (n !== myself) state.addNode(n);
  for (const [n, slot] of claims) state.assignSlot(n, slot);
  for (const [slot, n] of migrating) state.migratingTo[slot] = n;
  for (const [slot, n] of importing) state.importingFrom[slot] = n;
  state.currentEpoch = Math.max(currentEpoch, state.maxEpoch());
  state.lastVoteEpoch = lastVoteEpoch;
  return state;
}
