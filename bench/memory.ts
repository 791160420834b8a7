/**
 * Memory mode: load the same keys into a server with `redis-cli --pipe` and measure how much its
 * resident set grew per key.
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
  const rssBefore = rssBytes(server.pid);
  const child = spawnTracked(
    "redis-cli",
    ["-h", "127.0.0.1", "-p", String(server.port), "--pipe"],
    {
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout?.on("data", (d: Uint8Array) => (output += new TextDecoder().decode(d)));
  child.stderr?.on("data", (d: Uint8Array) => (output += new TextDecoder().decode(d)));
  const closed = new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (c: number | null) => resolve(c ?? -1));
  });
  const stdin = child.stdin!;
  const value = "x".repeat(dataSize);
  const batch = 10_000;
  for (let i = 0; i < keys; i += batch) {
    const chunk = Buffer.from(setCommands(i, Math.min(keys, i + batch), value), "latin1");
    if (!stdin.write(chunk)) await new Promise((r) => stdin.once("drain", r));
  }
  stdin.end();
  const code = await closed;
  const m = /errors: (\d+), replies: (\d+)/.exec(output);
  if (code !== 0 || !m || m[1] !== "0" || Number(m[2]) !== keys) {
    throw new Error(`Loading ${keys} keys into ${server.name} failed:\n${output.trim()}`);
  }
  // Let the allocator settle and the server finish its cron work before reading RSS.
  await new Promise((r) => setTimeout(r, 1000));
  const rssAfter = rssBytes(server.pid);
  return { keys, rssBefore, rssAfter, bytesPerKey: (rssAfter - rssBefore) / keys };
}
