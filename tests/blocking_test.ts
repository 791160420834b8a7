import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createServer, R } from "../mod.ts";
import { RawConn, startServer } from "./helpers.ts";

test("BLPOP blocks until a push, first blocked is first served, and propagates LPOP", async () => {
  const { port, close, server } = await startServer();
  const seen: string[][] = [];
  server.on("propagate", (_db, argv) => seen.push(argv));
  const a = await RawConn.connect(port);
  const b = await RawConn.connect(port);
  const p = await RawConn.connect(port);
  try {
    a.command("BLPOP", "q1", "q2", "0");
    await new Promise((r) => setTimeout(r, 30));
    b.command("BLPOP", "q2", "0");
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(server.blocking.count, 2);
    p.command("RPUSH", "q2", "x", "y");
    assert.equal(await p.expect(":2\r\n"), ":2\r\n");
    const first = "*2\r\n$2\r\nq2\r\n$1\r\nx\r\n";
    const second = "*2\r\n$2\r\nq2\r\n$1\r\ny\r\n";
    assert.equal(await a.expect(first), first);
    assert.equal(await b.expect(second), second);
    assert.deepEqual(seen, [["RPUSH", "q2", "x", "y"], ["LPOP", "q2"], ["LPOP", "q2"]]);
    assert.equal(server.blocking.count, 0);
  } finally {
    a.close();
    b.close();
    p.close();
    await close();
  }
});

test("a timeout answers with the null array; fractional timeouts are accepted", async () => {
  const { port, close } = await startServer();
  const c = await RawConn.connect(port);
  try {
    const start = Date.now();
    c.command("BRPOP", "none", "0.1");
    assert.equal(await c.expect("*-1\r\n"), "*-1\r\n");
    assert.ok(Date.now() - start >= 90);
    c.command("BLPOP", "none", "-1");
    assert.equal(await c.expect("-ERR timeout is negative\r\n"), "-ERR timeout is negative\r\n");
    c.command("BLPOP", "none", "abc");
    const notFloat = "-ERR timeout is not a float or out of range\r\n";
    assert.equal(await c.expect(notFloat), notFloat);
  } finally {
    c.close();
    await close();
  }
});

test("pipelined commands after a blocking one run once it is served", async () => {
  const { port, close } = await startServer();
  const c = await RawConn.connect(port);
  const p = await RawConn.connect(port);
  try {
    c.send("*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n");
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(c.pending, "");
    p.command("LPUSH", "q", "v");
    const want = "*2\r\n$1\r\nq\r\n$1\r\nv\r\n+PONG\r\n";
    assert.equal(await c.expect(want), want);
  } finally {
    c.close();
    p.close();
    await close();
  }
});

test("BLMOVE waits on its source, CLIENT UNBLOCK releases with TIMEOUT or ERROR", async () => {
  const { port, close } = await startServer();
  const io = new Redis({ port, host: "127.0.0.1" });
  const blocked = new Redis({ port, host: "127.0.0.1" });
  try {
    const id = await blocked.client("ID");
    const moved = blocked.blmove("src", "dst", "RIGHT", "LEFT", 0);
    await new Promise((r) => setTimeout(r, 30));
    await io.rpush("src", "a", "b");
    assert.equal(await moved, "b");
    assert.deepEqual(await io.lrange("dst", 0, -1), ["b"]);
    const waiting = blocked.blpop("nothing", 0);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(await io.client("UNBLOCK", id, "TIMEOUT"), 1);
    assert.equal(await waiting, null);
    // Settle the promise at once: the rejection must not count as unhandled while we wait.
    const erring = blocked.blpop("nothing", 0).then(() => "resolved", (e: Error) => e.message);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(await io.client("UNBLOCK", id, "ERROR"), 1);
    assert.match(await erring, /UNBLOCKED client unblocked via CLIENT UNBLOCK/);
    assert.equal(await io.client("UNBLOCK", id), 0);
  } finally {
    io.disconnect();
    blocked.disconnect();
    await close();
  }
});

test("where blocking is not possible (an in-process session) the pop answers at once", () => {
  const server = createServer();
  assert.deepEqual(server.dispatch(["BLPOP", "empty", "0"]), R.nullArray);
  assert.equal(server.dispatch(["BLMOVE", "empty", "d", "LEFT", "LEFT", "0"]), null);
});

test("BZPOPMIN waits for ZADD and replies key, member, score; BZMPOP pops counts", async () => {
  const { port, close, server } = await startServer();
  const seen: string[][] = [];
  server.on("propagate", (_db, argv) => seen.push(argv));
  const io = new Redis({ port, host: "127.0.0.1" });
  const blocked = new Redis({ port, host: "127.0.0.1" });
  try {
    const pop = blocked.bzpopmin("z1", "z2", 0);
    await new Promise((r) => setTimeout(r, 30));
    await io.zadd("z2", 2, "b", 1, "a");
    assert.deepEqual(await pop, ["z2", "a", "1"]);
    const mpop = blocked.call("BZMPOP", "0", "1", "z2", "MAX", "COUNT", "5");
    assert.deepEqual(await mpop, ["z2", [["b", "2"]]]);
    assert.equal(await io.exists("z2"), 0);
    assert.deepEqual(seen.slice(1), [["ZPOPMIN", "z2"], ["ZPOPMAX", "z2", "1"]]);
  } finally {
    io.disconnect();
    blocked.disconnect();
    await close();
  }
});

test("a served BLPOP is in the slow log as sent, once the EXEC that served it ran", async () => {
  const { port, close, server } = await startServer({
    config: { "slowlog-log-slower-than": "0" },
  });
  const a = await RawConn.connect(port);
  const b = await RawConn.connect(port);
  try {
    a.command("BLPOP", "l", "0");
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(server.blocking.count, 1);
    for (const argv of [["MULTI"], ["LPUSH", "l", "foo"], ["SLOWLOG", "RESET"], ["EXEC"]]) {
      b.command(...argv);
    }
    const execReply = "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:1\r\n+OK\r\n";
    assert.equal(await b.expect(execReply), execReply);
    const served = "*2\r\n$1\r\nl\r\n$3\r\nfoo\r\n";
    assert.equal(await a.expect(served), served);
    const log = server.dispatch(["SLOWLOG", "GET"]) as unknown[][];
    // Newest first: the BLPOP (not the LPOP it propagated), then what the EXEC ran after the
    // reset (EXEC itself is not logged, as in Redis).
    assert.deepEqual(log.map((entry) => (entry[3] as string[]).join(" ")), [
      "BLPOP l 0",
      "SLOWLOG RESET",
    ]);
  } finally {
    a.close();
    b.close();
    await close();
  }
});
