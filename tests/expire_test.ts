import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createServer, ManualClock } from "../mod.ts";
import type { Server } from "../mod.ts";
import { errorText, RawConn, recordEffects, recordEvents, startServer } from "./helpers.ts";

const T0 = 1_700_000_000_000;

function setup(): { server: Server; clock: ManualClock; prop: string[][]; events: string[] } {
  const clock = new ManualClock(T0);
  const server = createServer({ clock });
  return { server, clock, prop: recordEffects(server), events: recordEvents(server) };
}

test("every EXPIRE form propagates as PEXPIREAT with the absolute time, options kept", () => {
  const { server, prop, events } = setup();
  server.dispatch(["SET", "k", "v"]);
  prop.length = 0;
  assert.equal(server.dispatch(["EXPIRE", "k", "100"]), 1);
  assert.equal(server.dispatch(["PEXPIRE", "k", "200000", "GT"]), 1);
  assert.equal(server.dispatch(["EXPIREAT", "k", String(T0 / 1000 + 300)]), 1);
  assert.equal(server.dispatch(["pexpireat", "k", String(T0 + 400_000), "xx"]), 1);
  assert.deepEqual(prop, [
    ["PEXPIREAT", "k", String(T0 + 100_000)],
    ["PEXPIREAT", "k", String(T0 + 200_000), "GT"],
    ["PEXPIREAT", "k", String(T0 + 300_000)],
    ["PEXPIREAT", "k", String(T0 + 400_000), "xx"],
  ]);
  assert.deepEqual(events.filter((e) => e.startsWith("expire:")).length, 4);
  assert.equal(server.dispatch(["PEXPIRETIME", "k"]), T0 + 400_000);
});

test("a time in the past deletes the key, propagates DEL and fires del", () => {
  const { server, prop, events } = setup();
  server.dispatch(["SET", "k", "v"]);
  server.dispatch(["SET", "j", "v"]);
  prop.length = 0;
  const dirty = server.dirty;
  assert.equal(server.dispatch(["EXPIRE", "k", "-10"]), 1);
  assert.equal(server.dispatch(["PEXPIREAT", "j", String(T0)]), 1, "now counts as past");
  assert.deepEqual(prop, [["DEL", "k"], ["DEL", "j"]]);
  assert.deepEqual(events.slice(-2), ["del:k", "del:j"]);
  assert.equal(server.dirty - dirty, 2);
  assert.equal(server.dispatch(["DBSIZE"]), 0);
  assert.equal(server.dispatch(["EXPIRE", "k", "10"]), 0, "missing key");
});

test("on a replica a past time sets the TTL instead of deleting", () => {
  const { server } = setup();
  server.dispatch(["SET", "k", "v"]);
  server.masterHost = "127.0.0.1 1";
  try {
    assert.equal(server.dispatch(["PEXPIREAT", "k", String(T0 - 5)]), 1);
    assert.equal(server.dispatch(["DBSIZE"]), 1, "the key waits for the master's DEL");
    assert.equal(server.dbs[0]!.getExpire("k"), T0 - 5);
    assert.equal(server.dispatch(["TTL", "k"]), -2, "but reads see it as gone");
  } finally {
    server.masterHost = undefined;
  }
});

test("NX, XX, GT and LT follow Redis, a missing TTL counting as infinite", () => {
  const { server } = setup();
  server.dispatch(["SET", "k", "v"]);
  assert.equal(server.dispatch(["EXPIRE", "k", "100", "XX"]), 0);
  assert.equal(server.dispatch(["EXPIRE", "k", "100", "GT"]), 0);
  assert.equal(server.dispatch(["EXPIRE", "k", "100", "LT"]), 1);
  assert.equal(server.dispatch(["EXPIRE", "k", "50", "NX"]), 0);
  assert.equal(server.dispatch(["EXPIRE", "k", "200", "LT"]), 0);
  assert.equal(server.dispatch(["EXPIRE", "k", "200", "GT", "XX"]), 1);
  assert.equal(server.dispatch(["TTL", "k"]), 200);
  assert.equal(server.dispatch(["EXPIRE", "k", "100", "nx", "nx"]), 0, "repeats are fine");
  assert.equal(server.dispatch(["EXPIRE", "k", "-1", "LT"]), 1);
  assert.equal(server.dispatch(["TTL", "k"]), -2);
});

test("EXPIRE errors carry Redis's exact texts", () => {
  const { server } = setup();
  server.dispatch(["SET", "k", "v"]);
  const err = (...argv: string[]) => errorText(server.dispatch(argv));
  const nx = "ERR NX and XX, GT or LT options at the same time are not compatible";
  assert.equal(err("EXPIRE", "k", "1", "NX", "XX"), nx);
  assert.equal(err("EXPIRE", "k", "1", "NX", "GT"), nx);
  assert.equal(err("EXPIRE", "k", "1", "LT", "NX"), nx);
  assert.equal(
    err("EXPIRE", "k", "1", "GT", "LT"),
    "ERR GT and LT options at the same time are not compatible",
  );
  assert.equal(
    err("EXPIRE", "k", "x", "AB"),
    "ERR Unsupported option AB",
    "options are checked first",
  );
  assert.equal(err("EXPIRE", "k", ""), "ERR value is not an integer or out of range");
  for (
    const big of ["9223370399119966", "9223372036854776", "-9223372036854776", "18446744073709561"]
  ) {
    assert.equal(err("EXPIRE", "k", big), "ERR invalid expire time in 'expire' command", big);
  }
  assert.equal(
    err("PEXPIRE", "k", "9223372036854770000"),
    "ERR invalid expire time in 'pexpire' command",
  );
  assert.equal(server.dispatch(["TTL", "k"]), -1, "failed commands leave the key alone");
  assert.equal(server.dispatch(["PEXPIREAT", "k", "9223372036854770000"]), 1);
  assert.equal(server.dispatch(["PEXPIREAT", "k", "-9223372036854770000"]), 1);
  assert.equal(server.dispatch(["EXISTS", "k"]), 0);
});

test("TTL rounds to the nearest second; PTTL, EXPIRETIME and PEXPIRETIME are exact", () => {
  const { server, clock } = setup();
  server.dispatch(["SET", "k", "v", "PX", "1499"]);
  assert.equal(server.dispatch(["TTL", "k"]), 1);
  server.dispatch(["PEXPIRE", "k", "1500"]);
  assert.equal(server.dispatch(["TTL", "k"]), 2);
  clock.advance(1000);
  assert.equal(server.dispatch(["PTTL", "k"]), 500);
  assert.equal(server.dispatch(["TTL", "k"]), 1);
  assert.equal(server.dispatch(["PEXPIRETIME", "k"]), T0 + 1500);
  assert.equal(server.dispatch(["EXPIRETIME", "k"]), Math.floor((T0 + 1500 + 500) / 1000));
  server.dispatch(["SET", "p", "v"]);
  for (const cmd of ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"]) {
    assert.equal(server.dispatch([cmd, "p"]), -1, cmd);
    assert.equal(server.dispatch([cmd, "nokey"]), -2, cmd);
  }
});

test("PERSIST removes a TTL once, fires persist and propagates", () => {
  const { server, prop, events } = setup();
  server.dispatch(["SET", "k", "v", "EX", "10"]);
  server.dispatch(["SET", "p", "v"]);
  prop.length = 0;
  assert.equal(server.dispatch(["PERSIST", "k"]), 1);
  assert.equal(server.dispatch(["PERSIST", "k"]), 0);
  assert.equal(server.dispatch(["PERSIST", "p"]), 0);
  assert.equal(server.dispatch(["PERSIST", "nokey"]), 0);
  assert.equal(server.dispatch(["TTL", "k"]), -1);
  assert.deepEqual(prop, [["PERSIST", "k"]]);
  assert.equal(events.at(-1), "persist:k");
});

test("an expired key vanishes on access and its DEL reaches the propagate hook", () => {
  const { server, clock, prop, events } = setup();
  server.activeExpireEnabled = false;
  server.dispatch(["SET", "k", "v", "PX", "100"]);
  clock.advance(99);
  assert.equal(server.dispatch(["GET", "k"]), "v");
  clock.advance(1);
  assert.equal(server.dispatch(["DBSIZE"]), 1, "nothing reclaimed before an access");
  prop.length = 0;
  assert.equal(server.dispatch(["GET", "k"]), null);
  assert.equal(server.dispatch(["DBSIZE"]), 0);
  assert.deepEqual(prop, [["DEL", "k"]]);
  assert.equal(events.at(-1), "expired:k");
});

test("the active cycle reclaims expired keys from server.cron and propagates DEL", () => {
  const { server, clock, prop } = setup();
  for (let i = 0; i < 50; i++) server.dispatch(["SET", `t${i}`, "v", "PX", String(100 + i)]);
  server.dispatch(["SET", "keep", "v"]);
  server.dispatch(["SET", "later", "v", "EX", "1000"]);
  prop.length = 0;
  clock.advance(200);
  for (let i = 0; i < 10 && server.dbs[0]!.size > 2; i++) server.cron();
  assert.equal(server.dbs[0]!.size, 2);
  assert.equal(prop.length, 50);
  assert.ok(prop.every((argv) => argv[0] === "DEL" && argv[1]!.startsWith("t")));
  assert.equal(server.dispatch(["EXISTS", "keep", "later"]), 2);
});

test("SET EX is rewritten to PXAT for propagation", () => {
  const { server, prop } = setup();
  server.dispatch(["SET", "k", "v", "EX", "10"]);
  server.dispatch(["SETEX", "j", "5", "v"]);
  assert.deepEqual(prop, [
    ["SET", "k", "v", "PXAT", String(T0 + 10_000)],
    ["SET", "j", "v", "PXAT", String(T0 + 5000)],
  ]);
});

test("ioredis sees EXPIRE, TTL and PERSIST behave as on Redis", async () => {
  const { port, close } = await startServer();
  const r = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
  await r.connect();
  try {
    await r.set("x", "foobar");
    assert.equal(await r.expire("x", 5), 1);
    assert.ok([4, 5].includes(await r.ttl("x")));
    assert.equal(await r.expire("x", 10), 1);
    assert.equal(await r.ttl("x"), 10);
    const pttl = await r.pttl("x");
    assert.ok(pttl > 9000 && pttl <= 10000, `pttl ${pttl}`);
    assert.equal(await r.persist("x"), 1);
    assert.equal(await r.ttl("x"), -1);
    await assert.rejects(
      r.call("EXPIRE", "x", "10", "AB"),
      /^ReplyError: ERR Unsupported option AB$/,
    );
  } finally {
    r.disconnect();
    await close();
  }
});

test("TTL replies are RESP integers on the wire", async () => {
  const { port, close } = await startServer();
  const c = await RawConn.connect(port);
  try {
    c.command("TTL", "nokey");
    assert.equal(await c.expect(":-2\r\n"), ":-2\r\n");
    c.command("SET", "k", "v");
    await c.expect("+OK\r\n");
    c.command("PEXPIRETIME", "k");
    assert.equal(await c.expect(":-1\r\n"), ":-1\r\n");
  } finally {
    c.close();
    await close();
  }
});
