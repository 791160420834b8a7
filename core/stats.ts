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
  evictedKeys = 0;
  hits = 0;
  misses = 0;
  rejectedCalls = 0;
  errorReplies = 0;
  authFailures = 0;
  /** Error replies by code (`ERR`, `WRONGTYPE`...). */
  readonly errors = new Map<string, number>();
  /** `slowlog-log-slower-than` in µs, cached for the hot path (-1 disables). */
  slowlogThreshold = 10000;

  /** Counts an error reply under its code. */
  countError(e: ErrorReply): void {
    this.errorReplies++;
    const code = e.code;
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  /** Resets what CONFIG RESETSTAT resets. */
  reset(): void {
    this.commands = 0;
    this.connectionsReceived = 0;
    this.rejectedConnections = 0;
    this.expiredKeys = 0;
    this.evictedKeys = 0;
    this.hits = 0;
    this.misses = 0;
    this.rejectedCalls = 0;
    this.errorReplies = 0;
    this.authFailures = 0;
    this.errors.clear();
  }
}
