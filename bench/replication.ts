/**
 * What two replicas cost a master, redis-server beside redeno: SET throughput (`redis-benchmark
 * -t set -c 50 -P 16`) of a master alone, then of the same master with two replicas of its own
 * kind attached, and how far behind the replicas fall meanwhile.
 *
 *     deno run -A bench/replication.ts [--rounds 3] [--requests 2000000] [--keyspace 100000]
 *                                      [--runtime deno|node] [--kinds redis,redeno]
 *
 * Each round, for each kind, starts a master and two replicas on free ports (no persistence),
 * runs the benchmark against the master alone, then with two sinks attached (sockets that do
 * PSYNC and discard the stream: replicas whose own work lands on other machines, so the run
 * shows what feeding two replicas costs the master itself), then points both real replicas at
 * it with REPLICAOF, waits for both links to be up (full sync done), and runs it again. On a
 * small machine the real replicas take CPU from the master and from redis-benchmark, which the
 * sinks do not. During that run every
 * server is asked for INFO replication every 50 ms: a replica sampled at time t that has applied
 * offset o lags by t minus the time the master's offset was last at or below o, so the lag is
 * time and not bytes (50 ms grain). After the run, catch-up is how long until both replicas have
 * applied the master's last offset. CPU is per request (µs, user + system): the master's alone
 * and with replicas, and each replica's over the run and its catch-up. Ratio is with-replicas over alone throughput; each round's
 * pair is measured back to back, and the median over rounds is reported.
 *
 * @module
 */

import process from "node:process";
import { fileURLToPath } from "node:url";
import { runBenchmark, type RunSpec } from "./benchmark.ts";
import { Conn } from "./conn.ts";
import { cpuSeconds, installCleanup, spawnTracked, stopProcess } from "./procs.ts";
import { median, table } from "./report.ts";
import { freePort, type ServerProc, startRedeno, startRedis } from "./servers.ts";
import type { Runtime } from "./options.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const HOST = "127.0.0.1";

interface Options {
  rounds: number;
  requests: number;
  keyspace: number;
  runtime: Runtime;
  /** The kinds of master measured. */
  kinds: string[];
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    rounds: 3,
    requests: 2_000_000,
    keyspace: 100_000,
    runtime: "deno",
    kinds: ["redis", "redeno"],
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === "--runtime" && (value === "deno" || value === "node")) o.runtime = value;
    else if (flag === "--rounds" && Number(value) > 0) o.rounds = Number(value);
    else if (flag === "--requests" && Number(value) > 0) o.requests = Number(value);
    else if (flag === "--keyspace" && Number(value) > 0) o.keyspace = Number(value);
    else if (flag === "--kinds" && value !== undefined) o.kinds = value.split(",");
    else throw new Error(`bad flag ${flag} ${value ?? ""}; see the header of bench/replication.ts`);
  }
  return o;
}

function field(info: string, name: string): string | undefined {
  const line = info.split("\r\n").find((l) => l.startsWith(`${name}:`));
  return line?.slice(name.length + 1);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A replica stand-in, run by bash in a process of its own (so reading the stream costs this
 * harness nothing): it sends the handshake, PSYNC once both REPLCONFs were answered (Redis
 * refuses a PSYNC behind unread replies), `REPLCONF ACK` every second, and hands the stream to
 * `cat > /dev/null`. To the master it is a replica like any other, but applying the stream
 * costs nothing here: what two replicas on other machines cost the master.
 */
const SINK_SCRIPT = `
exec 3<>/dev/tcp/${HOST}/$1
cmd() { local out="*$#\r\n" a; for a; do out+="\\$\${#a}\r\n$a\r\n"; done; printf "$out" >&3; }
cmd REPLCONF listening-port 1
cmd REPLCONF capa eof capa psync2
read -r -u 3 _; read -r -u 3 _
cmd PSYNC "?" -1
( while sleep 1; do cmd REPLCONF ACK 0; done ) &
exec cat <&3 >/dev/null
`;

async function sink(port: number): Promise<() => Promise<void>> {
  const child = spawnTracked("bash", ["-c", SINK_SCRIPT, "sink", String(port)], {
    stdio: "ignore",
  });
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", () => resolve());
    child.once("error", reject);
  });
  return () => stopProcess(child);
}

/** Waits until the master counts `count` replicas, all online (their sync done). */
async function waitReplicas(t: Trio, count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const info = await t.conns[0]!.send("INFO replication");
    const online = info.split("\r\n").filter((l) => /^slave\d+:.*state=online/.test(l)).length;
    if (field(info, "connected_slaves") === String(count) && online === count) return;
    if (Date.now() > deadline) throw new Error(`${count} replicas did not come online in 60 s`);
    await sleep(50);
  }
}

/** The master and replicas of one kind for one round. */
interface Trio {
  master: ServerProc;
  replicas: ServerProc[];
  conns: Conn[];
}

async function startTrio(kind: string, o: Options): Promise<Trio> {
  const start = async (): Promise<ServerProc> => {
    const port = await freePort();
    return kind === "redis"
      // The sinks acknowledge every second, which Redis's diskless delay counts as activity.
      ? startRedis(port, ["--repl-diskless-sync-delay", "0"])
      : startRedeno(port, { runtime: o.runtime, root: ROOT });
  };
  const master = await start();
  const replicas = [await start(), await start()];
  const conns = await Promise.all([master, ...replicas].map((s) => Conn.open(s.port)));
  return { master, replicas, conns };
}

async function stopTrio(t: Trio): Promise<void> {
  for (const c of t.conns) c.close();
  await Promise.all([t.master, ...t.replicas].map((s) => s.stop()));
}

async function attach(t: Trio): Promise<void> {
  const [m, ...rs] = t.conns;
  for (const r of rs) await r.send(`REPLICAOF ${HOST} ${t.master.port}`);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const up = await Promise.all(rs.map(async (r) => {
      return field(await r.send("INFO replication"), "master_link_status") === "up";
    }));
    const count = field(await m!.send("INFO replication"), "connected_slaves");
    if (up.every(Boolean) && count === String(rs.length)) return;
    if (Date.now() > deadline) throw new Error("the replicas did not sync within 60 s");
    await sleep(50);
  }
}

/** Replica lag while `during` runs, and catch-up after it. */
async function watchLag(
  t: Trio,
  during: Promise<unknown>,
): Promise<{ maxLag: number; catchUp: number }> {
  const [m, ...rs] = t.conns;
  const history: Array<[number, number]> = [];
  let maxLag = 0;
  let running = true;
  during.finally(() => (running = false)).catch(() => {});
  const sample = async (): Promise<number[]> => {
    const now = performance.now();
    const mo = Number(field(await m!.send("INFO replication"), "master_repl_offset"));
    history.push([now, mo]);
    const offsets = await Promise.all(rs.map(async (r) => {
      return Number(field(await r.send("INFO replication"), "slave_repl_offset"));
    }));
    for (const o of offsets) {
      // The last time the master had not yet gone past what this replica applied.
      let at = now;
      for (let i = history.length - 1; i >= 0; i--) {
        if (history[i]![1] <= o) {
          at = history[i]![0];
          break;
        }
        at = history[i]![0];
      }
      maxLag = Math.max(maxLag, now - at);
    }
    return [mo, ...offsets];
  };
  while (running) {
    await sample();
    await sleep(50);
  }
  await during;
  const end = performance.now();
  for (;;) {
    const [mo, ...offsets] = await sample();
    if (offsets.every((o) => o >= mo!)) return { maxLag, catchUp: performance.now() - end };
    if (performance.now() - end > 60_000) throw new Error("the replicas did not catch up in 60 s");
    await sleep(10);
  }
}

interface Round {
  alone: number;
  /** With two sinks (see sink()). */
  withSinks: number;
  withReplicas: number;
  cpuAlone: number;
  cpuSinks: number;
  cpuWith: number;
  /** Each replica's CPU per request of the run (µs), catch-up included; the mean of the two. */
  cpuReplica: number;
  maxLag: number;
  catchUp: number;
}

async function round(kind: string, o: Options): Promise<Round> {
  const spec: RunSpec = {
    test: "set",
    clients: 50,
    requests: o.requests,
    pipeline: 16,
    keyspace: o.keyspace,
    dataSize: 3,
  };
  const t = await startTrio(kind, o);
  try {
    // A first run warms the master up (JIT, grown heap) and fills the keyspace.
    await runBenchmark(t.master, { ...spec, requests: Math.min(o.requests, 500_000) });
    const alone = await runBenchmark(t.master, spec);
    const sinks = [await sink(t.master.port), await sink(t.master.port)];
    let withSinks;
    try {
      await waitReplicas(t, sinks.length);
      withSinks = await runBenchmark(t.master, spec);
    } finally {
      await Promise.all(sinks.map((stop) => stop()));
    }
    await waitReplicas(t, 0);
    await attach(t);
    const replicaCpu = () => t.replicas.reduce((sum, r) => sum + cpuSeconds(r.pid), 0);
    const before = replicaCpu();
    const run = runBenchmark(t.master, spec);
    const lag = await watchLag(t, run);
    const withReplicas = await run;
    const cpuReplica = ((replicaCpu() - before) / t.replicas.length / o.requests) * 1e6;
    return {
      cpuReplica,
      alone: alone.rps,
      withSinks: withSinks.rps,
      withReplicas: withReplicas.rps,
      cpuAlone: alone.cpuUsPerReq,
      cpuSinks: withSinks.cpuUsPerReq,
      cpuWith: withReplicas.cpuUsPerReq,
      ...lag,
    };
  } finally {
    await stopTrio(t);
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  installCleanup();
  const results: Record<string, Round[]> = { redis: [], redeno: [] };
  for (let i = 0; i < o.rounds; i++) {
    for (const kind of o.kinds) {
      const r = await round(kind, o);
      results[kind]!.push(r);
      process.stderr.write(
        `round ${i + 1} ${kind}: alone ${r.alone.toFixed(0)}/s, with replicas ` +
          `${r.withReplicas.toFixed(0)}/s (${(r.withReplicas / r.alone).toFixed(2)}), with sinks ` +
          `${r.withSinks.toFixed(0)}/s (${(r.withSinks / r.alone).toFixed(2)}), ` +
          `max lag ${r.maxLag.toFixed(0)} ms, catch-up ${r.catchUp.toFixed(0)} ms\n`,
      );
    }
  }
  const rows = o.kinds.map((kind) => {
    const rs = results[kind]!;
    const m = (f: (r: Round) => number) => median(rs.map(f));
    return [
      kind,
      m((r) => r.alone).toFixed(0),
      m((r) => r.withSinks).toFixed(0),
      m((r) => r.withSinks / r.alone).toFixed(2),
      m((r) => r.withReplicas).toFixed(0),
      m((r) => r.withReplicas / r.alone).toFixed(2),
      m((r) => r.cpuAlone).toFixed(2),
      m((r) => r.cpuSinks).toFixed(2),
      m((r) => r.cpuWith).toFixed(2),
      m((r) => r.cpuReplica).toFixed(2),
      Math.max(...rs.map((r) => r.maxLag)).toFixed(0),
      Math.max(...rs.map((r) => r.catchUp)).toFixed(0),
    ];
  });
  console.log(
    `SET -c 50 -P 16, ${o.requests} requests, ${o.keyspace} keys; two replicas; ` +
      `median of ${o.rounds} rounds (lag and catch-up: worst)`,
  );
  console.log(table(
    [
      "master",
      "alone/s",
      "2 sinks/s",
      "ratio",
      "2 replicas/s",
      "ratio",
      "cpu µs alone",
      "cpu µs sinks",
      "cpu µs replicas",
      "replica cpu µs",
      "max lag ms",
      "catch-up ms",
    ],
    rows,
    { left: 1 },
  ));
  const redeno = rows.find((r) => r[0] === "redeno");
  if (redeno === undefined) process.exit(0);
  const [sinks, replicas] = [Number(redeno[3]), Number(redeno[5])];
  const lagOk = Number(redeno[10]) < 1000;
  const bar = (x: number) => `${x} (bar >= 0.8: ${x >= 0.8 ? "met" : "not met"})`;
  console.log(
    `redeno with two replicas / alone: ${bar(replicas)}; with two sinks / alone: ${bar(sinks)}; ` +
      `replica lag < 1 s: ${lagOk ? "met" : "not met"}`,
  );
  process.exit(0);
}

if (import.meta.main) await main();
