/**
 * A client that writes a whole pipeline before reading any reply is read on, as Redis reads it
 * (its replies wait in the server), and every reply arrives whole and in order while reads and
 * writes of one connection overlap.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { Buffer } from "node:buffer";
import { startTestServer } from "../testing.ts";

function command(...argv: string[]): string {
  return `*${argv.length}\r\n${argv.map((a) => `$${a.length}\r\n${a}\r\n`).join("")}`;
}

/** Connects without reading: data waits in the kernel until `collect` is called. */
async function connect(port: number): Promise<net.Socket> {
  const s = net.connect({ port, host: "127.0.0.1" });
  await new Promise<void>((resolve, reject) => {
    s.once("connect", () => resolve());
    s.once("error", reject);
  });
  s.pause();
  return s;
}

/** Reads until `bytes` bytes came (or `ms` passed); returns what came. */
function collect(s: net.Socket, bytes: number, ms: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let n = 0;
    const done = () => {
      clearTimeout(timer);
      s.off("data", onData);
      resolve(Buffer.concat(parts));
    };
    const onData = (d: Buffer) => {
      parts.push(d);
      n += d.length;
      if (n >= bytes) done();
    };
    const timer = setTimeout(done, ms);
    s.on("data", onData);
    s.resume();
  });
}

test("a pipeline written whole before any reply is read is taken whole", async () => {
  await using t = await startTestServer();
  const s = await connect(t.port);
  try {
    const count = 300_000;
    const word = "w".repeat(40);
    const one = command("ECHO", word);
    // ~19 MB of requests and ~14 MB of replies: far more than the kernel buffers either way.
    const written = new Promise<boolean>((resolve) => {
      s.write(Buffer.from(one.repeat(count), "latin1"), () => resolve(true));
      setTimeout(() => resolve(false), 20_000);
    });
    assert.equal(await written, true, "the server read every request before any reply was read");
    const reply = `$40\r\n${word}\r\n`;
    const replies = await collect(s, count * reply.length, 20_000);
    assert.equal(replies.length, count * reply.length);
    assert.ok(replies.toString("latin1") === reply.repeat(count), "every reply, in order");
  } finally {
    s.destroy();
  }
});

test("replies stay whole and in order while a connection reads and writes at once", async () => {
  await using t = await startTestServer();
  const s = await connect(t.port);
  try {
    const n = 20_000;
    let sets = "";
    for (let i = 0; i < n; i++) {
      sets += command("SET", `key:${i}`, `value:${i}:${"x".repeat(i % 50)}`);
    }
    s.write(Buffer.from(sets, "latin1"));
    assert.equal((await collect(s, n * 5, 20_000)).toString("latin1"), "+OK\r\n".repeat(n));
    s.pause();
    let gets = "";
    let expected = "";
    for (let i = 0; i < n; i++) {
      gets += command("GET", `key:${i}`);
      const v = `value:${i}:${"x".repeat(i % 50)}`;
      expected += `$${v.length}\r\n${v}\r\n`;
    }
    // Written in uneven slices, so batches and replies interleave in many ways.
    const bytes = Buffer.from(gets, "latin1");
    for (let at = 0, k = 1; at < bytes.length; k++) {
      const next = Math.min(bytes.length, at + 997 * (k % 13 + 1));
      s.write(bytes.subarray(at, next));
      at = next;
    }
    const got = await collect(s, expected.length, 20_000);
    assert.equal(got.length, expected.length);
    assert.ok(got.toString("latin1") === expected, "every GET reply, whole and in order");
  } finally {
    s.destroy();
  }
});
