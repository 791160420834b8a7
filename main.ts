/**
 * The command line, like `redis-server`: `[config-file] [--directive value ...]`.
 *
 * @module
 */

import { appendFileSync } from "node:fs";
import { parseCommandLine } from "./core/cli.ts";
import { createServer } from "./mod.ts";
import { rdbOf } from "./core/persistence/rdb_file.ts";
import { groups } from "./plugins/groups/mod.ts";
import { replication } from "./replication/mod.ts";

const { config, error, configFile } = await parseCommandLine(argvOf());
if (error !== undefined) {
  console.error(error);
  exit(1);
}
// Like redis-server without a config file: save points unless the user set `save` (embedded
// servers made with createServer() have none; see README, Configuration).
config.save ??= ["3600", "1", "300", "100", "60", "10000"];
const net = envOf("REDENO_NET");
const logfile = config.logfile?.[0];
const server = createServer({
  config,
  log: logfile ? (line) => appendFileSync(logfile, line + "\n") : true,
  plugins: [groups(), replication()],
  ...(configFile ? { configFile } : {}),
  ...(net === "node" || net === "deno" ? { net } : {}),
});
server.log("notice", "oO0OoO0OoO0Oo redeno is starting oO0OoO0OoO0Oo");
server.log("notice", `redeno version=7.0.15-compatible, runtime=${runtime()}, pid=${pid()}`);
try {
  // Data is loaded before listening, as Redis does: the AOF when enabled, else the RDB dump.
  if (!server.config.bool("appendonly")) rdbOf(server).loadOnStart();
  server.loadData();
} catch (e) {
  server.log("warning", `Fatal error loading the data from disk: ${(e as Error)?.message ?? e}`);
  exit(1);
}
try {
  const { port, hostname } = await server.listen();
  server.log("notice", `Running mode=standalone, port=${port}.`);
  server.log("notice", `Server initialized, listening on ${hostname}:${port}`);
  server.log("notice", "Ready to accept connections tcp");
} catch (e) {
  server.log("warning", `Failed listening on port ${server.config.num("port")} (tcp): ${e}`);
  exit(1);
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  server.log("warning", `Received ${signal} scheduling shutdown...`);
  await server.close();
  server.log("warning", "redeno is now ready to exit, bye bye...");
  exit(0);
}
onSignal("SIGINT", () => void shutdown("SIGINT"));
onSignal("SIGTERM", () => void shutdown("SIGTERM"));
server.on("shutdown", () => {
  if (!stopping) setTimeout(() => exit(0), 0);
});

// The command line is the process's edge: the few runtime calls it needs are kept here.
type DenoLike = {
  args: string[];
  exit(code: number): never;
  pid: number;
  addSignalListener(sig: string, fn: () => void): void;
};
function deno(): DenoLike | undefined {
  return (globalThis as { Deno?: DenoLike }).Deno;
}
type ProcessLike = {
  argv: string[];
  exit(code: number): never;
  pid: number;
  on(sig: string, fn: () => void): void;
};
function proc(): ProcessLike {
  return (globalThis as unknown as { process: ProcessLike }).process;
}
function envOf(name: string): string | undefined {
  return (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[
    name
  ];
}
function argvOf(): string[] {
  return deno()?.args ?? proc().argv.slice(2);
}
function exit(code: number): never {
  return deno() ? deno()!.exit(code) : proc().exit(code);
}
function pid(): number {
  return deno()?.pid ?? proc().pid;
}
function runtime(): string {
  return deno() ? "deno" : "node";
}
function onSignal(sig: string, fn: () => void): void {
  if (deno()) deno()!.addSignalListener(sig, fn);
  else proc().on(sig, fn);
}
