import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { createServer, ManualClock, NotifyClass } from "../mod.ts";
import type { TypedValue } from "../mod.ts";
import { errorText, RawConn, startServer } from "./helpers.ts";

/** A value of some other type, to provoke WRONGTYPE without depending on other families. */
const otherType: TypedValue = { type: "list", encoding: () => "listpack", clone: () => otherType };

test("INCR and DECR create the key, count, and reply with integers", () => {
  const server = createServer();
  assert.equal(server.dispatch(["INCR", "n"]), 1);
  assert.equal(server.dispatch(["INCR", "n"]), 2);
  assert.equal(server.dispatch(["DECR", "n"]), 1);
  assert.equal(server.dispatch(["DECR", "m"]), -1);
  assert.equal(server.dispatch(["GET", "n"]), "1");
});

test("INCRBY and DECRBY use the full signed 64-bit range exactly", () => {
  const server = createServer();
  server.dispatch(["SET", "n", "9223372036854775806"]);
  assert.equal(server.dispatch(["INCR", "n"]), 9223372036854775807n);
  assert.equal(
    errorText(server.dispatch(["INCR", "n"])),
    "ERR increment or decrement would overflow",
  );
  server.dispatch(["SET", "n", "9007199254740992"]);
  assert.equal(server.dispatch(["INCRBY", "n", "1"]), 9007199254740993n);
  assert.equal(server.dispatch(["GET", "n"]), "9007199254740993");
  server.dispatch(["SET", "n", "-9223372036854775807"]);
  assert.equal(server.dispatch(["DECR", "n"]), -9223372036854775808n);
  assert.equal(
    errorText(server.dispatch(["DECRBY", "n", "1"])),
    "ERR increment or decrement would overflow",
  );
  assert.equal(
    errorText(server.dispatch(["DECRBY", "z", "-9223372036854775808"])),
    "ERR decrement would overflow",
  );
  assert.equal(server.dispatch(["EXISTS", "z"]), 0);
  assert.equal(server.dispatch(["DECRBY", "big", "-9223372036854775807"]), 9223372036854775807n);
});

test("INCR refuses values that are not canonical integers and other types", () => {
  const server = createServer();
  for (const bad of [" 11", "11 ", "011", "-0", "1.0", "", "+1", "99999999999999999999"]) {
    server.dispatch(["SET", "n", bad]);
    assert.equal(
      errorText(server.dispatch(["INCR", "n"])),
      "ERR value is not an integer or out of range",
    );
  }
  assert.equal(
    errorText(server.dispatch(["INCRBY", "n", "x"])),
    "ERR value is not an integer or out of range",
  );
  server.dbs[0]!.set("l", otherType);
  assert.match(errorText(server.dispatch(["INCR", "l"])), /^WRONGTYPE /);
  assert.match(errorText(server.dispatch(["INCRBYFLOAT", "l", "1"])), /^WRONGTYPE /);
});

test("INCRBYFLOAT prints like Redis's long double arithmetic", () => {
  const server = createServer();
  server.dispatch(["SET", "foo", "1"]);
  assert.equal(server.dispatch(["INCRBYFLOAT", "foo", "-1.1"]), "-0.1");
  assert.equal(server.dispatch(["INCRBYFLOAT", "novar", "0.1"]), "0.1");
  assert.equal(server.dispatch(["INCRBYFLOAT", "novar", "0.2"]), "0.3");
  server.dispatch(["SET", "h", "3000"]);
  // 3000 + 1e-17 rounds back to 3000 with a 64-bit mantissa.
  assert.equal(server.dispatch(["INCRBYFLOAT", "h", "0.00000000000000001"]), "3000");
  assert.equal(server.dispatch(["INCRBYFLOAT", "x", "1e20"]), "100000000000000000000");
  assert.equal(server.dispatch(["INCRBYFLOAT", "y", "0x1.8p1"]), "3");
  server.dispatch(["SET", "z", "17179869184"]);
  assert.equal(server.dispatch(["INCRBYFLOAT", "z", "1.5"]), "17179869185.5");
  server.dispatch(["DEL", "w"]);
  server.dispatch(["INCRBYFLOAT", "w", String(1 / 41)]);
  assert.equal(server.dispatch(["INCRBYFLOAT", "w", String(-1 / 41)]), "0");
});

test("INCRBYFLOAT refuses bad floats and infinite results", () => {
  const server = createServer();
  const notFloat = "ERR value is not a valid float";
  for (const bad of [" 1", "1 ", "1e", "nan", "abc", "1e5000", "1e-5000", ""]) {
    assert.equal(errorText(server.dispatch(["INCRBYFLOAT", "k", bad])), notFloat, bad);
  }
  server.dispatch(["SET", "s", "1"]);
  server.dispatch(["SETRANGE", "s", "2", "2"]);
  assert.equal(errorText(server.dispatch(["INCRBYFLOAT", "s", "1"])), notFloat);
  server.dispatch(["SET", "k", "0"]);
  assert.equal(
    errorText(server.dispatch(["INCRBYFLOAT", "k", "+inf"])),
    "ERR increment would produce NaN or Infinity",
  );
  assert.equal(server.dispatch(["GET", "k"]), "0");
});

test("counters keep the TTL and fire Redis's keyspace events", () => {
  const clock = new ManualClock(1_000_000);
  const server = createServer({ clock });
  const events: string[] = [];
  // Key-miss events (class m) come from reads; only the writes' events matter here.
  server.on("keyspaceEvent", (_db, type, event, key) => {
    if (type !== NotifyClass.keyMiss) events.push(`${event}:${key}`);
  });
  server.dispatch(["SET", "n", "5", "PX", "10000"]);
  server.dispatch(["INCR", "n"]);
  server.dispatch(["DECRBY", "n", "2"]);
  server.dispatch(["INCRBYFLOAT", "n", "0.5"]);
  assert.equal(server.dispatch(["PTTL", "n"]), 10000);
  assert.deepEqual(events.slice(-3), ["incrby:n", "incrby:n", "incrbyfloat:n"]);
  clock.advance(10001);
  assert.equal(server.dispatch(["INCR", "n"]), 1);
});

test("INCRBYFLOAT propagates as SET key value KEEPTTL; INCR propagates as sent", () => {
  const server = createServer();
  const out: string[][] = [];
  server.on("propagate", (_db, argv) => out.push(argv));
  server.dispatch(["INCRBYFLOAT", "f", "1.10"]);
  server.dispatch(["INCRBY", "i", "7"]);
  server.dispatch(["INCRBYFLOAT", "f", "x"]);
  assert.deepEqual(out, [["SET", "f", "1.1", "KEEPTTL"], ["INCRBY", "i", "7"]]);
});

test("RESP replies: integers for INCR, bulk strings for INCRBYFLOAT, exact errors", async () => {
  const { port, close } = await startServer();
  const c = await RawConn.connect(port);
  try {
    c.command("INCRBY", "n", "9223372036854775807");
    assert.equal(await c.expect(":9223372036854775807\r\n"), ":9223372036854775807\r\n");
    c.command("INCR", "n");
    const overflow = "-ERR increment or decrement would overflow\r\n";
    assert.equal(await c.expect(overflow), overflow);
    c.command("INCRBYFLOAT", "f", "2.5");
    assert.equal(await c.expect("$3\r\n2.5\r\n"), "$3\r\n2.5\r\n");
    c.command("INCR", "n", "extra");
    const arity = "-ERR wrong number of arguments for 'incr' command\r\n";
    assert.equal(await c.expect(arity), arity);
  } finally {
    c.close();
    await close();
  }
});

test("ioredis and node-redis see the counter commands as on Redis", async () => {
  const { port, close } = await startServer();
  const io = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
  const nr = createClient({ socket: { port, host: "127.0.0.1" } });
  await io.connect();
  await nr.connect();
  try {
    assert.equal(await io.incr("c"), 1);
    assert.equal(await io.incrby("c", 41), 42);
    assert.equal(await io.decrby("c", 2), 40);
    assert.equal(await io.incrbyfloat("c", "0.5"), "40.5");
    await assert.rejects(io.incr("c"), /value is not an integer or out of range/);
    assert.equal(await nr.incr("d"), 1);
    assert.equal(await nr.decr("d"), 0);
    assert.equal(await nr.incrByFloat("d", 1.25), "1.25");
    await assert.rejects(nr.incrByFloat("d", Infinity), /would produce NaN or Infinity/);
  } finally {
    io.disconnect();
    await nr.quit();
    await close();
  }
});
