/**
 * A full garbage collection when the server goes idle after its heap grew, or after it let go of
 * much. V8 collects its old generation when allocation pushes it to, so after a burst of writes
 * stops, the garbage the burst left (parsed requests, replaced values) can hold the process's
 * memory for as long as the server stays quiet; so can thousands of closed connections, or a
 * dataset just flushed, when nothing is allocated afterwards to set a collection off. Redis returns
 * freed memory to its allocator at once; this gives the same shape: one second that saw at most a
 * handful of commands, if since the last collection the heap grew by a quarter (and at least
 * 32 MB) or as much was released (the dataset's fall from its high point, by redeno's own account,
 * plus the connections closed at about 8 KB each), one full collection runs, and V8 can give the
 * emptied pages back (and on Deno, glibc's allocator is trimmed: release.ts).
 *
 * Only the command-line server turns it on (core/cli.ts): inside another program the heap is the
 * host's, and when to collect it is the host's business.
 *
 * @module
 */

import { getHeapStatistics } from "node:v8";
import { releaseMemory } from "./release.ts";
import type { Server } from "../server.ts";

/** The window over which quiet is judged (ms)... */
const WINDOW_MS = 1000;
/** ...and the most commands it may see to count as quiet (a monitor's INFO every second is). */
const QUIET_COMMANDS = 20;
/** Growth, or release, since the last collection that makes one worth it. */
const MIN_GROWTH = 32 * 1024 * 1024;
/** What a closed connection leaves to collect: its objects and read buffer (bench/connections.ts). */
const CONNECTION_BYTES = 8 * 1024;

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
  const closed = () => server.stats.connectionsReceived - server.clients.size;
  let closedAfter = closed();
  let datasetHigh = server.memory.dataset();
  server.on("cron", () => {
    const now = performance.now();
    const dataset = server.memory.dataset();
    if (dataset > datasetHigh) datasetHigh = dataset;
    if (now - windowStart < WINDOW_MS) return;
    const commands = server.stats.commands;
    const quiet = commands - windowCommands <= QUIET_COMMANDS;
    windowStart = now;
    windowCommands = commands;
    if (!quiet) return;
    const used = getHeapStatistics().used_heap_size;
    const enough = Math.max(MIN_GROWTH, heapAfter / 4);
    const released = datasetHigh - dataset + (closed() - closedAfter) * CONNECTION_BYTES;
    if (used - heapAfter < enough && released < enough) return;
    if (!releaseMemory().collected) return;
    counts.collections++;
    heapAfter = getHeapStatistics().used_heap_size;
    closedAfter = closed();
    datasetHigh = dataset;
  });
  return counts;
}
