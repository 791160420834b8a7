/**
 * What MIGRATE's arguments say before it runs: where its keys are (COMMAND GETKEYS, ACL), which
 * arguments are secret (MONITOR, SLOWLOG), and the RESP it writes to the target.
 *
 * @module
 */

import { strToBytes } from "../core/bytes.ts";

/** How many arguments each option takes after it, for the key search (Redis's migrateGetKeys). */
const SKIP: Record<string, number> = { copy: 0, replace: 0, auth: 1, auth2: 2 };

/**
 * Positions of MIGRATE's keys, found as Redis 7.0 finds them: its key specs first (the key
 * argument; a `KEYS` word searched backwards from the one-but-last argument), and when that
 * word is there (its spec is incomplete), the option scan of {@linkcode keysAfterOptions}.
 *
 * @param argv the command, its name first
 * @returns the key positions
 */
export function migrateKeyPositions(argv: string[]): number[] {
  for (let i = argv.length - 2; i >= 2; i--) {
    if (argv[i]!.toLowerCase() === "keys") return keysAfterOptions(argv);
  }
  return [3];
}

/**
 * Redis's migrateGetKeys: the key argument, or the arguments after KEYS when the key argument
 * is empty; none when KEYS follows a non-empty key (the command then fails on that).
 */
function keysAfterOptions(argv: string[]): number[] {
  let first = 3;
  let num = 1;
  for (let i = 6; i < argv.length; i++) {
    const opt = argv[i]!.toLowerCase();
    if (opt === "keys") {
      if (argv[3] !== "") num = 0;
      else {
        first = i + 1;
        num = argv.length - first;
      }
      break;
    }
    i += SKIP[opt] ?? 0;
  }
  const out: number[] = [];
  for (let i = 0; i < num; i++) out.push(first + i);
  return out;
}

/**
 * Positions of the secrets (AUTH's password, AUTH2's user name and password), as far as
 * MIGRATE's option parsing goes before it stops at KEYS or fails.
 *
 * @param argv the command, its name first
 * @returns the positions to show as `(redacted)`
 */
export function migrateSecrets(argv: string[]): number[] {
  const out: number[] = [];
  for (let j = 6; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    const more = argv.length - 1 - j;
    if (opt === "copy" || opt === "replace") continue;
    if (opt === "auth" && more >= 1) out.push(++j);
    else if (opt === "auth2" && more >= 2) out.push(++j, ++j);
    else break;
  }
  return out;
}

/**
 * One command as a RESP array of bulk strings.
 *
 * @param parts the command's arguments, as bytes
 * @returns the bytes to send
 */
export function encodeCommand(parts: Uint8Array[]): Uint8Array {
  const heads = parts.map((p) => strToBytes(`$${p.length}\r\n`));
  const first = strToBytes(`*${parts.length}\r\n`);
  let size = first.length;
  for (let i = 0; i < parts.length; i++) size += heads[i]!.length + parts[i]!.length + 2;
  const out = new Uint8Array(size);
  out.set(first, 0);
  let at = first.length;
  for (let i = 0; i < parts.length; i++) {
    out.set(heads[i]!, at);
    at += heads[i]!.length;
    out.set(parts[i]!, at);
    at += parts[i]!.length;
    out[at++] = 13;
    out[at++] = 10;
  }
  return out;
}
