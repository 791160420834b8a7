/**
 * Strings past the JavaScript limit (core/types/big_string.ts) kept by persistence and
 * replication: SAVE and a restart, an AOF rewritten as a SET and APPENDs, redis-server loading
 * redeno's dump, replicas (redeno and a stock redis-server) fed by a full sync and by the
 * command stream, and a redeno replica of redis-server taking a whole 512 MB SET from the stream.
 *
 * Each test holds one 512 MB value at a time per server. They are skipped on machines with less
 * than 8 GB of memory; the slowest run only with REDENO_BIG_TESTS=all (see `slow` in
 * big_string_helpers.ts).
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { rdbOf } from "../core/persistence/rdb_file.ts";
import { startServer } from "./helpers.ts";
import { tempDir } from "./rdb_helpers.ts";
import { installed, missing } from "./redis_tools.ts";
import { startRedis } from "./redis_compare.ts";
import { HOST, redeno, stockRedis, waitFor } from "./replication_helpers.ts";
import {
  bigValue,
  ByteConn,
  JS_MAX,
  MAX_BULK,
  rewriteDone,
  skip,
  slow,
} from "./big_string_helpers.ts";

test("SAVE and a restart keep a big string (RDB)", { skip }, async () => {
  const dir = tempDir();
  const config = { dir, dbfilename: "dump.rdb" };
  try {
    const first = await startServer({ config });
    let c = await ByteConn.connect(first.port);
    c.send("SETRANGE", "k", "536870900", "end");
    assert.equal(await c.reply(), ":536870903\r\n");
    c.send("SETRANGE", "k", "0", "start");
    assert.equal(await c.reply(), ":536870903\r\n");
    c.send("SAVE");
    assert.equal(await c.reply(), "+OK\r\n");
    c.close();
    await first.close();

    const second = await startServer({ config });
    assert.equal(rdbOf(second.server).loadOnStart(), true);
    c = await ByteConn.connect(second.port);
    c.send("STRLEN", "k");
    assert.equal(await c.reply(), ":536870903\r\n");
    c.send("GETRANGE", "k", "0", "5");
    assert.equal(await c.reply(), "$6\r\nstart\0\r\n");
    c.send("GETRANGE", "k", "-4", "-1");
    assert.equal(await c.reply(), "$4\r\n\0end\r\n");
    c.close();
    await second.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the AOF keeps a big string (rewritten as a SET and APPENDs)", { skip: slow }, async () => {
  const dir = tempDir();
  const config = { dir, appendonly: "yes", "aof-use-rdb-preamble": "no" };
  try {
    const first = await startServer({ config });
    let c = await ByteConn.connect(first.port);
    c.send("SET", "big", bigValue());
    assert.equal(await c.reply(), "+OK\r\n");
    await rewriteDone(c);
    c.send("BGREWRITEAOF");
    assert.match(await c.reply(), /^\+Background append only file rewriting/);
    await rewriteDone(c);
    c.close();
    await first.close();

    const second = await startServer({ config });
    c = await ByteConn.connect(second.port);
    c.send("STRLEN", "big");
    assert.equal(await c.reply(), `:${MAX_BULK}\r\n`);
    c.send("GETRANGE", "big", String(JS_MAX - 1), String(JS_MAX));
    assert.equal(await c.reply(), "$2\r\naM\r\n");
    c.send("GETRANGE", "big", "-2", "-1");
    assert.equal(await c.reply(), "$2\r\na>\r\n");
    c.close();
    await second.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("redis-server loads redeno's dump of a big string", {
  skip: skip || missing("redis-server"),
}, async () => {
  const dir = tempDir();
  try {
    const { port, close } = await startServer({ config: { dir } });
    const c = await ByteConn.connect(port);
    c.send("SETRANGE", "k", "536870900", "x");
    assert.equal(await c.reply(), ":536870901\r\n");
    c.send("SAVE");
    assert.equal(await c.reply(), "+OK\r\n");
    c.close();
    await close();
    const redis = await startRedis(["--dir", dir, "--dbfilename", "dump.rdb"]);
    try {
      const r = await ByteConn.connect(redis.port);
      let len = "";
      for (let i = 0; i < 600; i++) {
        r.send("STRLEN", "k");
        len = await r.reply();
        if (!len.startsWith("-LOADING")) break;
        await new Promise((done) => setTimeout(done, 50));
      }
      assert.equal(len, ":536870901\r\n");
      r.send("GETRANGE", "k", "-2", "-1");
      assert.equal(await r.reply(), "$2\r\n\0x\r\n");
      r.close();
    } finally {
      redis.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(
  "replicas get a big string by full sync and by the command stream",
  { skip: slow },
  async () => {
    const master = await redeno();
    const replica = await redeno();
    const stock = installed("redis-server") ? await stockRedis() : undefined;
    const strlen = async (port: number, key: string) => {
      const c = await ByteConn.connect(port);
      c.send("STRLEN", key);
      const r = await c.reply();
      c.close();
      return r;
    };
    try {
      const m = await ByteConn.connect(master.port);
      m.send("SETRANGE", "k", "536870900", "x");
      assert.equal(await m.reply(), ":536870901\r\n");
      // Full sync: the RDB carries the big string.
      for (const port of [replica.port, stock?.port]) {
        if (port === undefined) continue;
        const c = await ByteConn.connect(port);
        c.send("REPLICAOF", HOST, String(master.port));
        assert.equal(await c.reply(), "+OK\r\n");
        c.close();
        await waitFor(async () => (await strlen(port, "k")) === ":536870901\r\n", "sync", 60_000);
      }
      // The stream: a SET and APPENDs in MULTI/EXEC (a replica cut off for its output buffer
      // resynchronises, as with Redis).
      m.send("SET", "big", bigValue());
      assert.equal(await m.reply(), "+OK\r\n");
      for (const port of [replica.port, stock?.port]) {
        if (port === undefined) continue;
        await waitFor(
          async () => (await strlen(port, "big")) === `:${MAX_BULK}\r\n`,
          "big",
          60_000,
        );
      }
      const c = await ByteConn.connect(replica.port);
      c.send("GETRANGE", "big", String(JS_MAX - 1), String(JS_MAX));
      assert.equal(await c.reply(), "$2\r\naM\r\n");
      c.close();
      m.close();
    } finally {
      await stock?.stop();
      await replica.s.close();
      await master.s.close();
    }
  },
);

test("a redeno replica of redis-server applies a 512 MB SET from the stream", {
  skip: skip || missing("redis-server"),
}, async () => {
  // No output buffer limit for replicas: the SET must come through the stream, not a resync.
  const redis = await stockRedis(["--client-output-buffer-limit", "replica 0 0 0"]);
  const replica = await redeno();
  const strlen = async (port: number) => {
    const c = await ByteConn.connect(port);
    c.send("STRLEN", "big");
    const r = await c.reply();
    c.close();
    return r;
  };
  try {
    const r = await ByteConn.connect(replica.port);
    r.send("REPLICAOF", HOST, String(redis.port));
    assert.equal(await r.reply(), "+OK\r\n");
    await waitFor(
      async () => {
        r.send("INFO", "replication");
        return (await r.reply()).includes("master_link_status:up");
      },
      "sync",
      30_000,
    );
    const m = await ByteConn.connect(redis.port);
    m.send("SET", "big", bigValue());
    assert.equal(await m.reply(), "+OK\r\n");
    m.close();
    await waitFor(async () => (await strlen(replica.port)) === `:${MAX_BULK}\r\n`, "big", 60_000);
    r.send("GETRANGE", "big", String(JS_MAX - 1), String(JS_MAX));
    assert.equal(await r.reply(), "$2\r\naM\r\n");
    r.close();
    // One full sync, the first: the SET came through the stream.
    const info = await ByteConn.connect(redis.port);
    info.send("INFO", "stats");
    assert.match(await info.reply(), /sync_full:1\r\n/);
    info.close();
  } finally {
    await replica.s.close();
    await redis.stop();
  }
});
