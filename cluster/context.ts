/**
 * What the cluster commands and the bus share: the server, the cluster state, the keys of each
 * slot, and the few server-side actions the state cannot do alone.
 *
 * @module
 */

import type { Server } from "../core/server.ts";
import type { SlotKeys } from "./slot_keys.ts";
import type { ClusterState } from "./state.ts";

/** One server's cluster mode. */
export interface ClusterContext {
  /** The server. */
  readonly server: Server;
  /** The cluster state. */
  readonly state: ClusterState;
  /** The keys of db 0 by slot. */
  readonly slotKeys: SlotKeys;
  /** Writes nodes.conf now; throws an Error with the system's message when it cannot. */
  saveConfig(fsync: boolean): void;
  /** Brings myself's address, ports and hostname in line with the directives. */
  refreshMyself(): void;
  /** cluster-preferred-endpoint-type. */
  endpointType(): string;
  /** Our replication offset (master_repl_offset, or slave_repl_offset on a replica). */
  replOffset(): number;
  /** Stops replicating and forgets the dataset (CLUSTER RESET of a replica). */
  becomeEmptyMaster(): void;
  /**
   * The bus's part of commands it owns (MEET's connection, FAILOVER, LINKS): set by the bus
   * when it starts.
   */
  bus?: ClusterBusHooks;
}

/** What the commands ask of the bus. */
export interface ClusterBusHooks {
  /** CLUSTER FAILOVER after its checks: starts a manual (or forced, or takeover) failover. */
  failover?(mode: "default" | "force" | "takeover"): void;
  /** Sends a PONG to every node (after a slot was taken over by SETSLOT NODE). */
  broadcastPong?(): void;
}
