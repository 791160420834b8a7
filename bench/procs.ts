/**
 * Linux process facts from `/proc` (CPU time, RSS, process tree) and control of the processes the
 * benchmark starts: every one is tracked, and all of them are killed when the run ends, fails or
 * is interrupted.
 *
 * @module
 */

import { type ChildProcess, execFileSync, spawn, type SpawnOptions } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import process from "node:process";

let ticksPerSecond: number | undefined;

/**
 * Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`, read once).
 *
 * @returns ticks per second, usually 100
 * @example
 * ```ts
 * import { clockTicks } from "./procs.ts";
 * console.log(clockTicks()); // 100
 * ```
 */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const n = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`Unexpected CLK_TCK: ${n}`);
    ticksPerSecond = n;
  }
  return ticksPerSecond;
}

/** The fields of `/proc/<pid>/stat` after the command name (index 0 is the state). */
function statFields(pid: number): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may itself contain spaces and parentheses.
  return text.slice(text.lastIndexOf(")") + 2).split(" ");
}

/**
 * CPU time a process has used, user plus system, over all its threads, in seconds.
 *
 * @param pid the process
 * @returns utime + stime in seconds
 * @example
 * ```ts
 * import process from "node:process";
 * import { cpuSeconds } from "./procs.ts";
 * console.log(cpuSeconds(process.pid) >= 0); // true
 * ```
 */
export function cpuSeconds(pid: number): number {
  const { user, system } = cpuTimes(pid);
  return user + system;
}

/**
 * CPU time a process has used over all its threads, user and system apart, in seconds: the
 * system part is the kernel's work for it (socket reads and writes, mostly), which the server's
 * own code does not control.
 *
 * @param pid the process
 * @returns utime and stime in seconds
 * @example
 * ```ts
 * import process from "node:process";
 * import { cpuTimes } from "./procs.ts";
 * console.log(cpuTimes(process.pid).user >= 0); // true
 * ```
 */
export function cpuTimes(pid: number): { user: number; system: number } {
  const f = statFields(pid);
  if (f === undefined) throw new Error(`Process ${pid} is gone`);
  return { user: Number(f[11]) / clockTicks(), system: Number(f[12]) / clockTicks() };
}

/**
 * Whether a process is still running (a zombie counts as gone).
 *
 * @param pid the process
 * @returns true while it runs
 * @example
 * ```ts
 * import process from "node:process";
 * import { isAlive } from "./procs.ts";
 * console.log(isAlive(process.pid)); // true
 * ```
 */
export function isAlive(pid: number): boolean {
  const f = statFields(pid);
  return f !== undefined && f[0] !== "Z" && f[0] !== "X";
}

/**
 * Resident set size of a process (`VmRSS` of `/proc/<pid>/status`).
 *
 * @param pid the process
 * @returns bytes
 * @example
 * ```ts
 * import process from "node:process";
 * import { rssBytes } from "./procs.ts";
 * console.log(rssBytes(process.pid) > 0); // true
 * ```
 */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "latin1"));
  if (!m) throw new Error(`No VmRSS for process ${pid}`);
  return Number(m[1]) * 1024;
}

/**
 * The private resident memory of process `pid` in bytes (RssAnon: its heap and other anonymous
 * pages, without the file-backed pages of its executable and libraries, which are shared and
 * clean: the kernel drops them under pressure and reads them again).
 */
export function anonBytes(pid: number): number {
  const m = /^RssAnon:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "latin1"));
  if (!m) throw new Error(`No RssAnon for process ${pid}`);
  return Number(m[1]) * 1024;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0").join(" ");
  } catch {
    return "";
  }
}

/** Pids of every live process whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (f !== undefined && Number(f[1]) === pid) out.push(Number(name));
  }
  return out;
}

/** `pid` and all its descendants, parents before children. */
function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...childrenOf(out[i]!));
  return out;
}

/**
 * The process that really does the work under a launcher: the deepest process of `pid`'s tree
 * whose command line contains `marker`. `tsx main.ts` is a node process that starts a second node
 * process running main.ts; that second one is the server.
 *
 * @param pid the process that was spawned
 * @param marker text of the worker's command line (e.g. `main.ts`)
 * @returns the worker's pid (`pid` itself when it has no such descendant)
 * @example
 * ```ts
 * import process from "node:process";
 * import { workerPid } from "./procs.ts";
 * console.log(workerPid(process.pid, "nothing-like-this") === process.pid); // true
 * ```
 */
export function workerPid(pid: number, marker: string): number {
  let found = pid;
  for (const p of processTree(pid)) if (cmdline(p).includes(marker)) found = p;
  return found;
}

const tracked = new Set<ChildProcess>();

/**
 * Spawns a process that is killed (with its descendants) by {@linkcode killAll}.
 *
 * @param cmd the program
 * @param args its arguments
 * @param options spawn options
 * @returns the child process
 * @example
 * ```ts
 * import { killAll, spawnTracked } from "./procs.ts";
 * spawnTracked("sleep", ["60"], { stdio: "ignore" });
 * killAll();
 * ```
 */
export function spawnTracked(cmd: string, args: string[], options: SpawnOptions): ChildProcess {
  const child = spawn(cmd, args, options);
  tracked.add(child);
  child.on("exit", () => tracked.delete(child));
  child.on("error", () => tracked.delete(child));
  return child;
}

function signal(pid: number, sig: "SIGTERM" | "SIGKILL"): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/**
 * Kills one tracked process and its descendants (SIGTERM, then SIGKILL after `graceMs`), and
 * resolves once the process has exited.
 *
 * @param child a process from {@linkcode spawnTracked}
 * @param graceMs how long to wait before SIGKILL
 * @returns a promise that settles when it exited
 * @example
 * ```ts
 * import { spawnTracked, stopProcess } from "./procs.ts";
 * await stopProcess(spawnTracked("sleep", ["60"], { stdio: "ignore" }));
 * ```
 */
export function stopProcess(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
    tracked.delete(child);
    return Promise.resolve();
  }
  const tree = processTree(child.pid);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      for (const p of tree) signal(p, "SIGKILL");
    }, graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      // Descendants that outlived the launcher (esbuild under tsx) go too.
      for (const p of tree) signal(p, "SIGKILL");
      tracked.delete(child);
      resolve();
    });
    for (const p of tree) signal(p, "SIGTERM");
  });
}

/**
 * Kills every tracked process and its descendants at once (SIGKILL). Synchronous, so it can run
 * from an `exit` handler.
 *
 * @example
 * ```ts
 * import { killAll } from "./procs.ts";
 * killAll();
 * ```
 */
export function killAll(): void {
  for (const child of tracked) {
    if (child.pid !== undefined) { for (const p of processTree(child.pid)) signal(p, "SIGKILL"); }
  }
  tracked.clear();
}

/**
 * Makes sure no started process outlives the benchmark: on exit, on SIGINT/SIGTERM and on an
 * uncaught error every tracked process is killed.
 *
 * @example
 * ```ts
 * import { installCleanup } from "./procs.ts";
 * installCleanup();
 * ```
 */
export function installCleanup(): void {
  process.on("exit", killAll);
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      console.error(`\nReceived ${sig}: stopping the servers`);
      killAll();
      process.exit(sig === "SIGINT" ? 130 : 143);
    });
  }
  process.on("uncaughtException", (e) => {
    console.error(e);
    killAll();
    process.exit(1);
  });
}
