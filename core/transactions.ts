/**
 * MULTI/EXEC state and WATCH, after Redis's multi.c. While a client is in MULTI, every command
 * but EXEC, DISCARD, MULTI, WATCH, QUIT and RESET is queued (`+QUEUED`) by a gate that runs
 * after all the other checks; any error while queueing (unknown command, arity, a refused
 * gate) makes EXEC answer EXECABORT. A write to a watched key, from any client and by any
 * means (commands, expiry, FLUSHDB, SWAPDB), makes EXEC answer the null array.
 *
 * @module
 */

import { checkCommand, execDenialText } from "./acl/check.ts";
import { CF, type Client } from "./client.ts";
import { type Command, F } from "./command.ts";
import type { Database } from "./keyspace/database.ts";
import { ErrorReply, R, RawReply, type Reply } from "./resp/reply.ts";
import { ReplyWriter } from "./resp/writer.ts";
import type { Server } from "./server.ts";
import { argvCost } from "./client_memory.ts";

/** Commands whose replies are their pub/sub confirmations, pushed one per channel. */
const CONFIRMED = new Set([
  "subscribe",
  "unsubscribe",
  "psubscribe",
  "punsubscribe",
  "ssubscribe",
  "sunsubscribe",
]);

/**
 * The reply of a (un)subscribe command run by EXEC: Redis writes its confirmations where the
 * command's reply goes, so they sit inside EXEC's array. One per channel: a command naming
 * several channels puts several where one was counted, and breaks the array as Redis does
 * (redis/redis#12207).
 */
function confirmationsOf(client: Client, run: () => Reply): Reply {
  const outer = client.captured;
  const pushed: Reply[] = [];
  client.captured = pushed;
  let reply: Reply;
  try {
    reply = run();
  } finally {
    client.captured = outer;
  }
  if (pushed.length === 0) return reply;
  if (pushed.length === 1) return pushed[0]!;
  const w = new ReplyWriter(0);
  w.compat = client.out.compat;
  for (const p of pushed) w.reply(p, client.resp);
  return new RawReply(w.take());
}

/** One watched key of one client. */
interface Watch {
  client: Client;
  db: Database;
  key: string;
  /** The key was logically expired when watched: its deletion is no change. */
  expired: boolean;
}

/** A client's transaction (kept on the client: the hot path does no lookups). */
export interface TxState {
  /** Queued commands: each command followed by its argv. */
  queue: Array<Command | string[]>;
  /** An error while queueing: EXEC must answer EXECABORT. */
  aborted: boolean;
  /** Bytes of the queued commands' arguments, a pointer each included (CLIENT LIST multi-mem). */
  argvBytes: number;
}

const PASS_THROUGH = new Set(["exec", "discard", "multi", "watch", "quit", "reset"]);

/** Transactions and watched keys of one server. */
export class Transactions {
  private readonly watches = new Map<Client, Watch[]>();
  private readonly byKey = new Map<Database, Map<string, Watch[]>>();
  private listening = false;
  private readonly onKey = (db: Database, key: string) => this.keyModified(db, key);
  private readonly onDb = (db: Database) => this.dbModified(db);

  /** Listens to writes only while some key is watched: the hooks fire on every write. */
  private listen(on: boolean): void {
    if (on === this.listening) return;
    this.listening = on;
    if (on) {
      this.server.on("keyModified", this.onKey);
      this.server.on("dbModified", this.onDb);
    } else {
      this.server.hooks.off("keyModified", this.onKey);
      this.server.hooks.off("dbModified", this.onDb);
    }
  }

  /** @param server the server whose clients run transactions */
  constructor(private readonly server: Server) {
    server.addGate((client, cmd, argv) => this.queueGate(client, cmd, argv), 100, CF.multi);
    const forget = (client: Client) => {
      this.discard(client);
      this.unwatchAll(client);
    };
    server.on("clientClosed", forget);
    server.on("clientReset", forget);
  }

  /** True when `client` is inside MULTI. */
  inMulti(client: Client): boolean {
    return (client.flags & CF.multi) !== 0;
  }

  /** MULTI. */
  begin(client: Client): void {
    const t = client.tx;
    if (t !== undefined) {
      t.queue.length = 0;
      t.aborted = false;
      t.argvBytes = 0;
    } else {
      client.tx = { queue: [], aborted: false, argvBytes: 0 };
    }
    client.flags |= CF.multi;
    client.multiCount = 0;
  }

  /**
   * A command of `client` was refused before running: EXEC will answer EXECABORT; a refused EXEC
   * itself (BUSY...) discards the transaction now, as Redis does. Returns the reply to send.
   */
  rejected(client: Client, cmd: Command | undefined, err: ErrorReply): ErrorReply {
    if ((client.flags & CF.multi) !== 0) client.tx!.aborted = true;
    if (cmd?.name !== "exec") return err;
    this.discard(client);
    return new ErrorReply(`EXECABORT Transaction discarded because of: ${err.message}`);
  }

  /** DISCARD (and the cleanup after EXEC): leaves MULTI, forgets watches. */
  discard(client: Client): void {
    if ((client.flags & CF.multi) === 0) return;
    // The state object stays for the client's next MULTI; the queue lets go of its commands.
    client.tx!.queue.length = 0;
    client.tx!.argvBytes = 0;
    client.flags &= ~CF.multi;
    client.multiCount = -1;
    this.unwatchAll(client);
  }

  private queueGate(client: Client, cmd: Command, argv: string[]): Reply | undefined {
    const name = cmd.parent ? cmd.parent.name : cmd.name;
    if (PASS_THROUGH.has(name)) return undefined;
    const t = client.tx!;
    if ((cmd.bits & F.noMulti) !== 0) {
      t.aborted = true;
      return new ErrorReply("ERR Command not allowed inside a transaction");
    }
    t.queue.push(cmd, argv);
    t.argvBytes += argvCost(argv);
    client.multiCount = t.queue.length >> 1;
    return R.queued;
  }

  /** EXEC: runs the queue, or answers EXECABORT / the null array. */
  exec(client: Client): Reply {
    if ((client.flags & CF.multi) === 0) return new ErrorReply("ERR EXEC without MULTI");
    const t = client.tx!;
    if (this.watchedKeyExpired(client)) client.flags |= CF.dirtyCas;
    if (t.aborted || (client.flags & CF.dirtyCas) !== 0) {
      const reply = t.aborted
        ? new ErrorReply("EXECABORT Transaction discarded because of previous errors.")
        : R.nullArray;
      this.discard(client);
      client.flags &= ~CF.dirtyCas;
      return reply;
    }
    this.unwatchAll(client);
    const queue = t.queue;
    const n = queue.length >> 1;
    const replies = new Array<Reply>(n);
    const restricted = (client.flags & CF.restricted) !== 0;
    for (let i = 0; i < n; i++) {
      const cmd = queue[2 * i] as Command;
      const argv = queue[2 * i + 1] as string[];
      // The user's rules may have changed since the command was queued: checked again, as Redis.
      const denied = restricted ? checkCommand(client.user, cmd, argv) : undefined;
      if (denied !== undefined) {
        this.server.acl.logDenial(client, denied, cmd, argv, "multi");
        replies[i] = new ErrorReply(execDenialText(denied));
        continue;
      }
      replies[i] = CONFIRMED.has(cmd.name)
        ? confirmationsOf(client, () => this.server.execute(client, cmd, argv))
        : this.server.execute(client, cmd, argv);
    }
    this.discard(client);
    return replies;
  }

  /** WATCH key [key ...] in the client's database. */
  watch(client: Client, keys: string[]): void {
    if ((client.flags & CF.dirtyCas) !== 0) return;
    let mine = this.watches.get(client);
    if (!mine) this.watches.set(client, mine = []);
    this.listen(true);
    const db = client.db;
    let dbKeys = this.byKey.get(db);
    if (!dbKeys) this.byKey.set(db, dbKeys = new Map());
    for (const key of keys) {
      if (mine.some((w) => w.db === db && w.key === key)) continue;
      const w: Watch = { client, db, key, expired: isExpired(db, key) };
      mine.push(w);
      const list = dbKeys.get(key);
      if (list) list.push(w);
      else dbKeys.set(key, [w]);
    }
  }

  /**
   * INFO clients' watching_clients (clients watching some key) and total_watched_keys (distinct
   * keys watched, database by database).
   */
  watchStats(): { clients: number; keys: number } {
    let keys = 0;
    for (const dbKeys of this.byKey.values()) keys += dbKeys.size;
    return { clients: this.watches.size, keys };
  }

  /** How many keys `client` watches. */
  watchedCount(client: Client): number {
    return this.watches.size === 0 ? 0 : this.watches.get(client)?.length ?? 0;
  }

  /** UNWATCH: forgets every watched key and a pending dirty state. */
  unwatchAll(client: Client): void {
    client.flags &= ~CF.dirtyCas;
    this.dropWatches(client);
  }

  private keyModified(db: Database, key: string): void {
    if (this.watches.size === 0) return;
    const list = this.byKey.get(db)?.get(key);
    if (!list) return;
    for (const w of [...list]) {
      if (w.expired) {
        // Deleting a key that was already expired when watched changes nothing logically.
        if (!db.dict.has(key)) {
          w.expired = false;
          continue;
        }
      }
      this.markDirty(w.client);
    }
  }

  private dbModified(db: Database): void {
    if (this.watches.size === 0) return;
    const dbKeys = this.byKey.get(db);
    if (!dbKeys) return;
    for (const [key, list] of [...dbKeys]) {
      if (!db.dict.has(key)) continue;
      for (const w of [...list]) {
        // A key already expired when watched: emptying the database changes nothing for it.
        if (w.expired) {
          w.expired = false;
          continue;
        }
        this.markDirty(w.client);
      }
    }
  }

  private markDirty(client: Client): void {
    client.flags |= CF.dirtyCas;
    // Once dirty, further changes cannot matter: drop the watches (the dirty mark stays).
    this.dropWatches(client);
  }

  /** Forgets the watched keys of `client` (its dirty mark, if any, stays). */
  private dropWatches(client: Client): void {
    if (this.watches.size === 0) return;
    const mine = this.watches.get(client);
    if (!mine) return;
    this.watches.delete(client);
    if (this.watches.size === 0) this.listen(false);
    for (const w of mine) {
      const dbKeys = this.byKey.get(w.db);
      const list = dbKeys?.get(w.key);
      if (!list) continue;
      const i = list.indexOf(w);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) dbKeys!.delete(w.key);
    }
  }

  private watchedKeyExpired(client: Client): boolean {
    if (this.watches.size === 0) return false;
    const mine = this.watches.get(client);
    if (!mine) return false;
    return mine.some((w) => !w.expired && isExpired(w.db, w.key));
  }
}

/** True when `key` exists in `db` but its time has passed (not yet deleted). */
function isExpired(db: Database, key: string): boolean {
  const at = db.expires.get(key);
  return at !== undefined && at <= db.host.now() && db.dict.has(key);
}
