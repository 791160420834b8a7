/**
 * The command line's idle collection: after the heap grew, a quiet second brings one full
 * collection, and a busy one does not.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { getHeapStatistics } from "node:v8";
import { createServer } from "../mod.ts";
import { startIdleGc } from "../core/memory/idle_gc.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("a quiet second after the heap grew brings one full collection", async () => {
  const s = createServer();
  const gc = startIdleGc(s);
  s.cron();
  // 80 MB of values: the heap grew well past the threshold (32 MB, a quarter).
  for (let i = 0; i < 80_000; i++) {
    s.dispatch(["SET", `k${i}`, Buffer.alloc(1000, i).toString("latin1")]);
  }
  // Busy: more than a handful of commands in the window, so no collection.
  for (let i = 0; i < 100; i++) s.dispatch(["PING"]);
  await sleep(1100);
  s.cron();
  assert.equal(gc.collections, 0);
  await sleep(1100);
  s.cron();
  assert.equal(gc.collections, 1);
  assert.ok(getHeapStatistics().used_heap_size > 80_000_000, "live data stays");
  // Quiet again, but the heap has not grown since: no second collection.
  await sleep(1100);
  s.cron();
  assert.equal(gc.collections, 1);
  await s.close();
});
