/**
 * Helpers of the replication tests: redeno and stock redis-server processes on free ports,
 * INFO fields, and a dataset dump that reads the same way from any server.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { createServer, type Server, type VerbatimReply } from "../mod.ts";
import { replication } from "../replication/mod.ts";
import { DATASET_LUA } from "./helpers.ts";

export const HOST = "127.0.0.1";

/** A redeno server with the replication plugin, listening on a free port. */
export async function redeno(
  config: Record<string, string> = {},
): Promise<{ s: Server; port: number }> {
  const s = createServer({ plugins: [replication()], config });
  const { port } = await s.listen({ port: 0, hostname: HOST });
  return { s, port };
}

export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 10000) {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function infoText(s: Server, section: string): string {
  return (s.dispatch(["INFO", section]) as VerbatimReply).text;
}

export function field(text: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*)\\r$`, "m").exec(text)?.[1];
}

/** Field names of an INFO text, in order (values differ between servers, names must not). */
export function fieldNames(text: string): string[] {
  return text.split("\r\n").filter((l) => l.includes(":")).map((l) => l.split(":")[0]!);
}

export function client(port: number): Redis {
  return new Redis({ port, host: HOST, maxRetriesPerRequest: 0, enableOfflineQueue: true });
}

export async function dataset(port: number): Promise<string[]> {
  const c = client(port);
  try {
    return (await c.call("EVAL", DATASET_LUA, "0")) as string[];
  } finally {
    c.disconnect();
  }
}

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, HOST, r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** A stock redis-server on a free port in its own directory. */
export async function stockRedis(
  args: string[] = [],
): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "redeno-repl-"));
  const child = spawn("redis-server", [
    "--port",
    String(port),
    "--bind",
    HOST,
    "--dir",
    dir,
    "--save",
    "",
    "--repl-diskless-sync-delay",
    "0",
    ...args,
  ], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  await waitFor(() => out.includes("Ready to accept connections"), "redis-server to start");
  return {
    port,
    stop: async () => {
      child.kill("SIGKILL");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function remoteInfo(port: number, section: string): Promise<string> {
  const c = client(port);
  try {
    return (await c.info(section)) as string;
  } finally {
    c.disconnect();
  }
}
