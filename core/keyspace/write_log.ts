/**
 * Writes made through the keyspace API by code the core cannot vouch for: plugin commands, and
 * plugin code running outside any command (timers, hooks). Built-in commands do their own
 * bookkeeping (dirty counter, keyspace events, effects) and run with no log at all, so the hot
 * path pays one field read per write.
 *
 * While a log is open, every `Database` call that changes a key records the key here; when the
 * command (or, outside commands, the current job) ends, the server settles the log: the dirty
 * counter grows if the command counted nothing itself, the keyspace events the API implies are
 * raised unless the command raised its own for that key, and every written key that no recorded
 * effect covers is propagated as its new value (see `settleWrites` in core/write_settle.ts).
 *
 * @module
 */

import type { Database } from "./database.ts";

/** Where the keyspace API reports writes: a log, or the idle sink that opens one on demand. */
export interface WriteSink {
  /** `key` of `db` was (or is about to be) changed. */
  mark(db: Database, key: string): void;
  /** A change of `key` implies keyspace event `event` of class `type`. */
  implied(db: Database, type: number, event: string, key: string): void;
  /** The code raised a keyspace event for `key` itself. */
  notified(db: Database, key: string): void;
  /** Every key of `db` was removed. */
  flushed(db: Database): void;
  /** Databases `a` and `b` exchanged their contents. */
  swapped(a: Database, b: Database): void;
}

/** An effect to record, in order with the command's own: the settle step decides the rest. */
export type EffectSink = (dbIndex: number, argv: string[]) => void;

/** The writes of one plugin command (or one job outside commands). */
export class WriteLog implements WriteSink {
  /** Written keys per database, in first-write order. */
  readonly keys: Map<Database, Set<string>> = new Map();
  /** Events the API calls imply, in order: `[db, class, event, key]`. */
  readonly impliedEvents: Array<[Database, number, string, string]> = [];
  /** Keys the code raised an event for itself (their implied events are not raised again). */
  readonly notifiedKeys: Map<Database, Set<string>> = new Map();
  /** Number of distinct written keys. */
  size = 0;
  /** Changes to count in the dirty counter: written keys, flushes and swaps. */
  changes = 0;
  /**
   * Index in the effects list from which a recorded effect describes the final state of the keys
   * it names: a flush or a swap through the API makes earlier effects stale for that purpose.
   */
  coverFrom: number;

  /**
   * @param effects records an effect in order with the command's own (FLUSHDB, SWAPDB)
   * @param effectCount how many effects are recorded now
   */
  constructor(private readonly effects: EffectSink, private readonly effectCount: () => number) {
    this.coverFrom = effectCount();
  }

  /** Records that `key` of `db` was written. */
  mark(db: Database, key: string): void {
    let set = this.keys.get(db);
    if (set === undefined) this.keys.set(db, set = new Set());
    if (!set.has(key)) {
      set.add(key);
      this.size++;
      this.changes++;
    }
  }

  /** Records an event the API implies, raised when the log settles. */
  implied(db: Database, type: number, event: string, key: string): void {
    this.impliedEvents.push([db, type, event, key]);
  }

  /** Records that the code raised its own event for `key`. */
  notified(db: Database, key: string): void {
    let set = this.notifiedKeys.get(db);
    if (set === undefined) this.notifiedKeys.set(db, set = new Set());
    set.add(key);
  }

  /** A flush goes out as FLUSHDB at once, so effects before and after it keep their order. */
  flushed(db: Database): void {
    this.effects(db.id, ["FLUSHDB"]);
    this.coverFrom = this.effectCount();
    this.changes++;
  }

  /**
   * A swap goes out as SWAPDB at once. The keys written before it now live in the other database
   * as well as in their own: both places are marked, so both are sent as they end up.
   */
  swapped(a: Database, b: Database): void {
    this.effects(a.id, ["SWAPDB", String(a.id), String(b.id)]);
    this.coverFrom = this.effectCount();
    const inA = [...this.keys.get(a) ?? []];
    const inB = [...this.keys.get(b) ?? []];
    for (const k of inA) this.mark(b, k);
    for (const k of inB) this.mark(a, k);
    this.changes++;
  }
}
