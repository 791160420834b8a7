/**
 * One run of one flow of bench/groups.ts (the attempt list played by every client at once, then
 * the audit), the delaying relay of `--latency`, and the table of the rounds' results.
 *
 * @module
 */

import * as net from "node:net";
import process from "node:process";
import { Redis } from "ioredis";
import {
  attemptList,
  type Audit,
  audit,
  connectionsPerClient,
  type Counters,
  createGroups,
  type FlowName,
  joinFor,
  newCounters,
  type Order,
} from "./groups_flows.ts";
import { cpuSeconds } from "./procs.ts";
import { median, table } from "./report.ts";
import type { ServerProc } from "./servers.ts";

/** What a run needs of the flags. */
export interface RunOptions {
  groups: number;
  capacity: number;
  members: number;
  clients: number;
  concurrency: number;
  seed: number;
  order: Order;
  retryDelay: number;
  retryJitter: number;
  latency: number;
}

/** One flow's figures on one server, from one run. */
export interface Result {
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
  /** The same for the admitted attempts only: the time to admission. */
  admissionMs: Float64Array;
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

/**
 * Plays the attempt list with `flow` on `server` and audits the groups afterwards.
 *
 * @param server the server
 * @param flow the flow
 * @param o the flags
 * @param check a checking run: every decision reads the member count atomically with it (false
 *   FULLs counted; slower, not to be measured)
 * @returns the run's figures
 */
export async function runFlow(
  server: ServerProc,
  flow: FlowName,
  o: RunOptions,
  check = false,
): Promise<Result> {
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
    const joins = clients.map((client) => joinFor(flow, { client, counters: n, redlock, check }));
    const cpuBefore = cpuSeconds(server.pid);
    const clientCpuBefore = cpuSeconds(process.pid);
    const started = performance.now();
    // Client i plays attempts i, i + clients, ... with `concurrency` of them in flight: each of
    // its slots takes the next one as soon as its last one ended.
    const next = Array.from({ length: o.clients }, (_, i) => i);
    const times = new Float64Array(attempts.length);
    const admitted: number[] = [];
    const slot = async (i: number, s: number): Promise<void> => {
      const join = joins[i * size + (s % size)]!;
      for (let j = next[i]!; j < attempts.length; j = next[i]!) {
        next[i] = j + o.clients;
        const t = performance.now();
        try {
          const outcome = await join(attempts[j]!);
          n.tally[outcome]++;
          if (outcome === "admitted") admitted.push(performance.now() - t);
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
      admissionMs: Float64Array.from(admitted).sort(),
      counters: n,
      audit: await audit(admin, flow, o),
    };
  } finally {
    for (const c of [admin, ...clients]) c.disconnect();
    relay?.close();
  }
}

/** The flows' names in the tables. */
export const LABELS: Record<FlowName, string> = {
  watch: "WATCH/MULTI",
  lua: "Lua script",
  redlock: "Redlock",
  group: "GROUP.JOIN",
};

/**
 * What went wrong in a run besides overbooking, or nothing.
 *
 * @param r a run
 * @returns one line per problem
 */
export function problems(r: Result): string[] {
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

const attemptsPerSecond = (r: Result) => r.attempts / r.seconds;

/** CPU seconds over all rounds per attempt over all rounds, in microseconds (ticks add up). */
function perAttempt(rs: Result[], cpu: (r: Result) => number): string {
  const attempts = rs.reduce((s, r) => s + r.attempts, 0);
  return ((rs.reduce((s, r) => s + cpu(r), 0) * 1e6) / attempts).toFixed(1);
}

/**
 * The table: per flow and server, the round with the median attempts/s (its other figures with
 * it), the spread of attempts/s over the rounds, CPU per attempt and overbookings over all
 * rounds, and the false FULLs of the checking run.
 *
 * @param rounds per flow and server (same key as `checked`), each round's result
 * @param checked per flow and server, the checking run, if one was made
 * @returns the table's text
 */
export function resultTable(rounds: Map<string, Result[]>, checked: Map<string, Result>): string {
  const head = ["flow", "server", "RTT ms", "attempts/s", "min-max", "admitted/s", "p50 ms"];
  head.push("p99 ms", "adm p50", "adm p99", "RT/att", "cmds/att", "retries", "srv CPU us");
  head.push("cli CPU us", "overbooked (excess)", "false FULLs");
  const rows = [...rounds].map(([k, rs]) => {
    const sorted = [...rs].sort((a, b) => attemptsPerSecond(a) - attemptsPerSecond(b));
    const r = sorted[(sorted.length - 1) >> 1]!;
    const per = (x: number) => (x / r.attempts).toFixed(2);
    const n = r.counters;
    const at = (times: Float64Array, q: number) =>
      times.length === 0 ? "-" : times[Math.floor(q * (times.length - 1))]!.toFixed(1);
    const over = rs.reduce((s, x) => s + x.audit.overbooked, 0);
    const excess = rs.reduce((s, x) => s + x.audit.excessSeats, 0);
    const check = checked.get(k);
    return [
      LABELS[r.flow],
      r.server,
      r.rttMs.toFixed(2),
      Math.round(attemptsPerSecond(r)).toString(),
      `${Math.round(attemptsPerSecond(sorted[0]!))}-${
        Math.round(attemptsPerSecond(sorted.at(-1)!))
      }`,
      Math.round(n.tally.admitted / r.seconds).toString(),
      at(r.timesMs, 0.5),
      at(r.timesMs, 0.99),
      at(r.admissionMs, 0.5),
      at(r.admissionMs, 0.99),
      per(n.roundTrips),
      per(n.commands),
      n.retries.toString(),
      perAttempt(rs, (x) => x.cpuSeconds),
      perAttempt(rs, (x) => x.clientCpuSeconds),
      `${over} (${excess})`,
      check === undefined ? "-" : `${check.counters.falseFulls}/${check.counters.tally.full}`,
    ];
  });
  return table(head, rows);
}

/**
 * The median over rounds of GROUP.JOIN's attempts/s over another flow's in the same round.
 *
 * @param group GROUP.JOIN's rounds
 * @param other the other flow's rounds, as many and in the same order
 * @returns the median ratio and its smallest and largest
 */
export function pairedRatio(group: Result[], other: Result[]): [number, number, number] {
  const ratios = group.map((g, i) => attemptsPerSecond(g) / attemptsPerSecond(other[i]!));
  return [median(ratios), Math.min(...ratios), Math.max(...ratios)];
}
