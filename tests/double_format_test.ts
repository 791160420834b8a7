/**
 * Doubles in replies as the reported version writes them: Redis 7.2+ the shortest text that
 * reads back (`0.1`, `1e+20`), 7.0 `%.17g` (`0.10000000000000001`, `1e+20`) — ZSCORE, ZINCRBY,
 * WITHSCORES, ZMSCORE, RESP3 doubles and a script's `{double=...}`. Asserted directly for both,
 * and byte for byte beside the 7.4.1 reference build and Debian's redis-server 7.0.15 (redeno
 * reporting 7.0.15) when they are present.
 */
import { test } from "node:test";
import { startServer } from "./helpers.ts";
import { as7015, compareWithRedis } from "./redis_compare.ts";
import { assertReplies, compareWithReference, REFERENCE_74 } from "./reference_redis.ts";
import { missing } from "./redis_tools.ts";

const NO_REF = REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false;
const bulk = (s: string) => `$${s.length}\r\n${s}\r\n`;

/** Cases with their RESP2 replies in 7.2's format, then 7.0's. */
const CASES: Array<[string[], string, string]> = [
  [["ZADD", "z", "0.1", "a", "1e20", "b", "1.5", "c", "3", "d", "1e-7", "e"], ":5\r\n", ":5\r\n"],
  [["ZSCORE", "z", "a"], bulk("0.1"), bulk("0.10000000000000001")],
  [["ZINCRBY", "z", "0.2", "a"], bulk("0.30000000000000004"), bulk("0.30000000000000004")],
  [
    ["ZMSCORE", "z", "a", "b", "e"],
    `*3\r\n${bulk("0.30000000000000004")}${bulk("1e+20")}${bulk("1e-7")}`,
    `*3\r\n${bulk("0.30000000000000004")}${bulk("1e+20")}${bulk("9.9999999999999995e-08")}`,
  ],
  [
    ["ZRANGE", "z", "0", "1", "WITHSCORES"],
    `*4\r\n${bulk("e")}${bulk("1e-7")}${bulk("a")}${bulk("0.30000000000000004")}`,
    `*4\r\n${bulk("e")}${bulk("9.9999999999999995e-08")}${bulk("a")}${bulk("0.30000000000000004")}`,
  ],
  [["ZSCORE", "z", "c"], bulk("1.5"), bulk("1.5")],
  [["EVAL", "return {double=0.1}", "0"], bulk("0.1"), bulk("0.10000000000000001")],
  [
    ["EVAL", "redis.setresp(3) return redis.call('zscore', 'z', 'a')", "0"],
    bulk("0.30000000000000004"),
    bulk("0.30000000000000004"),
  ],
];
const argvs = CASES.map(([argv]) => argv);

test("doubles are written shortest, as Redis 7.2+, by default", async () => {
  const ours = await startServer();
  try {
    await assertReplies(ours.port, CASES.map(([argv, v72]) => [argv, v72] as const));
  } finally {
    await ours.close();
  }
});

test("doubles are written %.17g, as Redis 7.0, when reporting 7.0.15", async () => {
  const ours = await startServer(as7015());
  try {
    await assertReplies(ours.port, CASES.map(([argv, , v70]) => [argv, v70] as const));
  } finally {
    await ours.close();
  }
});

test("doubles beside the 7.4.1 reference, RESP2 and RESP3", { skip: NO_REF }, async () => {
  await compareWithReference(argvs, false);
  await compareWithReference(argvs, true);
});

test("doubles beside Debian's redis-server 7.0.15, RESP2 and RESP3", {
  skip: missing("redis-server"),
}, async () => {
  await compareWithRedis(argvs, false);
  await compareWithRedis(argvs, true);
});

/** DEBUG DIGEST-VALUE hashes a sorted set's scores as the version writes them (fpconv in 7.2+). */
const DIGESTS = [
  ["ZADD", "z", "0.1", "a", "1e10", "b", "3", "c", "1e-7", "d", "12345678901234567890", "e"],
  ["DEBUG", "DIGEST-VALUE", "z"],
  ["DEBUG", "DIGEST"],
];

test("DEBUG DIGEST of scores beside the 7.4.1 reference", { skip: NO_REF }, async () => {
  await compareWithReference(DIGESTS, false, {
    server: { config: { "enable-debug-command": "yes" } },
    refArgs: ["--enable-debug-command", "yes"],
  });
});
