/**
 * RDB files: redeno's dumps checked by redis-check-rdb and loaded by a real redis-server, Redis's
 * dumps loaded by redeno (every type and encoding, TTLs, functions, LFU/LRU opcodes), expired
 * keys at load, rdbcompression and rdbchecksum, and files that must be refused (corrupt,
 * truncated, too new) by the loader and by the command line. Interop tests skip themselves when
 * redis-server is not installed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ManualClock } from "../mod.ts";
import { rdbBaseCodec, rdbOf } from "../core/persistence/rdb_file.ts";
import { RdbLoadError } from "../core/persistence/rdb_load.ts";
import { RawConn } from "./helpers.ts";
import { as7015, pipeline, prng, sortedReply, startRedis } from "./redis_compare.ts";
import { serverIn, tempDir, text } from "./rdb_helpers.ts";
import { missing } from "./redis_tools.ts";

const skip = missing("redis-server", "redis-check-rdb");
const FAR = "4102444800000"; // 2100-01-01, in ms: TTLs that stay put during the test

/** Every type in its compact and big encodings, TTLs, binary keys, several databases. */
function dataset(): string[][] {
  const rnd = prng(6);
  const bytes = (n: number) =>
    Array.from({ length: n }, () => String.fromCharCode(Math.floor(rnd() * 256))).join("");
  const range = (n: number, f: (i: number) => string[]) =>
    Array.from({ length: n }, (_, i) => f(i)).flat();
  return [
    ["SET", "s:short", "hello"],
    ["SET", "s:int", "12345"],
    ["SET", "s:neg", "-7"],
    ["SET", "s:int32", "2147483647"],
    ["SET", "s:big", "12345678901234567"],
    ["SET", "s:empty", ""],
    ["SET", "s:lzf", "x".repeat(300) + "y".repeat(50)],
    ["SET", "s:rand", bytes(500)],
    ["SET", "\x00bin\xffkey", "\x00\xff\r\n"],
    ["SET", "9999", "a key that is an integer"],
    ["RPUSH", "l:small", "a", "b", "1", "-2"],
    ["RPUSH", "l:big", ...range(3000, (i) => [`item-${i}`])],
    ["RPUSH", "l:fat", "y".repeat(10000), "z", "y".repeat(9000)],
    ["RPUSH", "l:ints", ...range(300, (i) => [String(i * 1000)])],
    ["HSET", "h:small", "f1", "v1", "f2", "2"],
    ["HSET", "h:big", ...range(300, (i) => [`f${i}`, `v${i}`])],
    ["HSET", "h:long", "f", "z".repeat(100)],
    ["SADD", "set:int", "1", "2", "3", "-5", "1000000", "9223372036854775807"],
    ["SADD", "set:str", "a", "b", "c"],
    ["SADD", "set:bigint", ...range(600, (i) => [String(i)])],
    ["SADD", "set:big", ...range(300, (i) => [`m${i}`])],
    ["ZADD", "z:small", "1", "a", "2.5", "b", "-3", "c", "inf", "d", "-inf", "e"],
    ["ZADD", "z:big", ...range(300, (i) => [String(i * 0.37 - 20), `m:${i}`])],
    ["ZADD", "z:long", "1", "w".repeat(100)],
    ["PEXPIREAT", "s:short", FAR],
    ["PEXPIREAT", "l:big", FAR],
    ["PEXPIREAT", "h:small", "4102444801234"],
    ["SELECT", "1"],
    ["SET", "one", "1"],
    ["HSET", "h", "a", "1"],
    ["PEXPIREAT", "h", FAR],
    ["SELECT", "5"],
    ["ZADD", "z", "1", "x"],
    ["SET", "t", "v"],
    ["PEXPIREAT", "t", "4102444809999"],
    ["SELECT", "0"],
  ];
}

/** The bulk strings of a RESP array reply. */
function bulks(raw: string): string[] {
  const out: string[] = [];
  let p = raw.indexOf("\r\n") + 2;
  while (p < raw.length) {
    const eol = raw.indexOf("\r\n", p);
    const len = Number(raw.slice(p + 1, eol));
    out.push(raw.slice(eol + 2, eol + 2 + len));
    p = eol + 4 + len;
  }
  return out;
}

/** Type, encoding, contents and absolute TTL of every key of databases 0, 1 and 5. */
async function contents(port: number): Promise<Map<string, string>> {
  const c = await RawConn.connect(port);
  await pipeline(c, [["HELLO", "3"]]);
  const out = new Map<string, string>();
  for (const db of ["0", "1", "5"]) {
    const [, keys] = await pipeline(c, [["SELECT", db], ["KEYS", "*"]]);
    for (const key of bulks(keys!)) {
      const [type, enc, ttl] = await pipeline(c, [
        ["TYPE", key],
        ["OBJECT", "ENCODING", key],
        ["PEXPIRETIME", key],
      ]);
      const read: Record<string, string[]> = {
        "+string\r\n": ["GET", key],
        "+list\r\n": ["LRANGE", key, "0", "-1"],
        "+hash\r\n": ["HGETALL", key],
        "+set\r\n": ["SMEMBERS", key],
        "+zset\r\n": ["ZRANGE", key, "0", "-1", "WITHSCORES"],
      };
      const [value] = await pipeline(c, [read[type!]!]);
      const sorted = enc!.includes("hashtable") ? sortedReply(value!) : value;
      out.set(`${db}:${key}`, `${type}${enc}${ttl}${sorted}`);
    }
  }
  c.close();
  return out;
}

test("SAVE writes a dump redis-check-rdb accepts and redis-server loads identically", {
  skip,
}, async () => {
  const dir = tempDir();
  // Reporting (and so answering as) the 7.0.15 it is compared with: doubles in 7.0's format.
  const { server } = serverIn(dir, as7015());
  const session = server.session();
  for (const argv of dataset()) session.call(...argv);
  session.call(
    "FUNCTION",
    "LOAD",
    "#!lua name=lib\nredis.register_function('f', function() return 1 end)",
  );
  assert.equal(text(server.dispatch(["SAVE"])), "OK");
  const check = spawnSync("redis-check-rdb", [join(dir, "dump.rdb")], { encoding: "latin1" });
  assert.match(check.stdout, /RDB looks OK/, check.stdout);
  assert.match(check.stdout, /Checksum OK/);
  const { port } = await server.listen({ port: 0, hostname: "127.0.0.1" });
  const redis = await startRedis(["--dir", dir, "--dbfilename", "dump.rdb"]);
  try {
    const ours = await contents(port);
    const theirs = await contents(redis.port);
    assert.equal(ours.size, 28);
    assert.deepEqual([...theirs.keys()].sort(), [...ours.keys()].sort());
    for (const [key, value] of ours) assert.equal(theirs.get(key), value, key);
    const c = await RawConn.connect(redis.port);
    const [fn] = await pipeline(c, [["FCALL", "f", "0"]]);
    assert.equal(fn, ":1\r\n", "the function library was saved");
    c.close();
  } finally {
    redis.stop();
    await server.close();
    rmSync(dir, { recursive: true });
  }
});

test("redeno loads a dump from redis-server SAVE: every type and encoding, TTLs, functions", {
  skip,
}, async () => {
  const dir = tempDir();
  const redis = await startRedis(["--dir", dir, "--dbfilename", "dump.rdb"]);
  const { server, lines } = serverIn(
    dir,
    as7015({ clock: new ManualClock(Date.now() + 7200_000) }),
  );
  try {
    const c = await RawConn.connect(redis.port);
    await pipeline(c, dataset());
    const soon = String(Date.now() + 3600_000);
    await pipeline(c, [
      ["SELECT", "1"],
      ["SET", "gone", "expired when redeno loads (its clock is 2 hours ahead)"],
      ["PEXPIREAT", "gone", soon],
      [
        "FUNCTION",
        "LOAD",
        "#!lua name=mylib\nredis.register_function('myfunc', function() return 'x' end)",
      ],
      ["SAVE"],
    ]);
    c.close();
    assert.equal(rdbOf(server).loadOnStart(), true);
    assert.ok(lines.some((l) => l.includes("Loading RDB produced by version 7.0.15")));
    assert.ok(lines.some((l) => /Done loading RDB, keys loaded: \d+, keys expired: 1\./.test(l)));
    assert.ok(lines.some((l) => /DB loaded from disk: [\d.]+ seconds/.test(l)));
    const { port } = await server.listen({ port: 0, hostname: "127.0.0.1" });
    const ours = await contents(port);
    // Redis's own clock has not reached "gone"'s TTL: leave it out of the comparison.
    const theirs = await contents(redis.port);
    theirs.delete("1:gone");
    assert.deepEqual([...ours.keys()].sort(), [...theirs.keys()].sort());
    for (const [key, value] of theirs) assert.equal(ours.get(key), value, key);
    assert.equal(server.dispatch(["FCALL", "myfunc", "0"]), "x");
    const info = text(server.dispatch(["INFO", "persistence"]));
    assert.match(info, /rdb_last_load_keys_expired:1\r\n/);
    assert.match(info, new RegExp(`rdb_last_load_keys_loaded:${ours.size}\r\n`));
  } finally {
    redis.stop();
    await server.close();
    rmSync(dir, { recursive: true });
  }
});

test("LFU counters and LRU idle times cross between Redis and redeno", { skip }, async () => {
  const dir = tempDir();
  const redis = await startRedis([
    "--dir",
    dir,
    "--maxmemory-policy",
    "allkeys-lfu",
    "--lfu-log-factor",
    "0",
  ]);
  try {
    const c = await RawConn.connect(redis.port);
    await pipeline(c, [["SET", "hot", "v"], ...Array(20).fill(["GET", "hot"]), ["SAVE"]]);
    const [freq] = await pipeline(c, [["OBJECT", "FREQ", "hot"]]);
    c.close();
    const { server } = serverIn(dir, { config: { "maxmemory-policy": "allkeys-lfu" } });
    rdbOf(server).loadOnStart();
    assert.equal(`:${server.dispatch(["OBJECT", "FREQ", "hot"])}\r\n`, freq);
    // And back, as IDLE under an LRU policy: redis-server reads the opcode it expects.
    server.config.set("maxmemory-policy", "allkeys-lru");
    assert.equal(text(server.dispatch(["SAVE"])), "OK");
    const check = spawnSync("redis-check-rdb", [join(dir, "dump.rdb")], { encoding: "latin1" });
    assert.match(check.stdout, /RDB looks OK/);
  } finally {
    redis.stop();
    rmSync(dir, { recursive: true });
  }
});

test("keys expired at load time are dropped and counted, but kept in an AOF base", () => {
  const dir = tempDir();
  const clock = new ManualClock(1_700_000_000_000);
  const { server } = serverIn(dir, { clock });
  server.dispatch(["SET", "short", "v", "PX", "1000"]);
  server.dispatch(["SET", "long", "v", "PX", "100000"]);
  clock.advance(5000);
  server.dispatch(["SAVE"]);
  const later = serverIn(dir, { clock }).server;
  rdbOf(later).loadOnStart();
  assert.equal(later.dbs[0]!.size, 1);
  assert.match(text(later.dispatch(["INFO", "persistence"])), /rdb_last_load_keys_expired:1\r\n/);
  const base = serverIn(dir, { clock }).server;
  const bytes = rdbBaseCodec.load(base, join(dir, "dump.rdb"));
  assert.equal(bytes, statSync(join(dir, "dump.rdb")).size);
  assert.equal(base.dbs[0]!.dict.size, 2, "an AOF base keeps every key");
  rmSync(dir, { recursive: true });
});

test("rdbcompression and rdbchecksum: bigger files, and a zero checksum loads with a warning", {
  skip,
}, async () => {
  const dir = tempDir();
  const { server } = serverIn(dir, { config: { rdbcompression: "no", rdbchecksum: "no" } });
  server.dispatch(["SET", "k", "a".repeat(1000)]);
  server.dispatch(["SAVE"]);
  const file = readFileSync(join(dir, "dump.rdb"));
  assert.ok(file.length > 1000, "stored raw");
  assert.deepEqual([...file.subarray(file.length - 8)], [0, 0, 0, 0, 0, 0, 0, 0]);
  const { server: check, lines } = serverIn(dir);
  rdbOf(check).loadOnStart();
  assert.equal(check.dispatch(["STRLEN", "k"]), 1000);
  assert.ok(lines.some((l) => l.includes("RDB file was saved with checksum disabled")));
  const redis = await startRedis(["--dir", dir]);
  const c = await RawConn.connect(redis.port);
  assert.deepEqual(await pipeline(c, [["STRLEN", "k"]]), [":1000\r\n"]);
  c.close();
  redis.stop();
  server.config.set("rdbcompression", "yes");
  server.dispatch(["SAVE"]);
  assert.ok(statSync(join(dir, "dump.rdb")).size < 150, "LZF");
  rmSync(dir, { recursive: true });
});

test("corrupt, truncated and too new files are refused with Redis's log lines", () => {
  const dir = tempDir();
  const path = join(dir, "dump.rdb");
  const { server } = serverIn(dir);
  for (let i = 0; i < 100; i++) server.dispatch(["SET", `k${i}`, `value-${i}`]);
  server.dispatch(["SAVE"]);
  const good = readFileSync(path);
  const at = good.indexOf("value-50"); // inside a value: only the checksum can tell
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ["checksum", good.map((b, i) => (i === at ? b ^ 1 : b)), /Wrong RDB checksum expected/],
    ["truncated", good.subarray(0, 700), /Short read or OOM loading DB/],
    // 13: past Redis 7.4's 12, the newest redeno reads.
    ["version", Uint8Array.from(good.map((b, i) => (i === 8 ? 0x33 : b))), /RDB format version 13/],
    ["signature", Uint8Array.from(good.map((b, i) => (i === 0 ? 0x58 : b))), /Wrong signature/],
  ];
  for (const [what, bytes, line] of cases) {
    writeFileSync(path, bytes);
    const { server: s, lines } = serverIn(dir);
    assert.throws(() => rdbOf(s).loadOnStart(), RdbLoadError, what);
    assert.ok(lines.some((l) => line.test(l)), `${what}: ${lines.join("\n")}`);
  }
  rmSync(dir, { recursive: true });
});

test("the command line loads the dump at start and refuses to start on a corrupt one", () => {
  const dir = tempDir();
  const { server } = serverIn(dir);
  server.dispatch(["SET", "k", "v"]);
  server.dispatch(["SAVE"]);
  const path = join(dir, "dump.rdb");
  writeFileSync(path, readFileSync(path).subarray(0, 30));
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  const proc = (globalThis as unknown as { process: { execPath: string } }).process;
  const cmd = deno ? [deno.execPath(), "run", "-A"] : [proc.execPath, "--import", "tsx"];
  const root = new URL("..", import.meta.url).pathname;
  const r = spawnSync(cmd[0]!, [...cmd.slice(1), "main.ts", "--port", "0", "--dir", dir], {
    cwd: root,
    encoding: "utf8",
    timeout: 30000,
  });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /Short read or OOM loading DB/);
  assert.doesNotMatch(r.stdout, /Ready to accept connections/);
  rmSync(dir, { recursive: true });
});
