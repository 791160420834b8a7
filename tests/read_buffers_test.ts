/**
 * Reads of many connections interleaved: on Node every plain connection is read into one shared
 * buffer (big arguments straight into their own), and a client's reply buffer is reused once the
 * kernel took a batch. Frames split across reads, interleaved with other clients' reads, must
 * come out byte for byte, and replies must not be overwritten by later batches.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeCommand, RawConn, startServer } from "./helpers.ts";
import { prng } from "./redis_compare.ts";

/** A binary (latin1) string of `n` bytes drawn from `rnd`. */
function bytes(rnd: () => number, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(rnd() * 256));
  return s;
}

/** `text` cut at `pieces - 1` random points. */
function split(rnd: () => number, text: string, pieces: number): string[] {
  const cuts = new Set<number>();
  while (cuts.size < pieces - 1) cuts.add(1 + Math.floor(rnd() * (text.length - 1)));
  const at = [0, ...[...cuts].sort((a, b) => a - b), text.length];
  return at.slice(1).map((end, i) => text.slice(at[i], end));
}

/** One round trip on `probe`: what was written before it has most likely been read. */
async function roundTrip(probe: RawConn): Promise<void> {
  probe.command("PING");
  assert.equal(await probe.expect("+PONG\r\n"), "+PONG\r\n");
}

test("frames of many clients split across interleaved reads, big and small, arrive byte for byte", async () => {
  const rnd = prng(20);
  const { port, close } = await startServer();
  const clients: RawConn[] = [];
  try {
    const probe = await RawConn.connect(port);
    const values: string[] = [];
    const pieces: string[][] = [];
    for (let i = 0; i < 8; i++) {
      clients.push(await RawConn.connect(port));
      // Even clients send values big enough to be read in place (parser BIG_ARG is 32 KiB).
      const value = bytes(rnd, i % 2 === 0 ? 100_000 + i * 1000 : 20 + i);
      values.push(value);
      // Two SETs in one stream: the second frame starts inside the read that ends the first.
      const frames = encodeCommand(["SET", `k${i}`, value]) +
        encodeCommand(["SET", `copy${i}`, value]);
      pieces.push(split(rnd, frames, 6));
    }
    for (let p = 0; p < 6; p++) {
      for (let i = 0; i < clients.length; i++) clients[i]!.send(pieces[i]![p]!);
      await roundTrip(probe);
    }
    for (const c of clients) {
      assert.equal(await c.expect("+OK\r\n+OK\r\n", 20_000), "+OK\r\n+OK\r\n");
    }
    // Each client reads its own keys back, all at once, then another client's.
    for (let i = 0; i < clients.length; i++) {
      clients[i]!.command("GET", `k${i}`);
      clients[i]!.command("GET", `copy${(i + 1) % clients.length}`);
    }
    for (let i = 0; i < clients.length; i++) {
      const mine = values[i]!;
      const next = values[(i + 1) % clients.length]!;
      const want = `$${mine.length}\r\n${mine}\r\n$${next.length}\r\n${next}\r\n`;
      const got = await clients[i]!.read(want.length, 20_000);
      assert.ok(got === want, `client ${i}: replies differ from the values sent`);
    }
    probe.close();
  } finally {
    for (const c of clients) c.close();
    await close();
  }
});

test("replies of successive batches are not overwritten by later ones while the socket holds them", async () => {
  const rnd = prng(21);
  const { port, close } = await startServer();
  const clients: RawConn[] = [];
  try {
    const probe = await RawConn.connect(port);
    for (let i = 0; i < 2; i++) clients.push(await RawConn.connect(port));
    // Values under the writer's PART_MIN, batches under its KEEP_MAX: the replies go through
    // the reply buffer, which is kept from batch to batch.
    const values = [0, 1, 2, 3].map(() => bytes(rnd, 100_000));
    for (let k = 0; k < values.length; k++) probe.command("SET", `v${k}`, values[k]!);
    for (let k = 0; k < values.length; k++) assert.equal(await probe.expect("+OK\r\n"), "+OK\r\n");
    // Batches of 8 GETs (800 KB of replies), one read each (most likely: a round trip of
    // another client between them), sent before any reply is read: 45 MB a client fill the
    // loopback socket buffers (up to 32 MB received, 4 MB sent), so the server's sockets keep
    // the later batches queued. A reply buffer reused while its socket still held it would be
    // overwritten by the next batch.
    for (const c of clients) c.socket.pause();
    const expected = clients.map(() => [] as string[]);
    for (let round = 0; round < 56; round++) {
      for (let i = 0; i < clients.length; i++) {
        let batch = "";
        for (let j = 0; j < 8; j++) {
          const k = (round + i + j) % values.length;
          batch += encodeCommand(["GET", `v${k}`]);
          expected[i]!.push(`$${values[k]!.length}\r\n${values[k]}\r\n`);
        }
        clients[i]!.send(batch);
      }
      await roundTrip(probe);
    }
    for (const c of clients) c.socket.resume();
    for (let i = 0; i < clients.length; i++) {
      for (let n = 0; n < expected[i]!.length; n++) {
        const want = expected[i]![n]!;
        const got = await clients[i]!.read(want.length, 20_000);
        assert.ok(got === want, `client ${i}: reply ${n} differs`);
      }
      assert.equal(clients[i]!.pending, "");
    }
    probe.close();
  } finally {
    for (const c of clients) c.close();
    await close();
  }
});

test("a read shorter than the one before it parses only its own bytes, not what the buffer held", async () => {
  const { port, close } = await startServer();
  try {
    const probe = await RawConn.connect(port);
    const c = await RawConn.connect(port);
    // The read buffer (shared on Node, the connection's on Deno) holds a whole PING...
    c.send("*1\r\n$4\r\nPING\r\n");
    assert.equal(await c.expect("+PONG\r\n"), "+PONG\r\n");
    await roundTrip(probe);
    // ...when a shorter read lands on it: the frame is incomplete, whatever bytes follow in the
    // buffer ("NG\r\n" of the last read).
    c.send("*1\r\n$4\r\nPI");
    await roundTrip(probe);
    c.send("NG\r\n");
    c.command("ECHO", "done");
    const want = "+PONG\r\n$4\r\ndone\r\n";
    assert.equal(await c.read(want.length), want);
    await roundTrip(probe);
    assert.equal(c.pending, "");
    c.close();
    probe.close();
  } finally {
    await close();
  }
});
