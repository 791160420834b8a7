/**
 * Helpers of the cluster state tests: a stock redis-server and a redeno server in cluster mode,
 * each with a directory of its own for nodes.conf, on free ports whose bus port (+10000) exists.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "../mod.ts";
import { cluster } from "../cluster/mod.ts";
import { replication } from "../replication/mod.ts";
import { groups } from "../plugins/groups/mod.ts";
import { RawConn } from "./helpers.ts";
import { freePort } from "./replication_helpers.ts";

/** A server under test. */
export interface ClusterNodeProc {
  port: number;
  dir: string;
  stop(): Promise<void>;
}

/** A free port whose bus port (+10000) is a valid port. */
export async function clusterPort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await freePort();
    if (port + 10000 <= 65535) return port;
  }
  throw new Error("No free port below 55536");
}

/** redis-server with `--cluster-enabled yes`, nodes.conf in a directory of its own. */
export async function startRedisCluster(extra: string[] = []): Promise<ClusterNodeProc> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const port = await clusterPort();
    const dir = mkdtempSync(join(tmpdir(), "redeno-cluster-redis-"));
    const args = [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--cluster-enabled",
      "yes",
      "--cluster-config-file",
      "nodes.conf",
      ...extra,
    ];
    const proc = spawn("redis-server", args, { stdio: "ignore" });
    let exited = false;
    proc.on("exit", () => (exited = true));
    for (let i = 0; i < 100 && !exited; i++) {
      try {
        const c = await RawConn.connect(port);
        c.close();
        return {
          port,
          dir,
          stop: () => {
            proc.kill("SIGKILL");
            rmSync(dir, { recursive: true, force: true });
            return Promise.resolve();
          },
        };
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    proc.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
  throw new Error("redis-server did not start");
}

/** A redeno server in cluster mode (in process), nodes.conf in `dir` (a new one by default). */
export async function startRedenoCluster(
  config: Record<string, string> = {},
  dir = mkdtempSync(join(tmpdir(), "redeno-cluster-")),
  fixedPort?: number,
): Promise<ClusterNodeProc & { server: Server }> {
  const port = fixedPort ?? await clusterPort();
  const server = createServer({
    plugins: [replication(), groups(), cluster()],
    config: { "cluster-enabled": "yes", dir, port: String(port), ...config },
  });
  await server.listen({ port, hostname: "127.0.0.1" });
  return {
    port,
    dir,
    server,
    stop: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits (bounded) until CLUSTER INFO says `cluster_state:ok`. */
export async function waitClusterOk(port: number): Promise<void> {
  const c = await RawConn.connect(port);
  try {
    for (let i = 0; i < 200; i++) {
      c.command("CLUSTER", "INFO");
      const head = await c.read(1);
      const lenLine = await readLine(c);
      const body = await c.read(Number(lenLine) + 2);
      if ((head + body).includes("cluster_state:ok")) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`cluster_state never turned ok on port ${port}`);
  } finally {
    c.close();
  }
}

async function readLine(c: RawConn): Promise<string> {
  let line = "";
  for (;;) {
    const ch = await c.read(1);
    if (ch === "\r") {
      await c.read(1);
      return line;
    }
    line += ch;
  }
}
