/**
 * Member leases: each group with leased members keeps a min-heap of (deadline, member), and one
 * server-wide heap holds each group's next deadline. The server tick pops what is due; a GROUP
 * command purges its group first. A heap entry is only a hint: the member field must still hold
 * that deadline (a heartbeat re-join or a leave makes older entries stale), and the key must still
 * hold the same hash (after RENAME the group is found again on its next GROUP command).
 *
 * Groups are tracked by their hash object, which survives RENAME, MOVE and SWAPDB.
 *
 * @module
 */

import type { Database } from "../../core/keyspace/database.ts";
import type { Server } from "../../core/server.ts";
import type { HashValue } from "../../core/types/hash.ts";
import { MEMBER, removeMember } from "./group.ts";

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

/** The leases of one group, and where the group was last seen. */
interface GroupLeases {
  hash: HashValue;
  db: Database;
  key: string;
  members: Heap<string>;
  /** The deadline this group is queued for in the server heap (Infinity: not queued). */
  queued: number;
}

/** Lease bookkeeping of one server. */
export class Leases {
  private readonly byHash = new WeakMap<HashValue, GroupLeases>();
  private readonly due = new Heap<GroupLeases>();

  constructor(private readonly server: Server) {}

  /** Records that `member` of the group at `key` holds a lease until `deadline`. */
  add(db: Database, key: string, hash: HashValue, member: string, deadline: number): void {
    let g = this.byHash.get(hash);
    if (g === undefined) {
      g = { hash, db, key, members: new Heap(), queued: Infinity };
      this.byHash.set(hash, g);
    }
    g.db = db;
    g.key = key;
    g.members.push(deadline, member);
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

  /** The server tick: expires what is due in groups still where they were last seen. */
  cycle(): void {
    const now = this.server.now();
    while (this.due.peek() <= now) {
      const [at, g] = this.due.pop()!;
      if (g.queued !== at) continue;
      g.queued = Infinity;
      // Moved or deleted: the next GROUP command on it finds it again.
      if (g.db.dict.get(g.key) !== g.hash) continue;
      this.expire(g);
    }
  }

  private expire(g: GroupLeases): void {
    if (this.server.isReplica()) return;
    const now = this.server.now();
    while (g.members.peek() <= now) {
      const [at, member] = g.members.pop()!;
      // A heartbeat moved the deadline, or the member left: the entry is stale.
      if (g.hash.get(MEMBER + member) !== String(at)) continue;
      removeMember(this.server, g.db, g.key, g.hash, member, "expire");
    }
    this.schedule(g);
  }

  private schedule(g: GroupLeases): void {
    const next = g.members.peek();
    if (next < g.queued) {
      g.queued = next;
      this.due.push(next, g);
    }
  }
}
