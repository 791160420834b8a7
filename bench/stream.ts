/**
 * Streams, redeno beside redis-server in one run:
 *
 *     deno run -A bench/stream.ts [flags]      (or: npx tsx bench/stream.ts [flags]; --help)
 *
 * Both servers start on free ports of 127.0.0.1 (servers.ts). First each is loaded, fresh, with
 * `--entries` entries (`XADD bench:xrange <i>-0 f <value>` through `redis-cli --pipe`) and its
 * resident memory is read before and after: bytes per entry. Then redis-benchmark runs each row
 * with `-c 50 -P 16`, in interleaved rounds (the servers take turns, the first swapping each
 * round, after one unmeasured warm-up pass), reading the server's CPU time around every run
 * (benchmark.ts); the table shows medians (report.ts):
 *
 * - `xadd`: `XADD bench:xadd * f v`, on a stream emptied before each run. Bar: server CPU per
 *   request at most 1.5x Redis's.
 * - `xrange`: `XRANGE bench:xrange - + COUNT 100` on the loaded stream. Bar: at most 2x.
 * - `xrange_mid`: `XRANGE bench:xrange <random ID> + COUNT 100` (`-r --entries`): 100 entries
 *   from anywhere in the stream, so the seek itself is measured. No bar.
 *
 * A redeno without the stream commands leaves its cells empty: Redis runs alone.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runBenchmark, type RunSpec } from "./benchmark.ts";
import { installCleanup, isAlive, rssBytes, spawnTracked } from "./procs.ts";
import { median, mib, type Series, table, throughputTable } from "./report.ts";
import { request } from "./scripting.ts";
import { freePort, type ServerProc, startRedeno, startRedis, versionLines } from "./servers.ts";
import type { Runtime } from "./options.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const LOADED = "bench:xrange";
const APPENDED = "bench:xadd";

const USAGE = `Usage: deno run -A bench/stream.ts [flags]   (or: npx tsx bench/stream.ts [flags])

Loads a stream into redis-server and redeno (bytes per entry), then measures XADD and XRANGE
with redis-benchmark on both, interleaved: median ops/s and server CPU time per request.

  --rounds N       measured rounds, medians over them (default 3)
  --entries N      entries of the loaded stream (default 1000000)
  --xadd-n N       requests per XADD run (default 1000000)
  --xrange-n N     requests per XRANGE run (default 50000)
  --clients N      parallel connections, -c (default 50)
  --pipeline N     pipeline depth, -P (default 16)
  --data-size N    bytes of the loaded entries' value (default 3)
  --runtime R      deno (default) or node (the npm build, dist/; BENCH_NODE=tsx: through tsx)
  --no-warmup      skip the unmeasured warm-up pass
  --help           this text`;

interface Options {
  rounds: number;
  entries: number;
  xaddRequests: number;
  xrangeRequests: number;
  clients: number;
  pipeline: number;
  dataSize: number;
  runtime: Runtime;
  warmup: boolean;
}

function parseArgs(argv: string[]): Options | undefined {
  const o: Options = {
    rounds: 3,
    entries: 1_000_000,
    xaddRequests: 1_000_000,
    xrangeRequests: 50_000,
    clients: 50,
    pipeline: 16,
    dataSize: 3,
    runtime: "deno",
    warmup: true,
  };
  const numeric: Record<string, keyof Options> = {
    "--rounds": "rounds",
    "--entries": "entries",
    "--xadd-n": "xaddRequests",
    "--xrange-n": "xrangeRequests",
    "--clients": "clients",
    "--pipeline": "pipeline",
    "--data-size": "dataSize",
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (flag === "--help" || flag === "-h") return undefined;
    if (flag === "--no-warmup") o.warmup = false;
    else if (flag === "--runtime" && (value === "deno" || value === "node")) {
      o.runtime = value;
      i++;
    } else if (numeric[flag] !== undefined) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) {
        throw new RangeError(`Invalid value for ${flag}: ${value}`);
      }
      Object.assign(o, { [numeric[flag]!]: n });
      i++;
    } else throw new RangeError(`Unknown flag: ${flag} (see --help)`);
  }
  return o;
}

function log(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** A row of the table: the command redis-benchmark repeats, and the bar redeno must meet. */
interface Row {
  test: string;
  command: string[];
  requests: number;
  /** `-r`: `__rand_int__` in the command ranges over this many values. */
  keyspace: number;
  /** Highest redeno / Redis CPU ratio accepted, if the row has a bar. */
  bar?: number;
  /** Run before each measured run, outside the CPU window. */
  reset?: string[];
}

function rowsOf(o: Options): Row[] {
  return [
    {
      test: "xadd",
      command: ["XADD", APPENDED, "*", "f", "v"],
      requests: o.xaddRequests,
      keyspace: 0,
      bar: 1.5,
      reset: ["DEL", APPENDED],
    },
    {
      test: "xrange",
      command: ["XRANGE", LOADED, "-", "+", "COUNT", "100"],
      requests: o.xrangeRequests,
      keyspace: 0,
      bar: 2,
    },
    {
      test: "xrange_mid",
      command: ["XRANGE", LOADED, "__rand_int__", "+", "COUNT", "100"],
      requests: o.xrangeRequests,
      keyspace: o.entries,
    },
  ];
}

/** True when the server knows XLEN (redeno before its stream commands does not). */
async function hasStreams(server: ServerProc): Promise<boolean> {
  return !(await request(server.port, ["XLEN", LOADED])).startsWith("-");
}

/** Resident memory around loading the stream. */
interface Loaded {
  rssBefore: number;
  rssAfter: number;
  bytesPerEntry: number;
}

/** RESP for `XADD LOADED <i>-0 f <value>` of entries [from, to); IDs from 1-0. */
function xadds(from: number, to: number, value: string): string {
  let out = "";
  const tail = `$1\r\nf\r\n$${value.length}\r\n${value}\r\n`;
  for (let i = from + 1; i <= to; i++) {
    const id = `${i}-0`;
    out +=
      `*5\r\n$4\r\nXADD\r\n$${LOADED.length}\r\n${LOADED}\r\n$${id.length}\r\n${id}\r\n${tail}`;
  }
  return out;
}

/**
 * Loads `entries` entries into the stream through `redis-cli --pipe`, checks XLEN, and reads the
 * server's RSS before and after.
 */
async function load(server: ServerProc, entries: number, dataSize: number): Promise<Loaded> {
  const rssBefore = rssBytes(server.pid);
  const child = spawnTracked(
    "redis-cli",
    ["-h", "127.0.0.1", "-p", String(server.port), "--pipe"],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (d: Uint8Array) => (output += new TextDecoder().decode(d)));
  child.stderr?.on("data", (d: Uint8Array) => (output += new TextDecoder().decode(d)));
  const closed = new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (c: number | null) => resolve(c ?? -1));
  });
  const stdin = child.stdin!;
  const value = "x".repeat(dataSize);
  for (let i = 0; i < entries; i += 10_000) {
    const chunk = Buffer.from(xadds(i, Math.min(entries, i + 10_000), value), "latin1");
    if (!stdin.write(chunk)) await new Promise((r) => stdin.once("drain", r));
  }
  stdin.end();
  const code = await closed;
  const m = /errors: (\d+), replies: (\d+)/.exec(output);
  if (code !== 0 || !m || m[1] !== "0" || Number(m[2]) !== entries) {
    throw new Error(`Loading ${entries} entries into ${server.name} failed:\n${output.trim()}`);
  }
  const len = await request(server.port, ["XLEN", LOADED]);
  if (len !== `:${entries}\r\n`) throw new Error(`${server.name}: XLEN replied ${len.trim()}`);
  // Let the allocator settle and the server finish its cron work before reading RSS.
  await new Promise((r) => setTimeout(r, 1000));
  const rssAfter = rssBytes(server.pid);
  return { rssBefore, rssAfter, bytesPerEntry: (rssAfter - rssBefore) / entries };
}

/**
 * Both servers must answer the measured reads alike, or the comparison means nothing; a random
 * ID (`__rand_int__`, 12 digits as redis-benchmark writes it) is one from the middle here.
 */
async function sameReads(servers: ServerProc[], rows: Row[], entries: number): Promise<void> {
  const mid = String(Math.floor(entries / 2)).padStart(12, "0");
  for (const row of rows.filter((r) => r.reset === undefined)) {
    const argv = row.command.map((a) => a === "__rand_int__" ? mid : a);
    const [a, b] = await Promise.all(servers.map((s) => request(s.port, argv)));
    if (a !== b || !a!.startsWith("*100\r\n")) {
      throw new Error(`${argv.join(" ")} differs between redis and redeno`);
    }
  }
}

function specOf(row: Row, o: Options): RunSpec {
  return {
    test: row.test,
    clients: o.clients,
    requests: row.requests,
    pipeline: o.pipeline,
    keyspace: row.keyspace,
    dataSize: o.dataSize,
    command: row.command,
  };
}

async function runRow(server: ServerProc, row: Row, o: Options) {
  if (row.reset) await request(server.port, row.reset);
  return runBenchmark(server, specOf(row, o));
}

async function measure(servers: ServerProc[], rows: Row[], o: Options): Promise<Series[]> {
  const all = rows.map((row) => ({
    row,
    series: { scenario: `c${o.clients} P${o.pipeline}`, test: row.test, redis: [], redeno: [] },
  } as { row: Row; series: Series }));
  if (o.warmup) {
    // A JIT runtime reaches its steady state only after a million commands or so.
    for (const { row } of all) for (const s of servers) await runRow(s, row, o);
    log("warm-up done");
  }
  for (let round = 1; round <= o.rounds; round++) {
    const order = round % 2 === 1 ? servers : [...servers].reverse();
    for (const { row, series } of all) {
      for (const server of order) {
        try {
          const r = await runRow(server, row, o);
          (server.name === "redis" ? series.redis : series.redeno).push(r);
          log(
            `round ${round}/${o.rounds}  ${row.test.padEnd(10)} ${server.name.padEnd(6)} ` +
              `${Math.round(r.rps).toString().padStart(8)} ops/s ` +
              `${r.cpuUsPerReq.toFixed(2).padStart(6)} us/req`,
          );
        } catch (e) {
          if (!isAlive(server.pid)) throw new Error(`${server.name} died: ${(e as Error).message}`);
          throw e;
        }
      }
    }
  }
  return all.map((a) => a.series);
}

/** One line per row with a bar: redeno's CPU ratio and whether it meets the bar. */
function verdicts(rows: Row[], series: Series[]): string[] {
  return rows.flatMap((row, i) => {
    if (row.bar === undefined) return [];
    const s = series[i]!;
    const ratio = median(s.redeno.map((r) => r.cpuUsPerReq)) /
      median(s.redis.map((r) => r.cpuUsPerReq));
    const verdict = Number.isNaN(ratio) ? "not measured" : ratio <= row.bar ? "meets" : "MISSES";
    return [
      `${row.test}: redeno / redis CPU per request ${
        Number.isNaN(ratio) ? "-" : ratio.toFixed(2)
      }` +
      `, bar <= ${row.bar}: ${verdict}`,
    ];
  });
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (o === undefined) {
    console.log(USAGE);
    return;
  }
  installCleanup();
  const started = Date.now();
  for (const line of versionLines(o.runtime, ROOT)) console.log(line);

  const redis = await startRedis(await freePort());
  const servers: ServerProc[] = [redis];
  try {
    let port = await freePort();
    while (port === redis.port) port = await freePort();
    const redeno = await startRedeno(port, { runtime: o.runtime, root: ROOT });
    if (await hasStreams(redeno)) servers.push(redeno);
    else {
      await redeno.stop();
      console.log("redeno has no stream commands yet: redis-server runs alone");
    }
    const memory: string[][] = [];
    for (const server of servers) {
      log(`loading ${o.entries} entries into ${server.name}...`);
      const m = await load(server, o.entries, o.dataSize);
      memory.push([server.name, mib(m.rssBefore), mib(m.rssAfter), m.bytesPerEntry.toFixed(1)]);
    }
    const rows = rowsOf(o);
    if (servers.length === 2) await sameReads(servers, rows, o.entries);
    const series = await measure(servers, rows, o);
    console.log(
      `\n-c ${o.clients} -P ${o.pipeline}, rounds ${o.rounds}; XADD -n ${o.xaddRequests}, ` +
        `XRANGE -n ${o.xrangeRequests}; stream of ${o.entries} entries\n`,
    );
    console.log(throughputTable(series));
    console.log("ratio: redeno / redis; ops/s higher is better, CPU us/req lower is better\n");
    for (const line of verdicts(rows, series)) console.log(line);
    console.log(`\nMemory: ${o.entries} entries of one ${o.dataSize}-byte field, fresh servers`);
    console.log(
      table(["server", "RSS before", "RSS after", "bytes/entry"], memory, { left: 1 }),
    );
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
  console.log(`\nTotal time ${((Date.now() - started) / 1000).toFixed(0)}s`);
}

try {
  await main();
} catch (e) {
  console.error(`bench: ${(e as Error).message}`);
  process.exitCode = 1;
}
