/**
 * The command line, like `redis-server`: `[config-file] [--directive value ...]`.
 *
 * @module
 */

import { appendFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import {
  adjustMaxclients,
  DEFAULT_PID_FILE,
  isDaemonChild,
  removePidFile,
  runtimeVersion,
  spawnDaemon,
  supervisor,
  writePidFile,
} from "./core/daemon.ts";
import { watchMachineMemory } from "./core/heap.ts";
import { followLauncher, heapOrigin, relaunchWithHeap } from "./core/heap_launch.ts";
import { REDENO_VERSION, reportedVersion } from "./core/version.ts";
import type { Server } from "./core/server.ts";

// First, before the server's modules load: a copy of this process with a heap sized from the
// machine serves, and this one only waits for it (core/heap_launch.ts).
const launched = await relaunchWithHeap(argvOf());
if (launched !== undefined) exit(launched);
followLauncher();

const { applyRenames, parseCommandLine, specialAction, usage, versionLine } = await import(
  "./core/cli.ts"
);
const { createServer } = await import("./mod.ts");
const { aofOf } = await import("./core/persistence/aof.ts");
const { rdbOf } = await import("./core/persistence/rdb_file.ts");
const { groups } = await import("./plugins/groups/mod.ts");
const { replication } = await import("./replication/mod.ts");
const { cluster } = await import("./cluster/mod.ts");
const { clusterBus } = await import("./cluster/bus/plugin.ts");
const { startIdleGc } = await import("./core/memory/idle_gc.ts");
const { loadConfiguredUsers } = await import("./core/acl/file.ts");
const { StartError } = await import("./core/server_types.ts");

const action = specialAction(argvOf());
if (action === "version") {
  console.log(versionLine(runtimeVersion()));
  exit(0);
} else if (action === "help") {
  console.log(usage("main.ts"));
  exit(0);
}
// The cluster plugins (cluster mode, then its bus) do nothing unless `cluster-enabled yes`.
const plugins = [groups(), replication(), cluster(), clusterBus()];
/** redis-server's default save points. */
const REDIS_SAVE_POINTS = ["3600", "1", "300", "100", "60", "10000"];
const { config, error, configFile, renames, ignored, users } = await parseCommandLine(argvOf(), {
  params: plugins.flatMap((p) => p.config ?? []),
});
if (error !== undefined) {
  console.error(error);
  exit(1);
}
const daemonize = config.daemonize?.[0]?.toLowerCase() === "yes";
const daemon = daemonize && isDaemonChild();
const net = envOf("REDENO_NET");
const logfile = config.logfile?.[0];
if (users !== undefined && users.length !== 0 && (config.aclfile?.[0] ?? "") !== "") {
  console.error(
    "Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.",
  );
  exit(1);
}
let server: Server;
/** Redis works in `dir` (it chdirs there), so a relative logfile is in `dir`, the current one. */
function logPath(file: string): string {
  if (isAbsolute(file)) return file;
  // Unset while createServer() runs: the directive then.
  const current = (server as Server | undefined)?.config.str("dir");
  return join(current ?? config.dir?.[0] ?? ".", file);
}
try {
  server = createServer({
    config,
    // Daemonized with logfile "", Redis logs to /dev/null.
    log: logfile ? (line) => appendFileSync(logPath(logfile), line + "\n") : !daemon,
    plugins,
    ...(configFile ? { configFile } : {}),
    ...(net === "node" || net === "deno" ? { net } : {}),
  });
} catch (e) {
  // An aclfile that cannot be loaded stops the server, as in Redis.
  console.error((e as Error).message);
  exit(1);
}
// Like redis-server: save points unless the user set `save`, and CONFIG REWRITE knows them as
// the default (embedded servers made with createServer() have none; see README, Configuration).
if (config.save === undefined) server.config.setDefault("save", REDIS_SAVE_POINTS);
const usersError = loadConfiguredUsers(server.acl, users ?? []);
if (usersError !== undefined) {
  console.error(`${usersError}\nCritical error while loading ACLs. Exiting.`);
  exit(1);
}
// rename-command applies to every command, plugins' included, so only now.
const renameError = applyRenames(server, renames ?? []);
if (renameError !== undefined) {
  console.error(renameError);
  exit(1);
}
// As Redis: `daemonize yes` forks unless a supervisor that is really there runs the server.
const supervised = supervisor(server.config.str("supervised"), server.log);
if (daemonize && supervised === undefined && !daemon) {
  try {
    await spawnDaemon();
    exit(0);
  } catch (e) {
    console.error(`Can't daemonize: ${(e as Error)?.message ?? e}`);
    exit(1);
  }
}
server.log("notice", "oO0OoO0OoO0Oo redeno is starting oO0OoO0OoO0Oo");
server.log(
  "notice",
  `redeno version=${REDENO_VERSION}, redis=${
    reportedVersion(server.config)
  }, runtime=${runtimeVersion()}, pid=${pid()}, just started`,
);
server.log("warning", configFile ? "Configuration loaded" : noConfigWarning());
server.log("notice", heapOrigin());
// Writes are refused (OOM) before the heap or the machine runs out (core/heap.ts).
watchMachineMemory(true);
// The heap is ours alone: collect it when the server goes quiet after growing (core/memory).
startIdleGc(server);
if (ignored !== undefined && ignored.length !== 0) {
  server.log(
    "warning",
    `Config directives accepted but ignored by redeno (no effect): ${ignored.join(", ")}`,
  );
}
const maxclients = adjustMaxclients(server.config.num("maxclients"), server.log);
if (maxclients === 0) exit(1);
if (maxclients !== server.config.num("maxclients")) server.config.set("maxclients", maxclients);
// Redis writes a pid file when daemonized (to its default path if none is set) or when asked.
if (daemon && server.config.str("pidfile") === "") server.config.set("pidfile", DEFAULT_PID_FILE);
const pidfile = server.config.str("pidfile");
if (pidfile !== "") writePidFile(pidfile, pid(), server.log);
try {
  // Data is loaded before listening, as Redis does: the AOF when enabled, else the RDB dump.
  // redis-server reads the AOF manifest even with appendonly no; an embedded server does not.
  aofOf(server).readManifestWhenOff = true;
  if (!server.config.bool("appendonly")) rdbOf(server).loadOnStart();
  server.loadData();
} catch (e) {
  server.log("warning", `Fatal error loading the data from disk: ${(e as Error)?.message ?? e}`);
  exit(1);
}
try {
  const { port, hostname, tlsPort } = await server.listen();
  const mode = server.config.bool("cluster-enabled") ? "cluster" : "standalone";
  server.log("notice", `Running mode=${mode}, port=${port || tlsPort}.`);
  server.log("notice", `Server initialized, listening on ${hostname}:${port || tlsPort}`);
  if (port !== 0) server.log("notice", "Ready to accept connections tcp");
  if (tlsPort !== undefined) server.log("notice", "Ready to accept connections tls");
} catch (e) {
  server.log(
    "warning",
    e instanceof StartError
      ? e.message
      : `Failed listening on port ${server.config.num("port")} (tcp): ${e}`,
  );
  exit(1);
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  server.log("warning", `Received ${signal} scheduling shutdown...`);
  await server.close();
  if (pidfile !== "") removePidFile(pidfile);
  server.log("warning", "redeno is now ready to exit, bye bye...");
  exit(0);
}
onSignal("SIGINT", () => void shutdown("SIGINT"));
onSignal("SIGTERM", () => void shutdown("SIGTERM"));
server.on("shutdown", () => {
  if (pidfile !== "") removePidFile(pidfile);
  if (!stopping) setTimeout(() => exit(0), 0);
});

function noConfigWarning(): string {
  return "Warning: no config file specified, using the default config. In order to specify a config file use main.ts /path/to/redis.conf";
}

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
function onSignal(sig: string, fn: () => void): void {
  if (deno()) deno()!.addSignalListener(sig, fn);
  else proc().on(sig, fn);
}
