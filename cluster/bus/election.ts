/**
 * The replica side of failover (Redis's clusterHandleSlaveFailover and manual failover): when its
 * master is FAIL, a replica waits 500-1000 ms plus 1 s per better-placed sibling (rank), asks
 * every master for its vote in a new epoch, and with a majority of the slot-serving masters takes
 * the slots under that epoch and tells everyone. CLUSTER FAILOVER starts a manual failover: the
 * master pauses writes (MFSTART) and sends its offset; once the replica processed that much the
 * election runs with FORCEACK. FORCE skips the offset agreement; TAKEOVER skips the election.
 *
 * Not done: the data-age check (cluster-replica-validity-factor) and replica migration.
 *
 * @module
 */

import type { ClusterBus } from "./bus.ts";
import type { BusLink } from "./link.ts";
import { type BusMessage, MsgFlag0, MsgType, NodeFlag } from "./codec.ts";
import type { ClusterNode } from "../node.ts";
import { Todo } from "../state.ts";
import { buildEmpty } from "./messages.ts";

/** Milliseconds a manual failover may take (CLUSTER_MF_TIMEOUT). */
const MF_TIMEOUT = 5000;

/** What the election needs from the server. */
export interface ElectionHost {
  /** Stops replicating, keeping the data (we won). */
  stopReplicating(): void;
  /** Pauses writes until `end` (ms), or lifts the pause when `end` is 0. */
  pauseWrites(end: number): void;
}

/** One node's election and manual-failover state. */
export class Election {
  /** When the current (or next) election starts. */
  authTime = 0;
  /** Votes received. */
  authCount = 0;
  /** True once the votes were asked for. */
  authSent = false;
  /** Our rank among our master's replicas. */
  authRank = 0;
  /** The epoch of our election. */
  authEpoch = 0;
  /** End of the manual failover in progress (0: none). */
  mfEnd = 0;
  /** The replica performing a manual failover with us (master side). */
  mfReplica: ClusterNode | undefined;
  /** The offset the paused master announced (-1: not yet). */
  mfMasterOffset = -1;
  /** True when the manual failover may ask for votes. */
  mfCanStart = false;

  constructor(private readonly bus: ClusterBus, private readonly host: ElectionHost) {}

  /** Ends any manual failover (lifting the master's pause). */
  resetManual(): void {
    if (this.mfReplica !== undefined) this.host.pauseWrites(0);
    this.mfEnd = 0;
    this.mfCanStart = false;
    this.mfReplica = undefined;
    this.mfMasterOffset = -1;
  }

  /**
   * CLUSTER FAILOVER on a replica, after the command's checks.
   *
   * @param mode default, FORCE or TAKEOVER
   */
  startManual(mode: "default" | "force" | "takeover"): void {
    const bus = this.bus;
    const me = bus.state.myself;
    this.resetManual();
    this.mfEnd = bus.now() + MF_TIMEOUT;
    if (mode === "takeover") {
      bus.log("warning", "Taking over the master (user request).");
      bus.state.bumpConfigEpochWithoutConsensus();
      this.replaceMaster();
    } else if (mode === "force") {
      bus.log("warning", "Forced failover user request accepted.");
      this.mfCanStart = true;
    } else {
      bus.log("warning", "Manual failover user request accepted.");
      const link = me.replicaOf?.link as BusLink | undefined;
      bus.send(link, buildEmpty(bus.state, bus.options.announce, MsgType.MFSTART));
    }
  }

  /** A message from a known sender, seen before the type-specific handling (offsets, pause). */
  observe(sender: ClusterNode, msg: BusMessage): void {
    const me = this.bus.state.myself;
    if (
      this.mfEnd !== 0 && me.isReplica && me.replicaOf === sender &&
      (msg.header.mflags[0] & MsgFlag0.PAUSED) !== 0 && this.mfMasterOffset === -1
    ) {
      this.mfMasterOffset = sender.replOffset;
      this.bus.log(
        "warning",
        `Received replication offset for paused master manual failover: ${this.mfMasterOffset}`,
      );
      this.handleManual();
    }
  }

  /** A vote for us. */
  onAck(sender: ClusterNode, msg: BusMessage): void {
    if (sender.isMaster && sender.numSlots > 0 && msg.header.currentEpoch >= this.authEpoch) {
      this.authCount++;
      this.bus.state.todo(Todo.HANDLE_FAILOVER);
    }
  }

  /** MFSTART from one of our replicas: pause writes and ping it with our offset. */
  onMfStart(sender: ClusterNode, link: BusLink): void {
    const bus = this.bus;
    if (sender.replicaOf !== bus.state.myself) return;
    this.resetManual();
    const now = bus.now();
    this.mfEnd = now + MF_TIMEOUT;
    this.mfReplica = sender;
    this.host.pauseWrites(now + MF_TIMEOUT * 2);
    bus.log("warning", `Manual failover requested by replica ${sender.id}.`);
    bus.sendPing(link, MsgType.PING);
  }

  /** The cron's part: time out a manual failover; a replica checks its offset and election. */
  cron(): void {
    if (this.mfEnd !== 0 && this.mfEnd < this.bus.now()) {
      this.bus.log("warning", "Manual failover timed out.");
      this.resetManual();
    }
    if (this.bus.state.myself.isReplica) {
      this.handleManual();
      this.handle();
    }
  }

  /** The replica waits until it processed the paused master's offset. */
  handleManual(): void {
    if (this.mfEnd === 0 || this.mfCanStart || this.mfMasterOffset === -1) return;
    if (this.mfMasterOffset === this.bus.options.announce.replOffset()) {
      this.mfCanStart = true;
      this.bus.log(
        "warning",
        "All master replication stream processed, manual failover can start.",
      );
      this.bus.state.todo(Todo.HANDLE_FAILOVER);
    }
  }

  /** Our rank: siblings that can fail over and processed more than we did. */
  private rank(): number {
    const me = this.bus.state.myself;
    const master = me.replicaOf;
    if (master === undefined) return 0;
    const mine = this.bus.options.announce.replOffset();
    let rank = 0;
    for (const r of master.replicas) {
      if (r !== me && (r.flags & NodeFlag.NOFAILOVER) === 0 && r.replOffset > mine) rank++;
    }
    return rank;
  }

  /** One step of the election (called by the cron and when a vote arrives). */
  handle(): void {
    const bus = this.bus;
    const state = bus.state;
    const me = state.myself;
    const now = bus.now();
    const authAge = now - this.authTime;
    const quorum = Math.floor(state.size / 2) + 1;
    const manual = this.mfEnd !== 0 && this.mfCanStart;
    const authTimeout = Math.max(state.settings.nodeTimeout() * 2, 2000);
    const master = me.replicaOf;
    if (
      me.isMaster || master === undefined || (!master.failed && !manual) ||
      ((me.flags & NodeFlag.NOFAILOVER) !== 0 && !manual) || master.numSlots === 0
    ) return;
    if (authAge > authTimeout * 2) {
      // A new election: fixed delay, jitter, and a second per better-placed sibling.
      this.authTime = now + 500 + Math.floor(Math.random() * 500);
      this.authCount = 0;
      this.authSent = false;
      this.authRank = this.rank();
      this.authTime += this.authRank * 1000;
      if (this.mfEnd !== 0) {
        this.authTime = now;
        this.authRank = 0;
        state.todo(Todo.HANDLE_FAILOVER);
      }
      bus.log(
        "warning",
        `Start of election delayed for ${
          this.authTime - now
        } milliseconds (rank #${this.authRank}, offset ${bus.options.announce.replOffset()}).`,
      );
      bus.broadcastPong(true);
      return;
    }
    if (!this.authSent && this.mfEnd === 0) {
      const rank = this.rank();
      if (rank > this.authRank) {
        this.authTime += (rank - this.authRank) * 1000;
        this.authRank = rank;
      }
    }
    if (now < this.authTime || authAge > authTimeout) return;
    if (!this.authSent) {
      state.currentEpoch++;
      this.authEpoch = state.currentEpoch;
      bus.log("warning", `Starting a failover election for epoch ${state.currentEpoch}.`);
      bus.broadcast(
        buildEmpty(state, bus.options.announce, MsgType.FAILOVER_AUTH_REQUEST, this.mfEnd !== 0),
      );
      this.authSent = true;
      state.todo(Todo.SAVE_CONFIG | Todo.UPDATE_STATE | Todo.FSYNC_CONFIG);
      return;
    }
    if (this.authCount >= quorum) {
      bus.log("warning", "Failover election won: I'm the new master.");
      if (me.configEpoch < this.authEpoch) {
        me.configEpoch = this.authEpoch;
        bus.log("warning", `configEpoch set to ${me.configEpoch} after successful failover`);
      }
      this.replaceMaster();
    }
  }

  /** We are the master now: take the old master's slots and tell everyone. */
  private replaceMaster(): void {
    const state = this.bus.state;
    const me = state.myself;
    const old = me.replicaOf;
    if (me.isMaster || old === undefined) return;
    state.setNodeAsMaster(me);
    this.host.stopReplicating();
    for (let j = 0; j < 16384; j++) {
      if (!old.hasSlot(j)) continue;
      state.unassignSlot(j);
      state.assignSlot(me, j);
    }
    state.updateState();
    state.hooks.save?.(true);
    this.bus.broadcastPong();
    this.resetManual();
  }
}
