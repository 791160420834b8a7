/**
 * The messages this node sends, built from the cluster state as Redis builds them
 * (clusterBuildMessageHdr, clusterSendPing with its gossip choice, FAIL, UPDATE, PUBLISH).
 *
 * @module
 */

import type { ClusterState } from "../state.ts";
import type { ClusterNode } from "../node.ts";
import {
  type BusHeader,
  encodeMessage,
  type GossipEntry,
  MsgFlag0,
  MsgType,
  NodeFlag,
} from "./codec.ts";

/** What the header says about this node beyond the state: ports, address, offset. */
export interface Announce {
  /** Client port (the TLS one when TLS serves clients). */
  port(): number;
  /** Plaintext port when `port` is TLS, else 0. */
  pport(): number;
  /** Bus port. */
  cport(): number;
  /** cluster-announce-ip, or "" to let peers use the connection's address. */
  ip(): string;
  /** Replication offset: the master's, or what a replica processed. */
  replOffset(): number;
  /** True while this master is paused for a manual failover. */
  paused(): boolean;
}

/**
 * The header every message starts with.
 *
 * @param state the cluster state
 * @param announce ports and the like
 * @param type the message type
 * @returns the header
 */
export function buildHeader(state: ClusterState, announce: Announce, type: number): BusHeader {
  const me = state.myself;
  // A replica sends its master's slots and config epoch, flagged as a replica.
  const master = me.isReplica && me.replicaOf !== undefined ? me.replicaOf : me;
  return {
    type,
    currentEpoch: state.currentEpoch,
    configEpoch: master.configEpoch,
    offset: announce.replOffset(),
    sender: me.id,
    myslots: master.slots,
    slaveof: me.replicaOf?.id ?? null,
    myip: announce.ip(),
    port: announce.port(),
    pport: announce.pport(),
    cport: announce.cport(),
    flags: me.flags,
    state: state.state === "ok" ? 0 : 1,
    mflags: [me.isMaster && announce.paused() ? MsgFlag0.PAUSED : 0, 0, 0],
  };
}

function gossipOf(n: ClusterNode): GossipEntry {
  return {
    name: n.id,
    pingSent: Math.floor(n.pingSent / 1000),
    pongReceived: Math.floor(n.pongReceived / 1000),
    ip: n.ip,
    port: n.port,
    cport: n.cport,
    flags: n.flags,
    pport: n.pport,
  };
}

let pingsSent = 0;

/**
 * A PING, PONG or MEET with gossip about a few random nodes: a tenth of the table, at least 3
 * (never more than the nodes other than us and the receiver), then every node in PFAIL so that
 * failure reports spread fast. Handshake and address-less nodes are left out, and so are
 * disconnected nodes that serve no slot.
 *
 * @param state the cluster state
 * @param announce ports and the like
 * @param type PING, PONG or MEET
 * @param pfailNodes how many nodes are in PFAIL (counted by the cron)
 * @returns the message's bytes
 */
export function buildPing(
  state: ClusterState,
  announce: Announce,
  type: number,
  pfailNodes: number,
): Uint8Array {
  const counter = ++pingsSent;
  const all = [...state.nodes.values()];
  let fresh = all.length - 2;
  let wanted = Math.max(3, Math.floor(all.length / 10));
  if (wanted > fresh) wanted = fresh;
  const gossip: GossipEntry[] = [];
  let iterations = wanted * 3;
  while (fresh > 0 && gossip.length < wanted && iterations-- > 0) {
    const n = all[Math.floor(Math.random() * all.length)]!;
    if (n === state.myself || n.timedOut) continue;
    if (
      (n.flags & (NodeFlag.HANDSHAKE | NodeFlag.NOADDR)) !== 0 ||
      (n.link === undefined && n.numSlots === 0)
    ) {
      fresh--; // as Redis: not exact, but it bounds the work
      continue;
    }
    if (n.lastInPingGossip === counter) continue;
    gossip.push(gossipOf(n));
    n.lastInPingGossip = counter;
    fresh--;
  }
  let pfail = pfailNodes;
  for (const n of all) {
    if (pfail <= 0) break;
    if ((n.flags & (NodeFlag.HANDSHAKE | NodeFlag.NOADDR)) !== 0 || !n.timedOut) continue;
    gossip.push(gossipOf(n));
    pfail--;
  }
  const hostname = state.myself.hostname;
  return encodeMessage({
    header: buildHeader(state, announce, type),
    body: { kind: "ping", gossip, hostname: hostname === "" ? null : hostname },
  });
}

/** A FAIL about `node`. */
export function buildFail(state: ClusterState, announce: Announce, node: ClusterNode): Uint8Array {
  return encodeMessage({
    header: buildHeader(state, announce, MsgType.FAIL),
    body: { kind: "fail", node: node.id },
  });
}

/** An UPDATE telling a stale node `node`'s slots and config epoch (less those it stopped claiming). */
export function buildUpdate(
  state: ClusterState,
  announce: Announce,
  node: ClusterNode,
): Uint8Array {
  const slots = node.slots.slice();
  for (let i = 0; i < slots.length; i++) slots[i]! &= ~state.ownerNotClaimingSlot[i]!;
  return encodeMessage({
    header: buildHeader(state, announce, MsgType.UPDATE),
    body: { kind: "update", configEpoch: node.configEpoch, node: node.id, slots },
  });
}

/** A PUBLISH or PUBLISHSHARD. */
export function buildPublish(
  state: ClusterState,
  announce: Announce,
  sharded: boolean,
  channel: Uint8Array,
  message: Uint8Array,
): Uint8Array {
  return encodeMessage({
    header: buildHeader(state, announce, sharded ? MsgType.PUBLISHSHARD : MsgType.PUBLISH),
    body: { kind: "publish", channel, message },
  });
}

/** A header-only message: FAILOVER_AUTH_REQUEST (with FORCEACK when asked), _ACK, MFSTART. */
export function buildEmpty(
  state: ClusterState,
  announce: Announce,
  type: number,
  forceAck = false,
): Uint8Array {
  const header = buildHeader(state, announce, type);
  if (forceAck) header.mflags[0] |= MsgFlag0.FORCEACK;
  return encodeMessage({ header, body: { kind: "empty" } });
}
