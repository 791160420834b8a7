/**
 * Redis 7.4's changes to scripting: Lua's os.clock(), the eviction of EVAL's scripts past 500,
 * and blocking commands in scripts answering as a timeout. redeno's replies asserted directly,
 * and compared byte for byte with the 7.4.1 reference build when it is present.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { RawConn, startServer } from "./helpers.ts";
import { pipeline } from "./redis_compare.ts";
import { compareWithReference, REFERENCE_74, transcriptTests } from "./reference_redis.ts";
import { field } from "./replication_helpers.ts";

const NO_REF = REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false;
const LIB_AT_LOAD =
  "#!lua name=lib\nlocal t = os.clock()\nredis.register_function('f', function() return 1 end)";
const LIB = "#!lua name=lib\nredis.register_function('f', function() return type(os.clock()) end)";
/** Busy Lua code between two readings of os.clock(). */
const BUSY =
  "local a = os.clock() local x = 0 for i = 1, 300000 do x = x + i end local b = os.clock()";

/** Lua cases as argument vectors (scripts hold spaces) with redeno's expected RESP2 replies. */
const LUA_CASES: Array<[string[], string]> = [
  [["EVAL", "return type(os.clock())", "0"], "$6\r\nnumber\r\n"],
  [["EVAL", "return type(os)", "0"], "$5\r\ntable\r\n"],
  [
    ["EVAL", "return {type(os.time), type(os.execute), type(os.getenv)}", "0"],
    "*3\r\n$3\r\nnil\r\n$3\r\nnil\r\n$3\r\nnil\r\n",
  ],
  [["EVAL", "local n = 0 for k in pairs(os) do n = n + 1 end return n", "0"], ":1\r\n"],
  [
    ["EVAL", "return os.execute('id')", "0"],
    "-ERR user_script:1: attempt to call field 'execute' (a nil value) script: 4b407f359772ac1a6d8c08af9b6f5a54ba99016b, on @user_script:1.\r\n",
  ],
  [
    ["EVAL", "os.x = 1", "0"],
    "-ERR user_script:1: Attempt to modify a readonly table script: 2a5bceba1602cf22d3cb01bd6c3da64c83831601, on @user_script:1.\r\n",
  ],
  [
    ["EVAL", "os.clock = nil", "0"],
    "-ERR user_script:1: Attempt to modify a readonly table script: cc08838557e822563d955497345b1210a6d6af0f, on @user_script:1.\r\n",
  ],
  [["EVAL", `${BUSY} return {b >= a, a > 0}`, "0"], "*2\r\n:1\r\n:1\r\n"],
  [["EVAL_RO", "return type(os.clock(1, 2))", "0"], "$6\r\nnumber\r\n"],
  // Not while a library loads: its code sees the library API alone.
  [
    ["FUNCTION", "LOAD", LIB_AT_LOAD],
    "-ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'os'\r\n",
  ],
  [["FUNCTION", "LOAD", LIB], "$3\r\nlib\r\n"],
  [["FCALL", "f", "0"], "$6\r\nnumber\r\n"],
  [["FCALL_RO", "f", "0"], "-ERR Can not execute a script with write flag using *_ro command.\r\n"],
];

test("Lua's os.clock() in scripts and functions, as Redis 7.4.1", async () => {
  const ours = await startServer();
  const c = await RawConn.connect(ours.port);
  try {
    const got = await pipeline(c, LUA_CASES.map(([argv]) => argv));
    LUA_CASES.forEach(([argv, want], i) => assert.equal(got[i], want, argv.join(" ")));
  } finally {
    c.close();
    await ours.close();
  }
});

test("Lua's os.clock() side by side with the 7.4.1 reference", { skip: NO_REF }, async () => {
  for (const resp3 of [false, true]) {
    await compareWithReference(LUA_CASES.map(([argv]) => argv), resp3);
  }
});

const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");
const script = (i: number) => `return ${i}`;

/**
 * On `port`: one script SCRIPT LOAD made, 506 EVAL made (`return 0` loaded again after its
 * EVAL), `return 5` run again by EVALSHA before the last EVAL; then the replies of EVALSHA, of
 * SCRIPT EXISTS and INFO's evicted_scripts and number_of_cached_scripts.
 */
async function evictionRun(port: number): Promise<string[]> {
  const c = await RawConn.connect(port);
  try {
    await pipeline(c, [
      ["SCRIPT", "LOAD", "return 'kept'"],
      ["EVAL", script(0), "0"],
      ["SCRIPT", "LOAD", script(0)],
    ]);
    await pipeline(c, Array.from({ length: 504 }, (_, i) => ["EVAL", script(i + 1), "0"]));
    const got = await pipeline(c, [
      ["EVALSHA", sha1(script(5)), "0"],
      ["EVAL", script(505), "0"],
      [
        "SCRIPT",
        "EXISTS",
        ...[0, 4, 5, 6, 7, 505].map((i) => sha1(script(i))),
        sha1("return 'kept'"),
      ],
      ["INFO", "stats"],
      ["INFO", "memory"],
    ]);
    return [
      got[0]!,
      got[2]!,
      field(got[3]!, "evicted_scripts") ?? "",
      field(got[4]!, "number_of_cached_scripts") ?? "",
    ];
  } finally {
    c.close();
  }
}

const EVICTION = [
  ":5\r\n",
  "*7\r\n:0\r\n:0\r\n:1\r\n:0\r\n:1\r\n:1\r\n:1\r\n",
  "6",
  "501",
];

transcriptTests(
  "EVAL's scripts past 500 are evicted, least recently run first (Redis 7.4)",
  evictionRun,
  EVICTION,
);

const call = (cmd: string) => `return redis.call(${cmd})`;
/** Blocking commands in scripts, functions and MULTI: they answer at once, as with a timeout. */
const SCRIPT_BLOCKING: string[][] = [
  ["EVAL", call("'BLPOP', 'l', 0"), "0"],
  ["RPUSH", "l", "a", "b"],
  ["EVAL", call("'BLPOP', 'l', 0"), "0"],
  ["EVAL", call("'BRPOPLPUSH', 'l', 'm', 0"), "0"],
  ["EVAL", call("'BLMOVE', 'l', 'm', 'LEFT', 'RIGHT', 0"), "0"],
  ["EVAL", call("'BRPOP', 'l', 0"), "0"],
  ["EVAL", call("'BZPOPMIN', 'z', 0"), "0"],
  ["ZADD", "z", "1", "a"],
  ["EVAL", call("'BZPOPMAX', 'z', 0"), "0"],
  ["EVAL", call("'BLMPOP', 0, 1, 'm', 'LEFT'"), "0"],
  ["XADD", "s", "1-1", "f", "v"],
  ["EVAL", call("'XREAD', 'BLOCK', 0, 'STREAMS', 's', 0"), "0"],
  ["EVAL", call("'XREAD', 'BLOCK', 0, 'STREAMS', 's', '$'"), "0"],
  ["XGROUP", "CREATE", "s", "g", "$"],
  ["EVAL", call("'XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', 0, 'STREAMS', 's', '>'"), "1", "s"],
  ["EVAL", call("'XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', 0, 'STREAMS', 's', 0"), "1", "s"],
  ["EVAL", "return redis.pcall('BLPOP', 'l', -1)", "0"],
  [
    "FUNCTION",
    "LOAD",
    "#!lua name=b\nredis.register_function('bp', function(k) return redis.call('BLPOP', k[1], 0) end)",
  ],
  ["FCALL", "bp", "1", "nol"],
  ["MULTI"],
  ["BLPOP", "nol", "0"],
  ["XREAD", "BLOCK", "0", "STREAMS", "s", "$"],
  ["EXEC"],
];

const SCRIPT_BLOCKING_REPLIES = [
  "$-1\r\n",
  ":2\r\n",
  "*2\r\n$1\r\nl\r\n$1\r\na\r\n",
  "$1\r\nb\r\n",
  "$-1\r\n",
  "$-1\r\n",
  "$-1\r\n",
  ":1\r\n",
  "*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n",
  "*2\r\n$1\r\nm\r\n*1\r\n$1\r\nb\r\n",
  "$3\r\n1-1\r\n",
  "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n",
  "$-1\r\n",
  "+OK\r\n",
  "$-1\r\n",
  "*1\r\n*2\r\n$1\r\ns\r\n*0\r\n",
  "-ERR timeout is negative\r\n",
  "$1\r\nb\r\n",
  "$-1\r\n",
  "+OK\r\n",
  "+QUEUED\r\n",
  "+QUEUED\r\n",
  "*2\r\n*-1\r\n*-1\r\n",
];

test("blocking commands run in scripts and answer as a timeout when they would block (7.4)", async () => {
  const ours = await startServer();
  const c = await RawConn.connect(ours.port);
  try {
    assert.deepEqual(await pipeline(c, SCRIPT_BLOCKING), SCRIPT_BLOCKING_REPLIES);
    assert.equal(ours.server.blocking.count, 0);
  } finally {
    c.close();
    await ours.close();
  }
});

test("blocking commands in scripts side by side with the 7.4.1 reference", {
  skip: NO_REF,
}, async () => {
  for (const resp3 of [false, true]) await compareWithReference(SCRIPT_BLOCKING, resp3);
});

const VERSION_LIB =
  "#!lua name=v\nlocal at_load = {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM}\n" +
  "redis.register_function('ver', function() return {at_load[1], at_load[2], " +
  "redis.REDIS_VERSION, redis.REDIS_VERSION_NUM} end)";
/** What scripts and functions see of the version, as the server reports it. */
const VERSION_CASES: string[][] = [
  ["EVAL", "return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM}", "0"],
  ["FUNCTION", "LOAD", VERSION_LIB],
  ["FCALL", "ver", "0"],
];
/** The replies to VERSION_CASES from a server reporting `v` (REDIS_VERSION_NUM: 0x00MMmmpp). */
const versionReplies = (v: string, num: number) => {
  const s = `$${v.length}\r\n${v}\r\n:${num}\r\n`;
  return [`*2\r\n${s}`, "$1\r\nv\r\n", `*4\r\n${s}${s}`];
};

test("redis.REDIS_VERSION and REDIS_VERSION_NUM follow reported-redis-version", async () => {
  const ours = await startServer();
  const c = await RawConn.connect(ours.port);
  try {
    assert.deepEqual(await pipeline(c, VERSION_CASES), versionReplies("7.4.1", 0x070401));
    // Changed while the engines exist: scripts, functions and libraries loaded later see it.
    await pipeline(c, [
      ["CONFIG", "SET", "reported-redis-version", "7.2.4"],
      ["FUNCTION", "DELETE", "v"],
    ]);
    assert.deepEqual(await pipeline(c, VERSION_CASES), versionReplies("7.2.4", 0x070204));
  } finally {
    c.close();
    await ours.close();
  }
  const old = await startServer({ config: { "reported-redis-version": "7.0.15" } });
  const d = await RawConn.connect(old.port);
  try {
    await pipeline(d, [["SCRIPT", "FLUSH"], ["FUNCTION", "FLUSH"]]);
    assert.deepEqual(await pipeline(d, VERSION_CASES), versionReplies("7.0.15", 0x07000f));
  } finally {
    d.close();
    await old.close();
  }
});

test("redis.REDIS_VERSION side by side with the 7.4.1 reference", { skip: NO_REF }, async () => {
  for (const resp3 of [false, true]) await compareWithReference(VERSION_CASES, resp3);
});
