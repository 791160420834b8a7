/**
 * One redis-benchmark run against one server: its `--csv` throughput and the server's CPU time
 * spent during the run, per request.
 *
 * @module
 */

import { cpuTimes, spawnTracked } from "./procs.ts";
import type { ServerProc } from "./servers.ts";

/** What one redis-benchmark run does. */
export interface RunSpec {
  /** A redis-benchmark test name (`-t`), e.g. `set`; or the harness's name for `command`. */
  test: string;
  /** A command line to run instead of the `-t` test, e.g. `["EVALSHA", sha, "1", "k"]`. */
  command?: string[];
  clients: number;
  requests: number;
  /** Pipeline depth; 1 for none. */
  pipeline: number;
  /** `-r`; 0 to leave it out (one key). */
  keyspace: number;
  /** `-d`. */
  dataSize: number;
  /**
   * Connect with TLS to this port (`--tls --cacert`, and `--cert`/`--key` when given), instead of
   * the server's plain port.
   */
  tls?: { port: number; cacert: string; cert?: string; key?: string };
  /** `--enable-tracking`: each connection sends CLIENT TRACKING on first. */
  tracking?: boolean;
}

/** The outcome of one run. */
export interface RunResult {
  /** Operations per second as redis-benchmark reports them (the mean over its tests). */
  rps: number;
  /** Server CPU (user + system) per request, in microseconds. */
  cpuUsPerReq: number;
  /** The user-space part of it, when measured apart. */
  userUsPerReq?: number;
  /** The kernel's part of it, when measured apart. */
  systemUsPerReq?: number;
}

/**
 * Parses redis-benchmark `--csv` output: a header line, then `"TEST","rps",...` per test.
 *
 * @param text the standard output
 * @returns test name and ops/s of each row
 * @example
 * ```ts
 * import { parseCsv } from "./benchmark.ts";
 * const out = '"test","rps","avg_latency_ms"\n"SET","75757.57","0.345"\n';
 * console.log(parseCsv(out)); // [{ test: "SET", rps: 75757.57 }]
 * ```
 */
export function parseCsv(text: string): Array<{ test: string; rps: number }> {
  const rows: Array<{ test: string; rps: number }> = [];
  for (const line of text.split(/\r?\n/)) {
    const fields = [...line.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
    if (fields.length < 2 || fields[0] === "test") continue;
    const rps = Number(fields[1]);
    if (Number.isFinite(rps)) rows.push({ test: fields[0]!, rps });
  }
  return rows;
}

/**
 * Runs redis-benchmark once against `server`, reading the server's CPU time before and after.
 * A test that expands to several (`-t lrange`) shares the CPU time over all their requests.
 * Throws when redis-benchmark fails (it exits on the first error reply, e.g. an unknown command
 * or a NOSCRIPT).
 *
 * @param server the server under test
 * @param spec the test, clients, requests and pipeline
 * @returns ops/s and server CPU microseconds per request
 * @example
 * ```ts
 * import { runBenchmark } from "./benchmark.ts";
 * import { freePort, startRedis } from "./servers.ts";
 * const redis = await startRedis(await freePort());
 * const spec = { test: "set", clients: 50, requests: 10000, pipeline: 1, keyspace: 0, dataSize: 3 };
 * console.log(await runBenchmark(redis, spec));
 * await redis.stop();
 * ```
 */
export async function runBenchmark(server: ServerProc, spec: RunSpec): Promise<RunResult> {
  const args = spec.tls === undefined
    ? ["-h", "127.0.0.1", "-p", String(server.port)]
    : ["-h", "127.0.0.1", "-p", String(spec.tls.port), "--tls", "--cacert", spec.tls.cacert];
  if (spec.tls?.cert !== undefined) args.push("--cert", spec.tls.cert, "--key", spec.tls.key!);
  if (spec.command === undefined) args.push("-t", spec.test);
  args.push("-c", String(spec.clients), "-n", String(spec.requests), "-d", String(spec.dataSize));
  if (spec.pipeline > 1) args.push("-P", String(spec.pipeline));
  if (spec.keyspace > 0) args.push("-r", String(spec.keyspace));
  if (spec.tracking) args.push("--enable-tracking");
  args.push("--csv", ...(spec.command ?? []));
  const before = cpuTimes(server.pid);
  const child = spawnTracked("redis-benchmark", args, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Uint8Array) => (stdout += new TextDecoder().decode(d)));
  child.stderr?.on("data", (d: Uint8Array) => (stderr += new TextDecoder().decode(d)));
  const code = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (c: number | null) => resolve(c ?? -1));
  });
  const after = cpuTimes(server.pid);
  const user = after.user - before.user;
  const system = after.system - before.system;
  const rows = parseCsv(stdout);
  if (code !== 0 || rows.length === 0) {
    // redis-benchmark warns on stderr when CONFIG is missing; the error is the last line.
    const why = stderr.trim().split("\n").filter((l) => !l.startsWith("WARNING")).pop();
    const what = spec.command?.join(" ") ?? `-t ${spec.test}`;
    throw new Error(`redis-benchmark ${what} failed: ${why ?? `exit code ${code}`}`);
  }
  const rps = rows.reduce((sum, r) => sum + r.rps, 0) / rows.length;
  const perReq = 1e6 / (spec.requests * rows.length);
  return {
    rps,
    cpuUsPerReq: (user + system) * perReq,
    userUsPerReq: user * perReq,
    systemUsPerReq: system * perReq,
  };
}
