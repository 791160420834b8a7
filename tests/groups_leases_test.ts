/**
 * The groups plugin's member leases and notifications (with a manual clock), and its propagation
 * as hash effects, checked against a stock redis-server.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "redis";
import { MapReply, type Reply } from "../mod.ts";
import { errorText } from "./helpers.ts";
import { startRedis } from "./redis_compare.ts";
import { info, io, local, recorder, start, T0, until, upper } from "./groups_helpers.ts";
import { missing } from "./redis_tools.ts";

test("subscribers hear join, leave and expire; a heartbeat keeps the member", async () => {
  const { server, port, clock, close } = await start();
  const a = io(port);
  const sub = io(port);
  const psub = createClient({ socket: { port, host: "127.0.0.1" } });
  const got: string[] = [];
  const pgot: string[] = [];
  try {
    await psub.connect();
    sub.on("message", (ch: string, msg: string) => got.push(`${ch} ${msg}`));
    await sub.subscribe("__group__:room");
    await psub.pSubscribe("__group__:*", (msg, ch) => pgot.push(`${ch} ${msg}`));
    await a.call("GROUP.CREATE", "room", "3");
    await a.call("GROUP.CREATE", "other", "3");
    assert.equal(await a.call("GROUP.JOIN", "room", "alice", "TTL", "1000"), 1);
    assert.equal(await a.call("GROUP.JOIN", "room", "bob"), 2);
    assert.equal(await a.call("GROUP.JOIN", "room", "alice", "TTL", "1000"), 2); // no message
    assert.equal(await a.call("GROUP.JOIN", "room", "carol", "TTL", "1000"), 3);
    await assert.rejects(a.call("GROUP.JOIN", "room", "dave"), /FULL/); // no message
    assert.equal(await a.call("GROUP.LEAVE", "room", "bob"), 1);
    assert.equal(await a.call("GROUP.LEAVE", "room", "bob"), 0); // no message
    assert.equal(await a.call("GROUP.JOIN", "other", "zed"), 1);
    clock.advance(800);
    assert.equal(await a.call("GROUP.JOIN", "room", "carol", "TTL", "1000"), 2); // heartbeat
    server.cron();
    assert.equal(await a.hexists("room", "m:alice"), 1, "alice's lease has 200 ms left");
    clock.advance(201);
    server.cron();
    assert.equal(await a.hexists("room", "m:alice"), 0, "the tick removed alice");
    assert.equal(await a.hexists("room", "m:carol"), 1, "the heartbeat kept carol");
    assert.equal(await a.call("GROUP.ISMEMBER", "room", "alice"), 0);
    assert.equal(await a.call("GROUP.ISMEMBER", "room", "carol"), 1);
    clock.advance(800);
    server.cron();
    assert.equal(await a.hexists("room", "m:carol"), 0);
    assert.equal(await a.call("GROUP.ISMEMBER", "room", "carol"), 0);
    assert.equal(await a.call("GROUP.ISMEMBER", "other", "zed"), 1, "no lease, no expiry");
    await a.publish("__group__:room", "end");
    await until(() => got.at(-1) === "__group__:room end", "the subscriber");
    await until(() => pgot.at(-1) === "__group__:room end", "the pattern subscriber");
    const want = [
      "join alice 1",
      "join bob 2",
      "join carol 3",
      "leave bob 2",
      "expire alice 1",
      "expire carol 0",
      "end",
    ].map((m) => `__group__:room ${m}`);
    assert.deepEqual(got, want);
    assert.deepEqual(pgot, [...want.slice(0, 4), "__group__:other join zed 1", ...want.slice(4)]);
  } finally {
    a.disconnect();
    sub.disconnect();
    await psub.quit();
    await close();
  }
});

test("a lapsed lease is removed before a GROUP command reads the group, without a tick", () => {
  const { server, clock, call } = local();
  const sub = server.session();
  const effects: string[][] = [];
  server.on("propagate", (_db, argv) => effects.push(argv));
  sub.call("SUBSCRIBE", "__group__:room");
  call("GROUP.CREATE", "room", "1");
  call("GROUP.JOIN", "room", "a", "TTL", "1000");
  sub.drain();
  clock.advance(999);
  assert.equal(errorText(call("GROUP.JOIN", "room", "b")), "FULL group 'room' is full");
  clock.advance(2);
  effects.length = 0;
  assert.equal(call("GROUP.JOIN", "room", "b"), 1, "a's seat is free once the lease passed");
  assert.deepEqual(
    effects.filter((e) => e[0] !== "MULTI" && e[0] !== "EXEC").map(upper),
    [["HDEL", "room", "m:a"], ["HSET", "room", "m:b", "0"]],
  );
  const msgs = sub.drain().map((m) => (m as { items: Reply[] }).items.slice(1));
  assert.deepEqual(msgs, [["__group__:room", "expire a 0"], ["__group__:room", "join b 1"]]);
  call("GROUP.JOIN", "room", "b", "TTL", "10");
  clock.advance(11);
  assert.equal(call("HEXISTS", "room", "m:b"), 1, "no tick ran and HEXISTS is a hash read");
  assert.equal(call("GROUP.ISMEMBER", "room", "b"), 0);
  assert.equal(call("HEXISTS", "room", "m:b"), 0);
  call("GROUP.JOIN", "room", "c", "TTL", "10");
  clock.advance(11);
  assert.deepEqual(info(call("GROUP.INFO", "room")).members, {});
  call("GROUP.JOIN", "room", "d", "TTL", "10");
  clock.advance(11);
  assert.deepEqual(call("GROUP.MEMBERS", "room"), []);
  assert.equal(call("HLEN", "room"), 2);
});

test("a replica leaves leases to the master; promoted, its tick expires them", () => {
  const { server, clock, call } = local();
  const effects: Array<[number, string[]]> = [];
  server.on("propagate", (db, argv) => effects.push([db, upper(argv)]));
  call("SELECT", "1");
  call("GROUP.CREATE", "room", "5");
  call("GROUP.JOIN", "room", "a", "TTL", "1000");
  server.masterHost = "127.0.0.1";
  clock.advance(5000);
  effects.length = 0;
  server.cron();
  assert.equal(call("HEXISTS", "room", "m:a"), 1, "a replica keeps the member");
  assert.deepEqual(effects, []);
  server.masterHost = undefined;
  server.cron();
  assert.equal(call("HEXISTS", "room", "m:a"), 0, "once master, the tick expires it");
  assert.deepEqual(effects, [[1, ["HDEL", "room", "m:a"]]]);
});

test("stale lease entries never touch a deleted or re-created group", () => {
  const { server, clock, call } = local();
  const effects: string[][] = [];
  server.on("propagate", (_db, argv) => effects.push(argv));
  call("GROUP.CREATE", "room", "5");
  call("GROUP.JOIN", "room", "b", "TTL", "1000");
  call("DEL", "room");
  call("GROUP.CREATE", "room", "5");
  call("GROUP.JOIN", "room", "b");
  call("GROUP.JOIN", "gone", "x"); // NOGROUP
  call("GROUP.CREATE", "gone", "5");
  call("GROUP.JOIN", "gone", "x", "TTL", "1000");
  call("DEL", "gone");
  clock.advance(2000);
  effects.length = 0;
  server.cron();
  assert.equal(call("HGET", "room", "m:b"), "0", "b re-joined without a lease");
  assert.equal(call("GROUP.ISMEMBER", "room", "b"), 1);
  assert.equal(call("EXISTS", "gone"), 0, "the tick does not re-create a deleted group");
  assert.deepEqual(effects, []);
});

test("leases found in plain hash data (a restart, a promoted replica) expire on the tick", () => {
  const { server, clock, call } = local();
  const effects: string[][] = [];
  server.on("propagate", (_db, argv) => effects.push(upper(argv)));
  // What loading an RDB/AOF or a replication stream leaves: the hash, never a GROUP.JOIN.
  call("HSET", "room", "capacity", "5", "open", "1", "m:a", String(T0 + 1000), "m:b", "0");
  clock.advance(1001);
  effects.length = 0;
  server.cron();
  assert.equal(call("HEXISTS", "room", "m:a"), 0, "the tick removes a passed lease it did not set");
  assert.deepEqual(effects, [["HDEL", "room", "m:a"]]);
  assert.equal(call("HEXISTS", "room", "m:b"), 1);
});

test("the tick expires the leases of a renamed group before any GROUP command reads it", () => {
  const { server, clock, call } = local();
  const effects: string[][] = [];
  server.on("propagate", (_db, argv) => effects.push(upper(argv)));
  const sub = server.session();
  sub.call("SUBSCRIBE", "__group__:new");
  sub.drain();
  call("GROUP.CREATE", "old", "5");
  call("GROUP.JOIN", "old", "a", "TTL", "1000");
  call("RENAME", "old", "new");
  clock.advance(1001);
  effects.length = 0;
  server.cron();
  assert.equal(call("HEXISTS", "new", "m:a"), 0, "the seat of a crashed member is freed");
  assert.deepEqual(effects, [["HDEL", "new", "m:a"]]);
  const msgs = sub.drain().map((m) => (m as { items: Reply[] }).items.slice(1));
  assert.deepEqual(msgs, [["__group__:new", "expire a 0"]]);
});

test("GROUP commands propagate as HSET/HDEL effects; refusals and reads propagate nothing", () => {
  const { run, clock, server } = recorder();
  const all: string[][] = [];
  const check = (argv: string[], want: string[][]) => {
    const got = run(...argv);
    all.push(...got);
    assert.deepEqual(got, want, argv.join(" "));
  };
  check(["GROUP.CREATE", "room", "10"], [["HSET", "room", "capacity", "10", "open", "1"]]);
  check(["GROUP.CREATE", "shut", "5", "CLOSED"], [["HSET", "shut", "capacity", "5", "open", "0"]]);
  check(["GROUP.JOIN", "room", "alice", "TTL", "30000"], [
    ["HSET", "room", "m:alice", String(T0 + 30_000)],
  ]);
  check(["GROUP.JOIN", "room", "bob"], [["HSET", "room", "m:bob", "0"]]);
  check(["GROUP.JOIN", "room", "alice"], [["HSET", "room", "m:alice", "0"]]);
  check(["GROUP.JOIN", "shut", "x"], []);
  check(["GROUP.JOIN", "nosuch", "x"], []);
  check(["GROUP.JOIN", "room", "x", "TTL", "0"], []);
  check(["GROUP.CREATE", "room", "3"], []);
  check(["GROUP.INFO", "room"], []);
  check(["GROUP.MEMBERS", "room"], []);
  check(["GROUP.ISMEMBER", "room", "bob"], []);
  check(["GROUP.LEAVE", "room", "bob"], [["HDEL", "room", "m:bob"]]);
  check(["GROUP.LEAVE", "room", "bob"], []);
  check(["GROUP.CLOSE", "room"], [["HSET", "room", "open", "0"]]);
  check(["GROUP.OPEN", "room"], [["HSET", "room", "open", "1"]]);
  check(["GROUP.RESIZE", "room", "1"], [["HSET", "room", "capacity", "1"]]);
  check(["GROUP.JOIN", "room", "carol"], []);
  check(["GROUP.RESIZE", "room", "2"], [["HSET", "room", "capacity", "2"]]);
  check(["GROUP.JOIN", "room", "carol", "TTL", "1000"], [
    ["HSET", "room", "m:carol", String(T0 + 1000)],
  ]);
  clock.advance(1001);
  const expired = run("PING");
  assert.deepEqual(expired, [], "time passing alone propagates nothing");
  const before = all.length;
  const seen: string[][] = [];
  server.on("propagate", (_db, argv) => seen.push(upper(argv)));
  server.cron();
  assert.deepEqual(seen, [["HDEL", "room", "m:carol"]], "a passed lease is an HDEL");
  assert.equal(before, all.length);
  for (const e of [...all, ...seen]) assert.ok(!e[0]!.startsWith("GROUP."), e.join(" "));
});

test("the propagated effects build the same hashes on a stock redis-server", {
  skip: missing("redis-server"),
}, async () => {
  const { server, clock, call } = local();
  const effects: string[][] = [];
  server.on("propagate", (_db, argv) => effects.push(argv));
  call("GROUP.CREATE", "room", "3");
  call("GROUP.CREATE", "shut", "2", "CLOSED");
  call("GROUP.JOIN", "room", "alice", "TTL", "5000");
  call("GROUP.JOIN", "room", "bob");
  call("GROUP.JOIN", "room", "carol", "TTL", "100");
  call("GROUP.JOIN", "room", "dave");
  call("GROUP.LEAVE", "room", "bob");
  call("GROUP.RESIZE", "room", "4");
  call(
    "EVAL",
    "redis.call('GROUP.JOIN', KEYS[1], 'eve') return redis.call('GROUP.CLOSE', KEYS[1])",
    "1",
    "room",
  );
  clock.advance(200);
  server.cron();
  call("GROUP.JOIN", "room", "alice", "TTL", "9000");
  const redis = await startRedis();
  const r = io(redis.port);
  try {
    for (const argv of effects) await r.call(argv[0]!, ...argv.slice(1));
    for (const key of ["room", "shut"]) {
      const ours = call("HGETALL", key);
      const theirs = await r.call("HGETALL", key);
      const asMap = (v: unknown) => {
        const a = (v instanceof MapReply ? v.entries : v) as string[];
        return Object.fromEntries(a.flatMap((x, i) => (i % 2 === 0 ? [[x, a[i + 1]]] : [])));
      };
      assert.deepEqual(asMap(theirs), asMap(ours), key);
    }
    assert.equal(await r.hget("room", "m:alice"), String(T0 + 200 + 9000));
    assert.equal(await r.hexists("room", "m:carol"), 0);
    assert.equal(await r.hget("room", "open"), "0");
  } finally {
    r.disconnect();
    redis.stop();
  }
});
