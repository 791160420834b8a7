import assert from "node:assert/strict";
import { test } from "node:test";
import { BatchTimer, SAMPLE_EVERY } from "../core/batch_timer.ts";
import type { Command } from "../core/command.ts";

/** The part of a command the batch timer touches. */
function fakeCommand(): Command {
  return { batchCalls: 0, stats: { usec: 0 } } as unknown as Command;
}

test("batches not sampled share out the time per call the sampled ones measured", () => {
  const timer = new BatchTimer();
  const cmd = fakeCommand();
  // A sampled batch that took 10 ms (or a little more) for 10 calls: ~1000 µs each.
  timer.begin(Date.now() - 10);
  for (let i = 0; i < 10; i++) timer.untimedCall(cmd);
  timer.end(false);
  const first = cmd.stats.usec;
  assert.ok(first >= 10_000 && first < 60_000, `sampled batch: ${first} µs`);
  // The next batches read no clock: each call gets the sampled time per call.
  for (let b = 1; b < SAMPLE_EVERY; b++) {
    timer.begin(Date.now());
    timer.untimedCall(cmd);
    timer.end(false);
  }
  assert.equal(cmd.stats.usec, first + (SAMPLE_EVERY - 1) * (first / 10));
  assert.equal(cmd.batchCalls, 0);
});

test("time spent in individually timed commands is not shared out again", () => {
  const timer = new BatchTimer();
  const cmd = fakeCommand();
  timer.begin(Date.now() - 10);
  timer.timed(1_000_000);
  timer.untimedCall(cmd);
  timer.end(false);
  assert.equal(cmd.stats.usec, 0);
});
