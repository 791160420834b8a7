/**
 * The ACL log (ACL LOG): refused commands, keys, channels and authentications, newest first, at
 * most `acllog-max-len` entries. An event like one of the 10 newest entries (same reason,
 * context, object and user, within 60 s) bumps that entry's count instead, as in Redis 7.0.
 *
 * @module
 */

import { DoubleReply, MapReply, type Reply } from "../resp/reply.ts";

/** Why an entry was logged, as ACL LOG names it. */
export type LogReason = "command" | "key" | "channel" | "auth";
/** Where the refused call came from. */
export type LogContext = "toplevel" | "multi" | "lua";

/** One ACL LOG entry. */
export interface LogEntry {
  count: number;
  reason: LogReason;
  context: LogContext;
  object: string;
  username: string;
  /** Time of the last occurrence (ms). */
  time: number;
  clientInfo: string;
}

const GROUPING_MS = 60000;

/** The log of one server. */
export class AclLog {
  /** Entries, newest first. */
  readonly entries: LogEntry[] = [];
  /** `acllog-max-len`. */
  maxLen = 128;

  /** Adds an event, or counts it in a matching recent entry. */
  add(e: Omit<LogEntry, "count">): void {
    const n = Math.min(10, this.entries.length);
    for (let i = 0; i < n; i++) {
      const m = this.entries[i]!;
      if (
        m.reason === e.reason && m.context === e.context && m.object === e.object &&
        m.username === e.username && Math.abs(m.time - e.time) <= GROUPING_MS
      ) {
        this.entries.splice(i, 1);
        this.entries.unshift(m);
        m.count++;
        m.time = e.time;
        m.clientInfo = e.clientInfo;
        return;
      }
    }
    this.entries.unshift({ count: 1, ...e });
    this.trim();
  }

  /** Drops the oldest entries beyond `maxLen`. */
  trim(): void {
    if (this.entries.length > this.maxLen) this.entries.length = this.maxLen;
  }

  /** ACL LOG [count]: the newest `count` entries as maps. */
  reply(count: number, now: number): Reply[] {
    return this.entries.slice(0, Math.max(0, count)).map((e) =>
      new MapReply([
        "count",
        e.count,
        "reason",
        e.reason,
        "context",
        e.context,
        "object",
        e.object,
        "username",
        e.username,
        "age-seconds",
        new DoubleReply((now - e.time) / 1000),
        "client-info",
        e.clientInfo,
      ])
    );
  }
}
