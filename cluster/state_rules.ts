/**
 * The rules of the cluster state that take more than bookkeeping, as Redis 7.0 applies them:
 * failure reports and the PFAIL → FAIL promotion, clearing FAIL, the ok/fail evaluation of the
 * cluster, and a master's claim on slots under a config epoch. `ClusterState`'s methods of the
 * same names call these.
 *
 * @module
 */

import { bitClear, bitSet, bitTest, CLUSTER_SLOTS, type ClusterNode, NodeFlag } from "./node.ts";
import type { ClusterState } from "./state.ts";
import { Todo } from "./state_types.ts";

const WRITABLE_DELAY = 2000;
const MAX_REJOIN_DELAY = 5000;
const MIN_REJOIN_DELAY = 500;
const FAIL_REPORT_VALIDITY_MULT = 2;
const FAIL_UNDO_TIME_MULT = 2;

/** Drops failure reports older than twice the node timeout; returns how many are left. */
export function freshFailureReports(st: ClusterState, node: ClusterNode): number {
  const maxAge = st.settings.nodeTimeout() * FAIL_REPORT_VALIDITY_MULT;
  const now = st.clock.now();
  for (const [sender, time] of node.failReports) {
    if (now - time > maxAge) node.failReports.delete(sender);
  }
  return node.failReports.size;
}

/** PFAIL → FAIL when a majority of the slot-serving masters (ourselves included) report it. */
export function markFailIfNeeded(st: ClusterState, node: ClusterNode): boolean {
  if (!node.timedOut || node.failed) return false;
  const quorum = Math.floor(st.size / 2) + 1;
  let failures = freshFailureReports(st, node);
  if (st.myself.isMaster) failures++;
  if (failures < quorum) return false;
  st.hooks.log?.("notice", `Marking node ${node.id} as failing (quorum reached).`);
  st.markFail(node);
  return true;
}

/** Clears FAIL of a reachable replica or slotless master, or of a master FAIL for 2 timeouts. */
export function clearFailIfNeeded(st: ClusterState, node: ClusterNode): void {
  if (!node.failed) return;
  const old = st.clock.now() - node.failTime > st.settings.nodeTimeout() * FAIL_UNDO_TIME_MULT;
  if (node.isReplica || node.numSlots === 0 || old) {
    node.flags &= ~NodeFlag.FAIL;
    st.todo(Todo.UPDATE_STATE | Todo.SAVE_CONFIG);
  }
}

/** Redis's clusterUpdateState: see `ClusterState.updateState`. */
export function computeState(st: ClusterState): void {
  const now = st.clock.now();
  st.todoFlags &= ~Todo.UPDATE_STATE;
  if (st.firstUpdateTime === 0) st.firstUpdateTime = now;
  if (st.myself.isMaster && st.state === "fail" && now - st.firstUpdateTime < WRITABLE_DELAY) {
    return;
  }
  let next: "ok" | "fail" = "ok";
  if (st.settings.requireFullCoverage()) {
    for (let j = 0; j < CLUSTER_SLOTS; j++) {
      const owner = st.slots[j];
      if (owner === undefined || owner.failed) {
        next = "fail";
        break;
      }
    }
  }
  let reachable = 0;
  st.size = 0;
  for (const n of st.nodes.values()) {
    if (n.isMaster && n.numSlots > 0) {
      st.size++;
      if ((n.flags & (NodeFlag.FAIL | NodeFlag.PFAIL)) === 0) reachable++;
    }
  }
  if (reachable < Math.floor(st.size / 2) + 1) {
    next = "fail";
    st.amongMinorityTime = now;
  }
  if (next === st.state) return;
  const rejoinDelay = Math.min(
    MAX_REJOIN_DELAY,
    Math.max(MIN_REJOIN_DELAY, st.settings.nodeTimeout()),
  );
  if (next === "ok" && st.myself.isMaster && now - st.amongMinorityTime < rejoinDelay) return;
  st.hooks.log?.("warning", `Cluster state changed: ${next}`);
  st.state = next;
}

/** Redis's clusterUpdateSlotsConfigWith: see `ClusterState.updateSlotsConfigWith`. */
export function applySlotClaims(
  st: ClusterState,
  sender: ClusterNode,
  senderConfigEpoch: number,
  claimed: Uint8Array,
): void {
  const me = st.myself;
  if (sender === me) {
    st.hooks.log?.("warning", "Discarding UPDATE message about myself.");
    return;
  }
  const curMaster = me.isMaster ? me : me.replicaOf;
  let newMaster: ClusterNode | undefined;
  const dirty: number[] = [];
  let senderSlots = 0;
  let migratedOurSlots = 0;
  const changed = Todo.SAVE_CONFIG | Todo.UPDATE_STATE | Todo.FSYNC_CONFIG;
  for (let j = 0; j < CLUSTER_SLOTS; j++) {
    if (bitTest(claimed, j)) {
      senderSlots++;
      const owner = st.slots[j];
      if (owner === sender) {
        bitClear(st.ownerNotClaimingSlot, j);
        continue;
      }
      // An importing slot changes only by hand (the resharding tool closes it).
      if (st.importingFrom[j] !== undefined) continue;
      if (st.isSlotUnclaimed(j) || (owner !== undefined && owner.configEpoch < senderConfigEpoch)) {
        if (owner === me && (st.hooks.countKeysInSlot?.(j) ?? 0) > 0) dirty.push(j);
        if (owner !== undefined && owner === curMaster) {
          newMaster = sender;
          migratedOurSlots++;
        }
        st.unassignSlot(j);
        st.assignSlot(sender, j);
        bitClear(st.ownerNotClaimingSlot, j);
        st.todo(changed);
      }
    } else if (st.slots[j] === sender) {
      // Kept bound (no client errors meanwhile), but not announced in UPDATE messages.
      bitSet(st.ownerNotClaimingSlot, j);
    }
  }
  if (
    newMaster !== undefined && curMaster !== undefined && curMaster.numSlots === 0 &&
    (st.settings.allowReplicaMigration() || senderSlots === migratedOurSlots)
  ) {
    st.hooks.log?.(
      "warning",
      `Configuration change detected. Reconfiguring myself as a replica of ${sender.id}`,
    );
    st.setMyMaster(sender);
    st.todo(changed);
  } else if (me.replicaOf?.replicaOf !== undefined && me.replicaOf.replicaOf !== me) {
    const grand = me.replicaOf.replicaOf;
    st.hooks.log?.(
      "warning",
      `I'm a sub-replica! Reconfiguring myself as a replica of grandmaster ${grand.id}`,
    );
    st.setMyMaster(grand);
    st.todo(changed);
  } else {
    // Still a master: the keys of the slots we lost go.
    for (const j of dirty) st.hooks.delKeysInSlot?.(j);
  }
}
