/**
 * Blocking commands called from scripts and functions (Redis 7.2 dropped their `noscript` flag):
 * BLPOP, BRPOP, BRPOPLPUSH, BLMOVE, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP, WAIT and XREAD/XREADGROUP
 * ... BLOCK run once without blocking, as in MULTI: what is there is served, else the timeout's
 * reply. Byte for byte beside the 7.4.1 reference build when it is present, RESP2 and RESP3.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RawConn, startServer } from "./helpers.ts";
import { pipeline } from "./redis_compare.ts";
import { REFERENCE_74, startReference } from "./reference_redis.ts";
import { replication } from "../replication/mod.ts";

const NO_REF = REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false;

const evalCase = (body: string, ...keys: string[]) => [
  "EVAL",
  body,
  String(keys.length),
  ...keys,
];
const NIL = "$-1\r\n";
const STREAM_ENTRY = "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n";
const FUNCTION = "#!lua name=blk\n" +
  "redis.register_function('bl', function(keys) return redis.call('blpop', keys[1], 0) end)";

/** Each command and Redis 7.4.1's reply in RESP2. */
const CASES: Array<[string[], string]> = [
  // Nothing to pop: the timeout's reply (a null, nil to the script).
  [evalCase("return redis.call('blpop', KEYS[1], 0)", "l"), NIL],
  [evalCase("return redis.pcall('brpop', KEYS[1], 0)", "l"), NIL],
  [evalCase("return redis.call('brpoplpush', KEYS[1], KEYS[2], 0)", "l", "m"), NIL],
  [evalCase("return redis.call('blmove', KEYS[1], KEYS[2], 'LEFT', 'LEFT', 0)", "l", "m"), NIL],
  [evalCase("return redis.call('bzpopmin', KEYS[1], 0)", "z"), NIL],
  [evalCase("return redis.call('bzpopmax', KEYS[1], 0)", "z"), NIL],
  [evalCase("return redis.call('blmpop', 0, 1, KEYS[1], 'LEFT')", "l"), NIL],
  [evalCase("return redis.call('bzmpop', 0, 1, KEYS[1], 'MIN')", "z"), NIL],
  [evalCase("return redis.call('wait', 1, 0)"), ":0\r\n"],
  [evalCase("return redis.call('xread', 'BLOCK', 0, 'STREAMS', KEYS[1], '$')", "s"), NIL],
  [["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"], "+OK\r\n"],
  [
    evalCase(
      "return redis.call('xreadgroup', 'GROUP', 'g', 'c', 'BLOCK', 0, 'STREAMS', KEYS[1], '>')",
      "s",
    ),
    NIL,
  ],
  // With data: served at once.
  [["RPUSH", "l", "a", "b", "c"], ":3\r\n"],
  [["ZADD", "z", "1", "x", "2", "y", "3", "w"], ":3\r\n"],
  [["XADD", "s", "1-1", "f", "v"], "$3\r\n1-1\r\n"],
  [evalCase("return redis.call('blpop', KEYS[1], 0)", "l"), "*2\r\n$1\r\nl\r\n$1\r\na\r\n"],
  [evalCase("return redis.call('brpoplpush', KEYS[1], KEYS[2], 0)", "l", "m"), "$1\r\nc\r\n"],
  [
    evalCase("return redis.call('bzpopmax', KEYS[1], 0)", "z"),
    "*3\r\n$1\r\nz\r\n$1\r\nw\r\n$1\r\n3\r\n",
  ],
  [
    evalCase("return redis.call('xread', 'BLOCK', 0, 'STREAMS', KEYS[1], '0-0')", "s"),
    STREAM_ENTRY,
  ],
  [
    evalCase(
      "return redis.call('xreadgroup', 'GROUP', 'g', 'c', 'BLOCK', 0, 'STREAMS', KEYS[1], '>')",
      "s",
    ),
    STREAM_ENTRY,
  ],
  // A function the same.
  [["FUNCTION", "LOAD", FUNCTION], "$3\r\nblk\r\n"],
  [["FCALL", "bl", "1", "l"], "*2\r\n$1\r\nl\r\n$1\r\nb\r\n"],
  [["FCALL", "bl", "1", "nothing"], NIL],
  // No client was left blocked.
  [
    ["EVAL", "return string.match(redis.call('info', 'clients'), 'blocked_clients:%d+')", "0"],
    "$17\r\nblocked_clients:0\r\n",
  ],
];

/** The replies to CASES on a fresh connection, in RESP2 or RESP3. */
async function replies(port: number, resp3: boolean): Promise<string[]> {
  const c = await RawConn.connect(port);
  try {
    await pipeline(c, resp3 ? [["HELLO", "3"]] : []);
    return await pipeline(c, CASES.map(([argv]) => argv));
  } finally {
    c.close();
  }
}

/** Redis's RESP3 form of a RESP2 reply of CASES: nulls are `_`. */
const resp3Of = (reply: string) => (reply === NIL ? "_\r\n" : reply);

test("blocking commands run once, without blocking, in scripts and functions", async () => {
  const ours = await startServer({ plugins: [replication()] });
  try {
    for (const resp3 of [false, true]) {
      const got = await replies(ours.port, resp3);
      ours.server.dispatch(["FLUSHALL"]);
      ours.server.dispatch(["FUNCTION", "FLUSH"]);
      CASES.forEach(([argv, want], i) =>
        assert.equal(
          got[i],
          resp3 ? resp3Of(want) : want,
          `${argv.join(" ")} (RESP${resp3 ? 3 : 2})`,
        )
      );
    }
  } finally {
    await ours.close();
  }
});

test(
  "blocking commands in scripts reply as the 7.4.1 reference build's",
  { skip: NO_REF },
  async () => {
    const ref = await startReference();
    try {
      for (const resp3 of [false, true]) {
        const c = await RawConn.connect(ref.port);
        await pipeline(c, [["FLUSHALL"], ["FUNCTION", "FLUSH"]]);
        c.close();
        const theirs = await replies(ref.port, resp3);
        CASES.forEach(([argv, want], i) =>
          assert.equal(
            theirs[i],
            resp3 ? resp3Of(want) : want,
            `${argv.join(" ")} (RESP${resp3 ? 3 : 2})`,
          )
        );
      }
    } finally {
      ref.stop();
    }
  },
);
