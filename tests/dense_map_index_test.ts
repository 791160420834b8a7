/**
 * DenseMap's own hash index (core/keyspace/hash_index.ts): after any mix of sets, deletes and
 * clears, with short keys (hashed by the index, colliding in its slots) and long ones (kept in a
 * native Map), every key is found at the position that holds it and no other key is found.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { DenseMap } from "../core/keyspace/dense_map.ts";
import { prng } from "./redis_compare.ts";

function check(m: DenseMap<number>, model: Map<string, number>, absent: string[]): void {
  assert.equal(m.size, model.size);
  for (const [k, v] of model) assert.equal(m.get(k), v, `key ${k}`);
  for (let i = 0; i < m.size; i++) assert.equal(model.get(m.keyAt(i)), m.valueAt(i));
  for (const k of absent) if (!model.has(k)) assert.equal(m.has(k), false, `absent ${k}`);
}

test("the index agrees with a Map through growth, deletion, shrinking and clears", () => {
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  // Short keys of every length up to the cut (binary ones included), and long ones past it.
  const keys: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const len = i % 10 === 0 ? 65 + rand(200) : rand(65);
    let k = "";
    for (let j = 0; j < len; j++) {
      k += String.fromCharCode(rand(4) === 0 ? rand(256) : 97 + rand(3));
    }
    keys.push(k + i);
  }
  keys.push("");
  const m = new DenseMap<number>(true);
  const model = new Map<string, number>();
  for (let step = 0; step < 60000; step++) {
    // Phases of mostly adding and mostly deleting, so the table grows and shrinks.
    const adding = Math.floor(step / 7000) % 2 === 0;
    const key = keys[rand(keys.length)]!;
    const op = rand(10);
    if (op < (adding ? 7 : 3)) {
      assert.equal(m.set(key, step), !model.has(key));
      model.set(key, step);
    } else if (op < 9) {
      assert.equal(m.delete(key), model.delete(key));
    } else if (rand(2000) === 0) {
      m.clear();
      model.clear();
    }
    if (step % 1999 === 0) check(m, model, keys);
  }
  check(m, model, keys);
  for (const k of [...model.keys()]) {
    assert.equal(m.delete(k), true);
    model.delete(k);
  }
  check(m, model, keys);
});

test("a nextDown walk reaches, in one pass, every entry present for the whole pass", () => {
  const rnd = prng(7);
  for (let round = 0; round < 20; round++) {
    const m = new DenseMap<number>();
    const n = 50 + Math.floor(rnd() * 200);
    for (let i = 0; i < n; i++) m.set(`k${round}:${i}`, i);
    const survivors = new Set(m.keys());
    const seen = new Set<string>();
    // One pass: from the top down to position 0, deleting (the visited entry or another one)
    // and adding entries as it goes, as the expire cycle and the writes between its steps do.
    let cursor = 0;
    for (let step = 0; step < 10 * n; step++) {
      const i = m.nextDown(cursor);
      assert.ok(i >= 0 && i < m.size);
      cursor = i;
      const key = m.keyAt(i);
      seen.add(key);
      const r = rnd();
      if (r < 0.3) {
        m.delete(key);
        survivors.delete(key);
      } else if (r < 0.5 && m.size > 1) {
        const other = m.keyAt(Math.floor(rnd() * m.size));
        m.delete(other);
        survivors.delete(other);
      } else if (r < 0.6) {
        m.set(`new${round}:${step}`, step);
      }
      if (i === 0) break;
    }
    for (const k of survivors) assert.ok(seen.has(k), `round ${round}: ${k} never reached`);
  }
  const empty = new DenseMap<number>();
  assert.equal(empty.nextDown(0), -1);
  empty.set("a", 1);
  assert.equal(empty.nextDown(0), 0);
  assert.equal(empty.nextDown(5), 0, "a cursor past the end starts again from the top");
});
