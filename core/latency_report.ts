/**
 * The texts of LATENCY GRAPH (an ASCII sparkline, after Redis's sparkline.c) and LATENCY DOCTOR
 * (Redis 7.0's report and advice, word for word).
 *
 * @module
 */

import { LatencyMonitor, type LatencySeries } from "./latency.ts";
import type { Server } from "./server.ts";

const GRAPH_COLS = 80;
const ROWS = 4;
const FILL = "_o#";

interface Point {
  value: number;
  label: string;
}

/** Renders `points` in chunks of `GRAPH_COLS` columns, `ROWS` rows high, labels below. */
function sparkline(points: Point[], min: number, max: number): string {
  let out = "";
  for (let j = 0; j < points.length; j += GRAPH_COLS) {
    if (j !== 0) out += "\n";
    out += renderRange(points.slice(j, j + GRAPH_COLS), min, max);
  }
  return out;
}

function renderRange(points: Point[], min: number, max: number): string {
  const relmax = max - min === 0 ? 1 : max - min;
  const steps = FILL.length * ROWS;
  const labels = points.some((p) => p.label !== "");
  let out = "";
  for (let row = 0;; row++) {
    let loop = false;
    const chars = new Array<string>(points.length).fill(" ");
    for (let j = 0; j < points.length; j++) {
      const p = points[j]!;
      if (row < ROWS) {
        let step = Math.trunc(Math.trunc((p.value - min) * steps) / relmax);
        step = Math.min(steps - 1, Math.max(0, step));
        const idx = step - (ROWS - row - 1) * FILL.length;
        loop = true;
        if (idx >= 0 && idx < FILL.length) chars[j] = FILL[idx]!;
        else if (idx >= FILL.length) chars[j] = "|";
      } else {
        // One empty line between the graph and its labels.
        if (labels && row - ROWS < 1) {
          loop = true;
          chars.fill(" ");
          break;
        }
        const at = row - ROWS - 1;
        if (p.label.length > at) {
          loop = true;
          chars[j] = p.label[at]!;
        }
      }
    }
    if (!loop) return out;
    out += chars.join("") + "\n";
  }
}

/** LATENCY GRAPH's text for `event`. */
export function latencyGraph(server: Server, event: string, ts: LatencySeries): string {
  const now = Math.floor(server.clock.now() / 1000);
  const points: Point[] = [];
  let min = 0, max = 0;
  // The sequence's own range, updated as Redis's sparkline does (a new low is not a new high).
  let smin = 0, smax = 0;
  for (const s of LatencyMonitor.samples(ts)) {
    if (points.length === 0) {
      min = max = s.latency;
      smin = smax = s.latency;
    } else {
      if (s.latency > max) max = s.latency;
      if (s.latency < min) min = s.latency;
      if (s.latency < smin) smin = s.latency;
      else if (s.latency > smax) smax = s.latency;
    }
    const e = now - s.time;
    const label = e < 60
      ? `${e}s`
      : e < 3600
      ? `${Math.floor(e / 60)}m`
      : e < 86400
      ? `${Math.floor(e / 3600)}h`
      : `${Math.floor(e / 86400)}d`;
    points.push({ value: s.latency, label });
  }
  return `${event} - high ${max} ms, low ${min} ms (all time high ${ts.max} ms)\n` +
    "-".repeat(GRAPH_COLS) + "\n" + sparkline(points, smin, smax);
}

/** Average, mean deviation and period of an event's samples (Redis's analyzeLatencyForEvent). */
function analyze(server: Server, ts: LatencySeries) {
  const samples = LatencyMonitor.samples(ts);
  if (samples.length === 0) return { samples: 0, avg: 0, mad: 0, period: 0 };
  let sum = 0;
  let oldest = Infinity;
  for (const s of samples) {
    sum += s.latency;
    oldest = Math.min(oldest, s.time);
  }
  const avg = Math.floor(sum / samples.length);
  let period = Math.floor(server.clock.now() / 1000) - oldest;
  if (period === 0) period = 1;
  let dev = 0;
  for (const s of samples) dev += Math.abs(avg - s.latency);
  return { samples: samples.length, avg, mad: Math.floor(dev / samples.length), period };
}

const DISABLED =
  "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n";
const NO_SPIKES =
  "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n";

/** The advice texts, in the order Redis prints them. */
const ADVICE = {
  slowlogEnabled: (t: number) =>
    `- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than ${
      t * 1000
    }'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n`,
  slowlogTuning: (t: number) =>
    `- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than ${
      t * 1000
    }'.\n`,
  slowlogInspect:
    "- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n",
  scheduler:
    "- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n" +
    "  1) Lower the system load.\n" +
    "  2) Use a computer / VM just for Redis if you are running other software in the same system.\n" +
    '  3) Check if you have a "noisy neighbour" problem.\n' +
    "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n" +
    "  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n",
  relaxFsync:
    "- Your fsync policy is set to 'always'. It is very hard to get good performances with such a setup, if possible try to relax the fsync policy to 'onesec'.\n",
  hz:
    "- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n",
  largeObjects:
    "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n",
  massEviction:
    "- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying to evict keys. \n",
};

/**
 * LATENCY DOCTOR's report. redeno records the `command`, `fast-command` and `expire-cycle`
 * events; the advice for the events of forks and disks it never records is left out.
 */
export function latencyDoctor(server: Server): string {
  const events = server.latency.events;
  const threshold = server.latency.threshold;
  if (events.size === 0 && threshold === 0) return DISABLED;
  const slowlog = server.config.num("slowlog-log-slower-than");
  const want = new Set<keyof typeof ADVICE>();
  let advices = 0;
  let report = "";
  let n = 0;
  for (const [event, ts] of events) {
    n++;
    if (n === 1) {
      report +=
        "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n";
    }
    const ls = analyze(server, ts);
    report +=
      `${n}. ${event}: ${ls.samples} latency spikes (average ${ls.avg}ms, mean deviation ${ls.mad}ms, period ${
        (ls.period / ls.samples).toFixed(2)
      } sec). Worst all time event ${ts.max}ms.`;
    const e = event.toLowerCase();
    if (e === "command") {
      if (slowlog < 0) want.add("slowlogEnabled"), advices++;
      else if (Math.trunc(slowlog / 1000) > threshold) want.add("slowlogTuning"), advices++;
      want.add("slowlogInspect").add("largeObjects");
      advices += 2;
    } else if (e === "fast-command") want.add("scheduler"), advices++;
    else if (e === "aof-fsync-always") want.add("relaxFsync"), advices++;
    else if (e === "expire-cycle") want.add("hz").add("largeObjects"), advices += 2;
    else if (e === "eviction-del") want.add("largeObjects"), advices++;
    else if (e === "eviction-cycle") want.add("massEviction"), advices++;
    report += "\n";
  }
  if (n === 0 && advices === 0) return report + NO_SPIKES;
  if (advices === 0) {
    return report +
      "\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n";
  }
  report += "\nI have a few advices for you:\n\n";
  if (want.has("slowlogEnabled")) report += ADVICE.slowlogEnabled(threshold);
  if (want.has("slowlogTuning")) report += ADVICE.slowlogTuning(threshold);
  if (want.has("slowlogInspect")) report += ADVICE.slowlogInspect;
  if (want.has("scheduler")) report += ADVICE.scheduler;
  if (want.has("relaxFsync") && server.config.str("appendfsync") === "always") {
    report += ADVICE.relaxFsync;
  }
  if (want.has("hz") && server.config.num("hz") < 100) report += ADVICE.hz;
  if (want.has("largeObjects")) report += ADVICE.largeObjects;
  if (want.has("massEviction")) report += ADVICE.massEviction;
  return report;
}
