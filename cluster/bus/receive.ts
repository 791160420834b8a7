/**
 * What a message does on arrival (Redis's clusterProcessPacket): epochs and offsets learned from
 * any known sender; PING and MEET answered with a PONG; the handshake completed (a node's random
 * id replaced by its own) or a link to a node that changed id dropped; PONG clears PFAIL; roles,
 * slots (by config epoch) and gossip learned; FAIL, UPDATE and PUBLISH applied. Failover messages
 * are handed to failover.ts.
 *
 * @module
 */

import type { ClusterBus } from "./bus.ts";
import type { BusLink } from "./link.ts";
import { type BusMessage, MsgType, NodeFlag, slotBit } from "./codec.ts";
import type { ClusterNode } from "../node.ts";
import { Todo } from "../state.ts";
import { processGossip } from "./gossip.ts";
import { handleFailoverMessage } from "./failover.ts";

/** The node a message comes from: the link's, or the known node the header names. */
function senderOf(bus: ClusterBus, link: BusLink, sender: string): ClusterNode | undefined {
  if (link.node !== undefined && !link.node.inHandshake) return link.node;
  const node = bus.state.lookupNode(sender);
  if (node !== undefined && link.node === undefined) {
    // An inbound link learns its node; a newer inbound link from the same node replaces the old.
    if (node.inboundLink !== undefined && node.inboundLink !== link) node.inboundLink.close();
    node.inboundLink = link;
    link.node = node;
  }
  return node;
}

/**
 * Takes the address a node announces, or the address its link comes from; when it changed,
 * drops the outbound link so that the cron reconnects to the new one.
 *
 * @returns true when the address changed
 */
function updateAddressIfNeeded(bus: ClusterBus, node: ClusterNode, link: BusLink, msg: BusMessage) {
  if (link === node.link) return false;
  const h = msg.header;
  const ip = h.myip !== "" ? h.myip : link.peerIp;
  if (ip === "") return false;
  if (node.port === h.port && node.cport === h.cport && node.pport === h.pport && node.ip === ip) {
    return false;
  }
  node.ip = ip;
  node.port = h.port;
  node.pport = h.pport;
  node.cport = h.cport;
  node.link?.close();
  node.flags &= ~NodeFlag.NOADDR;
  bus.log("warning", `Address updated for node ${node.id}, now ${node.ip}:${node.port}`);
  if (bus.state.myself.isReplica && bus.state.myself.replicaOf === node) {
    bus.state.hooks.replicate?.(node);
  }
  return true;
}

/**
 * Acts on one message that passed the length checks.
 *
 * @param bus the bus
 * @param link the link it came on
 * @param msg the message
 */
export function handleMessage(bus: ClusterBus, link: BusLink, msg: BusMessage): void {
  const state = bus.state;
  const me = state.myself;
  const h = msg.header;
  const now = bus.now();
  const sender = senderOf(bus, link, h.sender);
  if (sender !== undefined) sender.dataReceived = now;
  if (sender !== undefined && !sender.inHandshake) {
    if (h.currentEpoch > state.currentEpoch) state.currentEpoch = h.currentEpoch;
    if (h.configEpoch > sender.configEpoch) {
      sender.configEpoch = h.configEpoch;
      state.todo(Todo.SAVE_CONFIG | Todo.FSYNC_CONFIG);
    }
    sender.replOffset = h.offset;
    sender.replOffsetTime = now;
    bus.election.observe(sender, msg);
  }
  const isPing = h.type === MsgType.PING || h.type === MsgType.MEET;
  if (isPing) {
    // A MEET comes to the address other nodes know us by: learn our own address from it.
    if ((h.type === MsgType.MEET || me.ip === "") && bus.options.announce.ip() === "") {
      const ip = link.localIp;
      if (ip !== "" && ip !== me.ip) {
        me.ip = ip;
        bus.log("warning", `IP address for this node updated to ${ip}`);
        state.todo(Todo.SAVE_CONFIG);
      }
    }
    if (sender === undefined && h.type === MsgType.MEET) {
      const node = state.createNode(undefined, NodeFlag.HANDSHAKE);
      node.ip = h.myip !== "" ? h.myip : link.peerIp;
      node.port = h.port;
      node.pport = h.pport;
      node.cport = h.cport;
      state.addNode(node);
      state.todo(Todo.SAVE_CONFIG);
      processGossip(bus, msg, link, undefined);
    }
    bus.sendPing(link, MsgType.PONG);
  }
  if (isPing || h.type === MsgType.PONG) handlePingConfig(bus, link, msg, sender, now);
  else handleOther(bus, link, msg, sender, now);
}

function handlePingConfig(
  bus: ClusterBus,
  link: BusLink,
  msg: BusMessage,
  sender: ClusterNode | undefined,
  now: number,
): void {
  const state = bus.state;
  const me = state.myself;
  const h = msg.header;
  if (!link.inbound) {
    const node = link.node!;
    if (node.inHandshake) {
      if (sender !== undefined) {
        // We met a node we already know: keep the known one, drop the handshake node.
        if (updateAddressIfNeeded(bus, sender, link, msg)) {
          state.todo(Todo.SAVE_CONFIG | Todo.UPDATE_STATE);
        }
        state.deleteNode(node);
        return;
      }
      state.renameNode(node, h.sender);
      bus.log("verbose", `Handshake with node ${node.id} completed.`);
      node.flags &= ~NodeFlag.HANDSHAKE;
      node.flags |= h.flags & (NodeFlag.MASTER | NodeFlag.SLAVE);
      state.todo(Todo.SAVE_CONFIG);
    } else if (node.id !== h.sender) {
      // The address now answers with another id: forget the address, drop the link.
      node.flags |= NodeFlag.NOADDR;
      node.ip = "";
      node.port = node.pport = node.cport = 0;
      link.close();
      state.todo(Todo.SAVE_CONFIG);
      return;
    }
  }
  if (sender !== undefined) {
    sender.flags = (sender.flags & ~NodeFlag.NOFAILOVER) | (h.flags & NodeFlag.NOFAILOVER);
  }
  if (
    sender !== undefined && h.type === MsgType.PING && !sender.inHandshake &&
    updateAddressIfNeeded(bus, sender, link, msg)
  ) {
    state.todo(Todo.SAVE_CONFIG | Todo.UPDATE_STATE);
  }
  if (!link.inbound && h.type === MsgType.PONG) {
    const node = link.node!;
    node.pongReceived = now;
    node.pingSent = 0;
    if (node.timedOut) {
      state.clearPfail(node);
      state.todo(Todo.SAVE_CONFIG | Todo.UPDATE_STATE);
    } else if (node.failed) state.clearFailIfNeeded(node);
  }
  if (sender === undefined) return;
  // Role switch: a master that became a replica, or a replica that changed master.
  if (h.slaveof === null) state.setNodeAsMaster(sender);
  else {
    const master = state.lookupNode(h.slaveof);
    if (sender.isMaster) {
      state.delNodeSlots(sender);
      sender.flags = (sender.flags & ~(NodeFlag.MASTER | NodeFlag.MIGRATE_TO)) | NodeFlag.SLAVE;
      state.todo(Todo.SAVE_CONFIG | Todo.UPDATE_STATE);
    }
    if (master !== undefined && sender.replicaOf !== master) state.setReplicaOf(sender, master);
  }
  const senderMaster = sender.isMaster ? sender : sender.replicaOf;
  const dirtySlots = senderMaster !== undefined && !sameBits(senderMaster.slots, h.myslots);
  if (sender.isMaster && dirtySlots) {
    state.updateSlotsConfigWith(sender, h.configEpoch, h.myslots);
  }
  if (dirtySlots) {
    // The sender claims slots a newer configuration gave to another master: tell it.
    for (let j = 0; j < 16384; j++) {
      if (!slotBit(h.myslots, j)) continue;
      const owner = state.slots[j];
      if (owner === sender || state.isSlotUnclaimed(j)) continue;
      if (owner!.configEpoch > h.configEpoch) {
        bus.log(
          "verbose",
          `Node ${sender.id} has old slots configuration, sending an UPDATE message about ${
            owner!.id
          }`,
        );
        bus.sendUpdate(sender.link as BusLink | undefined, owner!);
        break;
      }
    }
  }
  if (me.isMaster && sender.isMaster && h.configEpoch === me.configEpoch) {
    state.handleConfigEpochCollision(sender);
  }
  processGossip(bus, msg, link, sender);
  if (msg.body.kind === "ping") {
    const hostname = msg.body.hostname ?? "";
    if (sender.hostname !== hostname) {
      sender.hostname = hostname;
      state.todo(Todo.SAVE_CONFIG);
    }
  }
}

function handleOther(
  bus: ClusterBus,
  link: BusLink,
  msg: BusMessage,
  sender: ClusterNode | undefined,
  now: number,
): void {
  const state = bus.state;
  const body = msg.body;
  if (body.kind === "fail") {
    if (sender === undefined) {
      bus.log(
        "notice",
        `Ignoring FAIL message from unknown node ${msg.header.sender} about ${body.node}`,
      );
      return;
    }
    const failing = state.lookupNode(body.node);
    if (failing !== undefined && (failing.flags & (NodeFlag.FAIL | NodeFlag.MYSELF)) === 0) {
      bus.log("notice", `FAIL message received from ${msg.header.sender} about ${body.node}`);
      state.markFail(failing);
    }
  } else if (body.kind === "publish") {
    if (sender === undefined) return;
    bus.options.publish?.(msg.header.type === MsgType.PUBLISHSHARD, body.channel, body.message);
  } else if (body.kind === "update") {
    if (sender === undefined) return;
    const n = state.lookupNode(body.node);
    if (n === undefined || n.configEpoch >= body.configEpoch) return;
    if (n.isReplica) state.setNodeAsMaster(n);
    n.configEpoch = body.configEpoch;
    state.todo(Todo.SAVE_CONFIG | Todo.FSYNC_CONFIG);
    state.updateSlotsConfigWith(n, body.configEpoch, body.slots);
  } else if (sender !== undefined) {
    handleFailoverMessage(bus, link, msg, sender, now);
  }
}

function sameBits(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
