/**
 * A full garbage collection when the server goes idle after a burst. V8 collects its old
 * generation when allocation pushes it to, so after a burst of writes stops, the garbage the burst
 * left (parsed requests, replaced values) can hold the process's memory for as long as the server
 * stays quiet; so can thousands of closed connections, or a dataset just flushed, when nothing is
 * allocated afterwards to set a collection off. Redis returns freed memory to its allocator at
 * once; this gives the same shape: after one second that saw at most a handful of commands, one
 * full collection runs (and on Deno, glibc's allocator is trimmed: release.ts) if since the last
 * one any of these reached a quarter of the heap, and at least 8 MB:
 * - the heap's growth;
 * - what was released: the dataset's fall from its high point, by redeno's own account, plus the
 *   connections closed at about 8 KB each;
 * - the bytes received (the runtime's buffers and the requests parsed from them).
 * The first quiet second after start-up always collects: what loading modules (and compiling them,
 * under tsx) or a dataset left.
 *
 * Measured on Deno after 10k `ZADD`s of 100 members (1M elements, bench/memory_types.ts's zsets
 * row): resident set 62 MB as the load ended, 40.5 MB after the collection and trim, of which
 * 27 MB were there before the load; after 10k `ECHO`s of as many bytes, 39.8 MB then 23.7 MB.
 * The quarter keeps a big heap's collections (seconds long) rare.
 *
 * The young generation is given back by a second collection, after 6 s of quiet. V8 grows it to
 * its cap (2 × 8 MB semi-spaces) under a load whose objects survive, and shrinks it only in a full
 * collection that finds the allocation rate of the last 5 s low: on Node 20 a collection 1 s into
 * the quiet keeps all 16 MB resident, one at 6 s returns 15 MB (measured with 1M small objects
 * kept). It runs once per quiet spell, only while the young generation holds over 2 MB and the
 * heap is under 256 MB (where 16 MB matters and a full collection takes milliseconds).
 *
 * Only the command-line server turns it on (core/cli.ts): inside another program the heap is the
 * host's, and when to collect it is the host's business.
 *
 * @module
 */

import { getHeapSpaceStatistics, getHeapStatistics } from "node:v8";
import { releaseMemory } from "./release.ts";
import type { Server } from "../server.ts";

/** The window over which quiet is judged (ms)... */
const WINDOW_MS = 1000;
/** ...and the most commands it may see to count as quiet (a monitor's INFO every second is). */
const QUIET_COMMANDS = 20;
/** Growth, release or traffic since the last collection that makes one worth it, at least. */
const MIN_CHANGE = 8 * 1024 * 1024;
/** What a closed connection leaves to collect: its objects and read buffer (bench/connections.ts). */
const CONNECTION_BYTES = 8 * 1024;
/** Quiet time after which V8 sees a low allocation rate and shrinks the young generation (ms). */
const SHRINK_QUIET_MS = 6000;
/** The young generation's size worth a collection to shrink it, and the heap it is worth it in. */
const YOUNG_BYTES = 2 * 1024 * 1024;
const SMALL_HEAP = 256 * 1024 * 1024;

/** Bytes the young generation holds (its semi-spaces' committed pages). */
function youngBytes(): number {
  for (const space of getHeapSpaceStatistics()) {
    if (space.space_name === "new_space") return space.physical_space_size;
  }
  return 0;
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
  // Zero: the first quiet spell collects what starting up left (modules compiled, a dataset
  // loaded), so the server idles at its floor from the start.
  let heapAfter = 0;
  const closed = () => server.stats.connectionsReceived - server.clients.size;
  let closedAfter = closed();
  let datasetHigh = server.memory.dataset();
  let inputAfter = server.stats.netInput;
  /** When the current quiet spell began (undefined while busy), and whether it shrank the young generation. */
  let quietSince: number | undefined;
  let shrunk = false;
  server.on("cron", () => {
    const now = performance.now();
    const dataset = server.memory.dataset();
    if (dataset > datasetHigh) datasetHigh = dataset;
    if (now - windowStart < WINDOW_MS) return;
    const commands = server.stats.commands;
    const quiet = commands - windowCommands <= QUIET_COMMANDS;
    windowStart = now;
    windowCommands = commands;
    if (!quiet) {
      quietSince = undefined;
      return;
    }
    if (quietSince === undefined) {
      quietSince = now - WINDOW_MS;
      shrunk = false;
    }
    const used = getHeapStatistics().used_heap_size;
    if (
      !shrunk && now - quietSince >= SHRINK_QUIET_MS && used < SMALL_HEAP &&
      youngBytes() > YOUNG_BYTES
    ) {
      shrunk = true;
      if (releaseMemory().collected) counts.collections++;
      return;
    }
    const enough = Math.max(MIN_CHANGE, heapAfter / 4);
    const released = datasetHigh - dataset + (closed() - closedAfter) * CONNECTION_BYTES;
    const input = server.stats.netInput;
    if (input < inputAfter) inputAfter = input; // CONFIG RESETSTAT
    if (used - heapAfter < enough && released < enough && input - inputAfter < enough) return;
    if (!releaseMemory().collected) return;
    counts.collections++;
    heapAfter = getHeapStatistics().used_heap_size;
    closedAfter = closed();
    datasetHigh = dataset;
    inputAfter = input;
  });
  return counts;
}
