/**
 * GRACE on GROUP.JOIN (plugins/groups/README.md): once a member's lease passes it is away for its
 * grace period, seat kept, before removal; a heartbeat brings it back. Notifications `away` and
 * `back`, the effects that replicas receive, with ioredis, node-redis and redis-cli.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "redis";
import { redisCli } from "./helpers.ts";
import { io, recorder, start, T0, until } from "./groups_helpers.ts";
import { missing } from "./redis_tools.ts";

test("a member whose lease passes is away for its grace, then back with a heartbeat or removed", async () => {
  const { server, port, clock, close } = await start();
  const r = io(port);
  const sub = io(port);
  const nr = createClient({ socket: { port, host: "127.0.0.1" } });
  const events: string[] = [];
  try {
    await nr.connect();
    sub.on("message", (_c: string, m: string) => events.push(m));
    await sub.subscribe("__group__:room");
    await r.call("GROUP.CREATE", "room", "2");
    assert.equal(await r.call("GROUP.JOIN", "room", "alice", "TTL", "1000", "GRACE", "500"), 1);
    assert.equal(await nr.sendCommand(["GROUP.JOIN", "room", "bob"]), 2);
    assert.equal(await r.hget("room", "g:alice"), "500");
    clock.advance(999);
    server.cron();
    assert.equal(await r.hexists("room", "a:alice"), 0, "the lease has not passed yet");
    clock.advance(1);
    server.cron();
    assert.equal(await r.hget("room", "a:alice"), String(T0 + 1500), "away until lease + grace");
    assert.equal(
      await r.call("GROUP.ISMEMBER", "room", "alice"),
      1,
      "an away member keeps its seat",
    );
    await assert.rejects(r.call("GROUP.JOIN", "room", "carol"), /FULL group 'room' is full/);
    // The heartbeat within the grace: back, with a new lease.
    clock.advance(400);
    assert.equal(
      await nr.sendCommand(["GROUP.JOIN", "room", "alice", "TTL", "1000", "GRACE", "500"]),
      2,
    );
    assert.equal(await r.hexists("room", "a:alice"), 0);
    assert.equal(await r.hget("room", "m:alice"), String(T0 + 2400));
    // The next lease passes, and the grace too: removed.
    clock.advance(1000);
    server.cron();
    assert.equal(await r.hget("room", "a:alice"), String(T0 + 2900));
    clock.advance(499);
    server.cron();
    assert.equal(await r.call("GROUP.ISMEMBER", "room", "alice"), 1, "the grace has 1 ms left");
    clock.advance(1);
    server.cron();
    assert.equal(await r.call("GROUP.ISMEMBER", "room", "alice"), 0);
    assert.deepEqual(await r.hgetall("room"), { capacity: "2", open: "1", "m:bob": "0" });
    await r.publish("__group__:room", "end");
    await until(() => events.at(-1) === "end", "the messages");
    assert.deepEqual(events, [
      "join alice 1",
      "join bob 2",
      "away alice 2",
      "back alice 2",
      "away alice 2",
      "expire alice 1",
      "end",
    ]);
    // A join without GRACE drops it; GRACE needs a lease.
    await r.call("GROUP.JOIN", "room", "dave", "TTL", "100", "GRACE", "100");
    await r.call("GROUP.JOIN", "room", "dave", "TTL", "100");
    assert.equal(await r.hexists("room", "g:dave"), 0);
    await assert.rejects(
      r.call("GROUP.JOIN", "room", "dave", "GRACE", "100"),
      /^ReplyError: ERR GRACE needs a TTL$/,
    );
    for (const bad of ["0", "-1", "x"]) {
      await assert.rejects(
        r.call("GROUP.JOIN", "room", "dave", "TTL", "100", "GRACE", bad),
        /^ReplyError: ERR GRACE must be a positive integer number of milliseconds$/,
      );
    }
    if (missing("redis-cli") === false) {
      const out = await redisCli(port, ["GROUP.JOIN", "room", "dave", "TTL", "9", "GRACE", "9"]);
      assert.equal(out.stdout, "2\n");
    }
  } finally {
    r.disconnect();
    sub.disconnect();
    await nr.quit();
    await close();
  }
});

test("away and removal propagate as HSET a:<member> and one HDEL of the member's fields", () => {
  const { run, clock, server } = recorder();
  run("GROUP.CREATE", "room", "2");
  assert.deepEqual(run("GROUP.JOIN", "room", "a", "TTL", "100", "GRACE", "50", "WITHTOKEN"), [
    ["HSET", "room", "m:a", String(T0 + 100), "token", "1", "t:a", "1", "g:a", "50"],
  ]);
  const seen: string[][] = [];
  server.on(
    "propagate",
    (_db, argv) => seen.push(argv.map((x, i) => i === 0 ? x.toUpperCase() : x)),
  );
  clock.advance(100);
  server.cron();
  assert.deepEqual(seen, [["HSET", "room", "a:a", String(T0 + 150)]]);
  seen.length = 0;
  clock.advance(50);
  server.cron();
  assert.deepEqual(seen, [["HDEL", "room", "m:a", "t:a", "g:a", "a:a"]]);
});
