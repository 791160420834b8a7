/**
 * Command-line flags of the benchmarks: the loop over them and the checked values they take.
 * Each benchmark keeps its own table of flags (a `switch` in the handler it passes).
 *
 * @module
 */

import type { Runtime } from "./options.ts";

/**
 * Calls `handle` with each flag and a function that takes the flag's value (the next argument).
 *
 * @param argv the arguments after the script name
 * @param handle what a flag does; throws RangeError for an unknown flag or a bad value
 * @returns false when `--help` (or `-h`) was given, true otherwise
 * @example
 * ```ts
 * import { readFlags } from "./flags.ts";
 * let rounds = 3;
 * readFlags(["--rounds", "5"], (flag, value) => {
 *   if (flag === "--rounds") rounds = Number(value());
 * });
 * console.log(rounds); // 5
 * ```
 */
export function readFlags(
  argv: string[],
  handle: (flag: string, value: () => string | undefined) => void,
): boolean {
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === "--help" || flag === "-h") return false;
    handle(flag, () => argv[++i]);
  }
  return true;
}

/**
 * A flag's integer value, at least `min`.
 *
 * @param flag the flag, for the error message
 * @param text its value
 * @param min the least value allowed (default 1)
 * @returns the number
 * @example
 * ```ts
 * import { positiveInt } from "./flags.ts";
 * console.log(positiveInt("--rounds", "5")); // 5
 * ```
 */
export function positiveInt(flag: string, text: string | undefined, min = 1): number {
  const n = Number(text);
  if (text === undefined || !Number.isInteger(n) || n < min) {
    throw new RangeError(`Invalid value for ${flag}: ${text ?? "(missing)"}`);
  }
  return n;
}

/**
 * A flag's comma-separated list, trimmed and lowercased, with at least one item.
 *
 * @param flag the flag, for the error message
 * @param text its value
 * @returns the items
 * @example
 * ```ts
 * import { commaList } from "./flags.ts";
 * console.log(commaList("--tests", "SET, get")); // ["set", "get"]
 * ```
 */
export function commaList(flag: string, text: string | undefined): string[] {
  const list = (text ?? "").split(",").map((t) => t.trim().toLowerCase()).filter((t) => t !== "");
  if (list.length === 0) throw new RangeError(`Invalid value for ${flag}: expected a,b,...`);
  return list;
}

/**
 * A runtime named by a flag: `deno` or `node`.
 *
 * @param flag the flag, for the error message
 * @param text its value
 * @returns the runtime
 * @example
 * ```ts
 * import { runtimeFlag } from "./flags.ts";
 * console.log(runtimeFlag("--runtime", "node")); // node
 * ```
 */
export function runtimeFlag(flag: string, text: string | undefined): Runtime {
  if (text !== "deno" && text !== "node") {
    throw new RangeError(`Invalid value for ${flag}: ${text ?? "(missing)"}`);
  }
  return text;
}
