/**
 * DEBUG DIGEST and DEBUG DIGEST-VALUE give the digits redis-server 7.0 gives for the same data:
 * every type in both of its encodings, TTLs, several databases, big values and an empty dataset.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import type { Redis } from "ioredis";
import { missing } from "./redis_tools.ts";
import { type Node, startNode } from "./failover_helpers.ts";

/** The same writes on any server. */
async function fill(c: Redis): Promise<void> {
  await c.set("s", "hello");
  await c.set("int", "12345");
  await c.set("bin", Buffer.from([0, 255, 128, 10, 13]));
  await c.set("big", "x".repeat(100_000));
  await c.set("ttl", "v", "EX", 1000);
  await c.rpush("list", "a", "b", "c", "1", "2");
  await c.rpush("biglist", ...Array.from({ length: 300 }, (_, i) => `e${i}`));
  await c.sadd("intset", "3", "1", "2", "-7");
  await c.sadd("set", "a", "b", "c", "10");
  await c.sadd("bigset", ...Array.from({ length: 600 }, (_, i) => `m${i}`));
  await c.zadd("z", 1, "a", 2.5, "b", -3, "c", 0.1, "d", 1e20, "e", 7, "100");
  await c.zadd("zinf", "inf", "top", "-inf", "bottom", 0, "zero");
  await c.zadd("bigz", ...Array.from({ length: 200 }, (_, i) => [i / 3, `m${i}`]).flat());
  await c.hset("h", "f1", "v1", "f2", "2", "3", "three");
  await c.hset("bigh", Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`f${i}`, i])));
  await c.pexpire("h", 500_000);
  await c.xadd("st", "1-1", "a", "1", "b", "two");
  await c.xadd("st", "1-2", "a", "3");
  await c.xadd("st", "5-0", "x", "y", "z", "");
  await c.xdel("st", "1-2");
  await c.xgroup("CREATE", "st", "g", "0");
  await c.select(3);
  await c.set("s", "hello");
  await c.lpush("l3", "x");
  await c.select(0);
}

async function digests(node: Node): Promise<unknown[]> {
  const c = node.c;
  const empty = await c.call("DEBUG", "DIGEST");
  await fill(c);
  const keys = ["s", "int", "bin", "big", "ttl", "list", "biglist", "intset", "set", "bigset"];
  keys.push("z", "zinf", "bigz", "h", "bigh", "st", "nosuchkey");
  return [
    empty,
    await c.call("DEBUG", "DIGEST"),
    await c.call("DEBUG", "DIGEST-VALUE", ...keys),
    await c.call("DEBUG", "DIGEST-VALUE"),
  ];
}

test("DEBUG DIGEST and DIGEST-VALUE match redis-server 7.0", {
  skip: missing("redis-server"),
}, async () => {
  const config = { "enable-debug-command": "yes" };
  const ours = await startNode("redeno", { ...config, "reported-redis-version": "7.0.15" });
  const theirs = await startNode("redis", config);
  try {
    const a = await digests(ours);
    const b = await digests(theirs);
    assert.equal(a[0], "0".repeat(40));
    assert.notEqual(a[1], a[0]);
    assert.deepEqual(a, b);
  } finally {
    await ours.stop();
    await theirs.stop();
  }
});
