import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../mod.ts";
import type { Client } from "../core/client.ts";
import { RequestParser } from "../core/resp/parser.ts";
import { ReplyWriter } from "../core/resp/writer.ts";
import { VerbatimReply } from "../core/resp/reply.ts";
import type { Server } from "../core/server.ts";
import { encodeCommand, RawConn, startServer } from "./helpers.ts";

/**
 * What a connection's read buffer may hold while it waits (Deno: sized to its recent batches, up
 * to 64 KiB; Node: nothing between reads).
 */
const READ_BUFFER_MAX = 64 * 1024;

/** Reads one line, without its CRLF. */
async function readLine(c: RawConn): Promise<string> {
  let s = "";
  while (!s.endsWith("\r\n")) s += await c.read(1);
  return s.slice(0, -2);
}

/** The server's Client object of connection `c`. */
async function clientOf(server: Server, c: RawConn): Promise<Client> {
  c.command("CLIENT", "ID");
  const line = await readLine(c);
  const client = server.clients.get(Number(line.slice(1)));
  assert.ok(client, `no client for ${line}`);
  return client;
}

/** Reads one bulk reply (a CLIENT LIST or CLIENT INFO line) and splits its fields. */
async function readFields(c: RawConn): Promise<Record<string, string>> {
  const head = await readLine(c);
  assert.match(head, /^\$\d+$/);
  const body = await c.read(Number(head.slice(1)) + 2);
  return fields(body.slice(0, -2));
}

/** Moves the clock past the idle threshold and the cron's once-a-second round, then ticks. */
function idleTick(server: Server, clock: ManualClock): void {
  clock.advance(2500);
  server.cron();
}

/** CLIENT LIST fields of one client, by name. */
function fields(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of line.trim().split(" ")) {
    const i = kv.indexOf("=");
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

function clientList(c: RawConn, id: number): Promise<Record<string, string>> {
  c.command("CLIENT", "LIST", "ID", String(id));
  return readFields(c);
}

test("after a big pipeline and an idle tick, the connection holds no reply or query buffer", async () => {
  const clock = new ManualClock();
  const { server, port, close } = await startServer({ clock });
  const c = await RawConn.connect(port);
  const watcher = await RawConn.connect(port);
  try {
    const client = await clientOf(server, c);
    const value = "v".repeat(100);
    let pipeline = "";
    for (let i = 0; i < 2000; i++) pipeline += encodeCommand(["SET", `k${i}`, value]);
    pipeline += encodeCommand(["SET", "big", "x".repeat(300_000)]);
    pipeline += encodeCommand(["GET", "big"]);
    pipeline += encodeCommand(["SET", "mid", "m".repeat(40_000)]);
    c.send(pipeline);
    const expected = "+OK\r\n".repeat(2001) + "$300000\r\n" + "x".repeat(300_000) + "\r\n" +
      "+OK\r\n";
    assert.equal(await c.expect(expected), expected);
    // A big value's reply is a part of its own (core/resp/writer.ts), so the buffer is grown by
    // replies shorter than that, twenty in one read (a few hundred bytes: one segment).
    c.send(encodeCommand(["GET", "mid"]).repeat(20));
    const mids = ("$40000\r\n" + "m".repeat(40_000) + "\r\n").repeat(20);
    assert.equal(await c.expect(mids), mids);
    // The batch's reply buffer is still held: it served 800 KB of replies.
    assert.ok(client.memoryUsage().output >= 300_000, `${client.memoryUsage().output}`);

    idleTick(server, clock);
    const m = client.memoryUsage();
    assert.equal(m.output, 0);
    assert.ok(m.query <= READ_BUFFER_MAX, `query ${m.query}`);
    assert.equal(client.out.buf.length, 0);
    assert.equal(client.parser.pending, 0);

    const f = await clientList(watcher, client.id);
    assert.equal(f.qbuf, "0");
    assert.equal(f.rbs, "0");
    assert.equal(f.omem, "0");
    assert.equal(Number(f["tot-mem"]), m.query + m.output);
    assert.equal(Number(f["qbuf-free"]), m.query);

    // The next command allocates again, and gets its reply whole.
    c.command("GET", "big");
    const again = "$300000\r\n" + "x".repeat(300_000) + "\r\n";
    assert.equal(await c.expect(again), again);
  } finally {
    c.close();
    watcher.close();
    await close();
  }
});

test("a busy client's reply buffer is fitted to its recent batches, not its largest ever", async () => {
  const clock = new ManualClock();
  const { server, port, close } = await startServer({ clock });
  const c = await RawConn.connect(port);
  try {
    const client = await clientOf(server, c);
    // Ten 20 KB replies in one batch (a longer value's reply would not go through the buffer).
    c.send(
      encodeCommand(["SET", "big", "y".repeat(20_000)]) +
        encodeCommand(["GET", "big"]).repeat(10),
    );
    const big = "+OK\r\n" + ("$20000\r\n" + "y".repeat(20_000) + "\r\n").repeat(10);
    assert.equal(await c.expect(big), big);
    assert.ok(client.out.capacity >= 200_000, `${client.out.capacity}`);
    for (let round = 0; round < 3; round++) {
      clock.advance(1100);
      // Still busy: a command since the last tick.
      c.command("PING");
      assert.equal(await c.expect("+PONG\r\n"), "+PONG\r\n");
      server.cron();
    }
    assert.ok(client.out.capacity > 0 && client.out.capacity <= 1024, `${client.out.capacity}`);
  } finally {
    c.close();
    await close();
  }
});

test("a connection's read buffer grows for a burst and is fitted back once batches are small", async () => {
  const { server, port, close } = await startServer();
  const c = await RawConn.connect(port);
  try {
    const client = await clientOf(server, c);
    const size = (): number => client.transport?.readBufferSize ?? 0;
    // Deno reads into a buffer of the connection's; Node allocates one per read and holds none.
    const own = size() > 0;
    c.send(encodeCommand(["SET", "k", "w".repeat(200_000)]));
    assert.equal(await c.expect("+OK\r\n"), "+OK\r\n");
    if (own) assert.ok(size() > 1024, `${size()}`);
    // The buffer is fitted every 16 reads, to what they needed: two rounds of single PINGs.
    for (let i = 0; i < 40; i++) {
      c.command("PING");
      assert.equal(await c.expect("+PONG\r\n"), "+PONG\r\n");
    }
    assert.ok(size() <= 1024, `${size()}`);
  } finally {
    c.close();
    await close();
  }
});

test("a frame split across reads survives a trim between its halves", async () => {
  const clock = new ManualClock();
  const { server, port, close } = await startServer({ clock });
  const c = await RawConn.connect(port);
  try {
    const client = await clientOf(server, c);
    // A small argument waits in the parser's own storage, a big one in a buffer of its size.
    const small = encodeCommand(["SET", "small", "hello world"]);
    const large = encodeCommand(["SET", "large", "z".repeat(100_000)]);
    c.send(small.slice(0, small.length - 6));
    await waitFor(() => client.parser.pending > 0);
    idleTick(server, clock);
    assert.ok(client.parser.pending > 0);
    c.send(small.slice(small.length - 6) + large.slice(0, 60_000));
    assert.equal(await c.expect("+OK\r\n"), "+OK\r\n");
    await waitFor(() => client.parser.pending >= 60_000 - 20);
    idleTick(server, clock);
    assert.ok(client.memoryUsage().query >= 100_000, "the big argument's buffer is kept");
    c.send(large.slice(60_000));
    assert.equal(await c.expect("+OK\r\n"), "+OK\r\n");
    c.command("GET", "small");
    c.command("STRLEN", "large");
    const replies = "$11\r\nhello world\r\n:100000\r\n";
    assert.equal(await c.expect(replies), replies);
    assert.equal(client.parser.pending, 0);
  } finally {
    c.close();
    await close();
  }
});

test("a closed connection leaves nothing in server.clients and its close hooks run once", async () => {
  const { server, port, close } = await startServer();
  const base = server.clients.size;
  const closed: number[] = [];
  server.hooks.clientClosed.push((c) => closed.push(c.id));
  const conns = await Promise.all(Array.from({ length: 50 }, () => RawConn.connect(port)));
  try {
    for (const c of conns) c.send("PING\r\n");
    for (const c of conns) assert.equal(await c.expect("+PONG\r\n"), "+PONG\r\n");
    assert.equal(server.clients.size, base + 50);
    const ids = [...server.clients.keys()].slice(base);
    for (const c of conns) c.close();
    await waitFor(() => server.clients.size === base);
    assert.deepEqual([...closed].sort((a, b) => a - b), ids.sort((a, b) => a - b));
    // The trimming round must not trip over clients that went away under it.
    server.cron();
  } finally {
    for (const c of conns) c.close();
    await close();
  }
});

test("CLIENT LIST counts the running command in qbuf and its arguments in argv-mem, as Redis", async () => {
  const { port, close } = await startServer();
  const c = await RawConn.connect(port);
  try {
    c.command("CLIENT", "INFO");
    const f = await readFields(c);
    assert.equal(f.qbuf, "26");
    assert.equal(f["argv-mem"], "10");
    assert.ok(Number(f["tot-mem"]) >= Number(f.rbs) + 10);
  } finally {
    c.close();
    await close();
  }
});

test("ReplyWriter.shrink fits a busy writer to its recent batches and empties an idle one", () => {
  const w = new ReplyWriter(0);
  assert.equal(w.capacity, 0);
  w.bulk("a".repeat(5000));
  w.lend();
  // The 5 KB batch is recent: its buffers stay.
  assert.equal(w.shrink(false), 0);
  assert.ok(w.capacity >= 10_000);
  // A period of small batches only: the big buffers go.
  w.simple("OK");
  w.lend();
  assert.ok(w.shrink(false) > 0);
  assert.ok(w.capacity > 0 && w.capacity <= 1024, `${w.capacity}`);
  assert.ok(w.shrink(true) > 0);
  assert.equal(w.capacity, 0);
  // Writers with a fixed size (persistence, replication) keep it.
  const fixed = new ReplyWriter(4096);
  assert.equal(fixed.shrink(true), 0);
  assert.equal(fixed.capacity, 4096);
});

test("ReplyWriter.shrink never reuses a buffer lent to a write in progress", () => {
  const w = new ReplyWriter(0);
  w.bulk("a".repeat(5000));
  const lent = w.lend();
  const copy = lent.slice();
  w.shrink(true);
  w.bulk("b".repeat(6000));
  w.lend();
  w.bulk("c".repeat(6000));
  assert.deepEqual(lent, copy);
});

test("RequestParser.trim gives back storage once nothing is pending and keeps a partial frame", () => {
  const p = new RequestParser({ maxBulkLen: 512 * 1024 * 1024 });
  const frame = new TextEncoder().encode(encodeCommand(["SET", "k", "v".repeat(1000)]));
  p.feed(frame.subarray(0, 500));
  assert.equal(p.next(), undefined);
  p.release();
  assert.ok(p.capacity >= 500);
  assert.equal(p.trim(), 0, "a small partial frame keeps its storage");
  p.feed(frame.subarray(500));
  assert.deepEqual(p.next(), ["SET", "k", "v".repeat(1000)]);
  p.release();
  assert.equal(p.pending, 0);
  assert.ok(p.trim() > 0);
  assert.equal(p.capacity, 0);
  assert.equal(p.memory, 0);
});

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("Timed out waiting for a condition");
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("a RESP3 verbatim reply ending exactly at the end of the buffer keeps its final CRLF", () => {
  // CLUSTER INFO of 502 bytes filled a 512-byte buffer to the last byte: the CRLF after it was
  // lost, and the client waited for it forever.
  for (let n = 200; n < 1100; n++) {
    const w = new ReplyWriter(0);
    const text = "x".repeat(n);
    w.reply(new VerbatimReply(text), 3);
    const out = new TextDecoder().decode(w.take());
    assert.equal(out, `=${n + 4}\r\ntxt:${text}\r\n`, `text of ${n} bytes`);
  }
});
