/**
 * Whether memory is running out: the JavaScript heap near its limit, or (when the command line
 * asks for it) the machine or the container near full. The write path asks
 * {@linkcode heapExhausted} before every `denyoom` command and refuses the write with Redis's OOM
 * error while it answers true, so reads go on and no acknowledged write is lost to a fatal
 * "JavaScript heap out of memory".
 *
 * Why the threshold is three quarters of V8's limit: V8 kills the process ("Ineffective
 * mark-compacts near heap limit") once the live old generation stays above 80% of its maximum
 * while garbage collection takes most of the time, and it starts major collections halfway
 * between the live size and the maximum, so the heap needs a quarter of its room to breathe.
 * Refusing writes at 75% of `heap_size_limit` minus 64 MB keeps the live data under V8's 80% mark
 * even for small heaps (where the young generation is a large share of the limit).
 *
 * Why the answer is cached: `getHeapStatistics()` costs 0.5-1.5 µs (Node 20, Deno 2.9), so it is
 * read again every 64 calls, or as soon as the callers announce 1 MB of incoming bytes; a writer
 * can therefore add at most 64 small commands (or 1 MB) past a fresh reading. Used heap includes
 * garbage not yet collected: when it crosses the threshold a full collection is forced (at most
 * once a second, and taking at most 1/20 of the time while it does not help) before writes are
 * refused, so writes come back soon after deletes make room; when the machine is nearly out (a
 * quarter of the reserve left) the garbage that even refused writes make is collected every
 * 250 ms, since the alternative is the kernel's OOM killer.
 *
 * Portable: only `node:v8`, `node:vm`, `node:fs` and `performance`, which Node and Deno both have.
 * An embedded server never reads a file here unless {@linkcode watchMachineMemory} is called.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { freemem, totalmem } from "node:os";
import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

const MB = 1024 * 1024;
/** Calls of heapExhausted() between two readings of the heap's statistics. */
const REFRESH_CALLS = 64;
/** Announced incoming bytes that force a fresh reading. */
const REFRESH_BYTES = MB;
/** Share of `heap_size_limit` the heap may use before writes are refused... */
const HEAP_FRACTION = 0.75;
/** ...minus this margin, for the young generation and one large reply. */
const HEAP_MARGIN = 64 * MB;
/**
 * The machine's memory is read again after this long (ms) while what is available is within
 * {@linkcode NEAR_FACTOR} times the reserve...
 */
const MACHINE_REFRESH_MS = 100;
/** ...and after this long (ms) while it is further from it... */
const MACHINE_REFRESH_FAR_MS = 1000;
/** ...("near": available memory under this many times the reserve)... */
const NEAR_FACTOR = 4;
/**
 * ...or as soon as this process's heap and buffers grew by an eighth of the room left above the
 * reserve, and at least this much (or, while writes are refused, shrank by it). Not on every
 * swing: a server taking 1 MiB values grows and shrinks by megabytes between collections, and
 * reading /proc/meminfo costs 0.1-0.5 ms (a fixed 8 MB swing read it every few SETs).
 */
const MACHINE_REFRESH_STEP = 8 * MB;
/** Forced collections: at most once a second... */
const GC_MIN_INTERVAL_MS = 1000;
/** ...and while they do not help, spending at most 1/20 of the time in them... */
const GC_TIME_FACTOR = 20;
/** ...unless the machine has less than a quarter of its reserve left: then every 250 ms. */
const GC_CRITICAL_MS = 250;

/** Memory figures in bytes, for INFO and logs. */
export interface HeapStatus {
  /** Bytes of the JavaScript heap in use (live data and garbage not collected yet). */
  used: number;
  /** V8's `heap_size_limit`: the old generation's maximum plus the young generation. */
  limit: number;
  /** Above this much used heap, writes are refused. */
  threshold: number;
  /** Whether writes are refused now (heap or machine). */
  exhausted: boolean;
  /** Full collections forced because the threshold was crossed. */
  forcedGcs: number;
  /** The machine's (or container's) memory, when watched. */
  machine?: MachineMemory;
  /** Below this much available machine memory, writes are refused (when watched). */
  machineReserve?: number;
}

/** The memory of the machine, or of the container's cgroup when it is smaller. */
export interface MachineMemory {
  /** Total bytes: physical memory, or the cgroup's limit when lower. */
  total: number;
  /** Bytes that can still be allocated without swapping or reclaiming from this cgroup. */
  available: number;
  /** Where `total` comes from: `meminfo`, `cgroup v1`, `cgroup v2` or `os`. */
  source: string;
}

let calls = 0;
let pending = 0;
let used = 0;
/** Committed heap, external buffers and V8's malloc: what this process adds to the machine. */
let footprint = 0;
let footprintAtMachine = 0;
let limit = 0;
let threshold = 0;
let exhausted = false;
let watchMachine = false;
let machine: MachineMemory | undefined;
let machineAt = -Infinity;
/** How long until the machine is read again, and how much growth of ours reads it sooner. */
let machineEvery = MACHINE_REFRESH_MS;
let machineStep = MACHINE_REFRESH_STEP;
let forcedGcs = 0;
let gcAt = -Infinity;
let gcInterval = GC_MIN_INTERVAL_MS;
let gcCritical = GC_CRITICAL_MS;
let gcFn: (() => void) | null | undefined;
readHeap();

/**
 * Whether writes must be refused for lack of memory. Cheap: a cached answer, refreshed every 64
 * calls or once `bytes` announced since the last reading reach 1 MB.
 *
 * @param bytes how many bytes the command about to run brings (its arguments), when known; a big
 *   argument is then checked against the room left at once
 * @returns true when the heap (or the watched machine) is too full for another write
 * @example
 * ```ts
 * import { heapExhausted } from "./heap.ts";
 * if (heapExhausted()) console.log("-OOM command not allowed when used memory > 'maxmemory'.");
 * ```
 */
export function heapExhausted(bytes = 0): boolean {
  pending += bytes;
  if (++calls >= REFRESH_CALLS || pending >= REFRESH_BYTES) refresh();
  return exhausted || (bytes !== 0 && used + pending > threshold);
}

/**
 * The heap's figures read now (this also refreshes the answer of {@linkcode heapExhausted}).
 *
 * @returns used bytes, limit, threshold, whether writes are refused, and the machine's memory
 *   when watched
 * @example
 * ```ts
 * import { heapStatus } from "./heap.ts";
 * const { used, limit } = heapStatus();
 * console.log(`heap ${Math.round(used / 2 ** 20)} of ${Math.round(limit / 2 ** 20)} MB`);
 * ```
 */
export function heapStatus(): HeapStatus {
  refresh();
  const status: HeapStatus = { used, limit, threshold, exhausted, forcedGcs };
  if (machine !== undefined) {
    status.machine = { ...machine };
    status.machineReserve = machineReserve(machine.total);
  }
  return status;
}

/**
 * Also refuses writes when the machine (or the container's cgroup) has little memory left: less
 * than 5% of it, at least 128 MB and at most 1 GB. The command line turns this on; an embedded
 * server leaves it off, so it reads no file (Deno's `--allow-net` alone is enough).
 *
 * @param on whether to watch
 * @example
 * ```ts
 * import { watchMachineMemory } from "./heap.ts";
 * watchMachineMemory(true);
 * ```
 */
export function watchMachineMemory(on: boolean): void {
  watchMachine = on;
  machine = undefined;
  machineAt = -Infinity;
  machineEvery = MACHINE_REFRESH_MS;
  machineStep = MACHINE_REFRESH_STEP;
  refresh();
}

/** Reads the heap (and the machine when due); forces a collection when over the line. */
function refresh(): void {
  calls = 0;
  pending = 0;
  readHeap();
  const now = performance.now();
  if (
    watchMachine &&
    (now - machineAt >= machineEvery ||
      footprint - footprintAtMachine >= machineStep ||
      exhausted && footprintAtMachine - footprint >= machineStep)
  ) {
    readMachine(now);
  }
  let short = used > threshold || machineShort();
  // Nearly out of machine memory, the kernel kills the process: garbage (refused writes make some
  // too) is then collected as often as every other collection's length.
  const due = now - gcAt >= (machineCritical() ? gcCritical : gcInterval);
  if (short && due && forceGc()) {
    const freed = performance.now();
    readHeap();
    if (watchMachine) readMachine(freed);
    short = used > threshold || machineShort();
    gcAt = freed;
    // A collection of a big heap takes seconds: while the live data really is that big (writes
    // stay refused), keep the pauses to a twentieth of the time.
    gcInterval = Math.max(GC_MIN_INTERVAL_MS, (freed - now) * GC_TIME_FACTOR);
    gcCritical = Math.max(GC_CRITICAL_MS, (freed - now) * 2);
  }
  exhausted = short;
}

function readHeap(): void {
  const s = getHeapStatistics();
  used = s.used_heap_size;
  footprint = s.total_physical_size + s.external_memory + s.malloced_memory;
  if (s.heap_size_limit !== limit) {
    limit = s.heap_size_limit;
    threshold = Math.max(limit * HEAP_FRACTION - HEAP_MARGIN, limit / 2);
  }
}

/** Reads the machine's memory and sets when to read it next (see MACHINE_REFRESH_MS). */
function readMachine(now: number): void {
  machine = machineMemory();
  machineAt = now;
  footprintAtMachine = footprint;
  if (machine === undefined) return;
  const reserve = machineReserve(machine.total);
  const room = Math.max(0, machine.available - reserve);
  machineEvery = machine.available < reserve * NEAR_FACTOR
    ? MACHINE_REFRESH_MS
    : MACHINE_REFRESH_FAR_MS;
  machineStep = Math.max(MACHINE_REFRESH_STEP, room / 8);
}

function machineShort(): boolean {
  return machine !== undefined && machine.available < machineReserve(machine.total);
}

function machineCritical(): boolean {
  return machine !== undefined && machine.available < machineReserve(machine.total) / 4;
}

function machineReserve(total: number): number {
  return Math.min(Math.max(total * 0.05, 128 * MB), 1024 * MB);
}

/** A full, synchronous collection; false when the runtime does not allow one. */
function forceGc(): boolean {
  if (gcFn === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    try {
      // --expose-gc after start gives `gc` to new contexts only: one is made to fetch it.
      if (typeof exposed !== "function") setFlagsFromString("--expose-gc");
      gcFn = typeof exposed === "function" ? exposed : runInNewContext("gc") as () => void;
    } catch {
      gcFn = null;
    }
  }
  if (gcFn === null) return false;
  gcFn();
  forcedGcs++;
  return true;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function readBytes(path: string): number | undefined {
  const text = readText(path)?.trim();
  if (text === undefined || !/^\d+$/.test(text)) return undefined; // "max": no limit
  const n = Number(text);
  return n >= 2 ** 60 ? undefined : n; // cgroup v1 writes a huge number for "no limit"
}

function statField(text: string | undefined, name: string): number {
  const m = text === undefined ? null : new RegExp(`^${name} (\\d+)$`, "m").exec(text);
  return m ? Number(m[1]) : 0;
}

/** Where a cgroup keeps its memory limit and usage. */
interface CgroupFiles {
  version: string;
  limit: string;
  usage: string;
  stat: string;
  /** The memory.stat field of page cache that can be dropped. */
  inactive: string;
}

/** The cgroup's files, found once (null: none with a limit; undefined: not looked for yet). */
let cgroupFiles: CgroupFiles | null | undefined;

function findCgroupFiles(): CgroupFiles | null {
  const lines = readText("/proc/self/cgroup")?.split("\n") ?? [];
  const v2 = lines.find((l) => l.startsWith("0::"))?.slice(3);
  const v1 = lines.map((l) => l.split(":")).find((f) => f[1]?.split(",").includes("memory"))?.[2];
  const candidates: CgroupFiles[] = [];
  // Inside a container the cgroup's own directory is usually mounted as the root.
  for (const dir of v2 === undefined ? [] : [`/sys/fs/cgroup${v2}`, "/sys/fs/cgroup"]) {
    candidates.push({
      version: "cgroup v2",
      limit: `${dir}/memory.max`,
      usage: `${dir}/memory.current`,
      stat: `${dir}/memory.stat`,
      inactive: "inactive_file",
    });
  }
  const base = "/sys/fs/cgroup/memory";
  for (const dir of v1 === undefined ? [] : [`${base}${v1}`, base]) {
    candidates.push({
      version: "cgroup v1",
      limit: `${dir}/memory.limit_in_bytes`,
      usage: `${dir}/memory.usage_in_bytes`,
      stat: `${dir}/memory.stat`,
      inactive: "total_inactive_file",
    });
  }
  return candidates.find((c) =>
    readBytes(c.limit) !== undefined && readBytes(c.usage) !== undefined
  ) ??
    null;
}

/**
 * The cgroup's limit and usage (page cache that can be dropped left out), when it has a limit.
 * Which files hold them is found on the first call (a missing file costs an exception each time
 * it is tried); a limit lifted later is looked for afresh.
 */
function cgroupMemory(): { limit: number; used: number; version: string } | undefined {
  cgroupFiles ??= findCgroupFiles();
  const files = cgroupFiles;
  if (files === null) return undefined;
  const limit = readBytes(files.limit);
  const usage = readBytes(files.usage);
  if (limit === undefined || usage === undefined) {
    cgroupFiles = undefined;
    return undefined;
  }
  const inactive = statField(readText(files.stat), files.inactive);
  return { limit, used: Math.max(0, usage - inactive), version: files.version };
}

/**
 * The machine's memory: Linux's `/proc/meminfo` (MemTotal, MemAvailable), bounded by the
 * process's cgroup (v2 `memory.max`, v1 `memory.limit_in_bytes`) when it sets a lower limit.
 * Elsewhere `node:os`'s totalmem/freemem (which on Deno need `--allow-sys`).
 *
 * @returns total and available bytes and where the total comes from, or undefined when unknown
 * @example
 * ```ts
 * import { machineMemory } from "./heap.ts";
 * const m = machineMemory();
 * if (m) console.log(`${Math.round(m.total / 2 ** 30)} GB (${m.source})`);
 * ```
 */
export function machineMemory(): MachineMemory | undefined {
  const info = readText("/proc/meminfo")?.replace(/:\s+/g, " ").replace(/ kB$/gm, "");
  let total = statField(info, "MemTotal") * 1024;
  let available = statField(info, "MemAvailable") * 1024;
  let source = "meminfo";
  if (total === 0) {
    try {
      total = totalmem();
      available = freemem();
      source = "os";
    } catch {
      return undefined; // Deno without --allow-sys
    }
  }
  const cg = cgroupMemory();
  if (cg !== undefined && cg.limit < total) {
    total = cg.limit;
    source = cg.version;
  }
  if (cg !== undefined) available = Math.min(available, Math.max(0, cg.limit - cg.used));
  return { total, available, source };
}
