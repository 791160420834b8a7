/**
 * Big values, redeno against redis-server side by side in one run:
 *
 *     ./node_modules/deno/deno run -A bench/bigvalues.ts [flags]   (--help lists them)
 *
 * SET and GET of 1 KiB, 100 KiB and 1 MiB values (redis-benchmark `-t set,get -d <size>`), each
 * without pipelining and with it, the servers taking turns round by round as in bench/run.ts.
 * Each run moves about the same number of bytes (`--mib`), so a 1 KiB run makes many more
 * requests than a 1 MiB one. The table shows median ops/s and the server's CPU time per request
 * (user + system, from /proc), and their ratios redeno / redis.
 *
 * @module
 */

import process from "node:process";
import { fileURLToPath } from "node:url";
import { runBenchmark, type RunSpec } from "./benchmark.ts";
import type { Runtime } from "./options.ts";
import { installCleanup, isAlive } from "./procs.ts";
import { type Series, throughputTable } from "./report.ts";
import { freePort, type ServerProc, startRedeno, startRedis, versionLines } from "./servers.ts";
import { positiveInt, readFlags, runtimeFlag } from "./flags.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");

/** What a run is told. */
interface Options {
  rounds: number;
  clients: number;
  pipeline: number;
  /** Bytes of values each run moves, in MiB. */
  mib: number;
  sizes: number[];
  runtime: Runtime;
  warmup: boolean;
}

const DEFAULTS: Options = {
  rounds: 5,
  clients: 10,
  pipeline: 8,
  mib: 256,
  sizes: [1024, 100 * 1024, 1024 * 1024],
  runtime: "deno",
  warmup: true,
};

const USAGE = `Usage: deno run -A bench/bigvalues.ts [flags]

SET and GET of big values on redis-server and redeno, interleaved, reporting median ops/s and
server CPU time per request.

  --rounds N      rounds, medians over them (default ${DEFAULTS.rounds})
  --clients N     parallel connections, -c (default ${DEFAULTS.clients})
  --pipeline N    pipeline depth of the pipelined scenario, -P (default ${DEFAULTS.pipeline})
  --mib N         MiB of values each run sends or receives (default ${DEFAULTS.mib}); requests
                  per run = N MiB / size, at least one per client, at most 200,000
  --sizes a,b     value sizes in bytes (default ${DEFAULTS.sizes.join(",")})
  --runtime R     deno (default) or node (the npm build, dist/; BENCH_NODE=tsx: through tsx)
  --no-warmup     skip the unmeasured first pass
  --help          this text`;

function parse(argv: string[]): Options | undefined {
  const o: Options = { ...DEFAULTS };
  const go = readFlags(argv, (flag, value) => {
    switch (flag) {
      case "--rounds":
        o.rounds = positiveInt(flag, value());
        break;
      case "--clients":
        o.clients = positiveInt(flag, value());
        break;
      case "--pipeline":
        o.pipeline = positiveInt(flag, value());
        break;
      case "--mib":
        o.mib = positiveInt(flag, value());
        break;
      case "--sizes":
        o.sizes = (value() ?? "").split(",").map((s) => positiveInt(flag, s.trim()));
        break;
      case "--runtime":
        o.runtime = runtimeFlag(flag, value());
        break;
      case "--no-warmup":
        o.warmup = false;
        break;
      default:
        throw new RangeError(`Unknown flag: ${flag} (see --help)`);
    }
  });
  return go ? o : undefined;
}

function sizeName(n: number): string {
  if (n % (1024 * 1024) === 0) return `${n / (1024 * 1024)}MiB`;
  if (n % 1024 === 0) return `${n / 1024}KiB`;
  return `${n}B`;
}

/** Every scenario: each size without and with pipelining; SET before GET (GET reads its key). */
function scenarios(o: Options): Array<{ series: Series; spec: RunSpec }> {
  return o.sizes.flatMap((size) =>
    [1, o.pipeline].flatMap((pipeline) =>
      ["set", "get"].map((test) => {
        const requests = Math.min(
          200_000,
          Math.max(o.clients * pipeline, Math.round((o.mib * 1024 * 1024) / size)),
        );
        const scenario = `${sizeName(size)} c${o.clients}${pipeline > 1 ? ` P${pipeline}` : ""}`;
        return {
          series: { scenario, test, redis: [], redeno: [] } as Series,
          spec: { test, clients: o.clients, requests, pipeline, keyspace: 0, dataSize: size },
        };
      })
    )
  );
}

function log(text: string): void {
  process.stderr.write(`${text}\n`);
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  if (o === undefined) {
    console.log(USAGE);
    return;
  }
  installCleanup();
  for (const line of versionLines(o.runtime, ROOT)) console.log(line);
  const redis = await startRedis(await freePort());
  let redeno: ServerProc | undefined;
  try {
    let port = await freePort();
    while (port === redis.port) port = await freePort();
    redeno = await startRedeno(port, { runtime: o.runtime, root: ROOT });
    console.log(`rounds ${o.rounds}, -c ${o.clients}, -P ${o.pipeline}, ${o.mib} MiB per run\n`);
    const all = scenarios(o);
    if (o.warmup) {
      for (const { spec } of all) for (const s of [redis, redeno]) await runBenchmark(s, spec);
      log("warm-up done");
    }
    for (let round = 1; round <= o.rounds; round++) {
      const order = round % 2 === 1 ? [redis, redeno] : [redeno, redis];
      for (const { series, spec } of all) {
        for (const server of order) {
          try {
            const r = await runBenchmark(server, spec);
            (server === redis ? series.redis : series.redeno).push(r);
            log(
              `round ${round}/${o.rounds}  ${series.scenario.padEnd(14)} ${spec.test} ` +
                `${server.name.padEnd(6)} ${Math.round(r.rps).toString().padStart(7)} ops/s ` +
                `${r.cpuUsPerReq.toFixed(1).padStart(8)} us/req`,
            );
          } catch (e) {
            if (!isAlive(server.pid)) {
              throw new Error(`${server.name} died: ${(e as Error).message}`);
            }
            series.error = `${server.name}: ${(e as Error).message}`;
          }
        }
      }
    }
    console.log(throughputTable(all.map((s) => s.series)));
    for (const s of all) if (s.series.error) console.log(`  failed: ${s.series.error}`);
    console.log("ratio: redeno / redis; ops/s higher is better, CPU us/req lower is better");
  } finally {
    await Promise.all([redis.stop(), redeno?.stop()]);
  }
}

try {
  await main();
} catch (e) {
  console.error(`bench: ${(e as Error).message}`);
  process.exitCode = 1;
}
