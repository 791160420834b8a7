/**
 * MIGRATE between redeno and real redis-servers (both ways) and another redeno: moves and copies,
 * TTLs, REPLACE and the BUSYKEY error relayed, KEYS and NOKEY, AUTH and AUTH2, the DEL replicas
 * receive, the connection cache.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { recordEffects } from "./helpers.ts";
import {
  client,
  field,
  HOST,
  infoText,
  redeno,
  stockRedis,
  waitFor,
} from "./replication_helpers.ts";
import { missing } from "./redis_tools.ts";

const noRedis = missing("redis-server");

/** The text of a client's error. */
const errorText = (e: Error) => e.message;

/** Runs `fn` with a redeno source and a redis-server target (its extra arguments `args`). */
async function withPair(
  args: string[],
  fn: (src: { s: import("../mod.ts").Server; port: number }, target: number) => Promise<void>,
): Promise<void> {
  const src = await redeno();
  const target = await stockRedis(args);
  try {
    await fn(src, target.port);
  } finally {
    await src.s.close();
    await target.stop();
  }
}

test("MIGRATE moves a key to redis-server with its TTL, deletes it here and propagates DEL", {
  skip: noRedis,
}, async () => {
  await withPair([], async (src, target) => {
    const a = client(src.port);
    const b = client(target);
    try {
      await a.set("key", "Some Value", "EX", 100);
      await a.rpush("list", "a", "b", "c");
      assert.equal(field(infoText(src.s, "stats"), "migrate_cached_sockets"), "0");
      const effects = recordEffects(src.s);
      assert.equal(await a.call("MIGRATE", HOST, String(target), "key", "9", "5000"), "OK");
      assert.deepEqual(effects, [["DEL", "key"]]);
      assert.equal(await a.exists("key"), 0);
      await b.select(9);
      assert.equal(await b.get("key"), "Some Value");
      const ttl = await b.pttl("key");
      assert.ok(ttl > 90_000 && ttl <= 100_000, `ttl ${ttl}`);
      assert.equal(field(infoText(src.s, "stats"), "migrate_cached_sockets"), "1");
      // COPY keeps the key here and propagates nothing.
      effects.length = 0;
      assert.equal(
        await a.call("MIGRATE", HOST, String(target), "list", "9", "5000", "COPY"),
        "OK",
      );
      assert.deepEqual(effects, []);
      assert.deepEqual(await a.lrange("list", 0, -1), ["a", "b", "c"]);
      assert.deepEqual(await b.lrange("list", 0, -1), ["a", "b", "c"]);
      assert.equal(await b.ttl("list"), -1);
      // The target's BUSYKEY comes back as Redis words it; REPLACE overwrites.
      await a.rpush("list", "d");
      const busy = await a.call("MIGRATE", HOST, String(target), "list", "9", "5000", "COPY")
        .catch(errorText);
      assert.equal(
        busy,
        "ERR Target instance replied with error: BUSYKEY Target key name already exists.",
      );
      assert.equal(
        await a.call("MIGRATE", HOST, String(target), "list", "9", "5000", "REPLACE"),
        "OK",
      );
      assert.equal(await a.exists("list"), 0);
      assert.deepEqual(await b.lrange("list", 0, -1), ["a", "b", "c", "d"]);
    } finally {
      a.disconnect();
      b.disconnect();
    }
  });
});

test("MIGRATE KEYS moves the keys that exist, keeps those the target refused, NOKEY when none", {
  skip: noRedis,
}, async () => {
  await withPair([], async (src, target) => {
    const a = client(src.port);
    const b = client(target);
    try {
      const m = (...rest: string[]) => a.call("MIGRATE", HOST, String(target), ...rest);
      assert.equal(await m("", "0", "5000", "KEYS", "no1", "no2"), "NOKEY");
      assert.equal(await m("nokey", "0", "5000"), "NOKEY");
      await a.mset("a", "1", "b", "2", "c", "3", "d", "4", "e", "5");
      await b.mset("c", "_", "d", "_");
      const effects = recordEffects(src.s);
      const e = await m("", "0", "5000", "KEYS", "a", "nokey", "b", "c", "d", "e").catch(errorText);
      assert.equal(
        e,
        "ERR Target instance replied with error: BUSYKEY Target key name already exists.",
      );
      assert.deepEqual((await a.keys("*")).sort(), ["c", "d"]);
      assert.deepEqual(await b.mget("a", "b", "c", "d", "e"), ["1", "2", "_", "_", "5"]);
      assert.deepEqual(effects, [["DEL", "a", "b", "e"]]);
      assert.equal(
        await m("x", "0", "5000", "KEYS", "c").catch(errorText),
        "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string",
      );
      assert.equal(await m("c", "0", "5000", "BOGUS").catch(errorText), "ERR syntax error");
      assert.equal(await m("c", "0", "5000", "AUTH").catch(errorText), "ERR syntax error");
      assert.equal(
        await m("c", "0", "x").catch(errorText),
        "ERR value is not an integer or out of range",
      );
      assert.equal(
        await m("c", "x", "5").catch(errorText),
        "ERR value is not an integer or out of range",
      );
    } finally {
      a.disconnect();
      b.disconnect();
    }
  });
});

test("MIGRATE AUTH and AUTH2 log in on the target; a wrong password is relayed", {
  skip: noRedis,
}, async () => {
  await withPair(["--requirepass", "foobar"], async (src, target) => {
    const a = client(src.port);
    const b = new Redis({ port: target, host: HOST, password: "foobar" });
    try {
      await b.call("ACL", "SETUSER", "mover", "on", ">pw2", "~*", "+@all");
      await a.rpush("list", "a", "b");
      await a.set("k2", "v2");
      const m = (...rest: string[]) => a.call("MIGRATE", HOST, String(target), ...rest);
      const noauth = await m("list", "0", "5000", "COPY").catch(errorText);
      assert.equal(
        noauth,
        "ERR Target instance replied with error: NOAUTH Authentication required.",
      );
      assert.equal(await m("list", "0", "5000", "AUTH", "foobar"), "OK");
      assert.deepEqual(await b.lrange("list", 0, -1), ["a", "b"]);
      assert.equal(await m("k2", "0", "5000", "AUTH2", "mover", "pw2"), "OK");
      assert.equal(await b.get("k2"), "v2");
      await a.set("k3", "v3");
      const wrong = await m("k3", "0", "5000", "AUTH", "nope").catch(errorText);
      assert.equal(
        wrong,
        "ERR Target instance replied with error: WRONGPASS invalid username-password pair or user is disabled.",
      );
      assert.equal(await a.get("k3"), "v3");
    } finally {
      a.disconnect();
      b.disconnect();
    }
  });
});

test("a replica of the source sees the migrated key deleted", { skip: noRedis }, async () => {
  await withPair([], async (src, target) => {
    const replica = await stockRedis(["--replicaof", HOST, String(src.port)]);
    const a = client(src.port);
    const r = client(replica.port);
    try {
      await a.set("k", "v");
      await a.set("kept", "v");
      await waitFor(async () => (await r.get("kept")) === "v", "the replica to sync");
      assert.equal(await a.call("MIGRATE", HOST, String(target), "k", "0", "5000"), "OK");
      await waitFor(async () => (await r.exists("k")) === 0, "the DEL to reach the replica");
      assert.equal(await r.get("kept"), "v");
    } finally {
      a.disconnect();
      r.disconnect();
      await replica.stop();
    }
  });
});

test("MIGRATE between two redenos, and from redis-server into redeno", {
  skip: noRedis,
}, async () => {
  const one = await redeno();
  const two = await redeno();
  const stock = await stockRedis();
  const a = client(one.port);
  const b = client(two.port);
  const c = client(stock.port);
  try {
    await a.hset("h", "f1", "v1", "f2", "v2");
    await a.zadd("z", 1, "x", 2, "y");
    await a.set("s", "str");
    await a.pexpire("s", 50_000);
    const dump = await a.dumpBuffer("h");
    assert.equal(
      await a.call("MIGRATE", HOST, String(two.port), "", "2", "5000", "KEYS", "h", "z", "s"),
      "OK",
    );
    assert.equal(await a.dbsize(), 0);
    await b.select(2);
    assert.deepEqual(await b.dumpBuffer("h"), dump);
    assert.deepEqual(await b.zrange("z", "0", "-1", "WITHSCORES"), ["x", "1", "y", "2"]);
    const ttl = await b.pttl("s");
    assert.ok(ttl > 40_000 && ttl <= 50_000, `ttl ${ttl}`);
    // redis-server migrating into redeno: our RESTORE on the other side.
    await c.rpush("fromredis", "1", "2");
    await c.set("t", "v", "EX", 100);
    const reply = await c.call(
      "MIGRATE",
      HOST,
      String(two.port),
      "",
      "3",
      "5000",
      "KEYS",
      "fromredis",
      "t",
    );
    assert.equal(reply, "OK");
    await b.select(3);
    assert.deepEqual(await b.lrange("fromredis", 0, -1), ["1", "2"]);
    assert.ok((await b.ttl("t")) > 90);
    assert.equal(await c.exists("fromredis", "t"), 0);
  } finally {
    a.disconnect();
    b.disconnect();
    c.disconnect();
    await one.s.close();
    await two.s.close();
    await stock.stop();
  }
});
