/**
 * Failover messages. The master side of an election (Redis's clusterSendFailoverAuthIfNeeded):
 * a master serving slots votes once per epoch for a replica whose master is FAIL (or that asks
 * with FORCEACK, a manual failover), at most once per master every two node timeouts, and never
 * for a replica claiming slots under an older config epoch than their current owner's.
 *
 * @module
 */

import type { ClusterBus } from "./bus.ts";
import type { BusLink } from "./link.ts";
import { type BusMessage, MsgFlag0, MsgType, slotBit } from "./codec.ts";
import type { ClusterNode } from "../node.ts";
import { Todo } from "../state.ts";
import { buildEmpty } from "./messages.ts";

/**
 * Handles FAILOVER_AUTH_REQUEST, FAILOVER_AUTH_ACK and MFSTART from a known sender.
 *
 * @param bus the bus
 * @param link the link it came on
 * @param msg the message
 * @param sender its sender
 * @param now the time
 */
export function handleFailoverMessage(
  bus: ClusterBus,
  link: BusLink,
  msg: BusMessage,
  sender: ClusterNode,
  now: number,
): void {
  if (msg.header.type === MsgType.FAILOVER_AUTH_REQUEST) voteIfNeeded(bus, sender, msg, now);
  else if (msg.header.type === MsgType.FAILOVER_AUTH_ACK) bus.election.onAck(sender, msg);
  else if (msg.header.type === MsgType.MFSTART) bus.election.onMfStart(sender, link);
}

function voteIfNeeded(bus: ClusterBus, node: ClusterNode, msg: BusMessage, now: number): void {
  const state = bus.state;
  const me = state.myself;
  const h = msg.header;
  const master = node.replicaOf;
  const forceAck = (h.mflags[0] & MsgFlag0.FORCEACK) !== 0;
  const deny = (why: string) => bus.log("warning", `Failover auth denied to ${node.id}: ${why}`);
  if (me.isReplica || me.numSlots === 0) return;
  if (h.currentEpoch < state.currentEpoch) {
    return deny(`reqEpoch (${h.currentEpoch}) < curEpoch(${state.currentEpoch})`);
  }
  if (state.lastVoteEpoch === state.currentEpoch) {
    return deny(`already voted for epoch ${state.currentEpoch}`);
  }
  if (node.isMaster) return deny("it is a master node");
  if (master === undefined) return deny("I don't know its master");
  if (!master.failed && !forceAck) return deny("its master is up");
  const timeout = state.settings.nodeTimeout();
  if (now - master.votedTime < timeout * 2) {
    return deny(
      `can't vote about this master before ${timeout * 2 - (now - master.votedTime)} milliseconds`,
    );
  }
  for (let j = 0; j < 16384; j++) {
    if (!slotBit(h.myslots, j) || state.isSlotUnclaimed(j)) continue;
    const owner = state.slots[j]!;
    if (owner.configEpoch <= h.configEpoch) continue;
    return deny(`slot ${j} epoch (${owner.configEpoch}) > reqEpoch (${h.configEpoch})`);
  }
  state.lastVoteEpoch = state.currentEpoch;
  master.votedTime = now;
  state.todo(Todo.SAVE_CONFIG | Todo.FSYNC_CONFIG);
  bus.send(
    node.link as BusLink | undefined,
    buildEmpty(state, bus.options.announce, MsgType.FAILOVER_AUTH_ACK),
  );
  bus.log("warning", `Failover auth granted to ${node.id} for epoch ${state.currentEpoch}`);
}
