import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createServer, ErrorReply, ManualClock, R, SimpleString } from "../mod.ts";
import { RawConn, startServer } from "./helpers.ts";

test("MULTI queues, EXEC runs everything and replies with an array, byte for byte", async () => {
  const { port, close } = await startServer();
  const c = await RawConn.connect(port);
  try {
    c.command("MULTI");
    c.command("SET", "a", "1");
    c.command("INCR", "a");
    c.command("LPUSH", "a", "x");
    c.command("EXEC");
    const want = "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n:2\r\n" +
      "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
    assert.equal(await c.expect(want), want);
    c.command("EXEC");
    assert.equal(await c.expect("-ERR EXEC without MULTI\r\n"), "-ERR EXEC without MULTI\r\n");
  } finally {
    c.close();
    await close();
  }
});

test("a queueing error makes EXEC answer EXECABORT and nothing runs", () => {
  const server = createServer();
  const s = server.session();
  assert.deepEqual(s.call("MULTI"), R.ok);
  assert.deepEqual(s.call("SET", "k", "v"), R.queued);
  assert.deepEqual(
    s.call("NOSUCH"),
    new ErrorReply("ERR unknown command 'NOSUCH', with args beginning with: "),
  );
  assert.deepEqual(
    s.call("GET"),
    new ErrorReply("ERR wrong number of arguments for 'get' command"),
  );
  assert.deepEqual(
    s.call("EXEC"),
    new ErrorReply("EXECABORT Transaction discarded because of previous errors."),
  );
  assert.equal(s.call("GET", "k"), null);
  assert.deepEqual(s.call("MULTI"), R.ok);
  assert.deepEqual(s.call("MULTI"), new ErrorReply("ERR MULTI calls can not be nested"));
  assert.deepEqual(s.call("WATCH", "k"), new ErrorReply("ERR WATCH inside MULTI is not allowed"));
  assert.deepEqual(s.call("DISCARD"), R.ok);
  assert.deepEqual(s.call("DISCARD"), new ErrorReply("ERR DISCARD without MULTI"));
});

test("WATCH fails EXEC after a write from another client, an expiry, FLUSHDB or SWAPDB", () => {
  const clock = new ManualClock(1_700_000_000_000);
  const server = createServer({ clock });
  const a = server.session();
  const b = server.session();
  const attempt = (change: () => void) => {
    a.call("WATCH", "k");
    change();
    a.call("MULTI");
    a.call("SET", "k", "mine");
    return a.call("EXEC");
  };
  b.call("SET", "k", "0");
  assert.deepEqual(attempt(() => {}), [new SimpleString("OK")]);
  assert.deepEqual(attempt(() => b.call("SET", "k", "theirs")), R.nullArray);
  b.call("SET", "k", "v", "PX", "100");
  assert.deepEqual(attempt(() => clock.advance(200)), R.nullArray);
  // FLUSHDB only counts for watchers of keys that existed (k expired above); EXEC then sets it.
  assert.deepEqual(attempt(() => b.call("FLUSHDB")), [new SimpleString("OK")]);
  assert.deepEqual(attempt(() => b.call("FLUSHDB")), R.nullArray);
  b.call("SELECT", "1");
  b.call("SET", "k", "other");
  assert.deepEqual(attempt(() => b.call("SWAPDB", "0", "1")), R.nullArray);
  a.call("WATCH", "k");
  a.call("UNWATCH");
  b.call("SET", "k", "x");
  a.call("MULTI");
  assert.deepEqual(a.call("EXEC"), []);
});

test("a transaction propagates as MULTI ... EXEC, a single write alone", () => {
  const server = createServer();
  const seen: string[][] = [];
  server.on("propagate", (_db, argv) => seen.push(argv));
  const s = server.session();
  s.call("MULTI");
  s.call("SET", "a", "1");
  s.call("GET", "a");
  s.call("INCR", "a");
  s.call("EXEC");
  assert.deepEqual(seen, [["MULTI"], ["SET", "a", "1"], ["INCR", "a"], ["EXEC"]]);
  seen.length = 0;
  s.call("MULTI");
  s.call("SET", "b", "2");
  s.call("EXEC");
  assert.deepEqual(seen, [["SET", "b", "2"]]);
});

test("a WATCH/MULTI retry loop with 20 concurrent ioredis clients counts exactly", async () => {
  const { port, close } = await startServer();
  const clients = Array.from({ length: 20 }, () => new Redis({ port, host: "127.0.0.1" }));
  try {
    const perClient = 25;
    let retries = 0;
    await Promise.all(clients.map(async (r) => {
      for (let i = 0; i < perClient; i++) {
        for (;;) {
          await r.watch("counter");
          const cur = Number(await r.get("counter") ?? "0");
          const res = await r.multi().set("counter", String(cur + 1)).exec();
          if (res !== null) break;
          retries++;
        }
      }
    }));
    assert.equal(await clients[0]!.get("counter"), String(20 * perClient));
    assert.ok(retries > 0, "no contention happened: the test proves nothing");
  } finally {
    for (const r of clients) r.disconnect();
    await close();
  }
});
