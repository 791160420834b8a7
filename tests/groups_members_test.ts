/**
 * Member metadata (JOIN ... META, GROUP.SETMETA, GROUP.MEMBERS ... WITHMETA), GROUP.KICK with BAN
 * and GROUP.JOINALL (all or none), as plugins/groups/README.md describes them; with ioredis,
 * node-redis, redis-cli and raw RESP2/RESP3 connections.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "redis";
import { hello3, RawConn, redisCli } from "./helpers.ts";
import { io, recorder, start, T0, until } from "./groups_helpers.ts";
import { missing } from "./redis_tools.ts";

test("metadata: set on join and with SETMETA, read with MEMBERS WITHMETA, gone with the member", async () => {
  const { port, close } = await start();
  const r = io(port);
  const sub = io(port);
  const c2 = await RawConn.connect(port);
  const c3 = await RawConn.connect(port);
  const events: string[] = [];
  try {
    await hello3(c3);
    sub.on("message", (_c: string, m: string) => events.push(m));
    await sub.subscribe("__group__:room");
    await r.call("GROUP.CREATE", "room", "5");
    assert.equal(
      await r.call(
        "GROUP.JOIN",
        "room",
        "alice",
        "TTL",
        "5000",
        "META",
        "status",
        "online",
        "x",
        "1",
      ),
      1,
    );
    assert.equal(await r.call("GROUP.JOIN", "room", "bob"), 2);
    assert.equal(await r.hget("room", "d:alice"), '["status","online","x","1"]');
    assert.equal(await r.call("GROUP.SETMETA", "room", "alice", "status", "typing", "y", "2"), 1);
    assert.equal(await r.call("GROUP.SETMETA", "room", "bob", "name", "Bob"), 1);
    assert.equal(await r.call("GROUP.SETMETA", "room", "bob", "name", "Bob"), 0, "unchanged");
    // A re-join with META merges.
    assert.equal(await r.call("GROUP.JOIN", "room", "bob", "META", "avatar", "b.png"), 2);
    assert.deepEqual(await r.call("GROUP.MEMBERS", "room", "WITHMETA"), [
      "alice",
      ["status", "typing", "x", "1", "y", "2"],
      "bob",
      ["name", "Bob", "avatar", "b.png"],
    ]);
    assert.deepEqual(await r.call("GROUP.MEMBERS", "room"), ["alice", "bob"]);
    c2.command("GROUP.MEMBERS", "room", "withmeta");
    const flat =
      "*4\r\n$5\r\nalice\r\n*6\r\n$6\r\nstatus\r\n$6\r\ntyping\r\n$1\r\nx\r\n$1\r\n1\r\n" +
      "$1\r\ny\r\n$1\r\n2\r\n$3\r\nbob\r\n*4\r\n$4\r\nname\r\n$3\r\nBob\r\n$6\r\navatar\r\n$5\r\nb.png\r\n";
    assert.equal(await c2.expect(flat), flat);
    c3.command("GROUP.MEMBERS", "room", "WITHMETA");
    const map =
      "%2\r\n$5\r\nalice\r\n%3\r\n$6\r\nstatus\r\n$6\r\ntyping\r\n$1\r\nx\r\n$1\r\n1\r\n" +
      "$1\r\ny\r\n$1\r\n2\r\n$3\r\nbob\r\n%2\r\n$4\r\nname\r\n$3\r\nBob\r\n$6\r\navatar\r\n$5\r\nb.png\r\n";
    assert.equal(await c3.expect(map), map);
    await assert.rejects(
      r.call("GROUP.SETMETA", "room", "carol", "a", "b"),
      /^ReplyError: NOMEMBER 'carol' is not a member of group 'room'$/,
    );
    await assert.rejects(
      r.call("GROUP.SETMETA", "room", "alice", "a", "b", "c"),
      /^ReplyError: ERR wrong number of arguments for 'group.setmeta' command$/,
    );
    await assert.rejects(r.call("GROUP.JOIN", "room", "c", "META"), /ERR syntax error/);
    await assert.rejects(r.call("GROUP.JOIN", "room", "c", "META", "a"), /ERR syntax error/);
    await assert.rejects(r.call("GROUP.MEMBERS", "room", "WITHLEASE"), /ERR syntax error/);
    assert.equal(await r.call("GROUP.LEAVE", "room", "alice"), 1);
    assert.equal(await r.hexists("room", "d:alice"), 0, "the metadata goes with the member");
    await r.publish("__group__:room", "end");
    await until(() => events.at(-1) === "end", "the messages");
    assert.deepEqual(events, [
      "join alice 1",
      "join bob 2",
      "meta alice 2",
      "meta bob 2",
      "meta bob 2",
      "leave alice 1",
      "end",
    ]);
    if (missing("redis-cli") === false) {
      const out = await redisCli(port, ["--no-raw", "GROUP.MEMBERS", "room", "WITHMETA"]);
      assert.equal(
        out.stdout,
        '1) "bob"\n2) 1) "name"\n   2) "Bob"\n   3) "avatar"\n   4) "b.png"\n',
      );
    }
  } finally {
    r.disconnect();
    sub.disconnect();
    c2.close();
    c3.close();
    await close();
  }
});

test("KICK removes a member or reservation, frees the seat for the line, and BAN keeps it out", async () => {
  const { server, port, clock, close } = await start();
  const r = io(port);
  const waiter = io(port);
  const nr = createClient({ socket: { port, host: "127.0.0.1" } });
  try {
    await nr.connect();
    await r.call("GROUP.CREATE", "room", "2");
    await r.call("GROUP.JOIN", "room", "alice", "WITHTOKEN", "META", "k", "v");
    await r.call("GROUP.RESERVE", "room", "bob", "TTL", "60000");
    const joined = waiter.call("GROUP.JOIN", "room", "carol", "WAIT", "0");
    let p: unknown = null;
    for (let i = 0; i < 200 && p === null; i++) p = await r.call("GROUP.POS", "room", "carol");
    assert.equal(p, 1);
    assert.equal(await nr.sendCommand(["GROUP.KICK", "room", "alice", "BAN", "1000"]), 1);
    assert.equal(await joined, 1, "the kicked member's seat went to the first waiter");
    assert.equal(await r.hget("room", "b:alice"), String(T0 + 1000));
    assert.equal(await r.hexists("room", "t:alice"), 0);
    assert.equal(await r.hexists("room", "d:alice"), 0);
    assert.equal(await r.call("GROUP.KICK", "room", "bob"), 1, "a reservation is kicked too");
    assert.equal(await r.call("GROUP.KICK", "room", "bob"), 0);
    const refused = /^ReplyError: BANNED member 'alice' is banned from group 'room'$/;
    await assert.rejects(r.call("GROUP.JOIN", "room", "alice"), refused);
    await assert.rejects(r.call("GROUP.RESERVE", "room", "alice", "TTL", "10"), refused);
    await assert.rejects(r.call("GROUP.JOINALL", "room", "dave", "alice"), refused);
    assert.equal(await r.call("GROUP.ISMEMBER", "room", "dave"), 0, "all or none");
    // A ban on someone not in: still a ban.
    assert.equal(await r.call("GROUP.KICK", "room", "eve", "BAN", "5000"), 0);
    await assert.rejects(r.call("GROUP.JOIN", "room", "eve"), /BANNED member 'eve'/);
    clock.advance(1000);
    server.cron();
    assert.equal(await r.hexists("room", "b:alice"), 0, "the ban passed");
    assert.equal(await r.call("GROUP.JOIN", "room", "alice"), 2);
    await assert.rejects(
      r.call("GROUP.KICK", "room", "alice", "BAN", "0"),
      /^ReplyError: ERR BAN must be a positive integer number of milliseconds$/,
    );
    await assert.rejects(r.call("GROUP.KICK", "room", "alice", "FOR", "10"), /ERR syntax error/);
    await assert.rejects(r.call("GROUP.KICK", "nope", "alice"), /NOGROUP/);
    if (missing("redis-cli") === false) {
      assert.equal((await redisCli(port, ["GROUP.KICK", "room", "alice"])).stdout, "1\n");
    }
  } finally {
    r.disconnect();
    waiter.disconnect();
    await nr.quit();
    await close();
  }
});

test("JOINALL admits a whole party or nobody", async () => {
  const { port, close } = await start();
  const r = io(port);
  const nr = createClient({ socket: { port, host: "127.0.0.1" } });
  try {
    await nr.connect();
    await r.call("GROUP.CREATE", "room", "5");
    await r.call("GROUP.JOIN", "room", "a", "TTL", "9000");
    await r.call("GROUP.RESERVE", "room", "r", "TTL", "9000");
    // a is in, r holds a seat: b and c need two of the three free.
    assert.equal(await r.call("GROUP.JOINALL", "room", "a", "b", "c", "r", "b"), 4);
    assert.equal(await r.hget("room", "m:a"), String(T0 + 9000), "a member in stays as is");
    assert.equal(await r.hexists("room", "r:r"), 0, "r's reservation confirmed");
    await assert.rejects(
      nr.sendCommand(["GROUP.JOINALL", "room", "d", "e"]),
      /FULL group 'room' is full/,
    );
    assert.equal(await r.call("GROUP.ISMEMBER", "room", "d"), 0, "none of them");
    assert.equal(await nr.sendCommand(["GROUP.JOINALL", "room", "d", "a"]), 5);
    await r.call("GROUP.RESIZE", "room", "7");
    await r.call("GROUP.CLOSE", "room");
    await assert.rejects(
      r.call("GROUP.JOINALL", "room", "x", "y"),
      /CLOSED group 'room' is closed/,
    );
    assert.equal(await r.call("GROUP.JOINALL", "room", "a", "b"), 5, "all in already");
    await assert.rejects(r.call("GROUP.JOINALL", "room"), /wrong number of arguments/);
    if (missing("redis-cli") === false) {
      await r.call("GROUP.OPEN", "room");
      assert.equal((await redisCli(port, ["GROUP.JOINALL", "room", "x", "y"])).stdout, "7\n");
    }
  } finally {
    r.disconnect();
    await nr.quit();
    await close();
  }
});

test("JOINALL, SETMETA and KICK propagate as hash writes", () => {
  const { run, clock } = recorder();
  run("GROUP.CREATE", "room", "5");
  assert.deepEqual(run("GROUP.JOINALL", "room", "a", "b"), [
    ["HSET", "room", "m:a", "0", "m:b", "0"],
  ]);
  assert.deepEqual(run("GROUP.SETMETA", "room", "a", "k", "v"), [
    ["HSET", "room", "d:a", '["k","v"]'],
  ]);
  assert.deepEqual(run("GROUP.KICK", "room", "a", "BAN", "100"), [
    ["MULTI"],
    ["HDEL", "room", "m:a", "d:a"],
    ["HSET", "room", "b:a", String(T0 + 100)],
    ["EXEC"],
  ]);
  assert.deepEqual(run("GROUP.JOINALL", "room", "a", "c"), [], "refused: nothing");
  clock.advance(100);
  assert.deepEqual(run("GROUP.JOINALL", "room", "a", "c"), [
    ["MULTI"],
    ["HDEL", "room", "b:a"],
    ["HSET", "room", "m:a", "0", "m:c", "0"],
    ["EXEC"],
  ]);
});
