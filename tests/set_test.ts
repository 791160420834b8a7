import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { createServer, ManualClock } from "../mod.ts";
import type { Server, TypedValue } from "../mod.ts";
import { SetReply } from "../core/resp/reply.ts";
import { errorText, hello3, RawConn, recordEffects, recordEvents, startServer } from "./helpers.ts";

/** A value of some other type, to provoke WRONGTYPE without depending on other families. */
const otherType: TypedValue = { type: "list", encoding: () => "listpack", clone: () => otherType };

function items(r: unknown): string[] {
  assert.ok(r instanceof SetReply, `expected a set reply, got ${String(r)}`);
  return r.items as string[];
}

function encoding(server: Server, key: string): unknown {
  return server.dispatch(["OBJECT", "ENCODING", key]);
}

test("an integer set is an intset listed in ascending order until a limit is passed", () => {
  const server = createServer({ config: { "set-max-intset-entries": 4 } });
  assert.equal(server.dispatch(["SADD", "s", "10", "-3", "9223372036854775807", "0"]), 4);
  assert.equal(encoding(server, "s"), "intset");
  assert.deepEqual(items(server.dispatch(["SMEMBERS", "s"])), [
    "-3",
    "0",
    "10",
    "9223372036854775807",
  ]);
  assert.equal(server.dispatch(["SADD", "s", "10"]), 0);
  assert.equal(server.dispatch(["SADD", "s", "11"]), 1);
  assert.equal(encoding(server, "s"), "hashtable");
  // One way: shrinking does not convert back.
  server.dispatch(["SREM", "s", "11", "10"]);
  assert.equal(encoding(server, "s"), "hashtable");
  // Texts that are not canonical int64s make a hashtable from the start.
  for (const m of ["01", "-0", "9223372036854775808", "1.0", "", " 1", "a"]) {
    server.dispatch(["DEL", "t"]);
    server.dispatch(["SADD", "t", m]);
    assert.equal(encoding(server, "t"), "hashtable", m);
  }
  server.dispatch(["SADD", "u", "1", "2"]);
  server.dispatch(["SADD", "u", "x"]);
  assert.equal(encoding(server, "u"), "hashtable");
  assert.equal(server.dispatch(["SISMEMBER", "u", "1"]), 1);
  assert.equal(server.dispatch(["SISMEMBER", "u", "01"]), 0);
});

test("SREM and SPOP delete the emptied key and fire Redis's events", () => {
  const server = createServer();
  const events = recordEvents(server);
  server.dispatch(["SADD", "s", "a", "b"]);
  assert.equal(server.dispatch(["SADD", "s", "a"]), 0);
  assert.equal(server.dispatch(["SREM", "s", "x"]), 0);
  assert.equal(server.dispatch(["SREM", "s", "a", "b", "c"]), 2);
  assert.equal(server.dispatch(["EXISTS", "s"]), 0);
  server.dispatch(["SADD", "p", "1"]);
  assert.equal(server.dispatch(["SPOP", "p"]), "1");
  assert.equal(server.dispatch(["SPOP", "p"]), null);
  assert.deepEqual(events, ["sadd:s", "srem:s", "del:s", "sadd:p", "spop:p", "del:p"]);
});

test("SPOP propagates SREM of each popped member, or DEL when the whole set goes", () => {
  const server = createServer();
  const effects = recordEffects(server);
  server.dispatch(["SADD", "s", ...Array.from({ length: 20 }, (_, i) => `m${i}`)]);
  effects.length = 0;
  const one = server.dispatch(["SPOP", "s"]) as string;
  assert.deepEqual(effects, [["SREM", "s", one]]);
  effects.length = 0;
  // Few members taken: picked one by one, each an SREM, wrapped in MULTI/EXEC.
  const few = items(server.dispatch(["SPOP", "s", "3"]));
  assert.equal(new Set(few).size, 3);
  assert.deepEqual(effects, [["MULTI"], ...few.map((m) => ["SREM", "s", m]), ["EXEC"]]);
  effects.length = 0;
  // Most members taken: the survivors move to a new set, the rest is popped.
  const most = items(server.dispatch(["SPOP", "s", "14"]));
  assert.equal(new Set(most).size, 14);
  assert.deepEqual(effects, [["MULTI"], ...most.map((m) => ["SREM", "s", m]), ["EXEC"]]);
  assert.equal(server.dispatch(["SCARD", "s"]), 2);
  for (const m of [one, ...few, ...most]) assert.equal(server.dispatch(["SISMEMBER", "s", m]), 0);
  effects.length = 0;
  const rest = items(server.dispatch(["SPOP", "s", "5"]));
  assert.equal(rest.length, 2);
  assert.deepEqual(effects, [["DEL", "s"]]);
  assert.equal(server.dispatch(["EXISTS", "s"]), 0);
  effects.length = 0;
  server.dispatch(["SPOP", "s", "2"]);
  server.dispatch(["SPOP", "s"]);
  assert.deepEqual(effects, []);
});

test("SPOP keeps the key's TTL; a set rebuilt from few integers becomes an intset", () => {
  const clock = new ManualClock(1_000_000);
  const server = createServer({ clock, config: { "set-max-intset-entries": 4 } });
  server.dispatch(["SADD", "s", "1", "2", "3", "4", "5", "6"]);
  assert.equal(encoding(server, "s"), "hashtable");
  server.dispatch(["PEXPIRE", "s", "5000"]);
  assert.equal(items(server.dispatch(["SPOP", "s", "5"])).length, 5);
  assert.equal(server.dispatch(["PTTL", "s"]), 5000);
  assert.equal(encoding(server, "s"), "intset");
  server.dispatch(["SPOP", "s"]);
  clock.advance(1);
  assert.equal(server.dispatch(["EXISTS", "s"]), 0);
});

test("SRANDMEMBER: a positive count gives distinct members, a negative one may repeat", () => {
  const server = createServer();
  const members = Array.from({ length: 30 }, (_, i) => `e${i}`);
  server.dispatch(["SADD", "s", ...members]);
  for (const count of [1, 5, 11, 29, 30, 31, 1000]) {
    const got = server.dispatch(["SRANDMEMBER", "s", String(count)]) as string[];
    assert.equal(got.length, Math.min(count, 30));
    assert.equal(new Set(got).size, got.length, `distinct for ${count}`);
    for (const m of got) assert.ok(members.includes(m));
  }
  const many = server.dispatch(["SRANDMEMBER", "s", "-3000"]) as string[];
  assert.equal(many.length, 3000);
  // Sampling with repetitions reaches every member of a small set.
  assert.equal(new Set(many).size, 30);
  assert.deepEqual(server.dispatch(["SRANDMEMBER", "s", "0"]), []);
  assert.deepEqual(server.dispatch(["SRANDMEMBER", "missing", "-3"]), []);
  assert.equal(server.dispatch(["SRANDMEMBER", "missing"]), null);
  assert.equal(server.dispatch(["SCARD", "s"]), 30);
  assert.equal(
    errorText(server.dispatch(["SRANDMEMBER", "s", "-9223372036854775808"])),
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
  );
});

test("SMOVE moves, deletes an emptied source and only notifies the destination on adds", () => {
  const server = createServer();
  const events = recordEvents(server);
  server.dispatch(["SADD", "a", "1", "x"]);
  server.dispatch(["SADD", "b", "x"]);
  events.length = 0;
  assert.equal(server.dispatch(["SMOVE", "a", "b", "x"]), 1);
  assert.deepEqual(events, ["srem:a"]);
  assert.equal(server.dispatch(["SMOVE", "a", "c", "1"]), 1);
  assert.deepEqual(events, ["srem:a", "srem:a", "del:a", "sadd:c"]);
  assert.equal(encoding(server, "c"), "intset");
  assert.equal(server.dispatch(["SMOVE", "a", "c", "1"]), 0);
  assert.equal(server.dispatch(["SMOVE", "c", "c", "1"]), 1);
  assert.equal(server.dispatch(["SMOVE", "c", "c", "2"]), 0);
  server.dbs[0]!.set("l", otherType);
  assert.equal(
    errorText(server.dispatch(["SMOVE", "c", "l", "1"])),
    "WRONGTYPE Operation against a key holding the wrong kind of value",
  );
  assert.equal(server.dispatch(["SISMEMBER", "c", "1"]), 1);
});

test("the STORE forms replace the destination, drop its TTL, or delete it when empty", () => {
  const server = createServer();
  const events = recordEvents(server);
  const effects = recordEffects(server);
  server.dispatch(["SADD", "a", "1", "2", "3"]);
  server.dispatch(["SADD", "b", "2", "3", "4"]);
  server.dispatch(["SET", "d", "old", "EX", "100"]);
  events.length = 0;
  effects.length = 0;
  assert.equal(server.dispatch(["SINTERSTORE", "d", "a", "b"]), 2);
  assert.equal(server.dispatch(["TTL", "d"]), -1);
  assert.deepEqual(items(server.dispatch(["SMEMBERS", "d"])), ["2", "3"]);
  assert.equal(server.dispatch(["SUNIONSTORE", "d", "a", "b"]), 4);
  assert.equal(server.dispatch(["SDIFFSTORE", "d", "a", "b"]), 1);
  assert.equal(server.dispatch(["SDIFFSTORE", "d", "a", "a"]), 0);
  assert.equal(server.dispatch(["EXISTS", "d"]), 0);
  assert.equal(server.dispatch(["SINTERSTORE", "d", "a", "missing"]), 0);
  assert.deepEqual(events, ["sinterstore:d", "sunionstore:d", "sdiffstore:d", "del:d"]);
  // Nothing changed by the last one: it does not propagate.
  assert.deepEqual(effects.map((e) => e[0]), [
    "SINTERSTORE",
    "SUNIONSTORE",
    "SDIFFSTORE",
    "SDIFFSTORE",
  ]);
});

test("SINTER, SUNION, SDIFF and SINTERCARD treat missing keys as empty sets", () => {
  const server = createServer();
  server.dispatch(["SADD", "a", "1", "2", "3", "x"]);
  server.dispatch(["SADD", "b", "2", "3", "y"]);
  assert.deepEqual(items(server.dispatch(["SINTER", "a", "b"])).sort(), ["2", "3"]);
  assert.deepEqual(items(server.dispatch(["SINTER", "a", "missing"])), []);
  assert.deepEqual(items(server.dispatch(["SUNION", "a", "missing"])).sort(), [
    "1",
    "2",
    "3",
    "x",
  ]);
  assert.deepEqual(items(server.dispatch(["SDIFF", "a", "b", "missing"])).sort(), ["1", "x"]);
  assert.deepEqual(items(server.dispatch(["SDIFF", "missing", "a"])), []);
  assert.equal(server.dispatch(["SINTERCARD", "2", "a", "b"]), 2);
  assert.equal(server.dispatch(["SINTERCARD", "2", "a", "b", "LIMIT", "1"]), 1);
  assert.equal(server.dispatch(["SINTERCARD", "2", "a", "missing"]), 0);
  assert.equal(
    errorText(server.dispatch(["SINTERCARD", "3", "a", "b"])),
    "ERR Number of keys can't be greater than number of args",
  );
  assert.deepEqual(
    server.dispatch(["COMMAND", "GETKEYS", "SINTERCARD", "2", "a", "b", "LIMIT", "1"]),
    [
      "a",
      "b",
    ],
  );
});

test("SSCAN returns every member present for the whole scan despite changes", () => {
  const server = createServer();
  const stable = Array.from({ length: 300 }, (_, i) => `stable:${i}`);
  server.dispatch(["SADD", "s", ...stable]);
  let cursor = "0";
  const seen = new Set<string>();
  let n = 0;
  do {
    const [next, batch] = server.dispatch(["SSCAN", "s", cursor, "COUNT", "7"]) as [
      string,
      string[],
    ];
    for (const m of batch) seen.add(m);
    cursor = next;
    server.dispatch(["SADD", "s", `churn:${n++}`]);
    if (n % 3 === 0) server.dispatch(["SREM", "s", `churn:${n - 2}`]);
  } while (cursor !== "0");
  for (const m of stable) assert.ok(seen.has(m), m);
  // An intset comes back whole, sorted, with MATCH applied.
  server.dispatch(["SADD", "i", "3", "12", "1", "21"]);
  assert.deepEqual(server.dispatch(["SSCAN", "i", "0", "MATCH", "*1*"]), ["0", ["1", "12", "21"]]);
  assert.deepEqual(server.dispatch(["SSCAN", "missing", "0", "COUNT", "0"]), ["0", []]);
  assert.equal(errorText(server.dispatch(["SSCAN", "i", "0", "COUNT", "0"])), "ERR syntax error");
});

test("COPY of a set is independent and keeps its encoding", () => {
  const server = createServer();
  server.dispatch(["SADD", "i", "1", "2"]);
  server.dispatch(["SADD", "h", "a", "b"]);
  server.dispatch(["COPY", "i", "i2"]);
  server.dispatch(["COPY", "h", "h2"]);
  server.dispatch(["SADD", "i2", "3"]);
  server.dispatch(["SREM", "h2", "a"]);
  assert.equal(encoding(server, "i2"), "intset");
  assert.equal(encoding(server, "h2"), "hashtable");
  assert.equal(server.dispatch(["SCARD", "i"]), 2);
  assert.equal(server.dispatch(["SCARD", "h"]), 2);
});

test("set commands refuse other types with WRONGTYPE", () => {
  const server = createServer();
  server.dispatch(["SET", "str", "x"]);
  const wrong = "WRONGTYPE Operation against a key holding the wrong kind of value";
  for (
    const argv of [
      ["SADD", "str", "a"],
      ["SREM", "str", "a"],
      ["SMEMBERS", "str"],
      ["SISMEMBER", "str", "a"],
      ["SMISMEMBER", "str", "a"],
      ["SCARD", "str"],
      ["SPOP", "str"],
      ["SPOP", "str", "2"],
      ["SRANDMEMBER", "str", "2"],
      ["SINTER", "missing", "str"],
      ["SUNIONSTORE", "d", "str"],
      ["SSCAN", "str", "0"],
    ]
  ) {
    assert.equal(errorText(server.dispatch(argv)), wrong, argv.join(" "));
  }
});

test("RESP3 answers sets with ~ and SRANDMEMBER with an array, byte for byte", async () => {
  const { port, close } = await startServer();
  const c = await RawConn.connect(port);
  try {
    await hello3(c);
    const cases: Array<[string[], string]> = [
      [["SADD", "s", "2", "1"], ":2\r\n"],
      [["SMEMBERS", "s"], "~2\r\n$1\r\n1\r\n$1\r\n2\r\n"],
      [["SMEMBERS", "none"], "~0\r\n"],
      [["SPOP", "none", "2"], "~0\r\n"],
      [["SRANDMEMBER", "s", "5"], "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"],
      [["SRANDMEMBER", "none", "5"], "*0\r\n"],
      [["SMISMEMBER", "s", "1", "3"], "*2\r\n:1\r\n:0\r\n"],
      [["SINTER", "s", "none"], "~0\r\n"],
      [["SUNION", "s"], "~2\r\n$1\r\n1\r\n$1\r\n2\r\n"],
      [["SPOP", "none"], "_\r\n"],
      [["SPOP", "s", "2"], "~2\r\n$1\r\n1\r\n$1\r\n2\r\n"],
    ];
    for (const [argv, want] of cases) {
      c.command(...argv);
      assert.equal(await c.expect(want), want, argv.join(" "));
    }
  } finally {
    c.close();
    await close();
  }
});

test("ioredis and node-redis use the set commands as on Redis", async () => {
  const { port, close } = await startServer();
  const io = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
  const nr = createClient({ socket: { port, host: "127.0.0.1" } });
  await io.connect();
  await nr.connect();
  try {
    assert.equal(await io.sadd("s", "a", "b", "c"), 3);
    assert.deepEqual((await io.smembers("s")).sort(), ["a", "b", "c"]);
    assert.equal(await io.sismember("s", "a"), 1);
    assert.deepEqual(await io.smismember("s", "a", "z"), [1, 0]);
    assert.equal(await io.smove("s", "t", "a"), 1);
    assert.deepEqual(await io.sinter("s", "t"), []);
    assert.equal(await io.sintercard(2, "s", "t"), 0);
    const scanned: string[] = [];
    for await (const batch of io.sscanStream("s", { count: 1 })) scanned.push(...batch);
    assert.deepEqual(scanned.sort(), ["b", "c"]);
    assert.equal(await nr.sAdd("n", ["1", "2", "3"]), 3);
    assert.deepEqual(await nr.sMembers("n"), ["1", "2", "3"]);
    assert.equal(await nr.sCard("n"), 3);
    assert.deepEqual((await nr.sUnion(["n", "s"])).sort(), ["1", "2", "3", "b", "c"]);
    assert.equal(await nr.sDiffStore("d", ["n", "s"]), 3);
    assert.equal((await nr.sPopCount("d", 2)).length, 2);
    await assert.rejects(io.spop("s", -1), /value is out of range, must be positive/);
  } finally {
    io.disconnect();
    await nr.quit();
    await close();
  }
});
