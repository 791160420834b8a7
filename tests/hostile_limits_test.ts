/**
 * Hostile clients against output buffers (issue 15): a flood of unauthenticated commands whose
 * errors are never read, and clients of the `normal` and `pubsub` classes that never read, are
 * cut off as Redis 7.0.15 cuts them, while other clients keep being served.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { Redis } from "ioredis";
import type { Client, Server, VerbatimReply } from "../mod.ts";
import { RawConn, startServer } from "./helpers.ts";
import { field, HOST, infoText, redeno, waitFor } from "./replication_helpers.ts";

/**
 * A socket that writes and never reads (paused). A paused socket may not see the server's close
 * (the FIN waits behind the unread bytes), so the tests look at the server's side.
 */
function nonReader(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: HOST }, () => {
      socket.pause();
      resolve(socket);
    });
    socket.on("error", () => {});
    socket.once("error", reject);
  });
}

/** The server's socket clients (in-process ones left out). */
function sockets(server: Server): Client[] {
  return [...server.clients.values()].filter((c) => c.transport !== null);
}

const FLOOD_CLIENTS = 1000;
const FLOOD_BYTES = 128 * 1024;

test("1000 unauthenticated clients flooding NOAUTH errors are cut off, PING still answers", async () => {
  const lines: string[] = [];
  const { server, port, close } = await startServer({
    config: { requirepass: "secret" },
    log: (line) => lines.push(line),
  });
  const legit = await RawConn.connect(port);
  try {
    legit.command("AUTH", "secret");
    assert.equal(await legit.read(5), "+OK\r\n");
    // The output queued for all clients, sampled at every server tick during the flood.
    let maxQueued = 0;
    server.on("cron", () => {
      let queued = 0;
      for (const c of server.clients.values()) queued += c.pendingOutput + c.out.length;
      maxQueued = Math.max(maxQueued, queued);
    });
    const flood = Buffer.alloc(FLOOD_BYTES, "A\n");
    const floods: net.Socket[] = [];
    for (let i = 0; i < FLOOD_CLIENTS; i++) {
      const c = await nonReader(port);
      c.write(flood);
      floods.push(c);
    }
    // The legitimate client is answered while the flood is on.
    legit.command("PING");
    assert.equal(await legit.read(7), "+PONG\r\n");
    await waitFor(() => sockets(server).length === 1, "every flooding client to be closed", 60000);
    for (const c of floods) c.destroy();
    // Each flood asks for 64K errors (2 MB): none was given much more than Redis's 16 KB reply
    // buffer (one read's replies may reach the socket before the cap is seen).
    assert.ok(
      server.stats.netOutput < FLOOD_CLIENTS * 32 * 1024,
      `bytes sent ${server.stats.netOutput}`,
    );
    assert.equal(sockets(server).length, 1);
    assert.ok(maxQueued < FLOOD_CLIENTS * 32 * 1024, `queued at most ${maxQueued}`);
    assert.ok(
      lines.some((l) =>
        l.includes("scheduled to be closed ASAP for overcoming of output buffer limits.")
      ),
    );
    legit.command("PING");
    assert.equal(await legit.read(7), "+PONG\r\n");
  } finally {
    legit.socket.destroy();
    await close();
  }
});

test("unauthenticated clients keep Redis's multibulk and bulk length caps", async () => {
  const { close, port } = await startServer({ config: { requirepass: "secret" } });
  try {
    const a = await RawConn.connect(port);
    a.send("*11\r\n");
    const e1 = "-ERR Protocol error: unauthenticated multibulk length\r\n";
    assert.equal(await a.read(e1.length), e1);
    const b = await RawConn.connect(port);
    b.send("*1\r\n$16385\r\n");
    const e2 = "-ERR Protocol error: unauthenticated bulk length\r\n";
    assert.equal(await b.read(e2.length), e2);
    a.socket.destroy();
    b.socket.destroy();
  } finally {
    await close();
  }
});

test("a normal client that does not read is closed at client-output-buffer-limit normal", async () => {
  const lines: string[] = [];
  const { server, port, close } = await startServer({
    config: { "client-output-buffer-limit": "normal 32mb 16mb 10" },
    log: (line) => lines.push(line),
  });
  try {
    server.dispatch(["SET", "big", "x".repeat(1024 * 1024)]);
    const c = await nonReader(port);
    await waitFor(() => sockets(server).length === 1, "the connection");
    const victim = sockets(server)[0]!;
    // Up to 200 MB of replies asked for, in rounds so that the bytes asked for stay bounded.
    const get = "*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n";
    for (let round = 0; round < 200 && server.clients.has(victim.id); round++) {
      c.write(get);
      await new Promise((r) => setTimeout(r, 5));
    }
    await waitFor(() => !server.clients.has(victim.id), "the non-reading client to be closed");
    c.destroy();
    // Redis's line: the client as CLIENT LIST shows it.
    assert.ok(
      lines.some((l) =>
        /# Client id=\d+ addr=127\.0\.0\.1:\d+ laddr=\S+ fd=\d+ name= .* flags=N .*omem=\d+ .*cmd=get user=default .* scheduled to be closed ASAP for overcoming of output buffer limits\.$/
          .test(l)
      ),
      lines.join("\n"),
    );
    // Other clients are fine.
    const r = new Redis({ port, host: HOST });
    assert.equal(await r.ping(), "PONG");
    r.disconnect();
  } finally {
    await close();
  }
});

test("without a normal limit (the default) the same client is not closed", async () => {
  const { server, port, close } = await startServer();
  try {
    server.dispatch(["SET", "big", "x".repeat(1024 * 1024)]);
    const c = await nonReader(port);
    for (let i = 0; i < 40; i++) c.write("*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n");
    await waitFor(() => {
      let omem = 0;
      for (const cl of server.clients.values()) omem += cl.pendingOutput;
      return omem > 16 * 1024 * 1024;
    }, "output to queue up");
    assert.equal(sockets(server).length, 1);
    c.destroy();
  } finally {
    await close();
  }
});

test("a subscriber that does not read is closed at the pubsub limit; CLIENT LIST shows omem", async () => {
  const { server, port, close } = await startServer({
    config: { "client-output-buffer-limit": "pubsub 4mb 2mb 60" },
  });
  const pub = new Redis({ port, host: HOST });
  try {
    const c = await nonReader(port);
    c.write("*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n");
    const subscribed = () => server.pubsub.channels.get("ch")?.size === 1;
    await waitFor(subscribed, "the subscription");
    const msg = "m".repeat(64 * 1024);
    let omemSeen = 0;
    for (let i = 0; i < 400 && subscribed(); i++) {
      await pub.publish("ch", msg);
      const list = String(await pub.call("CLIENT", "LIST", "TYPE", "pubsub"));
      const m = /omem=(\d+)/.exec(list);
      if (m) omemSeen = Math.max(omemSeen, Number(m[1]));
    }
    await waitFor(() => !subscribed(), "the subscriber to be closed");
    c.destroy();
    assert.ok(omemSeen > 0, "omem showed the queued output");
    assert.equal(await pub.ping(), "PONG");
  } finally {
    pub.disconnect();
    await close();
  }
});

test("a stalled replica shows its channel in omem and is cut at the replica limit, never under the backlog size", async () => {
  const m = await redeno({
    "client-output-buffer-limit": "replica 1mb 0 0",
    "repl-backlog-size": "8mb",
  });
  const fake = await RawConn.connect(m.port);
  try {
    fake.command("PSYNC", "?", "-1");
    await waitFor(() => fake.pending.includes("\r\n$"), "the RDB header");
    fake.socket.pause();
    const big = "v".repeat(256 * 1024);
    const replicaOmem = () => {
      const list = (m.s.dispatch(["CLIENT", "LIST", "TYPE", "replica"]) as VerbatimReply).text;
      return Number(/omem=(\d+)/.exec(list)?.[1] ?? -1);
    };
    const connected = () => field(infoText(m.s, "replication"), "connected_slaves") === "1";
    let maxOmem = 0;
    // Up to 32 MB of writes, one per event-loop turn so that the channel's writer runs.
    for (let i = 0; i < 128 && connected(); i++) {
      m.s.dispatch(["SET", `k${i}`, big]);
      await new Promise((res) => setImmediate(res));
      if (connected()) maxOmem = Math.max(maxOmem, replicaOmem());
    }
    await waitFor(() => !connected(), "the replica to be dropped");
    // Past the 1 MB asked for: the 8 MB backlog is the floor of the replica class's hard limit.
    assert.ok(maxOmem > 1024 * 1024, `omem reached ${maxOmem}`);
    assert.ok(maxOmem < 8 * 1024 * 1024 + big.length * 2, `omem reached ${maxOmem}`);
  } finally {
    fake.close();
    await m.s.close();
  }
});

test("a reply that alone passes the normal hard limit closes the client, as Redis mid-run", async () => {
  const { server, port, close } = await startServer({
    config: { "client-output-buffer-limit": "normal 1000000 0 0" },
  });
  try {
    server.dispatch(["HSET", "h", "a", "b"]);
    server.dispatch(["SADD", "s", "a"]);
    server.dispatch(["ZADD", "z", "1", "a"]);
    for (const cmd of [["HRANDFIELD", "h"], ["SRANDMEMBER", "s"], ["ZRANDMEMBER", "z"]]) {
      const c = await RawConn.connect(port);
      c.command(...cmd, "-999999999");
      assert.equal(await c.waitClosed(), true, `${cmd[0]} closed the client`);
      assert.equal(c.pending, "");
      // A count that fits is answered.
      const d = await RawConn.connect(port);
      d.command(...cmd, "-2");
      assert.equal(await d.read(18), "*2\r\n$1\r\na\r\n$1\r\na\r\n");
      d.close();
    }
  } finally {
    await close();
  }
});
