/**
 * Redis 7.4's changes to existing commands (HSCAN NOVALUES, XREAD +, CLIENT KILL MAXAGE, Lua's
 * os.clock()...): redeno's exact replies asserted directly, then the same commands sent to the
 * 7.4.1 reference build and to redeno and compared byte for byte in RESP2 and RESP3 when the
 * reference is present.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RawConn, startServer } from "./helpers.ts";
import { pipeline, replyEnd, sortedReply } from "./redis_compare.ts";
import { compareWithReference, REFERENCE_74 } from "./reference_redis.ts";

const NO_REF = REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false;

/**
 * A SCAN-family reply `[cursor, [items]]` with its items sorted: hash-table order is arbitrary
 * (so a hashtable's field/value pairs are compared as a multiset of strings).
 */
function scanSorted(raw: string): string {
  if (!raw.startsWith("*2\r\n")) return raw;
  const items = replyEnd(raw, 4);
  return raw.slice(0, items) + sortedReply(raw.slice(items));
}

/** Each case: a command and redeno's expected raw RESP2 reply; `^` sorts a scan reply's items. */
const HSCAN_CASES: Array<[string, string]> = [
  ["HSET h a 1 b 2 c 3", ":3\r\n"],
  ["HSCAN h 0 NOVALUES", "*2\r\n$1\r\n0\r\n*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"],
  ["HSCAN h 0 novalues MATCH b", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nb\r\n"],
  [
    "HSCAN h 0 NOVALUES NOVALUES COUNT 5",
    "*2\r\n$1\r\n0\r\n*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
  ],
  ["HSCAN h 0 MATCH c", "*2\r\n$1\r\n0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n"],
  ["HSCAN h 0 NOVALUES COUNT", "-ERR syntax error\r\n"],
  ["HSCAN h 0 NOVALUE", "-ERR syntax error\r\n"],
  ["HSCAN nokey 0 NOVALUES", "*2\r\n$1\r\n0\r\n*0\r\n"],
  ["HPEXPIREAT h 1 FIELDS 1 b", "*1\r\n:2\r\n"],
  ["HSCAN h 0 NOVALUES", "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\nc\r\n"],
  ["SADD s a", ":1\r\n"],
  ["SSCAN s 0 NOVALUES", "-ERR NOVALUES option can only be used in HSCAN\r\n"],
  ["SSCAN nokey 0 NOVALUES", "*2\r\n$1\r\n0\r\n*0\r\n"],
  ["ZADD z 1 a", ":1\r\n"],
  ["ZSCAN z 0 NOVALUES", "-ERR NOVALUES option can only be used in HSCAN\r\n"],
  ["SCAN 0 NOVALUES", "-ERR NOVALUES option can only be used in HSCAN\r\n"],
  ["HSCAN s 0 NOVALUES", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  ["CONFIG SET hash-max-listpack-entries 2", "+OK\r\n"],
  ["HSET big a 1 b 2 c 3", ":3\r\n"],
  ["OBJECT ENCODING big", "$9\r\nhashtable\r\n"],
  ["^HSCAN big 0 COUNT 100 NOVALUES", "*2\r\n$1\r\n0\r\n*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"],
  [
    "^HSCAN big 0 COUNT 100",
    "*2\r\n$1\r\n0\r\n*6\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
  ],
];

const MARKS = { "~": sortedReply, "^": scanSorted };

/** The cases as argument vectors, marks kept (for the comparison helpers). */
const argvs = (cases: Array<[string, string]>) => cases.map(([cmd]) => cmd.split(" "));

/** Runs `cases` on a fresh redeno and asserts each expected reply (after its mark's normaliser). */
async function assertReplies(cases: Array<[string, string]>): Promise<void> {
  const ours = await startServer();
  const c = await RawConn.connect(ours.port);
  try {
    const sent = argvs(cases).map((
      a,
    ) => (a[0]![0]! in MARKS ? [a[0]!.slice(1), ...a.slice(1)] : a));
    const got = await pipeline(c, sent);
    cases.forEach(([cmd, want], i) => {
      const norm = MARKS[cmd[0] as keyof typeof MARKS] ?? ((s: string) => s);
      assert.equal(norm(got[i]!), norm(want), cmd);
    });
  } finally {
    c.close();
    await ours.close();
  }
}

test("HSCAN ... NOVALUES answers the fields alone, as Redis 7.4.1", async () => {
  await assertReplies(HSCAN_CASES);
});

test("HSCAN ... NOVALUES side by side with the 7.4.1 reference", { skip: NO_REF }, async () => {
  for (const resp3 of [false, true]) await compareWithReference(argvs(HSCAN_CASES), resp3, MARKS);
});
