/**
 * LATENCY beside redis-server 7.0.15: HELP, errors and empty replies byte for byte; HISTOGRAM's
 * shape and call counts; the monitor's events (LATEST, HISTORY, GRAPH, DOCTOR) after a slow
 * command, compared with digits masked (durations and times differ between two servers).
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { RawConn, startServer } from "./helpers.ts";
import { compareWithRedis, pipeline, startRedis } from "./redis_compare.ts";
import { missing } from "./redis_tools.ts";
import { client } from "./replication_helpers.ts";

const skip = missing("redis-server");

test("LATENCY HELP, errors and empty replies match redis-server", { skip }, async () => {
  await compareWithRedis([
    ["LATENCY", "HELP"],
    ["LATENCY", "HELP", "xxx"],
    ["LATENCY", "foo"],
    ["LATENCY", "HISTORY", "blabla"],
    ["LATENCY", "RESET", "blabla"],
    ["LATENCY", "RESET"],
    ["LATENCY", "LATEST"],
    ["LATENCY", "GRAPH", "command"],
    ["LATENCY", "DOCTOR"],
    ["CONFIG", "SET", "latency-monitor-threshold", "200"],
    ["LATENCY", "DOCTOR"],
    ["LATENCY", "HISTOGRAM", "blabla", "blabla2"],
  ], false);
});

test("LATENCY HISTOGRAM names the commands called and counts their calls, as redis-server", {
  skip,
}, async () => {
  const redis = await startRedis();
  const ours = await startServer();
  try {
    const run = async (port: number) => {
      const c = client(port);
      await c.call("CONFIG", "RESETSTAT");
      await c.set("a", "b");
      await c.set("c", "d");
      await c.get("a");
      await c.call("CLIENT", "ID");
      await c.call("CLIENT", "LIST");
      // Name -> calls, and the bucket labels are increasing with growing cumulative counts.
      const shape = (reply: unknown) => {
        const flat = reply as unknown[];
        const out: Array<[string, unknown]> = [];
        for (let i = 0; i < flat.length; i += 2) {
          const h = flat[i + 1] as unknown[];
          const buckets = h[3] as number[];
          for (let j = 2; j < buckets.length; j += 2) {
            assert.ok(buckets[j]! > buckets[j - 2]! && buckets[j + 1]! > buckets[j - 1]!);
          }
          assert.equal(buckets[buckets.length - 1], h[1]);
          out.push([flat[i] as string, h.slice(0, 3)]);
        }
        return out.sort();
      };
      const all = shape(await c.call("LATENCY", "HISTOGRAM"));
      const some = shape(await c.call("LATENCY", "HISTOGRAM", "blabla", "set", "client"));
      const one = shape(await c.call("LATENCY", "HISTOGRAM", "client|id"));
      c.disconnect();
      return { all, some, one };
    };
    const want = await run(redis.port);
    const got = await run(ours.port);
    assert.deepEqual(got, want);
    assert.deepEqual(got.some, [
      ["client|id", ["calls", 1, "histogram_usec"]],
      ["client|list", ["calls", 1, "histogram_usec"]],
      ["set", ["calls", 2, "histogram_usec"]],
    ]);
  } finally {
    redis.stop();
    await ours.close();
  }
});

/** Digits masked: durations and times differ, the texts must not. */
const mask = (s: string) => s.replace(/\d+/g, "N");

test("a slow command is a `command` latency event: LATEST, HISTORY, GRAPH, DOCTOR", {
  skip,
}, async () => {
  const redis = await startRedis(["--enable-debug-command", "yes"]);
  const ours = await startServer({ config: { "enable-debug-command": "yes" } });
  try {
    const seen: string[][] = [];
    for (const port of [redis.port, ours.port]) {
      const c = await RawConn.connect(port);
      const [ok] = await pipeline(c, [["CONFIG", "SET", "latency-monitor-threshold", "10"]]);
      assert.equal(ok, "+OK\r\n");
      await pipeline(c, [["DEBUG", "SLEEP", "0.03"]]);
      const replies = await pipeline(c, [
        ["LATENCY", "LATEST"],
        ["LATENCY", "HISTORY", "command"],
        ["LATENCY", "GRAPH", "command"],
        ["LATENCY", "DOCTOR"],
        ["LATENCY", "RESET"],
        ["LATENCY", "LATEST"],
      ]);
      seen.push(replies.map(mask));
      // The event's latency is at least the 30 ms the command slept.
      const latest = replies[0]!.split("\r\n");
      assert.equal(latest[3], "command");
      assert.ok(Number(latest[5]!.slice(1)) >= 30, replies[0]);
      c.close();
    }
    assert.deepEqual(seen[1], seen[0]);
  } finally {
    redis.stop();
    await ours.close();
  }
});

test("INFO latencystats and its percentiles directive, as redis-server", { skip }, async () => {
  const redis = await startRedis();
  const ours = await startServer();
  try {
    const seen: unknown[][] = [];
    for (const port of [redis.port, ours.port]) {
      const c = client(port);
      const lines = async () =>
        ((await c.info("latencystats")) as string).split("\r\n").filter((l) => l.includes(":"))
          // The values are durations: their shape only.
          .map((l) => l.replace(/=\d+\.\d{3}/g, "=D")).sort();
      const out: unknown[] = [];
      await c.call("CONFIG", "RESETSTAT");
      await c.call("CONFIG", "SET", "latency-tracking", "no");
      await c.set("a", "b");
      out.push(await lines());
      await c.call("CONFIG", "SET", "latency-tracking", "yes");
      await c.call("CONFIG", "RESETSTAT");
      await c.set("a", "b");
      await c.call("CLIENT", "ID");
      out.push(await lines());
      await c.call("CONFIG", "SET", "latency-tracking-info-percentiles", "0.0 50.0 100.0");
      out.push(await c.call("CONFIG", "GET", "latency-tracking-info-percentiles"));
      out.push(await lines());
      for (const bad of ["10.0 50.0 a", "10.0 50.0 101.0", "-1"]) {
        out.push(
          await c.call("CONFIG", "SET", "latency-tracking-info-percentiles", bad).catch((e) =>
            String(e.message)
          ),
        );
      }
      out.push(await c.call("CONFIG", "GET", "latency-tracking-info-percentiles"));
      await c.call("CONFIG", "RESETSTAT");
      out.push(await lines());
      c.disconnect();
      seen.push(out);
    }
    assert.deepEqual(seen[1], seen[0]);
    assert.ok(
      (seen[1]![1] as string[]).includes("latency_percentiles_usec_set:p50=D,p99=D,p99.9=D"),
    );
  } finally {
    redis.stop();
    await ours.close();
  }
});
