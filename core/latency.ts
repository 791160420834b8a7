/**
 * The latency monitor and the per-command latency histograms, after Redis 7.0's latency.c.
 *
 * Monitor: with `latency-monitor-threshold` N > 0, an event (`command`, `fast-command`,
 * `expire-cycle`...) that lasted N ms or more is recorded in the event's time series: at most one
 * sample per second (the worst), the last 160 kept, and the all-time maximum.
 *
 * Histograms (LATENCY HISTOGRAM): every call's duration counts in a bucket of powers of two from
 * 1024 ns to 1 s, as Redis's HDR histogram read with a base-2 logarithmic iterator reports them:
 * each bucket is labelled with the highest value it holds, in µs (1, 2, 4, 8, 16, 33, 66...).
 *
 * @module
 */

import type { Command } from "./command.ts";
import type { Server } from "./server.ts";

/** Samples kept per event (Redis's LATENCY_TS_LEN). */
export const LATENCY_TS_LEN = 160;

/** One latency sample: when (Unix seconds) and how long (ms). */
export interface LatencySample {
  time: number;
  latency: number;
}

/** The time series of one event. */
export interface LatencySeries {
  /** The ring of samples; `time` 0 marks an empty slot. */
  samples: LatencySample[];
  /** Where the next sample goes. */
  idx: number;
  /** The all-time maximum (ms). */
  max: number;
}

/** Recorded latency events of one server. */
export class LatencyMonitor {
  /** Events by name, in the order first recorded. */
  readonly events: Map<string, LatencySeries> = new Map();

  /** `latency-monitor-threshold` (ms; 0: off), kept by the server. */
  threshold = 0;
  /** `latency-tracking`: per-command histograms are kept (LATENCY HISTOGRAM, INFO latencystats). */
  tracking = true;

  /** @param server the server whose latency is recorded */
  constructor(private readonly server: Server) {}

  /** Records `ms` for `event` when the threshold is set and reached. */
  addIfNeeded(event: string, ms: number): void {
    if (this.threshold !== 0 && ms >= this.threshold) this.add(event, Math.floor(ms));
  }

  /** Adds a sample (Redis's latencyAddSample): one per second per event, the worst. */
  add(event: string, ms: number): void {
    let ts = this.events.get(event);
    if (ts === undefined) {
      ts = { samples: [], idx: 0, max: 0 };
      for (let i = 0; i < LATENCY_TS_LEN; i++) ts.samples.push({ time: 0, latency: 0 });
      this.events.set(event, ts);
    }
    if (ms > ts.max) ts.max = ms;
    const now = Math.floor(this.server.clock.now() / 1000);
    const prev = ts.samples[(ts.idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN]!;
    if (prev.time === now) {
      if (ms > prev.latency) prev.latency = ms;
      return;
    }
    const s = ts.samples[ts.idx]!;
    s.time = now;
    s.latency = ms;
    ts.idx = (ts.idx + 1) % LATENCY_TS_LEN;
  }

  /** Forgets `event` (any case), or every event; returns how many were forgotten. */
  reset(event?: string): number {
    let n = 0;
    for (const name of [...this.events.keys()]) {
      if (event === undefined || name.toLowerCase() === event.toLowerCase()) {
        this.events.delete(name);
        n++;
      }
    }
    return n;
  }

  /** The samples of `ts`, oldest first. */
  static samples(ts: LatencySeries): LatencySample[] {
    const out: LatencySample[] = [];
    for (let j = 0; j < LATENCY_TS_LEN; j++) {
      const s = ts.samples[(ts.idx + j) % LATENCY_TS_LEN]!;
      if (s.time !== 0) out.push(s);
    }
    return out;
  }
}

/** Buckets of a histogram: 1024 ns · 2^k, k = 0..20 (the last one reaches past 1 s). */
const BUCKETS = 21;

/** The bucket of a duration in ns (clamped to 1024 ns .. 1 s, as Redis records it). */
function bucketOf(ns: number): number {
  // Bucket k ends before 1032 · 2^k ns: the HDR histogram (2 significant digits) counts a value
  // up to the end of its sub-bucket. The first k with ns < 1032 · 2^k is the bit length of
  // floor(ns / 1032).
  if (ns < 1032) return 0;
  const k = 32 - Math.clz32(Math.min(1e9, ns) / 1032);
  return k < BUCKETS ? k : BUCKETS - 1;
}

/** The label of bucket `k` in µs: the highest value it holds. */
export function bucketLabel(k: number): number {
  return Math.floor((1024 * 2 ** k + 8 * 2 ** k - 1) / 1000);
}

/**
 * Counts `calls` calls of `cmd` that took `usec` µs each in its histogram.
 *
 * @param cmd the command (subcommands have their own)
 * @param usec the duration of each call
 * @param calls how many calls
 */
export function recordLatency(cmd: Command, usec: number, calls = 1): void {
  const h = cmd.latency ??= new Array<number>(BUCKETS).fill(0);
  h[bucketOf(usec * 1000)]! += calls;
}

/**
 * The latency (µs) under which `percentile` % of `cmd`'s calls fall, as Redis's HDR histogram
 * answers it (the highest value of the bucket reached); redeno's buckets are powers of two.
 */
export function latencyPercentile(cmd: Command, percentile: number): number {
  const h = cmd.latency!;
  let total = 0;
  for (const n of h) total += n;
  const want = Math.max(1, Math.floor((percentile / 100) * total + 0.5));
  let seen = 0;
  for (let k = 0; k < BUCKETS; k++) {
    seen += h[k]!;
    if (seen >= want) return (1024 * 2 ** k + 8 * 2 ** k - 1) / 1000;
  }
  return (1024 * 2 ** (BUCKETS - 1) + 8 * 2 ** (BUCKETS - 1) - 1) / 1000;
}

/**
 * The histogram of `cmd` as Redis replies it: the total of calls, and for each bucket where the
 * cumulative count grows, its label and that cumulative count.
 */
export function histogramEntries(cmd: Command): { calls: number; buckets: number[] } {
  const h = cmd.latency!;
  const buckets: number[] = [];
  let total = 0;
  for (let k = 0; k < BUCKETS; k++) {
    if (h[k] === 0) continue;
    total += h[k]!;
    buckets.push(bucketLabel(k), total);
  }
  return { calls: total, buckets };
}
