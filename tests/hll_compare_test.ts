/**
 * Side by side with a real redis-server: the HyperLogLog commands must answer byte for byte what
 * Redis 7.0 answers, and leave byte-identical values (compared with GET) after the same PFADD,
 * PFCOUNT and PFMERGE sequences, sparse and dense. Skipped when `redis-server` is not installed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RawConn, startServer } from "./helpers.ts";
import { compareWithRedis, pipeline, prng, script, startRedis } from "./redis_compare.ts";
import { missing } from "./redis_tools.ts";

const BASIC = script(`
PFADD h ; GET h ; PFCOUNT h ; GET h ; PFADD h a b c ; GET h ; PFADD h a b c ; PFADD h "" ; GET h
PFCOUNT h ; PFCOUNT h ; GET h ; PFADD h 1 2 3 ; GET h ; PFCOUNT nokey ; PFCOUNT h nokey
PFCOUNT nokey nokey2 ; PFADD h2 b c d ; PFADD h3 c d e ; PFMERGE m h h2 h3 ; GET m ; PFCOUNT m
PFMERGE m ; PFMERGE new ; GET new ; PFMERGE new2 nokey ; GET new2 ; PFCOUNT h h2 h3
SET str bar ; PFADD str 1 ; PFCOUNT str ; PFCOUNT h str ; PFMERGE x str ; PFMERGE str h
SET int 12345 ; PFADD int a ; LPUSH l a ; PFADD l a ; PFCOUNT l ; PFMERGE l h ; PFMERGE h l
PFDEBUG ENCODING h ; PFDEBUG DECODE h ; PFDEBUG decode m ; PFDEBUG ENCODING nokey
PFDEBUG FOO h ; PFDEBUG FOO nokey ; PFDEBUG TODENSE h ; PFDEBUG ENCODING h ; GET h
PFDEBUG TODENSE h ; PFDEBUG DECODE h ; PFADD h z ; GET h ; PFCOUNT h ; GET h ; PFDEBUG GETREG h2
GET h2 ; PFDEBUG ENCODING h2 ; PFDEBUG GETREG str ; PFDEBUG ENCODING l ; PFADD ; PFCOUNT
PFMERGE ; PFDEBUG GETREG ; PFDEBUG GETREG a b ; PFSELFTEST x
SET bad "HYLL" ; PFADD bad a ; SET bad "HYLL\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
PFCOUNT bad ; SET bad "HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" ; PFCOUNT bad
PFADD c a b c ; APPEND c hello ; PFCOUNT c ; PFADD c x y z ; PFCOUNT c other ; PFMERGE d c
GET c ; SET t "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f" ; PFCOUNT t ; PFADD t a
PFDEBUG DECODE t ; SET t "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff\x80"
PFADD t a b ; PFCOUNT t ; GET t ; SET v "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00"
PFCOUNT v ; SET v "HYLL\x01\x00\x00\x00\xff\xfe\xff\xff\xff\xff\xff\x7f\x7f\xff"
PFCOUNT v ; PFADD h4 ; EXPIRE h4 100 ; PFADD h4 q ; TTL h4 ; PFCOUNT h4 ; TTL h4
`);

/** PFADDs of `n` random elements in batches of `batch` to `key`, each followed by a GET. */
function adds(key: string, n: number, batch: number, seed: number, count = false): string[][] {
  const rnd = prng(seed);
  const out: string[][] = [];
  for (let i = 0; i < n; i += batch) {
    const els: string[] = [];
    for (let j = 0; j < batch; j++) {
      const len = Math.floor(rnd() * 20);
      let s = "";
      for (let k = 0; k < len; k++) s += String.fromCharCode(Math.floor(rnd() * 256));
      els.push(s);
    }
    out.push(["PFADD", key, ...els], ["GET", key]);
    if (count) out.push(["PFCOUNT", key], ["GET", key]);
  }
  return out;
}

test("HyperLogLog commands answer as Redis does (RESP2 and RESP3)", {
  skip: missing("redis-server"),
}, async () => {
  await compareWithRedis(BASIC, false);
  await compareWithRedis(BASIC, true);
});

test("PFADD leaves Redis's bytes from sparse through promotion to dense", {
  skip: missing("redis-server"),
}, async () => {
  await compareWithRedis([
    ...adds("a", 3000, 1, 1, true),
    ["PFDEBUG", "ENCODING", "a"],
    ...adds("b", 20000, 97, 2, true),
    ["PFDEBUG", "ENCODING", "b"],
    ...adds("c", 300, 7, 3),
    ["PFCOUNT", "a", "b", "c"],
    ["PFMERGE", "m1", "c", "a"],
    ["GET", "m1"],
    ["PFCOUNT", "m1"],
    ["PFMERGE", "m2", "c", "b"],
    ["GET", "m2"],
    ["PFMERGE", "c", "a"],
    ["GET", "c"],
    ["PFCOUNT", "c"],
  ], false);
});

test("a small hll-sparse-max-bytes promotes early, as in Redis", {
  skip: missing("redis-server"),
}, async () => {
  await compareWithRedis([
    ["CONFIG", "SET", "hll-sparse-max-bytes", "60"],
    ...adds("s", 60, 3, 4, true),
    ["PFDEBUG", "ENCODING", "s"],
    ["CONFIG", "SET", "hll-sparse-max-bytes", "0"],
    ["PFADD", "z", "a"],
    ["GET", "z"],
  ], false);
});

test("HyperLogLogs move between Redis and redeno with DUMP and RESTORE, both ways", {
  skip: missing("redis-server"),
}, async () => {
  const redis = await startRedis();
  const ours = await startServer();
  const a = await RawConn.connect(redis.port);
  const b = await RawConn.connect(ours.port);
  try {
    const fill = [...adds("sparse", 200, 10, 5), ...adds("dense", 5000, 250, 6)];
    for (const [from, to] of [[a, b], [b, a]] as const) {
      await pipeline(from, [["FLUSHALL"], ...fill]);
      const dumps = await pipeline(from, [["DUMP", "sparse"], ["DUMP", "dense"]]);
      const payloads = dumps.map((d) => d.slice(d.indexOf("\r\n") + 2, -2));
      await pipeline(to, [
        ["FLUSHALL"],
        ["RESTORE", "sparse", "0", payloads[0]!],
        ["RESTORE", "dense", "0", payloads[1]!],
      ]);
      const probe = [
        ["GET", "sparse"],
        ["GET", "dense"],
        ["PFCOUNT", "sparse"],
        ["PFCOUNT", "dense"],
        ["PFCOUNT", "sparse", "dense"],
        ["PFADD", "sparse", "one more"],
        ["GET", "sparse"],
      ];
      assert.deepEqual(await pipeline(to, probe), await pipeline(from, probe));
    }
  } finally {
    a.close();
    b.close();
    redis.stop();
    await ours.close();
  }
});

test("corrupted HyperLogLogs give Redis's replies and bytes (fuzz)", {
  skip: missing("redis-server"),
}, async () => {
  const rnd = prng(99);
  const cases: string[][] = [];
  for (let i = 0; i < 150; i++) {
    cases.push(["DEL", "h", "m"], ...adds("h", Math.floor(rnd() * 400), 20, 100 + i));
    if (i % 3 === 0) cases.push(["PFDEBUG", "TODENSE", "h"]);
    const len = i % 3 === 0 ? 12304 : 300;
    for (let j = 0; j < 1 + (i % 3); j++) {
      const pos = 16 + Math.floor(rnd() * (len - 16));
      cases.push(["SETRANGE", "h", String(pos), String.fromCharCode(Math.floor(rnd() * 256))]);
    }
    cases.push(
      ["PFCOUNT", "h"],
      ["PFADD", "h", "x", "y", `z${i}`],
      ["GET", "h"],
      ["PFCOUNT", "h", "nokey"],
      ["PFMERGE", "m", "h"],
      ["GET", "m"],
      ["PFDEBUG", "TODENSE", "h"],
      ["PFCOUNT", "h"],
      ["GET", "h"],
    );
  }
  await compareWithRedis(cases, false);
});

test("PFADDs to dense values between reads leave Redis's bytes (keys interleaved)", {
  skip: missing("redis-server"),
}, async () => {
  // Dense values are saved as a rope of pieces rebuilt where a register changed (core/hll.ts):
  // many changes between reads, to two keys in turn, with the cached count and a merge between.
  const rnd = prng(7);
  const el = (): string => `e${Math.floor(rnd() * 1e9)}`;
  const cases: string[][] = [
    ["PFADD", "x", "seed"],
    ["PFDEBUG", "TODENSE", "x"],
    ...adds("y", 3000, 300, 8),
  ];
  for (let i = 0; i < 600; i++) {
    cases.push(["PFADD", i % 2 === 0 ? "x" : "y", el(), ...(i % 5 === 0 ? [el(), el()] : [])]);
    if (i % 97 === 0) cases.push(["PFCOUNT", "x"]);
    if (i % 151 === 0) cases.push(["PFMERGE", "x", "y"]);
  }
  cases.push(["GET", "x"], ["GET", "y"], ["PFCOUNT", "x", "y"], ["DUMP", "x"]);
  for (let i = 0; i < 200; i++) cases.push(["PFADD", "x", el()]);
  cases.push(["STRLEN", "x"], ["GET", "x"], ["PFCOUNT", "x"], ["GET", "x"]);
  cases.push(["PFMERGE", "z", "x", "y"], ["PFADD", "z", el(), el()], ["GET", "z"]);
  await compareWithRedis(cases, false);
});

test("elements of every length from 0 to 80, and long ones, set Redis's registers", {
  skip: missing("redis-server"),
}, async () => {
  // The element hash runs on bytes copied into WebAssembly memory (core/hll_hash.ts): a loop up
  // to 64 bytes, a native copy past it, 32 KiB chunks past that. DUMP compares the stored
  // bytes; the sparse key checks each change one at a time.
  const rnd = prng(11);
  const bytes = (len: number): string => {
    let s = "";
    for (let k = 0; k < len; k++) s += String.fromCharCode(Math.floor(rnd() * 256));
    return s;
  };
  const cases: string[][] = [];
  for (let round = 0; round < 40; round++) {
    const els: string[] = [];
    for (let len = 0; len <= 80; len++) els.push(bytes(len));
    cases.push(["PFADD", "dense", ...els], ["PFADD", "sparse", els[round * 2]!]);
    cases.push(["GET", "sparse"]);
  }
  cases.push(["PFDEBUG", "ENCODING", "dense"], ["DUMP", "dense"], ["DUMP", "sparse"]);
  for (const len of [32767, 32768, 32769, 40000, 65536, 65541, 200003]) {
    cases.push(["PFADD", "long", bytes(len)], ["GET", "long"]);
  }
  cases.push(["PFCOUNT", "dense"], ["DUMP", "dense"], ["PFCOUNT", "dense", "sparse", "long"]);
  await compareWithRedis(cases, false);
});
