/**
 * DUMP and RESTORE against a real redis-server 7.0: payloads byte for byte, payloads crossing
 * both ways with the same values, encodings and TTLs, the old RDB encodings, Redis's exact error
 * replies, propagation, and hostile or corrupt payloads (which must be refused, never crash).
 * The comparison tests need `redis-server` (see redis_tools.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, ErrorReply, ManualClock, SimpleString } from "../mod.ts";
import type { Server } from "../mod.ts";
import { crc64 } from "../core/crc64.ts";
import { sealPayload } from "../core/rdb/payload.ts";
import { RdbWriter } from "../core/rdb/strings.ts";
import { lzfCompress, lzfDecompress } from "../core/rdb/lzf.ts";
import {
  RawConn,
  type RawConn as Conn,
  recordEffects,
  recordEvents,
  startServer,
} from "./helpers.ts";
import {
  as7015,
  compareWithRedis,
  pipeline,
  prng,
  sortedReply,
  startRedis,
} from "./redis_compare.ts";
import { missing } from "./redis_tools.ts";

const skip = missing("redis-server");

/** The value of a bulk reply (`$n\r\n...`), or null for a nil. */
function bulk(raw: string): string | null {
  if (raw.startsWith("$-1") || raw.startsWith("_")) return null;
  const eol = raw.indexOf("\r\n");
  assert.equal(raw[0], "$", `expected a bulk string, got ${JSON.stringify(raw)}`);
  return raw.slice(eol + 2, eol + 2 + Number(raw.slice(1, eol)));
}

/** TYPE, OBJECT ENCODING and the contents of `key` (hash-table orders sorted). */
async function snapshot(c: Conn, key: string): Promise<string> {
  const [type, enc] = await pipeline(c, [["TYPE", key], ["OBJECT", "ENCODING", key]]);
  const read: Record<string, string[]> = {
    "+string\r\n": ["GET", key],
    "+list\r\n": ["LRANGE", key, "0", "-1"],
    "+hash\r\n": ["HGETALL", key],
    "+set\r\n": ["SMEMBERS", key],
    "+zset\r\n": ["ZRANGE", key, "0", "-1", "WITHSCORES"],
  };
  const cmd = read[type!];
  if (cmd === undefined) return `${type}${enc}`;
  const [content] = await pipeline(c, [cmd]);
  return `${type}${enc}${enc!.includes("hashtable") ? sortedReply(content!) : content}`;
}

/** Both servers, in RESP3 (maps and sets compare sorted). */
async function pair(): Promise<{ redis: Conn; ours: Conn; stop(): Promise<void> }> {
  const r = await startRedis();
  // Reporting (and so answering as) the 7.0.15 it is compared with: doubles in 7.0's format.
  const o = await startServer(as7015());
  const redis = await RawConn.connect(r.port);
  const ours = await RawConn.connect(o.port);
  await pipeline(redis, [["HELLO", "3"]]);
  await pipeline(ours, [["HELLO", "3"]]);
  return {
    redis,
    ours,
    async stop() {
      redis.close();
      ours.close();
      r.stop();
      await o.close();
    },
  };
}

const rnd = prng(42);
const words = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

/** Keys in every encoding Redis 7.0 gives, with edge values for each codec. */
const SETUP: string[][] = [
  ["SET", "s:small", "hello"],
  ["SET", "s:int8", "-100"],
  ["SET", "s:int16", "30000"],
  ["SET", "s:int32", "-2000000000"],
  ["SET", "s:int64", "1234567890123"],
  ["SET", "s:lead0", "007"],
  ["SET", "s:empty", ""],
  ["SET", "s:lzf", "abcdefghij".repeat(500)],
  ["SET", "s:lzf2", words(3000, () => "abc"[Math.floor(rnd() * 3)]!).join("")],
  ["SET", "s:rand", words(200, () => String.fromCharCode(Math.floor(rnd() * 256))).join("")],
  ["SET", "s:21", "a".repeat(21)],
  [
    "RPUSH",
    "l:small",
    "a",
    "1",
    "-1",
    "127",
    "128",
    "-4096",
    "4095",
    "-32768",
    "40000",
    "-8388608",
  ],
  ["RPUSH", "l:ints", "2147483647", "-2147483649", "9223372036854775807", "-9223372036854775808"],
  ["RPUSH", "l:strs", "x".repeat(63), "y".repeat(64), "z".repeat(4095), "w".repeat(4096), ""],
  ["RPUSH", "l:big", ...words(3000, (i) => `element-${i}-${"x".repeat(i % 50)}`)],
  ["RPUSH", "l:nums", ...words(2000, () => String(Math.floor((rnd() - 0.5) * 2 ** 52)))],
  ["RPUSH", "l:huge", "q".repeat(9000), "small", "r".repeat(20000)],
  ["HSET", "h:lp", "f1", "v1", "f2", "2", "num", "-77", "long", "z".repeat(60)],
  ["HSET", "h:lp2", "b", "1", "a", "2"],
  ["HDEL", "h:lp2", "b"],
  ["HSET", "h:lp2", "c", "3", "b", "4"],
  ["SADD", "st:i16", "1", "2", "3", "-7"],
  ["SADD", "st:i32", "1", "100000", "-100000"],
  ["SADD", "st:i64", "1", "99999999999", "-9223372036854775808"],
  ["SADD", "st:big", ...words(400, (i) => String(i * 7))],
  ["ZADD", "z:lp", "1", "a", "2.5", "b", "-3", "c", "0.1", "d", "inf", "e", "-inf", "f", "-0", "g"],
  ["ZADD", "z:lp2", "4611686018427387904", "a", "4611686018427387905", "b", "1e300", "c"],
  ["ZADD", "z:lp3", "123456789012345678", "e", "0.30000000000000004", "f", "1e-310", "g"],
  ["ZADD", "z:sl", ...words(300, (i) => [String(rnd() * 1000), `m${i}`]).flat()],
  ["ZADD", "z:long", "1", "m".repeat(100), "2", "b", "-0", "c"],
];
const KEYS = [...new Set(SETUP.map((c) => c[1]!))];

test(
  "DUMP payloads are byte-identical to Redis's for every compact encoding",
  { skip },
  async () => {
    const { redis, ours, stop } = await pair();
    try {
      const configs = [
        [],
        [["CONFIG", "SET", "rdbcompression", "no"]],
        [["CONFIG", "SET", "list-compress-depth", "1"]],
        [["CONFIG", "SET", "list-max-listpack-size", "5"]],
        [["CONFIG", "SET", "list-max-listpack-size", "-5"]],
      ];
      for (const config of configs) {
        const cases = [["FLUSHALL"], ["CONFIG", "SET", "list-max-listpack-size", "-2"], ...config];
        await pipeline(redis, [...cases, ...SETUP]);
        await pipeline(ours, [...cases, ...SETUP]);
        for (const key of KEYS) {
          const [enc] = await pipeline(redis, [["OBJECT", "ENCODING", key]]);
          if (enc!.includes("hashtable")) continue; // hash-table order is Redis's own
          const [want] = await pipeline(redis, [["DUMP", key]]);
          const [got] = await pipeline(ours, [["DUMP", key]]);
          assert.equal(JSON.stringify(got), JSON.stringify(want), `DUMP ${key} with ${config}`);
        }
      }
      assert.deepEqual(await pipeline(ours, [["DUMP", "nokey"]]), ["_\r\n"]);
    } finally {
      await stop();
    }
  },
);

test(
  "Redis payloads RESTORE in redeno with the same values, encodings and TTL",
  { skip },
  async () => {
    const { redis, ours, stop } = await pair();
    try {
      await pipeline(redis, [...SETUP, ["SADD", "st:ht", "a", "b", "1"], [
        "HSET",
        "h:ht",
        "f",
        "v".repeat(100),
      ]]);
      for (const key of [...KEYS, "st:ht", "h:ht"]) {
        const payload = bulk((await pipeline(redis, [["DUMP", key]]))[0]!)!;
        const [ok, pttl] = await pipeline(ours, [["RESTORE", key, "100000", payload], [
          "PTTL",
          key,
        ]]);
        assert.equal(ok, "+OK\r\n", key);
        const ms = Number(pttl!.slice(1, -2));
        assert.ok(ms > 90000 && ms <= 100000, `${key} PTTL ${ms}`);
        assert.equal(await snapshot(ours, key), await snapshot(redis, key), key);
      }
    } finally {
      await stop();
    }
  },
);

test("redeno payloads RESTORE in Redis with identical values", { skip }, async () => {
  const { redis, ours, stop } = await pair();
  try {
    // LPUSH and LINSERT shape Redis's nodes differently from ours: the values still match.
    const extra = [
      ["LPUSH", "l:lpush", ...words(2500, (i) => `v${i}`)],
      ["LINSERT", "l:lpush", "BEFORE", "v100", "inserted"],
      ["SADD", "st:ht", ...words(600, (i) => `m${i}`)],
      ["HSET", "h:ht", ...words(300, (i) => [`f${i}`, `v${i}`]).flat()],
      ["ZADD", "z:rev", ...words(200, (i) => [String(-i), `m${i}`]).flat()],
    ];
    await pipeline(ours, [...SETUP, ...extra]);
    for (const key of [...KEYS, "l:lpush", "st:ht", "h:ht", "z:rev"]) {
      const payload = bulk((await pipeline(ours, [["DUMP", key]]))[0]!)!;
      const [ok] = await pipeline(redis, [["RESTORE", key, "0", payload]]);
      assert.equal(ok, "+OK\r\n", key);
      assert.equal(await snapshot(redis, key), await snapshot(ours, key), key);
    }
  } finally {
    await stop();
  }
});

test("RESTORE shapes the encoding by the current thresholds as Redis does", { skip }, async () => {
  const { redis, ours, stop } = await pair();
  try {
    await pipeline(redis, SETUP);
    const payloads: string[] = [];
    for (const key of KEYS) payloads.push(bulk((await pipeline(redis, [["DUMP", key]]))[0]!)!);
    const tight = [
      ["CONFIG", "SET", "hash-max-listpack-entries", "2"],
      ["CONFIG", "SET", "hash-max-listpack-value", "3"],
      ["CONFIG", "SET", "set-max-intset-entries", "3"],
      ["CONFIG", "SET", "zset-max-listpack-entries", "4"],
      ["CONFIG", "SET", "zset-max-listpack-value", "2"],
    ];
    await pipeline(redis, tight);
    await pipeline(ours, tight);
    for (let i = 0; i < KEYS.length; i++) {
      const key = `re:${KEYS[i]}`;
      const cmd: string[] = ["RESTORE", key, "0", payloads[i]!];
      assert.deepEqual(await pipeline(ours, [cmd]), await pipeline(redis, [cmd]));
      assert.equal(await snapshot(ours, key), await snapshot(redis, key), key);
    }
  } finally {
    await stop();
  }
});

/** A payload of RDB type `type` whose body `write` produces. */
function payload(type: number, write: (w: RdbWriter) => void): string {
  const w = new RdbWriter();
  w.byte(type);
  write(w);
  return String.fromCharCode(...sealPayload(w));
}

/** A ziplist (pre-7.0 compact encoding) of strings and integers, encoded as Redis 6 did. */
function ziplist(entries: (string | bigint)[]): Uint8Array {
  const body: number[] = [];
  const le = (v: bigint, n: number) => {
    for (let i = 0; i < n; i++) body.push(Number((BigInt.asUintN(64, v) >> BigInt(8 * i)) & 0xffn));
  };
  let prev = 0;
  let tail = 10;
  for (const e of entries) {
    const start = body.length;
    tail = 10 + start;
    if (prev < 254) body.push(prev);
    else body.push(254, prev & 0xff, (prev >> 8) & 0xff, (prev >> 16) & 0xff, prev >>> 24);
    if (typeof e === "string") {
      if (e.length < 64) body.push(e.length);
      else body.push(0x40 | (e.length >> 8), e.length & 0xff);
      for (const ch of e) body.push(ch.charCodeAt(0));
    } else if (e >= 0n && e <= 12n) body.push(0xf1 + Number(e));
    else if (e >= -128n && e <= 127n) (body.push(0xfe), le(e, 1));
    else if (e >= -32768n && e <= 32767n) (body.push(0xc0), le(e, 2));
    else if (e >= -8388608n && e <= 8388607n) (body.push(0xf0), le(e, 3));
    else if (e >= -2147483648n && e <= 2147483647n) (body.push(0xd0), le(e, 4));
    else (body.push(0xe0), le(e, 8));
    prev = body.length - start;
  }
  const total = 11 + body.length;
  const head = [total, 0, 0, 0, tail & 0xff, tail >> 8, 0, 0, entries.length, 0];
  head[1] = total >> 8;
  return new Uint8Array([...head, ...body, 0xff]);
}

/** Payloads of the encodings Redis 7.0 still loads but no longer writes. */
const OLD: Record<string, string> = {
  list: payload(1, (w) => (w.length(3), w.string("a"), w.encodedString("12", true), w.string(""))),
  listZiplist: payload(
    10,
    (w) =>
      w.encodedBlob(ziplist(["a", 5n, -200n, 70000n, -8000000n, 2n ** 40n, "x".repeat(300)]), true),
  ),
  quicklist1: payload(14, (w) => {
    w.length(3);
    w.encodedBlob(ziplist(["a", "b", 1n]), false);
    w.encodedBlob(ziplist([]), false);
    w.encodedBlob(ziplist(["c", -9223372036854775808n]), true);
  }),
  plainNode: payload(18, (w) => {
    w.length(2);
    w.length(1);
    w.string("plain element");
    w.length(1);
    w.encodedString("y".repeat(100), true);
  }),
  hashZiplist: payload(13, (w) => w.encodedBlob(ziplist(["f1", "v1", "f2", 7n]), false)),
  zsetZiplist: payload(
    12,
    (w) => w.encodedBlob(ziplist(["m0", "-inf", "m1", "1.5", "m2", 3n]), false),
  ),
  hashZipmap: payload(
    9,
    (w) =>
      w.encodedBlob(
        new Uint8Array([2, 1, 97, 2, 3, 120, 121, 0, 0, 0, 1, 98, 1, 0, 122, 255]),
        false,
      ),
  ),
  zsetText: payload(3, (w) => {
    w.length(3);
    w.string("a");
    w.bytes(new Uint8Array([3, 49, 46, 53])); // "1.5"
    w.string("b");
    w.byte(254); // +inf
    w.string("c");
    w.byte(255); // -inf
  }),
  setInts: payload(2, (w) => (w.length(3), w.string("3"), w.string("-1"), w.string("2"))),
  setMixed: payload(2, (w) => (w.length(2), w.string("3"), w.string("x"))),
  hashLong: payload(
    4,
    (w) => (w.length(2), w.string("f"), w.string("v".repeat(80)), w.string("g"), w.string("1")),
  ),
  intset64: payload(
    11,
    (w) =>
      w.encodedBlob(
        new Uint8Array([8, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0]),
        false,
      ),
  ),
};

test(
  "old encodings (ziplist, zipmap, quicklist v1, text scores) load as in Redis",
  { skip },
  async () => {
    const { redis, ours, stop } = await pair();
    try {
      for (const [name, p] of Object.entries(OLD)) {
        const cmd = ["RESTORE", name, "0", p];
        assert.deepEqual(await pipeline(ours, [cmd]), ["+OK\r\n"], name);
        assert.deepEqual(await pipeline(redis, [cmd]), ["+OK\r\n"], name);
        assert.equal(await snapshot(ours, name), await snapshot(redis, name), name);
      }
    } finally {
      await stop();
    }
  },
);

const V = payload(0, (w) => w.string("v"));
/**
 * A valid payload with the version bytes set to 13: newer than Redis 7.0 reads, and than redeno
 * reads (Redis 7.4's 12, for its hashes with field TTLs).
 */
const V13 = (() => {
  const b = Uint8Array.from(V.slice(0, -10), (c) => c.charCodeAt(0));
  const w = new RdbWriter();
  w.bytes(b);
  w.byte(13);
  w.byte(0);
  const crc = crc64(0n, w.view());
  for (let i = 0; i < 8; i++) w.byte(Number((crc >> BigInt(8 * i)) & 0xffn));
  return String.fromCharCode(...w.result());
})();

test("RESTORE errors and replies match Redis exactly", { skip }, async () => {
  const bad = V.slice(0, -1) + String.fromCharCode(V.charCodeAt(V.length - 1) ^ 1);
  const cases = [
    ["RESTORE", "k", "0", V],
    ["RESTORE", "k", "0", V],
    ["RESTORE", "k", "0", V, "REPLACE"],
    ["GET", "k"],
    ["RESTORE", "k2", "-1", V],
    ["RESTORE", "k2", "abc", V],
    ["RESTORE", "k2", "0", bad],
    ["RESTORE", "k2", "0", "short"],
    ["RESTORE", "k2", "0", V13],
    ["RESTORE", "k2", "0", payload(0, (w) => w.byte(0x80))],
    ["RESTORE", "k2", "0", payload(8, () => {})],
    ["RESTORE", "k2", "0", payload(15, (w) => w.length(0))],
    ["RESTORE", "k2", "0", payload(2, (w) => w.length(0))],
    ["RESTORE", "k2", "0", V, "IDLETIME", "-1"],
    ["RESTORE", "k2", "0", V, "IDLETIME", "x"],
    ["RESTORE", "k2", "0", V, "FREQ", "256"],
    ["RESTORE", "k2", "0", V, "IDLETIME", "10", "FREQ", "5"],
    ["RESTORE", "k2", "0", V, "FREQ", "5", "IDLETIME", "10"],
    ["RESTORE", "k2", "0", V, "IDLETIME"],
    ["RESTORE", "k2", "0", V, "BOGUS"],
    ["RESTORE", "k2", "0", V, "replace", "absttl", "idletime", "100"],
    ["OBJECT", "IDLETIME", "k2"],
    ["RESTORE", "k3", "1", V, "ABSTTL"],
    ["EXISTS", "k3"],
    ["RESTORE", "k", "1", V, "ABSTTL", "REPLACE"],
    ["EXISTS", "k"],
    ["SET", "k", "x"],
    ["RESTORE", "k", "0", V, "ABSTTL"],
    ["DUMP", "k2"],
    ["RESTORE", "k4", "0", V],
    ["DUMP"],
    ["RESTORE", "k", "0"],
  ];
  await compareWithRedis(cases, false);
  await compareWithRedis(cases, true);
});

const T0 = 1_700_000_000_000;

function local(): { server: Server; clock: ManualClock; prop: string[][]; events: string[] } {
  const clock = new ManualClock(T0);
  const server = createServer({ clock });
  return { server, clock, prop: recordEffects(server), events: recordEvents(server) };
}

test("RESTORE propagates relative TTLs as ABSTTL and expired REPLACEs as DEL", () => {
  const { server, prop, events } = local();
  assert.deepEqual(server.dispatch(["RESTORE", "a", "5000", V]), new SimpleString("OK"));
  assert.equal(server.dispatch(["PTTL", "a"]), 5000);
  server.dispatch(["RESTORE", "b", String(T0 + 9000), V, "ABSTTL"]);
  server.dispatch(["RESTORE", "c", "0", V]);
  assert.deepEqual(prop, [
    ["RESTORE", "a", String(T0 + 5000), V, "ABSTTL"],
    ["RESTORE", "b", String(T0 + 9000), V, "ABSTTL"],
    ["RESTORE", "c", "0", V],
  ]);
  assert.deepEqual(events, ["restore:a", "restore:b", "restore:c"]);
  prop.length = events.length = 0;
  // A time already past: nothing is created; a replaced key is deleted and that propagates.
  server.dispatch(["RESTORE", "d", String(T0 - 1), V, "ABSTTL"]);
  server.dispatch(["RESTORE", "c", String(T0), V, "ABSTTL", "REPLACE"]);
  assert.equal(server.dispatch(["EXISTS", "c", "d"]), 0);
  assert.deepEqual(prop, [["DEL", "c"]]);
  assert.deepEqual(events, ["del:c"]);
});

test("RESTORE sets the idle time or the LFU counter it is given", () => {
  const { server, clock } = local();
  server.dispatch(["RESTORE", "k", "0", V, "IDLETIME", "1000"]);
  clock.advance(5000);
  assert.equal(server.dispatch(["OBJECT", "IDLETIME", "k"]), 1005);
  server.dispatch(["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]);
  server.dispatch(["RESTORE", "f", "0", V, "FREQ", "77"]);
  assert.equal(server.dispatch(["OBJECT", "FREQ", "f"]), 77);
});

test("LZF round-trips and refuses malformed input", () => {
  const next = prng(7);
  for (let n = 1; n < 3000; n += 37) {
    const input = Uint8Array.from({ length: n }, () => Math.floor(next() * (n % 3 ? 4 : 256)));
    const out = new Uint8Array(n + (n >> 4) + 64);
    const len = lzfCompress(input, 0, n, out, out.length);
    assert.ok(len > 0);
    assert.deepEqual(lzfDecompress(out.subarray(0, len), n), input);
  }
  assert.throws(() => lzfDecompress(new Uint8Array([5, 1, 2]), 6), RangeError);
  assert.throws(() => lzfDecompress(new Uint8Array([0xe0]), 10), RangeError);
  assert.throws(() => lzfDecompress(new Uint8Array([0, 1, 0x20, 9]), 4), RangeError);
  assert.throws(() => lzfDecompress(new Uint8Array([0, 1]), 2 ** 32), RangeError);
});

const BAD = "ERR Bad data format";

test("hostile lengths are refused at once without allocating", () => {
  const { server } = local();
  const hostile = [
    payload(0, (w) => w.length(2 ** 32 - 1)), // a 4 GiB string
    payload(
      0,
      (w) => (w.byte(0xc3), w.length(3), w.length(2 ** 32 - 1), w.bytes(new Uint8Array([0, 1, 2]))),
    ),
    payload(1, (w) => (w.length(2 ** 60), w.string("a"))), // 2^60 elements
    payload(4, (w) => (w.length(2 ** 40), w.string("f"))),
    payload(5, (w) => (w.length(2 ** 50), w.string("m"))),
    payload(18, (w) => (w.length(2 ** 33), w.length(2), w.length(2 ** 31))),
    payload(16, (w) => w.encodedBlob(new Uint8Array([255, 255, 255, 127, 1, 0, 255]), false)),
    payload(11, (w) => w.encodedBlob(new Uint8Array([8, 0, 0, 0, 255, 255, 255, 255, 1]), false)),
  ];
  const start = performance.now();
  for (const p of hostile) assert.equal(errorText(server.dispatch(["RESTORE", "k", "0", p])), BAD);
  // Not a speed check: a payload that made the loader allocate or loop over its claimed size
  // would take minutes or exhaust memory. The bound is loose so a loaded machine never trips it.
  assert.ok(performance.now() - start < 5000);
});

function errorText(r: unknown): string {
  return r instanceof ErrorReply ? r.message : `not an error: ${String(r)}`;
}

/** Re-seals `body` (type byte and value) with a valid trailer, so the body parser is reached. */
function reseal(body: Uint8Array): string {
  const w = new RdbWriter();
  w.bytes(body);
  return String.fromCharCode(...sealPayload(w));
}

test("corrupted payloads are refused or load into a consistent value, never crash", () => {
  const { server } = local();
  const setup = SETUP.filter((c) => c[0] !== "SET" || c[1] !== "s:lzf2");
  for (const c of setup) server.dispatch(c);
  const bodies = Object.values(OLD).map((p) => p.slice(0, -10));
  for (const key of KEYS) {
    const p = server.dispatch(["DUMP", key]);
    if (typeof p === "string") bodies.push(p.slice(0, -10));
  }
  const next = prng(1234);
  let loaded = 0;
  for (const text of bodies) {
    const body = Uint8Array.from(text, (c) => c.charCodeAt(0));
    for (let round = 0; round < 60; round++) {
      const b = body.slice(0, round < 10 ? Math.floor(next() * body.length) : body.length);
      for (let k = 0; k < 1 + Math.floor(next() * 3) && b.length > 1; k++) {
        b[1 + Math.floor(next() * (b.length - 1))] = Math.floor(next() * 256);
      }
      const r = server.dispatch(["RESTORE", "fz", "0", reseal(b), "REPLACE"]);
      if (r instanceof ErrorReply) {
        assert.equal(r.message, BAD);
        continue;
      }
      loaded++;
      // A loaded value must work and serialize back to an equal value.
      const again = server.dispatch(["DUMP", "fz"]);
      assert.equal(typeof again, "string");
      const before = JSON.stringify(readAll(server, "fz"));
      assert.deepEqual(
        server.dispatch(["RESTORE", "fz2", "0", again as string, "REPLACE"]),
        new SimpleString("OK"),
      );
      assert.equal(JSON.stringify(readAll(server, "fz2")), before);
    }
  }
  assert.ok(loaded > 0);
  assert.deepEqual(server.dispatch(["PING"]), new SimpleString("PONG"));
});

/** Everything a key holds, through the read commands of its type. */
function readAll(server: Server, key: string): unknown {
  const type = (server.dispatch(["TYPE", key]) as { value: string }).value;
  const cmd: Record<string, string[]> = {
    string: ["GET", key],
    list: ["LRANGE", key, "0", "-1"],
    hash: ["HGETALL", key],
    set: ["SMEMBERS", key],
    zset: ["ZRANGE", key, "0", "-1", "WITHSCORES"],
  };
  return [type, server.dispatch(cmd[type]!)];
}

test("the payloads of Redis's corrupt-dump tests are refused or load consistently", () => {
  const { server } = local();
  let refused = 0;
  for (const h of CORRUPT_DUMP_PAYLOADS.trim().split("\n")) {
    const p = String.fromCharCode(...h.match(/../g)!.map((x) => parseInt(x, 16)));
    const r = server.dispatch(["RESTORE", "key", "0", p, "REPLACE"]);
    if (r instanceof ErrorReply) {
      assert.match(r.message, /^ERR (Bad data format|DUMP payload version or checksum are wrong)$/);
      refused++;
      continue;
    }
    const value = JSON.stringify(readAll(server, "key"));
    const again = server.dispatch(["DUMP", "key"]) as string;
    server.dispatch(["RESTORE", "key2", "0", again, "REPLACE"]);
    assert.equal(JSON.stringify(readAll(server, "key2")), value);
  }
  assert.ok(refused > 60, `refused ${refused}`);
});

/**
 * The RESTORE payloads of Redis 7.0.15's tests/integration/corrupt-dump.tcl (hex, one a line):
 * corrupt ziplists, listpacks, intsets, quicklists and streams found by fuzzing.
 */
const CORRUPT_DUMP_PAYLOADS = `
0d1b1b00000016000000040000026100040262000414630004026400ff0900d910549215f55f52
0d1b2500000016000000040000026100040262000402630004026400ff0900b7f76e9f434314c6
0d1b1b00000016000000040000026100040262000402610004026400ff0900a1983678cc8e932e
0e0113130000000e0000000200000261000e026200ff0900499730b20da1edaa
0e0113130000000e00000002000002610002026200ff0900c77103970775b063
0e0113130000000e00000003000002610004026200ff09004de20a2f0825df91
0e01800000001041414141414141410200008041414141070003c71def5468ccf3
0e010b0b0000000a0000000000ff0900c26937833c7ffe6f
120101000a008fc6c0571c0ab33c
1201020b0b0000000100816102ffff0a007ed8de5b0dd770b8
0a8000000010414141414141414102000080414141410700395b49e0c1c6dd76
0f01100000000000000002000000000000000240555f0000000f00010100010201883100000000000000098832000000000000000900010001000100010202883100000000000000098861000000000000000988320000000000000009886200000000000000090801ff0a010000090045910a872fa5f92e
0f0110000000000000000200000000000000024055550000000f00010100010201883100000000000000098832000000000000000900010001000100010202893100000000000000098861000000000000000988320000000000000009886200000000000000090801ff0a01000009004063c93703a2e568
0f0110000000000000000200000000000000024055550000000f000101000102018831000000000000000988320000000000000009000100010001000102028831000000000000000988610000000000000009883200000000000000099c6200000000000000090801ff0a0100000900636f428e7cb5a29d
0f0110000000000000000200000000000000024055550000000f00010100150201883100000000000000098832000000000000000900010001000100010202883100000000000000098861000000000000000988320000000000000009886200000000000000090801ff0a010000090006fb44240a8e75ea
0f0000000001076d7967726f757000000002046e616d652a4caa9a7d01000000046e616d652b4caa9a7d010000000a00cced8ca762eec7c8
0d3d3d0000003a000000141300f502f502f202535f3104f302f302f702f702f802025f3704f102f102f602025f3504f402025f3304fa02025f3904f902f9ff0900b548de6231d0e563
101717000000040082610003826200038261000382640003ff0a00c0cfa687e5a7c5be
101717000000040082610003826200038261000382640003ff0a00c0cfa687e5a7c5be
0d1b1b00000016000000040000026100040262000402610004026400ff0900a1983678cc8e932e
040201610162016101640900c69cabbc626b0c06
090200ff0900c0f1b8674c16ace3
0f011000000173bd68487100000000000000004042420000001800030100010201846974656d058576616c75650600010201000100010101000105010201000101010101825f31030501020100010201010102014801ff038100000173bd6848710201076d7967726f75708100000173bd684871000100000173bd6848710000000000000000724868bd73010000010105416c696365724868bd730100000100000173bd6848710000000000000000090080cdb0d51aceff10
0f011000000173dcb66bf100000000000000004042420000001800030100010201846974656d058576616c756506000102010001000101010001050102011f01000101016d5f31030501020129010001010102010501ff038100000173dcb66c1a0001076d7967726f75708100000173dcb66bf1000100000173dcb66bf100000000000000004b6cb6dc73010000010105416c6963653d6cb6dc730100000100000173dcb66bf100000000000000000900c77d1cd704ffe69d
0e01131300000010000000031200f302025f3104f1ff0900c94b31fe61c096fe
0d191900000016000000060000f102f102f202025f31049902f3ff0900c5b810c08af916df
0e021b1b00000016000000050000025f3904f902865f3704f702025f35ff191900000016000000050000f502025f3304f302025f3104f1ff09000cfc992c23451560
0d191900000016000000060000f102f102f202025f3104f302f3ff090038b810c08af916df
0d3d3d00000038000000140000f202025f31041c02f702f102f102f502f502f402025f3304f602025f3504f802025f3704f902f902f302f302fa02025f39ff090073b768c897248e88
0203025f31c002c3000900e6dc7644ffeb3dfe
020a025f39c006025f31c000c004025f35c002c008025f31025f3309007a5afb903ae93cbe
02c0c006025f39c002025f33c000025f31c004c008025f37025f350900c5d46dbaad14b7e7
0c3d3d0000003a000000140000f102f102025f3104f202f302f302025f3304f402ee02f502025f3504f602f702f702025f3704f802f902f902025f3904faff0900aef9772a472433f6
0e021b1b00000016000000050000025f3904f902025f3704f702025f35ff191900000016000000050000f502025f3304f395025f3104f1ff09000cfc992c23451560
030111110000000a000000010000d0071ae902ff09001a06073241283a46
0e01131300000010000000030000f302025f31c1f1ff0900c94b31fe61c096fe
0f021000000173ddaa2ab90000000000000000c3404b405c185c0000002400050100010201846974656d058576616c756506401000002001000120030005201c4007050101825f3103800d4000000260194027401900336019402902010104201900ff1000000173ddaa2abc0000000000000000c3404d405e185e0000002400050100010201846974656d058576616c756506401000002001060101825f350305201e170b0301010601400b0001600d02825f376019800000086019802702825f39201900ff0a8100000173ddaa2abe0000090021857743717b1788
0f011000000173dedf7d9b00000000000000004042420000001800030100010201846974656d058576616c75650600010201000100010101000156010201220100010101825f3103050102012c010001010102010501ff038100000173dedf7dc70001076d7967726f75708100000173dedf7d9b000100000173dedf7d9b0000000000000000f97ddfde73010000010105416c696365eb7ddfde730100000100000173dedf7d9b00000000000000000900b2a8a75f1b6172d5
0f011000000173dedf7d9b00000000000000004042420000001800030100010201846974656d058576616c75650600010201000100010101000156010201220100010101825f3103050102012c010001010102010501ff038100000173dedf7dc70001076d7967726f75708100000173dedf7d9b000100000173dedf7d9b0000000000000000f97ddfde73010000010105416c696365eb7ddfde730100000100000173dedf7d9b00000000000000000900b2a8a75f1b6172d5
0f0210000001752da290670000000000000000c3404f405c185c0000002400050100014a01846974656d058576616c756506401000002001000120030005201c4009050101825f3103800d0002200d0002a0190003200b02825f33a0190004200d0004201900ff10000001752da290670000000000000005c34056406018600000002400050100010201846974656d058576616c756506401000002001060101825f350305201e400b0301010601800b0002200b02825f376019030101dffb20050008601a200c00fc200502825f39201b00ff0a81000001752da29068010009001d6fc0698adef792
0f0110000001753aa6d09300000000000000004042420000001800030100010201846974656d058576616c75650600010201000100010101000105010201000101010101825f3103fd01020100010201010102010501ff0381000001753aa6d0930201076d7967726f757081000001753aa6d0930001000001753aa6d093000000000000000094d0a63a75010000010105416c69636594d0a63a7501000001000001753aa6d09300000000000000000900c409ad697eeea62f
0d3d3d0000003a000000141300f502f502f202535f3104f302f302f702f702f802025f3704f102f102f602025f3504f402025f3304fa02025f3904f902f9ff0900b548de6231d0e563
0a817fffffffffffffff130000000e00000002000002610004026200ff09005704e5cdd4376c57
0281025f31c000c0020900cd842cb7e8a44957
0c191900000002000000060000f102f102025f3104f202f302f3ff09004d727b97cd9a70c1
0f011000000175cfa116a700000000000000004042420000001800030100010201846974656d058576616c75650600010201000100010101000105010201000101010101145f31030501020100010201010102010501ff038100000175cfa116a70201076d7967726f75708100000175cfa116a7010100000175cfa116a70000000000000001a716a1cf75010000010105416c696365a716a1cf750100000100000175cfa116a7000000000000000109001b4252b8dd5ce54e
0e0181d6d60000000a00000001000040c86f2f36e2dfe32e26648b87d17abdffefef6365f6f88c4eec96895688f83d965a32bdd136d802e66637cb3434c452a72ad56f2f7eeea294d9eba909383be1a960b64e09441f7024aa47a86e30e113494ea192c46cf03583d94fd99c0a0d7ae7b161f5c12ddcc30e87a6801518ba7f72dd147546440bca9c8f1c3cd7da0662187e151724ab452127c2bcbb866ed8bd8e50e0e088a49b9d152a98ff5e786c81fca8c9c8e661c8d14a7f81d6a61aad4cc1a21c9068152a8a36c058c3cca65419120feb46ff6ee3a792f8ff0900d071f79ff76ad62e
050a025f390000000000002240c0080000000000002040025f370000000000001c40c0060000000000001840025f330000000000001440c0040000000000001040025f330000000000000840c0020000000000000040025f31000000000000f03fc000000000000000000009003c66d714a9da3c69
04c0010900f68ab67a8587724d
0f0110000001784d55680900000000000000004042420000001800020101010201846974656d058576616c756506000102010001000101010001050103013e0100010101825f31030501020150010001010102010523ff0281000001784d5568590001076d7967726f757081000001784d5568470001000001784d55684700000000000000009f68554d78010000010105416c6963658568554d7801000001000001784d55684700000000000000000900f1c0727039401ea9
0e0111110000000a000000010000f6ffb06c9cff09009c3747494dde94f5
0281c000025f31c0020900b21be5172e15f46c
0081010900f62bb67a8587724d
0f01100000017b08f0b2340000000000000000c33b404219420000001800020101010201846974656d058576616c7565060020100000200100012003020501032005400004825f31030560198032020501ff02810000017b08f0b2340201076d7967726f7570810000017b08f0b23401010000017b08f0b234000000000000000135b2f0087b010000010113416c69636535b2f0087b010000010000017b08f0b23400000000000000010900282fe0c504bba731
0f01100000017b095e94ff00000000000000004042420000001800020101010201846974656d058576616c75650600010201000100010101000105010301250100010101825f3103050102013201000101010201f001ff02810000017b095e95310001076d7967726f7570810000017b095e952400010000017b095e952400000000000000005c955e097b010000010105416c6963654b955e097b010000010000017b095e952400000000000000000900192994df76f81ac6
0f01100000017b0e52d2ec0000000000000000404242000000180002f701010201846974656d058576616c75650600010201000100010101000105010301010100010101825f31030501020101010101010102010501ff02810000017b0e52d2ed0101076d7967726f7570810000017b0e52d2ed00010000017b0e52d2ed0000000000000000edd2520e7b010000010105416c696365edd2520e7b010000010000017b0e52d2ed00000000000000000900ac05c9975d4580b3
0f01100000017b0eae663600000000000000004042420000001800020101010201846974656d058576616c7565060001020100010001010100011d010301240100010169825f31030501020133010001010102010501ff02810000017b0eae66690001076d7967726f7570810000017b0eae665a00010000017b0eae665a00000000000000009466ae0e7b010000010105416c6963658366ae0e7b010000010000017b0eae665a00000000000000000900d5d7a55c631c0940
0f03100000017b1334c3b20000000000000000c3404f405c185c0000002400050100010201846974656d058576616c756506401000802001000120030005201c4009050101825f3103800d0002200d0002a0190003200b02825f33a0190004200d0004201900ff100000017b1334c3b20000000000000005c34056406118610000002400050100010201846974656d058576616c756506401000002001060101825f350305201e400b0301010601400b030101dffb200502825f37601a200e00fc20050008c01b00fd200c02825f39201b00ff100000017b1334c3b30000000000000003c33d404a184a0000001500020100010201846974656d058576616c75650640100000200140000005600702dffd02c02309010186756e6971756507a02d020801ff0c810000017b1334c3b4000009009dbdd5b933c4c5ff
0ec02b150000000a000000010000e06258eadf22000000ff0900df35d267dc0e89ab
05c0010900f68ab67a8587724d
04c0210900f68ab67a8587724d
1015150000000600f00100010101825f310302010201ff0a0094210afa06529f44
0f03100000017b605a23790000000000000000c3404f405c185c0000002400050100010201846974656d058576616c756506401000002001000120030005201c4009050101825f3103800d0002200d0002a0190003200b02825f33a0190004200d0004201900ff100000017b605a23790000000000000005c34051405e185e0000002400050100010201846974656d058576616c756506401000002001060101825f350305201e400b0301010601800b0002200b02825f37a0190003200d0008a0190004200b02825f39201900ff100000017b605a23790000000000000000c33b404918490000001500020100010201846974656d058576616c7565064010000020014000000520074009c02209010186756e6971756507a02c020801ff0c810000017b605a237a01000a009c8f1ebf2e055909
120102131300000010000000030000f3fe025f3104f1ff0a00198d3d74859429bd
1039390000001400060106010301825f33030701825f370300010001040104010901825f39030501825f3503080108010101825f31030201f001ff0a0029d7e452797a9582
0e021b1b00000016000000050000025f3904f902025f3704f702025f35ff191900000016000000050000f502025f3304f302025f31fef1ff0a006b43322fbb290abe
050a025f390000000000002240c0080000000000002040025f370000000000001c40c0060000000000001840025f350000000000001440c0040000000000001040025f330000000000000840c0020000000000000040025f31000000000055f07fc00000000000000000000a00ec9486d8fd5c5fd8
13c010000001802048a0330000000000000000c3404f405c185c0000002400050100010201846974656d058576616c756506401000002001000120030005201c4009050101825f3103800d0002200d0002a0190003200b02825f336019402f02010104201900ff10000001802048a0340000000000000001c34051405e185e0000002400050100010201846974656d058576616c756506401000002001060101825f350305201e400b0301010601800b0002200b02825f37a0190003200d0008a0190004200b02825f39201900ff10000001802048a0340000000000000006c33d404a184a0000001500020100010201846974656d058576616c75650640100000200140000005600702dffa02c02309010186756e6971756507a02d020801ff0c81000001802048a0350081000001802048a0330000000c000a00348b0e5b42cdd608
13011000000181cc07dcf200000000000000004042420000001800020101010201846974656d058576616c756506000102010001000101010001050103012c0100010101825f3103050102013c010001010102010501ff02d000000181cc07dd2e008100000181cc07dcf2008100000181cc07dd1e000301076d7967726f75708100000181cc07dd1e00020100000181cc07dd1e000000000000000071dd07cc81010000010105416c69636558dd07cc810100000100000181cc07dd1e00000000000000000a002fb0d1150a97876b
`;
