import assert from "node:assert/strict";
import { test } from "node:test";
import { setImmediate } from "node:timers";
import { TurnClock } from "../core/clock.ts";

/** Spins until the wall clock has moved past `ms` (bounded: at most ~1 s). */
function waitPast(ms: number): void {
  const limit = performance.now() + 1000;
  while (Date.now() <= ms && performance.now() < limit) { /* spin */ }
}

test("one reading serves the reads of one event-loop turn, not the next turn's", async () => {
  const clock = new TurnClock();
  const first = clock.read(true);
  waitPast(first);
  assert.equal(clock.read(true), first, "same turn: the reading is reused");
  assert.ok(clock.read(false) > first, "a read that may not reuse reads the clock");
  const second = clock.read(true);
  waitPast(second);
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(clock.read(true) > second, "a new turn reads the clock");
});

test("stale() and the reuse cap force a new reading within a turn", () => {
  const clock = new TurnClock();
  const first = clock.read(true);
  waitPast(first);
  clock.stale();
  const second = clock.read(true);
  assert.ok(second > first);
  waitPast(second);
  let reads = 0;
  while (clock.read(true) === second && reads < 1000) reads++;
  assert.equal(reads, 64, "a reading is reused at most 64 times");
});
