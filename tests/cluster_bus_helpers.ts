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
import { client, freePort } from "./replication_helpers.ts";

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
