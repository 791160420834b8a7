/**
 * Redaction of secrets in what the server shows of a command (MONITOR, SLOWLOG), as Redis's
 * `redactClientCommandArgument`: a command names the positions of its secret arguments with
 * `CommandSpec.redact`, and those arguments are shown as `(redacted)`. The positions follow
 * what the handler would parse (AUTH's password, HELLO's AUTH pair, CONFIG SET's values of
 * sensitive directives); a command a plugin adds opts in the same way.
 *
 * @module
 */

import type { Client } from "./client.ts";
import type { Command } from "./command.ts";

/** What a redacted argument is shown as. */
export const REDACTED = "(redacted)";

/**
 * `argv` as MONITOR and SLOWLOG show it: the positions `cmd` marks as secret replaced.
 *
 * @param cmd the resolved command (a subcommand's own marks, else its container's)
 * @param argv the arguments it ran with
 * @param client who ran it
 * @returns argv itself when nothing is secret, else a copy with the secrets replaced
 */
export function redactedArgv(cmd: Command, argv: string[], client: Client): string[] {
  const redact = cmd.spec.redact ?? cmd.parent?.spec.redact;
  if (redact === undefined) return argv;
  const positions = redact(argv, client);
  if (positions.length === 0) return argv;
  const out = argv.slice();
  for (const p of positions) if (p > 0 && p < out.length) out[p] = REDACTED;
  return out;
}

/** Every argument from `first` on (ACL SETUSER hides even the user name). */
export function redactFrom(first: number): (argv: string[]) => number[] {
  return (argv) => {
    const out: number[] = [];
    for (let i = first; i < argv.length; i++) out.push(i);
    return out;
  };
}

/** AUTH [username] password: both, unless the form is wrong (then nothing is parsed). */
export function redactAuth(argv: string[]): number[] {
  if (argv.length > 3) return [];
  return argv.length === 3 ? [1, 2] : [1];
}

/**
 * HELLO [protover [AUTH username password] [SETNAME clientname]]: the AUTH pairs met before the
 * options stop parsing (a bad protocol version, an unknown option, a bad name).
 */
export function redactHello(argv: string[]): number[] {
  const out: number[] = [];
  if (argv.length < 2) return out;
  const v = argv[1]!;
  if (!/^-?\d+$/.test(v) || Number(v) < 2 || Number(v) > 3) return out;
  for (let i = 2; i < argv.length; i++) {
    const opt = argv[i]!.toUpperCase();
    const left = argv.length - i - 1;
    if (opt === "AUTH" && left >= 2) {
      out.push(i + 1, i + 2);
      i += 2;
    } else if (opt === "SETNAME" && left >= 1 && /^[!-~]*$/.test(argv[i + 1]!)) {
      i++;
    } else {
      break;
    }
  }
  return out;
}
