import { test } from "node:test";
import assert from "node:assert/strict";
import { type OrderIndex, OrderTree } from "../core/types/order_tree.ts";
import {
  deleteRangeByLex,
  deleteRangeByScore,
  firstRankInLex,
  firstRankInRange,
  lastRankInLex,
  lastRankInRange,
  LEX_MAX,
} from "../core/types/zset_range_spec.ts";
import { ZADD_GT, ZADD_INCR, ZADD_OUT, ZADD_XX, ZSet } from "../core/types/zset.ts";
import { prng } from "./redis_compare.ts";

type El = [number, string];

function cmp(a: El, b: El): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

function listOf(t: OrderIndex): El[] {
  const out: El[] = [];
  for (const c = t.first(); c.valid; c.next()) out.push([c.score, c.member]);
  return out;
}

function reversedOf(t: OrderIndex): El[] {
  const out: El[] = [];
  for (const c = t.last(); c.valid; c.prev()) out.push([c.score, c.member]);
  return out.reverse();
}

/** Checks order both ways, every rank, access by rank and score-range ranks against `model`. */
function checkTree(t: OrderTree, model: El[], rand: () => number): void {
  model.sort(cmp);
  assert.equal(t.length, model.length);
  assert.deepEqual(listOf(t), model);
  assert.deepEqual(reversedOf(t), model);
  model.forEach(([s, m], i) => {
    assert.equal(t.rankOf(s, m), i + 1);
    if (i % 7 === 0) assert.equal(t.at(i + 1).member, m);
  });
  assert.equal(t.at(model.length + 1).valid, false);
  assert.equal(t.at(0).valid, false);
  for (let k = 0; k < 20; k++) {
    const lo = Math.floor(rand() * 500) - 250;
    const r = { min: lo, max: lo + rand() * 30, minex: rand() < 0.5, maxex: rand() < 0.5 };
    const inRange = (e: El) =>
      (r.minex ? e[0] > r.min : e[0] >= r.min) && (r.maxex ? e[0] < r.max : e[0] <= r.max);
    const first = model.findIndex(inRange);
    const last = model.length - 1 - model.slice().reverse().findIndex(inRange);
    assert.equal(firstRankInRange(t, r), first + 1);
    assert.equal(lastRankInRange(t, r), first < 0 ? 0 : last + 1);
  }
}

test("OrderTree matches a sorted array under random inserts, updates and deletes", () => {
  for (const seed of [1, 2, 3]) {
    const rand = prng(seed);
    const t = new OrderTree();
    const model: El[] = [];
    let next = 0;
    let largest = 0;
    for (let step = 0; step < 60000; step++) {
      // Phases of growth and shrinkage, so that leaves split, merge and disappear.
      const growing = Math.floor(step / 20000) % 2 === 0;
      const op = Math.floor(rand() * 10);
      const score = () => Math.floor(rand() * 500) - 250 + (rand() < 0.3 ? 0.5 : 0);
      if ((growing ? op < 8 : op < 1) || model.length === 0) {
        const m = `m${next++}`;
        const s = score();
        t.insert(s, m);
        model.push([s, m]);
      } else if (op < 7) {
        const i = Math.floor(rand() * model.length);
        const [s, m] = model[i]!;
        const ns = score();
        t.updateScore(s, m, ns);
        model[i] = [ns, m];
      } else if (op < 9) {
        const i = Math.floor(rand() * model.length);
        const [s, m] = model[i]!;
        assert.equal(t.delete(s, m), true);
        assert.equal(t.delete(s, m), false);
        model.splice(i, 1);
      } else if (rand() < 0.1) {
        model.sort(cmp);
        const start = 1 + Math.floor(rand() * model.length);
        const end = Math.min(model.length, start + Math.floor(rand() * 100));
        const gone: string[] = [];
        t.deleteRangeByRank(start, end, (m) => gone.push(m));
        assert.deepEqual(gone, model.slice(start - 1, end).map((e) => e[1]));
        model.splice(start - 1, end - start + 1);
      }
      largest = Math.max(largest, model.length);
      if (step % 2000 === 0) checkTree(t, model, rand);
    }
    checkTree(t, model, rand);
    assert.ok(largest > 4096, `a tree of three levels was reached (${largest})`);
  }
});

test("OrderTree grown to 200k elements shrinks back to empty in random order", () => {
  const rand = prng(9);
  const t = new OrderTree();
  const model: El[] = [];
  for (let i = 0; i < 200000; i++) {
    const s = Math.floor(rand() * 1000);
    t.insert(s, `k${i}`);
    model.push([s, `k${i}`]);
  }
  checkTree(t, model, rand);
  for (let i = model.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [model[i], model[j]] = [model[j]!, model[i]!];
  }
  while (model.length > 0) {
    const [s, m] = model.pop()!;
    assert.equal(t.delete(s, m), true);
    if (model.length % 40000 === 0 || model.length < 100) checkTree(t, model, rand);
  }
  assert.equal(t.first().valid, false);
  t.insert(1, "again");
  assert.deepEqual(listOf(t), [[1, "again"]]);
});

test("OrderTree range ranks follow inclusive and exclusive bounds", () => {
  const t = new OrderTree();
  [1, 2, 2, 3, 5].forEach((s, i) => t.insert(s, `m${i}`));
  const r = (min: number, max: number, minex = false, maxex = false) => [
    firstRankInRange(t, { min, max, minex, maxex }),
    lastRankInRange(t, { min, max, minex, maxex }),
  ];
  assert.deepEqual(r(2, 3), [2, 4]);
  assert.deepEqual(r(2, 3, true), [4, 4]);
  assert.deepEqual(r(2, 3, true, true), [0, 0]);
  assert.deepEqual(r(-Infinity, Infinity), [1, 5]);
  assert.deepEqual(r(4, 4), [0, 0]);
  assert.deepEqual(r(3, 2), [0, 0]);
  assert.deepEqual(r(5, 5, false, true), [0, 0]);
  const lex = new OrderTree();
  for (const m of ["", "a", "b", "c", "\xff"]) lex.insert(0, m);
  const l = (min: string, max: string, minex = false, maxex = false) => [
    firstRankInLex(lex, { min, max, minex, maxex }),
    lastRankInLex(lex, { min, max, minex, maxex }),
  ];
  assert.deepEqual(l("", LEX_MAX, false, true), [1, 5]);
  assert.deepEqual(l("a", "c", true), [3, 4]);
  assert.deepEqual(l("b", "b", false, true), [0, 0]);
  assert.deepEqual(l("\xff", LEX_MAX), [5, 5]);
  const gone: string[] = [];
  assert.equal(
    deleteRangeByLex(lex, { min: "a", max: "b", minex: false, maxex: false }, (m) => {
      gone.push(m);
    }),
    2,
  );
  assert.deepEqual(gone, ["a", "b"]);
  assert.equal(deleteRangeByScore(t, { min: 2, max: 2, minex: false, maxex: false }, () => {}), 2);
  assert.deepEqual(listOf(t).map((e) => e[0]), [1, 3, 5]);
});

test("ZSet.add follows zsetAdd: NX/XX/GT/LT/INCR outcomes and NaN", () => {
  const config = { num: () => 128 };
  const z = new ZSet(true);
  assert.equal(z.add(1, "a", 0, config), ZADD_OUT.added);
  assert.equal(z.add(1, "a", 0, config), 0);
  assert.equal(z.add(0, "a", ZADD_GT, config), ZADD_OUT.nop);
  assert.equal(z.add(5, "a", ZADD_GT | ZADD_XX, config), ZADD_OUT.updated);
  assert.equal(z.add(1, "b", ZADD_XX, config), ZADD_OUT.nop);
  assert.equal(z.add(Infinity, "a", ZADD_INCR, config), ZADD_OUT.updated);
  assert.equal(z.add(-Infinity, "a", ZADD_INCR, config), ZADD_OUT.nan);
  assert.equal(z.score("a"), Infinity);
  assert.equal(z.rank("a", false), 0);
  assert.equal(z.rank("a", true), 0);
  assert.equal(z.rank("zz", false), -1);
});

test("ZSet encoding turns to skiplist past either threshold, and never back", () => {
  const limits = { entries: 3, value: 5 };
  const config = { num: (name: string) => (name.endsWith("entries") ? 3 : 5) };
  const z = ZSet.forFirst(limits, 1);
  for (const m of ["a", "b", "c"]) z.add(1, m, 0, config);
  assert.equal(z.encoding(), "listpack");
  z.add(1, "d", 0, config);
  assert.equal(z.encoding(), "skiplist");
  z.delete("d");
  z.delete("c");
  assert.equal(z.encoding(), "skiplist");
  const long = ZSet.forFirst(limits, 1);
  long.add(1, "x", 0, config);
  long.add(1, "toolong", 0, config);
  assert.equal(long.encoding(), "skiplist");
  assert.equal(ZSet.forFirst(limits, 6).encoding(), "skiplist");
  assert.equal(ZSet.forFirst({ entries: 0, value: 64 }, 1).encoding(), "skiplist");
  assert.equal(ZSet.fromElements(["a", "b"], [1, 2], limits).encoding(), "listpack");
  assert.equal(
    ZSet.fromElements(["a", "b", "c", "d"], [1, 2, 3, 4], limits).encoding(),
    "skiplist",
  );
  assert.equal(ZSet.fromElements(["a"], [1]).encoding(), "skiplist");
});

test("the listpack encoding keeps -0 as 0, the skiplist encoding keeps it", () => {
  const config = { num: () => 128 };
  const lp = new ZSet(true);
  lp.add(-0, "a", 0, config);
  assert.ok(Object.is(lp.newScore, -0));
  assert.ok(Object.is(lp.score("a"), 0));
  const sl = new ZSet(false);
  sl.add(-0, "a", 0, config);
  assert.ok(Object.is(sl.score("a"), -0));
});

test("ZSet.clone is deep and keeps the encoding", () => {
  const config = { num: () => 128 };
  const z = new ZSet(false);
  for (let i = 0; i < 100; i++) z.add(i % 7, `m${i}`, 0, config);
  const c = z.clone();
  assert.equal(c.encoding(), "skiplist");
  assert.deepEqual(listOf(c.list), listOf(z.list));
  c.delete("m0");
  assert.equal(z.size, 100);
  assert.equal(c.size, 99);
  assert.equal(c.rank("m99", false), z.rank("m99", false) - 1);
});
