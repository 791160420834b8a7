/**
 * DenseMap's memory accounting: after any mix of sets, overwrites, in-place changes with
 * remeasure, deletes and clears, `bytes` equals the sizes of the entries measured from scratch.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { DenseMap, type Measure } from "../core/keyspace/dense_map.ts";

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
