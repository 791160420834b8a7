/**
 * Memory mode: load commands into a server with `redis-cli --pipe` and measure how much its
 * resident set grew per item. {@linkcode pipeLoad} is the general loader (any RESP, fed in
 * batches); {@linkcode loadKeys} is the string-key load of `bench/run.ts --memory`, and
 * `memory_types.ts` loads one row per data type.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { rssBytes, spawnTracked } from "./procs.ts";
import type { ServerProc } from "./servers.ts";

/** Resident memory of a server before and after loading keys. */
export interface MemoryResult {
  keys: number;
  rssBefore: number;
  rssAfter: number;
  /** (after - before) / keys. */
  bytesPerKey: number;
}

/** RESP for `SET key:<12 digits> <value>` of keys `[from, to)`, as redis-benchmark names keys. */
function setCommands(from: number, to: number, value: string): string {
  let out = "";
  for (let i = from; i < to; i++) {
    const key = `key:${String(i).padStart(12, "0")}`;
    out += `*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${value.length}\r\n${value}\r\n`;
  }
  return out;
}

/**
 * RESP for one command (binary-safe: each char of an argument is one byte).
 *
 * @param argv the command and its arguments
 * @returns the RESP array
 * @example
 * ```ts
 * import { resp } from "./memory.ts";
 * console.log(JSON.stringify(resp(["PING"]))); // "*1\r\n$4\r\nPING\r\n"
 * ```
 */
export function resp(argv: string[]): string {
  let out = `*${argv.length}\r\n`;
  for (const a of argv) out += `$${a.length}\r\n${a}\r\n`;
  return out;
}

/** What {@linkcode pipeLoad} loads. */
export interface PipeLoad {
  /** How many commands (each gets one reply). */
  commands: number;
  /** RESP for commands `[from, to)`. */
  render(from: number, to: number): string;
  /** Commands rendered per write (default 10,000). */
  batch?: number;
}

/**
 * Feeds commands to `server` through `redis-cli --pipe` and reads its RSS before and after (the
 * latter one second after the last reply, so the allocator and the server's cron settle).
 * Throws when a command failed or a reply is missing.
 *
 * @param server the server to fill (it should be empty)
 * @param load the commands
 * @returns RSS before and after, in bytes
 * @example
 * ```ts
 * import { pipeLoad, resp } from "./memory.ts";
 * import { freePort, startRedis } from "./servers.ts";
 * const redis = await startRedis(await freePort());
 * const r = await pipeLoad(redis, { commands: 10, render: (a, b) => resp(["SET", `${a}`, "x"]) });
 * await redis.stop();
 * ```
 */
export async function pipeLoad(
  server: ServerProc,
  load: PipeLoad,
): Promise<{ rssBefore: number; rssAfter: number }> {
  const rssBefore = rssBytes(server.pid);
  const child = spawnTracked(
    "redis-cli",
    ["-h", "127.0.0.1", "-p", String(server.port), "--pipe"],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (d: Uint8Array) => (output += new TextDecoder().decode(d)));
  child.stderr?.on("data", (d: Uint8Array) => (output += new TextDecoder().decode(d)));
  const closed = new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (c: number | null) => resolve(c ?? -1));
  });
  const stdin = child.stdin!;
  const batch = load.batch ?? 10_000;
  for (let i = 0; i < load.commands; i += batch) {
    const chunk = Buffer.from(load.render(i, Math.min(load.commands, i + batch)), "latin1");
    if (!stdin.write(chunk)) await new Promise((r) => stdin.once("drain", r));
  }
  stdin.end();
  const code = await closed;
  const m = /errors: (\d+), replies: (\d+)/.exec(output);
  if (code !== 0 || !m || m[1] !== "0" || Number(m[2]) !== load.commands) {
    throw new Error(
      `Loading ${load.commands} commands into ${server.name} failed:\n${output.trim()}`,
    );
  }
  await new Promise((r) => setTimeout(r, 1000));
  return { rssBefore, rssAfter: rssBytes(server.pid) };
}

/**
 * Loads `keys` distinct string keys (values of `dataSize` bytes) into `server` through
 * `redis-cli --pipe` and reports RSS before and after. Throws if any SET failed.
 *
 * @param server the server to fill (it should be empty)
 * @param options how many keys and the value size
 * @returns the RSS before and after and the growth per key
 * @example
 * ```ts
 * import { loadKeys } from "./memory.ts";
 * import { freePort, startRedis } from "./servers.ts";
 * const redis = await startRedis(await freePort());
 * console.log((await loadKeys(redis, { keys: 1000, dataSize: 3 })).bytesPerKey);
 * await redis.stop();
 * ```
 */
export async function loadKeys(
  server: ServerProc,
  options: { keys: number; dataSize: number },
): Promise<MemoryResult> {
  const { keys, dataSize } = options;
  const value = "x".repeat(dataSize);
  const { rssBefore, rssAfter } = await pipeLoad(server, {
    commands: keys,
    render: (from, to) => setCommands(from, to, value),
  });
  return { keys, rssBefore, rssAfter, bytesPerKey: (rssAfter - rssBefore) / keys };
}
