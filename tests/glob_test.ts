/**
 * Glob matching against abusive patterns, as Redis 7.4 (and Debian's 7.0.15) bounds it
 * (CVE-2024-31228): `*`s nested deeper than 1000 match nothing instead of recursing without
 * end, so KEYS with 50,000 `*?` answers at once and the server lives on.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { globMatch } from "../core/glob.ts";
import { startServer } from "./helpers.ts";
import { compareWithRedis } from "./redis_compare.ts";
import { missing } from "./redis_tools.ts";
import { Redis } from "ioredis";

const LONG = "a".repeat(1200);

test("a pattern nests at most 1000 stars deep", () => {
  assert.equal(globMatch("*a".repeat(1000), LONG), true);
  assert.equal(globMatch("*a".repeat(1001), LONG), false);
  assert.equal(globMatch("*?".repeat(50000), "a".repeat(50000)), false);
  assert.equal(globMatch("a*b*c", "aXbYc"), true);
});

test("KEYS with 50,000 '*?' answers nothing and the server lives on", async () => {
  const { port, close } = await startServer();
  const c = new Redis({ port, host: "127.0.0.1" });
  try {
    await c.set("a".repeat(50000), "1");
    assert.deepEqual(await c.keys("*?".repeat(50000)), []);
    assert.equal(await c.ping(), "PONG");
  } finally {
    c.disconnect();
    await close();
  }
});

test("KEYS, SCAN MATCH and CONFIG GET with deep patterns answer as redis-server", {
  skip: missing("redis-server"),
}, async () => {
  await compareWithRedis([
    ["SET", LONG, "1"],
    ["KEYS", "*a".repeat(999)],
    ["KEYS", "*a".repeat(1000)],
    ["KEYS", "*a".repeat(1001)],
    ["SCAN", "0", "MATCH", "*a".repeat(1001)],
    ["CONFIG", "GET", "*?".repeat(1200)],
  ], false);
});
