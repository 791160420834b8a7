/**
 * Facts about this process (memory, CPU time, pid), read through the `process` object that both
 * Node and Deno provide. Like the network adapters, this is an edge of the portable core.
 *
 * @module
 */

import { totalmem } from "node:os";

type ProcessFacts = {
  pid: number;
  memoryUsage(): {
    rss: number;
    heapUsed: number;
    heapTotal: number;
    external: number;
    arrayBuffers: number;
  };
  cpuUsage(): { user: number; system: number };
  execPath?: string;
  platform?: string;
  arch?: string;
};

const proc = (globalThis as { process?: ProcessFacts }).process;

/**
 * The process's memory in bytes: resident set, what the JavaScript engine has allocated (heap
 * objects and external buffers) and what it has reserved for them (`active`).
 */
export function memory(): { rss: number; used: number; active: number } {
  if (!proc) return { rss: 0, used: 0, active: 0 };
  const m = proc.memoryUsage();
  return { rss: m.rss, used: m.heapUsed + m.external, active: m.heapTotal + m.external };
}

/** The machine's memory in bytes (INFO total_system_memory). */
export function systemMemory(): number {
  try {
    return totalmem();
  } catch {
    return 0;
  }
}

/** User and system CPU seconds used by this process. */
export function cpuSeconds(): { user: number; sys: number } {
  if (!proc) return { user: 0, sys: 0 };
  const c = proc.cpuUsage();
  return { user: c.user / 1e6, sys: c.system / 1e6 };
}

/** This process's id. */
export function pid(): number {
  return proc?.pid ?? 0;
}

/** Path of the runtime executable. */
export function executable(): string {
  return proc?.execPath ?? "";
}

/** `os` line of INFO server. */
export function osName(): string {
  return `${proc?.platform ?? "unknown"} ${proc?.arch ?? ""}`.trim();
}
