/**
 * maxmemory eviction, after Redis 7.0's evict.c. Before each command (and on a timer while a big
 * excess is worked off), when `used_memory` minus what eviction cannot free (replica output, the
 * AOF buffer) exceeds `maxmemory`, keys are deleted by the `maxmemory-policy` until it fits:
 *
 * - `*-lru`, `*-lfu` and `volatile-ttl` keep Redis's eviction pool: each round samples
 *   `maxmemory-samples` keys of every database into a pool of the 16 best candidates so far
 *   (longest idle, least frequently used, or nearest expiry) and evicts the best one still there;
 * - `*-random` deletes a random key, visiting the databases in turn;
 * - `volatile-*` choose among keys with a TTL only. A JavaScript Map cannot be sampled at random,
 *   so they are sampled in turn from a cursor that walks each database's expires table (as the
 *   active expiry cycle does), while `allkeys-*` sample uniformly at random.
 *
 * Each eviction is propagated as `DEL` (`UNLINK` with `lazyfree-lazy-eviction`), raises the
 * `evicted` keyspace event, counts in `evicted_keys` and tells WATCH and tracking. The work per
 * call is bounded by `maxmemory-eviction-tenacity` as in Redis; what is left goes on in a timer.
 *
 * @module
 */

import type { Server } from "../server.ts";
import type { Database } from "../keyspace/database.ts";
import { idleSeconds, lfuCounter } from "../keyspace/access.ts";
import { N } from "../notify.ts";
import { lazyFreed } from "./lazyfree.ts";

/** The outcomes of an eviction check (Redis's EVICT_OK, EVICT_RUNNING, EVICT_FAIL). */
export const Evict = { ok: 0, running: 1, fail: 2 } as const;

/** One of {@linkcode Evict}'s values. */
export type EvictResult = typeof Evict[keyof typeof Evict];

const POOL_SIZE = 16;

/** Flags of each policy. */
const LRU = 1;
const LFU = 2;
const TTL = 4;
const RANDOM = 8;
const ALLKEYS = 16;

const POLICIES: Record<string, number> = {
  "noeviction": 0,
  "allkeys-lru": LRU | ALLKEYS,
  "allkeys-lfu": LFU | ALLKEYS,
  "allkeys-random": RANDOM | ALLKEYS,
  "volatile-lru": LRU,
  "volatile-lfu": LFU,
  "volatile-random": RANDOM,
  "volatile-ttl": TTL,
};

/** Redis's evictionTimeLimitUs: tenacity 0-10 is 0-500 µs, then +15% per step, 100 unlimited. */
export function evictionTimeLimitUs(tenacity: number): number {
  if (tenacity <= 10) return 50 * tenacity;
  if (tenacity < 100) return Math.floor(500 * Math.pow(1.15, tenacity - 10));
  return Infinity;
}

/** The eviction state of one server. */
export class Evictor {
  private readonly poolKey: Array<string | undefined> = new Array(POOL_SIZE).fill(undefined);
  private readonly poolIdle = new Float64Array(POOL_SIZE);
  private readonly poolDb = new Int32Array(POOL_SIZE);
  private nextDb = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Round-robin cursors over each database's expires table (volatile-* sampling). */
  private readonly cursors = new Map<Database, number>();
  /** Since when used memory has been over the limit (ms of performance.now), or 0. */
  private exceededSince = 0;
  /** Total time spent over the limit, ms (INFO total_eviction_exceeded_time). */
  private exceededTotal = 0;

  constructor(private readonly server: Server) {}

  /** INFO stats `total_eviction_exceeded_time` and `current_eviction_exceeded_time` (ms). */
  exceededTimes(): { total: number; current: number } {
    const current = this.exceededSince === 0 ? 0 : performance.now() - this.exceededSince;
    return {
      total: Math.floor(this.exceededTotal + current),
      current: Math.floor(current),
    };
  }

  /** Resets the counters CONFIG RESETSTAT resets. */
  resetStats(): void {
    this.exceededTotal = 0;
    if (this.exceededSince !== 0) this.exceededSince = performance.now();
  }

  /**
   * True when evicting is allowed now (not on a replica that ignores maxmemory, not while a script
   * is busy or clients are paused).
   */
  private safe(): boolean {
    const s = this.server;
    if (s.busy !== undefined || s.pause.active) return false;
    if (s.isReplica() && s.config.bool("replica-ignore-maxmemory")) return false;
    return true;
  }

  /**
   * Frees memory by the policy until used memory fits `maxmemory` or the time budget runs out.
   * Call with no command running (effects go out at once).
   */
  perform(): EvictResult {
    const s = this.server;
    const maxmemory = s.config.num("maxmemory");
    if (maxmemory === 0 || !this.safe()) return Evict.ok;
    const meter = s.memory;
    const used = meter.used();
    const notCounted = meter.notCounted;
    if (used <= maxmemory || used - notCounted <= maxmemory) return this.metrics(Evict.ok);
    const policy = POLICIES[s.config.str("maxmemory-policy")] ?? 0;
    if (policy === 0) return this.metrics(Evict.fail);
    const toFree = used - notCounted - maxmemory;
    const limitUs = evictionTimeLimitUs(s.config.num("maxmemory-eviction-tenacity"));
    const start = performance.now();
    const lazy = s.config.bool("lazyfree-lazy-eviction");
    let freed = 0;
    let keys = 0;
    let result: EvictResult = Evict.ok;
    while (freed < toFree) {
      const pick = (policy & RANDOM) !== 0 ? this.randomPick(policy) : this.poolPick(policy);
      if (pick === undefined) {
        result = Evict.fail;
        break;
      }
      const db = s.dbs[pick.db]!;
      const before = db.bytes;
      const value = lazy ? db.peek(pick.key) : undefined;
      // A key found expired on the way is deleted as expired (and propagated as such) instead.
      const deleted = s.untracked(() => db.delete(pick.key));
      freed += before - db.bytes;
      if (deleted) {
        if (lazy) lazyFreed(s, value);
        s.stats.evictedKeys++;
        s.notify(db, N.evicted, "evicted", pick.key);
        s.propagateNow(db.id, [lazy ? "UNLINK" : "DEL", pick.key]);
      }
      keys++;
      if ((keys & 15) === 0 && (performance.now() - start) * 1000 > limitUs) {
        this.startTimer();
        result = Evict.running;
        break;
      }
    }
    if (result === Evict.ok && this.timer !== undefined) result = Evict.running;
    return this.metrics(result);
  }

  /** Keeps evicting on a timer (Redis's evictionTimeProc), e.g. after CONFIG SET maxmemory. */
  startTimer(): void {
    if (this.timer !== undefined || this.server.isClosing) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.server.running || this.server.isClosing) return this.startTimer();
      this.server.tick();
      if (this.perform() === Evict.running) this.startTimer();
    }, 0);
  }

  /** Stops the timer (server closing). */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private metrics(result: EvictResult): EvictResult {
    if (result === Evict.ok) {
      if (this.exceededSince !== 0) {
        this.exceededTotal += performance.now() - this.exceededSince;
        this.exceededSince = 0;
      }
    } else if (this.exceededSince === 0) {
      this.exceededSince = performance.now();
    }
    return result;
  }

  /** allkeys-random / volatile-random: a random key of the next database that has one. */
  private randomPick(policy: number): { db: number; key: string } | undefined {
    const dbs = this.server.dbs;
    for (let i = 0; i < dbs.length; i++) {
      const j = (++this.nextDb) % dbs.length;
      const db = dbs[j]!;
      if ((policy & ALLKEYS) !== 0) {
        const key = db.dict.randomKey();
        if (key !== undefined) return { db: j, key };
      } else if (db.expires.size !== 0) {
        const key = this.nextVolatile(db)?.[0];
        if (key !== undefined) return { db: j, key };
      }
    }
    return undefined;
  }

  /** The next entry of `db`'s expires table, in turn. */
  private nextVolatile(db: Database): [string, number] | undefined {
    const expires = db.expires;
    const i = expires.nextDown(this.cursors.get(db) ?? 0);
    if (i < 0) return undefined;
    this.cursors.set(db, i);
    return [expires.keyAt(i), expires.valueAt(i)];
  }

  /** LRU, LFU and TTL policies: fill the pool from every database, evict its best live entry. */
  private poolPick(policy: number): { db: number; key: string } | undefined {
    const dbs = this.server.dbs;
    const keys = this.poolKey;
    for (;;) {
      let total = 0;
      for (let i = 0; i < dbs.length; i++) {
        const db = dbs[i]!;
        const n = (policy & ALLKEYS) !== 0 ? db.dict.size : db.expires.size;
        if (n === 0) continue;
        total += n;
        this.populate(i, db, policy);
      }
      if (total === 0) return undefined;
      for (let k = POOL_SIZE - 1; k >= 0; k--) {
        const key = keys[k];
        if (key === undefined) continue;
        const db = dbs[this.poolDb[k]!]!;
        keys[k] = undefined;
        this.poolIdle[k] = 0;
        const live = (policy & ALLKEYS) !== 0 ? db.dict.has(key) : db.expires.has(key);
        if (live) return { db: db.id, key };
      }
    }
  }

  /** Samples keys of `db` into the pool, ordered by ascending score (best candidate last). */
  private populate(dbIndex: number, db: Database, policy: number): void {
    const s = this.server;
    const samples = s.config.num("maxmemory-samples");
    const now = s.time;
    const decay = s.config.num("lfu-decay-time");
    const dict = db.dict;
    for (let j = 0; j < samples; j++) {
      let key: string;
      let score: number;
      if ((policy & ALLKEYS) !== 0) {
        const i = dict.randomIndex();
        if (i < 0) return;
        key = dict.keyAt(i);
        score = this.score(policy, dict.stampAt(i), now, decay, 0);
      } else {
        const e = this.nextVolatile(db);
        if (e === undefined) return;
        key = e[0];
        score = this.score(policy, (policy & TTL) !== 0 ? 0 : dict.stampOf(key), now, decay, e[1]);
      }
      this.insert(dbIndex, key, score);
    }
  }

  /** A candidate's score: higher is evicted first. */
  private score(policy: number, stamp: number, now: number, decay: number, at: number): number {
    if ((policy & LRU) !== 0) return idleSeconds(stamp, now) * 1000;
    if ((policy & LFU) !== 0) return 255 - lfuCounter(stamp, now, decay);
    return Number.MAX_SAFE_INTEGER - at;
  }

  /** Inserts a candidate in the pool, as Redis's evictionPoolPopulate does. */
  private insert(dbIndex: number, key: string, score: number): void {
    const keys = this.poolKey;
    const idle = this.poolIdle;
    const dbs = this.poolDb;
    const last = POOL_SIZE - 1;
    let k = 0;
    while (k < POOL_SIZE && keys[k] !== undefined && idle[k]! < score) k++;
    if (k === 0 && keys[last] !== undefined) return;
    if (k < POOL_SIZE && keys[k] === undefined) {
      // An empty slot: nothing to move.
    } else if (keys[last] === undefined) {
      // Room on the right: shift k.. one step right.
      for (let i = last; i > k; i--) {
        keys[i] = keys[i - 1];
        idle[i] = idle[i - 1]!;
        dbs[i] = dbs[i - 1]!;
      }
    } else {
      // Full: drop the worst (leftmost) and insert at k - 1.
      k--;
      for (let i = 0; i < k; i++) {
        keys[i] = keys[i + 1];
        idle[i] = idle[i + 1]!;
        dbs[i] = dbs[i + 1]!;
      }
    }
    keys[k] = key;
    idle[k] = score;
    dbs[k] = dbIndex;
  }
}
