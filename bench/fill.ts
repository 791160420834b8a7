/**
 * Fills a server without `maxmemory` well past V8's default heap (~4 GB): by default 6 GiB of
 * 1 KiB values (6,291,456 `SET fill:<i> <value>`, pipelined over one connection), on redis-server
 * and on redeno (Deno, then Node), one server at a time. Then checks that every acknowledged write
 * is readable: DBSIZE, a full SCAN count, and sampled GETs compared byte for byte. Prints, per
 * server: keys written, OOM refusals, fill time and rate, RSS at the end and at its peak, and
 * whether the server is still alive.
 *
 * Run: `node_modules/.bin/deno run -A bench/fill.ts [--gb 6] [--value 1024] [--servers
 * redis,deno,node] [--timeout 1200] [--samples 2000]` (or `npx tsx bench/fill.ts ...`).
 * `--timeout` bounds each server's fill (seconds); what was acknowledged by then is checked.
 *
 * Watch the machine's memory: redeno holds ~2-3x Redis's bytes per key, so 6 GiB of values needs
 * ~12-16 GB of RAM free; the run refuses to start a server when MemAvailable is below `--gb` x 2.5.
 *
 * @module
 */

import * as net from "node:net";
import process from "node:process";
import { Buffer } from "node:buffer";
import { fileURLToPath } from "node:url";
import { installCleanup, isAlive, rssBytes } from "./procs.ts";
import { freePort, type ServerProc, startRedeno, startRedis, versionLines } from "./servers.ts";
import { mib, table } from "./report.ts";
import { machineMemory } from "../core/heap.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");

interface Options {
  gb: number;
  value: number;
  servers: string[];
  timeout: number;
  samples: number;
}

function parse(argv: string[]): Options {
  const o: Options = {
    gb: 6,
    value: 1024,
    servers: ["redis", "deno", "node"],
    timeout: 1200,
    samples: 2000,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [name, v] = [argv[i], argv[i + 1] ?? ""];
    if (name === "--gb") o.gb = Number(v);
    else if (name === "--value") o.value = Number(v);
    else if (name === "--servers") o.servers = v.split(",");
    else if (name === "--timeout") o.timeout = Number(v);
    else if (name === "--samples") o.samples = Number(v);
    else throw new Error(`Unknown flag ${name} (see the usage at the top of bench/fill.ts)`);
  }
  return o;
}

/** The value of key `i`: its number, then one letter (from `i`) up to `len` bytes. */
function valueOf(i: number, len: number): Buffer {
  const v = Buffer.alloc(len, 97 + (i % 26));
  v.write(String(i), 0, "latin1");
  return v;
}

/** Pipelined SETs of keys [from, to) into one buffer. */
function batch(from: number, to: number, len: number): Buffer {
  const buf = Buffer.allocUnsafe((to - from) * (len + 64));
  let at = 0;
  for (let i = from; i < to; i++) {
    const key = `fill:${i}`;
    at += buf.write(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${len}\r\n`, at, "latin1");
    buf.fill(97 + (i % 26), at, at + len);
    buf.write(String(i), at, "latin1");
    at += len;
    at += buf.write("\r\n", at, "latin1");
  }
  return buf.subarray(0, at);
}

interface FillResult {
  acked: number;
  refused: number;
  firstError: string;
  ms: number;
  peakRss: number;
  /** 0: acknowledged; 1: refused; 2: never answered. */
  state: Uint8Array;
  lost: string;
}

/** Writes `total` keys, keeping a window of batches in flight; stops at `deadline`. */
function fill(
  server: ServerProc,
  total: number,
  len: number,
  deadline: number,
): Promise<FillResult> {
  const BATCH = 500;
  const WINDOW = 8 * BATCH;
  const state = new Uint8Array(total).fill(2);
  const r: FillResult = {
    acked: 0,
    refused: 0,
    firstError: "",
    ms: 0,
    peakRss: 0,
    state,
    lost: "",
  };
  const t0 = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect({ port: server.port, host: "127.0.0.1" });
    socket.setNoDelay(true);
    let sent = 0;
    let replied = 0;
    let lineStart = true;
    let errorLine = "";
    let inError = false;
    let finished = false;
    const sampler = setInterval(
      () => (r.peakRss = Math.max(r.peakRss, rssBytes(server.pid))),
      1000,
    );
    const finish = (why = ""): void => {
      if (finished) return;
      finished = true;
      clearInterval(sampler);
      r.ms = performance.now() - t0;
      r.peakRss = Math.max(r.peakRss, rssBytes(server.pid));
      r.lost = why;
      socket.destroy();
      resolve(r);
    };
    const pump = (): void => {
      while (sent < total && sent - replied < WINDOW && Date.now() < deadline) {
        const to = Math.min(total, sent + BATCH);
        const more = socket.write(batch(sent, to, len));
        sent = to;
        if (!more) return void socket.once("drain", pump);
      }
      if (replied === sent && (sent === total || Date.now() >= deadline)) finish();
    };
    socket.on("connect", pump);
    socket.on("data", (chunk: Buffer) => {
      for (let at = 0; at < chunk.length;) {
        if (lineStart) {
          inError = chunk[at] === 45; // '-'
          lineStart = false;
        }
        const eol = chunk.indexOf(10, at);
        if (inError) errorLine += chunk.toString("latin1", at, eol < 0 ? chunk.length : eol);
        if (eol < 0) break;
        if (inError) {
          state[replied] = 1;
          r.refused++;
          if (r.firstError === "") r.firstError = errorLine.trim();
          errorLine = "";
        } else {
          state[replied] = 0;
          r.acked++;
        }
        replied++;
        lineStart = true;
        at = eol + 1;
      }
      if (sent - replied < WINDOW / 2 || replied === sent) pump();
    });
    socket.on("error", (e) => finish(`connection error: ${e.message}`));
    socket.on("close", () => finish(replied < sent ? "connection closed by the server" : ""));
  });
}

type Reply = string | number | null | Reply[] | Error;

/** One request at a time, with a whole-reply RESP parser (for DBSIZE, SCAN, GET, INFO). */
class Client {
  private buf: Buffer = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private constructor(private readonly socket: net.Socket) {
    socket.on("data", (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      this.wake?.();
    });
  }

  static open(port: number): Promise<Client> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: "127.0.0.1" }, () => resolve(new Client(s)));
      s.once("error", reject);
    });
  }

  async call(...args: string[]): Promise<Reply> {
    this.socket.write(
      `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`,
    );
    for (;;) {
      const parsed = parseReply(this.buf, 0);
      if (parsed !== undefined) {
        this.buf = this.buf.subarray(parsed[1]);
        return parsed[0];
      }
      await new Promise<void>((r) => (this.wake = r));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Parses one reply at `at`; undefined when incomplete. */
function parseReply(b: Buffer, at: number): [Reply, number] | undefined {
  const eol = b.indexOf("\r\n", at);
  if (eol < 0) return undefined;
  const head = b.toString("latin1", at + 1, eol);
  switch (b[at]) {
    case 43: // +
      return [head, eol + 2];
    case 45: // -
      return [new Error(head), eol + 2];
    case 58: // :
      return [Number(head), eol + 2];
    case 36: { // $
      const n = Number(head);
      if (n < 0) return [null, eol + 2];
      if (b.length < eol + 4 + n) return undefined;
      return [b.toString("latin1", eol + 2, eol + 2 + n), eol + 4 + n];
    }
    case 42: { // *
      const n = Number(head);
      if (n < 0) return [null, eol + 2];
      const items: Reply[] = [];
      let pos = eol + 2;
      for (let i = 0; i < n; i++) {
        const item = parseReply(b, pos);
        if (item === undefined) return undefined;
        items.push(item[0]);
        pos = item[1];
      }
      return [items, pos];
    }
  }
  throw new Error(`Unexpected reply: ${head}`);
}

interface Check {
  dbsize: number;
  scanned: number;
  sampled: number;
  mismatched: number;
  usedMemory: string;
  ms: number;
}

/** DBSIZE, a full SCAN count and sampled GETs of acknowledged (and refused) keys. */
async function check(port: number, r: FillResult, len: number, samples: number): Promise<Check> {
  const t0 = performance.now();
  const c = await Client.open(port);
  try {
    const dbsize = await c.call("DBSIZE") as number;
    let scanned = 0;
    let cursor = "0";
    do {
      const [next, keys] = await c.call("SCAN", cursor, "COUNT", "10000") as [string, string[]];
      scanned += keys.length;
      cursor = next;
    } while (cursor !== "0");
    const acked: number[] = [];
    const refused: number[] = [];
    for (let i = 0; i < r.state.length; i++) {
      if (r.state[i] === 0) acked.push(i);
      else if (r.state[i] === 1) refused.push(i);
    }
    let sampled = 0;
    let mismatched = 0;
    const pick = (from: number[], n: number): number[] =>
      from.length <= n
        ? from
        : Array.from({ length: n }, () => from[Math.floor(Math.random() * from.length)]!);
    // Always the first and last acknowledged keys, then random ones.
    const some = [acked[0], acked[acked.length - 1], ...pick(acked, samples)].filter((i) =>
      i !== undefined
    );
    for (const i of some) {
      const v = await c.call("GET", `fill:${i}`);
      sampled++;
      if (v !== valueOf(i, len).toString("latin1")) mismatched++;
    }
    for (const i of pick(refused, 100)) {
      sampled++;
      if (await c.call("GET", `fill:${i}`) !== null) mismatched++;
    }
    const info = await c.call("INFO", "memory") as string;
    const usedMemory = /used_memory_human:(\S+)/.exec(info)?.[1] ?? "?";
    return { dbsize, scanned, sampled, mismatched, usedMemory, ms: performance.now() - t0 };
  } finally {
    c.close();
  }
}

function start(name: string, port: number): Promise<ServerProc> {
  if (name === "redis") return startRedis(port);
  if (name === "deno" || name === "node") return startRedeno(port, { runtime: name, root: ROOT });
  throw new Error(`Unknown server ${name}: redis, deno or node`);
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  installCleanup();
  const total = Math.floor((o.gb * 2 ** 30) / o.value);
  for (const line of versionLines("deno", ROOT)) console.log(line);
  console.log(versionLines("node", ROOT)[1]);
  console.log(`${total} SETs of ${o.value}-byte values (${o.gb} GiB), no maxmemory\n`);
  const rows: string[][] = [];
  for (const name of o.servers) {
    const free = machineMemory()?.available ?? Infinity;
    if (free < o.gb * 2.5 * 2 ** 30) {
      console.log(`${name}: skipped, only ${mib(free)} available`);
      continue;
    }
    const server = await start(name, await freePort());
    try {
      const c = await Client.open(server.port);
      await c.call("FLUSHALL");
      c.close();
      const r = await fill(server, total, o.value, Date.now() + o.timeout * 1000);
      const alive = isAlive(server.pid);
      const rss = rssBytes(server.pid);
      const v = alive ? await check(server.port, r, o.value, o.samples) : undefined;
      const label = name === "redis" ? "redis-server" : `redeno (${name})`;
      console.log(
        `${label}: ${r.acked} acknowledged, ${r.refused} refused${
          r.firstError ? ` (${r.firstError})` : ""
        }, ` +
          `${(r.ms / 1000).toFixed(1)} s; ${alive ? "alive" : "DEAD"}${
            r.lost ? `; ${r.lost}` : ""
          }` +
          (v
            ? `; DBSIZE ${v.dbsize}, SCAN ${v.scanned}, ${v.sampled} GETs with ${v.mismatched} wrong, ` +
              `used_memory ${v.usedMemory}, checked in ${(v.ms / 1000).toFixed(1)} s`
            : ""),
      );
      const ok = v !== undefined && v.dbsize === r.acked && v.scanned === r.acked &&
        v.mismatched === 0;
      rows.push([
        label,
        String(r.acked),
        String(r.refused),
        (r.ms / 1000).toFixed(1),
        String(Math.round((r.acked + r.refused) / (r.ms / 1000))),
        mib(rss),
        mib(r.peakRss),
        alive ? "yes" : "NO",
        ok ? "all readable" : "MISSING",
      ]);
    } finally {
      await server.stop();
    }
  }
  console.log();
  console.log(
    table(
      ["server", "keys", "OOM", "fill s", "replies/s", "RSS", "peak RSS", "alive", "check"],
      rows,
      {
        left: 1,
      },
    ),
  );
}

await main();
process.exit(0);
