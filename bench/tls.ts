/**
 * TLS throughput, redeno beside redis-server:
 *
 *     deno run -A bench/tls.ts [--runtime deno|node] [--mtls] [--rounds N] [--n N] [--pipeline N]
 *
 * Both servers listen on a plain port and a TLS port with the same certificates (made with
 * openssl in a temp directory). By default `tls-auth-clients no`, so redis-benchmark needs only
 * the CA (on Deno, redeno then serves TLS with `Deno.listenTls`); `--mtls` measures mutual TLS
 * (`tls-auth-clients yes`, redis-benchmark presenting a certificate: `node:tls` on both runtimes).
 * Each round runs `redis-benchmark --tls --cacert ca.crt -t <test> -c 50 -P 16 -n 200000` on
 * each server's TLS port, and the same over plain TCP for comparison, the servers taking turns;
 * the table gives medians of ops/s and of server CPU time per request (from /proc), and the
 * redeno / redis ratios.
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runBenchmark, type RunSpec } from "./benchmark.ts";
import type { Runtime } from "./options.ts";
import { clockTicks, installCleanup } from "./procs.ts";
import { type Series, throughputTable } from "./report.ts";
import { freePort, type ServerProc, startRedeno, startRedis, versionLines } from "./servers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");

interface Flags {
  runtime: Runtime;
  rounds: number;
  requests: number;
  pipeline: number;
  tests: string[];
  mtls: boolean;
}

function parse(argv: string[]): Flags {
  const f: Flags = {
    runtime: "deno",
    rounds: 3,
    requests: 200_000,
    pipeline: 16,
    tests: ["set", "get"],
    mtls: false,
  };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--mtls") {
      f.mtls = true;
      continue;
    }
    const v = argv[++i];
    switch (argv[i - 1]) {
      case "--runtime":
        if (v !== "deno" && v !== "node") throw new RangeError(`Invalid runtime: ${v}`);
        f.runtime = v;
        break;
      case "--rounds":
        f.rounds = Number(v);
        break;
      case "--n":
        f.requests = Number(v);
        break;
      case "--pipeline":
        f.pipeline = Number(v);
        break;
      case "--tests":
        f.tests = String(v).split(",");
        break;
      default:
        throw new RangeError(`Unknown flag: ${argv[i - 1]}`);
    }
  }
  return f;
}

/** A CA and a server certificate for 127.0.0.1, in a new temp directory. */
function makeCerts(
  mtls: boolean,
): { dir: string; ca: string; cert: string; key: string; flags: string[] } {
  const dir = mkdtempSync(join(tmpdir(), "redeno-bench-tls-"));
  const p = (n: string) => join(dir, n);
  const ssl = (args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });
  ssl(["genrsa", "-out", p("ca.key"), "2048"]);
  ssl([
    "req",
    "-x509",
    "-new",
    "-nodes",
    "-key",
    p("ca.key"),
    "-subj",
    "/CN=bench CA",
    "-days",
    "2",
    "-out",
    p("ca.crt"),
  ]);
  ssl(["genrsa", "-out", p("server.key"), "2048"]);
  ssl(["req", "-new", "-key", p("server.key"), "-subj", "/CN=bench", "-out", p("server.csr")]);
  writeFileSync(p("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  ssl([
    ...["x509", "-req", "-in", p("server.csr"), "-CA", p("ca.crt"), "-CAkey", p("ca.key")],
    ...["-CAcreateserial", "-days", "2", "-extfile", p("server.ext"), "-out", p("server.crt")],
  ]);
  const flags = [
    ...["--tls-cert-file", p("server.crt"), "--tls-key-file", p("server.key")],
    ...["--tls-ca-cert-file", p("ca.crt"), "--tls-auth-clients", mtls ? "yes" : "no"],
  ];
  // With --mtls redis-benchmark presents the server's certificate (signed by the same CA).
  return { dir, ca: p("ca.crt"), cert: p("server.crt"), key: p("server.key"), flags };
}

async function main(): Promise<void> {
  const f = parse(process.argv.slice(2));
  installCleanup();
  const certs = makeCerts(f.mtls);
  const tlsPorts = { redis: await freePort(), redeno: await freePort() };
  const redis = await startRedis(await freePort(), [
    ...certs.flags,
    "--tls-port",
    String(tlsPorts.redis),
  ]);
  let redeno: ServerProc | undefined;
  try {
    redeno = await startRedeno(await freePort(), {
      runtime: f.runtime,
      root: ROOT,
      extra: [...certs.flags, "--tls-port", String(tlsPorts.redeno)],
    });
    for (const line of versionLines(f.runtime, ROOT)) console.log(line);
    console.log(
      `CLK_TCK ${clockTicks()}, ${execFileSync("nproc", { encoding: "utf8" }).trim()} CPUs`,
    );
    console.log(
      `redis-benchmark [--tls --cacert ca.crt${f.mtls ? " --cert c.crt --key c.key" : ""}] ` +
        `-t <test> -c 50 -P ${f.pipeline} -n ${f.requests}; ` +
        `${f.rounds} rounds, medians\n`,
    );
    const servers = { redis, redeno };
    const client = f.mtls
      ? { cacert: certs.ca, cert: certs.cert, key: certs.key }
      : { cacert: certs.ca };
    const all: Array<{ series: Series; spec: (s: "redis" | "redeno") => RunSpec }> = [];
    for (const tls of [true, false]) {
      for (const test of f.tests) {
        const base = {
          test,
          clients: 50,
          requests: f.requests,
          pipeline: f.pipeline,
          keyspace: 0,
          dataSize: 3,
        };
        all.push({
          series: {
            scenario: `${tls ? "tls" : "tcp"} P${f.pipeline}`,
            test,
            redis: [],
            redeno: [],
          },
          spec: (s) => (tls ? { ...base, tls: { port: tlsPorts[s], ...client } } : base),
        });
      }
    }
    // One unmeasured pass warms the JIT (and Redis alike).
    for (const { spec } of all) {
      for (const s of ["redis", "redeno"] as const) await runBenchmark(servers[s], spec(s));
    }
    for (let round = 1; round <= f.rounds; round++) {
      const order = round % 2 === 1
        ? (["redis", "redeno"] as const)
        : (["redeno", "redis"] as const);
      for (const { series, spec } of all) {
        for (const s of order) {
          const r = await runBenchmark(servers[s], spec(s));
          series[s].push(r);
          process.stderr.write(
            `round ${round} ${series.scenario} ${series.test} ${s} ${Math.round(r.rps)} ops/s ${
              r.cpuUsPerReq.toFixed(2)
            } us/req\n`,
          );
        }
      }
    }
    console.log(throughputTable(all.map((a) => a.series)));
    console.log("ratio: redeno / redis; ops/s higher is better, CPU us/req lower is better");
  } finally {
    await Promise.all([redis.stop(), redeno?.stop()]);
    rmSync(certs.dir, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (e) {
  console.error(`bench/tls: ${(e as Error).message}`);
  process.exitCode = 1;
}
