/**
 * Server-wide counters for INFO stats and errorstats.
 *
 * @module
 */

import type { ErrorReply } from "./resp/reply.ts";

/** Counters the INFO command reports. */
export class Stats {
  commands = 0;
  connectionsReceived = 0;
  rejectedConnections = 0;
  expiredKeys = 0;
  /** Hash fields expired (Redis 7.4's expired_subkeys). */
  expiredSubkeys = 0;
  evictedKeys = 0;
  /** Clients closed to keep client memory under `maxmemory-clients`. */
  evictedClients = 0;
  /** EVAL scripts dropped from the script cache (Redis 7.4's evicted_scripts). */
  evictedScripts = 0;
  /** Values deleted by UNLINK, FLUSHALL ASYNC or a lazyfree-* setting that Redis frees lazily. */
  lazyfreedObjects = 0;
  hits = 0;
  misses = 0;
  rejectedCalls = 0;
  errorReplies = 0;
  /**
   * Refusals by the ACL (INFO acl_access_denied_*): failed authentications, and commands, keys
   * and channels a user may not use. Not reset by CONFIG RESETSTAT, as in Redis.
   */
  authFailures = 0;
  aclDeniedCommands = 0;
  aclDeniedKeys = 0;
  aclDeniedChannels = 0;
  /** Clients closed for their query buffer or for their output buffer limits (Redis 7.4). */
  queryBufferLimitDisconnections = 0;
  outputBufferLimitDisconnections = 0;
  /** Active expiry cycles that stopped at their time budget (expired_time_cap_reached_count). */
  expireTimeCapReached = 0;
  netInput = 0;
  netOutput = 0;
  /** Socket reads handled and reply writes issued (INFO total_reads/writes_processed). */
  reads = 0;
  writes = 0;
  /** Full and partial resynchronisations served to replicas (INFO sync_full, sync_partial_*). */
  syncFull = 0;
  syncPartialOk = 0;
  syncPartialErr = 0;
  private samples: number[] = [];
  private lastSample = { at: 0, commands: 0 };
  /** Error replies by code (`ERR`, `WRONGTYPE`...). */
  readonly errors: Map<string, number> = new Map();
  /** `slowlog-log-slower-than` in µs, cached for the hot path (-1 disables). */
  slowlogThreshold = 10000;

  /** Counts an error reply under its code. */
  countError(e: ErrorReply): void {
    if (e.noStats) return;
    this.errorReplies++;
    const code = e.code;
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  /** Takes an ops/sec sample (called from the server tick, at most every 100 ms). */
  sample(now: number): void {
    const last = this.lastSample;
    if (now - last.at < 100) return;
    if (last.at !== 0) {
      this.samples.push(((this.commands - last.commands) * 1000) / (now - last.at));
      if (this.samples.length > 16) this.samples.shift();
    }
    this.lastSample = { at: now, commands: this.commands };
  }

  /** Mean of the recent ops/sec samples (INFO instantaneous_ops_per_sec). */
  get opsPerSec(): number {
    if (this.samples.length === 0) return 0;
    return Math.round(this.samples.reduce((a, b) => a + b, 0) / this.samples.length);
  }

  /** Resets what CONFIG RESETSTAT resets. */
  reset(): void {
    this.commands = 0;
    this.connectionsReceived = 0;
    this.rejectedConnections = 0;
    this.expiredKeys = 0;
    this.expiredSubkeys = 0;
    this.evictedKeys = 0;
    this.evictedClients = 0;
    this.evictedScripts = 0;
    this.lazyfreedObjects = 0;
    this.hits = 0;
    this.misses = 0;
    this.rejectedCalls = 0;
    this.errorReplies = 0;
    this.queryBufferLimitDisconnections = 0;
    this.outputBufferLimitDisconnections = 0;
    this.expireTimeCapReached = 0;
    this.netInput = 0;
    this.netOutput = 0;
    this.reads = 0;
    this.writes = 0;
    this.syncFull = 0;
    this.syncPartialOk = 0;
    this.syncPartialErr = 0;
    this.errors.clear();
  }
}
