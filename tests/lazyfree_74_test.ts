/**
 * `lazyfreed_objects` as Redis 7.4 counts it: a synchronous FLUSHALL/FLUSHDB by a client that may
 * block runs as a blocking asynchronous flush (each key counted), not in MULTI; FUNCTION FLUSH
 * ASYNC of more than 64 functions counts them and the Lua engine rebuilt; SCRIPT FLUSH ASYNC of
 * more than 64 scripts counts them. A server reporting 7.0.15 counts as Redis 7.0 does (no
 * blocking asynchronous flush, no engine), beside Debian's redis-server.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RawConn, startServer } from "./helpers.ts";
import { as7015, pipeline, startRedis } from "./redis_compare.ts";
import { transcriptTests } from "./reference_redis.ts";
import { field } from "./replication_helpers.ts";
import { missing } from "./redis_tools.ts";

const lib = (i: number) =>
  `#!lua name=l${i}\nredis.register_function('f${i}', function() return 1 end)`;

/** lazyfreed_objects after each step of the flushes above, on the server at `port`. */
async function flushes(port: number): Promise<string[]> {
  const c = await RawConn.connect(port);
  const counted = async (steps: string[][]): Promise<string> => {
    await pipeline(c, [["CONFIG", "RESETSTAT"], ...steps]);
    const [info] = await pipeline(c, [["INFO", "memory"]]);
    return field(info!, "lazyfreed_objects") ?? "?";
  };
  const keys = Array.from({ length: 100 }, (_, i) => ["SET", `k${i}`, "v"]);
  try {
    return [
      await counted([...keys, ["FLUSHALL"]]),
      await counted([["SET", "x", "1"], ["SET", "y", "2"], ["FLUSHALL"], ["FLUSHALL"], [
        "FLUSHDB",
      ]]),
      await counted([["SET", "x", "1"], ["FLUSHDB", "SYNC"]]),
      await counted([["SET", "x", "1"], ["SET", "y", "2"], ["MULTI"], ["FLUSHALL"], ["EXEC"]]),
      await counted([["SET", "x", "1"], ["EVAL", "return redis.call('flushall')", "0"]]),
      await counted([["SET", "x", "1"], ["FLUSHALL", "ASYNC"]]),
      await counted([
        ...Array.from({ length: 70 }, (_, i) => ["FUNCTION", "LOAD", lib(i)]),
        ["FUNCTION", "FLUSH", "ASYNC"],
      ]),
      await counted([
        ...Array.from({ length: 70 }, (_, i) => ["FUNCTION", "LOAD", lib(i)]),
        ["FUNCTION", "FLUSH", "SYNC"],
      ]),
      await counted([
        ...Array.from({ length: 10 }, (_, i) => ["FUNCTION", "LOAD", lib(i)]),
        ["FUNCTION", "FLUSH", "ASYNC"],
      ]),
      await counted([
        ...Array.from({ length: 80 }, (_, i) => ["SCRIPT", "LOAD", `return ${i}`]),
        ["SCRIPT", "FLUSH", "ASYNC"],
      ]),
      await counted([
        ...Array.from({ length: 80 }, (_, i) => ["SCRIPT", "LOAD", `return ${i}`]),
        ["SCRIPT", "FLUSH"],
      ]),
    ];
  } finally {
    c.close();
  }
}

transcriptTests(
  "lazyfreed_objects counts blocking asynchronous flushes and big FUNCTION/SCRIPT FLUSH ASYNC (7.4)",
  flushes,
  ["100", "2", "1", "0", "0", "1", "71", "0", "0", "81", "0"],
);

const AS_70 = ["0", "0", "0", "0", "0", "1", "70", "0", "0", "81", "0"];

test("a server reporting 7.0.15 counts lazy frees as Redis 7.0", async () => {
  const ours = await startServer(as7015());
  try {
    assert.deepEqual(await flushes(ours.port), AS_70);
  } finally {
    await ours.close();
  }
});

test(
  "Debian's redis-server 7.0.15 counts the same",
  { skip: missing("redis-server") },
  async () => {
    const redis = await startRedis();
    try {
      assert.deepEqual(await flushes(redis.port), AS_70);
    } finally {
      redis.stop();
    }
  },
);
