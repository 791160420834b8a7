/**
 * Big values (tens of KiB to MiBs) between the socket and the keyspace and back: a value split
 * across many reads lands whole (on Deno the rest of a big argument is read straight into its
 * buffer, and the command behind it in the same read must stay untouched), and GET answers its
 * exact bytes whether the value is ASCII (written with the native encoder), binary, or ASCII
 * but for one byte just inside, at, or past the encoder's probe of 4096 bytes.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { Buffer } from "node:buffer";
import { Redis } from "ioredis";
import { startServer } from "./helpers.ts";

/** A raw connection reading bytes: replies are checked byte for byte. */
class Bytes {
  private data = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private closed = false;
  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on("data", (d: Buffer) => {
      this.data = Buffer.concat([this.data, d]);
      this.wake?.();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake?.();
    });
  }

  static connect(port: number): Promise<Bytes> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: "127.0.0.1" }, () => resolve(new Bytes(s)));
      s.once("error", reject);
    });
  }

  /** Writes `bytes` in pieces of the given sizes (cycled), each after the previous is flushed. */
  async write(bytes: Buffer, pieces: number[]): Promise<void> {
    let at = 0;
    for (let i = 0; at < bytes.length; i++) {
      const n = pieces[i % pieces.length]!;
      const part = bytes.subarray(at, at + n);
      at += part.length;
      await new Promise<void>((resolve, reject) =>
        this.socket.write(part, (e) => (e ? reject(e) : resolve()))
      );
      // Let the server read this piece on its own before the next arrives.
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  /** Waits for exactly `n` bytes and returns them. */
  async read(n: number): Promise<Buffer> {
    for (let i = 0; this.data.length < n; i++) {
      if (this.closed) throw new Error(`Closed with ${this.data.length} of ${n} bytes`);
      assert.ok(i < 100_000, "reply never came");
      await new Promise<void>((r) => (this.wake = r));
    }
    const out = this.data.subarray(0, n);
    this.data = this.data.subarray(n);
    return out;
  }

  close(): void {
    this.socket.destroy();
  }
}

function command(...argv: Array<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${argv.length}\r\n`)];
  for (const a of argv) {
    const b = typeof a === "string" ? Buffer.from(a, "latin1") : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from("\r\n"));
  }
  return Buffer.concat(parts);
}

function bulk(b: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`$${b.length}\r\n`), b, Buffer.from("\r\n")]);
}

/** Values of each shape the encoder and decoder treat differently. */
function values(): Array<[string, Buffer]> {
  const ascii = (n: number): Buffer => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = 32 + (i * 13) % 95;
    return b;
  };
  const binary = (n: number): Buffer => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >> 8)) & 255;
    return b;
  };
  const withByte = (n: number, at: number, byte: number): Buffer => {
    const b = ascii(n);
    b[at] = byte;
    return b;
  };
  return [
    ["ascii 1 MiB", ascii(1 << 20)],
    ["binary 1 MiB", binary(1 << 20)],
    ["ascii 100 KiB but 0xe9 at 4095", withByte(100 * 1024, 4095, 0xe9)],
    ["ascii 100 KiB but 0x80 at 4096", withByte(100 * 1024, 4096, 0x80)],
    ["ascii 100 KiB but 0xff last", withByte(100 * 1024, 100 * 1024 - 1, 0xff)],
    ["ascii 40 KiB but NUL first", withByte(40 * 1024, 0, 0)],
    ["binary 5000 bytes", binary(5000)],
    ["ascii 4096 bytes", ascii(4096)],
    // Shorter values take the same writer (core/bytes.ts writeStr) around its thresholds.
    ...[17, 63, 64, 65, 100, 1000].flatMap((n): Array<[string, Buffer]> => [
      [`ascii ${n} bytes`, ascii(n)],
      [`binary ${n} bytes`, binary(n)],
      [`ascii ${n} bytes but 0x80 last`, withByte(n, n - 1, 0x80)],
    ]),
  ];
}

test("big values split across many reads are stored and answered byte for byte", async () => {
  const { port, close } = await startServer();
  const c = await Bytes.connect(port);
  try {
    for (const [name, value] of values()) {
      // The value's tail, the GET and a PING arrive in one piece: the read that ends the value
      // must leave the commands behind it to the parser.
      const req = Buffer.concat([
        command("SET", name, value),
        command("GET", name),
        command("PING"),
      ]);
      await c.write(req, [1, 3, 7, 30_000, 65_536, 200_000, 10]);
      const expected = Buffer.concat([
        Buffer.from("+OK\r\n"),
        bulk(value),
        Buffer.from("+PONG\r\n"),
      ]);
      const got = await c.read(expected.length);
      assert.ok(got.equals(expected), `${name}: reply differs`);
    }
  } finally {
    c.close();
    await close();
  }
});

test("pipelined big SETs and GETs in one write come back in order", async () => {
  const { port, close } = await startServer();
  const c = await Bytes.connect(port);
  try {
    const all = values();
    const req = Buffer.concat([
      ...all.map(([name, value]) => command("SET", `p:${name}`, value)),
      ...all.map(([name]) => command("GET", `p:${name}`)),
      command("STRLEN", `p:${all[0]![0]}`),
    ]);
    await c.write(req, [req.length]);
    const expected = Buffer.concat([
      ...all.map(() => Buffer.from("+OK\r\n")),
      ...all.map(([, value]) => bulk(value)),
      Buffer.from(`:${all[0]![1].length}\r\n`),
    ]);
    const got = await c.read(expected.length);
    assert.ok(got.equals(expected), "pipelined replies differ");
  } finally {
    c.close();
    await close();
  }
});

test("ioredis SET and GET of big binary and text values, and APPEND to one", async () => {
  const { port, close } = await startServer();
  const r = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
  await r.connect();
  try {
    for (const [name, value] of values()) {
      assert.equal(await r.set(name, value), "OK");
      const got = await r.getBuffer(name);
      assert.ok(got !== null && got.equals(value), `${name}: GET differs`);
    }
    const [name, value] = values()[0]!;
    assert.equal(await r.append(name, Buffer.from([0xc3, 0xa9])), value.length + 2);
    const got = await r.getBuffer(name);
    assert.ok(got?.equals(Buffer.concat([value, Buffer.from([0xc3, 0xa9])])), "APPEND differs");
  } finally {
    r.disconnect();
    await close();
  }
});

test("big replies keep their order among small ones: EXEC, pub/sub messages, RESP3", async () => {
  const { port, close } = await startServer();
  const c = await Bytes.connect(port);
  const sub = await Bytes.connect(port);
  try {
    const big = values()[1]![1];
    const mid = values()[2]![1];
    const req = Buffer.concat([
      command("SET", "b", big),
      command("MULTI"),
      command("GET", "b"),
      command("PING"),
      command("GET", "b"),
      command("EXEC"),
    ]);
    await c.write(req, [req.length]);
    const head = "+OK\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n";
    const exec = Buffer.concat([Buffer.from(head), bulk(big), Buffer.from("+PONG\r\n"), bulk(big)]);
    assert.ok((await c.read(exec.length)).equals(exec), "EXEC reply differs");
    // RESP3: HELLO's map (it ends with its empty module list), then a big value and a small one.
    await c.write(command("HELLO", "3"), [64]);
    let hello = "";
    while (!hello.endsWith("modules\r\n*0\r\n")) {
      hello += (await c.read(1)).toString("latin1");
      assert.ok(hello.length < 2000, "no end to HELLO's reply");
    }
    const more = Buffer.concat([command("GET", "b"), command("ECHO", "after")]);
    await c.write(more, [more.length]);
    const after = Buffer.concat([bulk(big), Buffer.from("$5\r\nafter\r\n")]);
    assert.ok((await c.read(after.length)).equals(after), "RESP3 replies differ");

    await sub.write(command("SUBSCRIBE", "ch"), [64]);
    const subscribed = "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n";
    assert.equal((await sub.read(subscribed.length)).toString(), subscribed);
    const pubs = Buffer.concat([
      command("PUBLISH", "ch", big),
      command("PUBLISH", "ch", mid),
      command("PUBLISH", "ch", "small"),
    ]);
    await c.write(pubs, [pubs.length]);
    const messages = Buffer.concat([
      Buffer.from("*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n"),
      bulk(big),
      Buffer.from("*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n"),
      bulk(mid),
      Buffer.from("*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nsmall\r\n"),
    ]);
    assert.ok((await sub.read(messages.length)).equals(messages), "messages differ");
    assert.equal((await c.read(12)).toString(), ":1\r\n:1\r\n:1\r\n");
  } finally {
    c.close();
    sub.close();
    await close();
  }
});

test("big arguments of several connections arriving interleaved keep their own bytes", async () => {
  // The buffers big arguments are read into are reused once their bytes are a string: values
  // filling at the same time, one abandoned halfway, and a smaller one after a bigger one must
  // each keep their own bytes.
  const { port, close } = await startServer();
  const conns = await Promise.all([1, 2, 3, 4].map(() => Bytes.connect(port)));
  const [a, b, c, quitter] = conns as [Bytes, Bytes, Bytes, Bytes];
  const value = (n: number, seed: number): Buffer => {
    const v = Buffer.alloc(n);
    for (let i = 0; i < n; i++) v[i] = (i * 31 + seed * 101 + (i >> 9)) & 255;
    return v;
  };
  try {
    for (let round = 0; round < 3; round++) {
      const sizes = [1 << 20, 300 * 1024, 40 * 1024];
      const vals = sizes.map((n, i) => value(n - round * 1000, round * 3 + i));
      const reqs = vals.map((v, i) => command("SET", `k${i}`, v));
      const abandoned = command("SET", "gone", value(600 * 1024, 99));
      const halves = (r: Buffer): [Buffer, Buffer] => [
        r.subarray(0, r.length >> 1),
        r.subarray(r.length >> 1),
      ];
      const [a1, a2] = halves(reqs[0]!);
      const [b1, b2] = halves(reqs[1]!);
      const [c1, c2] = halves(reqs[2]!);
      if (round === 0) await quitter.write(halves(abandoned)[0], [65_536]);
      await a.write(a1, [65_536]);
      await b.write(b1, [65_536]);
      await c.write(c1, [65_536]);
      if (round === 0) quitter.close();
      await c.write(c2, [65_536]);
      await a.write(a2, [65_536]);
      await b.write(b2, [65_536]);
      for (const conn of [a, b, c]) assert.ok((await conn.read(5)).equals(Buffer.from("+OK\r\n")));
      for (let i = 0; i < vals.length; i++) {
        await a.write(command("GET", `k${i}`), [1 << 20]);
        const got = await a.read(bulk(vals[i]!).length);
        assert.ok(got.equals(bulk(vals[i]!)), `round ${round}: value ${i} differs`);
      }
    }
  } finally {
    for (const conn of conns) conn.close();
    await close();
  }
});
