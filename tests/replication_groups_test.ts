/**
 * The groups plugin's effects on replicas: GROUP.* runs on the master and reaches replicas as
 * HSET/HDEL, so a redeno replica and a stock Redis replica (which knows nothing of groups) end
 * with the same members, after a race for seats and after a lease expires on the master.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "../mod.ts";
import { replication } from "../replication/mod.ts";
import { groups } from "../plugins/groups/mod.ts";
import {
  client,
  dataset,
  field,
  HOST,
  infoText,
  redeno,
  remoteInfo,
  stockRedis,
  waitFor,
} from "./replication_helpers.ts";
import { missing } from "./redis_tools.ts";

test("200 joiners racing for 10 seats: the same members on a redeno and a stock Redis replica", {
  skip: missing("redis-server"),
}, async () => {
  const m = createServer({ plugins: [groups(), replication()] });
  const port = (await m.listen({ port: 0, hostname: HOST })).port;
  const r = await redeno({ replicaof: `${HOST} ${port}` });
  const redis = await stockRedis(["--replicaof", HOST, String(port)]);
  const clients = Array.from({ length: 50 }, () => client(port));
  try {
    await waitFor(
      async () =>
        field(infoText(r.s, "replication"), "master_link_status") === "up" &&
        field(await remoteInfo(redis.port, "replication"), "master_link_status") === "up",
      "both replicas",
    );
    await clients[0]!.call("GROUP.CREATE", "room", "10");
    const results = await Promise.all(
      Array.from(
        { length: 200 },
        (_, i) =>
          clients[i % 50]!.call("GROUP.JOIN", "room", `user${i}`).catch((e: Error) => e.message),
      ),
    );
    assert.equal(results.filter((x) => typeof x === "number").length, 10);
    assert.equal(await clients[0]!.call("WAIT", "2", "2000"), 2);
    const expected = await dataset(port);
    assert.ok(expected.some((l) => l.startsWith("0:room:hash:")));
    assert.deepEqual(await dataset(r.port), expected);
    assert.deepEqual(await dataset(redis.port), expected);
  } finally {
    for (const c of clients) c.disconnect();
    await redis.stop();
    await r.s.close();
    await m.close();
  }
});

test("a lease that passes on the master removes the member on both replicas, and only it", {
  skip: missing("redis-server"),
}, async () => {
  const m = createServer({ plugins: [groups(), replication()] });
  const port = (await m.listen({ port: 0, hostname: HOST })).port;
  const r = await redeno({ replicaof: `${HOST} ${port}` });
  const redis = await stockRedis(["--replicaof", HOST, String(port)]);
  const c = client(port);
  try {
    await waitFor(
      async () =>
        field(infoText(r.s, "replication"), "master_link_status") === "up" &&
        field(await remoteInfo(redis.port, "replication"), "master_link_status") === "up",
      "both replicas",
    );
    await c.call("GROUP.CREATE", "room", "10");
    assert.equal(await c.call("GROUP.JOIN", "room", "alice", "TTL", "300"), 1);
    assert.equal(await c.call("GROUP.JOIN", "room", "bob"), 2);
    assert.equal(await c.call("WAIT", "2", "2000"), 2);
    for (const p of [r.port, redis.port]) {
      const replica = client(p);
      assert.equal(await replica.hexists("room", "m:alice"), 1);
      assert.equal(await replica.hexists("room", "m:bob"), 1);
      replica.disconnect();
    }
    await waitFor(async () => (await c.call("GROUP.ISMEMBER", "room", "alice")) === 0, "lease");
    assert.equal(await c.call("WAIT", "2", "2000"), 2);
    const expected = await dataset(port);
    assert.ok(expected.some((l) => l.startsWith("0:room:hash:") && l.includes("m:bob=")));
    assert.ok(!expected.some((l) => l.includes("m:alice=")));
    assert.deepEqual(await dataset(r.port), expected);
    assert.deepEqual(await dataset(redis.port), expected);
  } finally {
    c.disconnect();
    await redis.stop();
    await r.s.close();
    await m.close();
  }
});

test(
  "waitlists, tokens, reservations, grace, metadata, kicks and parties: the same hash on a stock Redis replica",
  {
    skip: missing("redis-server"),
  },
  async () => {
    const m = createServer({ plugins: [groups(), replication()] });
    const port = (await m.listen({ port: 0, hostname: HOST })).port;
    const r = await redeno({ replicaof: `${HOST} ${port}` });
    const redis = await stockRedis(["--replicaof", HOST, String(port)]);
    const c = client(port);
    const waiter = client(port);
    const same = async (what: string) => {
      assert.equal(await c.call("WAIT", "2", "5000"), 2, what);
      const expected = await dataset(port);
      assert.deepEqual(await dataset(r.port), expected, `redeno replica: ${what}`);
      assert.deepEqual(await dataset(redis.port), expected, `stock replica: ${what}`);
      return expected;
    };
    try {
      await waitFor(
        async () =>
          field(infoText(r.s, "replication"), "master_link_status") === "up" &&
          field(await remoteInfo(redis.port, "replication"), "master_link_status") === "up",
        "both replicas",
      );
      await c.call("GROUP.CREATE", "room", "3");
      await c.call(
        "GROUP.JOIN",
        "room",
        "a",
        "TTL",
        "300",
        // Long enough for the three datasets to be read while a is away, on a loaded machine.
        "GRACE",
        "3000",
        "WITHTOKEN",
        "META",
        "k",
        "v",
      );
      await c.call("GROUP.JOIN", "room", "b", "WITHTOKEN");
      await c.call("GROUP.RESERVE", "room", "c", "TTL", "300");
      const admitted = waiter.call("GROUP.JOIN", "room", "w", "WITHTOKEN", "WAIT", "0");
      await waitFor(async () => (await c.call("GROUP.POS", "room", "w")) === 1, "w in line");
      assert.equal(await c.call("GROUP.KICK", "room", "b", "BAN", "60000"), 1);
      assert.deepEqual(await admitted, [2, 3], "a and w are in, c holds a seat");
      assert.equal(await c.call("GROUP.SETMETA", "room", "w", "x", "y"), 1);
      let seen = await same("after the kick");
      assert.ok(seen.some((l) => l.includes("b:b=") && l.includes("t:w=3") && l.includes("r:c=")));
      await waitFor(async () => (await c.hexists("room", "a:a")) === 1, "a away");
      seen = await same("a away");
      await waitFor(async () => (await c.call("GROUP.ISMEMBER", "room", "a")) === 0, "a expired");
      await waitFor(async () => (await c.hexists("room", "r:c")) === 0, "c's reservation expired");
      await c.call("GROUP.RESIZE", "room", "4");
      assert.equal(await c.call("GROUP.JOINALL", "room", "p", "q", "w"), 3);
      seen = await same("the end");
      assert.ok(seen.some((l) => l.startsWith("0:room:hash:") && l.includes("token=3")));
      assert.ok(!seen.some((l) => l.includes("m:a=") || l.includes("r:c=")));
    } finally {
      c.disconnect();
      waiter.disconnect();
      await redis.stop();
      await r.s.close();
      await m.close();
    }
  },
);
