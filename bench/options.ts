/**
 * The benchmark's command line flags and their defaults.
 *
 * @module
 */

import { commaList, positiveInt, readFlags, runtimeFlag } from "./flags.ts";

/** Which runtime runs redeno. */
export type Runtime = "deno" | "node";

/** Everything a benchmark run is told. */
export interface BenchOptions {
  /** Interleaved rounds per scenario; medians are taken over them. */
  rounds: number;
  /** Requests per redis-benchmark run without pipelining. */
  requests: number;
  /** Requests per redis-benchmark run with pipelining. */
  pipelinedRequests: number;
  /** Parallel connections (`-c`). */
  clients: number;
  /** Pipeline depth of the pipelined scenario (`-P`). */
  pipeline: number;
  /** Tests run in both scenarios, one run each: redis-benchmark `-t` names, `evalsha`, `multi`. */
  tests: string[];
  /** `-r`: random keys over this many; 0 for redis-benchmark's single key. */
  keyspace: number;
  /** `-d`: value size in bytes. */
  dataSize: number;
  /** Runtime of redeno. */
  runtime: Runtime;
  /** Also load keys into both servers and report memory per key. */
  memory: boolean;
  /** Keys to load in memory mode. */
  memoryKeys: number;
  /** Skip the throughput scenarios (only meaningful with `memory`). */
  memoryOnly: boolean;
  /** Run every test once on both servers, unmeasured, before the rounds. */
  warmup: boolean;
  /** `CLIENT TRACKING on` on every redis-benchmark connection (`--enable-tracking`). */
  tracking: boolean;
}

/** The defaults: sized so that a whole run takes two to three minutes on two cores. */
export const DEFAULTS: BenchOptions = {
  rounds: 3,
  requests: 150_000,
  pipelinedRequests: 1_500_000,
  clients: 50,
  pipeline: 16,
  tests: ["set", "get", "evalsha", "multi"],
  keyspace: 0,
  dataSize: 3,
  runtime: "deno",
  memory: false,
  memoryKeys: 1_000_000,
  memoryOnly: false,
  warmup: true,
  tracking: false,
};

/** The usage text printed by `--help`. */
export const USAGE = `Usage: deno run -A bench/run.ts [flags]   (or: npx tsx bench/run.ts [flags])

Starts redis-server and redeno on free ports of 127.0.0.1 and runs redis-benchmark against both,
interleaved, reporting median ops/s and server CPU time per request.

  --rounds N        rounds per scenario, medians over them (default ${DEFAULTS.rounds})
  --n N             requests per run without pipelining (default ${DEFAULTS.requests})
  --pn N            requests per pipelined run (default ${DEFAULTS.pipelinedRequests})
  --clients N       parallel connections, -c (default ${DEFAULTS.clients})
  --pipeline N      pipeline depth of the pipelined scenario, -P (default ${DEFAULTS.pipeline})
  --tests a,b       extra tests besides the defaults ${DEFAULTS.tests.join(",")} (redis-benchmark
                    -t names, e.g. incr,mset,lpush). evalsha and multi are the harness's own: a
                    one-GET script called by EVALSHA, and MULTI/SET/EXEC transactions from its own
                    client, each run with a fifth of the requests of --n and --pn; pfadd is
                    PFADD of element:__rand_int__ to one HyperLogLog (random with --keyspace)
  --only a,b        run exactly these tests instead of the defaults (e.g. --only evalsha,multi)
  --keyspace N      random keys over N (-r); default: one key, as redis-benchmark does
  --data-size N     value size in bytes, -d (default ${DEFAULTS.dataSize})
  --runtime R       deno (default) or node (the npm build, dist/; BENCH_NODE=tsx: through tsx)
  --memory          also load keys into each server and report RSS and bytes per key
  --memory-keys N   keys to load in memory mode (default ${DEFAULTS.memoryKeys})
  --memory-only     only the memory measurement
  --no-warmup       skip the unmeasured warm-up pass of every test on both servers
  --tracking        CLIENT TRACKING on for every redis-benchmark connection (--enable-tracking):
                    the cost of client-side caching's key tracking
  --help            this text`;

/**
 * Parses the flags; returns undefined when `--help` was asked for.
 *
 * @param argv the arguments after the script name
 * @returns the options, or undefined for `--help`
 * @example
 * ```ts
 * import { parseOptions } from "./options.ts";
 * const o = parseOptions(["--rounds", "5", "--tests", "incr"]);
 * console.log(o?.rounds, o?.tests); // 5 ["set", "get", "evalsha", "multi", "incr"]
 * ```
 */
export function parseOptions(argv: string[]): BenchOptions | undefined {
  const o: BenchOptions = { ...DEFAULTS, tests: [...DEFAULTS.tests] };
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
        for (const t of commaList(flag, value())) if (!o.tests.includes(t)) o.tests.push(t);
        break;
      case "--only":
        o.tests = commaList(flag, value());
        break;
      case "--keyspace":
        o.keyspace = positiveInt(flag, value(), 0);
        break;
      case "--data-size":
        o.dataSize = positiveInt(flag, value());
        break;
      case "--runtime":
        o.runtime = runtimeFlag(flag, value());
        break;
      case "--memory":
        o.memory = true;
        break;
      case "--memory-keys":
        o.memoryKeys = positiveInt(flag, value());
        break;
      case "--memory-only":
        o.memory = true;
        o.memoryOnly = true;
        break;
      case "--no-warmup":
        o.warmup = false;
        break;
      case "--tracking":
        o.tracking = true;
        break;
      default:
        throw new RangeError(`Unknown flag: ${flag} (see --help)`);
    }
  });
  return go ? o : undefined;
}
