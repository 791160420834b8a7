/**
 * redeno against redis-server, side by side in one run:
 *
 *     deno task bench [flags]            (or: npx tsx bench/run.ts [flags]; --help lists them)
 *
 * Both servers start on free ports of 127.0.0.1. Each scenario (`-c 50`, then `-c 50 -P 16`)
 * runs every test once per server per round, the servers taking turns (and swapping who goes
 * first each round), so slow drift of the machine hits both alike. For each run the server's CPU
 * time (user + system, from /proc) is read before and after, giving CPU microseconds per request;
 * the table shows medians over the rounds. `--memory` also loads keys into fresh servers and
 * compares resident memory per key.
 *
 * Besides redis-benchmark's own tests (`-t` names), two tests are the harness's: `evalsha`
 * (redis-benchmark calling a one-`GET` script loaded beforehand with SCRIPT LOAD) and `multi`
 * (MULTI/SET/EXEC transactions from the harness's own load generator; one request is one
 * transaction of three commands); `pfadd` is a command line redis-benchmark runs (it has no `-t`
 * test for PFADD).
 *
 * Layout: options.ts (flags), procs.ts (/proc and process control), servers.ts (starting the
 * servers), benchmark.ts (one redis-benchmark run), scripting.ts (EVALSHA set-up), multi.ts
 * (transaction load generator), memory.ts (memory mode), report.ts (tables).
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runBenchmark, type RunResult, type RunSpec } from "./benchmark.ts";
import { loadKeys, type MemoryResult } from "./memory.ts";
import { runTransactions } from "./multi.ts";
import { type BenchOptions, parseOptions, USAGE } from "./options.ts";
import { clockTicks, installCleanup, isAlive, rssBytes } from "./procs.ts";
import { memoryTable, mib, type Series, throughputTable } from "./report.ts";
import { prepareEvalsha } from "./scripting.ts";
import { freePort, type ServerProc, startRedeno, startRedis, versionLines } from "./servers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");

/** The two servers under test. */
interface Pair {
  redis: ServerProc;
  redeno: ServerProc;
}

function log(text: string): void {
  process.stderr.write(`${text}\n`);
}

async function startPair(options: BenchOptions): Promise<Pair> {
  const redisPort = await freePort();
  let redenoPort = await freePort();
  while (redenoPort === redisPort) redenoPort = await freePort();
  const redis = await startRedis(redisPort);
  try {
    const redeno = await startRedeno(redenoPort, { runtime: options.runtime, root: ROOT });
    return { redis, redeno };
  } catch (e) {
    await redis.stop();
    throw e;
  }
}

async function stopPair(pair: Pair): Promise<void> {
  await Promise.all([pair.redis.stop(), pair.redeno.stop()]);
}

/**
 * The harness's own tests and the share of `--n` / `--pn` each of their runs makes: a script call
 * or a transaction costs several plain commands, and full counts would make a run drag.
 */
const HARNESS_TESTS: Record<string, number> = { evalsha: 0.2, multi: 0.2 };

/**
 * By test name, the command line redis-benchmark runs instead of a `-t` test, or why readying the
 * servers for it failed (which fails that test alone, as a missing command does).
 */
type Prepared = Map<string, string[] | Error>;

/**
 * Tests redis-benchmark has no `-t` name for, by name: the command line it runs instead. PFADD
 * adds `element:__rand_int__` to one HyperLogLog: one element over and over (no register changes
 * after the first call) unless `--keyspace` makes the elements random.
 */
const COMMAND_TESTS: Record<string, string[]> = {
  pfadd: ["PFADD", "bench:hll", "element:__rand_int__"],
};

/**
 * Readies both servers for the tests that need it (EVALSHA: a key and a loaded script). Both
 * servers must agree on the script's SHA1.
 */
async function prepare(pair: Pair, options: BenchOptions): Promise<Prepared> {
  const prepared: Prepared = new Map();
  for (const [test, command] of Object.entries(COMMAND_TESTS)) {
    if (options.tests.includes(test)) prepared.set(test, command);
  }
  if (options.tests.includes("evalsha")) {
    try {
      const redis = await prepareEvalsha(pair.redis);
      const redeno = await prepareEvalsha(pair.redeno);
      if (redis.join(" ") !== redeno.join(" ")) {
        throw new Error(`SCRIPT LOAD differs: redis ${redis[1]}, redeno ${redeno[1]}`);
      }
      prepared.set("evalsha", redis);
    } catch (e) {
      prepared.set("evalsha", e as Error);
      log(`evalsha skipped: ${(e as Error).message}`);
    }
  }
  return prepared;
}

/** The scenarios of a run: every test without and with pipelining. */
function seriesOf(
  options: BenchOptions,
  prepared: Prepared,
): Array<{ series: Series; spec: RunSpec }> {
  const base = {
    clients: options.clients,
    keyspace: options.keyspace,
    dataSize: options.dataSize,
    tracking: options.tracking,
  };
  const scenarios = [
    { name: `c${options.clients}`, pipeline: 1, requests: options.requests },
    {
      name: `c${options.clients} P${options.pipeline}`,
      pipeline: options.pipeline,
      requests: options.pipelinedRequests,
    },
  ];
  return scenarios.flatMap((sc) =>
    options.tests.map((test) => {
      const share = HARNESS_TESTS[test] ?? 1;
      const requests = Math.max(options.clients, Math.round(sc.requests * share));
      const ready = prepared.get(test);
      const series: Series = { scenario: sc.name, test, redis: [], redeno: [] };
      if (ready instanceof Error) series.error = ready.message;
      const command = Array.isArray(ready) ? { command: ready } : {};
      return { series, spec: { ...base, test, pipeline: sc.pipeline, requests, ...command } };
    })
  );
}

/** One measured run of a test: the transaction generator for `multi`, else redis-benchmark. */
function runTest(server: ServerProc, spec: RunSpec): Promise<RunResult> {
  return spec.test === "multi" ? runTransactions(server, spec) : runBenchmark(server, spec);
}

/**
 * One unmeasured pass of every test on both servers: a JIT runtime reaches its steady state
 * (compiled hot paths, a grown heap) only after the first million commands or so, and a server
 * runs in that state; Redis is warmed the same way.
 */
async function warmUp(pair: Pair, all: Array<{ series: Series; spec: RunSpec }>): Promise<void> {
  for (const { series, spec } of all) {
    if (series.error !== undefined) continue;
    for (const server of [pair.redis, pair.redeno]) {
      try {
        await runTest(server, spec);
      } catch {
        // A failing test is reported by the measured rounds.
      }
    }
  }
  log("warm-up done");
}

async function throughput(pair: Pair, options: BenchOptions): Promise<Series[]> {
  const all = seriesOf(options, await prepare(pair, options));
  if (options.warmup) await warmUp(pair, all);
  for (let round = 1; round <= options.rounds; round++) {
    const order = round % 2 === 1 ? [pair.redis, pair.redeno] : [pair.redeno, pair.redis];
    for (const { series, spec } of all) {
      if (series.error !== undefined) continue;
      for (const server of order) {
        try {
          const r = await runTest(server, spec);
          (server === pair.redis ? series.redis : series.redeno).push(r);
          log(
            `round ${round}/${options.rounds}  ${series.scenario.padEnd(8)} ${
              spec.test.padEnd(7)
            } ` +
              `${server.name.padEnd(6)} ${Math.round(r.rps).toString().padStart(8)} ops/s ` +
              `${r.cpuUsPerReq.toFixed(2).padStart(6)} us/req`,
          );
        } catch (e) {
          // A missing command fails the test for good; a dead server ends the whole run.
          if (!isAlive(server.pid)) throw new Error(`${server.name} died: ${(e as Error).message}`);
          series.error = `${server.name}: ${(e as Error).message}`;
          log(`round ${round}: ${series.scenario} ${spec.test} skipped: ${series.error}`);
          break;
        }
      }
    }
  }
  return all.map((s) => s.series);
}

async function memory(options: BenchOptions): Promise<Record<string, MemoryResult>> {
  const pair = await startPair(options);
  try {
    const out: Record<string, MemoryResult> = {};
    for (const server of [pair.redis, pair.redeno]) {
      log(`memory: loading ${options.memoryKeys} keys into ${server.name}...`);
      out[server.name] = await loadKeys(server, {
        keys: options.memoryKeys,
        dataSize: options.dataSize,
      });
    }
    return out;
  } finally {
    await stopPair(pair);
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options === undefined) {
    console.log(USAGE);
    return;
  }
  installCleanup();
  const started = Date.now();
  for (const line of versionLines(options.runtime, ROOT)) console.log(line);
  console.log(
    `CLK_TCK ${clockTicks()}, ${execFileSync("nproc", { encoding: "utf8" }).trim()} CPUs`,
  );
  if (!options.memoryOnly) {
    const pair = await startPair(options);
    try {
      console.log(
        `rounds ${options.rounds}, -n ${options.requests} (pipelined ${options.pipelinedRequests}), ` +
          `-c ${options.clients}, -d ${options.dataSize}` +
          (options.keyspace > 0 ? `, -r ${options.keyspace}` : "") +
          (options.tracking ? ", --enable-tracking" : "") +
          `; redis pid ${pair.redis.pid} port ${pair.redis.port}, ` +
          `redeno pid ${pair.redeno.pid} port ${pair.redeno.port}\n`,
      );
      const series = await throughput(pair, options);
      console.log(throughputTable(series));
      const errors = new Set(series.flatMap((s) => s.error === undefined ? [] : [s.error]));
      for (const e of errors) console.log(`  failed: ${e}`);
      console.log("ratio: redeno / redis; ops/s higher is better, CPU us/req lower is better");
      if (options.tests.includes("multi")) {
        console.log("multi: one request is one transaction (MULTI, SET, EXEC)");
      }
      console.log(
        `\nRSS at the end: redis ${mib(rssBytes(pair.redis.pid))}, ` +
          `redeno ${mib(rssBytes(pair.redeno.pid))}`,
      );
    } finally {
      await stopPair(pair);
    }
  }
  if (options.memory) {
    const results = await memory(options);
    console.log(
      `\nMemory: ${options.memoryKeys} keys of ${options.dataSize}-byte values, fresh servers`,
    );
    console.log(memoryTable(results));
  }
  console.log(`\nTotal time ${((Date.now() - started) / 1000).toFixed(0)}s`);
}

try {
  await main();
} catch (e) {
  console.error(`bench: ${(e as Error).message}`);
  process.exitCode = 1;
}
