/**
 * GROUP.JOIN ... WAIT and GROUP.POS (plugins/groups/README.md): a first-come-first-served line per
 * group, admitted in order as seats free (leave, lease expiry, resize, open), left by a closed
 * connection or a timeout, non-blocking inside MULTI and scripts; with ioredis, node-redis,
 * redis-cli and raw connections.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "redis";
import { RawConn, redisCli } from "./helpers.ts";
import { io, start, until } from "./groups_helpers.ts";
import { missing } from "./redis_tools.ts";

test("50 connections wait for a full room: admitted in the order of the line, never overbooked", async () => {
  const { port, close } = await start();
  const admin = io(port);
  const sub = io(port);
  const conns = Array.from({ length: 50 }, () => io(port));
  const events: string[] = [];
  try {
    await Promise.all(conns.map((c) => c.ping()));
    sub.on("message", (_ch: string, msg: string) => events.push(msg));
    await sub.subscribe("__group__:room");
    await admin.call("GROUP.CREATE", "room", "3");
    for (const m of ["a", "b", "c"]) await admin.call("GROUP.JOIN", "room", m);
    // All 50 at once: the server decides the order, GROUP.POS tells it.
    const replies = conns.map((c, i) => c.call("GROUP.JOIN", "room", `w${i}`, "WAIT", "0"));
    const pos = new Map<string, number>();
    for (let tries = 0; tries < 200 && pos.size < 50; tries++) {
      pos.clear();
      for (let i = 0; i < 50; i++) {
        const p = await admin.call("GROUP.POS", "room", `w${i}`);
        if (p !== null) pos.set(`w${i}`, p as number);
      }
    }
    assert.equal(pos.size, 50);
    assert.deepEqual(
      [...pos.values()].sort((x, y) => x - y),
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    const line = [...pos.entries()].sort((x, y) => x[1] - y[1]).map(([m]) => m);
    await assert.rejects(admin.call("GROUP.JOIN", "room", "late"), /FULL group 'room' is full/);
    // Seats free one at a time: each goes to the first in line.
    const admitted: string[] = [];
    for (const leaving of ["a", "b", "c", ...line.slice(0, 20)]) {
      assert.equal(await admin.call("GROUP.LEAVE", "room", leaving), 1);
      const next = line[admitted.length]!;
      await until(() => events.includes(`join ${next} 3`), `${next} admitted`);
      admitted.push(next);
      assert.equal(await admin.call("GROUP.POS", "room", next), null);
      const second = line[admitted.length];
      if (second !== undefined) assert.equal(await admin.call("GROUP.POS", "room", second), 1);
    }
    // Ten seats at once: the next ten, in order.
    assert.equal(await admin.call("GROUP.RESIZE", "room", "13"), "OK");
    await until(() => events.filter((e) => e.startsWith("join w")).length === 33, "ten more");
    assert.equal(await admin.call("GROUP.RESIZE", "room", "100"), "OK");
    await until(() => events.filter((e) => e.startsWith("join w")).length === 50, "all");
    const joins = events.filter((e) => e.startsWith("join w"));
    assert.deepEqual(joins.map((e) => e.split(" ")[1]), line, "admitted in the order of the line");
    const results = await Promise.all(replies);
    for (const [i, r] of results.entries()) {
      const n = Number(joins.find((e) => e.startsWith(`join w${i} `))!.split(" ")[2]);
      assert.equal(r, n, "each waiter's reply is the size its admission made");
    }
    assert.ok(joins.every((e) => Number(e.split(" ")[2]) <= 100));
    assert.equal((await admin.call("GROUP.MEMBERS", "room") as string[]).length, 30);
  } finally {
    for (const c of conns) c.disconnect();
    sub.disconnect();
    admin.disconnect();
    await close();
  }
});

test("WAIT times out with nil (decimals allowed), and a closed connection leaves the line", async () => {
  const { port, close } = await start();
  const admin = io(port);
  const a = await RawConn.connect(port);
  const b = await RawConn.connect(port);
  try {
    await admin.call("GROUP.CREATE", "room", "1");
    await admin.call("GROUP.JOIN", "room", "owner");
    a.command("GROUP.JOIN", "room", "x", "WAIT", "0.05");
    assert.equal(await a.expect("$-1\r\n"), "$-1\r\n", "nil once the timeout passes");
    assert.equal(await admin.call("GROUP.POS", "room", "x"), null);
    a.command("GROUP.JOIN", "room", "x", "WAIT", "0");
    await until(() => a.pending === "", "a sent");
    let p: unknown = null;
    for (let i = 0; i < 200 && p === null; i++) p = await admin.call("GROUP.POS", "room", "x");
    assert.equal(p, 1);
    b.command("GROUP.JOIN", "room", "y", "TTL", "60000", "WAIT", "0");
    for (let i = 0; i < 200 && p !== 2; i++) p = await admin.call("GROUP.POS", "room", "y");
    assert.equal(p, 2);
    a.close();
    for (let i = 0; i < 200 && p !== 1; i++) p = await admin.call("GROUP.POS", "room", "y");
    assert.equal(p, 1, "x's connection closed: y is first");
    assert.equal(await admin.call("GROUP.POS", "room", "x"), null);
    assert.equal(await admin.call("GROUP.LEAVE", "room", "owner"), 1);
    assert.equal(await b.expect(":1\r\n"), ":1\r\n");
    assert.deepEqual(await admin.call("GROUP.MEMBERS", "room"), ["y"]);
    assert.notEqual(
      await admin.hget("room", "m:y"),
      "0",
      "the lease asked for is set at admission",
    );
    await assert.rejects(
      admin.call("GROUP.JOIN", "room", "z", "WAIT", "-1"),
      /^ReplyError: ERR timeout is negative$/,
    );
    await assert.rejects(
      admin.call("GROUP.JOIN", "room", "z", "WAIT", "soon"),
      /^ReplyError: ERR timeout is not a float or out of range$/,
    );
    await assert.rejects(admin.call("GROUP.JOIN", "room", "z", "WAIT"), /ERR syntax error/);
    await assert.rejects(admin.call("GROUP.POS", "nope", "z"), /NOGROUP no such group 'nope'/);
    await assert.rejects(admin.call("GROUP.POS", "room"), /wrong number of arguments/);
  } finally {
    a.close();
    b.close();
    admin.disconnect();
    await close();
  }
});

test("inside MULTI and scripts WAIT does not block; a seat freed in MULTI goes to the line", async () => {
  const { port, close } = await start();
  const admin = io(port);
  const waiter = io(port);
  try {
    await admin.call("GROUP.CREATE", "room", "1");
    await admin.call("GROUP.JOIN", "room", "owner");
    const res = await admin.multi().call("GROUP.JOIN", "room", "m", "WAIT", "0").exec();
    assert.deepEqual(res, [[null, null]], "nil at once, as BLPOP in MULTI");
    const lua = "return redis.call('GROUP.JOIN', KEYS[1], ARGV[1], 'WAIT', '0')";
    assert.equal(await admin.eval(lua, 1, "room", "s"), null);
    const joined = waiter.call("GROUP.JOIN", "room", "w", "WAIT", "0");
    let p: unknown = null;
    for (let i = 0; i < 200 && p === null; i++) p = await admin.call("GROUP.POS", "room", "w");
    assert.equal(p, 1);
    // The seat LEAVE frees belongs to w, first in line: the newcomer in the same EXEC is refused.
    const tx = await admin.multi()
      .call("GROUP.LEAVE", "room", "owner")
      .call("GROUP.JOIN", "room", "newcomer")
      .exec();
    assert.equal(tx![0]![1], 1);
    assert.equal((tx![1]![0] as Error).message, "FULL group 'room' is full");
    assert.equal(await joined, 1);
    assert.deepEqual(await admin.call("GROUP.MEMBERS", "room"), ["w"]);
    // With a seat free and nobody waiting, WAIT in MULTI admits as a plain join.
    await admin.call("GROUP.RESIZE", "room", "2");
    const ok = await admin.multi().call("GROUP.JOIN", "room", "m", "WAIT", "0").exec();
    assert.deepEqual(ok, [[null, 2]]);
  } finally {
    waiter.disconnect();
    admin.disconnect();
    await close();
  }
});

test("waiters are admitted when a lease passes, when the group opens, and get NOGROUP when it is deleted", async () => {
  const { server, port, clock, close } = await start();
  const admin = io(port);
  const nr = createClient({ socket: { port, host: "127.0.0.1" } });
  const nr2 = createClient({ socket: { port, host: "127.0.0.1" } });
  try {
    await nr.connect();
    await nr2.connect();
    await admin.call("GROUP.CREATE", "room", "1");
    await admin.call("GROUP.JOIN", "room", "owner", "TTL", "1000");
    const first = nr.sendCommand(["GROUP.JOIN", "room", "n1", "WAIT", "0"]);
    let p: unknown = null;
    for (let i = 0; i < 200 && p === null; i++) p = await admin.call("GROUP.POS", "room", "n1");
    assert.equal(p, 1);
    clock.advance(1001);
    server.cron();
    assert.equal(await first, 1, "the tick expired owner's lease and admitted n1");
    assert.deepEqual(await admin.call("GROUP.MEMBERS", "room"), ["n1"]);
    await admin.call("GROUP.LEAVE", "room", "n1");
    await admin.call("GROUP.CLOSE", "room");
    const second = nr.sendCommand(["GROUP.JOIN", "room", "n2", "WAIT", "0"]);
    p = null;
    for (let i = 0; i < 200 && p === null; i++) p = await admin.call("GROUP.POS", "room", "n2");
    assert.equal(p, 1, "a closed group makes WAIT wait");
    await assert.rejects(admin.call("GROUP.JOIN", "room", "x"), /CLOSED group 'room' is closed/);
    assert.equal(await admin.call("GROUP.OPEN", "room"), "OK");
    assert.equal(await second, 1);
    const third = nr2.sendCommand(["GROUP.JOIN", "room", "n3", "WAIT", "0"]).catch((e: Error) =>
      e.message
    );
    p = null;
    for (let i = 0; i < 200 && p === null; i++) p = await admin.call("GROUP.POS", "room", "n3");
    assert.equal(p, 1);
    assert.equal(await admin.del("room"), 1);
    assert.equal(await third, "NOGROUP no such group 'room'");
  } finally {
    await nr.quit();
    await nr2.quit();
    admin.disconnect();
    await close();
  }
});

test(
  "redis-cli blocks in GROUP.JOIN ... WAIT until a seat frees",
  { skip: missing("redis-cli") },
  async () => {
    const { port, close } = await start();
    const admin = io(port);
    try {
      await admin.call("GROUP.CREATE", "room", "1");
      await admin.call("GROUP.JOIN", "room", "owner");
      const cli = redisCli(port, ["GROUP.JOIN", "room", "carol", "WAIT", "0"]);
      let p: unknown = null;
      for (let i = 0; i < 500 && p === null; i++) {
        p = await admin.call(
          "GROUP.POS",
          "room",
          "carol",
        );
      }
      assert.equal(p, 1);
      assert.equal((await redisCli(port, ["GROUP.POS", "room", "carol"])).stdout, "1\n");
      assert.equal((await redisCli(port, ["GROUP.POS", "room", "dave"])).stdout, "\n");
      await admin.call("GROUP.LEAVE", "room", "owner");
      assert.equal((await cli).stdout, "1\n");
      const timedOut = await redisCli(port, [
        "--no-raw",
        "GROUP.JOIN",
        "room",
        "dave",
        "WAIT",
        "0.01",
      ]);
      assert.equal(timedOut.stdout, "(nil)\n");
    } finally {
      admin.disconnect();
      await close();
    }
  },
);
