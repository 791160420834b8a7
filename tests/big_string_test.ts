/**
 * Strings up to Redis's limit, `proto-max-bulk-len` (512 MB): longer than V8 lets a string be,
 * so they live in a BigString (core/types/big_string.ts). A real socket carries a 512 MB SET and
 * GET; SETRANGE at offset 536870900 builds one from an empty key and from a small string; a
 * command that cannot take one answers Redis's size error and the connection goes on; a big SET
 * propagates as a SET and APPENDs of ordinary strings; MULTI, DUMP and RESTORE take one.
 * Persistence and replication: big_string_persist_test.ts.
 *
 * Each test holds one 512 MB value at a time (the test's own buffers: about 1 GB more). They
 * are skipped on machines with less than 8 GB of memory; the slowest run only with
 * REDENO_BIG_TESTS=all (see `slow` in big_string_helpers.ts).
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { recordEffects, startServer } from "./helpers.ts";
import {
  bigValue,
  ByteConn,
  JS_MAX,
  MAX_BULK,
  SIZE_ERROR,
  skip,
  slow,
} from "./big_string_helpers.ts";

test("SET and GET a 512 MB string (proto-max-bulk-len) over a socket", { skip }, async () => {
  const { port, close } = await startServer();
  const c = await ByteConn.connect(port);
  try {
    let value: Buffer | undefined = bigValue();
    c.send("SET", "big", value);
    assert.equal(await c.reply(), "+OK\r\n");
    // A command that cannot take such an argument answers the size error; the client goes on.
    c.send("RPUSH", "list", value);
    assert.equal(await c.reply(), SIZE_ERROR);
    value = undefined;
    c.send("PING");
    assert.equal(await c.reply(), "+PONG\r\n");
    c.send("STRLEN", "big");
    assert.equal(await c.reply(), `:${MAX_BULK}\r\n`);
    c.send("TYPE", "big");
    assert.equal(await c.reply(), "+string\r\n");
    c.send("OBJECT", "ENCODING", "big");
    assert.equal(await c.reply(), "$3\r\nraw\r\n");
    c.send("GET", "big");
    const got = await c.bulk([0, 1, JS_MAX, MAX_BULK - 1]);
    assert.equal(got.length, MAX_BULK);
    assert.deepEqual([...got.at.values()], [60, 97, 77, 62]);
    c.send("GETRANGE", "big", "-3", "-1");
    assert.equal(await c.reply(), "$3\r\naa>\r\n");
    c.send("GETBIT", "big", String(JS_MAX * 8 + 1));
    assert.equal(await c.reply(), ":1\r\n"); // 'M' is 0b01001101
    // At the limit nothing more fits, as in Redis.
    c.send("APPEND", "big", "x");
    assert.equal(await c.reply(), SIZE_ERROR);
    c.send("SETRANGE", "big", String(MAX_BULK), "x");
    assert.equal(await c.reply(), SIZE_ERROR);
    // Other string commands refuse it with the same error rather than WRONGTYPE.
    c.send("INCR", "big");
    assert.equal(await c.reply(), SIZE_ERROR);
    c.send("SETRANGE", "big", "1", "bc");
    assert.equal(await c.reply(), `:${MAX_BULK}\r\n`);
    c.send("GETRANGE", "big", "0", "3");
    assert.equal(await c.reply(), "$4\r\n<bca\r\n");
    c.send("DEL", "big");
    assert.equal(await c.reply(), ":1\r\n");
  } finally {
    c.close();
    await close();
  }
});

test("SETRANGE at offset 536870900 grows an empty key and a small string", { skip }, async () => {
  const { port, close } = await startServer();
  const c = await ByteConn.connect(port);
  try {
    c.send("SETRANGE", "k", "536870900", "x");
    assert.equal(await c.reply(), ":536870901\r\n");
    c.send("STRLEN", "k");
    assert.equal(await c.reply(), ":536870901\r\n");
    c.send("GETRANGE", "k", "-2", "-1");
    assert.equal(await c.reply(), "$2\r\n\0x\r\n");
    c.send("DEL", "k");
    assert.equal(await c.reply(), ":1\r\n");

    c.send("SET", "s", "hello");
    assert.equal(await c.reply(), "+OK\r\n");
    c.send("SETRANGE", "s", "536870900", "yz");
    assert.equal(await c.reply(), ":536870902\r\n");
    c.send("GETRANGE", "s", "0", "5");
    assert.equal(await c.reply(), "$6\r\nhello\0\r\n");
    c.send("GETRANGE", "s", "536870899", "-1");
    assert.equal(await c.reply(), "$3\r\n\0yz\r\n");
    // APPEND and SETBIT extend it in place, up to the limit.
    c.send("APPEND", "s", "!");
    assert.equal(await c.reply(), ":536870903\r\n");
    c.send("SETBIT", "s", String(MAX_BULK * 8 - 1), "1");
    assert.equal(await c.reply(), ":0\r\n");
    c.send("STRLEN", "s");
    assert.equal(await c.reply(), `:${MAX_BULK}\r\n`);
    c.send("GETRANGE", "s", "536870900", "536870902");
    assert.equal(await c.reply(), "$3\r\nyz!\r\n");
    c.send("GETBIT", "s", String(MAX_BULK * 8 - 1));
    assert.equal(await c.reply(), ":1\r\n");
    c.send("DEL", "s");
    assert.equal(await c.reply(), ":1\r\n");
    // SETBIT alone creates one too.
    c.send("SETBIT", "b", String(MAX_BULK * 8 - 8), "1");
    assert.equal(await c.reply(), ":0\r\n");
    c.send("STRLEN", "b");
    assert.equal(await c.reply(), `:${MAX_BULK}\r\n`);
    c.send("DEL", "b");
    assert.equal(await c.reply(), ":1\r\n");
  } finally {
    c.close();
    await close();
  }
});

test("a big SET propagates as a SET and APPENDs of ordinary strings", { skip }, async () => {
  const { server, port, close } = await startServer();
  const effects = recordEffects(server);
  const c = await ByteConn.connect(port);
  try {
    c.send("SET", "big", bigValue(), "PX", "100000");
    assert.equal(await c.reply(), "+OK\r\n");
    assert.equal(effects[0]![0], "MULTI");
    const first = effects[1]!;
    assert.deepEqual([first[0], first[1], first[3]], ["SET", "big", "PXAT"]);
    let total = first[2]!.length;
    assert.equal(first[2]!.charCodeAt(0), 60);
    for (const e of effects.slice(2, -1)) {
      assert.deepEqual(e.slice(0, 2), ["APPEND", "big"]);
      total += e[2]!.length;
    }
    assert.equal(total, MAX_BULK);
    assert.equal(effects.at(-1)![0], "EXEC");
    assert.equal(effects.at(-2)![2]!.charCodeAt(effects.at(-2)![2]!.length - 1), 62);
    effects.length = 0;
    c.send("DEL", "big");
    assert.equal(await c.reply(), ":1\r\n");
  } finally {
    c.close();
    await close();
  }
});

test("MULTI, DUMP, RESTORE and the slow log take a big string", { skip: slow }, async () => {
  const { port, close } = await startServer({ config: { "rdbcompression": "no" } });
  const c = await ByteConn.connect(port);
  try {
    c.send("CONFIG", "SET", "slowlog-log-slower-than", "0");
    assert.equal(await c.reply(), "+OK\r\n");
    c.send("MULTI");
    assert.equal(await c.reply(), "+OK\r\n");
    c.send("SET", "big", bigValue());
    assert.equal(await c.reply(), "+QUEUED\r\n");
    c.send("GET", "big");
    assert.equal(await c.reply(), "+QUEUED\r\n");
    c.send("SETRANGE", "big", "0", "!");
    assert.equal(await c.reply(), "+QUEUED\r\n");
    c.send("EXEC");
    assert.equal(await c.line(), "*3\r\n");
    assert.equal(await c.reply(), "+OK\r\n");
    // The reply of GET is the value as it was, not as the SETRANGE after it left it.
    const got = await c.bulk([0, JS_MAX]);
    assert.deepEqual([got.length, ...got.at.values()], [MAX_BULK, 60, 77]);
    assert.equal(await c.reply(), `:${MAX_BULK}\r\n`);

    c.send("SLOWLOG", "GET", "128");
    const entry = await c.any();
    assert.ok(entry.includes(`$3\r\nSET\r\n$3\r\nbig\r\n`), entry);
    assert.ok(entry.includes(`<aaa`) && entry.includes(`... (${MAX_BULK - 128} more bytes)`));

    // Without compression the payload is longer than a string: it travels as bytes both ways.
    // (The payload of a 512 MB string would be longer than proto-max-bulk-len, as in Redis.)
    c.send("DEL", "big");
    assert.equal(await c.reply(), ":1\r\n");
    c.send("SETRANGE", "big", String(JS_MAX), "!");
    assert.equal(await c.reply(), `:${JS_MAX + 1}\r\n`);
    c.send("SETRANGE", "big", String(JS_MAX - 2), "aM");
    assert.equal(await c.reply(), `:${JS_MAX + 1}\r\n`);
    c.send("DUMP", "big");
    let payload: Buffer | undefined = await c.bulkBuffer();
    assert.ok(payload.length > JS_MAX);
    c.send("DEL", "big");
    assert.equal(await c.reply(), ":1\r\n");
    c.send("RESTORE", "copy", "0", payload);
    payload = undefined;
    assert.equal(await c.reply(), "+OK\r\n");
    c.send("GETRANGE", "copy", String(JS_MAX - 3), "-1");
    assert.equal(await c.reply(), "$4\r\n\0aM!\r\n");
    c.send("DEL", "copy");
    assert.equal(await c.reply(), ":1\r\n");
  } finally {
    c.close();
    await close();
  }
});
