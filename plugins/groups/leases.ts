/**
 * Deadlines in groups (member leases, and the other deadline fields of the layout): each group
 * with deadlines keeps a min-heap of (deadline, field), and one server-wide heap holds each
 * group's next deadline. The server tick pops what is due; a GROUP command purges its group
 * first. A heap entry is only a hint: the field must still hold that deadline (a heartbeat
 * re-join or a leave makes older entries stale).
 *
 * Groups are tracked by their hash object, which survives RENAME, MOVE and SWAPDB; writes that
 * did not come through GROUP.* (HSET, RESTORE, replicated or loaded data) are indexed when the
 * key changes, so their leases expire too.
 *
 * @module
 */

import type { Database, Value } from "../../core/keyspace/database.ts";
import { N } from "../../core/notify.ts";
import type { Server } from "../../core/server.ts";
import type { HashValue } from "../../core/types/hash.ts";
import { CAPACITY, DEADLINES, forgetSeats, OPEN } from "./group.ts";

/**
 * What to do when a deadline field's time comes (the field still holds it): returns the next
 * deadline it set, as `[field, at]`, if any.
 */
export type DeadlinePassed = (
  db: Database,
  key: string,
  hash: HashValue,
  field: string,
  at: number,
) => [string, number] | undefined;

/** A min-heap of [deadline, payload]. */
class Heap<T> {
  private readonly items: Array<[number, T]> = [];

  get size(): number {
    return this.items.length;
  }

  /** The smallest deadline, or Infinity. */
  peek(): number {
    return this.items.length === 0 ? Infinity : this.items[0]![0];
  }

  push(at: number, value: T): void {
    const a = this.items;
    a.push([at, value]);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]![0] <= a[i]![0]) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }

  pop(): [number, T] | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length !== 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < a.length && a[l]![0] < a[m]![0]) m = l;
        if (r < a.length && a[r]![0] < a[m]![0]) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}

/** The deadlines of one group, and where the group was last seen. */
interface GroupLeases {
  hash: HashValue;
  db: Database;
  key: string;
  deadlines: Heap<string>;
  /** The deadline this group is queued for in the server heap (Infinity: not queued). */
  queued: number;
}

/** A group hash: a hash holding both settings fields. */
function asGroup(v: Value | undefined): HashValue | undefined {
  if (v === undefined || typeof v === "string" || v.type !== "hash") return undefined;
  const h = v as HashValue;
  return h.has(CAPACITY) && h.has(OPEN) ? h : undefined;
}

/** Lease bookkeeping of one server. */
export class Leases {
  private readonly byHash = new WeakMap<HashValue, GroupLeases>();
  /** Groups with leases still pending. */
  private readonly tracked = new Set<GroupLeases>();
  private readonly due = new Heap<GroupLeases>();
  /** Nonzero while a GROUP command runs (it records its own leases). */
  private inCommand = 0;

  /**
   * @param server the server
   * @param passed what a deadline that passes does (expiry.ts)
   */
  constructor(private readonly server: Server, private readonly passed: DeadlinePassed) {
    // A key replaced whole (RENAME, RESTORE, MOVE) shows in keyModified; a hash changed by a hash
    // command shows in its keyspace event, raised once the fields are in.
    // Only a hash can be a group: a write that stored anything else (SET...) needs no lookup.
    server.on("keyModified", (db, key, value) => {
      if (this.inCommand !== 0) return;
      if (value !== undefined && (typeof value === "string" || value.type !== "hash")) return;
      this.indexKey(db, key);
    });
    server.on("keyspaceEvent", (db, type, _event, key) => {
      if (this.inCommand === 0 && (type & N.hash) !== 0) this.indexKey(db, key);
    });
    server.on("dbModified", () => this.relocateAll());
  }

  /** Runs a GROUP command: the leases it sets are recorded by the command, not by the hook. */
  run<T>(fn: () => T): T {
    this.inCommand++;
    try {
      return fn();
    } finally {
      this.inCommand--;
    }
  }

  /** Records that `field` of the group at `key` holds `deadline`. */
  add(db: Database, key: string, hash: HashValue, field: string, deadline: number): void {
    let g = this.byHash.get(hash);
    if (g === undefined) {
      g = { hash, db, key, deadlines: new Heap(), queued: Infinity };
      this.byHash.set(hash, g);
    }
    g.db = db;
    g.key = key;
    this.tracked.add(g);
    g.deadlines.push(deadline, field);
    this.schedule(g);
  }

  /** Removes the expired members of the group at `key` (before a GROUP command reads it). */
  purge(db: Database, key: string, hash: HashValue): void {
    const g = this.byHash.get(hash);
    if (g === undefined) return;
    g.db = db;
    g.key = key;
    this.expire(g);
  }

  /** The server tick: expires what is due. A replica leaves that to its master's HDEL. */
  cycle(): void {
    if (this.server.isReplica()) return;
    const now = this.server.now();
    while (this.due.peek() <= now) {
      const [at, g] = this.due.pop()!;
      if (g.queued !== at) continue;
      g.queued = Infinity;
      if (this.locate(g)) this.expire(g);
      else this.forget(g);
    }
  }

  /** Indexes every leased member of every group (after loading data, or on promotion). */
  rescan(): void {
    for (const db of this.server.dbs) {
      for (const [key] of db.dict.entries()) this.indexKey(db, key);
    }
  }

  /** Indexes the deadlines of the group at `key`, if it is one (its seats are recounted). */
  private indexKey(db: Database, key: string): void {
    const hash = asGroup(db.dict.get(key));
    if (hash === undefined) return;
    forgetSeats(hash);
    hash.forEach((field, value) => {
      if (!DEADLINES.some((p) => field.startsWith(p))) return;
      const at = Number(value);
      if (at > 0) this.add(db, key, hash, field, at);
    });
  }

  /** Finds a tracked group again: where it was, or under the same name in another database. */
  private locate(g: GroupLeases): boolean {
    if (g.db.dict.get(g.key) === g.hash) return true;
    for (const db of this.server.dbs) {
      if (db.dict.get(g.key) === g.hash) {
        g.db = db;
        return true;
      }
    }
    return false;
  }

  private relocateAll(): void {
    for (const g of this.tracked) {
      if (!this.locate(g)) this.forget(g);
    }
  }

  /** Drops a group whose hash left the keyspace (deleted, or renamed out of sight). */
  private forget(g: GroupLeases): void {
    this.tracked.delete(g);
    this.byHash.delete(g.hash);
  }

  private expire(g: GroupLeases): void {
    if (this.server.isReplica()) return;
    const now = this.server.now();
    while (g.deadlines.peek() <= now) {
      const [at, field] = g.deadlines.pop()!;
      // A heartbeat moved the deadline, or the member left: the entry is stale.
      if (g.hash.get(field) !== String(at)) continue;
      // A change outside a command: let a background save keep its copy first.
      g.db.beforeWrite?.(g.hash);
      const next = this.run(() => this.passed(g.db, g.key, g.hash, field, at));
      if (next !== undefined) g.deadlines.push(next[1], next[0]);
    }
    if (g.deadlines.size === 0) this.tracked.delete(g);
    this.schedule(g);
  }

  private schedule(g: GroupLeases): void {
    const next = g.deadlines.peek();
    if (next < g.queued) {
      g.queued = next;
      this.due.push(next, g);
    }
  }
}
