import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { createServer, ManualClock, NotifyClass } from "../mod.ts";
import type { TypedValue } from "../mod.ts";
import { errorText, RawConn, startServer } from "./helpers.ts";

const otherType: TypedValue = { type: "set", encoding: () => "intset", clone: () => otherType };

test("SETBIT grows the string with zeros and returns the old bit", () => {
  const server = createServer();
  assert.equal(server.dispatch(["SETBIT", "b", "1", "1"]), 0);
  assert.equal(server.dispatch(["SETBIT", "b", "1", "1"]), 1);
  assert.equal(server.dispatch(["SETBIT", "b", "17", "0"]), 0);
  assert.equal(server.dispatch(["GET", "b"]), "\x40\0\0");
  assert.equal(server.dispatch(["GETBIT", "b", "1"]), 1);
  assert.equal(server.dispatch(["GETBIT", "b", "2"]), 0);
  assert.equal(server.dispatch(["GETBIT", "b", "1000"]), 0);
  assert.equal(server.dispatch(["GETBIT", "none", "3"]), 0);
});

test("bit commands give Redis's exact errors", () => {
  const server = createServer();
  const offsetErr = "ERR bit offset is not an integer or out of range";
  assert.equal(errorText(server.dispatch(["SETBIT", "b", "-1", "1"])), offsetErr);
  assert.equal(errorText(server.dispatch(["SETBIT", "b", "4294967296", "1"])), offsetErr);
  assert.equal(errorText(server.dispatch(["GETBIT", "b", "x"])), offsetErr);
  const bitErr = "ERR bit is not an integer or out of range";
  assert.equal(errorText(server.dispatch(["SETBIT", "b", "0", "2"])), bitErr);
  assert.equal(errorText(server.dispatch(["SETBIT", "b", "0", "-1"])), bitErr);
  assert.equal(errorText(server.dispatch(["SETBIT", "b", "0", "a"])), bitErr);
  assert.equal(
    errorText(server.dispatch(["BITPOS", "b", "2"])),
    "ERR The bit argument must be 1 or 0.",
  );
  assert.equal(
    errorText(server.dispatch(["BITOP", "NOT", "d", "a", "b"])),
    "ERR BITOP NOT must be called with a single source key.",
  );
  assert.equal(errorText(server.dispatch(["BITOP", "NAND", "d", "a"])), "ERR syntax error");
  server.dispatch(["SET", "s", "x"]);
  assert.equal(errorText(server.dispatch(["BITCOUNT", "s", "0"])), "ERR syntax error");
  assert.equal(errorText(server.dispatch(["BITCOUNT", "s", "0", "1", "WORD"])), "ERR syntax error");
  server.dbs[0]!.set("set", otherType);
  for (
    const argv of [["SETBIT", "set", "0", "1"], ["GETBIT", "set", "0"], ["BITCOUNT", "set"], [
      "BITPOS",
      "set",
      "1",
    ], ["BITOP", "AND", "d", "s", "set"]]
  ) {
    assert.match(errorText(server.dispatch(argv)), /^WRONGTYPE /, argv.join(" "));
  }
});

test("BITCOUNT counts bytes or bits ranges", () => {
  const server = createServer();
  server.dispatch(["SET", "k", "foobar"]);
  assert.equal(server.dispatch(["BITCOUNT", "k"]), 26);
  assert.equal(server.dispatch(["BITCOUNT", "k", "0", "0"]), 4);
  assert.equal(server.dispatch(["BITCOUNT", "k", "1", "1", "BYTE"]), 6);
  assert.equal(server.dispatch(["BITCOUNT", "k", "5", "30", "BIT"]), 17);
  assert.equal(server.dispatch(["BITCOUNT", "k", "-1", "-2"]), 0);
  // Arguments are checked before the key is read (Redis 7.2; tests/bits_74_test.ts).
  assert.equal(server.dispatch(["BITCOUNT", "missing", "0", "1"]), 0);
});

test("BITPOS finds set and clear bits, with open and closed ranges", () => {
  const server = createServer();
  server.dispatch(["SET", "k", "\xff\xf0\x00"]);
  assert.equal(server.dispatch(["BITPOS", "k", "0"]), 12);
  assert.equal(server.dispatch(["BITPOS", "k", "1", "2"]), -1);
  assert.equal(server.dispatch(["BITPOS", "k", "1", "7", "15", "BIT"]), 7);
  server.dispatch(["SET", "ones", "\xff\xff"]);
  // Open end: the zero padding right after the string counts.
  assert.equal(server.dispatch(["BITPOS", "ones", "0"]), 16);
  assert.equal(server.dispatch(["BITPOS", "ones", "0", "1"]), 16);
  assert.equal(server.dispatch(["BITPOS", "ones", "0", "0", "-1"]), -1);
  assert.equal(server.dispatch(["BITPOS", "none", "0"]), 0);
  assert.equal(server.dispatch(["BITPOS", "none", "1"]), -1);
  server.dispatch(["SET", "empty", ""]);
  assert.equal(server.dispatch(["BITPOS", "empty", "0"]), -1);
});

test("BITOP combines sources padded with zeros and deletes the target on empty input", () => {
  const server = createServer();
  const events: string[] = [];
  // Key-miss events (class m) come from reads; only the writes' events matter here.
  server.on("keyspaceEvent", (_db, type, event, key) => {
    if (type !== NotifyClass.keyMiss) events.push(`${event}:${key}`);
  });
  server.dispatch(["SET", "a", "\x0f\xf0abcdefgh"]);
  server.dispatch(["SET", "b", "\xff\x0f"]);
  assert.equal(server.dispatch(["BITOP", "AND", "d", "a", "b"]), 10);
  assert.equal(server.dispatch(["GET", "d"]), "\x0f\0" + "\0".repeat(8));
  assert.equal(server.dispatch(["BITOP", "OR", "d", "a", "b"]), 10);
  assert.equal(server.dispatch(["GET", "d"]), "\xff\xffabcdefgh");
  assert.equal(server.dispatch(["BITOP", "XOR", "d", "a", "b", "a"]), 10);
  assert.equal(server.dispatch(["GET", "d"]), "\xff\x0f" + "\0".repeat(8));
  assert.equal(server.dispatch(["BITOP", "NOT", "d", "b"]), 2);
  assert.equal(server.dispatch(["GET", "d"]), "\x00\xf0");
  assert.equal(server.dispatch(["BITOP", "OR", "d", "nope1", "nope2"]), 0);
  assert.equal(server.dispatch(["EXISTS", "d"]), 0);
  assert.deepEqual(events.filter((e) => e.endsWith(":d")), [
    "set:d",
    "set:d",
    "set:d",
    "set:d",
    "del:d",
  ]);
});

test("BITOP drops the destination TTL; SETBIT keeps the key's TTL", () => {
  const clock = new ManualClock(1_000_000);
  const server = createServer({ clock });
  server.dispatch(["SET", "d", "x", "PX", "5000"]);
  server.dispatch(["SET", "a", "y"]);
  server.dispatch(["BITOP", "OR", "d", "a"]);
  assert.equal(server.dispatch(["PTTL", "d"]), -1);
  server.dispatch(["SET", "b", "\0", "PX", "5000"]);
  server.dispatch(["SETBIT", "b", "100", "1"]);
  assert.equal(server.dispatch(["PTTL", "b"]), 5000);
});

test("SETBIT and BITFIELD count dirty only when something changes", () => {
  const server = createServer();
  server.dispatch(["SETBIT", "b", "0", "1"]);
  let dirty = server.dirty;
  server.dispatch(["SETBIT", "b", "0", "1"]);
  assert.equal(server.dirty, dirty);
  server.dispatch(["SETBIT", "b", "0", "0"]);
  assert.equal(server.dirty, dirty + 1);
  dirty = server.dirty;
  server.dispatch(["BITFIELD", "b", "SET", "u8", "0", "0"]);
  assert.equal(server.dirty, dirty);
  server.dispatch(["BITFIELD", "b", "SET", "u8", "0", "1", "SET", "u8", "8", "0"]);
  assert.equal(server.dirty, dirty + 2);
});

test("BITFIELD handles types, overflow policies and # offsets", () => {
  const server = createServer();
  assert.deepEqual(server.dispatch(["BITFIELD", "f", "SET", "i8", "0", "-100", "GET", "u8", "0"]), [
    0,
    156,
  ]);
  assert.deepEqual(server.dispatch(["BITFIELD", "f", "INCRBY", "i8", "0", "-100"]), [56]);
  assert.deepEqual(
    server.dispatch(["BITFIELD", "f", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "-100"]),
    [-44],
  );
  assert.deepEqual(
    server.dispatch([
      "BITFIELD",
      "f",
      "OVERFLOW",
      "FAIL",
      "INCRBY",
      "i8",
      "0",
      "-100",
      "GET",
      "i8",
      "0",
    ]),
    [null, -44],
  );
  assert.deepEqual(server.dispatch(["BITFIELD", "f", "SET", "u4", "#2", "15", "GET", "u8", "8"]), [
    0,
    240,
  ]);
  assert.deepEqual(
    server.dispatch([
      "BITFIELD",
      "f",
      "SET",
      "i64",
      "0",
      "-9223372036854775808",
      "GET",
      "i64",
      "0",
    ]),
    [BigInt.asIntN(64, 0xd4f0n << 48n), -9223372036854775808n],
  );
  assert.deepEqual(server.dispatch(["BITFIELD", "f", "SET", "u63", "1", "9223372036854775807"]), [
    0,
  ]);
  assert.deepEqual(server.dispatch(["BITFIELD", "f", "INCRBY", "u63", "1", "1"]), [0]);
  assert.deepEqual(server.dispatch(["BITFIELD", "f", "OVERFLOW", "SAT", "SET", "u8", "0", "-1"]), [
    128,
  ]);
  assert.deepEqual(server.dispatch(["BITFIELD_RO", "f", "GET", "u8", "0"]), [255]);
  const typeErr =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
  assert.equal(errorText(server.dispatch(["BITFIELD", "f", "GET", "u64", "0"])), typeErr);
  assert.equal(
    errorText(server.dispatch(["BITFIELD", "f", "OVERFLOW", "X"])),
    "ERR Invalid OVERFLOW type specified",
  );
  assert.equal(
    errorText(server.dispatch(["BITFIELD_RO", "f", "SET", "u8", "0", "1"])),
    "ERR BITFIELD_RO only supports the GET subcommand",
  );
  assert.equal(errorText(server.dispatch(["BITFIELD", "f", "GET", "u8"])), "ERR syntax error");
});

test("RESP: BITFIELD replies with an array holding integers and nulls", async () => {
  const { port, close } = await startServer();
  const c = await RawConn.connect(port);
  try {
    c.command(
      "BITFIELD",
      "k",
      "OVERFLOW",
      "FAIL",
      "INCRBY",
      "u2",
      "0",
      "5",
      "SET",
      "u63",
      "0",
      "9223372036854775807",
    );
    const want = "*2\r\n$-1\r\n:0\r\n";
    assert.equal(await c.expect(want), want);
    c.command("BITFIELD", "k", "GET", "u63", "0");
    const max = "*1\r\n:9223372036854775807\r\n";
    assert.equal(await c.expect(max), max);
  } finally {
    c.close();
    await close();
  }
});

test("ioredis and node-redis drive the bit commands", async () => {
  const { port, close } = await startServer();
  const io = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
  const nr = createClient({ socket: { port, host: "127.0.0.1" } });
  await io.connect();
  await nr.connect();
  try {
    assert.equal(await io.setbit("m", 7, 1), 0);
    assert.equal(await io.getbit("m", 7), 1);
    assert.equal(await io.bitcount("m"), 1);
    assert.equal(await io.bitpos("m", 1), 7);
    assert.equal(await io.bitop("NOT", "n", "m"), 1);
    assert.deepEqual(await io.bitfield("m", "GET", "u8", 0), [1]);
    assert.equal(await nr.setBit("x", 3, 1), 0);
    assert.equal(await nr.bitCount("x"), 1);
    assert.equal(await nr.bitPos("x", 1), 3);
    assert.deepEqual(
      await nr.bitField("x", [{ operation: "INCRBY", encoding: "u8", offset: 0, increment: 1 }]),
      [
        17,
      ],
    );
    assert.deepEqual(await nr.bitFieldRo("x", [{ encoding: "u8", offset: 0 }]), [17]);
  } finally {
    io.disconnect();
    await nr.quit();
    await close();
  }
});
