/**
 * Hash field expiry and the 8.0 hash commands through the clients people use: ioredis's
 * generated methods and node-redis's typed commands (hExpire, hTTL, hGetEx, hSetEx...).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { startServer } from "./helpers.ts";

test("ioredis: HEXPIRE, HTTL, HPERSIST, HGETEX, HSETEX, HGETDEL", async () => {
  const s = await startServer();
  const r = new Redis(s.port, "127.0.0.1", { lazyConnect: true });
  try {
    await r.connect();
    await r.hset("h", "a", "1", "b", "2");
    assert.deepEqual(await r.hexpire("h", 100, "FIELDS", 2, "a", "zz"), [1, -2]);
    assert.deepEqual(await r.hexpire("h", 50, "GT", "FIELDS", 1, "a"), [0]);
    assert.deepEqual(await r.httl("h", "FIELDS", 2, "a", "b"), [100, -1]);
    assert.deepEqual(await r.hpersist("h", "FIELDS", 1, "a"), [1]);
    assert.deepEqual(await r.hgetex("h", "EX", 60, "FIELDS", 2, "a", "zz"), ["1", null]);
    assert.deepEqual(await r.httl("h", "FIELDS", 1, "a"), [60]);
    assert.equal(await r.hsetex("h", "FNX", "EX", 30, "FIELDS", 1, "c", "3"), 1);
    assert.equal(await r.hsetex("h", "FNX", "EX", 30, "FIELDS", 1, "c", "4"), 0);
    // Seconds round up (stable within a second); milliseconds run down as the test runs.
    const [ms] = (await r.call("HPTTL", "h", "FIELDS", "1", "c")) as number[];
    assert.ok(ms! > 25000 && ms! <= 30000, `HPTTL ${ms}`);
    assert.deepEqual(await r.call("HGETDEL", "h", "FIELDS", "2", "a", "c"), ["1", "3"]);
    assert.deepEqual(await r.hgetall("h"), { b: "2" });
    // A past time deletes the field, and the hash with its last one.
    assert.deepEqual(await r.hexpire("h", 0, "FIELDS", 1, "b"), [2]);
    assert.equal(await r.exists("h"), 0);
  } finally {
    r.disconnect();
    await s.close();
  }
});

test("node-redis: hExpire, hTTL, hPersist, hGetEx, hSetEx, hGetDel (RESP2 and RESP3)", async () => {
  const s = await startServer();
  for (const RESP of [2, 3] as const) {
    const c = createClient({ socket: { port: s.port, host: "127.0.0.1" }, RESP });
    await c.connect();
    try {
      await c.flushAll();
      await c.hSet("h", { a: "1", b: "2" });
      assert.deepEqual(await c.hExpire("h", ["a", "zz"], 100), [1, -2]);
      assert.deepEqual(await c.hExpire("h", "a", 100, "NX"), [0]);
      assert.deepEqual(await c.hTTL("h", ["a", "b"]), [100, -1]);
      assert.deepEqual(await c.hPersist("h", "a"), [1]);
      assert.deepEqual(
        await c.hGetEx("h", ["a", "zz"], { expiration: { type: "PX", value: 5000 } }),
        [
          "1",
          null,
        ],
      );
      const [ms] = (await c.hpTTL("h", "a")) as number[];
      assert.ok(ms! > 1000 && ms! <= 5000, `HPTTL ${ms}`);
      assert.equal(
        await c.hSetEx("h", { c: "3" }, { mode: "FXX", expiration: { type: "EX", value: 9 } }),
        0,
      );
      assert.equal(
        await c.hSetEx("h", { b: "5" }, { mode: "FXX", expiration: { type: "EX", value: 9 } }),
        1,
      );
      assert.deepEqual(await c.hTTL("h", "b"), [9]);
      assert.deepEqual(await c.hGetDel("h", ["a", "b"]), ["1", "5"]);
      assert.equal(await c.exists("h"), 0);
    } finally {
      c.destroy();
    }
  }
  await s.close();
});
