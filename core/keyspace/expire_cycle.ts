/**
 * Active expiry, after Redis's `activeExpireCycle`: a few times a second, look at a small batch of
 * keys that have a TTL in each database and delete the expired ones; repeat on a database while
 * more than a tolerated share of its batch was expired, within a CPU-time budget. Keys that are
 * never read again are reclaimed without ever scanning the whole keyspace.
 *
 * Redis samples random keys of its expires dict; a JS Map cannot be sampled at random, so each
 * database keeps a persistent iterator that walks its expires map round-robin (iteration stays
 * valid while keys are added and deleted). The statistics the loop relies on are the same: the
 * share of expired keys in each batch estimates the share in the whole set.
 *
 * @module
 */

import type { Database } from "./database.ts";

/** Outcome of one cycle, for stats and tests. */
export interface ExpireCycleResult {
  sampled: number;
  expired: number;
  timedOut: boolean;
}

/**
 * Runs one active expiry cycle over `dbs`.
 *
 * @param dbs the databases
 * @param options `budgetMs`: CPU time allowed; `effort`: 1-10 like `active-expire-effort`;
 *   `clock`: wall time for the budget (performance.now by default)
 * @returns how many keys were looked at and expired
 */
export function activeExpireCycle(
  dbs: Database[],
  options: { budgetMs: number; effort: number; clock?: () => number },
): ExpireCycleResult {
  const clock = options.clock ?? (() => performance.now());
  const perLoop = 20 + 5 * (options.effort - 1);
  const acceptableStale = 10 - options.effort + 1; // percent
  const start = clock();
  const result: ExpireCycleResult = { sampled: 0, expired: 0, timedOut: false };
  for (const db of dbs) {
    if (db.expires.size === 0) continue;
    let iterations = 0;
    for (;;) {
      let sampled = 0;
      let expired = 0;
      let ttlSum = 0;
      let ttlCount = 0;
      const now = db.host.now();
      const limit = Math.min(perLoop, db.expires.size);
      const expires = db.expires;
      while (sampled < limit) {
        const i = expires.nextDown(db.expireCursor);
        if (i < 0) break;
        db.expireCursor = i;
        sampled++;
        const key = expires.keyAt(i);
        const at = expires.valueAt(i);
        if (at <= now) {
          if (db.expireIfNeeded(key)) expired++;
        } else {
          ttlSum += at - now;
          ttlCount++;
        }
      }
      result.sampled += sampled;
      result.expired += expired;
      if (ttlCount > 0) {
        const avg = ttlSum / ttlCount;
        db.avgTtl = db.avgTtl === 0 ? avg : (db.avgTtl / 50) * 49 + avg / 50;
      }
      if ((++iterations & 15) === 0 && clock() - start > options.budgetMs) {
        result.timedOut = true;
        return result;
      }
      if (sampled === 0 || expired * 100 <= sampled * acceptableStale) break;
    }
  }
  return result;
}
