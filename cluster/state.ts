/**
 * The cluster state as Redis 7.0 keeps it (`clusterState`): the node table, the slot table with
 * its migrating/importing marks, the epochs, the ok/fail state and the per-type message
 * counters. Small methods keep the cross-links consistent; the bus calls them as it learns
 * things, the CLUSTER commands call them as the admin asks.
 *
 * Work Redis defers to "before sleep" (`CLUSTER_TODO_*`) is asked for with `todo(flags)`: the
 * first request schedules one `beforeSleep()` (a microtask unless `hooks.schedule` says
 * otherwise), which updates the state, saves nodes.conf and runs the failover handler.
 *
 * @module
 */

import type { Clock } from "../core/clock.ts";
import {
  BLACKLIST_TTL,
  type ClusterHooks,
  type ClusterSettings,
  defaultSettings,
  MSG_TYPE_COUNT,
  Todo,
} from "./state_types.ts";
import {
  applySlotClaims,
  clearFailIfNeeded,
  computeState,
  freshFailureReports,
  markFailIfNeeded,
} from "./state_rules.ts";
import {
  bitClear,
  bitSet,
  bitTest,
  CLUSTER_SLOTS,
  ClusterNode,
  isNodeId,
  NodeFlag,
  randomNodeId,
} from "./node.ts";

export { BLACKLIST_TTL, MSG_TYPE_COUNT, Todo } from "./state_types.ts";
export type { ClusterHooks, ClusterSettings } from "./state_types.ts";

/** The cluster state of this node. */
export class ClusterState {
  /** This node. */
  myself: ClusterNode;
  /** The cluster's current epoch as we know it. */
  currentEpoch = 0;
  /** Epoch of the last vote we granted. */
  lastVoteEpoch = 0;
  /** "ok" or "fail" (a node starts in fail). */
  state: "ok" | "fail" = "fail";
  /** Number of masters serving at least one slot (1 until the state is first computed, as Redis). */
  size = 1;
  /** Every known node, by id (myself included). */
  readonly nodes = new Map<string, ClusterNode>();
  /** Node ids not to re-add, with their expiry (Unix seconds). */
  readonly blacklist = new Map<string, number>();
  /** Owner of each slot. */
  readonly slots: Array<ClusterNode | undefined> = new Array(CLUSTER_SLOTS).fill(undefined);
  /** Slots we migrate, and to whom. */
  readonly migratingTo: Array<ClusterNode | undefined> = new Array(CLUSTER_SLOTS).fill(undefined);
  /** Slots we import, and from whom. */
  readonly importingFrom: Array<ClusterNode | undefined> = new Array(CLUSTER_SLOTS).fill(undefined);
  /** Slots whose owner stopped claiming them (kept bound; not sent in UPDATE). */
  readonly ownerNotClaimingSlot = new Uint8Array(CLUSTER_SLOTS / 8);
  /** Bus messages sent, by type. */
  readonly statsSent: number[] = new Array(MSG_TYPE_COUNT).fill(0);
  /** Bus messages received, by type. */
  readonly statsReceived: number[] = new Array(MSG_TYPE_COUNT).fill(0);
  /** Links freed for going over cluster-link-sendbuf-limit. */
  linksBufferLimitExceeded = 0;
  /**
   * Pending `Todo` bits.
   *
   * @internal
   */
  todoFlags = 0;
  /**
   * Unix ms of the first state evaluation (the writable delay counts from it).
   *
   * @internal
   */
  firstUpdateTime = 0;
  /**
   * Unix ms we last saw ourselves in a minority partition.
   *
   * @internal
   */
  amongMinorityTime = 0;

  /**
   * @param clock the server's clock
   * @param options settings, hooks, and a loaded `myself` (a new master with a random id when
   *   omitted)
   */
  constructor(
    readonly clock: Clock,
    options: { settings?: ClusterSettings; hooks?: ClusterHooks; myself?: ClusterNode } = {},
  ) {
    this.settings = options.settings ?? defaultSettings;
    this.hooks = options.hooks ?? {};
    this.myself = options.myself ??
      new ClusterNode(undefined, NodeFlag.MYSELF | NodeFlag.MASTER, clock.now());
    this.nodes.set(this.myself.id, this.myself);
  }

  /** Settings read on use. */
  settings: ClusterSettings;
  /** Server callbacks. */
  hooks: ClusterHooks;

  // ---- deferred work -------------------------------------------------------------------------

  /**
   * Asks for deferred work (`Todo` bits); schedules one `beforeSleep()`.
   *
   * @param flags `Todo` bits
   */
  todo(flags: number): void {
    const idle = this.todoFlags === 0;
    this.todoFlags |= flags;
    if (!idle) return;
    const run = () => this.beforeSleep();
    if (this.hooks.schedule !== undefined) this.hooks.schedule(run);
    else queueMicrotask(run);
  }

  /** Runs the pending deferred work: failover handler, state update, nodes.conf save. */
  beforeSleep(): void {
    const flags = this.todoFlags;
    this.todoFlags = 0;
    if (flags & Todo.HANDLE_MANUALFAILOVER) {
      if (this.myself.isReplica) this.hooks.failover?.(true);
    } else if (flags & Todo.HANDLE_FAILOVER) this.hooks.failover?.(false);
    if (flags & Todo.UPDATE_STATE) this.updateState();
    if (flags & Todo.SAVE_CONFIG) this.hooks.save?.((flags & Todo.FSYNC_CONFIG) !== 0);
  }

  // ---- nodes ---------------------------------------------------------------------------------

  /**
   * Creates a node (not yet in the table).
   *
   * @param id its id (random when omitted, as for a handshake)
   * @param flags `NodeFlag` bits
   * @returns the node
   */
  createNode(id: string | undefined, flags: number): ClusterNode {
    return new ClusterNode(id, flags, this.clock.now());
  }

  /** Adds a node to the table. */
  addNode(node: ClusterNode): void {
    if (this.nodes.has(node.id)) throw new RangeError(`Duplicate cluster node: ${node.id}`);
    this.nodes.set(node.id, node);
  }

  /**
   * Finds a node by id; undefined for an unknown or malformed id.
   *
   * @param id the id
   * @returns the node
   */
  lookupNode(id: string): ClusterNode | undefined {
    return isNodeId(id) ? this.nodes.get(id) : undefined;
  }

  /**
   * Gives a node its real id (a handshake node learns it from the first PONG).
   *
   * @param node the node
   * @param newId its id
   */
  renameNode(node: ClusterNode, newId: string): void {
    this.nodes.delete(node.id);
    node.id = newId;
    this.addNode(node);
  }

  /**
   * Removes a node: unbinds its slots and migrations, drops the failure reports it sent,
   * unlinks it from its master and its replicas, closes its links.
   *
   * @param node the node to delete (never myself)
   */
  deleteNode(node: ClusterNode): void {
    for (let j = 0; j < CLUSTER_SLOTS; j++) {
      if (this.importingFrom[j] === node) this.importingFrom[j] = undefined;
      if (this.migratingTo[j] === node) this.migratingTo[j] = undefined;
      if (this.slots[j] === node) this.unassignSlot(j);
    }
    for (const other of this.nodes.values()) {
      if (other !== node) this.delFailureReport(other, node);
    }
    for (const r of node.replicas) r.replicaOf = undefined;
    if (node.isReplica && node.replicaOf !== undefined) removeReplica(node.replicaOf, node);
    this.nodes.delete(node.id);
    node.link?.close();
    node.inboundLink?.close();
    node.link = node.inboundLink = undefined;
  }

  /** Forbids re-adding `node` for BLACKLIST_TTL seconds (CLUSTER FORGET). */
  blacklistAdd(node: ClusterNode): void {
    this.blacklistCleanup();
    this.blacklist.set(node.id, Math.floor(this.clock.now() / 1000) + BLACKLIST_TTL);
  }

  /** True when `id` was forgotten less than BLACKLIST_TTL seconds ago. */
  blacklistHas(id: string): boolean {
    this.blacklistCleanup();
    return this.blacklist.has(id);
  }

  private blacklistCleanup(): void {
    const now = Math.floor(this.clock.now() / 1000);
    for (const [id, expire] of this.blacklist) if (expire < now) this.blacklist.delete(id);
  }

  // ---- roles ---------------------------------------------------------------------------------

  /** Makes `node` a master (a replica promoted, or one that says it is now a master). */
  setNodeAsMaster(node: ClusterNode): void {
    if (node.isMaster) return;
    if (node.replicaOf !== undefined) {
      removeReplica(node.replicaOf, node);
      if (node !== this.myself) node.flags |= NodeFlag.MIGRATE_TO;
    }
    node.flags = (node.flags & ~NodeFlag.SLAVE) | NodeFlag.MASTER;
    node.replicaOf = undefined;
    this.todo(Todo.SAVE_CONFIG | Todo.UPDATE_STATE);
  }

  /**
   * Records that another node replicates `master` (gossip or nodes.conf). For myself, use
   * `setMyMaster`.
   *
   * @param node the replica
   * @param master its master
   */
  setReplicaOf(node: ClusterNode, master: ClusterNode): void {
    if (node.isMaster) {
      node.flags = (node.flags & ~(NodeFlag.MASTER | NodeFlag.MIGRATE_TO)) | NodeFlag.SLAVE;
    }
    if (node.replicaOf === master) return;
    if (node.replicaOf !== undefined) removeReplica(node.replicaOf, node);
    addReplica(master, node);
    node.replicaOf = master;
    this.todo(Todo.SAVE_CONFIG);
  }

  /**
   * Makes myself a replica of `master` (CLUSTER REPLICATE, or losing our last slot to it):
   * closes migrations, relinks, and starts replication through `hooks.replicate`.
   *
   * @param master the new master (never myself; myself must serve no slot)
   */
  setMyMaster(master: ClusterNode): void {
    const me = this.myself;
    if (me.isMaster) {
      me.flags = (me.flags & ~(NodeFlag.MASTER | NodeFlag.MIGRATE_TO)) | NodeFlag.SLAVE;
      this.closeAllSlots();
    } else if (me.replicaOf !== undefined) removeReplica(me.replicaOf, me);
    me.replicaOf = master;
    addReplica(master, me);
    this.hooks.replicate?.(master);
  }

  // ---- slots ---------------------------------------------------------------------------------

  /**
   * Binds an unassigned slot to `node`.
   *
   * @param node the owner
   * @param slot the slot
   * @returns false when the slot already had an owner
   */
  assignSlot(node: ClusterNode, slot: number): boolean {
    if (this.slots[slot] !== undefined) return false;
    this.setSlotBit(node, slot);
    this.slots[slot] = node;
    return true;
  }

  /**
   * Unbinds a slot (dropping its shard channels when we serve it).
   *
   * @param slot the slot
   * @returns false when it was unassigned
   */
  unassignSlot(slot: number): boolean {
    const owner = this.slots[slot];
    if (owner === undefined) return false;
    const primary = owner.isMaster ? owner : owner.replicaOf;
    if (primary === this.myself || this.myself.replicaOf === primary) {
      this.hooks.removeChannelsInSlot?.(slot);
    }
    if (bitTest(owner.slots, slot)) {
      bitClear(owner.slots, slot);
      owner.numSlots--;
    }
    this.slots[slot] = undefined;
    return true;
  }

  /**
   * Unbinds every slot `node` claims.
   *
   * @returns how many
   */
  delNodeSlots(node: ClusterNode): number {
    let n = 0;
    for (let j = 0; j < CLUSTER_SLOTS; j++) {
      if (node.hasSlot(j)) {
        this.unassignSlot(j);
        n++;
      }
    }
    return n;
  }

  /** Clears every migrating and importing mark. */
  closeAllSlots(): void {
    this.migratingTo.fill(undefined);
    this.importingFrom.fill(undefined);
  }

  private setSlotBit(node: ClusterNode, slot: number): void {
    if (bitTest(node.slots, slot)) return;
    bitSet(node.slots, slot);
    node.numSlots++;
    // A master's first slot makes it a replica-migration target when other masters have replicas.
    if (node.numSlots === 1 && this.mastersHaveReplicas()) node.flags |= NodeFlag.MIGRATE_TO;
  }

  private mastersHaveReplicas(): boolean {
    for (const n of this.nodes.values()) if (!n.isReplica && n.replicas.length > 0) return true;
    return false;
  }

  /** True when the slot has no owner, or its owner stopped claiming it. */
  isSlotUnclaimed(slot: number): boolean {
    return this.slots[slot] === undefined || bitTest(this.ownerNotClaimingSlot, slot);
  }

  /**
   * Applies a master's claim on slots under a config epoch (PING/PONG/UPDATE): rebinds each
   * claimed slot that is unclaimed or owned under an older epoch (never an importing one),
   * then, when we (or our master) lost every slot to it, follows it as a replica; keys left in
   * slots we lost while still a master are deleted.
   *
   * @param sender the claiming master
   * @param senderConfigEpoch its config epoch
   * @param claimed the slots it claims (2048-byte bitmap)
   */
  updateSlotsConfigWith(sender: ClusterNode, senderConfigEpoch: number, claimed: Uint8Array): void {
    applySlotClaims(this, sender, senderConfigEpoch, claimed);
  }

  // ---- epochs --------------------------------------------------------------------------------

  /** The greatest config epoch known, or the current epoch when greater. */
  maxEpoch(): number {
    let max = 0;
    for (const n of this.nodes.values()) if (n.configEpoch > max) max = n.configEpoch;
    return Math.max(max, this.currentEpoch);
  }

  /**
   * Gives myself a new config epoch without consensus unless it already is the greatest.
   *
   * @returns true when a new epoch was taken
   */
  bumpConfigEpochWithoutConsensus(): boolean {
    const max = this.maxEpoch();
    const me = this.myself;
    if (me.configEpoch !== 0 && me.configEpoch === max) return false;
    this.currentEpoch++;
    me.configEpoch = this.currentEpoch;
    this.todo(Todo.SAVE_CONFIG | Todo.FSYNC_CONFIG);
    this.hooks.log?.("warning", `New configEpoch set to ${me.configEpoch}`);
    return true;
  }

  /**
   * Resolves two masters with the same config epoch: the one with the smaller id takes a new one.
   *
   * @param sender the master whose config epoch equals ours
   */
  handleConfigEpochCollision(sender: ClusterNode): void {
    const me = this.myself;
    if (sender.configEpoch !== me.configEpoch || !sender.isMaster || !me.isMaster) return;
    if (sender.id <= me.id) return;
    this.currentEpoch++;
    me.configEpoch = this.currentEpoch;
    this.hooks.save?.(true);
    this.hooks.log?.(
      "verbose",
      `WARNING: configEpoch collision with node ${sender.id}. configEpoch set to ${me.configEpoch}`,
    );
  }

  // ---- failure detection ---------------------------------------------------------------------

  /**
   * Records (or refreshes) `sender`'s report that `failing` is down.
   *
   * @returns true for a new report
   */
  addFailureReport(failing: ClusterNode, sender: ClusterNode): boolean {
    const known = failing.failReports.has(sender);
    failing.failReports.set(sender, this.clock.now());
    return !known;
  }

  /**
   * Drops `sender`'s report about `node` (it now sees it healthy).
   *
   * @returns true when there was one
   */
  delFailureReport(node: ClusterNode, sender: ClusterNode): boolean {
    if (!node.failReports.delete(sender)) return false;
    freshFailureReports(this, node);
    return true;
  }

  /** Number of fresh failure reports about `node` (older ones are dropped first). */
  failureReportsCount(node: ClusterNode): number {
    return freshFailureReports(this, node);
  }

  /** Flags `node` PFAIL (no pong within the node timeout). */
  markPfail(node: ClusterNode): void {
    if (node.flags & (NodeFlag.PFAIL | NodeFlag.FAIL)) return;
    node.flags |= NodeFlag.PFAIL;
    this.todo(Todo.UPDATE_STATE);
  }

  /**
   * Promotes a PFAIL node to FAIL when a majority of masters report it.
   *
   * @returns true when the node was just marked FAIL (the bus then broadcasts FAIL)
   */
  markFailIfNeeded(node: ClusterNode): boolean {
    return markFailIfNeeded(this, node);
  }

  /** Flags `node` FAIL (quorum reached here, or a FAIL message). */
  markFail(node: ClusterNode): void {
    node.flags = (node.flags & ~NodeFlag.PFAIL) | NodeFlag.FAIL;
    node.failTime = this.clock.now();
    this.todo(Todo.UPDATE_STATE | Todo.SAVE_CONFIG);
  }

  /** Clears PFAIL (the node answered). */
  clearPfail(node: ClusterNode): void {
    if (!node.timedOut) return;
    node.flags &= ~NodeFlag.PFAIL;
    this.todo(Todo.UPDATE_STATE);
  }

  /**
   * Undoes FAIL for a reachable node: always for replicas and slotless masters, and for a
   * master with slots once the FAIL is older than twice the node timeout.
   */
  clearFailIfNeeded(node: ClusterNode): void {
    clearFailIfNeeded(this, node);
  }

  // ---- cluster state -------------------------------------------------------------------------

  /**
   * Computes cluster_state: fail when a slot is unbound or on a FAIL node (with
   * cluster-require-full-coverage), or when we see fewer than a majority of the slot-serving
   * masters. A master waits 2 s after its first evaluation before turning ok, and a master
   * leaving a minority partition waits the rejoin delay (node timeout, clamped to 0.5–5 s).
   */
  updateState(): void {
    computeState(this);
  }

  // ---- reset ---------------------------------------------------------------------------------

  /**
   * CLUSTER RESET's state part: myself becomes a master serving nothing, every other node is
   * forgotten; a hard reset also zeroes the epochs and takes a new id. (Turning a replica's
   * data and replication off is the caller's.)
   *
   * @param hard HARD instead of SOFT
   */
  reset(hard: boolean): void {
    const me = this.myself;
    if (me.isReplica) this.setNodeAsMaster(me);
    this.closeAllSlots();
    for (let j = 0; j < CLUSTER_SLOTS; j++) this.unassignSlot(j);
    for (const n of [...this.nodes.values()]) if (n !== me) this.deleteNode(n);
    if (hard) {
      this.currentEpoch = this.lastVoteEpoch = 0;
      me.configEpoch = 0;
      this.hooks.log?.("warning", "configEpoch set to 0 via CLUSTER RESET HARD");
      this.nodes.delete(me.id);
      me.id = randomNodeId();
      this.nodes.set(me.id, me);
      this.hooks.log?.("notice", `Node hard reset, now I'm ${me.id}`);
    }
    this.todo(Todo.SAVE_CONFIG | Todo.UPDATE_STATE | Todo.FSYNC_CONFIG);
  }
}

function addReplica(master: ClusterNode, replica: ClusterNode): void {
  if (master.replicas.includes(replica)) return;
  master.replicas.push(replica);
  master.flags |= NodeFlag.MIGRATE_TO;
}

function removeReplica(master: ClusterNode, replica: ClusterNode): void {
  const i = master.replicas.indexOf(replica);
  if (i === -1) return;
  master.replicas.splice(i, 1);
  if (master.replicas.length === 0) master.flags &= ~NodeFlag.MIGRATE_TO;
}
