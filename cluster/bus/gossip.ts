/**
 * The gossip section of PING, PONG and MEET (Redis's clusterProcessGossipSection): failure
 * reports from masters, pong times learned second hand, a new address for a node we cannot
 * reach, and nodes we did not know, added when a known node vouches for them.
 *
 * @module
 */

import type { ClusterBus } from "./bus.ts";
import type { BusLink } from "./link.ts";
import { type BusMessage, NodeFlag } from "./codec.ts";
import type { ClusterNode } from "../node.ts";

const DOWN = NodeFlag.FAIL | NodeFlag.PFAIL;

/**
 * Applies the gossip entries of `msg`.
 *
 * @param bus the bus
 * @param msg a PING, PONG or MEET
 * @param link the link it came on
 * @param known the sender when known (a MEET from a stranger still teaches pong times)
 */
export function processGossip(
  bus: ClusterBus,
  msg: BusMessage,
  link: BusLink,
  known: ClusterNode | undefined,
): void {
  if (msg.body.kind !== "ping") return;
  const state = bus.state;
  const sender = link.node ?? known ?? state.lookupNode(msg.header.sender);
  for (const g of msg.body.gossip) {
    const node = state.lookupNode(g.name);
    if (node !== undefined) {
      if (sender !== undefined && sender.isMaster && node !== state.myself) {
        if (g.flags & DOWN) {
          if (state.addFailureReport(node, sender)) {
            bus.log("verbose", `Node ${sender.id} reported node ${node.id} as not reachable.`);
          }
          if (state.markFailIfNeeded(node)) bus.sendFail(node);
        } else if (state.delFailureReport(node, sender)) {
          bus.log("verbose", `Node ${sender.id} reported node ${node.id} is back online.`);
        }
      }
      // Someone talks with it and we have nothing pending: take their newer pong time.
      if (
        (g.flags & DOWN) === 0 && node.pingSent === 0 && state.failureReportsCount(node) === 0
      ) {
        const pongTime = g.pongReceived * 1000;
        if (pongTime <= bus.now() + 500 && pongTime > node.pongReceived) {
          node.pongReceived = pongTime;
        }
      }
      // We cannot reach it but another node can, at another address: try that one.
      if (
        (node.flags & DOWN) !== 0 && (g.flags & NodeFlag.NOADDR) === 0 &&
        (g.flags & DOWN) === 0 &&
        (node.ip.toLowerCase() !== g.ip.toLowerCase() || node.port !== g.port ||
          node.cport !== g.cport)
      ) {
        node.link?.close();
        node.ip = g.ip;
        node.port = g.port;
        node.pport = g.pport;
        node.cport = g.cport;
        node.flags &= ~NodeFlag.NOADDR;
      }
    } else if (
      sender !== undefined && (g.flags & NodeFlag.NOADDR) === 0 && !state.blacklistHas(g.name) &&
      isNodeName(g.name)
    ) {
      const n = state.createNode(g.name, g.flags);
      n.ip = g.ip;
      n.port = g.port;
      n.pport = g.pport;
      n.cport = g.cport;
      state.addNode(n);
    }
  }
}

/** Redis looks gossip names up as they are; we keep malformed ones out of the table. */
function isNodeName(name: string): boolean {
  return /^[a-z0-9]{40}$/.test(name);
}
