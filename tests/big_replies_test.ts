/**
 * Buffers of big replies and big arguments are reused (core/resp/arg_buffers.ts): a reply of at
 * least 256 KiB is encoded into a buffer of its own, which goes back to the spares once the
 * socket has sent it, and the next big reply or argument may take it. A buffer given back too
 * early would be overwritten while the socket still sends it; a connection closing mid-argument
 * or with replies queued must leave every other connection's bytes intact.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { encodeCommand, RawConn, startServer } from "./helpers.ts";
import { prng } from "./redis_compare.ts";

type DenoConn = {
  read(buf: Uint8Array): Promise<number | null>;
  write(buf: Uint8Array): Promise<number>;
  close(): void;
};
type DenoNet = { connect(o: { hostname: string; port: number }): Promise<DenoConn> };

/**
 * A connection whose replies stay unread until {@linkcode read}, so the server's socket holds
 * them: a paused node:net socket on Node; on Deno, whose node:net reads on while paused, a
 * Deno.connect one.
 */
class SlowReader {
  private text = "";
  private constructor(
    private readonly raw: RawConn | undefined,
    private readonly conn?: DenoConn,
  ) {}

  static async connect(port: number): Promise<SlowReader> {
    const deno = (globalThis as { Deno?: DenoNet }).Deno;
    if (deno === undefined) {
      const raw = await RawConn.connect(port);
      raw.socket.pause();
      return new SlowReader(raw);
    }
    return new SlowReader(undefined, await deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Sends `data` (latin1). */
  async send(data: string): Promise<void> {
    if (this.raw !== undefined) return this.raw.send(data);
    let bytes: Uint8Array = Buffer.from(data, "latin1");
    while (bytes.length > 0) bytes = bytes.subarray(await this.conn!.write(bytes));
  }

  /** The next `n` bytes received (latin1). */
  async read(n: number): Promise<string> {
    if (this.raw !== undefined) {
      this.raw.socket.resume();
      return await this.raw.read(n, 20_000);
    }
    const buf = new Uint8Array(256 * 1024);
    while (this.text.length < n) {
      const got = await this.conn!.read(buf);
      if (got === null) break;
      this.text += Buffer.from(buf.buffer, 0, got).toString("latin1");
    }
    const out = this.text.slice(0, n);
    this.text = this.text.slice(n);
    return out;
  }

  /** Everything received and not yet read. */
  get pending(): string {
    return this.raw !== undefined ? this.raw.pending : this.text;
  }

  close(): void {
    if (this.raw !== undefined) this.raw.close();
    else this.conn!.close();
  }
}

/** A binary (latin1) string of `n` bytes drawn from `rnd`. */
function bytes(rnd: () => number, n: number): string {
  const codes = new Array<number>(n);
  for (let i = 0; i < n; i++) codes[i] = Math.floor(rnd() * 256);
  let s = "";
  for (let i = 0; i < n; i += 8192) s += String.fromCharCode(...codes.slice(i, i + 8192));
  return s;
}

/** One round trip on `probe`: what was written before it has most likely been read. */
async function roundTrip(probe: RawConn): Promise<void> {
  probe.command("PING");
  assert.equal(await probe.expect("+PONG\r\n"), "+PONG\r\n");
}

test("big replies queued in the socket are not overwritten by the big replies and arguments after them", async () => {
  const rnd = prng(31);
  const { port, close } = await startServer();
  const clients: SlowReader[] = [];
  try {
    const probe = await RawConn.connect(port);
    const writer = await RawConn.connect(port);
    for (let i = 0; i < 2; i++) clients.push(await SlowReader.connect(port));
    // Values over the writer's PART_MIN (256 KiB): each reply is a part of its own.
    const values = [0, 1, 2].map((k) => bytes(rnd, 300_000 + k * 1000));
    for (let k = 0; k < values.length; k++) probe.command("SET", `v${k}`, values[k]!);
    for (let k = 0; k < values.length; k++) assert.equal(await probe.expect("+OK\r\n"), "+OK\r\n");
    // Batches of 4 GETs (1.2 MB of replies), 40 MB a client before any reply is read: more than
    // the loopback socket buffers hold, so most replies wait in the server's socket while later
    // ones are encoded, and while another client's big SETs take buffers for their arguments.
    const expected = clients.map(() => [] as string[]);
    const junk = bytes(rnd, 310_000);
    for (let round = 0; round < 34; round++) {
      for (let i = 0; i < clients.length; i++) {
        let batch = "";
        for (let j = 0; j < 4; j++) {
          const k = (round + i + j) % values.length;
          batch += encodeCommand(["GET", `v${k}`]);
          expected[i]!.push(`$${values[k]!.length}\r\n${values[k]}\r\n`);
        }
        await clients[i]!.send(batch);
      }
      writer.command("SET", "other", junk);
      await roundTrip(probe);
    }
    for (let i = 0; i < clients.length; i++) {
      for (let n = 0; n < expected[i]!.length; n++) {
        const want = expected[i]![n]!;
        const got = await clients[i]!.read(want.length);
        assert.ok(got === want, `client ${i}: reply ${n} differs`);
      }
      assert.equal(clients[i]!.pending, "");
    }
    for (let round = 0; round < 34; round++) {
      assert.equal(await writer.expect("+OK\r\n", 20_000), "+OK\r\n");
    }
    probe.close();
    writer.close();
  } finally {
    for (const c of clients) c.close();
    await close();
  }
});

test("connections closing mid-argument or with big replies queued leave the others' bytes intact", async () => {
  const rnd = prng(32);
  const { port, close } = await startServer();
  try {
    const probe = await RawConn.connect(port);
    const values = [0, 1].map((k) => bytes(rnd, 1_048_576 + k));
    for (let k = 0; k < values.length; k++) probe.command("SET", `v${k}`, values[k]!);
    for (let k = 0; k < values.length; k++) assert.equal(await probe.expect("+OK\r\n"), "+OK\r\n");
    for (let round = 0; round < 4; round++) {
      // Half of a big argument (its buffer taken), then gone.
      const half = await RawConn.connect(port);
      const frame = encodeCommand(["SET", "half", bytes(rnd, 600_000)]);
      half.send(frame.slice(0, 300_000 + round * 1000));
      // Big replies queued in a socket that is never read, then gone.
      const deaf = await RawConn.connect(port);
      deaf.socket.pause();
      let gets = "";
      for (let j = 0; j < 16; j++) gets += encodeCommand(["GET", `v${j % 2}`]);
      deaf.send(gets);
      await roundTrip(probe);
      half.socket.destroy();
      deaf.socket.destroy();
      // The buffers those held are taken by the next big arguments and replies.
      const fresh = bytes(rnd, 700_000 + round);
      probe.command("SET", `fresh${round}`, fresh);
      probe.command("GET", `fresh${round}`);
      probe.command("GET", `v${round % 2}`);
      const v = values[round % 2]!;
      const want = `+OK\r\n$${fresh.length}\r\n${fresh}\r\n$${v.length}\r\n${v}\r\n`;
      const got = await probe.read(want.length, 20_000);
      assert.ok(got === want, `round ${round}: replies differ from the values sent`);
    }
    probe.command("EXISTS", "half");
    assert.equal(await probe.expect(":0\r\n"), ":0\r\n");
    probe.close();
  } finally {
    await close();
  }
});
