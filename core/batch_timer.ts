/**
 * Command timing per batch of input. Commands that are not O(1) are timed one by one (slow log,
 * commandstats); O(1) commands are not, because a high-resolution timer read costs as much as a
 * GET on Deno: at the end of a batch, the time not spent in individually timed commands is
 * shared out among them. The batch itself is timed with the millisecond wall clock: over many
 * batches the differences add up to the true time.
 *
 * @module
 */

import type { Command } from "./command.ts";
import { recordLatency } from "./latency.ts";

/** The timing state of the current batch. */
export class BatchTimer {
  /** Wall time (ms) when the batch started. */
  private start = 0;
  /** µs spent in individually timed top-level commands of the batch. */
  private timedUsec = 0;
  /** O(1) commands of the batch, each listed once (their `batchCalls` counts the calls). */
  private readonly untimed: Command[] = [];
  private untimedCalls = 0;

  /** Starts a batch at wall time `nowMs`. */
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
    if (cmd.batchCalls++ === 0) this.untimed.push(cmd);
    this.untimedCalls++;
  }

  /**
   * Ends the batch: shares its remaining time out among the untimed calls (in their latency
   * histograms too when `track`).
   */
  end(track: boolean): void {
    const untimed = this.untimed;
    if (untimed.length === 0) return;
    const share = Math.max(0, (Date.now() - this.start) * 1000 - this.timedUsec) /
      this.untimedCalls;
    for (let i = 0; i < untimed.length; i++) {
      const cmd = untimed[i]!;
      cmd.stats.usec += share * cmd.batchCalls;
      if (track) recordLatency(cmd, share, cmd.batchCalls);
      cmd.batchCalls = 0;
    }
    untimed.length = 0;
    this.untimedCalls = 0;
  }
}
