/**
 * The scripting fields of INFO memory, as Redis 7.0 names them: the Lua heaps of the EVAL and
 * FUNCTION engines and the size of the script and library caches.
 *
 * @module
 */

import type { Server } from "../core/server.ts";
import { scriptingOf } from "./engine.ts";
import { librariesOf } from "./functions.ts";

/** Human form of a byte count, as INFO prints it (`1.50K`). */
function human(n: number): string {
  const units = ["B", "K", "M", "G", "T"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n}B` : `${v.toFixed(2)}${units[u]}`;
}

type CacheBytes = { scripts: number; functions: number; nScripts: number; nLibs: number };
const cacheBytes = new WeakMap<Server, CacheBytes>();

/**
 * Bytes of the EVAL script cache and of the function libraries' code (part of used_memory).
 * Summed again only when the number of scripts or libraries changed: the maxmemory check reads
 * this before every command.
 */
export function scriptCacheBytes(server: Server): { scripts: number; functions: number } {
  const engine = scriptingOf(server);
  const libs = librariesOf(server);
  const last = cacheBytes.get(server);
  if (
    last !== undefined && last.nScripts === engine.scripts.size &&
    last.nLibs === libs.libraries.size
  ) return last;
  let scripts = 0;
  for (const [sha, s] of engine.scripts) scripts += sha.length + s.body.length + 64;
  let functions = 0;
  for (const lib of libs.libraries.values()) functions += lib.name.length + lib.code.length + 64;
  const now = { scripts, functions, nScripts: engine.scripts.size, nLibs: libs.libraries.size };
  cacheBytes.set(server, now);
  return now;
}

/** INFO memory's scripting fields. */
export function scriptingMemoryFields(server: Server): Array<[string, string | number]> {
  const engine = scriptingOf(server);
  const libs = librariesOf(server);
  const vmEval = engine.luaMemory(0);
  const vmFunctions = engine.luaMemory(1);
  const { scripts, functions } = scriptCacheBytes(server);
  return [
    ["used_memory_lua", vmEval],
    ["used_memory_vm_eval", vmEval],
    ["used_memory_lua_human", human(vmEval)],
    ["used_memory_scripts_eval", scripts],
    ["number_of_cached_scripts", engine.scripts.size],
    ["number_of_functions", libs.functions.size],
    ["number_of_libraries", libs.libraries.size],
    ["used_memory_vm_functions", vmFunctions],
    ["used_memory_vm_total", vmEval + vmFunctions],
    ["used_memory_vm_total_human", human(vmEval + vmFunctions)],
    ["used_memory_functions", functions],
    ["used_memory_scripts", scripts + functions],
    ["used_memory_scripts_human", human(scripts + functions)],
  ];
}
