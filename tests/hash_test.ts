import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { createServer, ManualClock, NotifyClass } from "../mod.ts";
import type { Server } from "../mod.ts";
import { MapReply, type SimpleString } from "../core/resp/reply.ts";
import { errorText, hello3, RawConn, startServer } from "./helpers.ts";

function encoding(server: Server, key: string): unknown {
  return server.dispatch(["OBJECT", "ENCODING", key]);
}

test("HSET counts new fields, HMSET answers OK, HGETALL keeps insertion order", () => {
  const server = createServer();
  assert.equal(server.dispatch(["HSET", "h", "a", "1", "b", "2", "a", "3"]), 2);
  assert.equal((server.dispatch(["HMSET", "h", "c", "4"]) as SimpleString).value, "OK");
  assert.equal(server.dispatch(["HDEL", "h", "a"]), 1);
  assert.equal(server.dispatch(["HSET", "h", "a", "5"]), 1);
  const all = server.dispatch(["HGETALL", "h"]);
  assert.ok(all instanceof MapReply);
  assert.deepEqual(all.entries, ["b", "2", "c", "4", "a", "5"]);
  assert.deepEqual(server.dispatch(["HMGET", "h", "a", "zz", "c"]), ["5", null, "4"]);
  assert.deepEqual(server.dispatch(["HMGET", "missing", "a"]), [null]);
  assert.equal(server.dispatch(["HSTRLEN", "h", "a"]), 1);
  assert.equal(server.dispatch(["HEXISTS", "h", "zz"]), 0);
  assert.equal(server.dispatch(["HSETNX", "h", "a", "9"]), 0);
  assert.equal(server.dispatch(["HSETNX", "h", "n", "9"]), 1);
  assert.equal(server.dispatch(["HLEN", "h"]), 4);
  assert.equal(
    errorText(server.dispatch(["HSET", "h", "a"])),
    "ERR wrong number of arguments for 'hset' command",
  );
  assert.equal(
    errorText(server.dispatch(["HMSET", "h", "a", "1", "b"])),
    "ERR wrong number of arguments for 'hmset' command",
  );
});

test("a hash converts one way to a hashtable past either listpack threshold", () => {
  const server = createServer({
    config: { "hash-max-listpack-entries": 3, "hash-max-listpack-value": 8 },
  });
  server.dispatch(["HSET", "h", "a", "1", "b", "2", "c", "3"]);
  assert.equal(encoding(server, "h"), "listpack");
  server.dispatch(["HSET", "h", "d", "4"]);
  assert.equal(encoding(server, "h"), "hashtable");
  server.dispatch(["HDEL", "h", "a", "b", "c"]);
  assert.equal(encoding(server, "h"), "hashtable");
  server.dispatch(["HSET", "v", "f", "12345678"]);
  assert.equal(encoding(server, "v"), "listpack");
  server.dispatch(["HSET", "v", "f", "123456789"]);
  assert.equal(encoding(server, "v"), "hashtable");
  // A long field converts too, also when HINCRBY or HINCRBYFLOAT create it.
  server.dispatch(["HINCRBY", "w", "123456789", "1"]);
  assert.equal(encoding(server, "w"), "hashtable");
  server.dispatch(["HSET", "x", "f", "1"]);
  server.dispatch(["HINCRBYFLOAT", "x", "f", "0.0000001"]);
  assert.equal(server.dispatch(["HGET", "x", "f"]), "1.0000001");
  assert.equal(encoding(server, "x"), "hashtable");
  server.dispatch(["HSET", "y", "f", "1"]);
  server.dispatch(["COPY", "y", "y2"]);
  server.dispatch(["COPY", "x", "x2"]);
  server.dispatch(["HSET", "y2", "g", "2"]);
  assert.equal(encoding(server, "y2"), "listpack");
  assert.equal(encoding(server, "x2"), "hashtable");
  assert.equal(server.dispatch(["HLEN", "y"]), 1);
});

test("HINCRBY and HINCRBYFLOAT work on 64-bit integers and long doubles like Redis", () => {
  const server = createServer();
  assert.equal(server.dispatch(["HINCRBY", "h", "n", "9223372036854775806"]), 9223372036854775806n);
  assert.equal(server.dispatch(["HINCRBY", "h", "n", "1"]), 9223372036854775807n);
  assert.equal(
    errorText(server.dispatch(["HINCRBY", "h", "n", "1"])),
    "ERR increment or decrement would overflow",
  );
  server.dispatch(["HSET", "h", "s", " 1"]);
  assert.equal(
    errorText(server.dispatch(["HINCRBY", "h", "s", "1"])),
    "ERR hash value is not an integer",
  );
  assert.equal(
    errorText(server.dispatch(["HINCRBYFLOAT", "h", "s", "1"])),
    "ERR hash value is not a float",
  );
  assert.equal(server.dispatch(["HINCRBYFLOAT", "h", "f", "10.5"]), "10.5");
  assert.equal(server.dispatch(["HINCRBYFLOAT", "h", "f", "0.1"]), "10.6");
  server.dispatch(["HSET", "h", "t", "3000"]);
  assert.equal(server.dispatch(["HINCRBYFLOAT", "h", "t", "0.00000000000000001"]), "3000");
  assert.equal(
    errorText(server.dispatch(["HINCRBYFLOAT", "h", "f", "inf"])),
    "ERR value is NaN or Infinity",
  );
  assert.equal(
    errorText(server.dispatch(["HINCRBYFLOAT", "h", "f", "x"])),
    "ERR value is not a valid float",
  );
  server.dispatch(["HSET", "h", "i", "inf"]);
  assert.equal(
    errorText(server.dispatch(["HINCRBYFLOAT", "h", "i", "1"])),
    "ERR increment would produce NaN or Infinity",
  );
});

test("hash writes fire Redis's events, keep the TTL and delete an emptied key", () => {
  const clock = new ManualClock(1_000_000);
  const server = createServer({ clock });
  const events: string[] = [];
  server.on("keyspaceEvent", (_db, type, event, key) => {
    if (type !== NotifyClass.keyMiss) events.push(`${event}:${key}`);
  });
  server.dispatch(["HSET", "h", "a", "1", "b", "2"]);
  server.dispatch(["PEXPIRE", "h", "5000"]);
  server.dispatch(["HSETNX", "h", "a", "1"]);
  server.dispatch(["HSETNX", "h", "c", "1"]);
  server.dispatch(["HINCRBY", "h", "a", "1"]);
  server.dispatch(["HINCRBYFLOAT", "h", "a", "1.5"]);
  server.dispatch(["HDEL", "h", "zz"]);
  assert.equal(server.dispatch(["PTTL", "h"]), 5000);
  assert.equal(server.dispatch(["HDEL", "h", "a", "b", "c", "d"]), 3);
  assert.equal(server.dispatch(["EXISTS", "h"]), 0);
  assert.deepEqual(events, [
    "hset:h",
    "expire:h",
    "hset:h",
    "hincrby:h",
    "hincrbyfloat:h",
    "hdel:h",
    "del:h",
  ]);
});

test("HINCRBYFLOAT propagates as HSET with the result; other writes as sent", () => {
  const server = createServer();
  const out: string[][] = [];
  server.on("propagate", (_db, argv) => out.push(argv));
  server.dispatch(["HINCRBYFLOAT", "h", "f", "1.10"]);
  server.dispatch(["HINCRBY", "h", "i", "7"]);
  server.dispatch(["HSETNX", "h", "i", "8"]);
  server.dispatch(["HDEL", "h", "none"]);
  server.dispatch(["HINCRBYFLOAT", "h", "f", "x"]);
  assert.deepEqual(out, [["HSET", "h", "f", "1.1"], ["HINCRBY", "h", "i", "7"]]);
});

test("HRANDFIELD: positive counts give distinct fields, negative ones may repeat", () => {
  for (const entries of [128, 4]) {
    const server = createServer({ config: { "hash-max-listpack-entries": entries } });
    const fields = Array.from({ length: 20 }, (_, i) => `f${i}`);
    server.dispatch(["HSET", "h", ...fields.flatMap((f) => [f, `v${f}`])]);
    assert.equal(encoding(server, "h"), entries === 4 ? "hashtable" : "listpack");
    for (const count of [1, 3, 7, 19, 20, 21, 500]) {
      const got = server.dispatch(["HRANDFIELD", "h", String(count)]) as string[];
      assert.equal(got.length, Math.min(count, 20));
      assert.equal(new Set(got).size, got.length, `distinct for ${count}`);
      for (const f of got) assert.ok(fields.includes(f));
      const pairs = server.dispatch(["HRANDFIELD", "h", String(count), "WITHVALUES"]) as string[];
      assert.equal(pairs.length, 2 * Math.min(count, 20));
      for (let i = 0; i < pairs.length; i += 2) assert.equal(pairs[i + 1], `v${pairs[i]}`);
    }
    const many = server.dispatch(["HRANDFIELD", "h", "-2000", "WITHVALUES"]) as string[];
    assert.equal(many.length, 4000);
    const picked = new Set(many.filter((_, i) => i % 2 === 0));
    assert.equal(picked.size, 20);
    assert.ok(fields.includes(server.dispatch(["HRANDFIELD", "h"]) as string));
    assert.deepEqual(server.dispatch(["HRANDFIELD", "h", "0"]), []);
    assert.deepEqual(server.dispatch(["HRANDFIELD", "missing", "-3"]), []);
    assert.equal(server.dispatch(["HRANDFIELD", "missing"]), null);
  }
});

test("HSCAN returns every field present for the whole scan despite changes", () => {
  const server = createServer();
  const stable = Array.from({ length: 600 }, (_, i) => `stable:${i}`);
  server.dispatch(["HSET", "h", ...stable.flatMap((f) => [f, "v"])]);
  assert.equal(encoding(server, "h"), "hashtable");
  let cursor = "0";
  const seen = new Set<string>();
  let n = 0;
  do {
    const [next, batch] = server.dispatch(["HSCAN", "h", cursor, "COUNT", "9"]) as [
      string,
      string[],
    ];
    for (let i = 0; i < batch.length; i += 2) seen.add(batch[i]!);
    cursor = next;
    server.dispatch(["HSET", "h", `churn:${n++}`, "v"]);
    if (n % 2 === 0) server.dispatch(["HDEL", "h", `churn:${n - 2}`]);
  } while (cursor !== "0");
  for (const f of stable) assert.ok(seen.has(f), f);
  server.dispatch(["HSET", "small", "a1", "x", "b", "y", "a2", "z"]);
  assert.deepEqual(server.dispatch(["HSCAN", "small", "0", "MATCH", "a*"]), [
    "0",
    ["a1", "x", "a2", "z"],
  ]);
});

test("hash commands refuse other types with WRONGTYPE", () => {
  const server = createServer();
  server.dispatch(["SADD", "set", "x"]);
  const wrong = "WRONGTYPE Operation against a key holding the wrong kind of value";
  for (
    const argv of [
      ["HSET", "set", "a", "1"],
      ["HSETNX", "set", "a", "1"],
      ["HGET", "set", "a"],
      ["HMGET", "set", "a"],
      ["HDEL", "set", "a"],
      ["HLEN", "set"],
      ["HGETALL", "set"],
      ["HKEYS", "set"],
      ["HINCRBY", "set", "a", "1"],
      ["HINCRBYFLOAT", "set", "a", "1"],
      ["HRANDFIELD", "set", "1"],
      ["HSCAN", "set", "0"],
    ]
  ) {
    assert.equal(errorText(server.dispatch(argv)), wrong, argv.join(" "));
  }
});

test("RESP2 and RESP3 replies of HGETALL and HRANDFIELD WITHVALUES, byte for byte", async () => {
  const { port, close } = await startServer();
  const c2 = await RawConn.connect(port);
  const c3 = await RawConn.connect(port);
  try {
    await hello3(c3);
    c2.command("HSET", "h", "a", "1", "b", "2");
    assert.equal(await c2.expect(":2\r\n"), ":2\r\n");
    const cases: Array<[string[], string, string]> = [
      [
        ["HGETALL", "h"],
        "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n",
        "%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n",
      ],
      [["HGETALL", "none"], "*0\r\n", "%0\r\n"],
      [
        ["HRANDFIELD", "h", "2", "WITHVALUES"],
        "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n",
        "*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n",
      ],
      [["HRANDFIELD", "none", "2"], "*0\r\n", "*0\r\n"],
      [["HRANDFIELD", "none"], "$-1\r\n", "_\r\n"],
      [["HGET", "h", "zz"], "$-1\r\n", "_\r\n"],
      [["HKEYS", "h"], "*2\r\n$1\r\na\r\n$1\r\nb\r\n", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"],
      [
        ["HSCAN", "h", "0"],
        "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n",
        "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n",
      ],
    ];
    for (const [argv, resp2, resp3] of cases) {
      c2.command(...argv);
      c3.command(...argv);
      assert.equal(await c2.expect(resp2), resp2, `RESP2 ${argv.join(" ")}`);
      assert.equal(await c3.expect(resp3), resp3, `RESP3 ${argv.join(" ")}`);
    }
  } finally {
    c2.close();
    c3.close();
    await close();
  }
});

test("ioredis and node-redis use the hash commands as on Redis", async () => {
  const { port, close } = await startServer();
  const io = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
  const nr = createClient({ socket: { port, host: "127.0.0.1" } });
  await io.connect();
  await nr.connect();
  try {
    assert.equal(await io.hset("h", { a: "1", b: "2" }), 2);
    assert.deepEqual(await io.hgetall("h"), { a: "1", b: "2" });
    assert.equal(await io.hincrby("h", "a", 5), 6);
    assert.equal(await io.hincrbyfloat("h", "b", "0.5"), "2.5");
    assert.deepEqual(await io.hmget("h", "a", "x"), ["6", null]);
    const scanned: string[] = [];
    for await (const batch of io.hscanStream("h")) scanned.push(...batch);
    assert.deepEqual(scanned, ["a", "6", "b", "2.5"]);
    assert.equal(await nr.hSet("n", { x: "1", y: "2" }), 2);
    assert.deepEqual({ ...(await nr.hGetAll("n")) }, { x: "1", y: "2" });
    assert.deepEqual(await nr.hKeys("n"), ["x", "y"]);
    assert.equal(await nr.hExists("n", "x"), 1);
    assert.equal((await nr.hRandFieldCount("n", 5)).length, 2);
    await assert.rejects(io.hincrby("n", "x", "1.5"), /value is not an integer or out of range/);
  } finally {
    io.disconnect();
    await nr.quit();
    await close();
  }
});
