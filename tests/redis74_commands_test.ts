/**
 * Redis 7.4's changes to existing commands (HSCAN NOVALUES, XREAD +, CLIENT KILL MAXAGE, BITCOUNT
 * and BITPOS; scripting's are in redis74_scripting_test.ts): redeno's exact replies asserted
 * directly, then the same commands sent to the 7.4.1 reference build and to redeno and compared
 * byte for byte in RESP2 and RESP3 when the reference is present.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RawConn, startServer } from "./helpers.ts";
import { ManualClock } from "../core/clock.ts";
import { pipeline, replyEnd, sortedReply } from "./redis_compare.ts";
import { compareWithReference, REFERENCE_74, startReference } from "./reference_redis.ts";

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
  for (const resp3 of [false, true]) {
    await compareWithReference(argvs(HSCAN_CASES), resp3, { marks: MARKS });
  }
});

const PLUS_MEANINGLESS =
  "-ERR The + ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The + ID would just return an empty result set.\r\n";
const S_25 = "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-5\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n";
const T_50 = "*2\r\n$1\r\nt\r\n*1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\nf\r\n$1\r\nx\r\n";

const XREAD_CASES: Array<[string, string]> = [
  ["XADD s 1-1 f 1", "$3\r\n1-1\r\n"],
  ["XADD s 2-5 f 2", "$3\r\n2-5\r\n"],
  ["XREAD STREAMS s +", S_25],
  ["XREAD COUNT 5 STREAMS s +", S_25],
  ["XREAD COUNT 0 BLOCK 10 STREAMS s +", S_25],
  ["XREAD STREAMS s nokey + +", S_25],
  ["XREAD STREAMS nokey +", "*-1\r\n"],
  ["XREAD STREAMS s +-", "-ERR Invalid stream ID specified as stream command argument\r\n"],
  ["XADD t 5-0 f x", "$3\r\n5-0\r\n"],
  ["XREAD STREAMS s t + 0", `*2\r\n${S_25.slice(4)}${T_50}`],
  ["XREAD STREAMS t +", `*1\r\n${T_50}`],
  // The last entry deleted: `+` stands for the ID before the stream's last ID, past what is left.
  ["XDEL s 2-5", ":1\r\n"],
  ["XREAD STREAMS s +", "*-1\r\n"],
  ["XREAD STREAMS s t + +", `*1\r\n${T_50}`],
  ["XADD u 0-1 a b", "$3\r\n0-1\r\n"],
  [
    "XREAD STREAMS u +",
    "*1\r\n*2\r\n$1\r\nu\r\n*1\r\n*2\r\n$3\r\n0-1\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n",
  ],
  ["XGROUP CREATE e g $ MKSTREAM", "+OK\r\n"],
  ["XREAD STREAMS e +", "-ERR the stream last element ID is 0-0\r\n"],
  ["XREADGROUP GROUP g c STREAMS e +", PLUS_MEANINGLESS],
  ["SET str v", "+OK\r\n"],
  ["XREAD STREAMS str +", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
];

test("XREAD ... STREAMS key + reads the last entry, as Redis 7.4.1", async () => {
  await assertReplies(XREAD_CASES);
});

test("XREAD ... + side by side with the 7.4.1 reference", { skip: NO_REF }, async () => {
  for (const resp3 of [false, true]) await compareWithReference(argvs(XREAD_CASES), resp3);
});

/**
 * On `port`: a reader blocks on `XREAD BLOCK 0 ... STREAMS b +` (after `setup`), then a
 * MULTI adds `writes`; returns the reader's raw reply.
 */
async function blockedPlusRead(
  port: number,
  setup: string[][],
  read: string[],
  writes: string[][],
): Promise<string> {
  const reader = await RawConn.connect(port);
  const writer = await RawConn.connect(port);
  try {
    await pipeline(writer, [["FLUSHALL"], ...setup]);
    reader.command(...read);
    for (let i = 0; i < 200; i++) {
      const [info] = await pipeline(writer, [["INFO", "clients"]]);
      if (/blocked_clients:1\r\n/.test(info!)) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await pipeline(writer, [["MULTI"], ...writes, ["EXEC"]]);
    return await readOne(reader);
  } finally {
    reader.close();
    writer.close();
  }
}

/** Reads one whole reply from `c`. */
async function readOne(c: RawConn): Promise<string> {
  for (let i = 0; i < 500; i++) {
    const end = replyEnd(c.pending, 0);
    if (end > 0) return c.read(end);
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`No whole reply: ${JSON.stringify(c.pending)}`);
}

const B_21 = "*1\r\n*2\r\n$1\r\nb\r\n*1\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n";
const BLOCKED: Array<{ setup: string[][]; read: string; writes: string[][]; want: string }> = [
  // Woken by two entries at once, `+` reads only the last of them.
  {
    setup: [],
    read: "XREAD BLOCK 0 STREAMS b +",
    writes: [["XADD", "b", "1-1", "f", "1"], ["XADD", "b", "2-1", "f", "2"]],
    want: B_21,
  },
  {
    setup: [],
    read: "XREAD COUNT 10 BLOCK 0 STREAMS b +",
    writes: [["XADD", "b", "1-1", "f", "1"], ["XADD", "b", "2-1", "f", "2"]],
    want: B_21,
  },
  // The last entry deleted: the reader waits for the next one.
  {
    setup: [["XADD", "b", "1-1", "f", "1"], ["XADD", "b", "1-2", "f", "9"], ["XDEL", "b", "1-2"]],
    read: "XREAD BLOCK 0 STREAMS b +",
    writes: [["XADD", "b", "2-1", "f", "2"]],
    want: B_21,
  },
];

test("a blocked XREAD ... + wakes with the last entry only", async () => {
  const ours = await startServer();
  try {
    for (const { setup, read, writes, want } of BLOCKED) {
      assert.equal(await blockedPlusRead(ours.port, setup, read.split(" "), writes), want, read);
    }
  } finally {
    await ours.close();
  }
});

test("a blocked XREAD ... + side by side with the 7.4.1 reference", { skip: NO_REF }, async () => {
  const ref = await startReference();
  const ours = await startServer();
  try {
    for (const { setup, read, writes } of BLOCKED) {
      const argv = read.split(" ");
      assert.equal(
        await blockedPlusRead(ours.port, setup, argv, writes),
        await blockedPlusRead(ref.port, setup, argv, writes),
        read,
      );
    }
  } finally {
    ref.stop();
    await ours.close();
  }
});

const KILL_CASES: Array<[string, string]> = [
  ["CLIENT KILL MAXAGE 0", "-ERR maxage should be greater than 0\r\n"],
  ["CLIENT KILL MAXAGE -5", "-ERR maxage should be greater than 0\r\n"],
  ["CLIENT KILL MAXAGE x", "-ERR maxage is not an integer or out of range\r\n"],
  ["CLIENT KILL MAXAGE 99999999999999999999", "-ERR maxage is not an integer or out of range\r\n"],
  ["CLIENT KILL MAXAGE 1 ID", "-ERR syntax error\r\n"],
  ["CLIENT KILL ID x TYPE", "-ERR client-id should be greater than 0\r\n"],
  ["CLIENT KILL MAXAGE 9223372036854775807 SKIPME no", ":0\r\n"],
  ["CLIENT KILL MAXAGE 100000 TYPE normal", ":0\r\n"],
  ["PING", "+PONG\r\n"],
];

test("CLIENT KILL ... MAXAGE checks its value as Redis 7.4.1", async () => {
  await assertReplies(KILL_CASES);
});

test("CLIENT KILL ... MAXAGE side by side with the 7.4.1 reference", { skip: NO_REF }, async () => {
  for (const resp3 of [false, true]) await compareWithReference(argvs(KILL_CASES), resp3);
});

test("CLIENT KILL MAXAGE kills the connections at least that many seconds old", async () => {
  // Half a second into a second: Redis counts whole seconds of the clock, not elapsed time.
  const clock = new ManualClock(1_000_000_000_500);
  const ours = await startServer({ clock });
  const old = await RawConn.connect(ours.port);
  const mid = await RawConn.connect(ours.port);
  const admin = await RawConn.connect(ours.port);
  try {
    await pipeline(old, [["PING"]]);
    clock.advance(4_000);
    mid.close();
    const midConn = await RawConn.connect(ours.port);
    await pipeline(midConn, [["PING"]]);
    clock.advance(6_600); // old: 10.6 s and 11 clock seconds; midConn: 6.6 s and 7 seconds
    const got = await pipeline(admin, [
      ["CLIENT", "KILL", "MAXAGE", "12"],
      ["CLIENT", "KILL", "MAXAGE", "11", "TYPE", "pubsub"],
      ["CLIENT", "KILL", "MAXAGE", "11"],
      ["CLIENT", "KILL", "MAXAGE", "8"],
      ["CLIENT", "KILL", "MAXAGE", "7", "SKIPME", "no"],
    ]);
    assert.deepEqual(got, [":0\r\n", ":0\r\n", ":1\r\n", ":0\r\n", ":2\r\n"]);
    assert.ok(await old.waitClosed(), "the 11 s old connection is closed");
    assert.ok(await midConn.waitClosed(), "the 7 s old connection is closed");
    assert.ok(await admin.waitClosed(), "SKIPME no closes the caller too");
  } finally {
    for (const c of [old, mid, admin]) c.close();
    await ours.close();
  }
});

const SYNTAX = "-ERR syntax error\r\n";
const NOT_INT = "-ERR value is not an integer or out of range\r\n";
/** BITCOUNT and BITPOS check their arguments before reading the key (Redis 7.4). */
const BIT_CASES: Array<[string, string]> = [
  ["BITCOUNT nokey 1", SYNTAX],
  ["BITCOUNT nokey 0 x", NOT_INT],
  ["BITCOUNT nokey 0 1 bad", SYNTAX],
  ["BITCOUNT nokey 0 1 bit x", SYNTAX],
  ["BITCOUNT nokey 0 1 BIT", ":0\r\n"],
  ["BITCOUNT nokey", ":0\r\n"],
  ["BITPOS nokey 2", "-ERR The bit argument must be 1 or 0.\r\n"],
  ["BITPOS nokey 1 x", NOT_INT],
  ["BITPOS nokey 1 0 x", NOT_INT],
  ["BITPOS nokey 1 0 1 bad", SYNTAX],
  ["BITPOS nokey 0 0 1 bad", SYNTAX],
  ["BITPOS nokey 1 0 0 0 BIT x", SYNTAX],
  ["BITPOS nokey 0 0 -1 BIT", ":0\r\n"],
  ["BITPOS nokey 1 0", ":-1\r\n"],
  ["SET c foobar", "+OK\r\n"],
  ["BITCOUNT c -1 -5 nope", SYNTAX],
  ["BITCOUNT c -1 -5 BIT", ":0\r\n"],
  ["BITPOS c 1 5 2 nope", SYNTAX],
  ["LPUSH l a", ":1\r\n"],
  ["BITCOUNT l 0 x", NOT_INT],
  ["BITCOUNT l -1 -5", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  ["BITPOS l 1 0 x", NOT_INT],
  ["BITPOS l 1 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
];

test("BITCOUNT and BITPOS check their arguments before the key, as Redis 7.4.1", async () => {
  await assertReplies(BIT_CASES);
});

test("BITCOUNT and BITPOS side by side with the 7.4.1 reference", { skip: NO_REF }, async () => {
  for (const resp3 of [false, true]) await compareWithReference(argvs(BIT_CASES), resp3);
});

/** SCAN-family cursors parsed as Redis 7.4 does (string2ull). */
const CURSOR_CASES: Array<[string, string]> = [
  ["HSET h a 1", ":1\r\n"],
  ...["+0", "-0", "00", " 0", "18446744073709551615"].map((cur): [string, string] => [
    `HSCAN|h|${cur}`,
    "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n",
  ]),
  ...["0 ", "-1", "18446744073709551616", "1a", "", "+"].map((cur): [string, string] => [
    `HSCAN|h|${cur}`,
    "-ERR invalid cursor\r\n",
  ]),
  ["SCAN|-1", "-ERR invalid cursor\r\n"],
  ["SSCAN|nokey|", "-ERR invalid cursor\r\n"],
];

/** Cursor cases hold spaces and empty arguments: `|` separates their arguments. */
const cursorArgv = () => CURSOR_CASES.map(([cmd]) => cmd.split(cmd.includes("|") ? "|" : " "));

test("SCAN cursors are parsed as Redis 7.4.1 parses them", async () => {
  const ours = await startServer();
  const c = await RawConn.connect(ours.port);
  try {
    const got = await pipeline(c, cursorArgv());
    CURSOR_CASES.forEach(([cmd, want], i) => assert.equal(got[i], want, JSON.stringify(cmd)));
  } finally {
    c.close();
    await ours.close();
  }
});

test("SCAN cursors side by side with the 7.4.1 reference", { skip: NO_REF }, async () => {
  for (const resp3 of [false, true]) await compareWithReference(cursorArgv(), resp3);
});

/** XSETID below the stream's greatest deleted ID (Redis 7.4's check). */
const XSETID_CASES: Array<[string, string]> = [
  ["XADD u 1-1 f v", "$3\r\n1-1\r\n"],
  ["XSETID u 100-1 MAXDELETEDID 50-1 ENTRIESADDED 77", "+OK\r\n"],
  [
    "XSETID u 0",
    "-ERR The ID specified in XSETID is smaller than current max_deleted_entry_id\r\n",
  ],
  [
    "XSETID u 50-0",
    "-ERR The ID specified in XSETID is smaller than current max_deleted_entry_id\r\n",
  ],
  ["XSETID u 50-1", "+OK\r\n"],
  ["XDEL u 1-1", ":1\r\n"],
  [
    "XSETID u 1-0",
    "-ERR The ID specified in XSETID is smaller than current max_deleted_entry_id\r\n",
  ],
];

test("XSETID refuses an ID below the greatest deleted one, as Redis 7.4.1", async () => {
  await assertReplies(XSETID_CASES);
});

test("XSETID side by side with the 7.4.1 reference", { skip: NO_REF }, async () => {
  for (const resp3 of [false, true]) await compareWithReference(argvs(XSETID_CASES), resp3);
});
