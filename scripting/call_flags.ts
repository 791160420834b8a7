/**
 * The flags of one EVAL or FCALL call, after Redis 7.0's evalGetCommandFlags and
 * scriptFlagsToCmdFlags: a script that declares its flags (a shebang, a function's flags) stands
 * for the command's `write`, `denyoom`, `stale` and `may_replicate`; a script without a shebang,
 * or one not known yet by SHA, leaves the command's own flags.
 *
 * @module
 */

import type { Client } from "../core/client.ts";
import type { CommandFlag } from "../core/command.ts";
import { scriptingOf, SF } from "./engine.ts";
import { librariesOf } from "./functions.ts";

/** The command flags a script's declared flags give `base` (the command's own flags). */
export function scriptCallFlags(
  base: readonly CommandFlag[],
  scriptFlags: number,
): readonly CommandFlag[] | undefined {
  if ((scriptFlags & SF.evalCompat) !== 0) return undefined;
  const out: CommandFlag[] = base.filter((f) =>
    f !== "stale" && f !== "denyoom" && f !== "write" && f !== "may_replicate"
  );
  if ((scriptFlags & (SF.allowOom | SF.noWrites)) === 0) out.push("denyoom");
  if ((scriptFlags & SF.noWrites) === 0) out.push("write");
  if ((scriptFlags & SF.allowStale) !== 0) out.push("stale");
  return out;
}

/**
 * EVAL's and EVALSHA's flags for this call: the cached script's, or for EVAL of a script not
 * cached yet its shebang's (`parse` reads it; it throws on a bad shebang).
 */
export function evalCallFlags(
  base: readonly CommandFlag[],
  client: Client,
  argv: string[],
  evalsha: boolean,
  parse: (body: string) => { flags: number },
): readonly CommandFlag[] | undefined {
  const engine = scriptingOf(client.server);
  const text = argv[1]!;
  if (evalsha && text.length !== 40) return undefined;
  const script = engine.scripts.get(evalsha ? text.toLowerCase() : engine.vm.sha1hex(text));
  if (script !== undefined) return scriptCallFlags(base, script.flags);
  if (evalsha) return undefined;
  try {
    return scriptCallFlags(base, parse(text).flags);
  } catch {
    return undefined;
  }
}

/** FCALL's flags for this call: the function's declared flags, when it exists. */
export function fcallCallFlags(
  base: readonly CommandFlag[],
  client: Client,
  argv: string[],
): readonly CommandFlag[] | undefined {
  const fn = librariesOf(client.server).functions.get(argv[1]!.toLowerCase());
  return fn === undefined ? undefined : scriptCallFlags(base, fn.flags);
}
