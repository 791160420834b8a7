/**
 * What idle connections cost: redeno on Deno, redeno on Node and redis-server, one after the
 * other on fresh servers:
 *
 *     deno run -A bench/connections.ts [--n 10000] [--servers redis,deno,node] [--settle 3000]
 *     (or: npx tsx bench/connections.ts ...)
 *
 * For each server it reads the resident set (RSS, from /proc) before any client connects, opens
 * N connections that each send one PING and read +PONG (so the server has really set each one
 * up), waits `--settle` ms (cron ticks: buffers trimmed, garbage collected) and reads RSS again,
 * then closes them all, waits until the server counts no client but our control connection, waits
 * `--settle` ms more and reads RSS a last time. It prints RSS before, during and after, the cost
 * per connection ((during - before) / N), what stayed after closing, and each server's cost per
 * connection as a ratio to redis-server's.
 *
 * The client sockets live in this process, so it needs about N + 50 file descriptors (`ulimit -n`);
 * each server is started with `maxclients` N + 100 and needs as many.
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { installCleanup, rssBytes } from "./procs.ts";
import { mib, table } from "./report.ts";
import { freePort, type ServerProc, startRedeno, startRedis, versionLines } from "./servers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");

const USAGE = `Usage: deno run -A bench/connections.ts [flags]   (or: npx tsx bench/connections.ts)

  --n N           idle connections to open (default 10000)
  --servers a,b   which servers, in order: redis, deno (redeno on Deno), node (redeno on Node
                  through tsx); default redis,deno,node
  --settle MS     wait after opening and after closing before reading RSS (default 3000)
  --batch N       connections being opened at once (default 500)
  --cycles N      open and close the N connections this many times; figures are the last
                  cycle's (default 1; more tells a leak from memory the runtime keeps)
  --help          this text`;

interface Options {
  n: number;
  servers: string[];
  settleMs: number;
  batch: number;
  cycles: number;
}

function parse(argv: string[]): Options | undefined {
  const o: Options = {
    n: 10_000,
    servers: ["redis", "deno", "node"],
    settleMs: 3000,
    batch: 500,
    cycles: 1,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === "--help" || flag === "-h") return undefined;
    const value = argv[++i];
    if (value === undefined) throw new RangeError(`Missing value after ${flag}`);
    const int = (): number => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) throw new RangeError(`Bad number for ${flag}: ${value}`);
      return n;
    };
    if (flag === "--n") o.n = int();
    else if (flag === "--settle") o.settleMs = int();
    else if (flag === "--batch") o.batch = Math.max(1, int());
    else if (flag === "--cycles") o.cycles = Math.max(1, int());
    else if (flag === "--servers") o.servers = value.split(",").filter(Boolean);
    else throw new RangeError(`Unknown flag: ${flag}`);
  }
  for (const s of o.servers) {
    if (!["redis", "deno", "node"].includes(s)) throw new RangeError(`Unknown server: ${s}`);
  }
  return o;
}

function log(text: string): void {
  process.stderr.write(`${text}\n`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Opens one connection, sends PING and resolves with the socket once +PONG came back. */
function openIdle(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    let got = "";
    const fail = (e: Error): void => {
      s.destroy();
      reject(e);
    };
    s.once("error", fail);
    s.on("connect", () => s.write("*1\r\n$4\r\nPING\r\n"));
    const onData = (d: Uint8Array): void => {
      got += new TextDecoder().decode(d);
      if (!got.includes("\r\n")) return;
      s.off("data", onData);
      s.off("error", fail);
      // From now on the socket only waits; an error (the server going away) just ends it.
      s.on("error", () => s.destroy());
      if (got === "+PONG\r\n") resolve(s);
      else fail(new Error(`Unexpected reply to PING: ${JSON.stringify(got)}`));
    };
    s.on("data", onData);
  });
}

/** A control connection sending inline commands and reading one reply each. */
class Control {
  private constructor(private readonly s: net.Socket) {}

  static async open(port: number): Promise<Control> {
    return new Control(await openIdle(port));
  }

  /** `connected_clients` of INFO clients. */
  async connectedClients(): Promise<number> {
    const text = await this.command("INFO clients\r\n");
    const m = /connected_clients:(\d+)/.exec(text);
    if (!m) throw new Error(`No connected_clients in INFO: ${text.slice(0, 200)}`);
    return Number(m[1]);
  }

  private command(line: string): Promise<string> {
    return new Promise((resolve, reject) => {
      let got = "";
      const onData = (d: Uint8Array): void => {
        got += new TextDecoder().decode(d);
        // A bulk reply: `$<len>\r\n<len bytes>\r\n`.
        const m = /^\$(\d+)\r\n/.exec(got);
        if (m && got.length >= m[0].length + Number(m[1]) + 2) {
          this.s.off("data", onData);
          resolve(got.slice(m[0].length, m[0].length + Number(m[1])));
        } else if (!got.startsWith("$") && got.includes("\r\n")) {
          this.s.off("data", onData);
          reject(new Error(`Unexpected reply: ${got}`));
        }
      };
      this.s.on("data", onData);
      this.s.write(line);
    });
  }

  close(): void {
    this.s.destroy();
  }
}

/** RSS of one server: before, during and after N idle connections. */
interface Measure {
  name: string;
  before: number;
  during: number;
  after: number;
  openMs: number;
}

/** Opens N idle connections in batches; resolves once every one got its PONG. */
async function openAll(port: number, o: Options): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  try {
    for (let i = 0; i < o.n; i += o.batch) {
      const k = Math.min(o.batch, o.n - i);
      const opened = await Promise.allSettled(Array.from({ length: k }, () => openIdle(port)));
      for (const r of opened) {
        if (r.status === "fulfilled") sockets.push(r.value);
        else throw new Error(`Connection ${sockets.length + 1} failed: ${r.reason}`);
      }
    }
    return sockets;
  } catch (e) {
    for (const s of sockets) s.destroy();
    throw e;
  }
}

async function measure(name: string, server: ServerProc, o: Options): Promise<Measure> {
  const control = await Control.open(server.port);
  try {
    await sleep(o.settleMs);
    const before = rssBytes(server.pid);
    let m: Measure | undefined;
    for (let cycle = 1; cycle <= o.cycles; cycle++) {
      const t0 = Date.now();
      const sockets = await openAll(server.port, o);
      const openMs = Date.now() - t0;
      let during: number;
      try {
        const clients = await control.connectedClients();
        if (clients < o.n + 1) throw new Error(`${name} counts ${clients} clients, not ${o.n + 1}`);
        await sleep(o.settleMs);
        during = rssBytes(server.pid);
      } finally {
        for (const s of sockets) s.destroy();
      }
      const deadline = Date.now() + 60_000;
      while ((await control.connectedClients()) > 1) {
        if (Date.now() > deadline) throw new Error(`${name} still counts clients after 60 s`);
        await sleep(100);
      }
      await sleep(o.settleMs);
      m = { name, before, during, after: rssBytes(server.pid), openMs };
      if (o.cycles > 1) {
        log(`  cycle ${cycle}: during ${mib(m.during)}, after ${mib(m.after)}`);
      }
    }
    return m!;
  } finally {
    control.close();
  }
}

async function startServer(
  which: string,
  port: number,
  options: { maxclients: number; dir: string },
): Promise<ServerProc> {
  const { maxclients, dir } = options;
  const extra = ["--maxclients", String(maxclients), "--dir", dir];
  if (which === "redis") return await startRedis(port, extra);
  return await startRedeno(port, {
    runtime: which === "deno" ? "deno" : "node",
    root: ROOT,
    extra,
  });
}

const LABELS: Record<string, string> = {
  redis: "redis-server",
  deno: "redeno (Deno)",
  node: "redeno (Node)",
};

function report(results: Measure[], n: number): string {
  const perConn = (m: Measure): number => (m.during - m.before) / n;
  const redis = results.find((m) => m.name === "redis");
  const rows = results.map((m) => [
    LABELS[m.name]!,
    mib(m.before),
    mib(m.during),
    mib(m.after),
    `${(perConn(m) / 1024).toFixed(1)} KiB`,
    mib(m.after - m.before),
    redis ? (perConn(m) / perConn(redis)).toFixed(2) : "-",
    `${(m.openMs / 1000).toFixed(1)} s`,
  ]);
  const header = [
    "server",
    "RSS before",
    "during",
    "after close",
    "per conn",
    "kept after",
    "vs redis",
    "open time",
  ];
  return table(header, rows, { left: 1 });
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  if (o === undefined) {
    console.log(USAGE);
    return;
  }
  installCleanup();
  const [redisLine, denoLine] = versionLines("deno", ROOT);
  console.log(`${redisLine}\n${denoLine}\n${versionLines("node", ROOT)[1]}`);
  console.log(`${o.n} idle connections (one PING each), settle ${o.settleMs} ms\n`);
  const results: Measure[] = [];
  for (const which of o.servers) {
    // An empty directory of its own: a dump.rdb lying in the checkout must not be loaded.
    const dir = mkdtempSync(join(tmpdir(), "redeno-conns-"));
    const server = await startServer(which, await freePort(), { maxclients: o.n + 100, dir });
    try {
      log(`${LABELS[which]}: pid ${server.pid}, opening ${o.n} connections...`);
      const m = await measure(which, server, o);
      log(`  before ${mib(m.before)}, during ${mib(m.during)}, after ${mib(m.after)}`);
      results.push(m);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(report(results, o.n));
  console.log("\nper conn: (during - before) / N; kept after: after - before; vs redis: per conn");
}

try {
  await main();
} catch (e) {
  console.error(`bench: ${(e as Error).message}`);
  process.exitCode = 1;
}
