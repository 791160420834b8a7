/**
 * Redis 7.2's `ZRANK`/`ZREVRANK key member WITHSCORE`: exact replies in RESP2 and RESP3 asserted
 * directly, then (when the 7.4.1 reference build is present) the same commands and random
 * sequences sent to it and to redeno and compared byte for byte; the clients' own calls.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { RawConn, startServer } from "./helpers.ts";
import { pipeline, prng } from "./redis_compare.ts";
import { compareWithReference, REFERENCE_74 } from "./reference_redis.ts";

const NO_REF = REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false;

/** Each case: a command and its raw reply in RESP2, then in RESP3. */
const CASES: Array<[string, string, string]> = [
  ["ZADD z 1 a 2.5 b 3e20 c", ":3\r\n", ":3\r\n"],
  ["SET s x", "+OK\r\n", "+OK\r\n"],
  ["ZRANK z b WITHSCORE", "*2\r\n:1\r\n$3\r\n2.5\r\n", "*2\r\n:1\r\n,2.5\r\n"],
  ["ZRANK z c withscore", "*2\r\n:2\r\n$5\r\n3e+20\r\n", "*2\r\n:2\r\n,3e+20\r\n"],
  ["ZREVRANK z a WithScore", "*2\r\n:2\r\n$1\r\n1\r\n", "*2\r\n:2\r\n,1\r\n"],
  // A missing member or key: a null array with WITHSCORE, a null bulk without.
  ["ZRANK z x WITHSCORE", "*-1\r\n", "_\r\n"],
  ["ZREVRANK nokey x WITHSCORE", "*-1\r\n", "_\r\n"],
  ["ZRANK z x", "$-1\r\n", "_\r\n"],
  ["ZRANK z b", ":1\r\n", ":1\r\n"],
  ["ZRANK s x WITHSCORE", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  // The option is checked before the key is looked up.
  ["ZRANK s x WITHSCORES", "-ERR syntax error\r\n"],
  ["ZREVRANK nokey x foo", "-ERR syntax error\r\n"],
  ["ZRANK z b WITHSCORE x", "-ERR wrong number of arguments for 'zrank' command\r\n"],
  ["ZREVRANK z", "-ERR wrong number of arguments for 'zrevrank' command\r\n"],
  ["ZADD z 0.1 d", ":1\r\n", ":1\r\n"],
  // Redis 7.2 gives the shortest digits that read back (ZSCORE here still answers 7.0.15's %.17g).
  ["ZRANK z d WITHSCORE", "*2\r\n:0\r\n$3\r\n0.1\r\n", "*2\r\n:0\r\n,0.1\r\n"],
].map(([cmd, two, three]) => [cmd!, two!, three ?? two!]);

const split = (line: string) => line.split(" ");

test("ZRANK and ZREVRANK WITHSCORE answer Redis 7.4.1's replies in RESP2 and RESP3", async () => {
  const ours = await startServer();
  try {
    for (const resp3 of [false, true]) {
      const c = await RawConn.connect(ours.port);
      const sent = [
        ["FLUSHALL"],
        ...(resp3 ? [["HELLO", "3"]] : []),
        ...CASES.map(([cmd]) => split(cmd)),
      ];
      const got = (await pipeline(c, sent)).slice(resp3 ? 2 : 1);
      CASES.forEach(([cmd, two, three], i) => assert.equal(got[i], resp3 ? three : two, cmd));
      c.close();
    }
  } finally {
    await ours.close();
  }
});

test("the same commands side by side with the 7.4.1 reference", { skip: NO_REF }, async () => {
  for (const resp3 of [false, true]) {
    await compareWithReference(CASES.map(([cmd]) => split(cmd)), resp3);
  }
});

/** Random ranks with and without scores over a listpack and a skiplist set, ties included. */
function randomCases(seed: number, n: number): string[][] {
  const rnd = prng(seed);
  const members = Array.from({ length: 200 }, (_, i) => `m${i}`);
  const pick = () => members[Math.floor(rnd() * members.length)]!;
  const out: string[][] = [];
  for (let i = 0; i < n; i++) {
    const key = rnd() < 0.5 ? "small" : "big";
    const score = String(Math.floor(rnd() * 50) / (rnd() < 0.5 ? 1 : 7));
    if (key === "big" || rnd() < 0.2) out.push(["ZADD", key, score, pick()]);
    const cmd = rnd() < 0.5 ? "ZRANK" : "ZREVRANK";
    out.push(rnd() < 0.7 ? [cmd, key, pick(), "WITHSCORE"] : [cmd, key, pick()]);
    if (rnd() < 0.1) out.push(["ZREM", key, pick()]);
  }
  return out;
}

test("random ZRANK/ZREVRANK sequences match the 7.4.1 reference", { skip: NO_REF }, async () => {
  for (let seed = 1; seed <= 2; seed++) {
    await compareWithReference(randomCases(seed, 600), seed === 2);
  }
});

test("ioredis and node-redis ask for a rank with its score", async () => {
  const ours = await startServer();
  const io = new Redis(ours.port, "127.0.0.1");
  const nr = createClient({ url: `redis://127.0.0.1:${ours.port}` });
  try {
    await nr.connect();
    await io.zadd("z", 1, "a", 2.5, "b");
    assert.deepEqual(await io.zrank("z", "b", "WITHSCORE"), [1, "2.5"]);
    assert.deepEqual(await io.zrevrank("z", "x", "WITHSCORE"), null);
    assert.deepEqual(await nr.zRankWithScore("z", "b"), { rank: 1, score: 2.5 });
    assert.deepEqual(await nr.zRankWithScore("z", "x"), null);
  } finally {
    io.disconnect();
    await nr.quit();
    await ours.close();
  }
});
