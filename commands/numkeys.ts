/**
 * The `numkeys key [key ...]` argument forms (LMPOP, BLMPOP, ZMPOP, BZMPOP, ZUNION & co.): their
 * key positions for COMMAND GETKEYS, and the shared parsing of the *MPOP commands.
 *
 * @module
 */

import { parseInteger } from "../core/bytes.ts";
import { E, fail } from "../core/resp/reply.ts";

/**
 * Key positions of `numkeys key [key ...]` with numkeys at `argv[at]`, after the fixed
 * positions in `extra` (a STORE destination), or Redis's error when numkeys does not fit.
 */
export function numkeysPositions(argv: string[], at: number, extra: number[] = []): number[] {
  const n = at < argv.length ? parseInteger(argv[at]!) : undefined;
  if (n === undefined || n < 1 || at + n >= argv.length) {
    return fail("ERR Invalid arguments specified for command");
  }
  const out = extra.slice();
  for (let i = 0; i < n; i++) out.push(at + 1 + i);
  return out;
}

/** A positive int64 argument; `error` otherwise. */
export function positiveCountArg(arg: string, error: string): number {
  const n = parseInteger(arg);
  return n === undefined || n < 1 ? fail(error) : n;
}

/**
 * Parses `numkeys key [key ...] <A | B> [COUNT count]` from `argv[at]` on, the shape of LMPOP
 * (`LEFT | RIGHT`) and ZMPOP (`MIN | MAX`), with Redis's checks and error texts.
 *
 * @param ends the two words accepted for the end, uppercase; `first` is true for the first one
 * @returns the keys, which end, and the count (1 when not given)
 */
export function parseMultiPop(
  argv: string[],
  at: number,
  ends: readonly [string, string],
): { keys: string[]; first: boolean; count: number } {
  const numkeys = positiveCountArg(argv[at]!, "ERR numkeys should be greater than 0");
  const whereAt = at + numkeys + 1;
  if (whereAt >= argv.length) return fail(E.syntax);
  const where = argv[whereAt]!.toUpperCase();
  if (where !== ends[0] && where !== ends[1]) return fail(E.syntax);
  let count = -1;
  for (let j = whereAt + 1; j < argv.length; j++) {
    if (count === -1 && argv[j]!.toUpperCase() === "COUNT" && j + 1 < argv.length) {
      count = positiveCountArg(argv[++j]!, "ERR count should be greater than 0");
    } else {
      return fail(E.syntax);
    }
  }
  return {
    keys: argv.slice(at + 1, whereAt),
    first: where === ends[0],
    count: count < 0 ? 1 : count,
  };
}
