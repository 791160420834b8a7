import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { createServer, type PushReply } from "../mod.ts";
import { RawConn, startServer } from "./helpers.ts";

test("RESP2 subscribe flow, messages and the subscribed-context error, byte for byte", async () => {
  const { port, close } = await startServer();
  const sub = await RawConn.connect(port);
  const pub = await RawConn.connect(port);
  try {
    sub.command("SUBSCRIBE", "a", "b");
    const confirm =
      "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n";
    assert.equal(await sub.expect(confirm), confirm);
    pub.command("PUBLISH", "a", "hi");
    assert.equal(await pub.expect(":1\r\n"), ":1\r\n");
    const msg = "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n";
    assert.equal(await sub.expect(msg), msg);
    sub.command("GET", "x");
    const ctx =
      "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n";
    assert.equal(await sub.expect(ctx), ctx);
    sub.command("PING");
    const pong = "*2\r\n$4\r\npong\r\n$0\r\n\r\n";
    assert.equal(await sub.expect(pong), pong);
    sub.command("UNSUBSCRIBE");
    const bye =
      "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n";
    assert.equal(await sub.expect(bye), bye);
    sub.command("UNSUBSCRIBE");
    const none = "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n";
    assert.equal(await sub.expect(none), none);
    sub.command("GET", "x");
    assert.equal(await sub.expect("$-1\r\n"), "$-1\r\n");
  } finally {
    sub.close();
    pub.close();
    await close();
  }
});

test("RESP3 subscribers get push frames and may run any command", async () => {
  const { port, close } = await startServer();
  const sub = await RawConn.connect(port);
  try {
    sub.command("HELLO", "3");
    await new Promise((r) => setTimeout(r, 50));
    await sub.read(sub.pending.length);
    sub.command("SUBSCRIBE", "a");
    const push = ">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n";
    assert.equal(await sub.expect(push), push);
    sub.command("SET", "k", "v");
    assert.equal(await sub.expect("+OK\r\n"), "+OK\r\n");
    sub.command("PUBLISH", "a", "x");
    // Redis 7.2: the message to itself follows PUBLISH's reply (tests/pubsub_74_test.ts).
    const both = ":1\r\n>3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nx\r\n";
    assert.equal(await sub.expect(both), both);
  } finally {
    sub.close();
    await close();
  }
});

test("ioredis pattern subscriber and node-redis RESP3 subscriber receive keyspace events", async () => {
  const { port, close } = await startServer({ config: { "notify-keyspace-events": "KEA" } });
  const io = new Redis({ port, host: "127.0.0.1" });
  const ioSub = new Redis({ port, host: "127.0.0.1" });
  const nr = createClient({ socket: { port, host: "127.0.0.1" }, RESP: 3 });
  try {
    await nr.connect();
    const got: string[] = [];
    const nrGot: string[] = [];
    ioSub.on("pmessage", (_p: string, ch: string, msg: string) => got.push(`${ch} ${msg}`));
    await ioSub.psubscribe("__keyevent@0__:*");
    await nr.subscribe("__keyspace@0__:counter", (msg) => nrGot.push(msg));
    await io.set("counter", "1");
    await io.incr("counter");
    await io.expire("counter", 100);
    await io.del("counter");
    for (let i = 0; i < 50 && (got.length < 4 || nrGot.length < 4); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(got, [
      "__keyevent@0__:set counter",
      "__keyevent@0__:incrby counter",
      "__keyevent@0__:expire counter",
      "__keyevent@0__:del counter",
    ]);
    assert.deepEqual(nrGot, ["set", "incrby", "expire", "del"]);
    assert.equal(await io.publish("__keyspace@0__:counter", "by-hand"), 1);
    const numsub = await io.call("PUBSUB", "NUMSUB", "__keyspace@0__:counter", "none");
    assert.deepEqual(numsub, ["__keyspace@0__:counter", 1, "none", 0]);
  } finally {
    io.disconnect();
    ioSub.disconnect();
    await nr.quit();
    await close();
  }
});

test("a subscriber that does not read is cut off at the pubsub output buffer hard limit", async () => {
  const { port, close, server } = await startServer({
    config: { "client-output-buffer-limit": "pubsub 256kb 0 0" },
  });
  const sub = await RawConn.connect(port);
  const pub = await RawConn.connect(port);
  try {
    sub.socket.pause();
    sub.command("SUBSCRIBE", "flood");
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(server.pubsub.subscribers("flood", false), 1);
    const payload = "x".repeat(64 * 1024);
    let delivered = 0;
    for (let i = 0; i < 400 && server.pubsub.subscribers("flood", false) > 0; i++) {
      pub.command("PUBLISH", "flood", payload);
      const r = await pub.read(4);
      delivered += r === ":1\r\n" ? 1 : 0;
    }
    assert.equal(server.pubsub.subscribers("flood", false), 0, "subscriber still attached");
    assert.ok(delivered < 400, `delivered ${delivered} messages without a cut`);
    pub.command("PING");
    assert.equal(await pub.expect("+PONG\r\n"), "+PONG\r\n");
  } finally {
    sub.close();
    pub.close();
    await close();
  }
});

test("the opt-in 'new' and 'keymiss' events fire only when enabled", () => {
  const server = createServer({ config: { "notify-keyspace-events": "Enm" } });
  const sub = server.session();
  const other = server.session();
  sub.call("SUBSCRIBE", "__keyevent@0__:new", "__keyevent@0__:keymiss");
  sub.drain();
  other.call("SET", "a", "1");
  other.call("SET", "a", "2");
  other.call("GET", "missing");
  const got = sub.drain().map((m) => (m as PushReply).items.slice(1));
  assert.deepEqual(got, [["__keyevent@0__:new", "a"], ["__keyevent@0__:keymiss", "missing"]]);
  const quiet = createServer();
  const seen: string[] = [];
  quiet.on("keyspaceEvent", (_db, _t, event) => seen.push(event));
  quiet.dispatch(["SET", "b", "1"]);
  quiet.dispatch(["GET", "nope"]);
  assert.deepEqual(seen, ["set"]);
});
