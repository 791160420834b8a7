/**
 * The compact encodings held as packed strings (core/types/packed.ts, intset.ts): listpack
 * hashes and intsets. Every operation on the compact form, binary-safe members (NUL and high
 * bytes, empty strings, long entries whose length takes several header chars), integers at the
 * edges of each width, duplicates, conversion at Redis's thresholds, random operations checked
 * against a plain model, and SAVE/load and DUMP/RESTORE round trips.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "../mod.ts";
import type { Server } from "../mod.ts";
import { rdbOf } from "../core/persistence/rdb_file.ts";
import { HashValue } from "../core/types/hash.ts";
import { SetValue } from "../core/types/set.ts";
import { ListValue } from "../core/types/list.ts";
import { PackedOrder } from "../core/types/zset_packed.ts";
import { equalAt, pack, unpack } from "../core/types/packed.ts";
import { MapReply, SetReply } from "../core/resp/reply.ts";
import { serverIn, tempDir, text } from "./rdb_helpers.ts";
import { prng } from "./redis_compare.ts";

function members(r: unknown): string[] {
  return r instanceof SetReply ? (r.items as string[]) : (r as string[]);
}

/** HGETALL's reply as a flat field, value list. */
function hgetall(server: Server, key: string): string[] {
  const r = server.dispatch(["HGETALL", key]);
  return r instanceof MapReply ? (r.entries as string[]) : (r as string[]);
}

const BINARY = ["", "\0", "\0\0x", "\xff\xfe", "a\r\nb", "é", "x".repeat(64)];

test("packed entries round trip any bytes and lengths, headers of one to three chars", () => {
  const entries = [...BINARY, "y".repeat(127), "z".repeat(128), "w".repeat(16_384), ""];
  assert.deepEqual(unpack(pack(entries)), entries);
  assert.equal(pack(["ab"]), "\x02ab");
  assert.equal(pack(["z".repeat(128)]).slice(0, 2), "\x80\x01");
});

test("equalAt tells equal entries from ones differing in any one byte, at every length", () => {
  for (let n = 0; n <= 70; n++) {
    const v = Array.from({ length: n }, (_, i) => String.fromCharCode((i * 37 + 11) & 0xff)).join(
      "",
    );
    const s = pack(["pad", v, "tail"]);
    const at = 5; // "\x03pad" then v's one-char header
    assert.equal(equalAt(s, at, v), true, `length ${n}`);
    for (let i = 0; i < n; i++) {
      const w = v.slice(0, i) + String.fromCharCode(v.charCodeAt(i) ^ 0x80) + v.slice(i + 1);
      assert.equal(equalAt(s, at, w), false, `length ${n}, byte ${i}`);
    }
  }
});

test("a listpack hash stores binary-safe fields and values and answers every read", () => {
  const server = createServer();
  const pairs: string[] = [];
  BINARY.forEach((f, i) => pairs.push(f, BINARY[BINARY.length - 1 - i]!));
  assert.equal(server.dispatch(["HSET", "h", ...pairs]), BINARY.length);
  assert.equal(server.dispatch(["OBJECT", "ENCODING", "h"]), "listpack");
  assert.deepEqual(hgetall(server, "h"), pairs);
  for (let i = 0; i < BINARY.length; i++) {
    assert.equal(server.dispatch(["HGET", "h", BINARY[i]!]), BINARY[BINARY.length - 1 - i]);
    assert.equal(server.dispatch(["HEXISTS", "h", BINARY[i]!]), 1);
  }
  // A field that is a prefix, or an extension, of one present is a different field.
  assert.equal(server.dispatch(["HGET", "h", "\0\0"]), null);
  assert.equal(server.dispatch(["HGET", "h", "\0\0xy"]), null);
  // Updates keep the field's place, as a listpack does; a delete closes the gap.
  assert.equal(server.dispatch(["HSET", "h", "\0", "new"]), 0);
  assert.equal(server.dispatch(["HDEL", "h", "", "missing"]), 1);
  const all = hgetall(server, "h") as string[];
  assert.deepEqual(all.slice(0, 2), ["\0", "new"]);
  assert.equal(server.dispatch(["HLEN", "h"]), BINARY.length - 1);
  assert.equal(server.dispatch(["HSTRLEN", "h", "\0\0x"]), BINARY[BINARY.length - 3]!.length);
  assert.equal(server.dispatch(["HINCRBY", "h", "n", "-5"]), -5);
  assert.equal(server.dispatch(["HINCRBYFLOAT", "h", "n", "1.5"]), "-3.5");
  assert.equal(server.dispatch(["HSETNX", "h", "n", "x"]), 0);
  const scan = server.dispatch(["HSCAN", "h", "0"]) as [string, string[]];
  assert.equal(scan[0], "0");
  assert.deepEqual(scan[1], hgetall(server, "h"));
  const [f, v] = server.dispatch(["HRANDFIELD", "h", "1", "WITHVALUES"]) as string[];
  assert.equal(server.dispatch(["HGET", "h", f!]), v);
  assert.equal(server.dispatch(["OBJECT", "ENCODING", "h"]), "listpack");
});

test("a hash converts at hash-max-listpack-entries and -value, as Redis's hashTypeSet", () => {
  // Redis 7.0's defaults: 512 entries, 64 bytes.
  const server = createServer();
  for (let i = 0; i < 512; i++) server.dispatch(["HSET", "h", `f${i}`, "v"]);
  assert.equal(server.dispatch(["OBJECT", "ENCODING", "h"]), "listpack");
  server.dispatch(["HSET", "h", "f0", "updated"]);
  assert.equal(server.dispatch(["OBJECT", "ENCODING", "h"]), "listpack");
  server.dispatch(["HSET", "h", "f512", "v"]);
  assert.equal(server.dispatch(["OBJECT", "ENCODING", "h"]), "hashtable");
  assert.equal(server.dispatch(["HGET", "h", "f0"]), "updated");
  assert.equal(server.dispatch(["HLEN", "h"]), 513);
  server.dispatch(["HSET", "v", "f", "x".repeat(64)]);
  assert.equal(server.dispatch(["OBJECT", "ENCODING", "v"]), "listpack");
  server.dispatch(["HSET", "v", "x".repeat(65), "y"]);
  assert.equal(server.dispatch(["OBJECT", "ENCODING", "v"]), "hashtable");
  assert.equal(server.dispatch(["HGET", "v", "f"]), "x".repeat(64));
});

test("a listpack hash with raised limits holds entries whose headers take several chars", () => {
  const server = createServer({ config: { "hash-max-listpack-value": 100_000 } });
  const long = "\xff".repeat(20_000);
  server.dispatch(["HSET", "h", "a".repeat(300), long, "b", ""]);
  assert.equal(server.dispatch(["OBJECT", "ENCODING", "h"]), "listpack");
  assert.equal(server.dispatch(["HGET", "h", "a".repeat(300)]), long);
  assert.equal(server.dispatch(["HGET", "h", "b"]), "");
  server.dispatch(["HDEL", "h", "a".repeat(300)]);
  assert.deepEqual(hgetall(server, "h"), ["b", ""]);
});

test("random hash operations on the listpack agree with a Map", () => {
  const next = prng(7);
  const h = new HashValue();
  const model = new Map<string, string>();
  const limits = { entries: 1_000, value: 1_000 };
  const names = ["", "\0", "a", "ab", "abc", "\xff", "k".repeat(13), "k".repeat(200)];
  for (let step = 0; step < 5_000; step++) {
    const f = names[Math.floor(next() * names.length)]! + String(Math.floor(next() * 20));
    const op = next();
    if (op < 0.5) {
      const v = "v".repeat(Math.floor(next() * 150));
      assert.equal(h.set(f, v, limits), !model.has(f));
      model.set(f, v);
    } else if (op < 0.8) {
      assert.equal(h.delete(f), model.delete(f));
    } else assert.equal(h.get(f), model.get(f));
    assert.equal(h.size, model.size);
  }
  assert.equal(h.encoding(), "listpack");
  const seen: string[][] = [];
  h.forEach((f, v) => seen.push([f, v]));
  assert.deepEqual(seen, [...model]);
  const copy = h.clone();
  h.convert();
  assert.equal(h.encoding(), "hashtable");
  for (const [f, v] of model) assert.equal(h.get(f), v);
  assert.equal(copy.encoding(), "listpack");
  assert.equal(copy.size, model.size);
});

/** The edges of each intset width, and texts that are not canonical integers. */
const EDGES = [
  "0",
  "-1",
  "32767",
  "-32768",
  "32768",
  "-32769",
  "2147483647",
  "-2147483648",
  "2147483648",
  "-2147483649",
  "4294967296",
  "9007199254740991",
  "9007199254740993",
  "-9007199254740993",
  "9223372036854775807",
  "-9223372036854775808",
];

test("an intset holds integers at every width's edges, sorted, and finds each of them", () => {
  const server = createServer();
  for (const m of EDGES) {
    server.dispatch(["SADD", "s", m]);
    assert.equal(server.dispatch(["OBJECT", "ENCODING", "s"]), "intset", m);
  }
  const sorted = [...EDGES].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  assert.deepEqual(members(server.dispatch(["SMEMBERS", "s"])), sorted);
  for (const m of EDGES) assert.equal(server.dispatch(["SISMEMBER", "s", m]), 1, m);
  for (const m of ["1", "-2", "9007199254740992", "01", "-0", "+1", "1 ", ""]) {
    assert.equal(server.dispatch(["SISMEMBER", "s", m]), 0, m);
  }
  assert.equal(server.dispatch(["SADD", "s", ...EDGES]), 0, "duplicates are not added");
  assert.equal(server.dispatch(["SCARD", "s"]), EDGES.length);
  assert.equal(server.dispatch(["SREM", "s", "9223372036854775807", "-32768", "5"]), 2);
  assert.deepEqual(
    members(server.dispatch(["SMEMBERS", "s"])),
    sorted.filter((m) => m !== "9223372036854775807" && m !== "-32768"),
  );
  // Narrow values in a set made wide are found and ordered among the wide ones.
  server.dispatch(["SADD", "w", "5", "-5", "70000"]);
  assert.deepEqual(members(server.dispatch(["SMEMBERS", "w"])), ["-5", "5", "70000"]);
  server.dispatch(["SADD", "w", "-9223372036854775808", "3"]);
  assert.deepEqual(members(server.dispatch(["SMEMBERS", "w"])), [
    "-9223372036854775808",
    "-5",
    "3",
    "5",
    "70000",
  ]);
  assert.equal(server.dispatch(["SISMEMBER", "w", "-5"]), 1);
  const picked = members(server.dispatch(["SRANDMEMBER", "w", "-20"]));
  for (const m of picked) assert.equal(server.dispatch(["SISMEMBER", "w", m]), 1);
  const popped = server.dispatch(["SPOP", "w"]) as string;
  assert.equal(server.dispatch(["SISMEMBER", "w", popped]), 0);
  assert.equal(server.dispatch(["SCARD", "w"]), 4);
});

test("an intset converts at set-max-intset-entries and on a non-integer member", () => {
  const server = createServer();
  const many = Array.from({ length: 512 }, (_, i) => String(i * 1000 - 200_000));
  server.dispatch(["SADD", "s", ...many]);
  assert.equal(server.dispatch(["OBJECT", "ENCODING", "s"]), "intset");
  server.dispatch(["SADD", "s", "1"]);
  assert.equal(server.dispatch(["OBJECT", "ENCODING", "s"]), "hashtable");
  assert.equal(server.dispatch(["SCARD", "s"]), 513);
  assert.equal(server.dispatch(["SISMEMBER", "s", "-200000"]), 1);
  server.dispatch(["SADD", "t", "1", "2"]);
  server.dispatch(["SADD", "t", "\0"]);
  assert.equal(server.dispatch(["OBJECT", "ENCODING", "t"]), "hashtable");
  assert.deepEqual(members(server.dispatch(["SMEMBERS", "t"])).sort(), ["\0", "1", "2"]);
});

test("random intset operations agree with a sorted model", () => {
  const next = prng(11);
  const s = new SetValue(true);
  const model = new Set<bigint>();
  const pick = (): string => {
    const r = next();
    const scale = r < 0.3 ? 40_000 : r < 0.6 ? 5e9 : r < 0.8 ? 2 ** 53 : 2 ** 63;
    const v = BigInt(Math.floor((next() * 2 - 1) * scale));
    return BigInt.asIntN(64, v).toString();
  };
  for (let step = 0; step < 3_000; step++) {
    const m = pick();
    if (next() < 0.65) {
      assert.equal(s.add(m, 10_000), !model.has(BigInt(m)));
      model.add(BigInt(m));
    } else {
      assert.equal(s.remove(m), model.delete(BigInt(m)));
    }
    assert.equal(s.has(m), model.has(BigInt(m)));
  }
  assert.equal(s.encoding(), "intset");
  const want = [...model].sort((a, b) => (a < b ? -1 : 1)).map(String);
  assert.deepEqual(s.members(), want);
  assert.equal(s.size, want.length);
  for (let i = 0; i < want.length; i += 17) assert.equal(s.at(i), want[i]);
});

/** The compact values every round trip below carries. */
function fill(server: Server): void {
  const pairs: string[] = [];
  BINARY.forEach((f, i) => pairs.push(`f${f}`.slice(0, 64), `v${i}`));
  server.dispatch(["HSET", "hash", ...pairs]);
  server.dispatch(["SADD", "i16", "1", "-2", "32767"]);
  server.dispatch(["SADD", "i32", "1", "-70000", "2147483647"]);
  server.dispatch(["SADD", "i64", ...EDGES]);
}

function check(server: Server, origin: string): void {
  const source = createServer();
  fill(source);
  for (const key of ["hash", "i16", "i32", "i64"]) {
    const enc = server.dispatch(["OBJECT", "ENCODING", key]);
    assert.equal(enc, key === "hash" ? "listpack" : "intset", `${key} after ${origin}`);
  }
  assert.deepEqual(hgetall(server, "hash"), hgetall(source, "hash"));
  for (const key of ["i16", "i32", "i64"]) {
    assert.deepEqual(
      members(server.dispatch(["SMEMBERS", key])),
      members(source.dispatch(["SMEMBERS", key])),
      `${key} after ${origin}`,
    );
  }
}

test("compact hashes and intsets survive DUMP and RESTORE with their encoding", () => {
  const source = createServer();
  fill(source);
  const target = createServer();
  for (const key of ["hash", "i16", "i32", "i64"]) {
    const payload = source.dispatch(["DUMP", key]) as string;
    assert.equal(text(target.dispatch(["RESTORE", key, "0", payload])), "OK");
    assert.equal(target.dispatch(["DUMP", key]), payload, `${key} dumps the same bytes again`);
  }
  check(target, "RESTORE");
});

test("compact hashes and intsets survive SAVE and a restart with their encoding", () => {
  const dir = tempDir();
  const { server } = serverIn(dir);
  fill(server);
  assert.equal(text(server.dispatch(["SAVE"])), "OK");
  const { server: loaded } = serverIn(dir);
  rdbOf(loaded).loadOnStart();
  check(loaded, "SAVE and load");
});

test("MEMORY USAGE of compact values follows their packed size", () => {
  const server = createServer();
  server.dispatch(["HSET", "h", "f", "v"]);
  const small = server.dispatch(["MEMORY", "USAGE", "h"]) as number;
  for (let i = 0; i < 100; i++) server.dispatch(["HSET", "h", `field:${i}`, "12345678"]);
  const big = server.dispatch(["MEMORY", "USAGE", "h"]) as number;
  // About 18 bytes per field and value (two one-char headers, 16 bytes), not per-object costs.
  assert.ok(big - small >= 100 * 16 && big - small <= 100 * 24, `${small} -> ${big}`);
  server.dispatch(["SADD", "s", ...Array.from({ length: 100 }, (_, i) => String(100_000 + i))]);
  const ints = server.dispatch(["MEMORY", "USAGE", "s"]) as number;
  server.dispatch(["SADD", "s2", "1"]);
  const one = server.dispatch(["MEMORY", "USAGE", "s2"]) as number;
  assert.ok(ints - one >= 98 * 4 && ints - one <= 100 * 4 + 16, `${one} -> ${ints}`);
});

test("random list operations on packed chunks agree with an array", () => {
  const next = prng(13);
  const list = new ListValue();
  const model: string[] = [];
  const values = ["", "\0", "\xff\0", "a", "x".repeat(200), "y".repeat(9000), "z".repeat(40)];
  const pick = (): string =>
    values[Math.floor(next() * values.length)]! + (next() < 0.5 ? "" : "1");
  for (let step = 0; step < 4_000; step++) {
    const op = Math.floor(next() * 10);
    const v = pick();
    const i = model.length === 0 ? 0 : Math.floor(next() * model.length);
    if (op <= 1) {
      list.pushBack(v);
      model.push(v);
    } else if (op <= 3) {
      list.pushFront(v);
      model.unshift(v);
    } else if (op === 4 && model.length > 0) {
      assert.equal(list.popBack(), model.pop());
    } else if (op === 5 && model.length > 0) {
      assert.equal(list.popFront(), model.shift());
    } else if (op === 6 && model.length > 0) {
      assert.equal(list.set(i, v), true);
      model[i] = v;
    } else if (op === 7 && model.length > 0) {
      const pivot = model[i]!;
      assert.equal(list.insert(pivot, v, next() < 0.5), true);
      const at = model.indexOf(pivot);
      if (list.get(at) === v) model.splice(at, 0, v);
      else model.splice(at + 1, 0, v);
    } else if (op === 8) {
      const count = Math.floor(next() * 5) - 2;
      let removed = 0;
      const limit = count === 0 ? Infinity : Math.abs(count);
      const order = count < 0 ? [...model.keys()].reverse() : [...model.keys()];
      const drop = new Set<number>();
      for (const k of order) if (model[k] === v && removed < limit && ++removed) drop.add(k);
      assert.equal(list.remove(v, count), removed);
      const kept = model.filter((_, k) => !drop.has(k));
      model.length = 0;
      model.push(...kept);
    } else if (model.length > 0) {
      assert.equal(list.get(i), model[i]);
      assert.equal(list.get(-1 - i), model[model.length - 1 - i]);
    }
    assert.equal(list.length, model.length);
  }
  assert.deepEqual(list.toArray(), model);
  assert.deepEqual(list.clone().toArray(), model);
  if (model.length > 10) {
    assert.deepEqual(list.range(3, model.length - 4), model.slice(3, model.length - 3));
    list.trimFront(2);
    list.trimBack(3);
    assert.deepEqual(list.toArray(), model.slice(2, model.length - 3));
  }
});

test("lists of binary elements survive LINSERT, LSET, LREM, LTRIM and a DUMP/RESTORE", () => {
  const server = createServer();
  const elems = Array.from({ length: 300 }, (_, i) => BINARY[i % BINARY.length] + String(i));
  server.dispatch(["RPUSH", "l", ...elems]);
  assert.equal(server.dispatch(["OBJECT", "ENCODING", "l"]), "quicklist");
  assert.equal(server.dispatch(["LINSERT", "l", "BEFORE", elems[150]!, "\0new"]), 301);
  assert.equal(server.dispatch(["LINDEX", "l", "150"]), "\0new");
  assert.equal(text(server.dispatch(["LSET", "l", "-1", "\xff".repeat(300)])), "OK");
  assert.deepEqual(server.dispatch(["LPOS", "l", "\0new"]), 150);
  const removed = server.dispatch(["LREM", "l", "0", elems[0]!]) as number;
  assert.ok(removed > 0);
  assert.equal(text(server.dispatch(["LTRIM", "l", "1", "-2"])), "OK");
  const before = server.dispatch(["LRANGE", "l", "0", "-1"]);
  const target = createServer();
  target.dispatch(["RESTORE", "l", "0", server.dispatch(["DUMP", "l"]) as string]);
  assert.deepEqual(target.dispatch(["LRANGE", "l", "0", "-1"]), before);
});

/** Scores at the edges of each packed form: small, int32 edges, past them, fractions, infinities. */
const SCORES = [0, -0, 1, -1, 127, 128, -129, 65535, 2147483647, -2147483648, 2147483648];
SCORES.push(-2147483649, 0.5, -1e-300, 1e300, Infinity, -Infinity, 2 ** 53);

test("random operations on a packed sorted set index agree with a sorted array", () => {
  const next = prng(17);
  const p = new PackedOrder();
  let model: { score: number; member: string }[] = [];
  const sortModel = (): void => {
    model.sort((a, b) =>
      a.score - b.score || (a.member < b.member ? -1 : a.member > b.member ? 1 : 0)
    );
  };
  const names = ["", "\0", "a", "\xff", "m".repeat(13), "n".repeat(300)];
  for (let step = 0; step < 3_000; step++) {
    const member = names[Math.floor(next() * names.length)]! + String(Math.floor(next() * 30));
    const score = SCORES[Math.floor(next() * SCORES.length)]! || 0;
    const at = model.findIndex((e) => e.member === member);
    if (next() < 0.6) {
      if (at >= 0) {
        p.updateScore(model[at]!.score, member, score);
        model[at]!.score = score;
      } else {
        p.insert(score, member);
        model.push({ score, member });
      }
      sortModel();
    } else if (at >= 0) {
      assert.equal(p.delete(model[at]!.score, member), true);
      model.splice(at, 1);
    }
    assert.equal(p.length, model.length);
    const i = model.findIndex((e) => e.member === member);
    assert.equal(p.scoreOf(member), i < 0 ? undefined : model[i]!.score);
    assert.equal(p.rankOf(i < 0 ? 0 : model[i]!.score, member), i + 1);
  }
  const forward: unknown[] = [];
  for (const c = p.first(); c.valid; c.next()) forward.push({ score: c.score, member: c.member });
  assert.deepEqual(forward, model);
  const backward: unknown[] = [];
  for (const c = p.last(); c.valid; c.prev()) backward.push({ score: c.score, member: c.member });
  assert.deepEqual(backward, [...model].reverse());
  for (let r = 1; r <= model.length; r += 3) assert.equal(p.at(r).member, model[r - 1]!.member);
  assert.equal(p.countBefore((s) => s < 1), model.filter((e) => e.score < 1).length);
  const removed: string[] = [];
  const n = model.length;
  p.deleteRangeByRank(2, n - 1, (m) => removed.push(m));
  assert.deepEqual(removed, model.slice(1, n - 1).map((e) => e.member));
  model = [model[0]!, model[n - 1]!];
  const tree = p.toTree();
  assert.equal(tree.length, 2);
  assert.equal(tree.first().member, model[0]!.member);
});

test("a listpack sorted set keeps its encoding up to the limits and answers every read", () => {
  const server = createServer();
  const args: string[] = [];
  const member = (i: number): string => BINARY[i % BINARY.length]!.slice(0, 60) + i;
  SCORES.forEach((s, i) => args.push(String(s), member(i)));
  server.dispatch(["ZADD", "z", ...args]);
  assert.equal(server.dispatch(["OBJECT", "ENCODING", "z"]), "listpack");
  const reference = createServer({ config: { "zset-max-listpack-entries": 0 } });
  reference.dispatch(["ZADD", "z", ...args]);
  assert.equal(reference.dispatch(["OBJECT", "ENCODING", "z"]), "skiplist");
  const reads = [
    ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
    ["ZREVRANGE", "z", "0", "-1", "WITHSCORES"],
    ["ZRANGEBYSCORE", "z", "(0", "+inf"],
    ["ZREVRANGEBYSCORE", "z", "1e301", "-1", "LIMIT", "1", "3"],
    ["ZRANK", "z", member(3)],
    ["ZREVRANK", "z", member(3)],
    ["ZSCORE", "z", member(13)],
    ["ZMSCORE", "z", member(6), member(14), "none"],
    ["ZCOUNT", "z", "-1", "1"],
    ["ZINCRBY", "z", "2.5", member(1)],
    ["ZRANGEBYLEX", "z", "-", "+"],
    ["ZREMRANGEBYRANK", "z", "1", "2"],
    ["ZPOPMAX", "z"],
    ["ZPOPMIN", "z"],
    ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
  ];
  // A listpack is scanned whole, in order, as Redis scans its compact encodings.
  const scan = server.dispatch(["ZSCAN", "z", "0"]) as [string, string[]];
  assert.equal(scan[0], "0");
  assert.equal(scan[1].length, SCORES.length * 2);
  for (const argv of reads) {
    assert.deepEqual(server.dispatch(argv), reference.dispatch(argv), argv.join(" "));
  }
  const source = createServer();
  source.dispatch(["ZADD", "z", ...args]);
  const target = createServer();
  target.dispatch(["RESTORE", "z", "0", source.dispatch(["DUMP", "z"]) as string]);
  assert.equal(target.dispatch(["OBJECT", "ENCODING", "z"]), "listpack");
  assert.deepEqual(
    target.dispatch(["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
    source.dispatch(["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
  );
  const dir = tempDir();
  const { server: saving } = serverIn(dir);
  saving.dispatch(["ZADD", "z", ...args]);
  assert.equal(text(saving.dispatch(["SAVE"])), "OK");
  const { server: loaded } = serverIn(dir);
  rdbOf(loaded).loadOnStart();
  assert.equal(loaded.dispatch(["OBJECT", "ENCODING", "z"]), "listpack");
  assert.deepEqual(
    loaded.dispatch(["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
    source.dispatch(["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
  );
});

test("a sorted set converts at zset-max-listpack-entries and -value", () => {
  const server = createServer();
  for (let i = 0; i < 128; i++) server.dispatch(["ZADD", "z", String(i), `m${i}`]);
  assert.equal(server.dispatch(["OBJECT", "ENCODING", "z"]), "listpack");
  server.dispatch(["ZADD", "z", "1", "m128"]);
  assert.equal(server.dispatch(["OBJECT", "ENCODING", "z"]), "skiplist");
  assert.equal(server.dispatch(["ZRANK", "z", "m128"]), 2);
  server.dispatch(["ZADD", "v", "1", "x".repeat(64)]);
  assert.equal(server.dispatch(["OBJECT", "ENCODING", "v"]), "listpack");
  server.dispatch(["ZADD", "v", "2", "x".repeat(65)]);
  assert.equal(server.dispatch(["OBJECT", "ENCODING", "v"]), "skiplist");
  assert.equal(server.dispatch(["ZRANK", "v", "x".repeat(64)]), 0);
});

test("small string sets are packed yet answer as Redis 7.0's hashtable, up to 128 members of 64 bytes", () => {
  const server = createServer();
  server.dispatch(["SADD", "s", "1", "2"]);
  server.dispatch(["SADD", "s", ...BINARY.map((m) => m.slice(0, 64))]);
  assert.equal(server.dispatch(["OBJECT", "ENCODING", "s"]), "hashtable");
  assert.equal(server.dispatch(["SCARD", "s"]), BINARY.length + 2);
  for (const m of [...BINARY, "1", "2"]) assert.equal(server.dispatch(["SISMEMBER", "s", m]), 1);
  assert.equal(server.dispatch(["SISMEMBER", "s", "\0\0"]), 0);
  assert.equal(server.dispatch(["SADD", "s", "\0", ""]), 0, "duplicates are not added");
  assert.equal(server.dispatch(["SREM", "s", "\0", "missing"]), 1);
  const all = members(server.dispatch(["SMEMBERS", "s"]));
  assert.equal(all.length, BINARY.length + 1);
  const scan = server.dispatch(["SSCAN", "s", "0", "COUNT", "2"]) as [string, string[]];
  assert.equal(scan[0], "0");
  assert.deepEqual(scan[1].sort(), [...all].sort());
  server.dispatch(["SUNIONSTORE", "u", "s", "s"]);
  assert.deepEqual(members(server.dispatch(["SMEMBERS", "u"])).sort(), [...all].sort());
  assert.deepEqual(members(server.dispatch(["SINTER", "s", "u"])).sort(), [...all].sort());
  const popped = members(server.dispatch(["SPOP", "u", "3"]));
  assert.equal(popped.length, 3);
  for (const m of popped) assert.equal(server.dispatch(["SISMEMBER", "u", m]), 0);
  const dumped = createServer();
  dumped.dispatch(["RESTORE", "s", "0", server.dispatch(["DUMP", "s"]) as string]);
  assert.deepEqual(members(dumped.dispatch(["SMEMBERS", "s"])).sort(), [...all].sort());
  // Past the packed limits the set becomes a table; nothing visible changes.
  for (let i = 0; i < 200; i++) server.dispatch(["SADD", "s", `member:${i}`]);
  server.dispatch(["SADD", "s", "x".repeat(65)]);
  assert.equal(server.dispatch(["SCARD", "s"]), BINARY.length + 202);
  assert.equal(server.dispatch(["SISMEMBER", "s", "member:0"]), 1);
  assert.equal(server.dispatch(["SISMEMBER", "s", "x".repeat(65)]), 1);
});

test("random string set operations agree with a Set across the packed limit", () => {
  const next = prng(23);
  const s = new SetValue(false);
  const model = new Set<string>();
  for (let step = 0; step < 2_000; step++) {
    const m = BINARY[Math.floor(next() * BINARY.length)]!.slice(0, 40) +
      String(Math.floor(next() * 150));
    if (next() < 0.6) {
      assert.equal(s.add(m), !model.has(m));
      model.add(m);
    } else assert.equal(s.remove(m), model.delete(m));
    assert.equal(s.size, model.size);
    assert.equal(s.has(m), model.has(m));
  }
  assert.deepEqual(s.members().sort(), [...model].sort());
  const byIndex: string[] = [];
  for (let i = 0; i < s.size; i++) byIndex.push(s.at(i));
  assert.deepEqual(byIndex.sort(), [...model].sort());
});
