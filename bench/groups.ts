/**
 * Joining capacity-limited groups: the three stock-Redis ways against `GROUP.JOIN`.
 *
 *     deno run -A bench/groups.ts [flags]      (or: npx tsx bench/groups.ts [flags]; --help)
 *
 * Every flow plays the same attempt list (seeded): `--groups` groups of `--capacity` seats, each
 * wanted by `--members` distinct users, dealt round-robin to `--clients` app instances that all
 * run at once. With `--order random` (the default) the attempts are shuffled over all groups;
 * with `--order rush` the groups fill one after another, each group's would-be members arriving
 * together (a room opens and everyone rushes in).
 *
 * An app instance is a socket server serving many users, so it has several joins in flight:
 * `--concurrency N` (default 10) slots per client, each taking the client's next attempt as soon
 * as its last one ended (`--concurrency 1`: one attempt after another). Why 10: by Little's law
 * the joins in flight at an instance are its join rate times the time a join takes; an instance
 * taking 1,000 joins/s at a peak (a room opening, a match starting) with joins of ~10 ms (a few
 * round trips over a network, plus queueing) has 10 in flight, and 50 instances 500. It is
 * modest: ioredis puts no bound on the commands in flight on a connection.
 *
 * The flows (groups_flows.ts):
 *
 * - `watch`: WATCH both keys, HMGET + SISMEMBER (one pipeline), MULTI SADD HINCRBY EXEC, again
 *   from WATCH when EXEC answers nil (a retry); UNWATCH on a refusal. WATCH is state of the
 *   connection, so concurrent transactions cannot share one: each client has a pool of N
 *   connections, one per slot (50 x 10 = 500 connections by default), as an app must.
 * - `lua`: one script via ioredis `defineCommand` (EVALSHA, EVAL on NOSCRIPT) doing the checks and
 *   the writes, refusing with `FULL` / `CLOSED` error replies; N in flight on the client's one
 *   connection (ioredis pipelines them).
 * - `redlock`: the `redlock` package locks `lock:g:<id>` (one EVALSHA per try; every failed try is
 *   a retry) for 5 s, then HMGET + SISMEMBER (one pipeline), SADD + HINCRBY (one pipeline),
 *   release; one Redlock per client, N acquisitions in flight on its connection. Redlock 5's own
 *   retry delay and jitter (200 ms ± 100 ms; `--retry-delay`, `--retry-jitter`), but up to 1000
 *   tries instead of 10 so that no join fails.
 * - `group`: `GROUP.CREATE g:<id> capacity` for each group, then `GROUP.JOIN g:<id> member`, N in
 *   flight on the client's one connection.
 *
 * The stock flows run on redis-server and on redeno (a drop-in: same clients, same replies),
 * GROUP.JOIN on redeno. Measured: attempts and admissions per second, the median and 99th
 * percentile time of an attempt (retries and queueing included), round trips and commands
 * (every command an ioredis client sent) per attempt, retries, server and load-generator CPU per
 * attempt; then every group is audited from its keys: overbooked (members > capacity, with the
 * excess seats), `size` != member count, fewer members than min(capacity, would-be members), and
 * admissions replied != members stored.
 *
 * `--latency MS` puts a relay between the clients and the server that holds every chunk MS ms
 * each way (timer-grained: the table shows the round trip it really gives), as a network between
 * app servers and the data server does.
 *
 * The default run (2-core shared box, redis-server 7.0.15, redeno on Deno; RTT 0.05 ms; times
 * in ms, CPU in microseconds per attempt; columns as the table printed, RTT and admitted/s left
 * out):
 *
 *     flow         server  att/s   p50    p99  RT/att  cmds/att  retries  srv CPU  cli CPU  over
 *     WATCH/MULTI  redis    7640  54.2  242.8    3.31      5.72     3095     43.7    110.7  0 (0)
 *     WATCH/MULTI  redeno  10835  39.9  149.7    3.31      5.72     3067     57.3     94.0  0 (0)
 *     Lua script   redis   45313  10.2   33.4    1.00      1.00        0     10.7     23.7  0 (0)
 *     Lua script   redeno  44375   9.3   34.9    1.00      1.00        0     15.0     22.3  0 (0)
 *     Redlock      redis   10091  17.7  382.8    3.46      4.79     3682     42.7     93.3  0 (0)
 *     Redlock      redeno  10351  15.0  394.3    3.46      4.79     3764     56.7     87.7  0 (0)
 *     GROUP.JOIN   redeno  46292  10.5   23.8    1.00      1.00        0     10.3     21.7  0 (0)
 *
 * GROUP.JOIN on redeno's attempts/s over each stock flow's on redis-server, by scenario (runs vary
 * by about ±25% on this box; zero overbookings in every run; hot rooms run `--stock-on redis`):
 *
 *     scenario                                             Redlock  Lua    WATCH/MULTI  10x Redlock
 *     default, --concurrency 1                             4.1x     1.3x   3.3x         not met
 *     default (--concurrency 10)                           4.6x     1.0x   6.1x         not met
 *     --latency 1 (4.4 ms round trip)                      4.6x     1.0x   7.7x         not met
 *     --order rush                                         4.0x     1.0x   5.4x         not met
 *     --order rush --groups 4 --members 500 (a hot room)   31.7x    1.2x   23.8x        met
 *     the same with --latency 1                            134x     1.3x   29.2x        met
 *
 * Where every attempt wants a different group most of the time (1000 groups, 500 attempts in
 * flight), a lock is rarely contended: a Redlock attempt whose try failed sleeps ~200 ms while
 * the instance's other slots go on, so Redlock's joins/s are bound by CPU, and the one load
 * generator on the server's machine runs out first (Redlock sends 4.8 commands per attempt,
 * GROUP.JOIN one): the ratio is then that of CPU per attempt, ~4-5x. Its cost shows in the join
 * time instead (p99 ~400 ms, against ~25 ms). When many users want the same few groups at once
 * (a hot room), every Redlock and WATCH/MULTI join waits behind the others and GROUP.JOIN is
 * 30-130x faster. The Lua script is one atomic round trip like GROUP.JOIN, at the same speed.
 *
 * @module
 */

import * as net from "node:net";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import {
  attemptList,
  type Audit,
  audit,
  connectionsPerClient,
  type Counters,
  createGroups,
  type FlowName,
  FLOWS,
  joinFor,
  newCounters,
  type Order,
  ORDERS,
} from "./groups_flows.ts";
import type { Runtime } from "./options.ts";
import { cpuSeconds, installCleanup } from "./procs.ts";
import { median, table } from "./report.ts";
import { freePort, type ServerProc, startRedeno, startRedis } from "./servers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
type ServerName = "redis" | "redeno";

/** The run's flags. */
interface Options {
  groups: number;
  capacity: number;
  /** Distinct would-be members per group. */
  members: number;
  clients: number;
  /** Joins in flight per client. */
  concurrency: number;
  seed: number;
  order: Order;
  retryDelay: number;
  retryJitter: number;
  /** Milliseconds added each way between the clients and the server; 0 for none. */
  latency: number;
  flows: FlowName[];
  /** Servers the stock flows run on (GROUP.JOIN runs on redeno only). */
  stockOn: ServerName[];
  runtime: Runtime;
  warmup: boolean;
}

const DEFAULTS: Options = {
  groups: 1000,
  capacity: 10,
  members: 30,
  clients: 50,
  concurrency: 10,
  seed: 1,
  order: "random",
  // Redlock's defaults.
  retryDelay: 200,
  retryJitter: 100,
  latency: 0,
  flows: [...FLOWS],
  stockOn: ["redis", "redeno"],
  runtime: "deno",
  warmup: true,
};

const USAGE = `Usage: deno run -A bench/groups.ts [flags]   (or: npx tsx bench/groups.ts [flags])

Joins capacity-limited groups with WATCH/MULTI retries, a defineCommand Lua script and Redlock on
redis-server (and redeno), and with GROUP.JOIN on redeno; same attempts, same clients.

  --groups N        groups (default ${DEFAULTS.groups})
  --capacity N      seats per group (default ${DEFAULTS.capacity})
  --members N       distinct would-be members per group (default ${DEFAULTS.members})
  --clients N       app instances, each with one ioredis connection (default ${DEFAULTS.clients})
  --concurrency N   joins in flight per client (default ${DEFAULTS.concurrency}; 1: one at a time);
                    WATCH/MULTI gets a pool of N connections per client, one per transaction
  --seed N          seed of the shuffled attempt list (default ${DEFAULTS.seed})
  --order O         random: attempts shuffled over all groups (default); rush: groups fill one
                    after another, each one's would-be members arriving together
  --retry-delay MS  Redlock's delay between tries (default ${DEFAULTS.retryDelay}, Redlock's own)
  --retry-jitter MS Redlock's random +/- on it (default ${DEFAULTS.retryJitter}, Redlock's own)
  --latency MS      relay the clients through a proxy that delays every chunk MS ms each way
                    (a network between app and data servers; default 0: plain loopback)
  --flows a,b       among ${FLOWS.join(",")} (default all)
  --stock-on a,b    servers for the stock flows: redis,redeno (default both)
  --runtime R       what runs redeno: deno (default) or node
  --no-warmup       skip the unmeasured pass (a fifth of the groups) of every flow first
  --help            this text

Examples: --order rush (every group rushed by its would-be members); a hot room over a network:
--order rush --groups 4 --members 500 --latency 1 --stock-on redis`;

function parseOptions(argv: string[]): Options | undefined {
  const o: Options = { ...DEFAULTS };
  const int = (flag: string, text: string | undefined, min: number): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new RangeError(`Invalid value for ${flag}: ${text}`);
    return n;
  };
  const list = <T extends string>(flag: string, text: string | undefined, all: readonly T[]) => {
    const items = (text ?? "").split(",").filter((t) => t !== "");
    const bad = items.find((t) => !all.includes(t as T));
    if (items.length === 0 || bad !== undefined) {
      throw new RangeError(`Invalid value for ${flag}: ${text}`);
    }
    return items as T[];
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string | undefined => argv[++i];
    if (flag === "--help" || flag === "-h") return undefined;
    else if (flag === "--groups") o.groups = int(flag, value(), 1);
    else if (flag === "--capacity") o.capacity = int(flag, value(), 0);
    else if (flag === "--members") o.members = int(flag, value(), 1);
    else if (flag === "--clients") o.clients = int(flag, value(), 1);
    else if (flag === "--concurrency") o.concurrency = int(flag, value(), 1);
    else if (flag === "--seed") o.seed = int(flag, value(), 0);
    else if (flag === "--order") o.order = list(flag, value(), ORDERS)[0]!;
    else if (flag === "--retry-delay") o.retryDelay = int(flag, value(), 0);
    else if (flag === "--retry-jitter") o.retryJitter = int(flag, value(), 0);
    else if (flag === "--latency") o.latency = int(flag, value(), 0);
    else if (flag === "--flows") o.flows = list(flag, value(), FLOWS);
    else if (flag === "--stock-on") o.stockOn = list(flag, value(), ["redis", "redeno"] as const);
    else if (flag === "--runtime") o.runtime = list(flag, value(), ["deno", "node"] as const)[0]!;
    else if (flag === "--no-warmup") o.warmup = false;
    else throw new RangeError(`Unknown flag: ${flag}`);
  }
  return o;
}

/** One flow's figures on one server. */
interface Result {
  flow: FlowName;
  server: string;
  attempts: number;
  seconds: number;
  cpuSeconds: number;
  clientCpuSeconds: number;
  /** Median PING round trip of one client before the run, in ms. */
  rttMs: number;
  /** Each attempt's time from its first command to its outcome, in ms, sorted. */
  timesMs: Float64Array;
  counters: Counters;
  audit: Audit;
}

/**
 * A TCP relay in front of `port` that holds every chunk `ms` milliseconds in each direction, as a
 * network between app servers and the data server would (chunks keep their order: timers of one
 * delay fire in the order they were set).
 */
async function delayRelay(port: number, ms: number): Promise<{ port: number; close(): void }> {
  const sockets = new Set<net.Socket>();
  const relay = net.createServer((down) => {
    const up = net.connect({ port, host: "127.0.0.1" });
    for (const [from, to] of [[down, up], [up, down]] as const) {
      sockets.add(from);
      from.setNoDelay(true);
      from.on("data", (chunk) => setTimeout(() => to.write(chunk), ms));
      from.on("error", () => to.destroy());
      from.on("close", () => to.destroy());
    }
  });
  await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
  return {
    port: (relay.address() as net.AddressInfo).port,
    close() {
      for (const s of sockets) s.destroy();
      relay.close();
    },
  };
}

/** The median of 21 PINGs in a row, in milliseconds. */
async function idleRoundTrip(c: Redis): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 21; i++) {
    const t = performance.now();
    await c.ping();
    times.push(performance.now() - t);
  }
  return median(times);
}

async function connect(port: number): Promise<Redis> {
  const c = new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: 0 });
  await c.ping();
  return c;
}

async function runFlow(server: ServerProc, flow: FlowName, o: Options): Promise<Result> {
  const attempts = attemptList(o);
  const admin = await connect(server.port);
  const clients: Redis[] = [];
  let relay: { port: number; close(): void } | undefined;
  try {
    await createGroups(admin, flow, o);
    relay = o.latency > 0 ? await delayRelay(server.port, o.latency) : undefined;
    // Client i's pool: connections i*size .. i*size+size-1.
    const size = connectionsPerClient(flow, o.concurrency);
    for (let i = 0; i < o.clients; i++) {
      const pool = Array.from({ length: size }, () => connect(relay?.port ?? server.port));
      clients.push(...await Promise.all(pool));
    }
    const rtt = await idleRoundTrip(clients[0]!);
    const n: Counters = newCounters();
    const redlock = { retryCount: 1000, retryDelay: o.retryDelay, retryJitter: o.retryJitter };
    const joins = clients.map((client) => joinFor(flow, { client, counters: n, redlock }));
    const cpuBefore = cpuSeconds(server.pid);
    const clientCpuBefore = cpuSeconds(process.pid);
    const started = performance.now();
    // Client i plays attempts i, i + clients, ... with `concurrency` of them in flight: each of
    // its slots takes the next one as soon as its last one ended.
    const next = Array.from({ length: o.clients }, (_, i) => i);
    const times = new Float64Array(attempts.length);
    const slot = async (i: number, s: number): Promise<void> => {
      const join = joins[i * size + (s % size)]!;
      for (let j = next[i]!; j < attempts.length; j = next[i]!) {
        next[i] = j + o.clients;
        const t = performance.now();
        try {
          n.tally[await join(attempts[j]!)]++;
        } catch (e) {
          n.tally.failed++;
          n.error ??= (e as Error).message;
        }
        times[j] = performance.now() - t;
      }
    };
    const slots = Array.from({ length: o.clients * o.concurrency }, (_, k) => k);
    await Promise.all(slots.map((k) => slot(Math.floor(k / o.concurrency), k % o.concurrency)));
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuSeconds(server.pid) - cpuBefore;
    const clientCpu = cpuSeconds(process.pid) - clientCpuBefore;
    return {
      flow,
      server: server.name,
      attempts: attempts.length,
      seconds,
      cpuSeconds: cpu,
      clientCpuSeconds: clientCpu,
      rttMs: rtt,
      timesMs: times.sort(),
      counters: n,
      audit: await audit(admin, flow, o),
    };
  } finally {
    for (const c of [admin, ...clients]) c.disconnect();
    relay?.close();
  }
}

const LABELS: Record<FlowName, string> = {
  watch: "WATCH/MULTI",
  lua: "Lua script",
  redlock: "Redlock",
  group: "GROUP.JOIN",
};

/** What went wrong in a run besides overbooking, or nothing. */
function problems(r: Result): string[] {
  const { audit: a, counters: n } = r;
  const out: string[] = [];
  if (a.inconsistent > 0) out.push(`${a.inconsistent} groups with size != members`);
  if (a.underbooked > 0) out.push(`${a.underbooked} groups with fewer members than expected`);
  if (a.members !== n.tally.admitted) {
    out.push(`${n.tally.admitted} replied admitted, ${a.members} stored`);
  }
  if (n.tally.failed > 0) out.push(`${n.tally.failed} attempts failed, first: ${n.error}`);
  return out.map((p) => `${LABELS[r.flow]} on ${r.server}: ${p}`);
}

function resultTable(results: Result[]): string {
  const head = ["flow", "server", "RTT ms", "attempts/s", "admitted/s", "p50 ms", "p99 ms"];
  head.push(
    "RT/attempt",
    "cmds/attempt",
    "retries",
    "server CPU us",
    "client CPU us",
    "overbooked (excess seats)",
  );
  return table(
    head,
    results.map((r) => {
      const per = (x: number) => (x / r.attempts).toFixed(2);
      const { audit: a, counters: n } = r;
      const ms = (q: number) => r.timesMs[Math.floor(q * (r.attempts - 1))]!.toFixed(1);
      return [
        LABELS[r.flow],
        r.server,
        r.rttMs.toFixed(2),
        Math.round(r.attempts / r.seconds).toString(),
        Math.round(n.tally.admitted / r.seconds).toString(),
        ms(0.5),
        ms(0.99),
        per(n.roundTrips),
        per(n.commands),
        n.retries.toString(),
        ((r.cpuSeconds * 1e6) / r.attempts).toFixed(1),
        ((r.clientCpuSeconds * 1e6) / r.attempts).toFixed(1),
        `${a.overbooked} (${a.excessSeats})`,
      ];
    }),
  );
}

function log(text: string): void {
  process.stderr.write(`${text}\n`);
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  if (o === undefined) {
    console.log(USAGE);
    return;
  }
  installCleanup();
  const plan: Array<[FlowName, ServerName]> = o.flows.flatMap((flow) =>
    flow === "group"
      ? [[flow, "redeno"]]
      : o.stockOn.map((s) => [flow, s] as [FlowName, ServerName])
  );
  const servers = new Map<ServerName, ServerProc>();
  try {
    for (const name of new Set(plan.map(([, s]) => s))) {
      const port = await freePort();
      servers.set(
        name,
        name === "redis"
          ? await startRedis(port)
          : await startRedeno(port, { runtime: o.runtime, root: ROOT }),
      );
    }
    console.log(
      `${o.groups} groups of ${o.capacity} seats, ${o.members} would-be members each ` +
        `(${o.groups * o.members} attempts, order ${o.order}, seed ${o.seed}), ` +
        `${o.clients} clients x ${o.concurrency} in flight${
          o.latency > 0 ? `, ${o.latency} ms each way` : ""
        }, ` +
        `redeno on ${o.runtime}; Redlock tries every ` +
        `${o.retryDelay} +/- ${o.retryJitter} ms`,
    );
    if (o.warmup) {
      const small = { ...o, groups: Math.max(1, Math.floor(o.groups / 5)) };
      for (const [flow, s] of plan) await runFlow(servers.get(s)!, flow, small).catch(() => {});
      log("warm-up done");
    }
    const results: Result[] = [];
    for (const [flow, s] of plan) {
      try {
        const r = await runFlow(servers.get(s)!, flow, o);
        log(`${LABELS[flow]} on ${s}: ${r.seconds.toFixed(2)}s`);
        results.push(r);
      } catch (e) {
        // A server without GROUP.* fails its flow alone (the table leaves it out).
        console.log(`${LABELS[flow]} on ${s} failed: ${(e as Error).message}`);
      }
    }
    console.log(`\n${resultTable(results)}`);
    console.log(
      "p50/p99: time of one attempt, retries included; " +
        "CPU: microseconds per attempt, of the server and of this load generator\n",
    );
    for (const line of results.flatMap(problems)) console.log(`problem: ${line}`);
    const rate = (flow: FlowName, s: ServerName) => {
      const r = results.find((x) => x.flow === flow && x.server === s);
      return r === undefined ? undefined : r.attempts / r.seconds;
    };
    const group = rate("group", "redeno");
    for (const flow of ["redlock", "lua", "watch"] as const) {
      const stock = rate(flow, "redis");
      if (group === undefined || stock === undefined) continue;
      const ratio = group / stock;
      const target = flow === "redlock"
        ? `  (target >= 10x: ${ratio >= 10 ? "met" : "NOT met"})`
        : "";
      console.log(`GROUP.JOIN on redeno / ${LABELS[flow]} on redis: ${ratio.toFixed(1)}x${target}`);
    }
    const over = results.reduce((sum, r) => sum + r.audit.overbooked, 0);
    console.log(`overbooked groups over all runs: ${over}`);
  } finally {
    await Promise.all([...servers.values()].map((s) => s.stop()));
  }
}

try {
  await main();
} catch (e) {
  console.error(`bench/groups: ${(e as Error).message}`);
  process.exitCode = 1;
}
