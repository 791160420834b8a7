/**
 * Server-assisted client-side caching (CLIENT TRACKING), after Redis 7.0's tracking.c.
 *
 * Default mode: the keys a tracking client reads are remembered in one table (key name → client
 * IDs, whatever the database, as Redis does); the next change of such a key, by any path the
 * server signals through `keyModified` (commands, MULTI, scripts, expiry, eviction, writes from
 * our master), sends each of those clients one invalidation and forgets the key. A flush
 * (FLUSHDB, FLUSHALL, a full sync) sends every tracking client a null invalidation. BCAST mode:
 * clients name key prefixes instead and get, once per turn of the event loop, the keys written
 * under them. A RESP3 client gets `>2 invalidate [keys]` pushes; with REDIRECT the messages go to
 * another connection, as pushes (RESP3) or as `__redis__:invalidate` pub/sub messages (RESP2).
 *
 * While no client tracks and the table is empty, nothing here listens: untracked traffic pays
 * one field test per command (`hasPending` in the server's call path).
 *
 * @module
 */

import { CF, type Client } from "./client.ts";
import { type Command, F } from "./command.ts";
import { RawReply, type Reply } from "./resp/reply.ts";
import type { Server } from "./server.ts";

/** Tracking flags of one client (Redis's CLIENT_TRACKING_* bits). */
export const TF = {
  bcast: 1,
  optin: 2,
  optout: 4,
  /** CLIENT CACHING yes (OPTIN) or no (OPTOUT) given for the next command. */
  caching: 8,
  noloop: 16,
  /** The redirect client went away. */
  brokenRedir: 32,
} as const;

/** The tracking state of a client with tracking on. */
export interface TrackingState {
  /** Bits of {@linkcode TF}. */
  flags: number;
  /** ID of the client invalidations go to, 0 for the client itself. */
  redirect: number;
  /** BCAST prefixes. */
  prefixes: Set<string> | undefined;
}

/** One BCAST prefix: its clients and the keys written under it since the last broadcast. */
interface Bcast {
  /** Key → the client that last wrote it (NOLOOP clients are not told of their own writes). */
  keys: Map<string, Client | undefined>;
  clients: Set<Client>;
}

const CHANNEL = "__redis__:invalidate";
// A flush's null is written in the tracking client's protocol, even when it goes to a redirect
// connection speaking the other one: Redis does so.
const NULL2 = new RawReply(new TextEncoder().encode("$-1\r\n"));
const NULL3 = new RawReply(new TextEncoder().encode("_\r\n"));
const SCRIPT_RO = new Set(["eval_ro", "evalsha_ro", "fcall_ro"]);

/** The tracking table and BCAST prefixes of one server. */
export class Tracking {
  /** Clients with tracking on (INFO's `tracking_clients`). */
  clients = 0;
  /** Key → IDs of the clients that may cache it. */
  readonly table: Map<string, Set<number>> = new Map();
  /** IDs stored across the table (INFO's `tracking_total_items`). */
  items = 0;
  /** BCAST prefixes in use. */
  readonly prefixes: Map<string, Bcast> = new Map();
  /** Something waits for the end of the running command (see flushPending()). */
  hasPending = false;
  /** Invalidations of the running command's own client, sent after its reply. */
  private pendingKeys: string[] = [];
  private pendingClient: Client | undefined;
  /** A flush happened: every tracking client gets a null invalidation. */
  private flushQueued = false;
  private bcastQueued = false;
  private listening = false;
  /** Rounds the table stayed above its limit (the eviction effort grows with them). */
  private limitRounds = 0;
  private maxKeys: number;
  /**
   * The script run in progress (its caller and its EVAL/FCALL line), set by the scripting
   * engine: a script's commands run as the script client, tracking deals with its caller.
   */
  scriptRun: () => { caller: Client; argv: string[] } | undefined = () => undefined;

  private readonly onKey = (_db: unknown, key: string) => this.invalidateKey(key, true);
  private readonly onFlush = () => this.flushed();
  private readonly onCommand = (c: Client, cmd: Command, argv: string[]) =>
    this.afterCommand(c, cmd, argv);
  private readonly onCron = () => this.limit();

  /** @param server the server whose clients track keys */
  constructor(private readonly server: Server) {
    this.maxKeys = server.config.num("tracking-table-max-keys");
    server.config.onChange((name, value) => {
      if (name === "tracking-table-max-keys") this.maxKeys = value as number;
    });
    const off = (c: Client) => {
      if (c.tracking !== undefined) this.disable(c);
    };
    server.on("clientClosed", off);
    server.on("clientReset", off);
  }

  /** Listens to writes only while some client tracks or some key is remembered. */
  private relisten(): void {
    const on = this.clients !== 0 || this.table.size !== 0;
    if (on === this.listening) return;
    this.listening = on;
    const hooks = this.server.hooks;
    if (on) {
      hooks.on("keyModified", this.onKey);
      hooks.on("dbFlushed", this.onFlush);
      hooks.on("afterCommand", this.onCommand);
      hooks.on("cron", this.onCron);
    } else {
      hooks.off("keyModified", this.onKey);
      hooks.off("dbFlushed", this.onFlush);
      hooks.off("afterCommand", this.onCommand);
      hooks.off("cron", this.onCron);
    }
  }

  /** CLIENT TRACKING on: options already checked by the command. */
  enable(c: Client, redirect: number, options: number, prefixes: string[]): void {
    let t = c.tracking;
    if (t === undefined) {
      t = c.tracking = { flags: 0, redirect: 0, prefixes: undefined };
      this.clients++;
    }
    // CACHING given before survives, as in Redis; the other options are the new ones.
    t.flags = (t.flags & TF.caching) | options;
    t.redirect = redirect;
    if (options & TF.bcast) {
      for (const p of prefixes.length === 0 ? [""] : prefixes) {
        let bs = this.prefixes.get(p);
        if (bs === undefined) this.prefixes.set(p, bs = { keys: new Map(), clients: new Set() });
        bs.clients.add(c);
        (t.prefixes ??= new Set()).add(p);
      }
    }
    this.relisten();
  }

  /** CLIENT TRACKING off (also RESET and a closed connection). */
  disable(c: Client): void {
    const t = c.tracking;
    if (t === undefined) return;
    for (const p of t.prefixes ?? []) {
      const bs = this.prefixes.get(p);
      if (bs === undefined) continue;
      bs.clients.delete(c);
      if (bs.clients.size === 0) this.prefixes.delete(p);
    }
    c.tracking = undefined;
    this.clients--;
    this.relisten();
  }

  /** A BCAST prefix of `c`'s that overlaps `prefix` (one is a prefix of the other). */
  overlapping(c: Client, prefix: string): string | undefined {
    for (const p of c.tracking?.prefixes ?? []) {
      if (p.startsWith(prefix) || prefix.startsWith(p)) return p;
    }
    return undefined;
  }

  /** Remembers the keys a tracking client read (default mode), after each command. */
  private afterCommand(client: Client, cmd: Command, argv: string[]): void {
    const top = !this.server.running;
    if ((cmd.bits & F.readonly) !== 0 && (cmd.bits & F.pubsub) === 0) {
      // A script's read remembers the keys that command read, for the script's caller (Redis
      // 7.2; 7.0 took every key the script declared). A read-only script itself tracks nothing.
      const tracking = (client.flags & CF.script) !== 0 ? this.scriptRun()?.caller : client;
      if (tracking?.tracking !== undefined && !SCRIPT_RO.has(cmd.name)) {
        const keys: string[] = [];
        for (const pos of cmd.keyPositions(argv)) keys.push(argv[pos]!);
        this.remember(tracking, keys);
      }
    }
    // CACHING applies to the next command or transaction only (CLIENT itself keeps it).
    const t = client.tracking;
    if (
      top && t !== undefined && (t.flags & TF.caching) !== 0 &&
      (client.flags & CF.multi) === 0 && (cmd.parent ?? cmd).name !== "client"
    ) t.flags &= ~TF.caching;
  }

  /** A command refused before it ran also ends CLIENT CACHING's effect, as Redis's resetClient. */
  commandRejected(c: Client, cmd: Command | undefined): void {
    const t = c.tracking!;
    if ((c.flags & CF.multi) === 0 && (cmd?.parent ?? cmd)?.name !== "client") {
      t.flags &= ~TF.caching;
    }
  }

  private remember(c: Client, keys: string[]): void {
    const t = c.tracking;
    if (t === undefined || (t.flags & TF.bcast) !== 0 || keys.length === 0) return;
    const caching = (t.flags & TF.caching) !== 0;
    if (((t.flags & TF.optin) !== 0 && !caching) || ((t.flags & TF.optout) !== 0 && caching)) {
      return;
    }
    for (const key of keys) {
      let ids = this.table.get(key);
      if (ids === undefined) this.table.set(key, ids = new Set());
      if (ids.has(c.id)) continue;
      ids.add(c.id);
      this.items++;
    }
    if (this.maxKeys !== 0 && this.table.size > this.maxKeys) this.limit();
  }

  /** The client whose command runs now (a script's caller, not the script client). */
  private topClient(): Client | undefined {
    const cur = this.server.current;
    if (cur === undefined || (cur.flags & CF.script) === 0) return cur;
    return this.scriptRun()?.caller ?? cur;
  }

  /** `key` changed: tell the clients that may cache it, then forget it. */
  private invalidateKey(key: string, bcast: boolean): void {
    const writer = this.topClient();
    if (bcast && this.prefixes.size !== 0) this.rememberForBroadcast(key, writer);
    const ids = this.table.get(key);
    if (ids === undefined) return;
    this.table.delete(key);
    this.items -= ids.size;
    const running = this.server.running;
    for (const id of ids) {
      const target = this.server.clients.get(id);
      const t = target?.tracking;
      if (t === undefined || (t.flags & TF.bcast) !== 0) continue;
      if (target === writer) {
        if ((t.flags & TF.noloop) !== 0) continue;
        if (running) {
          // After the command's reply, as Redis does: never inside it.
          this.pendingClient = target;
          this.pendingKeys.push(key);
          this.hasPending = true;
          continue;
        }
      }
      this.send(target!, [key]);
    }
    if (this.table.size === 0) this.relisten();
  }

  private rememberForBroadcast(key: string, writer: Client | undefined): void {
    for (const [prefix, bs] of this.prefixes) {
      if (key.startsWith(prefix)) bs.keys.set(key, writer);
    }
    if (this.bcastQueued) return;
    this.bcastQueued = true;
    // Once per turn of the event loop, like Redis's beforeSleep: one message for many writes.
    queueMicrotask(() => this.broadcast());
  }

  /** Sends each BCAST client the keys written under its prefixes. */
  private broadcast(): void {
    this.bcastQueued = false;
    for (const bs of this.prefixes.values()) {
      if (bs.keys.size === 0) continue;
      const all = [...bs.keys.keys()].sort();
      for (const c of bs.clients) {
        if ((c.tracking!.flags & TF.noloop) === 0) {
          this.send(c, all);
          continue;
        }
        const own = all.filter((k) => bs.keys.get(k) !== c);
        if (own.length !== 0) this.send(c, own);
      }
      bs.keys = new Map();
    }
  }

  /** A database was emptied: forget every key; every tracking client gets a null invalidation. */
  private flushed(): void {
    this.table.clear();
    this.items = 0;
    if (this.clients === 0) this.relisten();
    if (this.flushQueued || this.clients === 0) return;
    // FLUSHALL empties every database: one message, after the command's reply.
    this.flushQueued = true;
    if (this.server.running) this.hasPending = true;
    else queueMicrotask(() => this.flushPending());
  }

  /** Sends what waited for the end of the running command (the server calls it after replies). */
  flushPending(): void {
    this.hasPending = false;
    const c = this.pendingClient;
    if (c !== undefined) {
      const keys = this.pendingKeys;
      this.pendingClient = undefined;
      this.pendingKeys = [];
      if (c.tracking !== undefined) { for (const k of keys) this.send(c, [k]); }
    }
    if (this.flushQueued) {
      this.flushQueued = false;
      for (const t of this.server.clients.values()) {
        if (t.tracking !== undefined) this.send(t, null);
      }
    }
  }

  /**
   * Keeps the table within `tracking-table-max-keys`: invalidates keys (oldest first) with an
   * effort that grows each round the table stays above the limit, as Redis does.
   */
  private limit(): void {
    const max = this.maxKeys;
    if (max === 0 || this.table.size <= max) {
      this.limitRounds = 0;
      return;
    }
    let effort = 100 * (this.limitRounds + 1);
    for (const key of this.table.keys()) {
      if (effort-- <= 0) break;
      this.invalidateKey(key, false);
      if (this.table.size <= max) {
        this.limitRounds = 0;
        return;
      }
    }
    this.limitRounds++;
  }

  /** Sends one invalidation (`keys` null: everything) to `c` or to its redirect client. */
  private send(c: Client, keys: string[] | null): void {
    const t = c.tracking!;
    let to = c;
    if (t.redirect !== 0) {
      const r = this.server.clients.get(t.redirect);
      if (r === undefined) {
        t.flags |= TF.brokenRedir;
        if (c.resp > 2) c.push(["tracking-redir-broken", t.redirect]);
        return;
      }
      to = r;
    }
    const value: Reply = keys ?? (c.resp > 2 ? NULL3 : NULL2);
    if (to.resp > 2) to.push(["invalidate", value]);
    else if (to !== c && (to.flags & CF.pubsub) !== 0) to.push(["message", CHANNEL, value]);
    // A RESP2 client without a redirect cannot be told anything.
  }
}
