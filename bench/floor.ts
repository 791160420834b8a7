/**
 * How close a server on each runtime can come to redis-server: redeno beside the runtime's floor
 * (bench/floor_server.ts, a server that reads each request and answers `+PONG` and does nothing
 * else) and redis-server, in one run.
 *
 *     ./node_modules/deno/deno run -A bench/floor.ts [flags]   (--help lists them)
 *
 * Each round runs every test once per server, the servers taking turns in an order that rotates
 * round by round, as in bench/run.ts. For each run the server's user and system CPU time are
 * read from /proc before and after; the table shows their medians per request and the median of
 * the paired ratios to redis-server's run of the same round. The floor's ratio is the least any
 * server written for that runtime can have with its I/O API; redeno's distance above the floor is
 * its own work.
 *
 * @module
 */

import process from "node:process";
import { fileURLToPath } from "node:url";
import { runBenchmark, type RunResult, type RunSpec } from "./benchmark.ts";
import type { Runtime } from "./options.ts";
import { installCleanup, isAlive } from "./procs.ts";
import { fixed, median, table } from "./report.ts";
import {
  freePort,
  type ServerProc,
  startFloor,
  startRedeno,
  startRedis,
  versionLines,
} from "./servers.ts";
import { commaList, positiveInt, readFlags } from "./flags.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");

interface Options {
  rounds: number;
  requests: number;
  pipelinedRequests: number;
  clients: number;
  pipeline: number;
  tests: string[];
  runtimes: Runtime[];
  warmup: boolean;
}

const DEFAULTS: Options = {
  rounds: 5,
  requests: 200_000,
  pipelinedRequests: 2_000_000,
  clients: 50,
  pipeline: 16,
  tests: ["ping_mbulk", "set", "get"],
  runtimes: ["deno", "node"],
  warmup: true,
};

const USAGE = `Usage: deno run -A bench/floor.ts [flags]

redis-server, redeno and the runtime's floor (a server that only reads requests and answers +PONG),
interleaved, reporting median server CPU per request (user and system) and the paired ratio to
redis-server.

  --rounds N      rounds, medians over them (default ${DEFAULTS.rounds})
  --n N           requests per run without pipelining (default ${DEFAULTS.requests})
  --pn N          requests per pipelined run (default ${DEFAULTS.pipelinedRequests})
  --clients N     parallel connections, -c (default ${DEFAULTS.clients})
  --pipeline N    pipeline depth of the pipelined scenario, -P (default ${DEFAULTS.pipeline})
  --tests a,b     redis-benchmark -t names (default ${DEFAULTS.tests.join(",")})
  --runtimes a,b  deno, node or both (default ${DEFAULTS.runtimes.join(",")})
  --no-warmup     skip the unmeasured first pass
  --help          this text`;

function parse(argv: string[]): Options | undefined {
  const o: Options = { ...DEFAULTS };
  const go = readFlags(argv, (flag, value) => {
    switch (flag) {
      case "--rounds":
        o.rounds = positiveInt(flag, value());
        break;
      case "--n":
        o.requests = positiveInt(flag, value());
        break;
      case "--pn":
        o.pipelinedRequests = positiveInt(flag, value());
        break;
      case "--clients":
        o.clients = positiveInt(flag, value());
        break;
      case "--pipeline":
        o.pipeline = positiveInt(flag, value());
        break;
      case "--tests":
        o.tests = commaList(flag, value());
        break;
      case "--runtimes": {
        const r = commaList(flag, value());
        if (r.some((x) => x !== "deno" && x !== "node")) {
          throw new RangeError(`--runtimes takes deno and node, not ${r.join(",")}`);
        }
        o.runtimes = r as Runtime[];
        break;
      }
      case "--no-warmup":
        o.warmup = false;
        break;
      default:
        throw new RangeError(`Unknown flag: ${flag}`);
    }
  });
  return go ? o : undefined;
}

/** A server under test and its label in the table (`redeno/deno`, `floor/node`...). */
interface Entry {
  label: string;
  proc: ServerProc;
  runs: Map<string, RunResult[]>;
}

async function startAll(o: Options): Promise<Entry[]> {
  const entry = (label: string, proc: ServerProc): Entry => ({ label, proc, runs: new Map() });
  const all = [entry("redis", await startRedis(await freePort()))];
  for (const runtime of o.runtimes) {
    const redeno = await startRedeno(await freePort(), { runtime, root: ROOT });
    all.push(entry(`redeno/${runtime}`, redeno));
    all.push(
      entry(`floor/${runtime}`, await startFloor(await freePort(), { runtime, root: ROOT })),
    );
  }
  return all;
}

function specs(o: Options): Array<{ scenario: string; spec: RunSpec }> {
  const out: Array<{ scenario: string; spec: RunSpec }> = [];
  const base = { clients: o.clients, keyspace: 0, dataSize: 3 };
  for (const test of o.tests) {
    const plain = { ...base, test, requests: o.requests, pipeline: 1 };
    out.push({ scenario: `c${o.clients}`, spec: plain });
  }
  for (const test of o.tests) {
    const piped = { ...base, test, requests: o.pipelinedRequests, pipeline: o.pipeline };
    out.push({ scenario: `c${o.clients} P${o.pipeline}`, spec: piped });
  }
  return out;
}

function report(entries: Entry[], runs: Array<{ scenario: string; spec: RunSpec }>): string {
  const redis = entries[0]!;
  const rows: string[][] = [];
  for (const { scenario, spec } of runs) {
    const key = `${scenario}/${spec.test}`;
    const base = redis.runs.get(key) ?? [];
    for (const e of entries) {
      const r = e.runs.get(key) ?? [];
      const paired = r.slice(0, base.length).map((x, i) => x.cpuUsPerReq / base[i]!.cpuUsPerReq);
      rows.push([
        scenario,
        spec.test,
        e.label,
        Math.round(median(r.map((x) => x.rps))).toLocaleString("en-US"),
        fixed(median(r.map((x) => x.cpuUsPerReq)), 2),
        fixed(median(r.map((x) => x.userUsPerReq ?? NaN)), 2),
        fixed(median(r.map((x) => x.systemUsPerReq ?? NaN)), 2),
        e === redis ? "1.00" : fixed(median(paired), 2),
      ]);
    }
  }
  const header = ["scenario", "test", "server", "ops/s", "CPU us/req", "user", "system", "paired"];
  return table(header, rows, { left: 3 });
}

async function main(): Promise<void> {
  let o: Options | undefined;
  try {
    o = parse(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    console.error(USAGE);
    process.exit(2);
  }
  if (o === undefined) {
    console.log(USAGE);
    return;
  }
  installCleanup();
  const versions = new Set(o.runtimes.flatMap((runtime) => versionLines(runtime, ROOT)));
  for (const line of versions) console.log(line);
  const entries = await startAll(o);
  const runs = specs(o);
  try {
    if (o.warmup) {
      for (const { spec } of runs) {
        for (const e of entries) {
          await runBenchmark(e.proc, { ...spec, requests: spec.clients * 200 });
        }
      }
    }
    for (let round = 0; round < o.rounds; round++) {
      // Rotate who goes first, so drift of the machine within a round hits every server alike.
      const order = entries.map((_, i) => entries[(i + round) % entries.length]!);
      for (const { scenario, spec } of runs) {
        const key = `${scenario}/${spec.test}`;
        for (const e of order) {
          if (!isAlive(e.proc.pid)) throw new Error(`${e.label} died`);
          const r = await runBenchmark(e.proc, spec);
          e.runs.set(key, [...(e.runs.get(key) ?? []), r]);
          console.log(
            `round ${round + 1}/${o.rounds}  ${key.padEnd(22)} ${e.label.padEnd(12)}` +
              ` ${fixed(r.cpuUsPerReq, 2)} us/req (user ${fixed(r.userUsPerReq ?? NaN, 2)})`,
          );
        }
      }
    }
    console.log(report(entries, runs));
    console.log("paired: median over rounds of CPU per request / redis-server's in the same round");
  } finally {
    for (const e of entries) await e.proc.stop();
  }
}

if (import.meta.main) await main();
