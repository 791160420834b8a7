/**
 * What the cluster bus tests with `redis-cli --cluster create` share: redeno nodes with the bus
 * (2 s node timeout), a program run to its end, and CLUSTER NODES split in fields.
 *
 * @module
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { createServer, type Server } from "../mod.ts";
import { cluster } from "../cluster/mod.ts";
import { clusterBus } from "../cluster/bus/plugin.ts";
import { replication } from "../replication/mod.ts";
import { client, freePort, waitFor } from "./replication_helpers.ts";
import { type Proc, startNode } from "./sentinel_helpers.ts";

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

/** A redeno node with replication, cluster mode and the bus, in a fresh directory. */
export async function redenoNode(): Promise<{ port: number; server: Server; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "redeno-cluster-"));
  const server = createServer({
    plugins: [replication(), cluster(), clusterBus()],
    config: {
      "cluster-enabled": "yes",
      "cluster-config-file": join(dir, "nodes.conf"),
      "cluster-port": String(await freePort()),
      "cluster-node-timeout": TIMEOUT,
      bind: "127.0.0.1",
      dir,
    },
  });
  const { port } = await server.listen({ port: 0, hostname: "127.0.0.1" });
  return { port, server, dir };
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
 * `redis-cli --cluster create` over `ports` (masters first), then waits until the check passes
 * with `replicas` replicas per master and every node says cluster_state:ok.
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
  if (!/\[OK\] All 16384 slots covered\./.test(created.stdout)) {
    throw new Error(`redis-cli --cluster create failed:\n${created.stdout}`);
  }
  const masters = ports.length / (replicas + 1);
  let last = "";
  await waitFor(
    async () => {
      const check = await clusterCheck(ports[0]!);
      last = check.stdout;
      if (
        !check.ok ||
        (last.match(new RegExp(` ${replicas} slaves\\.`, "g")) ?? []).length !== masters
      ) {
        return false;
      }
      for (const p of ports) {
        const c = client(p);
        const info = String(await c.call("CLUSTER", "INFO").finally(() => c.disconnect()));
        if (!info.includes("cluster_state:ok")) return false;
      }
      return true;
    },
    "the new cluster to pass the check and be ok everywhere",
    30000,
  ).catch((e) => {
    throw new Error(`${(e as Error).message}\n${last}`);
  });
}
