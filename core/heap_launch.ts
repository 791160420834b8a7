/**
 * The command line's heap. V8 caps its heap at about 4 GB by default, and a running process
 * cannot raise the cap (`v8.setFlagsFromString("--max-old-space-size=...")` after start changes
 * nothing, on Node 20 and Deno 2.9 alike), so that cap would be the dataset's ceiling where
 * redis-server grows to the machine's memory. main.ts therefore starts itself again once, at
 * start, with the old generation sized to the machine's memory (or the cgroup's limit when lower)
 * less 256 MB for the rest of the process (a quarter in containers under 1 GB), unless the user
 * chose a size (`--max-old-space-size` or `--max-heap-size` in `NODE_OPTIONS`, Node's own flags,
 * `DENO_V8_FLAGS` or Deno's `--v8-flags`). In a container smaller than V8's default heap this
 * lowers the heap instead, so that the kernel does not kill the process for outgrowing it. The
 * young generation, which V8 would scale up with such a heap, keeps an 8 MB semi-space unless the
 * user chose one (`--max-semi-space-size`).
 *
 * The size goes to the copy through `NODE_OPTIONS` or `DENO_V8_FLAGS`, so its command line is
 * exactly the user's (a flag on the command line still wins over the environment), the copy sees
 * a size was chosen and does not start another, and a `daemonize yes` copy inherits it.
 *
 * The first process stays as a small launcher: it passes SIGINT, SIGTERM and SIGHUP on (the copy
 * does its shutdown save) and exits with the copy's exit code; the copy shares its stdin, stdout
 * and stderr. Should the launcher itself be killed (SIGKILL cannot be passed on), the copy learns
 * it at once from the IPC channel between them closing, and kills itself with SIGKILL too, as if
 * the kill had reached it: nothing keeps serving behind a process that was killed.
 *
 * Why a second process and not a worker thread with `resourceLimits`: both runtimes honour the
 * limit in a worker, but on Deno 2.9 the server ran 35-45% slower in one (redis-benchmark -P 16,
 * SET and GET, three runs each), while the launcher costs ~50 ms of CPU at start (Deno), ~70 ms
 * (node on the built package) or ~270 ms (tsx), and ~50 MB of memory.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { constants } from "node:os";
import process from "node:process";
import { getHeapStatistics } from "node:v8";
import { selfCommand } from "./daemon.ts";
import { machineMemory } from "./heap.ts";

/** Set in the copy's environment: the size given and where from, e.g. `old space 23849 MB of 24105 MB (meminfo)`. */
export const HEAP_SIZED_ENV = "REDENO_HEAP_SIZED";

const MB = 1024 * 1024;
/** A copy is started only when its heap differs from the default by at least this factor. */
const MIN_CHANGE = 1.25;
/** Memory left outside the old generation for the runtime, young generation and buffers. */
const OUTSIDE_HEAP_MB = 256;
const HEAP_FLAG = /--max[-_](old[-_]space|heap)[-_]size/;
const SEMI_FLAG = /--(max|min)[-_]semi[-_]space[-_]size/;
/**
 * The young generation's semi-space cap (MB) given to the copy. V8 scales it with the heap: with
 * a machine-sized old space it reaches 32 MB on Deno 2.9 (64 MB of young generation, resident
 * once a burst of traffic has filled it, whatever the dataset). 8 MB is what the benchmarks have
 * always run redeno with; 1 MB cost about 7% more CPU per request (bench/run.ts, SET/GET/HSET).
 */
const SEMI_SPACE_MB = 8;
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

type DenoLike = {
  permissions: { querySync(d: { name: string }): { state: string } };
};
function deno(): DenoLike | undefined {
  return (globalThis as { Deno?: DenoLike }).Deno;
}

/**
 * Where the user chose a heap size, if they did.
 *
 * @returns the variable or flag that sets it, or undefined
 * @example
 * ```ts
 * import { heapSizeGiven } from "./heap_launch.ts";
 * console.log(heapSizeGiven() ?? "V8's default");
 * ```
 */
export function heapSizeGiven(): string | undefined {
  return flagGiven(HEAP_FLAG);
}

/** Where the user gave a V8 flag matching `flag`, if they did. */
function flagGiven(flag: RegExp): string | undefined {
  const env = process.env;
  if (deno() !== undefined) {
    if (flag.test(env.DENO_V8_FLAGS ?? "")) return "DENO_V8_FLAGS";
    // Deno does not list its own flags; Linux's cmdline has them (after the script they would be
    // the server's arguments, which refuse unknown directives anyway).
    const { args } = selfCommand();
    if (args.some((a) => a.startsWith("--v8-flags") && flag.test(a))) return "--v8-flags";
    return undefined;
  }
  if (flag.test(env.NODE_OPTIONS ?? "")) return "NODE_OPTIONS";
  if (process.execArgv.some((a) => flag.test(a))) return "node's flags";
  return undefined;
}

/** Whether Deno grants what a copy needs without prompting (on Node: always). */
function permitted(): boolean {
  const d = deno();
  if (d === undefined) return true;
  try {
    return ["run", "read", "env"].every((name) =>
      d.permissions.querySync({ name }).state === "granted"
    );
  } catch {
    return false;
  }
}

/**
 * The old-generation size (MB) a copy of this process should get, or undefined when it should
 * serve as it is: a size was chosen, the machine is not bigger than the default heap, the
 * permissions to start a copy are missing (Deno), or the arguments ask for `--help`/`--version`.
 *
 * @param args the command line's arguments (after the script)
 * @returns megabytes for `--max-old-space-size`, and what they come from
 * @example
 * ```ts
 * import { plannedHeap } from "./heap_launch.ts";
 * console.log(plannedHeap(["--port", "6380"])); // e.g. { mb: 23849, from: "24105 MB (meminfo)" }
 * ```
 */
export function plannedHeap(args: string[]): { mb: number; from: string } | undefined {
  if (/^(-v|--version|-h|--help)$/.test(args[0] ?? "")) return undefined;
  if (!permitted() || process.env[HEAP_SIZED_ENV] !== undefined) return undefined;
  if (heapSizeGiven() !== undefined) return undefined;
  const machine = machineMemory();
  if (machine === undefined) return undefined;
  // The machine's memory, less what the runtime needs besides (a quarter of a small container).
  const total = Math.floor(machine.total / MB);
  const mb = total - Math.min(OUTSIDE_HEAP_MB, Math.floor(total / 4));
  const current = getHeapStatistics().heap_size_limit / MB;
  // Raised on big machines; lowered in a container smaller than V8's default, which the kernel
  // would otherwise kill when the heap outgrows it.
  if (mb < current * MIN_CHANGE && mb * MIN_CHANGE > current) return undefined;
  return { mb, from: `${total} MB (${machine.source})` };
}

/**
 * Starts this program again with a heap sized from the machine (see the module's doc) and runs
 * it to its end, passing signals on; or does nothing when this process should serve itself.
 *
 * @param args the command line's arguments (after the script)
 * @returns the copy's exit code once it has exited, or undefined when no copy was started
 * @example
 * ```ts ignore
 * import { relaunchWithHeap } from "./heap_launch.ts";
 * const code = await relaunchWithHeap(["--port", "6380"]);
 * if (code !== undefined) process.exit(code);
 * ```
 */
export async function relaunchWithHeap(args: string[]): Promise<number | undefined> {
  const plan = plannedHeap(args);
  if (plan === undefined) return undefined;
  const flags = [`--max-old-space-size=${plan.mb}`];
  if (flagGiven(SEMI_FLAG) === undefined) flags.push(`--max-semi-space-size=${SEMI_SPACE_MB}`);
  const name = deno() !== undefined ? "DENO_V8_FLAGS" : "NODE_OPTIONS";
  const separator = deno() !== undefined ? "," : " ";
  const before = process.env[name];
  const env = {
    ...process.env,
    [name]: [...(before ? [before] : []), ...flags].join(separator),
    [HEAP_SIZED_ENV]: `old space ${plan.mb} MB of ${plan.from}`,
  };
  const { cmd, args: argv } = selfCommand();
  let child;
  try {
    child = spawn(cmd, argv, { stdio: ["inherit", "inherit", "inherit", "ipc"], env });
  } catch {
    return undefined;
  }
  // process.kill, not child.kill: Deno's child.kill() makes `exit` report the signal it sent
  // instead of the copy's own exit code (its shutdown ends with exit 0).
  const pass = (sig: (typeof SIGNALS)[number]) => () => {
    try {
      process.kill(child.pid!, sig);
    } catch {
      // Already gone.
    }
  };
  const handlers = SIGNALS.map((sig) => [sig, pass(sig)] as const);
  for (const [sig, fn] of handlers) process.on(sig, fn);
  const code = await new Promise<number | undefined>((resolve) => {
    child.once("error", () => resolve(undefined));
    child.once("exit", (c, signal) => {
      resolve(c ?? 128 + (signal ? constants.signals[signal] ?? 0 : 0));
    });
  });
  for (const [sig, fn] of handlers) process.off(sig, fn);
  return code;
}

/**
 * In a copy started by {@linkcode relaunchWithHeap}: kills this process with SIGKILL as soon as
 * the launcher is gone (its IPC channel closes), as the kill that ended the launcher was meant
 * for the server. Does nothing in any other process.
 *
 * @example
 * ```ts
 * import { followLauncher } from "./heap_launch.ts";
 * followLauncher();
 * ```
 */
export function followLauncher(): void {
  const channel = (process as { channel?: { unref(): void } }).channel;
  if (channel === undefined || process.env[HEAP_SIZED_ENV] === undefined) return;
  channel.unref(); // the channel alone does not keep the process running
  process.once("disconnect", () => {
    try {
      process.kill(process.pid, "SIGKILL");
    } catch {
      process.exit(137);
    }
  });
}

/**
 * The heap limit and how it was chosen, for the start-up log.
 *
 * @returns e.g. `V8 heap limit 23897 MB: sized from the machine's memory, old space 23849 MB of
 *   24105 MB (meminfo)`
 * @example
 * ```ts
 * import { heapOrigin } from "./heap_launch.ts";
 * console.log(heapOrigin());
 * ```
 */
export function heapOrigin(): string {
  const limit = Math.round(getHeapStatistics().heap_size_limit / MB);
  const sized = process.env[HEAP_SIZED_ENV];
  const given = heapSizeGiven();
  const how = sized !== undefined
    ? `sized from the machine's memory, ${sized}`
    : given !== undefined
    ? `set by ${given}`
    : "V8's default";
  return `V8 heap limit ${limit} MB: ${how}`;
}
