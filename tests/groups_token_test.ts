/**
 * Fencing tokens of the groups plugin (plugins/groups/README.md): GROUP.JOIN ... WITHTOKEN,
 * heartbeats and GROUP.LEAVE with TOKEN, the STALE refusal; tokens strictly increasing per group
 * across an AOF restart and a failover to a replica; with ioredis, node-redis and redis-cli.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "redis";
import { createServer } from "../mod.ts";
import { groups } from "../plugins/groups/mod.ts";
import { replication } from "../replication/mod.ts";
import { redisCli } from "./helpers.ts";
import { io, start, T0 } from "./groups_helpers.ts";
import { client, field, HOST, infoText, waitFor } from "./replication_helpers.ts";
import { missing } from "./redis_tools.ts";

const stale = (t: number, m: string, g = "room") =>
  `STALE token ${t} does not hold the seat of '${m}' in '${g}'`;

test("WITHTOKEN gives [size, token]; a seat lost to its lease refuses the old token", async () => {
  const { server, port, clock, close } = await start();
  const r = io(port);
  try {
    await r.call("GROUP.CREATE", "room", "2");
    assert.deepEqual(await r.call("GROUP.JOIN", "room", "alice", "WITHTOKEN"), [1, 1]);
    assert.deepEqual(await r.call("GROUP.JOIN", "room", "bob", "TTL", "1000", "WITHTOKEN"), [2, 2]);
    // A retried join keeps its seat and its token.
    assert.deepEqual(await r.call("GROUP.JOIN", "room", "bob", "withtoken", "TTL", "1000"), [2, 2]);
    assert.deepEqual(await r.hgetall("room"), {
      capacity: "2",
      open: "1",
      "m:alice": "0",
      "m:bob": String(T0 + 1000),
      token: "2",
      "t:alice": "1",
      "t:bob": "2",
    });
    // The heartbeat of the instance holding token 2.
    clock.advance(500);
    assert.equal(await r.call("GROUP.JOIN", "room", "bob", "TTL", "1000", "TOKEN", "2"), 2);
    assert.equal(await r.hget("room", "m:bob"), String(T0 + 1500));
    await assert.rejects(
      r.call("GROUP.JOIN", "room", "bob", "TTL", "1000", "TOKEN", "1"),
      (e: Error) => e.message === stale(1, "bob"),
    );
    // bob's instance pauses; the lease passes and the seat goes to someone else.
    clock.advance(1001);
    server.cron();
    assert.equal(await r.call("GROUP.ISMEMBER", "room", "bob"), 0);
    assert.equal(await r.hexists("room", "t:bob"), 0, "the token goes with the seat");
    assert.deepEqual(await r.call("GROUP.JOIN", "room", "carol", "WITHTOKEN"), [2, 3]);
    // Back, the paused instance's heartbeat with token 2 does not take a seat again.
    await assert.rejects(
      r.call("GROUP.JOIN", "room", "bob", "TTL", "1000", "TOKEN", "2"),
      (e: Error) => e.message === stale(2, "bob"),
    );
    assert.equal(await r.call("GROUP.ISMEMBER", "room", "bob"), 0);
    // LEAVE with a stale token leaves the seat alone; with the right one it frees it.
    await assert.rejects(
      r.call("GROUP.LEAVE", "room", "carol", "TOKEN", "1"),
      (e: Error) => e.message === stale(1, "carol"),
    );
    assert.equal(await r.call("GROUP.ISMEMBER", "room", "carol"), 1);
    assert.equal(await r.call("GROUP.LEAVE", "room", "carol", "TOKEN", "3"), 1);
    assert.equal(await r.call("GROUP.LEAVE", "room", "carol", "TOKEN", "3"), 0, "not a member");
    // A seat taken without WITHTOKEN has no token: any token is stale for it.
    assert.equal(await r.call("GROUP.JOIN", "room", "dave"), 2);
    await assert.rejects(r.call("GROUP.LEAVE", "room", "dave", "TOKEN", "3"), /^ReplyError: STALE/);
    // A member in without a token gets a new one when it asks.
    assert.deepEqual(await r.call("GROUP.JOIN", "room", "dave", "WITHTOKEN"), [2, 4]);
    assert.deepEqual(await r.call("GROUP.JOIN", "room", "alice", "TOKEN", "1", "WITHTOKEN"), [
      2,
      1,
    ]);
    assert.equal(await r.hget("room", "token"), "4");
    for (const bad of ["0", "-1", "x", "1.5"]) {
      await assert.rejects(
        r.call("GROUP.JOIN", "room", "alice", "TOKEN", bad),
        /^ReplyError: ERR token must be a positive integer$/,
      );
      await assert.rejects(
        r.call("GROUP.LEAVE", "room", "alice", "TOKEN", bad),
        /^ReplyError: ERR token must be a positive integer$/,
      );
    }
    await assert.rejects(r.call("GROUP.JOIN", "room", "alice", "TOKEN"), /ERR syntax error/);
    await assert.rejects(
      r.call("GROUP.LEAVE", "room", "alice", "x"),
      /^ReplyError: ERR wrong number of arguments for 'group.leave' command$/,
    );
    await assert.rejects(r.call("GROUP.LEAVE", "room", "alice", "FOO", "1"), /ERR syntax error/);
  } finally {
    r.disconnect();
    await close();
  }
});

test("tokens with node-redis and redis-cli, and WAIT WITHTOKEN", async () => {
  const { port, close } = await start();
  const nr = createClient({ socket: { port, host: "127.0.0.1" } });
  const waiter = createClient({ socket: { port, host: "127.0.0.1" } });
  try {
    await nr.connect();
    await waiter.connect();
    await nr.sendCommand(["GROUP.CREATE", "room", "1"]);
    assert.deepEqual(await nr.sendCommand(["GROUP.JOIN", "room", "a", "WITHTOKEN"]), [1, 1]);
    const waited = waiter.sendCommand(["GROUP.JOIN", "room", "b", "WITHTOKEN", "WAIT", "0"]);
    let p: unknown = null;
    for (let i = 0; i < 200 && p === null; i++) {
      p = await nr.sendCommand(["GROUP.POS", "room", "b"]);
    }
    assert.equal(p, 1);
    assert.equal(await nr.sendCommand(["GROUP.LEAVE", "room", "a", "TOKEN", "1"]), 1);
    assert.deepEqual(await waited, [1, 2], "the token is issued at admission");
    if (missing("redis-cli") === false) {
      await nr.sendCommand(["GROUP.RESIZE", "room", "2"]);
      const got = await redisCli(port, ["--no-raw", "GROUP.JOIN", "room", "c", "WITHTOKEN"]);
      assert.equal(got.stdout, "1) (integer) 2\n2) (integer) 3\n");
      const refused = await redisCli(port, ["--no-raw", "GROUP.LEAVE", "room", "c", "TOKEN", "2"]);
      assert.equal(refused.stdout, `(error) ${stale(2, "c")}\n`);
    }
  } finally {
    await nr.quit();
    await waiter.quit();
    await close();
  }
});

test("tokens keep increasing after a restart from the AOF", async () => {
  const dir = mkdtempSync(join(tmpdir(), "redeno-groups-aof-"));
  const open = async () => {
    const s = createServer({
      plugins: [groups()],
      config: { appendonly: "yes", dir, appendfsync: "always" },
    });
    return { s, port: (await s.listen({ port: 0, hostname: HOST })).port };
  };
  try {
    const first = await open();
    const r = io(first.port);
    await r.call("GROUP.CREATE", "room", "10");
    for (let i = 1; i <= 5; i++) {
      assert.deepEqual(await r.call("GROUP.JOIN", "room", `m${i}`, "WITHTOKEN"), [i, i]);
    }
    await r.call("GROUP.LEAVE", "room", "m5");
    r.disconnect();
    await first.s.close();
    const second = await open();
    const r2 = io(second.port);
    assert.deepEqual(await r2.call("GROUP.JOIN", "room", "m5", "WITHTOKEN"), [5, 6]);
    assert.deepEqual(await r2.call("GROUP.JOIN", "room", "m1", "WITHTOKEN"), [5, 1]);
    assert.equal(await r2.call("GROUP.JOIN", "room", "m2", "TOKEN", "2"), 5);
    r2.disconnect();
    await second.s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("tokens keep increasing after a failover to a replica", async () => {
  const m = createServer({ plugins: [groups(), replication()] });
  const port = (await m.listen({ port: 0, hostname: HOST })).port;
  const rs = createServer({
    plugins: [groups(), replication()],
    config: { replicaof: `${HOST} ${port}` },
  });
  const rport = (await rs.listen({ port: 0, hostname: HOST })).port;
  const c = client(port);
  const rc = client(rport);
  try {
    await waitFor(
      () => field(infoText(rs, "replication"), "master_link_status") === "up",
      "the replica",
    );
    await c.call("GROUP.CREATE", "room", "10");
    assert.deepEqual(await c.call("GROUP.JOIN", "room", "a", "WITHTOKEN"), [1, 1]);
    assert.deepEqual(await c.call("GROUP.JOIN", "room", "b", "WITHTOKEN"), [2, 2]);
    assert.equal(await c.call("WAIT", "1", "5000"), 1);
    await m.close();
    assert.equal(await rc.call("REPLICAOF", "NO", "ONE"), "OK");
    assert.deepEqual(await rc.call("GROUP.JOIN", "room", "c", "WITHTOKEN"), [3, 3]);
    assert.equal(await rc.call("GROUP.JOIN", "room", "a", "TOKEN", "1"), 3, "a's token held");
    await assert.rejects(rc.call("GROUP.LEAVE", "room", "b", "TOKEN", "1"), /^ReplyError: STALE/);
  } finally {
    c.disconnect();
    rc.disconnect();
    await rs.close();
    await m.close();
  }
});
