/**
 * MONITOR shows failed script calls as redis-server 7.0.15 does (an EVALSHA answered NOSCRIPT,
 * alone or in MULTI/EXEC, an FCALL of a missing function, an EVAL with a bad key count), and
 * INFO's `migrate_cached_sockets` and `mem_allocator` fields.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { RawConn, startServer } from "./helpers.ts";
import { pipeline, startRedis } from "./redis_compare.ts";
import { missing } from "./redis_tools.ts";

const skip = missing("redis-server");

const SHA = "ffffffffffffffffffffffffffffffffffffffff";

/** Runs `cases` on `port` with a monitor attached; returns the replies and the monitor's lines. */
async function monitored(port: number, cases: string[][]): Promise<[string[], string[]]> {
  const mon = await RawConn.connect(port);
  const c = await RawConn.connect(port);
  try {
    await pipeline(mon, [["MONITOR"]]);
    const replies = await pipeline(c, [...cases, ["SET", "end", "1"]]);
    // The SET after the cases closes the monitor's stream: read until its line.
    for (let i = 0; i < 1000 && !mon.pending.includes('"SET" "end" "1"'); i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const lines = mon.pending.split("\r\n").filter(Boolean)
      // Times and client addresses differ between the two servers.
      .map((l) => l.replace(/^\+\d+\.\d{6} \[(\d+) [^\]]+\]/, "+T [$1 ADDR]"));
    return [replies, lines];
  } finally {
    mon.close();
    c.close();
  }
}

test("MONITOR shows EVALSHA answered NOSCRIPT, FCALL of a missing function, as redis-server", {
  skip,
}, async () => {
  const cases = [
    ["EVALSHA", SHA, "0"],
    ["MULTI"],
    ["EVALSHA", SHA, "0"],
    ["EXEC"],
    ["FCALL", "nosuchfunction", "0"],
    ["EVAL", "return 1", "-1"],
    ["EVAL", "return redis.call('set','k','v')", "0"],
    ["FCALL_RO", "nosuchfunction", "0"],
  ];
  const redis = await startRedis();
  const ours = await startServer();
  try {
    const want = await monitored(redis.port, cases);
    const got = await monitored(ours.port, cases);
    assert.deepEqual(got, want);
    assert.ok(got[1].includes(`+T [0 ADDR] "EVALSHA" "${SHA}" "0"`), got[1].join("\n"));
    assert.ok(got[1].includes('+T [0 ADDR] "FCALL" "nosuchfunction" "0"'));
  } finally {
    redis.stop();
    await ours.close();
  }
});

test("INFO has migrate_cached_sockets (0) and a mem_allocator Redis reports", async () => {
  const ours = await startServer();
  try {
    const c = await RawConn.connect(ours.port);
    const [stats, memory] = await pipeline(c, [["INFO", "stats"], ["INFO", "memory"]]);
    assert.match(stats!, /\r\ntotal_forks:0\r\nmigrate_cached_sockets:0\r\n/);
    assert.match(memory!, /\r\nmem_allocator:libc\r\n/);
    c.close();
  } finally {
    await ours.close();
  }
});
