/**
 * GROUP.RESERVE (plugins/groups/README.md): a seat held against the capacity, confirmed by the
 * member's GROUP.JOIN, freed with a notification when its deadline passes (and given to the first
 * waiter), cancelled by GROUP.LEAVE; propagated as hash writes; with ioredis, node-redis, redis-cli.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "redis";
import { redisCli } from "./helpers.ts";
import { BAD_TTL, io, recorder, start, T0, until } from "./groups_helpers.ts";
import { missing } from "./redis_tools.ts";

test("a reservation holds a seat until the member's join confirms it", async () => {
  const { port, close } = await start();
  const r = io(port);
  const nr = createClient({ socket: { port, host: "127.0.0.1" } });
  try {
    await nr.connect();
    await r.call("GROUP.CREATE", "room", "2");
    assert.equal(await r.call("GROUP.RESERVE", "room", "alice", "TTL", "30000"), 1);
    assert.equal(await r.hget("room", "r:alice"), String(T0 + 30_000));
    assert.equal(await nr.sendCommand(["GROUP.JOIN", "room", "bob"]), 1, "JOIN counts members");
    await assert.rejects(r.call("GROUP.JOIN", "room", "carol"), /FULL group 'room' is full/);
    await assert.rejects(
      r.call("GROUP.RESERVE", "room", "carol", "TTL", "100"),
      /FULL group 'room' is full/,
    );
    assert.equal(await r.call("GROUP.ISMEMBER", "room", "alice"), 0, "reserved is not in");
    assert.deepEqual(await r.call("GROUP.MEMBERS", "room"), ["bob"]);
    // Reserving again renews; a member already in has its seat.
    assert.equal(await r.call("GROUP.RESERVE", "room", "alice", "ttl", "60000"), 2);
    assert.equal(await r.hget("room", "r:alice"), String(T0 + 60_000));
    assert.equal(await nr.sendCommand(["GROUP.RESERVE", "room", "bob", "TTL", "100"]), 2);
    assert.equal(await r.hexists("room", "r:bob"), 0);
    // Confirmed even when closed: the seat was promised.
    await r.call("GROUP.CLOSE", "room");
    assert.deepEqual(await r.call("GROUP.JOIN", "room", "alice", "WITHTOKEN"), [2, 1]);
    assert.equal(await r.hexists("room", "r:alice"), 0);
    assert.equal(await r.hget("room", "m:alice"), "0");
    await assert.rejects(
      r.call("GROUP.RESERVE", "room", "carol", "TTL", "100"),
      /CLOSED group 'room' is closed/,
    );
    await r.call("GROUP.OPEN", "room");
    await r.call("GROUP.RESIZE", "room", "3");
    assert.equal(await r.call("GROUP.RESERVE", "room", "carol", "TTL", "100"), 3);
    assert.equal(await r.call("GROUP.LEAVE", "room", "carol"), 1, "LEAVE cancels it");
    assert.equal(await r.hexists("room", "r:carol"), 0);
    assert.equal(await r.call("GROUP.LEAVE", "room", "carol"), 0);
    await assert.rejects(r.call("GROUP.RESERVE", "room", "x", "TTL", "0"), (e: Error) => {
      assert.equal(e.message, BAD_TTL);
      return true;
    });
    await assert.rejects(r.call("GROUP.RESERVE", "room", "x", "FOR", "10"), /ERR syntax error/);
    await assert.rejects(r.call("GROUP.RESERVE", "room", "x"), /wrong number of arguments/);
    await assert.rejects(r.call("GROUP.RESERVE", "nope", "x", "TTL", "5"), /NOGROUP/);
    if (missing("redis-cli") === false) {
      const out = await redisCli(port, ["GROUP.RESERVE", "room", "dave", "TTL", "5000"]);
      assert.equal(out.stdout, "3\n");
    }
  } finally {
    r.disconnect();
    await nr.quit();
    await close();
  }
});

test("an unconfirmed reservation expires on time, notifies, and its seat goes to the first waiter", async () => {
  const { server, port, clock, close } = await start();
  const r = io(port);
  const waiter = io(port);
  const sub = io(port);
  const events: string[] = [];
  try {
    sub.on("message", (_c: string, m: string) => events.push(m));
    await sub.subscribe("__group__:room");
    await r.call("GROUP.CREATE", "room", "1");
    assert.equal(await r.call("GROUP.RESERVE", "room", "alice", "TTL", "1000"), 1);
    const joined = waiter.call("GROUP.JOIN", "room", "bob", "WAIT", "0");
    let p: unknown = null;
    for (let i = 0; i < 200 && p === null; i++) p = await r.call("GROUP.POS", "room", "bob");
    assert.equal(p, 1);
    clock.advance(999);
    server.cron();
    assert.equal(await r.hexists("room", "r:alice"), 1, "not before its deadline");
    clock.advance(1);
    server.cron();
    assert.equal(await joined, 1);
    assert.equal(await r.hexists("room", "r:alice"), 0);
    await assert.rejects(r.call("GROUP.JOIN", "room", "alice"), /FULL group 'room' is full/);
    await r.publish("__group__:room", "end");
    await until(() => events.at(-1) === "end", "the messages");
    assert.deepEqual(events, ["reserve alice 0", "reserve-expire alice 0", "join bob 1", "end"]);
  } finally {
    r.disconnect();
    waiter.disconnect();
    sub.disconnect();
    await close();
  }
});

test("reservations propagate as HSET r:<member> and HDEL; a command purges a passed one first", () => {
  const { run, clock } = recorder();
  run("GROUP.CREATE", "room", "1");
  assert.deepEqual(run("GROUP.RESERVE", "room", "a", "TTL", "500"), [
    ["HSET", "room", "r:a", String(T0 + 500)],
  ]);
  // Two effects of one command go out as one transaction, as Redis wraps them.
  assert.deepEqual(run("GROUP.JOIN", "room", "a", "TTL", "100"), [
    ["MULTI"],
    ["HSET", "room", "m:a", String(T0 + 100)],
    ["HDEL", "room", "r:a"],
    ["EXEC"],
  ]);
  run("GROUP.LEAVE", "room", "a");
  run("GROUP.RESERVE", "room", "b", "TTL", "500");
  clock.advance(501);
  // No tick ran: the JOIN finds b's reservation passed, removes it, then admits c.
  assert.deepEqual(run("GROUP.JOIN", "room", "c"), [
    ["MULTI"],
    ["HDEL", "room", "r:b"],
    ["HSET", "room", "m:c", "0"],
    ["EXEC"],
  ]);
  assert.deepEqual(run("GROUP.RESERVE", "room", "d", "TTL", "5"), [], "refused: nothing");
});
