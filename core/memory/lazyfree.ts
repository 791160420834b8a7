/**
 * Lazy freeing, as far as it shows. Redis hands big values deleted by UNLINK, FLUSHALL ASYNC or a
 * `lazyfree-lazy-*` setting to a background thread; in redeno the garbage collector reclaims every
 * value off the command path anyway, so nothing is ever pending. What remains observable is Redis's
 * count of values it freed lazily (INFO `lazyfreed_objects`), kept here with Redis's rule: a value
 * goes to the background when freeing it would take more than 64 allocations.
 *
 * @module
 */

import type { Value } from "../keyspace/database.ts";
import type { Server } from "../server.ts";

/** Redis's LAZYFREE_THRESHOLD. */
const LAZYFREE_THRESHOLD = 64;

/** Elements per quicklist node Redis would use for a list (8 KB nodes of small elements). */
const LIST_NODE_ELEMENTS = 128;

type Sized = { size?: number; length?: number; encoding(): string };
type StreamLike = {
  nodes: unknown[];
  groups?: Map<string, { pending: Map<string, unknown> }>;
};

/** Redis's lazyfreeGetFreeEffort: roughly how many allocations freeing `value` takes. */
export function freeEffort(value: Value): number {
  if (typeof value === "string") return 1;
  const v = value as unknown as Sized;
  switch (value.type) {
    case "list":
      return v.encoding() === "quicklist" ? Math.ceil((v.length ?? 0) / LIST_NODE_ELEMENTS) : 1;
    case "set":
    case "hash":
      return v.encoding() === "hashtable" ? v.size ?? 1 : 1;
    case "zset":
      return v.encoding() === "skiplist" ? v.size ?? 1 : 1;
    case "stream": {
      const s = value as unknown as StreamLike;
      let effort = s.nodes.length;
      const groups = s.groups;
      if (groups !== undefined && groups.size !== 0) {
        const first = groups.values().next().value!;
        effort += groups.size * (1 + first.pending.size);
      }
      return effort;
    }
    default:
      return 1;
  }
}

/** Counts `value`, deleted lazily, as Redis would: only when it is big enough to go to a thread. */
export function lazyFreed(server: Server, value: Value | undefined): void {
  if (value !== undefined && freeEffort(value) > LAZYFREE_THRESHOLD) {
    server.stats.lazyfreedObjects++;
  }
}

/**
 * Whether SCRIPT FLUSH or FUNCTION FLUSH frees asynchronously: `ASYNC`, or no mode with
 * `lazyfree-lazy-user-flush` (the argument is already checked to be SYNC or ASYNC).
 */
export function flushIsAsync(server: Server, mode: string | undefined): boolean {
  return mode === undefined
    ? server.config.bool("lazyfree-lazy-user-flush")
    : mode.toLowerCase() === "async";
}

/**
 * Counts a script cache or a function set flushed asynchronously, as Redis: more than 64 entries
 * go to its lazyfree thread, which counts each, plus `extra` objects freed with them.
 */
export function lazyFreedEntries(server: Server, async: boolean, entries: number, extra = 0): void {
  if (async && entries > LAZYFREE_THRESHOLD) server.stats.lazyfreedObjects += entries + extra;
}
