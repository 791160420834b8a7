/**
 * Hash field expiration (Redis 7.4) and the 8.0 hash commands: exact replies asserted directly,
 * then (when the 7.4.1 reference build is present) the same commands and random sequences sent
 * to it and to redeno, compared byte for byte in RESP2 and RESP3; propagation, events and lazy
 * and active expiry with a manual clock.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "../mod.ts";
import { ManualClock } from "../core/clock.ts";
import { hello3, RawConn, recordEffects, recordEvents, startServer } from "./helpers.ts";
import { pipeline, prng } from "./redis_compare.ts";
import { compareWithReference, REFERENCE_74 } from "./reference_redis.ts";

const NO_REF = REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false;
/** A time far in the future (ms), so that no field expires while a test runs. */
const FAR = 4_000_000_000_000;

/** Each case: a command and redeno's expected raw RESP2 reply. */
const CASES: Array<[string, string]> = [
  ["HSET h a 1 b 2 c 3", ":3\r\n"],
  ["OBJECT ENCODING h", "$8\r\nlistpack\r\n"],
  ["HEXPIREAT h 4000000000 FIELDS 1 zz", "*1\r\n:-2\r\n"],
  ["OBJECT ENCODING h", "$10\r\nlistpackex\r\n"],
  ["HPEXPIREAT h 4000000000000 FIELDS 2 a b", "*2\r\n:1\r\n:1\r\n"],
  ["HPEXPIREAT h 4000000000000 NX FIELDS 2 a c", "*2\r\n:0\r\n:1\r\n"],
  ["HPEXPIREAT h 4000000000001 XX FIELDS 1 a", "*1\r\n:1\r\n"],
  ["HPEXPIREAT h 4000000000000 GT FIELDS 1 a", "*1\r\n:0\r\n"],
  ["HPEXPIREAT h 4000000000000 LT FIELDS 1 a", "*1\r\n:1\r\n"],
  [
    "HPEXPIRETIME h FIELDS 4 a b c zz",
    "*4\r\n:4000000000000\r\n:4000000000000\r\n:4000000000000\r\n:-2\r\n",
  ],
  ["HEXPIRETIME h FIELDS 1 a", "*1\r\n:4000000000\r\n"],
  ["HSET h a 9", ":0\r\n"],
  ["HPEXPIRETIME h FIELDS 1 a", "*1\r\n:-1\r\n"],
  ["HEXPIREAT h 4000000000 GT FIELDS 1 a", "*1\r\n:0\r\n"],
  ["HEXPIREAT h 4000000000 XX FIELDS 1 a", "*1\r\n:0\r\n"],
  ["HPERSIST h FIELDS 3 a b zz", "*3\r\n:-1\r\n:1\r\n:-2\r\n"],
  ["HEXPIRE h 0 FIELDS 1 b", "*1\r\n:2\r\n"],
  // listpackex order: TTL'd fields soonest first, then the others in the order they lost theirs.
  ["HGETALL h", "*4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\na\r\n$1\r\n9\r\n"],
  ["HLEN h", ":2\r\n"],
  ["HPEXPIREAT h 1 FIELDS 2 a c", "*2\r\n:2\r\n:2\r\n"],
  ["EXISTS h", ":0\r\n"],
  ["HEXPIRE nokey 10 FIELDS 2 a b", "*2\r\n:-2\r\n:-2\r\n"],
  ["HTTL nokey FIELDS 1 a", "*1\r\n:-2\r\n"],
  ["HPERSIST nokey FIELDS 1 a", "*1\r\n:-2\r\n"],
  ["HSET h2 a 1", ":1\r\n"],
  ["HTTL h2 FIELDS 1 a", "*1\r\n:-1\r\n"],
  ["HEXPIRE h2 -1 FIELDS 1 a", "-ERR invalid expire time, must be >= 0\r\n"],
  ["HEXPIRE h2 abc FIELDS 1 a", "-ERR value is not an integer or out of range\r\n"],
  ["HEXPIRE h2 99999999999999999 FIELDS 1 a", "-ERR invalid expire time in 'hexpire' command\r\n"],
  [
    "HPEXPIREAT h2 70368744177664 FIELDS 1 a",
    "-ERR invalid expire time in 'hpexpireat' command\r\n",
  ],
  ["HEXPIRE h2 10 FIELDS 0 a", "-ERR Parameter `numFields` should be greater than 0\r\n"],
  [
    "HEXPIRE h2 10 FIELDS 2 a",
    "-ERR The `numfields` parameter must match the number of arguments\r\n",
  ],
  [
    "HEXPIRE h2 10 FOO 1 a",
    "-ERR Mandatory argument FIELDS is missing or not at the right position\r\n",
  ],
  [
    "HEXPIRE h2 10 NX FIELDS 1",
    "-ERR The `numfields` parameter must match the number of arguments\r\n",
  ],
  ["HTTL h2 FIELDS 0 a", "-ERR Number of fields must be a positive integer\r\n"],
  ["HTTL h2 FIELDS x a", "-ERR Number of fields must be a positive integer\r\n"],
  ["HTTL h2 FIELDS 1 a b", "-ERR The `numfields` parameter must match the number of arguments\r\n"],
  [
    "HPERSIST h2 FIELD 1 a",
    "-ERR Mandatory argument FIELDS is missing or not at the right position\r\n",
  ],
  ["HTTL h2 FIELDS 1", "-ERR wrong number of arguments for 'httl' command\r\n"],
  ["HEXPIRE h2 10 FIELDS", "-ERR wrong number of arguments for 'hexpire' command\r\n"],
  ["SET s x", "+OK\r\n"],
  [
    "HEXPIRE s 10 FIELDS 1 a",
    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
  ],
  ["HTTL s FIELDS 1 a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  ["CONFIG SET hash-max-listpack-entries 2", "+OK\r\n"],
  ["HSET big a 1 b 2 c 3", ":3\r\n"],
  ["HPEXPIREAT big 4000000000000 FIELDS 2 a b", "*2\r\n:1\r\n:1\r\n"],
  ["OBJECT ENCODING big", "$9\r\nhashtable\r\n"],
  ["HPEXPIRETIME big FIELDS 3 a b c", "*3\r\n:4000000000000\r\n:4000000000000\r\n:-1\r\n"],
  ["HPERSIST big FIELDS 2 a c", "*2\r\n:1\r\n:-1\r\n"],
  ["CONFIG SET hash-max-listpack-entries 128", "+OK\r\n"],
  ["HSET small a 1", ":1\r\n"],
  ["HPEXPIREAT small 4000000000000 FIELDS 1 a", "*1\r\n:1\r\n"],
  ["HSET small b 2", ":1\r\n"],
  ["COPY small small2", ":1\r\n"],
  ["RENAME small small3", "+OK\r\n"],
  ["HPEXPIRETIME small2 FIELDS 2 a b", "*2\r\n:4000000000000\r\n:-1\r\n"],
  ["HPEXPIRETIME small3 FIELDS 2 a b", "*2\r\n:4000000000000\r\n:-1\r\n"],
  ["OBJECT ENCODING small3", "$10\r\nlistpackex\r\n"],
];

const split = (line: string) => line.split(" ");

test("HEXPIRE, HTTL, HPERSIST and friends answer Redis 7.4.1's replies", async () => {
  const ours = await startServer();
  const c = await RawConn.connect(ours.port);
  try {
    const got = await pipeline(c, CASES.map(([cmd]) => split(cmd)));
    CASES.forEach(([cmd, want], i) => assert.equal(got[i], want, cmd));
  } finally {
    c.close();
    await ours.close();
  }
});

test("the same commands side by side with the 7.4.1 reference", { skip: NO_REF }, async () => {
  for (const resp3 of [false, true]) {
    await compareWithReference(CASES.map(([cmd]) => split(cmd)), resp3);
  }
});

/** A random sequence over the field TTL commands with times that never fall due mid-test. */
function randomCases(seed: number, n: number, listpackOnly: boolean): string[][] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const keys = ["h1", "h2", "s"];
  const fields = ["a", "b", "c", "d", "e", "f"];
  const conds = ["", "NX", "XX", "GT", "LT"];
  const some = () => {
    const k = 1 + Math.floor(rnd() * 3);
    return Array.from({ length: k }, () => pick(fields));
  };
  // Small hashes keep listpackex order, which must match; hashtable order is compared sorted.
  const entries = listpackOnly ? "128" : "4";
  const out: string[][] = [["CONFIG", "SET", "hash-max-listpack-entries", entries], [
    "SET",
    "s",
    "x",
  ]];
  for (let i = 0; i < n; i++) {
    const key = pick(keys);
    const fs = some();
    const cond = pick(conds);
    const time = pick([String(FAR + Math.floor(rnd() * 3) * 1000), "1", "0"]);
    const withCond = (argv: string[]) => cond === "" ? argv : [...argv, cond];
    switch (Math.floor(rnd() * 15)) {
      case 0:
      case 1:
        out.push(["HSET", key, ...fs.flatMap((f) => [f, String(i)])]);
        break;
      case 2:
        out.push([...withCond(["HPEXPIREAT", key, time]), "FIELDS", String(fs.length), ...fs]);
        break;
      case 3:
        out.push([
          ...withCond(["HEXPIREAT", key, time === "0" ? "0" : String(Number(time) / 1000)]),
          "FIELDS",
          String(fs.length),
          ...fs,
        ]);
        break;
      case 4:
        out.push(["HPERSIST", key, "FIELDS", String(fs.length), ...fs]);
        break;
      case 5:
        out.push(["HPEXPIRETIME", key, "FIELDS", String(fs.length), ...fs]);
        break;
      case 6:
        out.push(["HEXPIRETIME", key, "FIELDS", String(fs.length), ...fs]);
        break;
      case 7:
        out.push([listpackOnly ? "HGETALL" : "~HGETALL", key]);
        break;
      case 8:
        out.push(["HDEL", key, ...fs]);
        break;
      case 9:
        out.push(["OBJECT", "ENCODING", key]);
        break;
      case 10:
        out.push(["HMGET", key, ...fs]);
        break;
      case 12:
        out.push(["HINCRBY", key, fs[0]!, "1"], ["HSETNX", key, fs[0]!, "n"]);
        break;
      case 13:
        out.push(["HEXISTS", key, fs[0]!], ["HSTRLEN", key, fs[0]!], ["HGET", key, fs[0]!]);
        break;
      case 14:
        out.push(["HTTL", key, "FIELDS", String(fs.length), ...fs.map((f) => f + "x")]);
        break;
      default:
        out.push(["HLEN", key], ["EXISTS", key]);
    }
  }
  return out;
}

test("random field TTL sequences match the 7.4.1 reference", { skip: NO_REF }, async () => {
  for (let seed = 1; seed <= 4; seed++) {
    await compareWithReference(randomCases(seed, 300, seed > 2), seed % 2 === 0);
  }
});

const T0 = 1_700_000_000_000;

function local() {
  const clock = new ManualClock(T0);
  const server = createServer({ clock });
  return { server, clock, prop: recordEffects(server), events: recordEvents(server) };
}

test("HEXPIRE propagates as HPEXPIREAT of the fields it set, and HDEL for past times", () => {
  const { server, prop, events } = local();
  server.dispatch(["HSET", "h", "a", "1", "b", "2", "c", "3"]);
  prop.length = events.length = 0;
  assert.deepEqual(server.dispatch(["HEXPIRE", "h", "10", "NX", "FIELDS", "3", "a", "zz", "b"]), [
    1,
    -2,
    1,
  ]);
  assert.deepEqual(prop, [["HPEXPIREAT", "h", String(T0 + 10_000), "NX", "FIELDS", "2", "a", "b"]]);
  assert.deepEqual(events, ["hexpire:h"]);
  prop.length = events.length = 0;
  assert.deepEqual(server.dispatch(["HEXPIRE", "h", "10", "NX", "FIELDS", "1", "a"]), [0]);
  assert.deepEqual(prop, []);
  assert.deepEqual(server.dispatch(["HPEXPIRE", "h", "0", "FIELDS", "2", "c", "a"]), [2, 2]);
  assert.deepEqual(prop, [["MULTI"], ["HDEL", "h", "c"], ["HDEL", "h", "a"], ["EXEC"]]);
  assert.deepEqual(events, ["hdel:h"]);
  assert.deepEqual(server.dispatch(["HTTL", "h", "FIELDS", "1", "b"]), [10]);
  assert.deepEqual(server.dispatch(["HPTTL", "h", "FIELDS", "1", "b"]), [10_000]);
});

test("an expired field is deleted when read, with HDEL and hexpired; the last one takes the key", () => {
  const { server, clock, prop, events } = local();
  server.dispatch(["HSET", "h", "a", "1", "b", "2", "c", "3"]);
  server.dispatch(["HPEXPIRE", "h", "100", "FIELDS", "2", "a", "b"]);
  prop.length = events.length = 0;
  clock.advance(101);
  // HLEN counts fields not yet reclaimed; HGETALL skips them without deleting.
  assert.equal(server.dispatch(["HLEN", "h"]), 3);
  assert.deepEqual(server.dispatch(["HKEYS", "h"]), ["c"]);
  assert.equal(server.dispatch(["HGET", "h", "a"]), null);
  assert.deepEqual(prop, [["HDEL", "h", "a"]]);
  assert.deepEqual(events, ["hexpired:h"]);
  assert.equal(server.dispatch(["HLEN", "h"]), 2);
  server.dispatch(["HPEXPIRE", "h", "100", "FIELDS", "1", "c"]);
  clock.advance(101);
  prop.length = events.length = 0;
  assert.deepEqual(server.dispatch(["HMGET", "h", "b", "c", "x"]), [null, null, null]);
  assert.deepEqual(prop, [["MULTI"], ["HDEL", "h", "b"], ["HDEL", "h", "c"], ["EXEC"]]);
  assert.deepEqual(events, ["hexpired:h", "del:h"]);
  assert.equal(server.dispatch(["EXISTS", "h"]), 0);
});

test("the active cycle deletes due fields and then the emptied key", () => {
  const { server, clock, prop, events } = local();
  server.dispatch(["HSET", "h", "a", "1", "b", "2"]);
  server.dispatch(["HPEXPIRE", "h", "50", "FIELDS", "1", "a"]);
  server.dispatch(["HPEXPIRE", "h", "80", "FIELDS", "1", "b"]);
  prop.length = events.length = 0;
  clock.advance(60);
  server.cron();
  assert.equal(server.dispatch(["HLEN", "h"]), 1);
  assert.deepEqual(prop, [["HDEL", "h", "a"]]);
  clock.advance(30);
  server.cron();
  assert.equal(server.dispatch(["EXISTS", "h"]), 0);
  assert.deepEqual(prop, [["HDEL", "h", "a"], ["HDEL", "h", "b"]]);
  assert.deepEqual(events, ["hexpired:h", "hexpired:h", "del:h"]);
});

test("HSET clears a field's TTL; HINCRBY on an expired field starts from zero", () => {
  const { server, clock, prop } = local();
  server.dispatch(["HSET", "h", "a", "5", "b", "1"]);
  server.dispatch(["HEXPIRE", "h", "10", "FIELDS", "2", "a", "b"]);
  server.dispatch(["HSET", "h", "b", "2"]);
  assert.deepEqual(server.dispatch(["HTTL", "h", "FIELDS", "2", "a", "b"]), [10, -1]);
  // HINCRBY keeps the TTL (Redis 7.4 sets with KEEP_TTL there).
  assert.equal(server.dispatch(["HINCRBY", "h", "a", "1"]), 6);
  assert.deepEqual(server.dispatch(["HTTL", "h", "FIELDS", "1", "a"]), [10]);
  clock.advance(10_001);
  prop.length = 0;
  assert.equal(server.dispatch(["HINCRBY", "h", "a", "3"]), 3);
  assert.deepEqual(prop, [["MULTI"], ["HDEL", "h", "a"], ["HINCRBY", "h", "a", "3"], ["EXEC"]]);
});

test("HGETDEL, HGETEX and HSETEX (Redis 8.0's documentation)", () => {
  const { server, prop } = local();
  server.dispatch(["HSET", "h", "a", "1", "b", "2", "c", "3"]);
  prop.length = 0;
  assert.deepEqual(server.dispatch(["HGETDEL", "h", "FIELDS", "2", "a", "zz"]), ["1", null]);
  assert.deepEqual(prop, [["HDEL", "h", "a"]]);
  prop.length = 0;
  assert.deepEqual(server.dispatch(["HGETEX", "h", "EX", "100", "FIELDS", "2", "b", "zz"]), [
    "2",
    null,
  ]);
  assert.deepEqual(prop, [["HPEXPIREAT", "h", String(T0 + 100_000), "FIELDS", "1", "b"]]);
  assert.deepEqual(server.dispatch(["HTTL", "h", "FIELDS", "1", "b"]), [100]);
  assert.deepEqual(server.dispatch(["HGETEX", "h", "PERSIST", "FIELDS", "1", "b"]), ["2"]);
  assert.deepEqual(server.dispatch(["HTTL", "h", "FIELDS", "1", "b"]), [-1]);
  assert.equal(server.dispatch(["HSETEX", "h", "FNX", "PX", "500", "FIELDS", "1", "b", "9"]), 0);
  assert.equal(server.dispatch(["HSETEX", "h", "FXX", "PX", "500", "FIELDS", "1", "b", "9"]), 1);
  assert.deepEqual(server.dispatch(["HPTTL", "h", "FIELDS", "1", "b"]), [500]);
  assert.equal(server.dispatch(["HSETEX", "h", "KEEPTTL", "FIELDS", "1", "b", "10"]), 1);
  assert.deepEqual(server.dispatch(["HPTTL", "h", "FIELDS", "1", "b"]), [500]);
  assert.equal(server.dispatch(["HSETEX", "h", "FIELDS", "1", "b", "11"]), 1);
  assert.deepEqual(server.dispatch(["HPTTL", "h", "FIELDS", "1", "b"]), [-1]);
  assert.deepEqual(server.dispatch(["HGETDEL", "h", "FIELDS", "2", "b", "c"]), ["11", "3"]);
  assert.equal(server.dispatch(["EXISTS", "h"]), 0);
  assert.deepEqual(server.dispatch(["HGETEX", "nokey", "FIELDS", "1", "a"]), [null]);
});

test("a RESP3 client gets the same integer arrays", async () => {
  const ours = await startServer();
  const c = await RawConn.connect(ours.port);
  try {
    await hello3(c);
    const got = await pipeline(c, [["HSET", "h", "a", "1"], [
      "HTTL",
      "h",
      "FIELDS",
      "2",
      "a",
      "b",
    ]]);
    assert.deepEqual(got, [":1\r\n", "*2\r\n:-1\r\n:-2\r\n"]);
  } finally {
    c.close();
    await ours.close();
  }
});

test("a renamed or restored hash's fields still expire in the active cycle", () => {
  const { server, clock, prop } = local();
  server.dispatch(["HSET", "h", "a", "1", "b", "2"]);
  server.dispatch(["HPEXPIRE", "h", "50", "FIELDS", "1", "a"]);
  server.dispatch(["RENAME", "h", "moved"]);
  const payload = server.dispatch(["DUMP", "moved"]) as string;
  server.dispatch(["RESTORE", "copy", "0", payload]);
  prop.length = 0;
  clock.advance(51);
  server.cron();
  assert.deepEqual(prop.filter((argv) => argv[0] === "HDEL").sort(), [
    ["HDEL", "copy", "a"],
    ["HDEL", "moved", "a"],
  ]);
  assert.equal(server.dispatch(["HLEN", "moved"]), 1);
  assert.equal(server.dispatch(["HLEN", "copy"]), 1);
});

test("HRANDFIELD deletes every due field first, as Redis 7.4 does", () => {
  const { server, clock, prop, events } = local();
  server.dispatch(["HSET", "h", "a", "1", "b", "2", "c", "3"]);
  server.dispatch(["HPEXPIRE", "h", "10", "FIELDS", "2", "a", "b"]);
  clock.advance(11);
  prop.length = events.length = 0;
  assert.equal(server.dispatch(["HRANDFIELD", "h"]), "c");
  assert.deepEqual(prop, [["MULTI"], ["HDEL", "h", "a"], ["HDEL", "h", "b"], ["EXEC"]]);
  assert.deepEqual(events, ["hexpired:h"]);
  server.dispatch(["HPEXPIRE", "h", "10", "FIELDS", "1", "c"]);
  clock.advance(11);
  assert.deepEqual(server.dispatch(["HRANDFIELD", "h", "5"]), []);
  assert.equal(server.dispatch(["EXISTS", "h"]), 0);
});
