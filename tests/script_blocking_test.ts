/**
 * Redis 7.2 runs the blocking commands that were `noscript` (BLPOP, BRPOP, BRPOPLPUSH, BLMOVE,
 * BZPOPMIN, BZPOPMAX, WAIT) inside scripts and functions as it does inside MULTI: they never
 * block, and answer what they can at once. Exact replies asserted directly, then side by side
 * with the 7.4.1 reference.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RawConn, startServer } from "./helpers.ts";
import { pipeline } from "./redis_compare.ts";
import { compareWithReference, REFERENCE_74 } from "./reference_redis.ts";
import { replication } from "../replication/mod.ts";

const NO_REF = REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false;

const evalCall = (call: string) => ["EVAL", `return redis.call(${call})`, "0"];
const bulk = (s: string) => `$${s.length}\r\n${s}\r\n`;

/** Each case: a command and its raw RESP2 reply. */
const CASES: Array<[string[], string]> = [
  [evalCall("'blpop', 'l', 0"), "$-1\r\n"],
  [["RPUSH", "l", "a", "b", "c"], ":3\r\n"],
  [evalCall("'blpop', 'l', 0"), `*2\r\n${bulk("l")}${bulk("a")}`],
  [evalCall("'brpop', 'l', 1"), `*2\r\n${bulk("l")}${bulk("c")}`],
  [evalCall("'brpoplpush', 'l', 'l2', 0"), bulk("b")],
  [evalCall("'brpoplpush', 'l', 'l2', 0"), "$-1\r\n"],
  [evalCall("'blmove', 'l2', 'l', 'LEFT', 'RIGHT', 0"), bulk("b")],
  [evalCall("'bzpopmin', 'z', 0"), "$-1\r\n"],
  [["ZADD", "z", "1", "a", "2", "b"], ":2\r\n"],
  [evalCall("'bzpopmax', 'z', 0"), `*3\r\n${bulk("z")}${bulk("b")}${bulk("2")}`],
  [evalCall("'bzpopmin', 'z', 0"), `*3\r\n${bulk("z")}${bulk("a")}${bulk("1")}`],
  // WAIT counts the replicas that have the writes now, without waiting.
  [evalCall("'wait', 1, 0"), ":0\r\n"],
  [["EVAL_RO", "return redis.call('blpop', 'l', 0)", "0"], ""],
  [["FUNCTION", "FLUSH"], "+OK\r\n"],
  [[
    "FUNCTION",
    "LOAD",
    "#!lua name=lib\nredis.register_function('f', function() return redis.call('blpop', 'l', 0) end)",
  ], bulk("lib")],
  [["FCALL", "f", "0"], `*2\r\n${bulk("l")}${bulk("b")}`],
  [["FCALL", "f", "0"], "$-1\r\n"],
  [["MULTI"], "+OK\r\n"],
  [["BLPOP", "nokey", "0"], "+QUEUED\r\n"],
  [["WAIT", "1", "0"], "+QUEUED\r\n"],
  [["EXEC"], "*2\r\n*-1\r\n:0\r\n"],
];

const WITH_WAIT = { plugins: [replication()] };

test("blocking commands answer at once inside scripts and functions, as in MULTI", async () => {
  const ours = await startServer(WITH_WAIT);
  const c = await RawConn.connect(ours.port);
  try {
    const got = await pipeline(c, CASES.map(([cmd]) => cmd));
    CASES.forEach(([cmd, want], i) => {
      if (want !== "") assert.equal(got[i], want, JSON.stringify(cmd));
    });
    // A read-only script still cannot run a write command.
    assert.match(got[12]!, /^-ERR Write commands are not allowed from read-only scripts\./);
  } finally {
    c.close();
    await ours.close();
  }
});

test("the same commands side by side with the 7.4.1 reference", { skip: NO_REF }, async () => {
  await compareWithReference(CASES.map(([cmd]) => cmd), false, { server: WITH_WAIT });
  await compareWithReference(CASES.map(([cmd]) => cmd), true, { server: WITH_WAIT });
});
