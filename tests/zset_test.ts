import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { createServer } from "../mod.ts";
import type { CommandSpec } from "../mod.ts";
import { DoubleReply, NullArray } from "../core/resp/reply.ts";
import { zpopFromKeys, zsetPop } from "../commands/zset_pop.ts";
import { getZset } from "../commands/zset_common.ts";
import { errorText, RawConn, recordEvents, startServer } from "./helpers.ts";

/** Replies with DoubleReply values turned into numbers, for deepEqual. */
function plain(r: unknown): unknown {
  if (r instanceof DoubleReply) return r.value;
  if (Array.isArray(r)) return r.map(plain);
  return r;
}

test("ZADD options: replies, CH, INCR and option errors", () => {
  const s = createServer();
  assert.equal(s.dispatch(["ZADD", "z", "1", "a", "2", "b"]), 2);
  assert.equal(s.dispatch(["ZADD", "z", "CH", "5", "a", "2", "b", "3", "c"]), 2);
  assert.equal(s.dispatch(["ZADD", "z", "NX", "9", "a", "4", "d"]), 1);
  assert.equal(s.dispatch(["ZADD", "z", "XX", "CH", "GT", "1", "a", "9", "b"]), 1);
  assert.equal(s.dispatch(["ZADD", "z", "LT", "CH", "1", "a", "9", "c"]), 1);
  assert.deepEqual(plain(s.dispatch(["ZADD", "z", "INCR", "1.5", "a"])), 2.5);
  assert.equal(s.dispatch(["ZADD", "z", "NX", "INCR", "1", "a"]), null);
  assert.deepEqual(plain(s.dispatch(["ZINCRBY", "z", "-0.5", "a"])), 2);
  assert.deepEqual(
    plain(s.dispatch(["ZRANGE", "z", "0", "-1", "WITHSCORES"])),
    ["a", 2, "c", 3, "d", 4, "b", 9],
  );
  assert.equal(
    errorText(s.dispatch(["ZADD", "z", "NX", "XX", "1", "a"])),
    "ERR XX and NX options at the same time are not compatible",
  );
  for (const opts of [["GT", "LT"], ["NX", "GT"], ["NX", "LT"]]) {
    assert.equal(
      errorText(s.dispatch(["ZADD", "z", ...opts, "1", "a"])),
      "ERR GT, LT, and/or NX options at the same time are not compatible",
    );
  }
  assert.equal(
    errorText(s.dispatch(["ZADD", "z", "INCR", "1", "a", "2", "b"])),
    "ERR INCR option supports a single increment-element pair",
  );
  assert.equal(
    errorText(s.dispatch(["ZADD", "z", "1", "a", "x", "b"])),
    "ERR value is not a valid float",
  );
  assert.equal(errorText(s.dispatch(["ZADD", "z", "1", "a", "2"])), "ERR syntax error");
  s.dispatch(["ZADD", "inf", "inf", "m"]);
  assert.equal(
    errorText(s.dispatch(["ZINCRBY", "inf", "-inf", "m"])),
    "ERR resulting score is not a number (NaN)",
  );
  // A failed variadic ZADD changes nothing.
  assert.equal(s.dispatch(["ZCARD", "z"]), 4);
});

test("score and lex range errors use Redis's texts", () => {
  const s = createServer();
  s.dispatch(["ZADD", "z", "1", "a"]);
  for (const argv of [["ZCOUNT", "z", "x", "1"], ["ZRANGEBYSCORE", "z", "(", "nan"]]) {
    assert.equal(errorText(s.dispatch(argv)), "ERR min or max is not a float");
  }
  for (const argv of [["ZLEXCOUNT", "z", "a", "+"], ["ZRANGEBYLEX", "z", "-", "+x"]]) {
    assert.equal(errorText(s.dispatch(argv)), "ERR min or max not valid string range item");
  }
  assert.deepEqual(s.dispatch(["ZRANGEBYSCORE", "z", "(0", "(+inf"]), ["a"]);
  assert.deepEqual(s.dispatch(["ZRANGEBYSCORE", "z", "0x1", "1.0"]), ["a"]);
});

test("sorted set writes fire Redis's keyspace events, del after the event that emptied the key", () => {
  const server = createServer();
  const events = recordEvents(server);
  const run = (...argv: string[]) => server.dispatch(argv);
  run("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d");
  run("ZADD", "z", "1", "a"); // no change, no event
  run("ZINCRBY", "z", "1", "a");
  run("ZREM", "z", "nope");
  run("ZREM", "z", "a");
  run("ZREMRANGEBYSCORE", "z", "10", "20");
  run("ZREMRANGEBYSCORE", "z", "2", "2");
  run("ZPOPMIN", "z");
  run("ZPOPMAX", "z", "0");
  run("ZADD", "y", "1", "a", "2", "b");
  run("ZUNIONSTORE", "u", "2", "y", "none");
  run("ZINTERSTORE", "u", "2", "y", "none");
  run("ZRANGESTORE", "r", "y", "0", "0");
  run("ZREMRANGEBYRANK", "y", "0", "0");
  run("ZREMRANGEBYLEX", "y", "-", "+");
  run("ZMPOP", "1", "z", "MAX");
  run("ZADD", "w", "0", "a");
  run("ZDIFFSTORE", "d", "1", "w");
  run("ZPOPMAX", "w", "5");
  assert.deepEqual(events, [
    "zadd:z",
    "zincr:z",
    "zrem:z",
    "zremrangebyscore:z",
    "zpopmin:z",
    "zadd:y",
    "zunionstore:u",
    "del:u",
    "zrangestore:r",
    "zremrangebyrank:y",
    "zremrangebylex:y",
    "del:y",
    "zpopmax:z",
    "del:z",
    "zadd:w",
    "zdiffstore:d",
    "zpopmax:w",
    "del:w",
  ]);
});

test("ZMPOP propagates as ZPOPMIN/ZPOPMAX with the popped count; others as sent, when dirty", () => {
  const server = createServer();
  const out: string[][] = [];
  server.on("propagate", (_db, argv) => out.push(argv));
  const run = (...argv: string[]) => server.dispatch(argv);
  run("ZADD", "z", "1", "a", "2", "b", "3", "c");
  run("ZADD", "z", "1", "a");
  run("ZMPOP", "2", "none", "z", "MAX", "COUNT", "2");
  run("ZMPOP", "1", "z", "MIN", "COUNT", "10");
  run("ZMPOP", "1", "z", "MIN");
  run("ZADD", "z", "1", "a", "2", "b");
  run("ZPOPMIN", "z", "0");
  run("ZPOPMIN", "z");
  run("ZRANDMEMBER", "z", "-5");
  run("ZREM", "z", "nope");
  run("ZUNIONSTORE", "d", "1", "none");
  run("ZUNIONSTORE", "d", "1", "z");
  run("ZUNIONSTORE", "d", "1", "none");
  assert.deepEqual(out, [
    ["ZADD", "z", "1", "a", "2", "b", "3", "c"],
    ["ZPOPMAX", "z", "2"],
    ["ZPOPMIN", "z", "1"],
    ["ZADD", "z", "1", "a", "2", "b"],
    ["ZPOPMIN", "z"],
    ["ZUNIONSTORE", "d", "1", "z"],
    ["ZUNIONSTORE", "d", "1", "none"],
  ]);
});

test("writes count dirty per changed element, stores count one", () => {
  const server = createServer();
  const dirty = (argv: string[]) => {
    const d0 = server.dirty;
    server.dispatch(argv);
    return server.dirty - d0;
  };
  assert.equal(dirty(["ZADD", "z", "1", "a", "2", "b", "3", "c"]), 3);
  assert.equal(dirty(["ZADD", "z", "1", "a", "5", "b", "9", "d"]), 2);
  assert.equal(dirty(["ZREM", "z", "a", "x"]), 1);
  assert.equal(dirty(["ZPOPMIN", "z", "2"]), 2);
  assert.equal(dirty(["ZUNIONSTORE", "u", "1", "z"]), 1);
  assert.equal(dirty(["ZREMRANGEBYRANK", "z", "0", "-1"]), 1);
  assert.equal(dirty(["ZREMRANGEBYRANK", "z", "0", "-1"]), 0);
});

test("encodings follow zset-max-listpack-entries and -value, one way", () => {
  const s = createServer();
  const enc = (key: string) => s.dispatch(["OBJECT", "ENCODING", key]);
  s.dispatch(["CONFIG", "SET", "zset-max-listpack-entries", "4"]);
  s.dispatch(["CONFIG", "SET", "zset-max-listpack-value", "8"]);
  s.dispatch(["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]);
  assert.equal(enc("z"), "listpack");
  s.dispatch(["ZADD", "z", "5", "e"]);
  assert.equal(enc("z"), "skiplist");
  s.dispatch(["ZPOPMIN", "z", "4"]);
  assert.equal(enc("z"), "skiplist");
  s.dispatch(["ZADD", "v", "1", "123456789"]);
  assert.equal(enc("v"), "skiplist");
  s.dispatch(["ZADD", "w", "1", "a"]);
  s.dispatch(["ZINCRBY", "w", "1", "123456789"]);
  assert.equal(enc("w"), "skiplist");
  // Store commands build the result, then pick listpack when it fits.
  s.dispatch(["ZUNIONSTORE", "u", "1", "z"]);
  assert.equal(enc("u"), "listpack");
  s.dispatch(["ZADD", "big", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"]);
  s.dispatch(["ZRANGESTORE", "r", "big", "0", "-1"]);
  assert.equal(enc("r"), "skiplist");
  s.dispatch(["ZRANGESTORE", "r", "big", "0", "1"]);
  assert.equal(enc("r"), "listpack");
  s.dispatch(["COPY", "big", "big2"]);
  assert.equal(enc("big2"), "skiplist");
  s.dispatch(["CONFIG", "SET", "zset-max-listpack-entries", "0"]);
  s.dispatch(["ZADD", "zero", "1", "a"]);
  assert.equal(enc("zero"), "skiplist");
});

test("a CONFIG SET of the listpack limits applies to the next ZADD, by either name", () => {
  const s = createServer();
  const enc = (key: string) => s.dispatch(["OBJECT", "ENCODING", key]);
  // The first inserts read the limits (128 and 64) ...
  s.dispatch(["ZADD", "z", "1", "a", "2", "b"]);
  s.dispatch(["ZADD", "y", "1", "a"]);
  assert.equal(enc("z"), "listpack");
  // ... and the next one sees the new ones.
  s.dispatch(["CONFIG", "SET", "zset-max-ziplist-entries", "2"]);
  s.dispatch(["ZADD", "z", "3", "c"]);
  assert.equal(enc("z"), "skiplist");
  s.dispatch(["CONFIG", "SET", "zset-max-listpack-value", "3"]);
  s.dispatch(["ZADD", "y", "2", "abcd"]);
  assert.equal(enc("y"), "skiplist");
});

test("WRONGTYPE for every sorted set command on a string", () => {
  const s = createServer();
  s.dispatch(["SET", "str", "v"]);
  const wrong = "WRONGTYPE Operation against a key holding the wrong kind of value";
  for (
    const argv of [
      ["ZADD", "str", "1", "a"],
      ["ZSCORE", "str", "a"],
      ["ZRANGE", "str", "0", "1"],
      ["ZRANGESTORE", "d", "str", "0", "1"],
      ["ZPOPMIN", "str"],
      ["ZMPOP", "2", "none", "str", "MIN"],
      ["ZUNION", "2", "none", "str"],
      ["ZRANDMEMBER", "str"],
      ["ZSCAN", "str", "0"],
      ["ZCOUNT", "str", "0", "1"],
      ["ZREMRANGEBYLEX", "str", "-", "+"],
    ]
  ) {
    assert.equal(errorText(s.dispatch(argv)), wrong, argv.join(" "));
  }
  assert.equal(s.dispatch(["GET", "str"]), "v");
});

test("plain sets are inputs of ZUNION, ZINTER and ZDIFF with score 1", () => {
  const s = createServer();
  s.dispatch(["ZADD", "z", "5", "a", "7", "b"]);
  s.dispatch(["SADD", "s", "a", "c"]);
  assert.deepEqual(plain(s.dispatch(["ZUNION", "2", "z", "s", "WITHSCORES"])), [
    "c",
    1,
    "a",
    6,
    "b",
    7,
  ]);
  assert.deepEqual(
    plain(s.dispatch(["ZINTER", "2", "z", "s", "WEIGHTS", "1", "10", "WITHSCORES"])),
    ["a", 15],
  );
  assert.deepEqual(s.dispatch(["ZDIFF", "2", "s", "z"]), ["c"]);
  assert.equal(s.dispatch(["ZINTERCARD", "2", "s", "z"]), 1);
});

test("zsetPop and zpopFromKeys do what the commands do, with the rewritten effect", () => {
  const take: CommandSpec = {
    name: "testzpop",
    arity: 3,
    flags: ["write"],
    keys: { first: 1, last: 1, step: 1 },
    execute(client, argv) {
      const z = getZset(client, argv[1]!, true);
      if (z === undefined) return null;
      return zsetPop(client, argv[1]!, z, true, Number(argv[2])).map((n) => n.member);
    },
  };
  const bz: CommandSpec = {
    name: "testbzpop",
    arity: -2,
    flags: ["write"],
    keys: { first: 1, last: -1, step: 1 },
    execute: (client, argv) => zpopFromKeys(client, argv.slice(1), false, undefined) ?? null,
  };
  const server = createServer({ commands: [take, bz] });
  const out: string[][] = [];
  const events = recordEvents(server);
  server.on("propagate", (_db, argv) => out.push(argv));
  server.dispatch(["ZADD", "q", "1", "a", "2", "b", "3", "c"]);
  assert.deepEqual(server.dispatch(["TESTZPOP", "q", "2"]), ["c", "b"]);
  assert.deepEqual(plain(server.dispatch(["TESTBZPOP", "none", "q"])), ["q", "a", 1]);
  assert.equal(server.dispatch(["TESTBZPOP", "none", "q"]), null);
  // TESTZPOP is not a built-in: having recorded no effect, it goes out as the key's new value.
  assert.equal(out.length, 3);
  assert.deepEqual(out[0], ["ZADD", "q", "1", "a", "2", "b", "3", "c"]);
  assert.deepEqual([...out[1]!.slice(0, 3), ...out[1]!.slice(4)], [
    "RESTORE",
    "q",
    "0",
    "REPLACE",
    "ABSTTL",
  ]);
  assert.deepEqual(out[2], ["ZPOPMIN", "q"]);
  assert.deepEqual(events, ["zadd:q", "zpopmax:q", "zpopmin:q", "del:q"]);
});

test("ZMPOP with nothing to pop answers the null array", () => {
  const s = createServer();
  assert.ok(s.dispatch(["ZMPOP", "2", "a", "b", "MIN"]) instanceof NullArray);
});

test("ZSCAN returns every element of a large set despite writes between calls", () => {
  const s = createServer();
  const all = new Set<string>();
  const args: string[] = [];
  for (let i = 0; i < 1000; i++) {
    args.push(String(i), `m${i}`);
    all.add(`m${i}`);
  }
  s.dispatch(["ZADD", "z", ...args]);
  const seen = new Set<string>();
  let cursor = "0";
  let calls = 0;
  do {
    const [next, items] = s.dispatch(["ZSCAN", "z", cursor, "COUNT", "50"]) as [string, string[]];
    for (let i = 0; i < items.length; i += 2) {
      seen.add(items[i]!);
      assert.equal(items[i + 1], items[i]!.slice(1));
    }
    // Deleting and adding other members must not hide members present throughout.
    s.dispatch(["ZREM", "z", `m${999 - calls}`]);
    all.delete(`m${999 - calls}`);
    s.dispatch(["ZADD", "z", "0", `new${calls}`]);
    cursor = next;
    calls++;
  } while (cursor !== "0");
  for (const m of all) assert.ok(seen.has(m), m);
  assert.ok(calls > 10);
});

test("RESP2 and RESP3 replies byte for byte", async () => {
  const { port, close } = await startServer();
  const c2 = await RawConn.connect(port);
  const c3 = await RawConn.connect(port);
  try {
    c3.command("HELLO", "3");
    await new Promise((r) => setTimeout(r, 50));
    await c3.read(c3.pending.length);
    c2.command("ZADD", "z", "1.5", "a", "inf", "b", "-0.5", "c");
    assert.equal(await c2.expect(":3\r\n"), ":3\r\n");
    const cases: Array<[string[], string, string]> = [
      [["ZSCORE", "z", "a"], "$3\r\n1.5\r\n", ",1.5\r\n"],
      [["ZSCORE", "z", "b"], "$3\r\ninf\r\n", ",inf\r\n"],
      [["ZSCORE", "z", "nope"], "$-1\r\n", "_\r\n"],
      [["ZMSCORE", "z", "c", "x"], "*2\r\n$4\r\n-0.5\r\n$-1\r\n", "*2\r\n,-0.5\r\n_\r\n"],
      [["ZRANK", "z", "x"], "$-1\r\n", "_\r\n"],
      [
        ["ZRANGE", "z", "0", "1", "WITHSCORES"],
        "*4\r\n$1\r\nc\r\n$4\r\n-0.5\r\n$1\r\na\r\n$3\r\n1.5\r\n",
        "*2\r\n*2\r\n$1\r\nc\r\n,-0.5\r\n*2\r\n$1\r\na\r\n,1.5\r\n",
      ],
      [
        ["ZUNION", "1", "z", "WITHSCORES"],
        "*6\r\n$1\r\nc\r\n$4\r\n-0.5\r\n$1\r\na\r\n$3\r\n1.5\r\n$1\r\nb\r\n$3\r\ninf\r\n",
        "*3\r\n*2\r\n$1\r\nc\r\n,-0.5\r\n*2\r\n$1\r\na\r\n,1.5\r\n*2\r\n$1\r\nb\r\n,inf\r\n",
      ],
      [["ZRANDMEMBER", "none", "2"], "*0\r\n", "*0\r\n"],
      [["ZINCRBY", "z", "0.25", "c"], "$5\r\n-0.25\r\n", ",0\r\n"],
      [["ZMPOP", "1", "none", "MIN"], "*-1\r\n", "_\r\n"],
    ];
    for (const [argv, resp2, resp3] of cases) {
      c2.command(...argv);
      c3.command(...argv);
      assert.equal(await c2.expect(resp2), resp2, `RESP2 ${argv.join(" ")}`);
      assert.equal(await c3.expect(resp3), resp3, `RESP3 ${argv.join(" ")}`);
    }
    c2.command("ZPOPMIN", "z");
    assert.equal(
      await c2.expect("*2\r\n$1\r\nc\r\n$1\r\n0\r\n"),
      "*2\r\n$1\r\nc\r\n$1\r\n0\r\n",
    );
    c3.command("ZPOPMIN", "z", "1");
    const nested = "*1\r\n*2\r\n$1\r\na\r\n,1.5\r\n";
    assert.equal(await c3.expect(nested), nested);
    c3.command("ZPOPMAX", "z");
    assert.equal(await c3.expect("*2\r\n$1\r\nb\r\n,inf\r\n"), "*2\r\n$1\r\nb\r\n,inf\r\n");
  } finally {
    c2.close();
    c3.close();
    await close();
  }
});

test("ioredis and node-redis (RESP2 and RESP3) drive sorted sets", async () => {
  const { port, close } = await startServer();
  const io = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
  const nr = createClient({ socket: { port, host: "127.0.0.1" } });
  const nr3 = createClient({ socket: { port, host: "127.0.0.1" }, RESP: 3 });
  try {
    await io.connect();
    await nr.connect();
    await nr3.connect();
    assert.equal(await io.zadd("board", 10, "ann", 20, "bob", 15, "cy"), 3);
    assert.deepEqual(await io.zrange("board", "0", "-1", "WITHSCORES"), [
      "ann",
      "10",
      "cy",
      "15",
      "bob",
      "20",
    ]);
    assert.equal(await io.zincrby("board", 7.5, "ann"), "17.5");
    assert.deepEqual(await io.zrevrangebyscore("board", "+inf", "(15", "LIMIT", 0, 1), ["bob"]);
    assert.equal(await io.zrank("board", "bob"), 2);
    assert.deepEqual(await io.zpopmin("board"), ["cy", "15"]);
    assert.equal(await nr.zScore("board", "ann"), 17.5);
    assert.deepEqual(await nr.zRangeWithScores("board", 0, -1), [
      { value: "ann", score: 17.5 },
      { value: "bob", score: 20 },
    ]);
    assert.equal(await nr.zAdd("board", [{ score: 1, value: "dee" }]), 1);
    assert.deepEqual(await nr.zmPop("board", "MIN", { COUNT: 2 }), {
      key: "board",
      members: [{ value: "dee", score: 1 }, { value: "ann", score: 17.5 }],
    });
    assert.equal(await nr3.zScore("board", "bob"), 20);
    assert.deepEqual(await nr3.zRangeWithScores("board", 0, -1), [{ value: "bob", score: 20 }]);
    assert.deepEqual(await nr3.zPopMax("board"), { value: "bob", score: 20 });
    assert.equal(await io.exists("board"), 0);
  } finally {
    io.disconnect();
    await nr.quit();
    await nr3.quit();
    await close();
  }
});
