import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { createServer, ManualClock, NotifyClass } from "../mod.ts";
import type { TypedValue } from "../mod.ts";
import { MapReply } from "../core/resp/reply.ts";
import { errorText, RawConn, startServer } from "./helpers.ts";

const otherType: TypedValue = { type: "hash", encoding: () => "listpack", clone: () => otherType };

test("GETRANGE and SUBSTR clamp indexes as Redis does", () => {
  const server = createServer();
  server.dispatch(["SET", "s", "This is a string"]);
  assert.equal(server.dispatch(["GETRANGE", "s", "0", "3"]), "This");
  assert.equal(server.dispatch(["GETRANGE", "s", "-3", "-1"]), "ing");
  assert.equal(server.dispatch(["GETRANGE", "s", "0", "-1"]), "This is a string");
  assert.equal(server.dispatch(["GETRANGE", "s", "10", "100"]), "string");
  assert.equal(server.dispatch(["GETRANGE", "s", "-1", "-5"]), "");
  assert.equal(server.dispatch(["GETRANGE", "s", "0", "-100"]), "T");
  assert.equal(
    server.dispatch(["GETRANGE", "s", "-9223372036854775808", "9223372036854775807"]),
    "This is a string",
  );
  // Both past -2^53: only exact comparison tells start > end.
  assert.equal(server.dispatch(["GETRANGE", "s", "-9007199254740993", "-9007199254740994"]), "");
  assert.equal(server.dispatch(["SUBSTR", "s", "5", "6"]), "is");
  assert.equal(server.dispatch(["GETRANGE", "missing", "0", "-1"]), "");
  assert.equal(
    errorText(server.dispatch(["GETRANGE", "s", "a", "1"])),
    "ERR value is not an integer or out of range",
  );
  server.dbs[0]!.set("h", otherType);
  assert.match(errorText(server.dispatch(["GETRANGE", "h", "0", "1"])), /^WRONGTYPE /);
});

test("SETRANGE pads with zero bytes, keeps the TTL and checks the size limit", () => {
  const clock = new ManualClock(5_000_000);
  const server = createServer({ clock, config: { "proto-max-bulk-len": 1024 * 1024 } });
  const events: string[] = [];
  // Key-miss events (class m) come from reads; only the writes' events matter here.
  server.on("keyspaceEvent", (_db, type, event, key) => {
    if (type !== NotifyClass.keyMiss) events.push(`${event}:${key}`);
  });
  assert.equal(server.dispatch(["SETRANGE", "k", "3", "ab"]), 5);
  assert.equal(server.dispatch(["GET", "k"]), "\0\0\0ab");
  server.dispatch(["PEXPIRE", "k", "5000"]);
  assert.equal(server.dispatch(["SETRANGE", "k", "1", "XYZW"]), 5);
  assert.equal(server.dispatch(["GET", "k"]), "\0XYZW");
  assert.equal(server.dispatch(["PTTL", "k"]), 5000);
  assert.equal(server.dispatch(["SETRANGE", "k", "0", ""]), 5);
  assert.equal(server.dispatch(["SETRANGE", "none", "10", ""]), 0);
  assert.equal(server.dispatch(["EXISTS", "none"]), 0);
  assert.equal(
    errorText(server.dispatch(["SETRANGE", "k", "-1", "x"])),
    "ERR offset is out of range",
  );
  assert.equal(
    errorText(server.dispatch(["SETRANGE", "k", String(1024 * 1024), "x"])),
    "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
  );
  assert.equal(server.dispatch(["SETRANGE", "k", String(1024 * 1024 - 1), "x"]), 1024 * 1024);
  assert.deepEqual(events.filter((e) => e.startsWith("setrange")), [
    "setrange:k",
    "setrange:k",
    "setrange:k",
  ]);
  server.dbs[0]!.set("h", otherType);
  assert.match(errorText(server.dispatch(["SETRANGE", "h", "0", "x"])), /^WRONGTYPE /);
  assert.match(errorText(server.dispatch(["SETRANGE", "h", "0", ""])), /^WRONGTYPE /);
});

test("LCS returns the subsequence, its length, or the matching ranges", () => {
  const server = createServer();
  server.dispatch(["MSET", "a", "ohmytext", "b", "mynewtext"]);
  assert.equal(server.dispatch(["LCS", "a", "b"]), "mytext");
  assert.equal(server.dispatch(["LCS", "a", "b", "LEN"]), 6);
  const idx = server.dispatch(["LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"]);
  assert.ok(idx instanceof MapReply);
  assert.deepEqual(idx.entries, ["matches", [[[4, 7], [5, 8], 4]], "len", 6]);
  assert.equal(
    errorText(server.dispatch(["LCS", "a", "b", "LEN", "IDX"])),
    "ERR If you want both the length and indexes, please just use IDX.",
  );
  assert.equal(errorText(server.dispatch(["LCS", "a", "b", "MINMATCHLEN"])), "ERR syntax error");
  server.dbs[0]!.set("h", otherType);
  assert.equal(
    errorText(server.dispatch(["LCS", "a", "h"])),
    "ERR The specified keys must contain string values",
  );
});

test("LCS IDX is a map in RESP3 and a flat array in RESP2", async () => {
  const { port, close } = await startServer();
  const c = await RawConn.connect(port);
  try {
    c.command("MSET", "a", "ab", "b", "ab");
    await c.expect("+OK\r\n");
    c.command("LCS", "a", "b", "IDX");
    const resp2 =
      "*4\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:0\r\n:1\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:2\r\n";
    assert.equal(await c.expect(resp2), resp2);
    c.command("HELLO", "3");
    c.command("PING");
    let hello = "";
    while (!hello.endsWith("+PONG\r\n")) hello += await c.read(1);
    c.command("LCS", "a", "b", "IDX");
    const resp3 =
      "%2\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:0\r\n:1\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:2\r\n";
    assert.equal(await c.expect(resp3), resp3);
  } finally {
    c.close();
    await close();
  }
});

test("LCS refuses a table larger than proto-max-bulk-len", () => {
  const server = createServer({ config: { "proto-max-bulk-len": 1024 * 1024 } });
  server.dispatch(["SET", "a", "x".repeat(1000)]);
  server.dispatch(["SET", "b", "y".repeat(1000)]);
  assert.equal(
    errorText(server.dispatch(["LCS", "a", "b"])),
    "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
  );
});

test("ioredis and node-redis use GETRANGE, SETRANGE and LCS", async () => {
  const { port, close } = await startServer();
  const io = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
  const nr = createClient({ socket: { port, host: "127.0.0.1" } });
  await io.connect();
  await nr.connect();
  try {
    assert.equal(await io.setrange("k", 6, "Redis"), 11);
    assert.equal(await io.getrange("k", 6, -1), "Redis");
    assert.equal(await io.call("SUBSTR", "k", "6", "7"), "Re");
    assert.equal(await nr.setRange("n", 0, "Hello"), 5);
    assert.equal(await nr.getRange("n", 1, 3), "ell");
    await nr.mSet({ a: "ohmytext", b: "mynewtext" });
    assert.equal(await nr.sendCommand(["LCS", "a", "b"]), "mytext");
    assert.equal(await io.call("LCS", "a", "b", "LEN"), 6);
  } finally {
    io.disconnect();
    await nr.quit();
    await close();
  }
});
