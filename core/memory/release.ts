/**
 * Giving memory back to the system: a full garbage collection, then, on Deno with glibc, the C
 * allocator's `malloc_trim(0)`. V8 returns the pages a collection empties; what the runtime
 * itself allocated with `malloc` (Deno's per-connection state, socket buffers) goes back to
 * glibc's heap when freed, but glibc returns only the top of that heap to the system, so after
 * 10,000 connections close about 30 MB stays resident without the trim (bench/connections.ts:
 * Deno kept 36.3 MiB after closing them, 6.8 MiB with it; redis-server 19.5 MiB). Node has no way
 * to call the C library without a native addon, so there the collection alone runs.
 *
 * Used by the idle collection (idle_gc.ts) and by `MEMORY PURGE`.
 *
 * @module
 */

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

type Trim = (pad: bigint) => number;
type DenoFfi = {
  build: { os: string };
  permissions: { querySync(d: { name: string }): { state: string } };
  dlopen(
    path: string,
    symbols: { malloc_trim: { parameters: ["usize"]; result: "i32" } },
  ): { symbols: { malloc_trim: Trim } };
};

let collect: (() => void) | null | undefined;
let trim: Trim | null | undefined;

/** V8's full collection, exposed once (undefined when the runtime refuses). */
export function fullGc(): (() => void) | undefined {
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

/** glibc's `malloc_trim`, on Deno on Linux with FFI permitted; undefined anywhere else. */
function mallocTrim(): Trim | undefined {
  if (trim === undefined) {
    trim = null;
    const deno = (globalThis as unknown as { Deno?: DenoFfi }).Deno;
    try {
      if (
        deno !== undefined && deno.build.os === "linux" &&
        deno.permissions.querySync({ name: "ffi" }).state === "granted"
      ) {
        const lib = deno.dlopen("libc.so.6", {
          malloc_trim: { parameters: ["usize"], result: "i32" },
        });
        trim = lib.symbols.malloc_trim;
      }
    } catch {
      // Not glibc (musl has no malloc_trim), or no such library: the collection alone serves.
    }
  }
  return trim ?? undefined;
}

/**
 * Collects garbage and returns what it can to the system.
 *
 * @returns whether a full collection ran, and whether the C allocator was trimmed
 * @example
 * ```ts
 * import { releaseMemory } from "./release.ts";
 * const { collected, trimmed } = releaseMemory();
 * console.log(collected, trimmed);
 * ```
 */
export function releaseMemory(): { collected: boolean; trimmed: boolean } {
  const gc = fullGc();
  gc?.();
  const t = mallocTrim();
  t?.(0n);
  return { collected: gc !== undefined, trimmed: t !== undefined };
}
