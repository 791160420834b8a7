/**
 * A full garbage collection when the server goes idle after its heap grew. V8 collects its old
 * generation when allocation pushes it to, so after a burst of writes stops, the garbage the burst
 * left (parsed requests, replaced values) can hold the process's memory for as long as the server
 * stays quiet. Redis returns freed memory to its allocator at once; this gives the same shape: one
 * second that saw at most a handful of commands, if the heap grew by a quarter (and at least 32 MB)
 * since the last collection, one full collection runs, and V8 can give the emptied pages back.
 *
 * Only the command-line server turns it on (core/cli.ts): inside another program the heap is the
 * host's, and when to collect it is the host's business.
 *
 * @module
 */

import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Server } from "../server.ts";

/** The window over which quiet is judged (ms)... */
const WINDOW_MS = 1000;
/** ...and the most commands it may see to count as quiet (a monitor's INFO every second is). */
const QUIET_COMMANDS = 20;
/** Growth since the last collection that makes one worth it. */
const MIN_GROWTH = 32 * 1024 * 1024;

let collect: (() => void) | null | undefined;

/** V8's full collection, exposed once (undefined when the runtime refuses). */
function fullGc(): (() => void) | undefined {
  if (collect === undefined) {
    try {
      const global = (globalThis as { gc?: () => void }).gc;
      if (typeof global === "function") {
        collect = global;
      } else {
        setFlagsFromString("--expose-gc");
        collect = runInNewContext("gc") as () => void;
      }
    } catch {
      collect = null;
    }
  }
  return collect ?? undefined;
}

/**
 * Collects garbage when `server` goes idle after its heap grew (see the module text). Runs from
 * the server tick.
 *
 * @returns a live count of the collections run
 */
export function startIdleGc(server: Server): { collections: number } {
  const counts = { collections: 0 };
  let windowStart = performance.now();
  let windowCommands = server.stats.commands;
  let heapAfter = getHeapStatistics().used_heap_size;
  server.on("cron", () => {
    const now = performance.now();
    if (now - windowStart < WINDOW_MS) return;
    const commands = server.stats.commands;
    const quiet = commands - windowCommands <= QUIET_COMMANDS;
    windowStart = now;
    windowCommands = commands;
    if (!quiet) return;
    const used = getHeapStatistics().used_heap_size;
    if (used - heapAfter < Math.max(MIN_GROWTH, heapAfter / 4)) return;
    const gc = fullGc();
    if (gc === undefined) return;
    gc();
    counts.collections++;
    heapAfter = getHeapStatistics().used_heap_size;
  });
  return counts;
}
