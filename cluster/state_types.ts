/**
 * The constants and the server interface of the cluster state (`state.ts`).
 *
 * @module
 */

import type { ClusterNode } from "./node.ts";

/** `CLUSTER_TODO_*` bits. */
export const Todo = {
  HANDLE_FAILOVER: 1,
  UPDATE_STATE: 2,
  SAVE_CONFIG: 4,
  FSYNC_CONFIG: 8,
  HANDLE_MANUALFAILOVER: 16,
} as const;

/** Number of bus message types (CLUSTERMSG_TYPE_COUNT). */
export const MSG_TYPE_COUNT = 11;

/** The names Redis gives the types (CLUSTER INFO's `cluster_stats_messages_*`, CLUSTER LINKS). */
export const MSG_TYPE_NAMES: readonly string[] = [
  "ping",
  "pong",
  "meet",
  "fail",
  "publish",
  "auth-req",
  "auth-ack",
  "update",
  "mfstart",
  "module",
  "publishshard",
];

/** Seconds a forgotten node stays out of the table (CLUSTER_BLACKLIST_TTL). */
export const BLACKLIST_TTL = 60;

/** What the state reads from the server and asks of it. Every member is optional. */
export interface ClusterHooks {
  /** Runs `beforeSleep` soon (default: a microtask). */
  schedule?: (run: () => void) => void;
  /** Writes nodes.conf (`fsync` when asked). */
  save?: (fsync: boolean) => void;
  /** Runs the replica's failover handler (the bus). */
  failover?: (manual: boolean) => void;
  /** Makes this server replicate `master` (REPLICAOF ip port). */
  replicate?: (master: ClusterNode) => void;
  /** Number of keys in `slot`. */
  countKeysInSlot?: (slot: number) => number;
  /** Deletes the keys in `slot`; returns how many. */
  delKeysInSlot?: (slot: number) => number;
  /** Drops the shard channels of `slot` (when a slot we serve is deleted). */
  removeChannelsInSlot?: (slot: number) => void;
  /** A line for the server log. */
  log?: (level: "warning" | "notice" | "verbose", message: string) => void;
}

/** Settings the state reads each time (config can change them at run time). */
export interface ClusterSettings {
  /** cluster-node-timeout, ms. */
  nodeTimeout(): number;
  /** cluster-require-full-coverage. */
  requireFullCoverage(): boolean;
  /** cluster-allow-replica-migration. */
  allowReplicaMigration(): boolean;
}

/** The settings of a state made without any: Redis's defaults. */
export const defaultSettings: ClusterSettings = {
  nodeTimeout: () => 15000,
  requireFullCoverage: () => true,
  allowReplicaMigration: () => true,
};
