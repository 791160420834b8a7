/**
 * String values kept as bytes (at least BYTES_MIN long, stored by SET and its family from the
 * request's bytes; core/types/big_string.ts) through everything that is not a plain reply:
 * persistence (RDB, AOF and its rewrite), a stock redis-server replica, DUMP/RESTORE, DEBUG
 * DIGEST-VALUE, MEMORY USAGE, WATCH, keyspace notifications, client tracking, and the buffer the
 * parser handed over staying the value's own while later big arguments arrive.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { rmSync } from "node:fs";
import { Redis } from "ioredis";
import { BigString, BYTES_MIN } from "../core/types/big_string.ts";
import { encodeCommand, RawConn, startServer } from "./helpers.ts";
import { tempDir } from "./rdb_helpers.ts";
import { rdbOf } from "../core/persistence/rdb_file.ts";
import { missing } from "./redis_tools.ts";
import { HOST, redeno, stockRedis, waitFor } from "./replication_helpers.ts";

/** `n` pseudo-random bytes from `seed`. */
function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** Asserts equal bytes without diffing megabytes on failure. */
function same(got: Buffer | null, want: Buffer, what = ""): void {
  assert.ok(got !== null && got.equals(want), `${what}: ${got?.length} bytes, want ${want.length}`);
}

const V1 = bytes(BYTES_MIN + 17, 1);
const V2 = bytes(1024 * 1024, 2);
const V3 = bytes(100 * 1024, 3);

test("a big SET is stored as bytes, and later big arguments do not touch it", async () => {
  const { server, port, close } = await startServer();
  const c = new Redis({ port, host: HOST });
  try {
    // Several big SETs in a row: each takes its own buffer; reused spares never alias a value.
    for (let i = 0; i < 6; i++) await c.set(`k${i}`, bytes(V3.length, 10 + i));
    await c.hset("h", "f", V3);
    await c.rpush("l", V2, V3);
    for (let i = 0; i < 6; i++) {
      same(await c.getBuffer(`k${i}`), bytes(V3.length, 10 + i));
    }
    assert.ok(server.dbs[0]!.peek("k0") instanceof BigString);
    assert.deepEqual(await c.hgetBuffer("h", "f"), V3);
    assert.deepEqual(await c.lrangeBuffer("l", 0, -1), [V2, V3]);
    // A pipeline: the GET's reply keeps the bytes it read, whatever follows.
    const res = await c.pipeline().set("p", V2).getBuffer("p").setrange("p", 0, "XY")
      .getBuffer("p").append("p", V1).exec();
    assert.deepEqual(res![1]![1], V2);
    const changed = Buffer.from(V2);
    changed.write("XY", 0, "latin1");
    assert.deepEqual(res![3]![1], changed);
    assert.equal(res![4]![1], V2.length + V1.length);
    // A SET replacing a big value recycles its buffer: a GET before it keeps its bytes, and
    // values stored after it are intact.
    await c.set("r", V2);
    const res2 = await c.pipeline().getBuffer("r").set("r", V3).set("r2", bytes(V2.length, 7))
      .set("r3", V1).getBuffer("r").exec();
    same(res2![0]![1] as Buffer, V2, "GET before SET");
    same(res2![4]![1] as Buffer, V3, "GET after SET");
    same(await c.getBuffer("r2"), bytes(V2.length, 7), "r2");
    same(await c.getBuffer("r3"), V1, "r3");
    for (let i = 0; i < 6; i++) same(await c.getBuffer(`k${i}`), bytes(V3.length, 10 + i));
  } finally {
    c.disconnect();
    await close();
  }
});

test("DUMP/RESTORE, DEBUG DIGEST-VALUE and MEMORY USAGE of a value kept as bytes", async () => {
  const { server, port, close } = await startServer({ config: { "enable-debug-command": "yes" } });
  const c = new Redis({ port, host: HOST });
  try {
    await c.set("b", V2);
    assert.ok(server.dbs[0]!.peek("b") instanceof BigString);
    // The same bytes as a string (a script's SET never makes bytes).
    await c.eval("redis.call('SET', KEYS[1], ARGV[1])", 1, "s", V2);
    assert.equal(typeof server.dbs[0]!.peek("s"), "string");
    const digests = await c.call("DEBUG", "DIGEST-VALUE", "b", "s") as string[];
    assert.equal(digests[0], digests[1]);
    const dump = await c.dumpBuffer("b");
    assert.deepEqual(dump, await c.dumpBuffer("s"));
    await c.restore("r", 0, dump);
    same(await c.getBuffer("r"), V2);
    // A payload of a big argument arrives as a string to RESTORE.
    const small = await c.dumpBuffer("b");
    await c.restore("r2", 0, small, "REPLACE");
    same(await c.getBuffer("r2"), V2);
    const usage = Number(await c.memory("USAGE", "b"));
    assert.ok(usage >= V2.length && usage < V2.length + 4096, `MEMORY USAGE ${usage}`);
    assert.equal(await c.object("ENCODING", "b"), "raw");
    assert.equal(await c.eval("return redis.call('GET', KEYS[1]) == ARGV[1]", 1, "b", V2), 1);
  } finally {
    c.disconnect();
    await close();
  }
});

test("WATCH, keyspace events and tracking see a SET of bytes", async () => {
  const { port, close } = await startServer({ config: { "notify-keyspace-events": "KA" } });
  const a = new Redis({ port, host: HOST });
  const b = new Redis({ port, host: HOST });
  const sub = new Redis({ port, host: HOST });
  const events: string[] = [];
  try {
    await sub.psubscribe("__keyspace@0__:*");
    sub.on("pmessage", (_p: string, ch: string, msg: string) => events.push(`${ch} ${msg}`));
    await a.watch("w");
    await b.set("w", V1);
    const r = await a.multi().get("w").exec();
    assert.equal(r, null);
    await b.append("w", V1);
    await b.setrange("w", 3, V1);
    await waitFor(() => events.length >= 3, "keyspace events");
    assert.deepEqual(events, [
      "__keyspace@0__:w set",
      "__keyspace@0__:w append",
      "__keyspace@0__:w setrange",
    ]);
    // Tracking (RESP3): a read of the key, then a big SET by another client invalidates it.
    const t = await RawConn.connect(port);
    try {
      t.send(
        ["HELLO 3", "CLIENT TRACKING on", "GET w"].map((l) => encodeCommand(l.split(" "))).join(""),
      );
      await waitFor(
        () => t.pending.includes(`$${V1.length * 2}\r\n`) && t.pending.endsWith("\r\n"),
        "read",
      );
      await b.set("w", V3);
      await waitFor(
        () => t.pending.includes(">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nw\r\n"),
        "invalidation",
      );
    } finally {
      t.close();
    }
  } finally {
    a.disconnect();
    b.disconnect();
    sub.disconnect();
    await close();
  }
});

test("SAVE, the AOF and its rewrite keep values kept as bytes", async () => {
  let dir = tempDir();
  const config = { dir, appendonly: "yes", "aof-use-rdb-preamble": "no" };
  const rewritten = async (c: Redis) =>
    await waitFor(async () => /aof_rewrite_in_progress:0/.test(await c.info("persistence")), "aof");
  try {
    let s = await startServer({ config });
    let c = new Redis({ port: s.port, host: HOST });
    await rewritten(c);
    await c.set("a", V1);
    await c.set("b", V2, "PX", 100000000);
    await c.append("a", V3);
    await c.setrange("b", 10, V1);
    await c.getset("g", V3);
    const want = Buffer.concat([V1, V3]);
    const wantB = Buffer.from(V2);
    V1.copy(wantB, 10);
    c.disconnect();
    await s.close();
    // The AOF as written command by command.
    s = await startServer({ config });
    c = new Redis({ port: s.port, host: HOST });
    same(await c.getBuffer("a"), want);
    same(await c.getBuffer("b"), wantB);
    same(await c.getBuffer("g"), V3);
    assert.ok((await c.pttl("b")) > 0);
    await rewritten(c);
    await c.bgrewriteaof();
    await rewritten(c);
    c.disconnect();
    await s.close();
    // The rewritten AOF (commands, no RDB preamble).
    s = await startServer({ config });
    c = new Redis({ port: s.port, host: HOST });
    same(await c.getBuffer("a"), want);
    same(await c.getBuffer("b"), wantB);
    same(await c.getBuffer("g"), V3);
    c.disconnect();
    await s.close();
    // The RDB (a directory of its own).
    rmSync(dir, { recursive: true, force: true });
    dir = tempDir();
    s = await startServer({ config: { dir } });
    c = new Redis({ port: s.port, host: HOST });
    await c.set("a", V1);
    await c.append("a", V3);
    await c.set("g", V3);
    await c.save();
    c.disconnect();
    await s.close();
    s = await startServer({ config: { dir } });
    assert.equal(rdbOf(s.server).loadOnStart(), true);
    c = new Redis({ port: s.port, host: HOST });
    same(await c.getBuffer("a"), want);
    same(await c.getBuffer("g"), V3);
    c.disconnect();
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a stock redis-server replica gets valid commands for values kept as bytes", {
  skip: missing("redis-server"),
}, async () => {
  const master = await redeno();
  const stock = await stockRedis();
  const m = new Redis({ port: master.port, host: HOST });
  const r = new Redis({ port: stock.port, host: HOST });
  try {
    await m.set("before", V3);
    await r.replicaof(HOST, String(master.port));
    await waitFor(async () => (await r.exists("before")) === 1, "full sync", 20000);
    await m.set("a", V1, "EX", 1000);
    await m.setex("x", 1000, V3);
    await m.append("a", V3);
    await m.setrange("a", 5, V1);
    await m.getset("g", V2);
    await m.set("last", "done");
    await waitFor(async () => (await r.get("last")) === "done", "stream", 20000);
    for (const k of ["before", "a", "x", "g"]) {
      same(await r.getBuffer(k), (await m.getBuffer(k))!, k);
    }
    assert.ok((await r.ttl("a")) > 0);
  } finally {
    m.disconnect();
    r.disconnect();
    await stock.stop();
    await master.s.close();
  }
});
