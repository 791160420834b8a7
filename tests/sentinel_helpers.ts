/**
 * Helpers of the sentinel tests: redeno (main.ts) and stock redis-server processes that can be
 * killed with SIGKILL and started again from their own config file, and real redis-sentinel
 * processes watching them, all on free ports of 127.0.0.1.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { Redis, ReplyError } from "ioredis";
import { freePort, HOST, waitFor } from "./replication_helpers.ts";

/** The sentinels' name for the master they watch. */
export const MASTER_NAME = "mymaster";

/** A server or sentinel process that can be killed and started again from its config file. */
export interface Proc {
  readonly port: number;
  readonly kind: "redeno" | "redis" | "sentinel";
  /** Its config file (CONFIG REWRITE and sentinel write to it). */
  readonly conf: string;
  /** Everything it printed since it was first started. */
  output(): string;
  /** Kills it with `signal` (SIGKILL by default) and resolves once it exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again (same port, same config file) and resolves once it is ready. */
  start(): Promise<void>;
  /** Sends `signal` (SIGSTOP, SIGCONT...) without waiting. */
  signal(signal: NodeJS.Signals): void;
}

const dirs: string[] = [];
const running = new Set<Proc>();
const children = new Set<ChildProcess>();
// Nothing outlives the test process (a failed or interrupted run included).
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

function isDeno(): boolean {
  return (globalThis as { Deno?: unknown }).Deno !== undefined;
}

/**
 * main.ts on the runtime running the tests. The heap size is given so that main.ts does not
 * start a copy of itself (core/heap_launch.ts): SIGKILL must reach the process that serves.
 */
function redenoCommand(conf: string): { cmd: string; args: string[]; env: NodeJS.ProcessEnv } {
  return isDeno()
    ? {
      cmd: "node_modules/deno/deno",
      args: ["run", "-A", "main.ts", conf],
      env: { ...process.env, DENO_V8_FLAGS: "--max-old-space-size=512" },
    }
    : {
      cmd: process.execPath,
      args: ["--import", "tsx", "main.ts", conf],
      env: { ...process.env, NODE_OPTIONS: "--max-old-space-size=512" },
    };
}

function startCommand(kind: Proc["kind"], conf: string) {
  if (kind === "redeno") return redenoCommand(conf);
  return {
    cmd: kind === "redis" ? "redis-server" : "redis-sentinel",
    args: [conf],
    env: process.env,
  };
}

function launch(kind: Proc["kind"], port: number, conf: string, ready: string): Proc {
  let out = "";
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const proc: Proc = {
    port,
    kind,
    conf,
    output: () => out,
    async kill(signal = "SIGKILL") {
      running.delete(proc);
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
    signal(signal) {
      // process.kill: Deno's ChildProcess.kill sends nothing after a first signal.
      if (child?.pid !== undefined && child.exitCode === null) process.kill(child.pid, signal);
    },
    async start() {
      const { cmd, args, env } = startCommand(kind, conf);
      const c = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
      child = c;
      running.add(proc);
      children.add(c);
      c.on("exit", () => children.delete(c));
      const from = out.length;
      c.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
      c.stderr!.setEncoding("utf8").on("data", (d: string) => (out += d));
      exited = new Promise((r) => c.on("exit", () => r()));
      let gone = false;
      void exited.then(() => (gone = true));
      await waitFor(
        () => {
          if (gone) throw new Error(`${kind} on port ${port} exited:\n${out.slice(from)}`);
          return out.indexOf(ready, from) >= 0;
        },
        `${kind} on port ${port} to start`,
        30000,
      );
    },
  };
  return proc;
}

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/**
 * Starts a data node: redeno (main.ts) or redis-server, with a config file of its own (no
 * persistence), a replica of `replicaOf` when given.
 *
 * @param kind which server
 * @param options `replicaOf` (a port of 127.0.0.1) and extra config lines
 * @returns the running process
 */
export async function startNode(
  kind: "redeno" | "redis",
  options: { replicaOf?: number; lines?: string[] } = {},
): Promise<Proc> {
  const port = await freePort();
  const dir = tempDir(`redeno-sentinel-${kind}-`);
  const conf = join(dir, `${kind}.conf`);
  const lines = [
    `port ${port}`,
    `bind ${HOST}`,
    `dir ${dir}`,
    `save ""`,
    "appendonly no",
    "repl-diskless-sync-delay 0",
    ...(options.replicaOf !== undefined ? [`replicaof ${HOST} ${options.replicaOf}`] : []),
    ...(options.lines ?? []),
  ];
  writeFileSync(conf, lines.join("\n") + "\n");
  const p = launch(kind, port, conf, "Ready to accept connections");
  await p.start();
  return p;
}

/** Settings of the sentinels, per master. */
export interface SentinelSettings {
  /**
   * `down-after-milliseconds`, 2000 by default: at 1000 a loaded machine (tsx, other tests)
   * sometimes kept a just-promoted master from answering a sentinel's new link in time, and the
   * sentinels failed over a second time.
   */
  downAfterMs?: number;
  failoverTimeoutMs?: number;
  quorum?: number;
  /** Extra `sentinel ...` lines (e.g. `sentinel rename-command mymaster CONFIG MYCONFIG`). */
  lines?: string[];
}

/**
 * Starts `count` redis-sentinel processes watching the master on `masterPort`, and waits until
 * each knows the other sentinels and `replicas` replicas. Hello messages go out every 500 ms
 * and INFO every second (SENTINEL DEBUG publish-period and info-period, 2 s and 10 s by default)
 * so that they find each other, and a restarted old master, quickly; failure detection and
 * failover keep the settings given.
 *
 * @param masterPort the master's port
 * @param options the count, the replicas to wait for and the settings
 * @returns the sentinel processes
 */
export async function startSentinels(
  masterPort: number,
  options: SentinelSettings & { count?: number; replicas?: number } = {},
): Promise<Proc[]> {
  const count = options.count ?? 3;
  const out: Proc[] = [];
  for (let i = 0; i < count; i++) {
    const port = await freePort();
    const dir = tempDir("redeno-sentinel-");
    const conf = join(dir, "sentinel.conf");
    writeFileSync(
      conf,
      [
        `port ${port}`,
        `bind ${HOST}`,
        `dir ${dir}`,
        `sentinel monitor ${MASTER_NAME} ${HOST} ${masterPort} ${options.quorum ?? 2}`,
        `sentinel down-after-milliseconds ${MASTER_NAME} ${options.downAfterMs ?? 2000}`,
        `sentinel failover-timeout ${MASTER_NAME} ${options.failoverTimeoutMs ?? 6000}`,
        `sentinel parallel-syncs ${MASTER_NAME} 1`,
        ...(options.lines ?? []),
      ].join("\n") + "\n",
    );
    out.push(launch("sentinel", port, conf, "+monitor master"));
  }
  await Promise.all(out.map((s) => s.start()));
  for (const s of out) {
    await sentinelCall(s.port, "DEBUG", "publish-period", "500", "info-period", "1000");
  }
  const replicas = options.replicas ?? 0;
  await waitFor(
    async () => {
      for (const s of out) {
        const others = (await sentinelCall(s.port, "SENTINELS", MASTER_NAME)) as unknown[];
        const known = (await sentinelCall(s.port, "REPLICAS", MASTER_NAME)) as unknown[];
        if (others.length < count - 1 || known.length < replicas) return false;
      }
      return true;
    },
    "the sentinels to know each other and the replicas",
    20000,
  );
  return out;
}

/**
 * Sends `SENTINEL <args>` to the sentinel on `port`.
 *
 * @param port the sentinel's port
 * @param args the subcommand and its arguments
 * @returns the reply
 */
export function sentinelCall(port: number, ...args: string[]): Promise<unknown> {
  return withClient(port, (c) => c.call("SENTINEL", ...args));
}

/**
 * Runs `fn` with a connection to the server on `port`. A connection that breaks is tried again
 * (up to 5 times, 100 ms apart): sentinel's `CLIENT KILL TYPE normal` on a failover closes
 * every client of the instance it reconfigures, the test's own ones included.
 *
 * @param port the server's port
 * @param fn what to do with the connection
 * @returns what `fn` returned
 */
export async function withClient<T>(port: number, fn: (c: Redis) => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    const c = new Redis({ port, host: HOST, lazyConnect: true, maxRetriesPerRequest: 0 });
    c.on("error", () => {});
    try {
      await c.connect();
      return await fn(c);
    } catch (e) {
      if (attempt >= 5 || e instanceof ReplyError) throw e;
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      c.disconnect();
    }
  }
}

/**
 * The master's port as the sentinel on `port` reports it.
 *
 * @param port the sentinel's port
 * @returns the port of the master
 */
export async function masterPortOf(port: number): Promise<number> {
  const r = (await sentinelCall(port, "GET-MASTER-ADDR-BY-NAME", MASTER_NAME)) as string[];
  return Number(r[1]);
}

/**
 * Waits until every sentinel reports a master other than `oldPort`; returns its port.
 *
 * @param sentinels the sentinels
 * @param oldPort the master that failed
 * @param ms how long to wait
 * @returns the new master's port
 */
export async function waitForNewMaster(
  sentinels: Proc[],
  oldPort: number,
  ms = 30000,
): Promise<number> {
  let port = oldPort;
  await waitFor(
    async () => {
      const ports = await Promise.all(sentinels.map((s) => masterPortOf(s.port).catch(() => 0)));
      port = ports[0]!;
      return port !== oldPort && port !== 0 && ports.every((p) => p === port);
    },
    "the sentinels to fail over",
    ms,
  );
  return port;
}

/**
 * INFO `section` of the server on `port`, as a map of fields.
 *
 * @param port the server's port
 * @param section the section
 * @returns the fields
 */
export async function infoOf(port: number, section = "replication"): Promise<Map<string, string>> {
  const text = await withClient(port, (c) => c.info(section));
  const m = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

/** Kills every process still running (SIGKILL) and removes their directories. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.kill("SIGKILL")));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}
