/**
 * Command timing per batch of input. Commands that are not O(1) are timed one by one (slow log,
 * commandstats); O(1) commands are not, because a high-resolution timer read costs as much as a
 * GET on Deno: at the end of a batch, the time not spent in individually timed commands is
 * shared out among them. The batch itself is timed with the millisecond wall clock: over many
 * batches the differences add up to the true time.
 *
 * Even the wall clock costs 50–200 ns a read on a virtual machine (as much as the rest of a
 * one-command batch's bookkeeping), so only one batch in {@linkcode SAMPLE_EVERY} reads it at its
 * end. The others share out the time per call those sampled batches measured: the totals stay
 * unbiased estimates, and the call counts stay exact.
 *
 * @module
 */

import type { Command } from "./command.ts";
import { recordLatency } from "./latency.ts";

/** One batch in this many reads the clock at its end. */
export const SAMPLE_EVERY = 16;
/** The sampled totals are halved past this many calls, so the estimate follows the load. */
const DECAY_CALLS = 1 << 20;

/** The timing state of the current batch. */
export class BatchTimer {
  /** Wall time (ms) when the batch started. */
  private start = 0;
  /** µs spent in individually timed top-level commands of the batch. */
  private timedUsec = 0;
  /**
   * O(1) commands of the batch, each listed once (their `batchCalls` counts the calls), in the
   * first {@linkcode untimedCount} slots: the array is reused, never truncated (a length store
   * is a runtime call on V8, for every batch).
   */
  private readonly untimed: Command[] = [];
  private untimedCount = 0;
  private untimedCalls = 0;
  /** Batches ended with untimed calls, modulo SAMPLE_EVERY. */
  private batches = 0;
  /** µs and untimed calls of the sampled batches (decayed). */
  private sampledUsec = 0;
  private sampledCalls = 0;

  /** True when the next batch reads the clock at its end: its start must be a fresh reading. */
  get sampling(): boolean {
    return this.batches % SAMPLE_EVERY === 0;
  }

  /** Starts a batch at wall time `nowMs` (only needed when {@linkcode sampling}). */
  begin(nowMs: number): void {
    this.start = nowMs;
    this.timedUsec = 0;
  }

  /** A top-level command timed on its own took `usec`. */
  timed(usec: number): void {
    this.timedUsec += usec;
  }

  /** An O(1) command ran without its own timing. */
  untimedCall(cmd: Command): void {
    if (cmd.batchCalls++ === 0) this.untimed[this.untimedCount++] = cmd;
    this.untimedCalls++;
  }

  /**
   * Ends the batch: shares its remaining time out among the untimed calls (in their latency
   * histograms too when `track`). A sampled batch measures that time; the others use the time
   * per call the sampled ones measured.
   */
  end(track: boolean): void {
    const untimed = this.untimed;
    const n = this.untimedCount;
    if (n === 0) return;
    const calls = this.untimedCalls;
    let share: number;
    if (this.batches++ % SAMPLE_EVERY === 0) {
      const usec = Math.max(0, (Date.now() - this.start) * 1000 - this.timedUsec);
      if (this.sampledCalls >= DECAY_CALLS) {
        this.sampledUsec /= 2;
        this.sampledCalls /= 2;
      }
      this.sampledUsec += usec;
      this.sampledCalls += calls;
      share = usec / calls;
    } else {
      share = this.sampledUsec / this.sampledCalls;
    }
    for (let i = 0; i < n; i++) {
      const cmd = untimed[i]!;
      cmd.stats.usec += share * cmd.batchCalls;
      if (track) recordLatency(cmd, share, cmd.batchCalls);
      cmd.batchCalls = 0;
    }
    this.untimedCount = 0;
    this.untimedCalls = 0;
  }
}
