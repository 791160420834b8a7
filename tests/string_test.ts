import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { RawConn, startServer } from "./helpers.ts";

test("SET and GET round-trip binary values byte for byte", async () => {
  const { port, close } = await startServer();
  const c = await RawConn.connect(port);
  try {
    const value = "\x00\xff\r\n\x80bin";
    c.command("SET", "k\x00", value);
    assert.equal(await c.expect("+OK\r\n"), "+OK\r\n");
    c.command("GET", "k\x00");
    const want = `$${value.length}\r\n${value}\r\n`;
    assert.equal(await c.expect(want), want);
  } finally {
    c.close();
    await close();
  }
});

test("ioredis sees SET options NX, XX, GET and KEEPTTL behave as in Redis", async () => {
  const { port, close } = await startServer();
  const r = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
  await r.connect();
  try {
    assert.equal(await r.set("a", "1", "NX"), "OK");
    assert.equal(await r.set("a", "2", "NX"), null);
    assert.equal(await r.set("b", "1", "XX"), null);
    assert.equal(await r.call("SET", "a", "3", "GET"), "1");
    await r.set("t", "v", "EX", 100);
    assert.equal(await r.set("t", "w", "KEEPTTL"), "OK");
    const ttl = await r.ttl("t");
    assert.ok(ttl > 90 && ttl <= 100, `ttl ${ttl}`);
    await assert.rejects(r.set("x", "v", "EX", 0), /invalid expire time in 'set' command/);
    await assert.rejects(r.call("SET", "x", "v", "NX", "XX"), /syntax error/);
  } finally {
    r.disconnect();
    await close();
  }
});
