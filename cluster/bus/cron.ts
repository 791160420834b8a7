/**
 * The bus's 100 ms cron (Redis's clusterCron): drops handshakes older than the node timeout,
 * opens missing links, pings the node with the oldest pong among 5 sampled once a second, pings
 * every node whose pong is older than half the node timeout, reconnects a silent link, flags
 * PFAIL a node that did not answer within the node timeout, and re-evaluates the cluster state.
 *
 * @module
 */

import type { ClusterBus } from "./bus.ts";
import type { BusLink } from "./link.ts";
import { MsgType, NodeFlag } from "./codec.ts";
import type { ClusterNode } from "../node.ts";

/**
 * One run of the cron.
 *
 * @param bus the bus
 */
export function clusterCron(bus: ClusterBus): void {
  const state = bus.state;
  const iteration = ++bus.iteration;
  const timeout = state.settings.nodeTimeout();
  const handshakeTimeout = Math.max(timeout, 1000);
  let now = bus.now();
  let pfail = 0;
  for (const node of [...state.nodes.values()]) {
    if (node.flags & (NodeFlag.MYSELF | NodeFlag.NOADDR)) continue;
    if (node.timedOut) pfail++;
    if (node.inHandshake && now - node.ctime > handshakeTimeout) {
      state.deleteNode(node);
      continue;
    }
    if (node.link === undefined) bus.connect(node);
  }
  bus.pfailNodes = pfail;

  if (iteration % 10 === 0) {
    const all = [...state.nodes.values()];
    let oldest: ClusterNode | undefined;
    for (let j = 0; j < 5 && all.length > 0; j++) {
      const n = all[Math.floor(Math.random() * all.length)]!;
      if (n.link === undefined || n.pingSent !== 0) continue;
      if (n.flags & (NodeFlag.MYSELF | NodeFlag.HANDSHAKE)) continue;
      if (oldest === undefined || oldest.pongReceived > n.pongReceived) oldest = n;
    }
    if (oldest !== undefined) bus.sendPing(oldest.link as BusLink, MsgType.PING);
  }

  let updateState = false;
  for (const node of [...state.nodes.values()]) {
    now = bus.now();
    if (node.flags & (NodeFlag.MYSELF | NodeFlag.NOADDR | NodeFlag.HANDSHAKE)) continue;
    const pingDelay = now - node.pingSent;
    const dataDelay = now - node.dataReceived;
    const link = node.link as BusLink | undefined;
    // Connected long enough, a ping unanswered for half the timeout and no data at all: reconnect.
    if (
      link !== undefined && now - link.createTime > timeout && node.pingSent !== 0 &&
      pingDelay > timeout / 2 && dataDelay > timeout / 2
    ) {
      link.close();
    }
    if (node.link !== undefined && node.pingSent === 0 && now - node.pongReceived > timeout / 2) {
      bus.sendPing(node.link as BusLink, MsgType.PING);
      continue;
    }
    // A master in a manual failover pings the replica continuously (it carries our offset).
    if (
      bus.election.mfEnd !== 0 && state.myself.isMaster && bus.election.mfReplica === node &&
      node.link !== undefined
    ) {
      bus.sendPing(node.link as BusLink, MsgType.PING);
      continue;
    }
    if (node.pingSent === 0) continue;
    if (
      Math.min(pingDelay, dataDelay) > timeout &&
      (node.flags & (NodeFlag.PFAIL | NodeFlag.FAIL)) === 0
    ) {
      node.flags |= NodeFlag.PFAIL;
      updateState = true;
      // As Redis 7.2+: the only slot-serving master is a quorum of its own.
      if (state.myself.isMaster && state.size === 1) {
        if (state.markFailIfNeeded(node)) bus.sendFail(node);
      } else {
        bus.log("verbose", `*** NODE ${node.id} possibly failing`);
      }
    }
  }

  const me = state.myself;
  if (me.isReplica && me.replicaOf !== undefined && me.replicaOf.hasAddr) {
    bus.ensureReplicating?.(me.replicaOf);
  }
  bus.election.cron();
  if (updateState || state.state === "fail") state.updateState();
}
