import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { Redis } from "ioredis";
import { startTestServer } from "../testing.ts";
import { groups } from "../plugins/groups/mod.ts";
import { ManualClock, MapReply } from "../mod.ts";
import type { CommandSpec } from "../mod.ts";
import { RawConn } from "./helpers.ts";

/** Resolves true when something accepts a TCP connection on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

test("startTestServer listens on 127.0.0.1 and a free port, and its url works with ioredis", async () => {
  const redis = await startTestServer();
  const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    assert.equal(redis.hostname, "127.0.0.1");
    assert.ok(redis.port > 0);
    assert.equal(redis.url, `redis://127.0.0.1:${redis.port}`);
    await client.connect();
    assert.equal(await client.ping(), "PONG");
    await client.set("k", "v");
    assert.equal(redis.server.dispatch(["GET", "k"]), "v");
  } finally {
    client.disconnect();
    await redis.close();
  }
});

test("await using closes the test server at the end of the block", async () => {
  let port: number;
  {
    await using redis = await startTestServer();
    port = redis.port;
    const conn = await RawConn.connect(port);
    conn.command("PING");
    assert.equal(await conn.expect("+PONG\r\n"), "+PONG\r\n");
    conn.close();
    assert.equal(redis.server.isClosing, false);
  }
  assert.equal(await accepts(port), false);
});

test("close() twice is harmless and Symbol.asyncDispose is the same close", async () => {
  const redis = await startTestServer();
  await redis.close();
  await redis.close();
  await redis[Symbol.asyncDispose]();
  assert.equal(redis.server.isClosing, true);
  assert.equal(await accepts(redis.port), false);
});

test("a test server has no save points, no AOF and no log", async () => {
  const lines: string[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => void lines.push(args.join(" "));
  try {
    await using redis = await startTestServer();
    const cfg = (name: string) => redis.server.dispatch(["CONFIG", "GET", name]);
    assert.deepEqual(cfg("save"), new MapReply(["save", ""]));
    assert.deepEqual(cfg("appendonly"), new MapReply(["appendonly", "no"]));
    redis.server.dispatch(["SET", "k", "v"]);
    // DEBUG works from its clients, all local (127.0.0.1 or in process), as in Redis's tests.
    const client = new Redis(redis.url);
    assert.equal(await client.call("DEBUG", "SLEEP", "0"), "OK");
    client.disconnect();
  } finally {
    console.log = original;
  }
  assert.deepEqual(lines, []);
});

test("two test servers are isolated from each other", async () => {
  await using a = await startTestServer();
  await using b = await startTestServer();
  assert.notEqual(a.port, b.port);
  a.server.dispatch(["SET", "k", "a"]);
  assert.equal(b.server.dispatch(["GET", "k"]), null);
});

test("startTestServer takes plugins, config, a clock and extra commands", async () => {
  const clock = new ManualClock(1_700_000_000_000);
  const echo2: CommandSpec = {
    name: "test.echo2",
    arity: 2,
    flags: ["readonly", "fast"],
    execute: (_client, argv) => argv[1]! + argv[1]!,
  };
  await using redis = await startTestServer({
    plugins: [groups()],
    config: { requirepass: "s3cret" },
    clock,
    commands: [echo2],
  });
  const conn = await RawConn.connect(redis.port);
  try {
    conn.command("PING");
    assert.equal(
      await conn.expect("-NOAUTH Authentication required.\r\n"),
      "-NOAUTH Authentication required.\r\n",
    );
    conn.command("AUTH", "s3cret");
    assert.equal(await conn.expect("+OK\r\n"), "+OK\r\n");
    conn.command("TEST.ECHO2", "ab");
    assert.equal(await conn.expect("$4\r\nabab\r\n"), "$4\r\nabab\r\n");
    conn.command("GROUP.CREATE", "room", "2");
    assert.equal(await conn.expect("+OK\r\n"), "+OK\r\n");
    conn.command("GROUP.JOIN", "room", "alice");
    assert.equal(await conn.expect(":1\r\n"), ":1\r\n");
    // The clock decides expiry: nothing is slept on.
    conn.command("SET", "t", "v", "PX", "1000");
    assert.equal(await conn.expect("+OK\r\n"), "+OK\r\n");
    clock.advance(1001);
    conn.command("GET", "t");
    assert.equal(await conn.expect("$-1\r\n"), "$-1\r\n");
  } finally {
    conn.close();
  }
});
