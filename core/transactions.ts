/**
 * MULTI/EXEC state and WATCH, after Redis's multi.c. While a client is in MULTI, every command
 * but EXEC, DISCARD, MULTI, WATCH, QUIT and RESET is queued (`+QUEUED`) by a gate that runs
 * after all the other checks; any error while queueing (unknown command, arity, a refused
 * gate) makes EXEC answer EXECABORT. A write to a watched key, from any client and by any
 * means (commands, expiry, FLUSHDB, SWAPDB), makes EXEC answer the null array.
 *
 * @module
 */

import { CF, type Client } from "./client.ts";
import type { Command } from "./command.ts";
import type { Database } from "./keyspace/database.ts";
import { ErrorReply, R, type Reply } from "./resp/reply.ts";
import type { Server } from "./server.ts";

/** One watched key of one client. */
interface Watch {
  client: Client;
  db: Database;
  key: string;
  /** The key was logically expired when watched: its deletion is no change. */
  expired: boolean;
}

/** A client's transaction. */
interface TxState {
  queue: Array<[Command, string[]]>;
  /** An error while queueing: EXEC must answer EXECABORT. */
  aborted: boolean;
}

const PASS_THROUGH = new Set(["exec", "discard", "multi", "watch", "quit", "reset"]);

/** Transactions and watched keys of one server. */
export class Transactions {
  private readonly tx = new Map<Client, TxState>();
  private readonly watches = new Map<Client, Watch[]>();
  private readonly byKey = new Map<Database, Map<string, Watch[]>>();
  /** Clients whose watched keys were touched (Redis's CLIENT_DIRTY_CAS). */
  private readonly dirty = new Set<Client>();
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
    return this.tx.has(client);
  }

  /** MULTI. */
  begin(client: Client): void {
    this.tx.set(client, { queue: [], aborted: false });
    client.flags |= CF.multi;
    client.multiCount = 0;
  }

  /** Marks the transaction of `client` as failed (an error while queueing). */
  flagError(client: Client): void {
    const t = this.tx.get(client);
    if (t) t.aborted = true;
  }

  /** DISCARD (and the cleanup after EXEC): leaves MULTI, forgets watches. */
  discard(client: Client): void {
    if (!this.tx.delete(client)) return;
    client.flags &= ~CF.multi;
    client.multiCount = -1;
    this.unwatchAll(client);
  }

  private queueGate(client: Client, cmd: Command, argv: string[]): Reply | undefined {
    const name = cmd.parent ? cmd.parent.name : cmd.name;
    if (PASS_THROUGH.has(name)) return undefined;
    const t = this.tx.get(client)!;
    if (cmd.spec.flags?.includes("no_multi")) {
      t.aborted = true;
      return new ErrorReply("ERR Command not allowed inside a transaction");
    }
    t.queue.push([cmd, argv]);
    client.multiCount = t.queue.length;
    return R.queued;
  }

  /** EXEC: runs the queue, or answers EXECABORT / the null array. */
  exec(client: Client): Reply {
    const t = this.tx.get(client);
    if (!t) return new ErrorReply("ERR EXEC without MULTI");
    if (this.watchedKeyExpired(client)) this.dirty.add(client);
    if (t.aborted || this.dirty.has(client)) {
      const reply = t.aborted
        ? new ErrorReply("EXECABORT Transaction discarded because of previous errors.")
        : R.nullArray;
      this.discard(client);
      this.dirty.delete(client);
      return reply;
    }
    this.unwatchAll(client);
    const replies: Reply[] = [];
    for (const [cmd, argv] of t.queue) replies.push(this.server.execute(client, cmd, argv));
    this.discard(client);
    return replies;
  }

  /** WATCH key [key ...] in the client's database. */
  watch(client: Client, keys: string[]): void {
    if (this.dirty.has(client)) return;
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

  /** UNWATCH: forgets every watched key and a pending dirty state. */
  unwatchAll(client: Client): void {
    this.dirty.delete(client);
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
    this.dirty.add(client);
    // Once dirty, further changes cannot matter: drop the watches (the dirty mark stays).
    this.dropWatches(client);
  }

  /** Forgets the watched keys of `client` (its dirty mark, if any, stays). */
  private dropWatches(client: Client): void {
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
