import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { createServer, ManualClock, SimpleString } from "../mod.ts";
import type { Server, TypedValue } from "../mod.ts";
import { errorText, RawConn, startServer } from "./helpers.ts";

/** A stand-in for a collection type, so COPY, TYPE and OBJECT can see a non-string value. */
class Bag implements TypedValue {
  readonly type = "list";
  constructor(readonly items: string[]) {}
  encoding(): string {
    return "quicklist";
  }
  clone(): Bag {
    return new Bag([...this.items]);
  }
}

function recordEvents(server: Server): Array<[number, string, string]> {
  const events: Array<[number, string, string]> = [];
  server.on("keyspaceEvent", (db, _type, event, key) => {
    if (event !== "keymiss") events.push([db.id, event, key]);
  });
  return events;
}

function recordPropagation(server: Server): Array<[number, string[]]> {
  const out: Array<[number, string[]]> = [];
  server.on("propagate", (db, argv) => out.push([db, argv]));
  return out;
}

test("DEL and UNLINK count each existing key once and fire del events", () => {
  const server = createServer();
  const events = recordEvents(server);
  server.dispatch(["MSET", "a", "1", "b", "2", "c", "3"]);
  const dirty = server.dirty;
  assert.equal(server.dispatch(["DEL", "a", "b", "a", "nokey"]), 2);
  assert.equal(server.dispatch(["UNLINK", "c", "c"]), 1);
  assert.equal(server.dirty - dirty, 3);
  assert.deepEqual(events.filter((e) => e[1] === "del"), [[0, "del", "a"], [0, "del", "b"], [
    0,
    "del",
    "c",
  ]]);
  assert.equal(server.dispatch(["DBSIZE"]), 0);
});

test("EXISTS counts a key named twice twice; TOUCH counts existing keys", () => {
  const server = createServer();
  server.dispatch(["SET", "k", "v"]);
  assert.equal(server.dispatch(["EXISTS", "k", "k", "nokey"]), 2);
  assert.equal(server.dispatch(["TOUCH", "k", "nokey", "k"]), 2);
});

test("TYPE answers status replies byte for byte", async () => {
  const { server, port, close } = await startServer();
  server.dbs[0]!.add("l", new Bag(["x"]));
  const c = await RawConn.connect(port);
  try {
    c.command("SET", "s", "v");
    await c.expect("+OK\r\n");
    for (const [key, want] of [["s", "+string\r\n"], ["l", "+list\r\n"], ["no", "+none\r\n"]]) {
      c.command("TYPE", key!);
      assert.equal(await c.expect(want!), want);
    }
  } finally {
    c.close();
    await close();
  }
});

test("KEYS matches globs and hides logically expired keys without deleting them", () => {
  const clock = new ManualClock(1_700_000_000_000);
  const server = createServer({ clock });
  for (const k of ["foo_a", "foo_b", "key_x", "f[o]"]) server.dispatch(["SET", k, "v"]);
  server.dispatch(["PEXPIRE", "foo_b", "100"]);
  assert.deepEqual((server.dispatch(["KEYS", "foo*"]) as string[]).sort(), ["foo_a", "foo_b"]);
  clock.advance(100);
  assert.deepEqual(server.dispatch(["KEYS", "foo*"]), ["foo_a"]);
  assert.deepEqual(server.dispatch(["KEYS", "f\\[o\\]"]), ["f[o]"]);
  assert.equal(server.dispatch(["DBSIZE"]), 4, "KEYS must not reclaim the expired key");
  assert.deepEqual(server.dispatch(["KEYS", "a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b"]), []);
});

test("RANDOMKEY returns null on an empty or all-expired database", () => {
  const clock = new ManualClock(1_700_000_000_000);
  const server = createServer({ clock });
  assert.equal(server.dispatch(["RANDOMKEY"]), null);
  server.dispatch(["SET", "x", "1", "PX", "10"]);
  server.dispatch(["SET", "y", "1"]);
  const seen = new Set<unknown>();
  for (let i = 0; i < 50; i++) seen.add(server.dispatch(["RANDOMKEY"]));
  assert.deepEqual([...seen].sort(), ["x", "y"]);
  server.dispatch(["DEL", "y"]);
  clock.advance(10);
  assert.equal(server.dispatch(["RANDOMKEY"]), null);
});

test("RENAME moves the value and its TTL, and fires rename_from and rename_to", () => {
  const clock = new ManualClock(1_700_000_000_000);
  const server = createServer({ clock });
  const events = recordEvents(server);
  server.dispatch(["SET", "src", "v", "EX", "100"]);
  server.dispatch(["SET", "dst", "old", "EX", "5"]);
  assert.ok(server.dispatch(["RENAME", "src", "dst"]) instanceof SimpleString);
  assert.equal(server.dispatch(["GET", "dst"]), "v");
  assert.equal(server.dispatch(["PTTL", "dst"]), 100_000);
  assert.equal(server.dispatch(["EXISTS", "src"]), 0);
  assert.deepEqual(events.slice(-2), [[0, "rename_from", "src"], [0, "rename_to", "dst"]]);
  server.dispatch(["SET", "plain", "p"]);
  server.dispatch(["RENAME", "plain", "dst"]);
  assert.equal(server.dispatch(["TTL", "dst"]), -1, "the target's TTL is not inherited");
});

test("RENAME and RENAMENX errors and same-key cases match Redis", () => {
  const server = createServer();
  assert.equal(errorText(server.dispatch(["RENAME", "nokey", "x"])), "ERR no such key");
  assert.equal(errorText(server.dispatch(["RENAMENX", "nokey", "nokey"])), "ERR no such key");
  server.dispatch(["SET", "a", "1"]);
  server.dispatch(["SET", "b", "2"]);
  assert.equal((server.dispatch(["RENAME", "a", "a"]) as SimpleString).value, "OK");
  assert.equal(server.dispatch(["RENAMENX", "a", "a"]), 0);
  assert.equal(server.dispatch(["RENAMENX", "a", "b"]), 0);
  assert.equal(server.dispatch(["GET", "b"]), "2");
  assert.equal(server.dispatch(["RENAMENX", "a", "c"]), 1);
  assert.equal(server.dispatch(["GET", "c"]), "1");
});

test("MOVE carries the TTL, refuses existing targets and reports Redis's errors", async () => {
  const clock = new ManualClock(1_700_000_000_000);
  const { server, port, close } = await startServer({ clock });
  const events = recordEvents(server);
  const r = createClient({ socket: { port, host: "127.0.0.1" } });
  await r.connect();
  try {
    await r.set("k", "v", { EX: 100 });
    await assert.rejects(
      r.sendCommand(["MOVE", "k", "0"]),
      /^.*source and destination objects are the same/,
    );
    await assert.rejects(r.sendCommand(["MOVE", "k", "16"]), /ERR DB index is out of range/);
    await assert.rejects(
      r.sendCommand(["MOVE", "k", "x"]),
      /ERR value is not an integer or out of range/,
    );
    await assert.rejects(
      r.sendCommand(["MOVE", "k", "99999999999"]),
      /ERR value is out of range, value must between -2147483648 and 2147483647/,
    );
    assert.equal(await r.sendCommand(["MOVE", "nokey", "1"]), 0);
    assert.equal(await r.sendCommand(["MOVE", "k", "1"]), 1);
    assert.equal(await r.exists("k"), 0);
    assert.deepEqual(events.slice(-2), [[0, "move_from", "k"], [1, "move_to", "k"]]);
    await r.select(1);
    assert.equal(await r.get("k"), "v");
    assert.equal(await r.pTTL("k"), 100_000);
    await r.select(0);
    await r.set("k", "other");
    assert.equal(await r.sendCommand(["MOVE", "k", "1"]), 0, "the key exists in the target");
  } finally {
    await r.quit();
    await close();
  }
});

test("COPY clones typed values, copies the TTL and honours DB and REPLACE", () => {
  const clock = new ManualClock(1_700_000_000_000);
  const server = createServer({ clock });
  const events = recordEvents(server);
  const bag = new Bag(["a"]);
  server.dbs[0]!.add("bag", bag);
  assert.equal(server.dispatch(["COPY", "bag", "bag2"]), 1);
  const copy = server.dbs[0]!.dict.get("bag2") as Bag;
  assert.notEqual(copy, bag, "a typed value must be cloned");
  bag.items.push("b");
  assert.deepEqual(copy.items, ["a"]);
  assert.deepEqual(events.at(-1), [0, "copy_to", "bag2"]);

  server.dispatch(["SET", "s", "v", "PX", "5000"]);
  assert.equal(server.dispatch(["COPY", "s", "s2", "DB", "3"]), 1);
  assert.equal(server.dbs[3]!.getExpire("s2"), 1_700_000_005_000);
  server.dispatch(["SET", "t", "other"]);
  assert.equal(server.dispatch(["COPY", "s", "t"]), 0);
  assert.equal(server.dispatch(["COPY", "s", "t", "REPLACE", "REPLACE"]), 1);
  assert.equal(server.dispatch(["GET", "t"]), "v");
  assert.equal(server.dispatch(["PTTL", "t"]), 5000);
  assert.equal(server.dispatch(["COPY", "nokey", "x", "DB", "2"]), 0);

  const err = (argv: string[]) => errorText(server.dispatch(argv));
  assert.equal(err(["COPY", "s", "s"]), "ERR source and destination objects are the same");
  assert.equal(server.dispatch(["COPY", "s", "s", "DB", "1"]), 1);
  assert.equal(err(["COPY", "s", "x", "DB"]), "ERR syntax error");
  assert.equal(err(["COPY", "s", "x", "FOO"]), "ERR syntax error");
  assert.equal(err(["COPY", "s", "x", "DB", "16"]), "ERR DB index is out of range");
  assert.equal(
    err(["COPY", "s", "x", "DB", "notanumber"]),
    "ERR value is not an integer or out of range",
  );
});

test("OBJECT ENCODING follows Redis's string rules and the value's own encoding", async () => {
  const { server, port, close } = await startServer();
  server.dbs[0]!.add("bag", new Bag([]));
  const r = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
  await r.connect();
  try {
    const cases: Array<[string, string]> = [
      ["123", "int"],
      ["-5", "int"],
      ["9223372036854775807", "int"],
      ["9223372036854775808", "embstr"],
      ["012", "embstr"],
      ["x".repeat(44), "embstr"],
      ["x".repeat(45), "raw"],
    ];
    for (const [value, enc] of cases) {
      await r.set("s", value);
      assert.equal(await r.object("ENCODING", "s"), enc, `encoding of ${value}`);
    }
    assert.equal(await r.object("ENCODING", "bag"), "quicklist");
    assert.equal(await r.object("ENCODING", "nokey"), null);
  } finally {
    r.disconnect();
    await close();
  }
});

test("OBJECT REFCOUNT reports shared small integers like Redis", () => {
  const server = createServer();
  server.dispatch(["SET", "n", "9999"]);
  assert.equal(server.dispatch(["OBJECT", "REFCOUNT", "n"]), 2147483647);
  server.dispatch(["SET", "n", "10000"]);
  assert.equal(server.dispatch(["OBJECT", "REFCOUNT", "n"]), 1);
  server.dispatch(["SET", "n", "-1"]);
  assert.equal(server.dispatch(["OBJECT", "REFCOUNT", "n"]), 1);
  server.dispatch(["SET", "n", "1"]);
  server.dispatch(["CONFIG", "SET", "maxmemory", "1gb"]);
  server.dispatch(["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
  assert.equal(server.dispatch(["OBJECT", "REFCOUNT", "n"]), 1);
});

test("OBJECT FREQ and IDLETIME refuse as Redis does for the maxmemory policy", () => {
  const plain = createServer();
  plain.dispatch(["SET", "k", "v"]);
  assert.match(
    errorText(plain.dispatch(["OBJECT", "FREQ", "k"])),
    /^ERR An LFU maxmemory policy is not selected, access frequency not tracked\./,
  );
  assert.equal(plain.dispatch(["OBJECT", "IDLETIME", "k"]), 0);
  assert.equal(plain.dispatch(["OBJECT", "FREQ", "nokey"]), null);

  const lfu = createServer({ config: { "maxmemory-policy": "allkeys-lfu" } });
  lfu.dispatch(["SET", "k", "v"]);
  // A new key starts at Redis's LFU_INIT_VAL; its first access always counts.
  assert.equal(lfu.dispatch(["OBJECT", "FREQ", "k"]), 5);
  lfu.dispatch(["GET", "k"]);
  assert.equal(lfu.dispatch(["OBJECT", "FREQ", "k"]), 6);
  assert.match(
    errorText(lfu.dispatch(["OBJECT", "IDLETIME", "k"])),
    /^ERR An LFU maxmemory policy is selected, idle time not tracked\./,
  );
});

test("OBJECT IDLETIME counts seconds since the last access; TTL, TYPE, EXISTS do not touch", () => {
  const clock = new ManualClock(1_700_000_000_000);
  const server = createServer({ clock });
  server.dispatch(["SET", "k", "v"]);
  clock.advance(5_000);
  server.dispatch(["TTL", "k"]);
  server.dispatch(["TYPE", "k"]);
  server.dispatch(["EXISTS", "k"]);
  assert.equal(server.dispatch(["OBJECT", "IDLETIME", "k"]), 5);
  server.dispatch(["TOUCH", "k"]);
  assert.equal(server.dispatch(["OBJECT", "IDLETIME", "k"]), 0);
  clock.advance(3_000);
  server.dispatch(["GET", "k"]);
  assert.equal(server.dispatch(["OBJECT", "IDLETIME", "k"]), 0);
});

test("OBJECT HELP and bad subcommands answer like Redis on the wire", async () => {
  const { port, close } = await startServer();
  const c = await RawConn.connect(port);
  try {
    // The text of redis-server 7.0.15, line for line.
    const help = [
      "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "ENCODING <key>",
      "    Return the kind of internal representation used in order to store the value",
      "    associated with a <key>.",
      "FREQ <key>",
      "    Return the access frequency index of the <key>. The returned integer is",
      "    proportional to the logarithm of the recent access frequency of the key.",
      "IDLETIME <key>",
      "    Return the idle time of the <key>, that is the approximated number of",
      "    seconds elapsed since the last access to the key.",
      "REFCOUNT <key>",
      "    Return the number of references of the value associated with the specified",
      "    <key>.",
      "HELP",
      "    Print this help.",
    ];
    c.command("OBJECT", "help");
    const want = `*${help.length}\r\n` + help.map((l) => `+${l}\r\n`).join("");
    assert.equal(await c.expect(want), want);
    c.command("OBJECT", "foo", "k");
    const unknown = "-ERR unknown subcommand 'foo'. Try OBJECT HELP.\r\n";
    assert.equal(await c.expect(unknown), unknown);
    c.command("OBJECT", "ENCODING");
    const arity = "-ERR wrong number of arguments for 'object|encoding' command\r\n";
    assert.equal(await c.expect(arity), arity);
  } finally {
    c.close();
    await close();
  }
});

test("keyspace writes propagate as sent and no-ops do not propagate", () => {
  const server = createServer();
  const prop = recordPropagation(server);
  server.dispatch(["SET", "a", "1"]);
  prop.length = 0;
  server.dispatch(["DEL", "nokey"]);
  server.dispatch(["RENAMENX", "a", "a"]);
  server.dispatch(["MOVE", "nokey", "1"]);
  server.dispatch(["COPY", "nokey", "b"]);
  assert.deepEqual(prop, []);
  server.dispatch(["COPY", "a", "b"]);
  server.dispatch(["RENAME", "b", "c"]);
  server.dispatch(["MOVE", "c", "1"]);
  server.dispatch(["DEL", "a", "nokey"]);
  assert.deepEqual(prop, [
    [0, ["COPY", "a", "b"]],
    [0, ["RENAME", "b", "c"]],
    [0, ["MOVE", "c", "1"]],
    [0, ["DEL", "a", "nokey"]],
  ]);
});
