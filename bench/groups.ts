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

import process from "node:process";
import { fileURLToPath } from "node:url";
import { type FlowName, FLOWS, type Order, ORDERS } from "./groups_flows.ts";
import { LABELS, pairedRatio, problems, type Result, resultTable, runFlow } from "./groups_run.ts";
import type { Runtime } from "./options.ts";
import { installCleanup } from "./procs.ts";
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
  /** Measured rounds; each plays every flow once, the flows' order rotating by round. */
  rounds: number;
  /** A checking run of every flow first (false FULLs). */
  check: boolean;
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
  rounds: 1,
  check: true,
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
  --rounds N        measured rounds (default ${DEFAULTS.rounds}): each runs every flow once, in an
                    order rotating by round; the table shows each flow's median round and the
                    ratios are medians of the rounds' ratios
  --no-check        skip the checking run of every flow (false FULLs: each decision reads the
                    group's member count in the same atomic step; unmeasured, it warms up too)
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
    else if (flag === "--no-check") o.check = false;
    else if (flag === "--rounds") o.rounds = int(flag, value(), 1);
    else throw new RangeError(`Unknown flag: ${flag}`);
  }
  return o;
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
    const id = ([flow, s]: [FlowName, ServerName]) => `${flow}@${s}`;
    const checked = new Map<string, Result>();
    if (o.check) {
      for (const step of plan) {
        const r = await runFlow(servers.get(step[1])!, step[0], o, true);
        checked.set(id(step), r);
        for (const line of problems(r)) console.log(`problem (checking run): ${line}`);
      }
      log("checking runs done");
    } else if (o.warmup) {
      const small = { ...o, groups: Math.max(1, Math.floor(o.groups / 5)) };
      for (const [flow, s] of plan) await runFlow(servers.get(s)!, flow, small).catch(() => {});
      log("warm-up done");
    }
    const rounds = new Map<string, Result[]>(plan.map((step) => [id(step), []]));
    for (let round = 0; round < o.rounds; round++) {
      const order = plan.map((_, i) => plan[(i + round) % plan.length]!);
      for (const step of order) {
        const r = await runFlow(servers.get(step[1])!, step[0], o);
        log(`round ${round + 1}: ${LABELS[step[0]]} on ${step[1]}: ${r.seconds.toFixed(2)}s`);
        rounds.get(id(step))!.push(r);
      }
    }
    console.log(`\n${resultTable(rounds, checked)}`);
    console.log(
      `attempts/s, admitted/s and the columns after them: the median of ${o.rounds} round(s); ` +
        "p50/p99: time of one attempt, retries included; adm p50/p99: time to admission; CPU: " +
        "microseconds per attempt, of the server and of this load generator; overbooked: over " +
        "all rounds; false FULLs: of all FULLs in the checking run\n",
    );
    for (const line of [...rounds.values()].flat().flatMap(problems)) {
      console.log(`problem: ${line}`);
    }
    const group = rounds.get("group@redeno");
    for (const flow of ["redlock", "lua", "watch"] as const) {
      const stock = rounds.get(`${flow}@redis`);
      if (group === undefined || stock === undefined) continue;
      const [ratio, low, high] = pairedRatio(group, stock);
      const target = flow === "redlock" ? ">= 10x" : flow === "lua" ? ">= 1.0x" : undefined;
      const met = flow === "redlock" ? ratio >= 10 : ratio >= 1;
      console.log(
        `GROUP.JOIN on redeno / ${LABELS[flow]} on redis: ${ratio.toFixed(2)}x ` +
          `(rounds ${low.toFixed(2)}-${high.toFixed(2)})` +
          (target === undefined ? "" : `  (target ${target}: ${met ? "met" : "NOT met"})`),
      );
    }
    const over = [...rounds.values()].flat().reduce((sum, r) => sum + r.audit.overbooked, 0);
    const falseFulls = [...checked.values()].reduce((sum, r) => sum + r.counters.falseFulls, 0);
    console.log(`overbooked groups over all rounds: ${over}`);
    if (o.check) console.log(`false FULLs over the checking runs: ${falseFulls}`);
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
