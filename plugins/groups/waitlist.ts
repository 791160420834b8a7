/**
 * The waitlists of `GROUP.JOIN ... WAIT`: one first-come-first-served line per group, in memory
 * only (a waiter is a connection). The waiting itself is the server's blocking machinery
 * (core/blocking.ts): a line only remembers the order, so that a seat goes to the first in line.
 *
 * An entry is alive while its client is blocked on it. A client that closes leaves its line at
 * once; one that timed out or was unblocked (CLIENT UNBLOCK) is dropped from its line the next
 * time the line is looked at.
 *
 * @module
 */

import type { Client } from "../../core/client.ts";
import type { Database } from "../../core/keyspace/database.ts";
import type { Server } from "../../core/server.ts";

/** One connection waiting in a group's line. */
export interface Waiter {
  readonly client: Client;
  readonly db: Database;
  readonly key: string;
  readonly member: string;
}

/** The lines of one server. */
export class Waitlist {
  private readonly lines = new Map<Database, Map<string, Waiter[]>>();
  /** The entry each waiting client is blocked on. */
  private readonly current = new Map<Client, Waiter>();

  constructor(private readonly server: Server) {
    server.on("clientClosed", (client) => {
      const w = this.current.get(client);
      if (w !== undefined) this.remove(w);
    });
  }

  /** Puts `client` at the end of the line of the group `key` in `db`, as `member`. */
  add(client: Client, db: Database, key: string, member: string): Waiter {
    const old = this.current.get(client);
    if (old !== undefined) this.remove(old);
    const w: Waiter = { client, db, key, member };
    this.current.set(client, w);
    let byKey = this.lines.get(db);
    if (byKey === undefined) this.lines.set(db, byKey = new Map());
    const line = byKey.get(key);
    if (line === undefined) byKey.set(key, [w]);
    else line.push(w);
    return w;
  }

  /** Takes `w` out of its line (admitted, refused, or its client closed). */
  remove(w: Waiter): void {
    if (this.current.get(w.client) === w) this.current.delete(w.client);
    const byKey = this.lines.get(w.db);
    const line = byKey?.get(w.key);
    if (line === undefined) return;
    const i = line.indexOf(w);
    if (i >= 0) line.splice(i, 1);
    if (line.length === 0) byKey!.delete(w.key);
  }

  private alive(w: Waiter): boolean {
    return this.current.get(w.client) === w && this.server.blocking.isBlocked(w.client);
  }

  /** The line of a group with its dead entries dropped (undefined when nobody waits). */
  private line(db: Database, key: string): Waiter[] | undefined {
    const byKey = this.lines.get(db);
    const line = byKey?.get(key);
    if (line === undefined) return undefined;
    let kept = 0;
    for (const w of line) {
      if (this.alive(w)) line[kept++] = w;
      else if (this.current.get(w.client) === w) this.current.delete(w.client);
    }
    line.length = kept;
    if (kept === 0) {
      byKey!.delete(key);
      return undefined;
    }
    return line;
  }

  /** How many wait for the group. */
  length(db: Database, key: string): number {
    return this.line(db, key)?.length ?? 0;
  }

  /** True when `w` is first in its line. */
  isFirst(w: Waiter): boolean {
    const line = this.lines.get(w.db)?.get(w.key);
    if (line === undefined) return false;
    // Only the dead at the front matter: drop them, not the whole line.
    while (line.length !== 0 && line[0] !== w && !this.alive(line[0]!)) {
      const dead = line.shift()!;
      if (this.current.get(dead.client) === dead) this.current.delete(dead.client);
    }
    return line[0] === w;
  }

  /** The place of `member` in the group's line, 1 for the first; undefined when not waiting. */
  position(db: Database, key: string, member: string): number | undefined {
    const line = this.line(db, key);
    const i = line?.findIndex((w) => w.member === member) ?? -1;
    return i < 0 ? undefined : i + 1;
  }
}
