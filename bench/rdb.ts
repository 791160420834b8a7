/**
 * RDB benchmark: the same keys (`SET key:<i> value:<i>`, what DEBUG POPULATE makes) loaded into
 * redis-server and redeno through `redis-cli --pipe`; then, on each, SAVE (time and file size),
 * BGSAVE (time, and the worst PING latency while a client keeps writing), and a restart that
 * loads the dump (the time each server logs as "DB loaded from disk"). Prints a table with the
 * ratios to Redis (issue 6's target: time within 3x, file size within 1.2x).
 *
 * Run: `deno run -A bench/rdb.ts` or `node --import tsx bench/rdb.ts` (`--help` for flags).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { Conn } from "./conn.ts";
import { installCleanup, spawnTracked, stopProcess } from "./procs.ts";
import { freePort } from "./servers.ts";

const USAGE =
  `Usage: deno run -A bench/rdb.ts [flags]   (or: node --import tsx bench/rdb.ts [flags])

Fills redis-server and redeno with the same keys, then measures SAVE, BGSAVE (with the worst
PING latency during it) and loading the dump at startup, side by side.

  --keys N        keys to load (default 1000000)
  --runs N        SAVE and BGSAVE runs per server, medians over them (default 3)
  --runtime R     redeno's runtime: deno (default), node, or both
  --help          this text`;

interface Options {
  keys: number;
  runs: number;
  runtimes: Array<"deno" | "node">;
}

function parseArgs(argv: string[]): Options | undefined {
  const opts: Options = { keys: 1_000_000, runs: 3, runtimes: ["deno"] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (flag === "--help") return undefined;
    if (flag === "--keys" || flag === "--runs") {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) {
        throw new RangeError(`Invalid value for ${flag}: ${value}`);
      }
      if (flag === "--keys") opts.keys = n;
      else opts.runs = n;
      i++;
    } else if (flag === "--runtime" && ["deno", "node", "both"].includes(value ?? "")) {
      opts.runtimes = value === "both" ? ["deno", "node"] : [value as "deno" | "node"];
      i++;
    } else throw new RangeError(`Unknown flag: ${flag}`);
  }
  return opts;
}

/** A server started on a data directory, with its log kept. */
interface Running {
  name: string;
  port: number;
  child: ChildProcess;
  log(): string;
}

const ROOT = new URL("..", import.meta.url).pathname;

function command(name: string, port: number, dir: string): [string, string[]] {
  const flags = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", ""];
  if (name === "redis") return ["redis-server", [...flags, "--appendonly", "no"]];
  if (name === "redeno (deno)") {
    return [`${ROOT}node_modules/deno/deno`, ["run", "-A", "main.ts", ...flags]];
  }
  return [`${ROOT}node_modules/.bin/tsx`, ["main.ts", ...flags]];
}

async function start(name: string, dir: string): Promise<Running> {
  const port = await freePort();
  const [cmd, args] = command(name, port, dir);
  const child = spawnTracked(cmd, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (d: Uint8Array) => (out += Buffer.from(d).toString("latin1")));
  child.stderr?.on("data", (d: Uint8Array) => (out += Buffer.from(d).toString("latin1")));
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      const c = await Conn.open(port);
      if ((await c.call("PING\r\n")) === "+PONG\r\n") {
        c.close();
        break;
      }
      c.close();
    } catch { /* not listening yet */ }
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`${name} did not start:\n${out.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { name, port, child, log: () => out };
}

/** Loads the keys with `redis-cli --pipe`. */
async function fill(server: Running, keys: number): Promise<void> {
  const cli = spawnTracked("redis-cli", ["-p", String(server.port), "--pipe"], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  cli.stdout?.on("data", (d: Uint8Array) => (out += Buffer.from(d).toString("latin1")));
  const closed = new Promise<number>((r) => cli.once("close", (c: number | null) => r(c ?? -1)));
  for (let i = 0; i < keys; i += 10_000) {
    let chunk = "";
    for (let j = i; j < Math.min(keys, i + 10_000); j++) {
      const k = `key:${j}`, v = `value:${j}`;
      chunk += `*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$${v.length}\r\n${v}\r\n`;
    }
    if (!cli.stdin!.write(Buffer.from(chunk, "latin1"))) {
      await new Promise((r) => cli.stdin!.once("drain", r));
    }
  }
  cli.stdin!.end();
  if ((await closed) !== 0 || !out.includes("errors: 0")) {
    throw new Error(`Filling ${server.name} failed: ${out}`);
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** SAVE: milliseconds until the reply. */
async function timeSave(c: Conn): Promise<number> {
  const t = performance.now();
  const reply = await c.call("SAVE\r\n");
  if (reply !== "+OK\r\n") throw new Error(`SAVE failed: ${reply}`);
  return performance.now() - t;
}

/** BGSAVE while a client writes: total milliseconds and the worst PING latency meanwhile. */
async function timeBgsave(port: number): Promise<{ ms: number; worstPing: number }> {
  const c = await Conn.open(port);
  const writer = await Conn.open(port);
  const t = performance.now();
  const reply = await c.call("BGSAVE\r\n");
  if (!reply.startsWith("+Background saving started")) throw new Error(`BGSAVE: ${reply}`);
  let saving = true;
  const writes = (async () => {
    for (let i = 0; saving; i++) await writer.call(`SET key:${i} changed\r\n`);
  })();
  let worstPing = 0;
  for (let n = 1;; n++) {
    const p = performance.now();
    await c.call("PING\r\n");
    worstPing = Math.max(worstPing, performance.now() - p);
    if (n % 10 === 0 && !(await c.call("INFO persistence\r\n")).includes("bgsave_in_progress:1")) {
      break;
    }
  }
  const ms = performance.now() - t;
  saving = false;
  await writes;
  c.close();
  writer.close();
  return { ms, worstPing };
}

interface Row {
  name: string;
  saveMs: number;
  bytes: number;
  bgsaveMs: number;
  worstPing: number;
  loadMs: number;
}

async function measure(name: string, opts: Options): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), "rdb-bench-"));
  try {
    let server = await start(name, dir);
    process.stderr.write(`${name}: loading ${opts.keys} keys... `);
    await fill(server, opts.keys);
    const c = await Conn.open(server.port);
    const saves = [await timeSave(c)];
    // The size of the same data on every server: before BGSAVE's writer changes values.
    const bytes = statSync(join(dir, "dump.rdb")).size;
    for (let i = 1; i < opts.runs; i++) saves.push(await timeSave(c));
    const bgsaves: Array<{ ms: number; worstPing: number }> = [];
    for (let i = 0; i < opts.runs; i++) bgsaves.push(await timeBgsave(server.port));
    c.close();
    await stopProcess(server.child);
    process.stderr.write("restarting... ");
    server = await start(name, dir);
    const m = /DB loaded from disk: ([\d.]+) seconds/.exec(server.log());
    if (!m) throw new Error(`${name} did not log its load time:\n${server.log().slice(-2000)}`);
    await stopProcess(server.child);
    process.stderr.write("done\n");
    return {
      name,
      saveMs: median(saves),
      bytes,
      bgsaveMs: median(bgsaves.map((b) => b.ms)),
      worstPing: Math.max(...bgsaves.map((b) => b.worstPing)),
      loadMs: Number(m[1]) * 1000,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(rows: Row[]): void {
  const redis = rows[0]!;
  const ratio = (v: number, base: number) => `${(v / base).toFixed(2)}x`;
  const cells = [
    [
      "server",
      "SAVE ms",
      "ratio",
      "file bytes",
      "ratio",
      "BGSAVE ms",
      "worst PING ms",
      "load ms",
      "ratio",
    ],
    ...rows.map((r) => [
      r.name,
      r.saveMs.toFixed(0),
      ratio(r.saveMs, redis.saveMs),
      String(r.bytes),
      ratio(r.bytes, redis.bytes),
      r.bgsaveMs.toFixed(0),
      r.worstPing.toFixed(1),
      r.loadMs.toFixed(0),
      ratio(r.loadMs, redis.loadMs),
    ]),
  ];
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  for (const row of cells) console.log(row.map((c, i) => c.padStart(widths[i]!)).join("  "));
}

async function main(): Promise<void> {
  let opts: Options | undefined;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    console.error(USAGE);
    process.exit(2);
  }
  if (opts === undefined) {
    console.log(USAGE);
    return;
  }
  installCleanup();
  const rows = [await measure("redis", opts)];
  for (const rt of opts.runtimes) rows.push(await measure(`redeno (${rt})`, opts));
  console.log(`\n${opts.keys} keys (SET key:<i> value:<i>), medians of ${opts.runs} runs\n`);
  report(rows);
}

await main();
