/**
 * The request parser over real sockets: pipelining, frames split anywhere, inline commands,
 * Redis's exact protocol errors (each followed by a close), the query buffer and authentication
 * limits, and hostile or garbage input that must not hurt the server or other clients.
 *
 * Every expected byte string is Redis 7.0's. To check them against a real redis-server, run
 * `REDENO_PROTOCOL_TARGET=redis-server node --import tsx --test tests/protocol_test.ts`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import * as net from "node:net";
import process from "node:process";
import { encodeCommand, RawConn, startServer } from "./helpers.ts";
import { prng } from "./redis_compare.ts";

/** A server under test: redeno in-process, or redis-server when the environment asks for it. */
interface Target {
  port: number;
  close(): Promise<void>;
}

const useRedis = process.env.REDENO_PROTOCOL_TARGET === "redis-server";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen({ port: 0, host: "127.0.0.1" }, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function startRedisServer(config: Record<string, string>): Promise<Target> {
  const port = await freePort();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  for (const [k, v] of Object.entries(config)) args.push(`--${k}`, v);
  const proc: ChildProcess = spawn("redis-server", args, { stdio: "ignore" });
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  const close = async () => {
    proc.kill("SIGKILL");
    await exited;
  };
  for (let i = 0; i < 200; i++) {
    try {
      (await RawConn.connect(port)).close();
      return { port, close };
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  await close();
  throw new Error(`redis-server did not start on port ${port}`);
}

/** Starts the server under test with the given config directives. */
function target(config: Record<string, string> = {}): Promise<Target> {
  return useRedis ? startRedisServer(config) : startServer({ config });
}

/** Connects with Nagle off, so each send leaves as its own segment. */
async function connect(port: number): Promise<RawConn> {
  const c = await RawConn.connect(port);
  c.socket.setNoDelay(true);
  return c;
}

function tick(ms = 1): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Sends `input`, expects exactly `reply`, then expects the server to close the connection. */
async function expectErrorAndClose(port: number, input: string, reply: string): Promise<void> {
  const c = await connect(port);
  try {
    c.send(input);
    assert.equal(await c.expect(reply), reply);
    assert.equal(await c.waitClosed(), true, `connection left open after ${JSON.stringify(reply)}`);
    assert.equal(c.pending, "");
  } finally {
    c.close();
  }
}

/** Checks that a fresh client is served (PING, then `GET key` when given). */
async function assertServing(port: number, key?: string, value?: string): Promise<void> {
  const c = await connect(port);
  try {
    c.send("PING\r\n");
    assert.equal(await c.expect("+PONG\r\n"), "+PONG\r\n");
    if (key !== undefined && value !== undefined) {
      c.command("GET", key);
      const want = `$${value.length}\r\n${value}\r\n`;
      assert.equal(await c.expect(want), want);
    }
  } finally {
    c.close();
  }
}

// A mix of frame kinds; its replies are SPLIT_REPLIES. Binary bytes and CRLF inside arguments,
// an inline command with escapes, and the frames Redis skips (*0, *-1, blank lines).
const SPLIT_INPUT = "*3\r\n$3\r\nSET\r\n$4\r\nk\r\n1\r\n$5\r\na\r\nb\x00\r\n" +
  'GET "k\\r\\n1"\r\n' +
  "*0\r\n\r\n\n" +
  "PING\n" +
  "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n" +
  "*-1\r\n" +
  "*2\r\n$4\r\nECHO\r\n$3\r\n\xff\xfe\r\r\n";
const SPLIT_REPLIES = "+OK\r\n$5\r\na\r\nb\x00\r\n+PONG\r\n$0\r\n\r\n$3\r\n\xff\xfe\r\r\n";

test("a pipeline of 3000 commands in one write is answered in order", async () => {
  const t = await target();
  const c = await connect(t.port);
  try {
    let input = "";
    let want = "";
    for (let i = 0; i < 1000; i++) {
      input += encodeCommand(["SET", `key:${i}`, `value:${i}`]) + `GET key:${i}\r\n`;
      input += encodeCommand(["ECHO", `e${i}`]);
      want += `+OK\r\n$${`value:${i}`.length}\r\nvalue:${i}\r\n$${`e${i}`.length}\r\ne${i}\r\n`;
    }
    c.send(input);
    assert.equal(await c.expect(want), want);
  } finally {
    c.close();
    await t.close();
  }
});

test("arguments that differ only inside (same length, first and last byte) stay distinct", async () => {
  // The parser reuses recently seen short arguments: only equal bytes may give the same string.
  const t = await target();
  const c = await connect(t.port);
  try {
    const mids = ["\x00", "\x01", "b", "\xff", "\x80"];
    const keys = [
      ...mids.map((m) => `k${m}z`),
      ...mids.map((m) => `key:${m}${"0".repeat(20)}9`),
      "a".repeat(32),
      "a".repeat(15) + "b" + "a".repeat(16),
    ];
    let input = "";
    let want = "";
    for (const k of keys) input += encodeCommand(["SET", k, `v:${k}`]);
    for (const k of keys) {
      input += encodeCommand(["GET", k]);
      input += encodeCommand(["ECHO", k]);
    }
    for (const _ of keys) want += "+OK\r\n";
    for (const k of keys) want += `$${k.length + 2}\r\nv:${k}\r\n$${k.length}\r\n${k}\r\n`;
    c.send(input);
    assert.equal(await c.expect(want), want);
  } finally {
    c.close();
    await t.close();
  }
});

test("replies larger than the socket buffers arrive complete while the client reads slowly", async () => {
  const t = await target();
  const c = await connect(t.port);
  try {
    const value = "v".repeat(4096);
    c.command("SET", "big", value);
    assert.equal(await c.expect("+OK\r\n"), "+OK\r\n");
    c.socket.pause();
    c.send(encodeCommand(["GET", "big"]).repeat(5000));
    await tick(200);
    c.socket.resume();
    const one = `$4096\r\n${value}\r\n`;
    assert.equal(await c.expect(one.repeat(5000), 20_000), one.repeat(5000));
  } finally {
    c.close();
    await t.close();
  }
});

test("frames sent one byte at a time parse as if sent at once", async () => {
  const t = await target();
  const c = await connect(t.port);
  try {
    for (const ch of SPLIT_INPUT) {
      c.send(ch);
      await tick();
    }
    assert.equal(await c.expect(SPLIT_REPLIES), SPLIT_REPLIES);
  } finally {
    c.close();
    await t.close();
  }
});

test("frames split at every byte boundary parse as if sent at once", async () => {
  const t = await target();
  const c = await connect(t.port);
  try {
    for (let cut = 1; cut < SPLIT_INPUT.length; cut++) {
      c.send(SPLIT_INPUT.slice(0, cut));
      await tick();
      c.send(SPLIT_INPUT.slice(cut));
      assert.equal(await c.expect(SPLIT_REPLIES), SPLIT_REPLIES, `split at byte ${cut}`);
    }
  } finally {
    c.close();
    await t.close();
  }
});

test("frames split at random points (seeded) parse as if sent at once", async () => {
  const t = await target();
  const c = await connect(t.port);
  const random = prng(0x5eed);
  try {
    const input = SPLIT_INPUT.repeat(4);
    for (let round = 0; round < 40; round++) {
      let p = 0;
      while (p < input.length) {
        const n = 1 + Math.floor(random() * 40);
        c.send(input.slice(p, p + n));
        p += n;
        if (random() < 0.5) await tick();
      }
      const want = SPLIT_REPLIES.repeat(4);
      assert.equal(await c.expect(want), want, `round ${round}`);
    }
  } finally {
    c.close();
    await t.close();
  }
});

test("inline commands take double-quoted escapes and single-quoted strings", async () => {
  const t = await target();
  const c = await connect(t.port);
  try {
    c.send('PING\r\nSET a "b c"\r\nGET a\r\n');
    assert.equal(await c.expect("+PONG\r\n+OK\r\n$3\r\nb c\r\n"), "+PONG\r\n+OK\r\n$3\r\nb c\r\n");
    c.send('SET x "\\x41\\n\\t\\x4g\\q\\"z"\r\nGET x\r\n');
    assert.equal(await c.expect('+OK\r\n$9\r\nA\n\tx4gq"z\r\n'), '+OK\r\n$9\r\nA\n\tx4gq"z\r\n');
    c.send("SET y 'it\\'s\\n'\r\nGET y\r\nSET e \"\"\r\nSTRLEN e\r\n");
    const want = "+OK\r\n$6\r\nit's\\n\r\n+OK\r\n:0\r\n";
    assert.equal(await c.expect(want), want);
    c.send("ECHO  spaced\t \r\nPING\n");
    assert.equal(await c.expect("$6\r\nspaced\r\n+PONG\r\n"), "$6\r\nspaced\r\n+PONG\r\n");
  } finally {
    c.close();
    await t.close();
  }
});

test("unbalanced quotes in an inline command are a protocol error that closes", async () => {
  const t = await target();
  try {
    const err = "-ERR Protocol error: unbalanced quotes in request\r\n";
    await expectErrorAndClose(t.port, 'PING\r\nSET a "b\r\nPING\r\n', `+PONG\r\n${err}`);
    await expectErrorAndClose(t.port, "SET a 'b\r\n", err);
    await expectErrorAndClose(t.port, 'SET a "b"c\r\n', err);
    await assertServing(t.port);
  } finally {
    await t.close();
  }
});

test("*0, *-1 and empty lines are skipped without a reply", async () => {
  const t = await target();
  const c = await connect(t.port);
  try {
    c.send("*0\r\n\r\n\n   \r\n*-1\r\n*-7\r\nPING\r\n*0\r\n");
    assert.equal(await c.expect("+PONG\r\n"), "+PONG\r\n");
    c.send("*1\r\n$4\r\nPING\r\n");
    assert.equal(await c.expect("+PONG\r\n"), "+PONG\r\n");
    assert.equal(c.closed, false);
  } finally {
    c.close();
    await t.close();
  }
});

const PROTOCOL_ERRORS: Array<[string, string, string]> = [
  ["a non-bulk argument", "*3\r\n$3\r\nSET\r\n:1\r\n", "expected '$', got ':'"],
  ["a simple string argument", "PING\r\n*1\r\n+PING\r\n", "expected '$', got '+'"],
  ["a bulk over proto-max-bulk-len", "*1\r\n$600000000\r\n", "invalid bulk length"],
  ["a negative bulk length", "*1\r\n$-1\r\n", "invalid bulk length"],
  ["a bulk length with a leading zero", "*1\r\n$04\r\nPING\r\n", "invalid bulk length"],
  ["a bulk length that is not a number", "*1\r\n$abc\r\n", "invalid bulk length"],
  ["a multibulk length that is not a number", "*abc\r\n", "invalid multibulk length"],
  ["a multibulk length with a plus sign", "*+1\r\n$4\r\nPING\r\n", "invalid multibulk length"],
  ["a multibulk length over INT_MAX", "*2147483648\r\n", "invalid multibulk length"],
  ["a multibulk header ended by LF only", "*1\n$4\r\nPING\r\n", "invalid multibulk length"],
  ["a 70KB inline line with no newline", "A".repeat(70_000), "too big inline request"],
  ["a 64KB+1 inline line with no newline", "A".repeat(65_537), "too big inline request"],
  ["a multibulk count line over 64KB", "*" + "1".repeat(70_000), "too big mbulk count string"],
  ["a bulk count line over 64KB", "*1\r\n$" + "1".repeat(70_000), "too big bulk count string"],
];

for (const [what, input, message] of PROTOCOL_ERRORS) {
  test(`${what} gets "Protocol error: ${message}" and a close`, async () => {
    const t = await target();
    try {
      const prefix = input.startsWith("PING") ? "+PONG\r\n" : "";
      await expectErrorAndClose(t.port, input, `${prefix}-ERR Protocol error: ${message}\r\n`);
      await assertServing(t.port);
    } finally {
      await t.close();
    }
  });
}

// Redis closes the socket after a protocol error, it does not only half-close it: a client that
// keeps sending (Redis's "Protocol desync regression" tests) gets its writes refused instead of
// having them read and dropped forever.
for (const start of ["\x00", "*\x00", "$\x00"]) {
  test(`a client that keeps writing after ${JSON.stringify(start)} and its protocol error is reset`, async () => {
    const t = await target();
    const s = net.connect({ port: t.port, host: "127.0.0.1", allowHalfOpen: true });
    try {
      let got = "";
      let failed = false;
      const ended = new Promise<void>((r) => s.once("end", () => r()));
      s.setEncoding("latin1");
      s.on("data", (d: string) => (got += d));
      s.on("error", () => (failed = true));
      await new Promise<void>((r) => s.once("connect", () => r()));
      s.write(start);
      // 70 writes of 1KB pass the 64KB limit on an unfinished line.
      for (let i = 0; i < 70; i++) s.write("A".repeat(1024));
      await ended;
      assert.match(
        got,
        /^-ERR Protocol error: too big (inline request|mbulk count string|bulk count string)\r\n$/,
      );
      // Keep writing, as the client that has not noticed: a closed socket answers with a reset.
      for (let i = 0; i < 200 && !failed; i++) {
        await new Promise<void>((r) => s.write("payload", () => r()));
        await tick(5);
      }
      assert.equal(failed, true, "writes after the protocol error were still accepted");
    } finally {
      s.destroy();
      await t.close();
    }
  });
}

test("an inline line of exactly 64KB with no newline yet keeps waiting", async () => {
  const t = await target();
  const c = await connect(t.port);
  try {
    c.send("ECHO " + "a".repeat(65_536 - 5));
    await assertServing(t.port);
    await tick(100);
    assert.equal(c.closed, false);
    c.send("\r\n");
    const want = `$${65_536 - 5}\r\n${"a".repeat(65_536 - 5)}\r\n`;
    assert.equal(await c.expect(want), want);
  } finally {
    c.close();
    await t.close();
  }
});

test("CONFIG SET proto-max-bulk-len applies to the next bulk", async () => {
  const t = await target();
  const c = await connect(t.port);
  try {
    c.command("CONFIG", "SET", "proto-max-bulk-len", "1mb");
    assert.equal(await c.expect("+OK\r\n"), "+OK\r\n");
    const value = "x".repeat(1024 * 1024);
    c.command("SET", "k", value);
    assert.equal(await c.expect("+OK\r\n"), "+OK\r\n");
    await expectErrorAndClose(
      t.port,
      "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n",
      "-ERR Protocol error: invalid bulk length\r\n",
    );
    c.command("STRLEN", "k");
    assert.equal(await c.expect(":1048576\r\n"), ":1048576\r\n");
  } finally {
    c.close();
    await t.close();
  }
});

test("a *1000000 header with nothing after it neither blocks others nor gets closed", async () => {
  const t = await target();
  const hostile = await connect(t.port);
  try {
    hostile.send("*1000000\r\n");
    await assertServing(t.port);
    await tick(100);
    assert.equal(hostile.closed, false);
    assert.equal(hostile.pending, "");
    // The frame still completes argument by argument.
    hostile.send("$4\r\nPING\r\n");
    await assertServing(t.port);
    assert.equal(hostile.closed, false);
  } finally {
    hostile.close();
    await t.close();
  }
});

test("a client that stalls in the middle of a frame does not block others, and can finish it", async () => {
  const t = await target();
  const staller = await connect(t.port);
  try {
    staller.send("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nab");
    for (let i = 0; i < 3; i++) await assertServing(t.port);
    const other = await connect(t.port);
    other.command("SET", "other", "1");
    assert.equal(await other.expect("+OK\r\n"), "+OK\r\n");
    other.close();
    assert.equal(staller.pending, "");
    staller.send("cde\r\n");
    assert.equal(await staller.expect("+OK\r\n"), "+OK\r\n");
    await assertServing(t.port, "k", "abcde");
  } finally {
    staller.close();
    await t.close();
  }
});

test("seeded random garbage never kills the server or touches existing data", async () => {
  const t = await target();
  const random = prng(20240607);
  const guard = "guard value \x00\xff";
  // Frame-like pieces mixed into half the rounds, to get past the first line more often.
  const pieces = ["*", "$", "\r\n", "*3\r\n", "$3\r\nGET\r\n", '"', "'", "\\x", "*-1\r\n"];
  try {
    const setup = await connect(t.port);
    setup.command("SET", "guard", guard);
    assert.equal(await setup.expect("+OK\r\n"), "+OK\r\n");
    setup.close();
    for (let round = 0; round < 6; round++) {
      let data = "";
      while (data.length < 300_000) {
        data += round % 2 === 1 && random() < 0.2
          ? pieces[Math.floor(random() * pieces.length)]!
          : String.fromCharCode(Math.floor(random() * 256));
      }
      // Feed all of it; when the server closes a connection (protocol error), go on with a new one.
      let connections = 0;
      let replies = "";
      for (let p = 0; p < data.length;) {
        const c = await connect(t.port);
        connections++;
        while (p < data.length && !c.closed) {
          const n = 1 + Math.floor(random() * 8192);
          c.send(data.slice(p, p + n));
          p += n;
          await tick(random() < 0.1 ? 1 : 0);
        }
        await tick(5);
        replies += c.pending;
        c.close();
      }
      assert.ok(replies.includes("-ERR "), `round ${round}: the garbage got no error replies`);
      assert.ok(connections > 1, `round ${round}: no protocol error closed a connection`);
      await assertServing(t.port, "guard", guard);
    }
  } finally {
    await t.close();
  }
});

test("a client over client-query-buffer-limit is disconnected, others are not", async () => {
  const t = await target();
  const admin = await connect(t.port);
  const flooder = await connect(t.port);
  try {
    admin.command("CONFIG", "SET", "client-query-buffer-limit", "1mb");
    assert.equal(await admin.expect("+OK\r\n"), "+OK\r\n");
    // A 3MB argument sent 64KB at a time and never finished.
    flooder.send("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$3000000\r\n");
    const piece = "a".repeat(64 * 1024);
    for (let i = 0; i < 32 && !flooder.closed; i++) {
      flooder.send(piece);
      await tick(5);
    }
    assert.equal(await flooder.waitClosed(), true, "the flooding client is still connected");
    assert.equal(flooder.pending, "");
    admin.command("EXISTS", "big");
    assert.equal(await admin.expect(":0\r\n"), ":0\r\n");
    await assertServing(t.port);
  } finally {
    flooder.close();
    admin.close();
    await t.close();
  }
});

test("a client under client-query-buffer-limit set at start-up can send a 900KB argument", async () => {
  const t = await target({ "client-query-buffer-limit": "1mb" });
  const c = await connect(t.port);
  try {
    const value = "b".repeat(900 * 1024);
    const frame = encodeCommand(["SET", "k", value]);
    for (let p = 0; p < frame.length; p += 32 * 1024) {
      c.send(frame.slice(p, p + 32 * 1024));
      await tick();
    }
    assert.equal(await c.expect("+OK\r\n"), "+OK\r\n");
    c.command("STRLEN", "k");
    assert.equal(await c.expect(":921600\r\n"), ":921600\r\n");
  } finally {
    c.close();
    await t.close();
  }
});

test("before AUTH: NOAUTH replies and tighter multibulk and bulk limits", async () => {
  const t = await target({ requirepass: "s3cret" });
  const c = await connect(t.port);
  try {
    const noauth = "-NOAUTH Authentication required.\r\n";
    c.send("PING\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n");
    assert.equal(await c.expect(noauth + noauth), noauth + noauth);
    // Ten arguments and a 16384-byte bulk are still allowed before AUTH.
    c.send(encodeCommand(["DEL", "a", "b", "c", "d", "e", "f", "g", "h", "i"]));
    c.send(encodeCommand(["ECHO", "x".repeat(16384)]));
    assert.equal(await c.expect(noauth + noauth), noauth + noauth);
    assert.equal(c.closed, false);
    await expectErrorAndClose(
      t.port,
      "*11\r\n",
      "-ERR Protocol error: unauthenticated multibulk length\r\n",
    );
    await expectErrorAndClose(
      t.port,
      "*2\r\n$4\r\nECHO\r\n$16385\r\n",
      "-ERR Protocol error: unauthenticated bulk length\r\n",
    );
    c.send("AUTH s3cret\r\n");
    assert.equal(await c.expect("+OK\r\n"), "+OK\r\n");
    // Thirteen arguments and a 20000-byte bulk once authenticated.
    const pairs = Array.from({ length: 10 }, (_, i) => `m${i}`);
    c.command("MSET", "k", "x".repeat(20_000), ...pairs);
    c.command("STRLEN", "k");
    assert.equal(await c.expect("+OK\r\n:20000\r\n"), "+OK\r\n:20000\r\n");
  } finally {
    c.close();
    await t.close();
  }
});
