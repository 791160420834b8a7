/**
 * Blocked clients (BLPOP, BZPOPMIN, XREAD BLOCK, WAIT...), after Redis's blocked.c.
 *
 * A blocking command that cannot be served at once calls `block()` and returns no reply; the
 * client stops processing input. Any write to a key someone waits on marks the key ready; after
 * the command that wrote it completes (a whole MULTI/EXEC or script counts as one), the waiters
 * of each ready key are offered the key in the order they blocked (first blocked, first served).
 * A waiter's `serve` runs like a command of that client (its effects propagate) and either
 * returns the reply, which unblocks the client, or undefined to keep waiting. The rest of an
 * unblocked client's pipelined input runs after the current event, as in Redis.
 *
 * @module
 */

import { CF, type Client } from "./client.ts";
import type { Database } from "./keyspace/database.ts";
import { parseFloatStrict, parseInteger } from "./bytes.ts";
import { ErrorReply, R, type Reply } from "./resp/reply.ts";
import type { Server } from "./server.ts";
import { logIfSlow } from "./slowlog.ts";
import { recordLatency } from "./latency.ts";

/** What a blocked client waits for. */
export interface BlockSpec {
  /** Keys waited on, in the client's current database. */
  keys: string[];
  /** Milliseconds to wait; 0 waits forever. */
  timeoutMs: number;
  /** Tries to serve the client now that `key` was written: the reply, or undefined to wait on. */
  serve(key: string): Reply | undefined;
  /** The reply when the timeout passes (or CLIENT UNBLOCK ... TIMEOUT). */
  timeoutReply: Reply;
  /** Name of the blocking command, for statistics (`blpop`). */
  command: string;
  /**
   * False for a command that is not blocking in Redis but waits here (MIGRATE): CLIENT UNBLOCK
   * does not see it.
   */
  unblockable?: boolean;
}

interface Waiter {
  client: Client;
  db: Database;
  spec: BlockSpec;
  /** The blocked command as sent, for the slow log when it is served. */
  argv: string[] | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Served with its keyspace writes logged (a plugin's command). */
  tracked: boolean;
}

/** The blocked clients of one server. */
export class Blocking {
  /** Waiters per database and key, in the order they blocked. */
  private readonly byKey = new Map<Database, Map<string, Waiter[]>>();
  private readonly byClient = new Map<Client, Waiter>();
  private ready: Array<[Database, string]> = [];
  private readonly readySet = new Set<string>();
  private readonly resume = new Set<Client>();
  private resumeScheduled = false;

  /** @param server the server whose clients block */
  constructor(private readonly server: Server) {
    server.on("clientClosed", (client) => this.drop(client));
    // FLUSHDB, FLUSHALL, SWAPDB: every waited-on key may have changed (Redis rescans them).
    server.on("dbModified", (db) => {
      for (const key of this.byKey.get(db)?.keys() ?? []) this.keyModified(db, key);
    });
  }

  private readonly onKey = (db: Database, key: string) => this.keyModified(db, key);

  /** Number of blocked clients (INFO blocked_clients). */
  get count(): number {
    return this.byClient.size;
  }

  /** True when some key was written that a client waits on. */
  get hasReady(): boolean {
    return this.ready.length !== 0;
  }

  /** Blocks `client` until `spec.serve` returns a reply, the timeout passes, or it is unblocked. */
  block(client: Client, spec: BlockSpec): void {
    const argv = this.server.runningArgv;
    // A plugin's blocking command is served with its writes logged, as when it ran.
    const tracked = argv !== undefined && this.server.command(argv[0]!)?.tracked === true;
    const w: Waiter = { client, db: client.db, spec, argv, timer: undefined, tracked };
    // Writes are watched only while someone waits: the hook fires on every write.
    if (this.byClient.size === 0) this.server.on("keyModified", this.onKey);
    this.byClient.set(client, w);
    client.flags |= CF.blocked;
    let keys = this.byKey.get(client.db);
    if (!keys) this.byKey.set(client.db, keys = new Map());
    for (const key of new Set(spec.keys)) {
      const list = keys.get(key);
      if (list) list.push(w);
      else keys.set(key, [w]);
    }
    if (spec.timeoutMs > 0) {
      w.timer = setTimeout(() => {
        w.timer = undefined;
        this.server.tick();
        this.unblock(client, spec.timeoutReply);
      }, spec.timeoutMs);
    }
  }

  /** Each blocked client with the keys it waits on and its command's name (cluster mode). */
  *blocked(): Generator<{ client: Client; keys: readonly string[]; command: string }> {
    for (const w of this.byClient.values()) {
      yield { client: w.client, keys: w.spec.keys, command: w.spec.command };
    }
  }

  /** True when `client` is blocked. */
  isBlocked(client: Client): boolean {
    return this.byClient.has(client);
  }

  /**
   * Unblocks `client` with `reply` (CLIENT UNBLOCK, timeouts). With `error`, the reply is the
   * UNBLOCKED error Redis sends.
   */
  unblock(client: Client, reply: Reply | "error"): boolean {
    const w = this.byClient.get(client);
    if (!w) return false;
    this.remove(w);
    if (reply === "error") {
      reply = new ErrorReply("UNBLOCKED client unblocked via CLIENT UNBLOCK");
      // The blocked command failed: counted as Redis counts it (errorstat_UNBLOCKED).
      this.server.stats.countError(reply);
      const cmd = this.server.command(w.spec.command);
      if (cmd !== undefined) cmd.stats.failed++;
    }
    client.reply(reply);
    this.server.beforeReplies();
    client.flush();
    this.scheduleResume(client);
    return true;
  }

  /** True when `client` is blocked and CLIENT UNBLOCK may unblock it. */
  isUnblockable(client: Client): boolean {
    return this.byClient.get(client)?.spec.unblockable !== false && this.isBlocked(client);
  }

  /** The timeout reply of a blocked client (CLIENT UNBLOCK ... TIMEOUT). */
  timeoutReplyOf(client: Client): Reply | undefined {
    return this.byClient.get(client)?.spec.timeoutReply;
  }

  /**
   * Marks `key` ready for its waiters without signalling a write (WATCH, tracking): Redis's
   * signalKeyAsReady alone, as XGROUP DESTROY does to wake XREADGROUP readers.
   */
  signalReady(db: Database, key: string): void {
    this.keyModified(db, key);
  }

  private keyModified(db: Database, key: string): void {
    if (this.byClient.size === 0) return;
    if (!this.byKey.get(db)?.has(key)) return;
    const id = `${db.id}\0${key}`;
    if (this.readySet.has(id)) return;
    this.readySet.add(id);
    this.ready.push([db, key]);
  }

  /** Offers every ready key to its waiters; called after each top-level command. */
  serveReady(): void {
    while (this.ready.length !== 0) {
      const batch = this.ready;
      this.ready = [];
      this.readySet.clear();
      for (const [db, key] of batch) {
        const waiters = this.byKey.get(db)?.get(key);
        if (!waiters) continue;
        for (const w of [...waiters]) {
          if (!this.byClient.has(w.client)) continue;
          const start = performance.now();
          const reply = this.server.runForClient(w.client, () => {
            const saved = w.client.db;
            w.client.db = w.db;
            try {
              return w.spec.serve(key);
            } catch (e) {
              // E.g. BLMOVE whose destination became another type: the waiter gets the error.
              if (e instanceof ErrorReply) return e;
              throw e;
            } finally {
              w.client.db = saved;
            }
          }, w.tracked);
          if (reply === undefined) continue;
          // Served, it ran as a command of its own: the slow log shows it as sent (BLPOP, not
          // the LPOP it propagates), as Redis's call() on unblocking does.
          const usec = Math.round((performance.now() - start) * 1000);
          if (w.argv !== undefined) logIfSlow(this.server, w.client, undefined, w.argv, usec);
          const served = this.server.command(w.spec.command);
          if (served !== undefined && this.server.latency.tracking) recordLatency(served, usec);
          if (reply instanceof ErrorReply) {
            // The blocked command failed after all: counted like a failed call, as Redis does.
            this.server.stats.countError(reply);
            const cmd = this.server.command(w.spec.command);
            if (cmd !== undefined) cmd.stats.failed++;
          }
          this.remove(w);
          w.client.reply(reply);
          // The effects of serving it (LPOP...) are made durable before its reply goes out.
          this.server.beforeReplies();
          w.client.flush();
          // Invalidations of what it changed for its own cache follow its reply.
          if (this.server.tracking.hasPending) this.server.tracking.flushPending();
          this.scheduleResume(w.client);
        }
      }
    }
  }

  private remove(w: Waiter): void {
    if (w.timer !== undefined) clearTimeout(w.timer);
    this.byClient.delete(w.client);
    if (this.byClient.size === 0) this.server.hooks.off("keyModified", this.onKey);
    w.client.flags &= ~CF.blocked;
    const keys = this.byKey.get(w.db);
    if (!keys) return;
    for (const key of w.spec.keys) {
      const list = keys.get(key);
      if (!list) continue;
      const i = list.indexOf(w);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) keys.delete(key);
    }
  }

  private drop(client: Client): void {
    const w = this.byClient.get(client);
    if (w) this.remove(w);
  }

  /** Runs the unblocked client's pipelined input after the current event, as Redis does. */
  private scheduleResume(client: Client): void {
    this.resume.add(client);
    if (this.resumeScheduled) return;
    this.resumeScheduled = true;
    queueMicrotask(() => {
      this.resumeScheduled = false;
      const clients = [...this.resume];
      this.resume.clear();
      for (const c of clients) c.resumeInput();
    });
  }
}

/**
 * Parses a blocking timeout as Redis does: seconds as a (long) double, rounded up to whole
 * milliseconds; `timeout is negative` below zero. Returns milliseconds, 0 for "forever".
 */
export function parseTimeoutSeconds(text: string): number {
  const v = parseFloatStrict(text);
  if (v === undefined || !Number.isFinite(v)) {
    throw new ErrorReply("ERR timeout is not a float or out of range");
  }
  const ms = Math.ceil(v * 1000);
  if (ms < 0) throw new ErrorReply("ERR timeout is negative");
  return ms;
}

/** Parses a timeout in milliseconds (XREAD BLOCK, WAIT). */
export function parseTimeoutMs(text: string): number {
  const v = parseInteger(text);
  if (v === undefined) throw new ErrorReply("ERR timeout is not an integer or out of range");
  if (v < 0) throw new ErrorReply("ERR timeout is negative");
  return v;
}

/**
 * True when the running command may block: not inside MULTI/EXEC or a script, where Redis's
 * blocking commands answer at once as if they had timed out.
 */
export function canBlock(client: Client): boolean {
  return !client.server.nested && (client.flags & (CF.multi | CF.local)) === 0;
}

/**
 * Blocks `client` on `keys` until `attempt` serves it from a key that holds a `type` value, or
 * answers `denied` at once where blocking is not allowed (MULTI, scripts). The shared tail of
 * every blocking pop.
 *
 * @returns the reply for the command now: nothing when it blocked, `denied` otherwise
 */
export function blockOnKeys(
  client: Client,
  options: {
    keys: string[];
    type: string;
    timeoutMs: number;
    command: string;
    attempt: (key: string) => Reply | undefined;
    denied: Reply;
  },
): Reply {
  if (!canBlock(client)) return options.denied;
  client.server.blocking.block(client, {
    keys: options.keys,
    timeoutMs: options.timeoutMs,
    command: options.command,
    timeoutReply: R.nullArray,
    serve: (key) => {
      const v = client.db.peek(key);
      if (v === undefined || typeof v === "string" || v.type !== options.type) return undefined;
      return options.attempt(key);
    },
  });
  return R.none;
}
