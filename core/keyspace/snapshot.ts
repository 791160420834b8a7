/**
 * A point-in-time view of every database for a background save, without fork: taking it copies
 * the key, value and TTL tables (references only: a string value never changes in place), and
 * an aggregate value (list, hash, set, zset) that a command is about to change before the saver
 * has written it is cloned first, so the saver still sees it as it was (copy-on-write by key).
 *
 * @module
 */

import type { Database, TypedValue, Value } from "./database.ts";

/** One database as it was when the snapshot was taken. */
export interface DbSnapshot {
  readonly id: number;
  readonly keys: string[];
  readonly values: Value[];
  readonly expires: Map<string, number>;
}

/** A consistent view of all databases while a background save walks it. */
export class Snapshot {
  readonly dbs: DbSnapshot[] = [];
  /** Aggregates not written yet: where they sit in `dbs`. */
  private readonly pending = new Map<TypedValue, [number, number]>();
  private released = false;

  /** Takes the snapshot and starts watching writes to `databases`. */
  constructor(private readonly databases: Database[]) {
    for (let d = 0; d < databases.length; d++) {
      const db = databases[d]!;
      // Two array copies: far faster than walking the entries (this pause is BGSAVE's fork).
      const keys = db.dict.keys();
      const values = db.dict.values();
      for (let i = 0; i < values.length; i++) {
        const value = values[i]!;
        if (typeof value !== "string") this.pending.set(value, [d, i]);
      }
      const expires = new Map<string, number>();
      for (let i = 0; i < db.expires.size; i++) {
        expires.set(db.expires.keyAt(i), db.expires.valueAt(i));
      }
      this.dbs.push({ id: db.id, keys, values, expires });
      db.beforeWrite = this.preserve;
    }
  }

  /** Keys in the snapshot, over all databases. */
  get size(): number {
    let n = 0;
    for (const db of this.dbs) n += db.keys.length;
    return n;
  }

  /** Called before an aggregate is changed in place: keeps the snapshot's copy as it was. */
  private readonly preserve = (value: TypedValue): void => {
    const at = this.pending.get(value);
    if (at === undefined) return;
    this.pending.delete(value);
    this.dbs[at[0]]!.values[at[1]] = value.clone();
  };

  /** The saver is done with entry `i` of database `d`: later writes need no copy. */
  written(d: number, i: number): void {
    const v = this.dbs[d]!.values[i]!;
    if (typeof v !== "string") this.pending.delete(v);
  }

  /** Stops watching writes (the save finished or failed). */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.pending.clear();
    for (const db of this.databases) {
      if (db.beforeWrite === this.preserve) db.beforeWrite = undefined;
    }
  }
}
