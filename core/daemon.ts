/**
 * The process side of redis-server's start-up that main.ts needs: `daemonize yes` (neither
 * runtime can fork, so the process starts itself again detached and exits), supervision
 * detection, the pid file, and the open-files limit behind `maxclients`. Like the network
 * adapters, this is an edge of the portable core: an embedded server never calls it.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { readFileSync, unlinkSync, writeFileSync } from "node:fs";
import type { LogLevel } from "./log.ts";

/** Set in the environment of the detached copy, so it does not daemonize again. */
export const DAEMON_CHILD_ENV = "REDENO_DAEMONIZED";

/** Redis's pid file when daemonized without `pidfile` (CONFIG_DEFAULT_PID_FILE). */
export const DEFAULT_PID_FILE = "/var/run/redis.pid";

/** File descriptors Redis keeps for itself beyond `maxclients` (CONFIG_MIN_RESERVED_FDS). */
const RESERVED_FDS = 32;

type Log = (level: LogLevel, message: string) => void;

type DenoLike = {
  execPath(): string;
  args: string[];
  mainModule: string;
  version: { deno: string };
};
type ProcessLike = {
  execPath: string;
  execArgv: string[];
  argv: string[];
  env: Record<string, string | undefined>;
  versions: { node: string };
};

function deno(): DenoLike | undefined {
  return (globalThis as { Deno?: DenoLike }).Deno;
}
function proc(): ProcessLike {
  return (globalThis as unknown as { process: ProcessLike }).process;
}

/**
 * The runtime and its version, e.g. `deno 2.9.6` or `node 20.19.0`.
 *
 * @returns the runtime's name and version
 * @example
 * ```ts
 * import { runtimeVersion } from "./daemon.ts";
 * console.log(runtimeVersion());
 * ```
 */
export function runtimeVersion(): string {
  const d = deno();
  return d ? `deno ${d.version.deno}` : `node ${proc().versions.node}`;
}

/**
 * Whether this process is the detached copy a `daemonize yes` start made.
 *
 * @returns true in the daemon
 * @example
 * ```ts
 * import { isDaemonChild } from "./daemon.ts";
 * isDaemonChild(); // false unless started by spawnDaemon()
 * ```
 */
export function isDaemonChild(): boolean {
  return proc().env[DAEMON_CHILD_ENV] === "1";
}

/**
 * Redis's redisIsSupervised: whether `supervised` names a supervisor that is really there
 * (`UPSTART_JOB` or `NOTIFY_SOCKET` in the environment). A supervised server does not fork.
 *
 * @param mode the `supervised` directive
 * @param log the server's log, for Redis's warnings
 * @returns the supervisor, or undefined
 * @example
 * ```ts
 * import { supervisor } from "./daemon.ts";
 * supervisor("no", () => {}); // undefined
 * ```
 */
export function supervisor(mode: string, log: Log): "upstart" | "systemd" | undefined {
  if (mode === "no") return undefined;
  const env = proc().env;
  if (mode === "auto") {
    if (env.UPSTART_JOB) mode = "upstart";
    else if (env.NOTIFY_SOCKET) mode = "systemd";
    else return undefined;
  }
  if (mode === "upstart") {
    if (!env.UPSTART_JOB) {
      log("verbose", "upstart supervision requested, but UPSTART_JOB not found!");
      return undefined;
    }
    log("notice", "supervised by upstart, will stop to signal readiness.");
    log("warning", "redeno cannot raise SIGSTOP to signal readiness to upstart: it is not sent");
    return "upstart";
  }
  if (!env.NOTIFY_SOCKET) {
    log("warning", "systemd supervision requested or auto-detected, but NOTIFY_SOCKET not found!");
    return undefined;
  }
  log(
    "notice",
    "Supervised by systemd. Please make sure you set appropriate values for TimeoutStartSec and TimeoutStopSec in your service unit.",
  );
  // sd_notify needs a unix datagram socket, which neither runtime offers.
  log("warning", "redeno cannot notify systemd of its readiness: use Type=simple in the unit");
  return "systemd";
}

/**
 * How to start this same program again: the runtime, its flags, the script and its args.
 *
 * @returns the executable and its arguments
 * @example
 * ```ts
 * import { selfCommand } from "./daemon.ts";
 * const { cmd, args } = selfCommand(); // e.g. deno, ["run", "-A", "main.ts", "--port", "6380"]
 * console.log(cmd, args.join(" "));
 * ```
 */
export function selfCommand(): { cmd: string; args: string[] } {
  const d = deno();
  if (d === undefined) {
    const p = proc();
    return { cmd: p.execPath, args: [...p.execArgv, ...p.argv.slice(1)] };
  }
  // Deno does not expose its own flags (permissions, --v8-flags); Linux's cmdline has them.
  try {
    const words = readFileSync("/proc/self/cmdline", "utf8").split("\0");
    if (words[words.length - 1] === "") words.pop();
    if (words.length > 1) return { cmd: d.execPath(), args: words.slice(1) };
  } catch {
    // Not Linux, or no read permission: fall back on what Deno tells.
  }
  return { cmd: d.execPath(), args: ["run", "-A", d.mainModule, ...d.args] };
}

/**
 * `daemonize yes`: starts this program again in a new session with its stdio on /dev/null and
 * {@linkcode DAEMON_CHILD_ENV} set, and resolves once it runs; the caller then exits 0, as
 * Redis's parent does after fork.
 *
 * @returns the daemon's pid
 * @throws when the copy cannot be started
 * @example
 * ```ts ignore
 * import { spawnDaemon } from "./daemon.ts";
 * await spawnDaemon();
 * ```
 */
export function spawnDaemon(): Promise<number> {
  const { cmd, args } = selfCommand();
  const child = spawn(cmd, args, {
    detached: true,
    stdio: "ignore",
    env: { ...proc().env, [DAEMON_CHILD_ENV]: "1" },
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("spawn", () => {
      child.unref();
      resolve(child.pid ?? 0);
    });
  });
}

/**
 * Writes the pid file (createPidFile); a failure is logged, not fatal, as in Redis.
 *
 * @param path the `pidfile` directive
 * @param pid this process's id
 * @param log the server's log
 * @returns true when written
 * @example
 * ```ts ignore
 * import { writePidFile } from "./daemon.ts";
 * writePidFile("/tmp/redeno.pid", 1234, () => {});
 * ```
 */
export function writePidFile(path: string, pid: number, log: Log): boolean {
  try {
    writeFileSync(path, `${pid}\n`);
    return true;
  } catch (e) {
    log("warning", `Failed to write PID file: ${(e as Error).message}`);
    return false;
  }
}

/**
 * Removes the pid file at shutdown, quietly when it is already gone.
 *
 * @param path the `pidfile` directive
 * @example
 * ```ts ignore
 * import { removePidFile } from "./daemon.ts";
 * removePidFile("/tmp/redeno.pid");
 * ```
 */
export function removePidFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone or never written.
  }
}

/**
 * The soft limit of open files (`ulimit -n`), from /proc; undefined when unknown (not Linux, or
 * no permission to read it). Node and Deno raise it to the hard limit as they start, so it is
 * also as high as it can go.
 *
 * @returns the limit, or undefined
 * @example
 * ```ts
 * import { openFilesLimit } from "./daemon.ts";
 * openFilesLimit(); // e.g. 1048576 on Linux
 * ```
 */
export function openFilesLimit(): number | undefined {
  try {
    const text = readFileSync("/proc/self/limits", "utf8");
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(text);
    if (!m || m[1] === "unlimited") return undefined;
    return Number(m[1]);
  } catch {
    return undefined;
  }
}

/**
 * The most clients the open-files limit allows (limit minus Redis's 32 reserved descriptors), or
 * undefined when `maxclients` fits or the limit is unknown.
 *
 * @param maxclients the wanted `maxclients`
 * @returns the reduced value when it does not fit
 * @example
 * ```ts
 * import { maxclientsLimit } from "./daemon.ts";
 * maxclientsLimit(100); // undefined: 132 descriptors are available everywhere
 * ```
 */
export function maxclientsLimit(maxclients: number): number | undefined {
  const limit = openFilesLimit();
  if (limit === undefined || maxclients + RESERVED_FDS <= limit) return undefined;
  return limit - RESERVED_FDS;
}

/**
 * At start, Redis's adjustOpenFilesLimit: `maxclients` is reduced to what `ulimit -n` allows,
 * with Redis's log lines.
 *
 * @param maxclients the configured value
 * @param log the server's log
 * @returns the value to use (unchanged when it fits), or 0 when not even one client fits
 * @example
 * ```ts
 * import { adjustMaxclients } from "./daemon.ts";
 * adjustMaxclients(100, () => {}); // 100
 * ```
 */
export function adjustMaxclients(maxclients: number, log: Log): number {
  const best = maxclientsLimit(maxclients);
  if (best === undefined) return maxclients;
  const files = maxclients + RESERVED_FDS;
  if (best < 1) {
    log(
      "warning",
      `Your current 'ulimit -n' of ${
        best + RESERVED_FDS
      } is not enough for the server to start. Please increase your open file limit to at least ${
        RESERVED_FDS + 1
      }. Exiting.`,
    );
    return 0;
  }
  log(
    "warning",
    `You requested maxclients of ${maxclients} requiring at least ${files} max file descriptors.`,
  );
  log(
    "warning",
    `Current maximum open files is ${
      best + RESERVED_FDS
    }. maxclients has been reduced to ${best} to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.`,
  );
  return best;
}
