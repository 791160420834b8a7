/**
 * maxmemory: each eviction policy evicts what Redis's would, `noeviction` refuses with Redis's
 * text, MULTI and scripts get OOM as Redis decides, evictions reach a stock replica and the AOF,
 * and `used_memory` follows the dataset.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { createServer, ErrorReply, ManualClock, type Server, type VerbatimReply } from "../mod.ts";
import { startTestServer } from "../testing.ts";
import { replication } from "../replication/mod.ts";
import { missing } from "./redis_tools.ts";
import { RawConn } from "./helpers.ts";
import { field, fieldNames, remoteInfo, stockRedis, waitFor } from "./replication_helpers.ts";

const OOM = "OOM command not allowed when used memory > 'maxmemory'.";

function info(s: Server, section: string, name: string): number {
  const text = (s.dispatch(["INFO", section]) as VerbatimReply).text;
  const v = field(text, name);
  assert.ok(v !== undefined, `INFO ${section} has ${name}`);
  return Number(v);
}

function used(s: Server): number {
  return info(s, "memory", "used_memory");
}

/** Sets maxmemory to what is used now plus `headroom` bytes, under `policy`. */
function limitAt(s: Server, policy: string, headroom: number): number {
  const limit = used(s) + headroom;
  s.dispatch(["CONFIG", "SET", "maxmemory-policy", policy]);
  s.dispatch(["CONFIG", "SET", "maxmemory", String(limit)]);
  return limit;
}

function errorOf(r: unknown): string {
  assert.ok(r instanceof ErrorReply, `expected an error, got ${String(r)}`);
  return r.message;
}

test("used_memory follows the dataset and returns after deletes", () => {
  const s = createServer();
  const before = used(s);
  for (let i = 0; i < 1000; i++) s.dispatch(["SET", `key:${i}`, "v".repeat(100)]);
  const full = used(s);
  // 1000 keys of ~110 bytes of key and value, plus the entries: well over 100 KB.
  assert.ok(full - before > 150_000, `grew by ${full - before}`);
  s.dispatch(["HSET", "h", ...Array.from({ length: 400 }, (_, i) => `f${i}`)]);
  assert.ok(used(s) > full, "a hash filled in place counts");
  s.dispatch(["DEL", "h"]);
  for (let i = 0; i < 1000; i++) s.dispatch(["DEL", `key:${i}`]);
  assert.equal(used(s), before);
  const stats = s.dispatch(["MEMORY", "STATS"]) as { entries: unknown[] };
  const names = stats.entries.filter((_, i) => i % 2 === 0);
  for (
    const n of [
      "peak.allocated",
      "total.allocated",
      "startup.allocated",
      "keys.count",
      "dataset.bytes",
      "fragmentation",
    ]
  ) assert.ok(names.includes(n), `MEMORY STATS has ${n}`);
});

test("noeviction refuses writes with Redis's error; reads, DEL and MULTI rules as in Redis", async () => {
  await using t = await startTestServer();
  const c = new Redis({ port: t.port, host: "127.0.0.1", maxRetriesPerRequest: 0 });
  try {
    await c.set("x", "123");
    await c.config("SET", "maxmemory", "1");
    await assert.rejects(c.set("y", "1"), (e: Error) => e.message === OOM);
    await assert.rejects(c.lpush("l", "1"), (e: Error) => e.message === OOM);
    assert.equal(await c.get("x"), "123");
    // Inside MULTI (Redis 7.4) a write is refused and EXEC then aborts; reads run.
    await assert.rejects(c.multi().get("x").set("x", "1").exec(), /EXECABORT/);
    assert.deepEqual(await c.multi().get("x").ping().exec(), [[null, "123"], [null, "PONG"]]);
    // Scripts: the first write fails, reads go on, allow-oom and no-writes run.
    await assert.rejects(
      c.eval("return redis.call('set','x',1)", 0),
      (e: Error) => e.message.startsWith(`${OOM} script: `),
    );
    assert.equal(await c.eval("return redis.call('get','x')", 0), "123");
    await assert.rejects(c.eval("#!lua\nreturn 1", 0), (e: Error) => e.message === OOM);
    assert.equal(await c.eval("#!lua flags=no-writes\nreturn redis.call('get','x')", 0), "123");
    assert.equal(await c.eval("#!lua flags=allow-oom\nreturn redis.call('set','x',1)", 0), "OK");
    const pcall = await c.eval("local t = redis.pcall('set','x','y') return t['err']", 0);
    assert.equal(pcall, OOM);
    assert.equal(await c.del("x"), 1);
    await c.config("SET", "maxmemory", "0");
    assert.equal(await c.set("y", "1"), "OK");
  } finally {
    c.disconnect();
  }
});

test("EXEC is refused when its queue holds a write and memory ran out meanwhile", () => {
  const s = createServer();
  const a = s.session();
  a.call("MULTI");
  a.call("SET", "k", "v");
  s.dispatch(["CONFIG", "SET", "maxmemory", "1"]);
  assert.equal(errorOf(a.call("EXEC")), `EXECABORT Transaction discarded because of: ${OOM}`);
  a.call("MULTI");
  s.dispatch(["CONFIG", "SET", "maxmemory", "0"]);
  a.call("GET", "k");
  s.dispatch(["CONFIG", "SET", "maxmemory", "1"]);
  assert.deepEqual(a.call("EXEC"), [null], "a read-only queue still runs");
});

test("allkeys-lru keeps the recently used keys through a scan of cold keys", () => {
  const clock = new ManualClock(1_700_000_000_000);
  const s = createServer({ clock });
  for (let i = 0; i < 200; i++) s.dispatch(["SET", `hot:${i}`, "h".repeat(50)]);
  clock.advance(1000);
  for (let i = 0; i < 800; i++) s.dispatch(["SET", `cold:${i}`, "c".repeat(50)]);
  clock.advance(100_000);
  for (let i = 0; i < 200; i++) s.dispatch(["GET", `hot:${i}`]);
  clock.advance(1000);
  limitAt(s, "allkeys-lru", 0);
  // New keys push the old ones out: the cold ones have been idle for 100 s, the hot ones for 1.
  for (let i = 0; i < 400; i++) s.dispatch(["SET", `new:${i}`, "n".repeat(50)]);
  let hot = 0;
  for (let i = 0; i < 200; i++) hot += s.dispatch(["EXISTS", `hot:${i}`]) as number;
  assert.ok(info(s, "stats", "evicted_keys") >= 300);
  assert.ok(hot >= 190, `hot keys left: ${hot}/200`);
  assert.ok(used(s) <= s.config.num("maxmemory") + 1024);
});

test("allkeys-lfu keeps the frequently used keys", () => {
  const s = createServer({ config: { "maxmemory-policy": "allkeys-lfu", "lfu-log-factor": "0" } });
  for (let i = 0; i < 1000; i++) s.dispatch(["SET", `k:${i}`, "v".repeat(50)]);
  for (let n = 0; n < 20; n++) {
    for (let i = 0; i < 100; i++) s.dispatch(["GET", `k:${i}`]);
  }
  limitAt(s, "allkeys-lfu", 0);
  for (let i = 0; i < 500; i++) s.dispatch(["SET", `new:${i}`, "n".repeat(50)]);
  let frequent = 0;
  for (let i = 0; i < 100; i++) frequent += s.dispatch(["EXISTS", `k:${i}`]) as number;
  assert.ok(frequent >= 95, `frequent keys left: ${frequent}/100`);
});

test("allkeys-random holds the limit while keys keep coming", () => {
  const s = createServer();
  const limit = limitAt(s, "allkeys-random", 100 * 1024);
  for (let i = 0; i < 5000; i++) s.dispatch(["SET", `k:${i}`, "v".repeat(100)]);
  assert.ok(used(s) < limit + 4096, `${used(s)} against ${limit}`);
  assert.ok(info(s, "stats", "evicted_keys") > 0);
});

for (const policy of ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"]) {
  test(`${policy} evicts only keys with a TTL, then refuses writes`, () => {
    const s = createServer();
    for (let i = 0; i < 500; i++) {
      s.dispatch(["SET", `keep:${i}`, "v".repeat(50)]);
      s.dispatch(["SET", `vol:${i}`, "v".repeat(50), "EX", String(10_000 + i)]);
    }
    limitAt(s, policy, 0);
    for (let i = 0; i < 300; i++) s.dispatch(["SET", `new:${i}`, "v".repeat(50), "EX", "100000"]);
    for (let i = 0; i < 500; i++) assert.equal(s.dispatch(["EXISTS", `keep:${i}`]), 1);
    if (policy === "volatile-ttl") {
      // The nearest expiry goes first: the new keys (TTL 100000 s) outlive the old ones.
      let fresh = 0;
      for (let i = 0; i < 300; i++) fresh += s.dispatch(["EXISTS", `new:${i}`]) as number;
      assert.ok(fresh >= 250, `new keys left: ${fresh}/300`);
    }
    // No volatile key left to evict: a write that needs room is refused.
    for (let i = 0; i < 2000; i++) {
      const r = s.dispatch(["SET", `plain:${i}`, "v".repeat(50)]);
      if (r instanceof ErrorReply) {
        assert.equal(r.message, OOM);
        return;
      }
    }
    assert.fail("writes were never refused");
  });
}

test("evicted keys raise the evicted keyspace event", async () => {
  await using t = await startTestServer({ config: { "notify-keyspace-events": "Ee" } });
  const sub = new Redis({ port: t.port, host: "127.0.0.1" });
  const c = new Redis({ port: t.port, host: "127.0.0.1", maxRetriesPerRequest: 0 });
  try {
    const events: string[] = [];
    sub.on("message", (_ch: string, key: string) => events.push(key));
    await sub.subscribe("__keyevent@0__:evicted");
    for (let i = 0; i < 10; i++) await c.set(`k${i}`, "v");
    await c.config("SET", "maxmemory-policy", "allkeys-random");
    await c.config("SET", "maxmemory", "1");
    await waitFor(async () => (await c.dbsize()) === 0, "every key evicted");
    await waitFor(() => events.length === 10, "10 evicted events");
    assert.deepEqual(events.sort(), Array.from({ length: 10 }, (_, i) => `k${i}`).sort());
  } finally {
    sub.disconnect();
    c.disconnect();
  }
});

test("evictions reach a stock redis-server replica and the AOF as DEL", {
  skip: missing("redis-server"),
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "redeno-evict-"));
  const master = createServer({
    plugins: [replication()],
    config: { dir, appendonly: "yes", "appendfsync": "always" },
  });
  const { port } = await master.listen({ port: 0, hostname: "127.0.0.1" });
  const replica = await stockRedis();
  const m = new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: 0 });
  const r = new Redis({ port: replica.port, host: "127.0.0.1", maxRetriesPerRequest: 0 });
  try {
    for (let i = 0; i < 300; i++) await m.set(`k:${i}`, "v".repeat(100));
    await r.replicaof("127.0.0.1", port);
    await waitFor(async () => (await r.dbsize()) === 300, "the replica to sync");
    await m.config("SET", "maxmemory-policy", "allkeys-lru");
    const usedNow = Number(field(await remoteInfo(port, "memory"), "used_memory"));
    const limit = usedNow - 10_000;
    await m.config("SET", "maxmemory", String(limit));
    // Evictions go on from a timer until used memory fits: wait for the end of them.
    await waitFor(async () => {
      const info = await remoteInfo(port, "memory");
      return Number(field(info, "used_memory")) <= limit;
    }, "evictions to bring used_memory under the limit");
    await m.set("after", "1");
    // Lift the limit, so that no eviction (client buffers move used_memory) comes after counting.
    await m.config("SET", "maxmemory", "0");
    const evicted = Number(field(await remoteInfo(port, "stats"), "evicted_keys"));
    assert.ok(evicted > 0);
    const left = await m.dbsize();
    assert.equal(left, 301 - evicted);
    await waitFor(async () => (await r.dbsize()) === left, "the replica to apply the DELs");
    const aofDir = join(dir, "appendonlydir");
    const aof = readdirSync(aofDir).filter((f) => f.endsWith(".incr.aof"))
      .map((f) => readFileSync(join(aofDir, f), "latin1")).join("");
    const dels = aof.match(/\*2\r\n\$3\r\nDEL\r\n/g)?.length ?? 0;
    assert.equal(dels, evicted);
  } finally {
    m.disconnect();
    r.disconnect();
    await replica.stop();
    await master.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("INFO memory has Redis 7.0's fields in Redis's order", {
  skip: missing("redis-server"),
}, async () => {
  const redis = await stockRedis();
  try {
    const s = createServer();
    // Redis 7.4's field is compared with the 7.4.1 reference in info74_test.
    const ours = fieldNames((s.dispatch(["INFO", "memory"]) as VerbatimReply).text)
      .filter((n) => n !== "mem_overhead_db_hashtable_rehashing");
    const theirs = fieldNames(await remoteInfo(redis.port, "memory"));
    assert.deepEqual(ours, theirs);
  } finally {
    await redis.stop();
  }
});

test("lazyfreed_objects counts what Redis frees lazily", () => {
  const s = createServer();
  s.dispatch(["SADD", "big", ...Array.from({ length: 1000 }, (_, i) => `m${i}`)]);
  s.dispatch(["SET", "small", "v"]);
  s.dispatch(["UNLINK", "big", "small"]);
  assert.equal(info(s, "memory", "lazyfreed_objects"), 1);
  for (let i = 0; i < 5; i++) s.dispatch(["SET", `k${i}`, "v"]);
  s.dispatch(["FLUSHALL", "ASYNC"]);
  assert.equal(info(s, "memory", "lazyfreed_objects"), 6);
  assert.equal(info(s, "memory", "lazyfree_pending_objects"), 0);
});

test("maxmemory-clients disconnects the clients holding the most, never a no-evict one", async () => {
  await using t = await startTestServer({ config: { "maxmemory-clients": "1mb" } });
  const guarded = await RawConn.connect(t.port);
  guarded.command("CLIENT", "NO-EVICT", "on");
  await guarded.expect("+OK\r\n");
  const hogs: RawConn[] = [];
  try {
    for (const c of [guarded, ...[0, 1, 2].map(() => undefined)]) {
      const conn = c ?? await RawConn.connect(t.port);
      if (c === undefined) hogs.push(conn);
      // Most of a 400 KB argument: the server holds it in the query buffer, waiting for the rest.
      conn.send(`*2\r\n$3\r\nGET\r\n$400000\r\n${"x".repeat(300_000)}`);
    }
    await waitFor(() => hogs.filter((h) => h.closed).length >= 1, "a hog to be evicted");
    assert.equal(guarded.closed, false);
    assert.ok(info(t.server, "stats", "evicted_clients") >= 1);
    assert.ok(info(t.server, "memory", "mem_clients_normal") <= 1024 * 1024);
  } finally {
    guarded.close();
    for (const h of hogs) h.close();
  }
});
