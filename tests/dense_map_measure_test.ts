/**
 * DenseMap's memory accounting: after any mix of sets, overwrites, in-place changes with
 * remeasure, deletes and clears, `bytes` equals the sizes of the entries measured from scratch.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { DenseMap, type Measure } from "../core/keyspace/dense_map.ts";
import { entryBytes } from "../core/memory/cost.ts";
import { createServer } from "../mod.ts";

type V = string | { n: number };

const measure: Measure<V> = {
  size: (k, v) => k.length + (typeof v === "string" ? v.length : v.n),
};

function fromScratch(m: DenseMap<V>): number {
  let n = 0;
  for (const [k, v] of m.entries()) n += measure.size(k, v);
  return n;
}

test("bytes always equals the entries measured from scratch", () => {
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const m = new DenseMap<V>(true, measure);
  for (let step = 0; step < 20000; step++) {
    const key = `k${rand(300)}`;
    switch (rand(6)) {
      case 0:
      case 1:
        m.set(key, "s".repeat(rand(50)));
        break;
      case 2:
        m.set(key, { n: rand(1000) });
        break;
      case 3: {
        const v = m.get(key);
        if (v !== undefined && typeof v !== "string") {
          v.n = rand(1000);
          m.remeasure(key);
        }
        break;
      }
      case 4:
        m.delete(key);
        break;
      default:
        if (rand(500) === 0) m.clear();
    }
    if (step % 97 === 0) assert.equal(m.bytes, fromScratch(m), `after step ${step}`);
  }
  assert.equal(m.bytes, fromScratch(m));
  for (const k of m.keys()) assert.equal(m.sizeOf(k), measure.size(k, m.get(k)!));
});

test("a database's bytes equal its entries measured afresh after set and sorted set writes", () => {
  // SADD, SREM, SMOVE, ZADD, ZREM and ZREMRANGEBYSCORE leave a value to be measured again only
  // when they change it
  // (Database.getTypedForChange): any mix of changes and no-ops must leave the total exact.
  const server = createServer();
  const db = server.dbs[0]!;
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const member = () => rand(3) === 0 ? String(rand(600)) : `m${rand(150)}`.repeat(1 + rand(3));
  for (let step = 0; step < 6000; step++) {
    const key = `k${rand(40)}`;
    const set = key.length % 2 === 0;
    const op = rand(4);
    if (set) {
      if (op === 3) server.dispatch(["SMOVE", key, `k${2 * rand(20)}`, member()]);
      else server.dispatch(op === 0 ? ["SREM", key, member()] : ["SADD", key, member(), member()]);
    } else if (op === 0) server.dispatch(["ZREM", key, member()]);
    else if (op === 3) server.dispatch(["ZREMRANGEBYSCORE", key, "3", String(3 + rand(6))]);
    else server.dispatch(["ZADD", key, String(rand(4)), member()]);
    if (step % 89 === 0) {
      let n = 0;
      for (const [k, v] of db.dict.entries()) n += entryBytes(k, v);
      assert.equal(db.bytes, n, `after step ${step}`);
    }
  }
});
