/**
 * What the cluster bus tests with `redis-cli --cluster create` share: redeno nodes with the bus
 * (2 s node timeout, and the groups plugin as main.ts loads it), a program run to its end, the
 * creation of a cluster until every node agrees, and CLUSTER NODES split in fields.
 *
 * @module
 */
import { join } from "node:path";
import { spawn } from "node:child_process";
import { createServer, type Server } from "../mod.ts";
import { cluster } from "../cluster/mod.ts";
import { clusterBus } from "../cluster/bus/plugin.ts";
import { replication } from "../replication/mod.ts";
import { groups } from "../plugins/groups/mod.ts";
import { client, freePort, stockRedis, waitFor } from "./replication_helpers.ts";
import { waitClusterOk } from "./cluster_state_helpers.ts";
import { type Proc, startNode } from "./sentinel_helpers.ts";
import { scratchDir } from "./scratch.ts";

/** The cluster-node-timeout of the nodes (ms), short so failures are seen fast. */
export const TIMEOUT = "2000";

/** Runs a program to its end: its exit status and its output (stdout and stderr). */
export function run(
  cmd: string,
  args: string[],
): Promise<{ status: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout }));
  });
}

/**
 * A redeno node with replication, groups, cluster mode and the bus, in a fresh directory;
 * `config` adds or overrides directives (a longer `cluster-node-timeout`...).
 */
export async function redenoNode(
  config: Record<string, string> = {},
): Promise<{ port: number; server: Server; dir: string }> {
  const dir = scratchDir("redeno-cluster-");
  const server = createServer({
    plugins: [replication(), groups(), cluster(), clusterBus()],
    config: {
      "cluster-enabled": "yes",
      "cluster-config-file": join(dir, "nodes.conf"),
      "cluster-port": String(await freePort()),
      "cluster-node-timeout": TIMEOUT,
      bind: "127.0.0.1",
      dir,
      ...config,
    },
  });
  const { port } = await server.listen({ port: 0, hostname: "127.0.0.1" });
  return { port, server, dir };
}

/**
 * A stock redis-server in cluster mode with a bus port of its own, for `--cluster create`.
 *
 * @param timeout its cluster-node-timeout (ms)
 * @returns the running server (stockRedis of tests/replication_helpers.ts)
 */
export async function stockClusterNode(
  timeout: string = TIMEOUT,
): Promise<{ port: number; stop(): Promise<void> }> {
  const cport = String(await freePort());
  return await stockRedis(
    ["--cluster-enabled", "yes", "--cluster-port", cport, "--cluster-node-timeout", timeout],
  );
}

/** CLUSTER NODES of `port`, each line split in fields. */
export async function clusterNodes(port: number): Promise<string[][]> {
  const c = client(port);
  try {
    const text = String(await c.call("CLUSTER", "NODES"));
    return text.trim().split("\n").map((l) => l.split(" "));
  } finally {
    c.disconnect();
  }
}

/** The client port of a CLUSTER NODES line (`ip:port@cport`). */
export const portOf = (f: string[]): number => Number(f[1]!.split(":")[1]!.split("@")[0]);

/** The line `port` gives itself in its CLUSTER NODES. */
export async function selfLine(port: number): Promise<string[]> {
  return (await clusterNodes(port)).find((f) => f[2]!.includes("myself"))!;
}

/**
 * A cluster node as a process of its own, which the test can SIGKILL: main.ts (on the runtime
 * running the tests) or redis-server, from a config file with cluster mode on.
 *
 * @param kind which server
 * @param timeout its cluster-node-timeout (ms)
 * @returns the running process (stopAll() of tests/sentinel_helpers.ts ends it)
 */
export async function clusterProcess(
  kind: "redeno" | "redis",
  timeout: string = TIMEOUT,
): Promise<Proc> {
  return await startNode(kind, {
    lines: [
      "cluster-enabled yes",
      "cluster-config-file nodes.conf",
      `cluster-port ${await freePort()}`,
      `cluster-node-timeout ${timeout}`,
    ],
  });
}

/** `redis-cli --cluster check` through `port`: whether it passed, and its output. */
export async function clusterCheck(port: number): Promise<{ ok: boolean; stdout: string }> {
  const out = await run("redis-cli", ["--cluster", "check", `127.0.0.1:${port}`]);
  const ok = out.status === 0 && out.stdout.includes("[OK] All nodes agree") &&
    out.stdout.includes("[OK] All 16384 slots covered.") && !out.stdout.includes("[WARNING]") &&
    !out.stdout.includes("[ERR]");
  return { ok, stdout: out.stdout };
}

/**
 * `redis-cli --cluster create` over `ports` (masters first) with `replicas` replicas per master,
 * then waits until `redis-cli --cluster check` passes with every node agreeing, every node sees
 * each master with its replicas, and every node says `cluster_state:ok`.
 *
 * @param ports the nodes' ports
 * @param replicas replicas per master
 */
export async function createCluster(ports: number[], replicas = 0): Promise<void> {
  const created = await run("redis-cli", [
    "--cluster",
    "create",
    ...ports.map((p) => `127.0.0.1:${p}`),
    "--cluster-replicas",
    String(replicas),
    "--cluster-yes",
  ]);
  if (!created.stdout.includes("[OK] All 16384 slots covered.")) {
    throw new Error(`redis-cli --cluster create failed: ${created.stdout}`);
  }
  const masters = ports.length / (replicas + 1);
  let last = "";
  await waitFor(
    async () => {
      const check = await clusterCheck(ports[0]!);
      last = check.stdout;
      return check.ok &&
        (last.match(new RegExp(` ${replicas} slaves\\.`, "g")) ?? []).length === masters;
    },
    "redis-cli --cluster check to pass",
    30000,
  ).catch((e) => {
    throw new Error(`${(e as Error).message}\n${last}`);
  });
  // Each node's own view too: a master sends its shard's messages to the replicas it knows.
  await waitFor(
    async () => {
      for (const port of ports) {
        const lines = await nodeLines(port);
        const held = lines.filter((l) => l.flags.includes("master") && l.slots.length !== 0);
        const full = held.every((m) =>
          lines.filter((l) => l.master === m.id && l.flags.includes("slave")).length === replicas
        );
        if (held.length !== masters || !full) return false;
      }
      return true;
    },
    "every node to see each master with its replicas",
    20000,
  );
  for (const port of ports) await waitClusterOk(port);
}

/** One line of CLUSTER NODES, read. */
export interface NodeLine {
  /** Node id. */
  id: string;
  /** Client port. */
  port: number;
  /** Flags (`myself,master`...). */
  flags: string;
  /** Its master's id, `-` for a master. */
  master: string;
  /** Slot ranges, `[first, last]` each. */
  slots: Array<[number, number]>;
}

/** CLUSTER NODES of `port`, each line read. */
export async function nodeLines(port: number): Promise<NodeLine[]> {
  return (await clusterNodes(port)).map((f) => ({
    id: f[0]!,
    port: portOf(f),
    flags: f[2]!,
    master: f[3]!,
    slots: f.slice(8).filter((r) => !r.startsWith("[")).map((r) => {
      const [lo, hi] = r.split("-").map(Number);
      return [lo!, hi ?? lo!];
    }),
  }));
}
