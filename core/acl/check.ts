/**
 * The ACL check of one command (ACLCheckAllUserCommandPerm in acl.c): the command is allowed when
 * one of the user's selectors allows its name (or its first argument), every key it names with
 * the access it needs, and every channel it publishes or subscribes to. When none does, the
 * reason reported is the most specific one: a channel over a key over the command, and of
 * equal reasons the one found furthest in argv.
 *
 * @module
 */

import { type Command, F } from "../command.ts";
import { ErrorReply } from "../resp/reply.ts";
import { keyNeeds, NOT_KEYS } from "./key_access.ts";
import type { Selector } from "./selector.ts";
import type { User } from "./user.ts";

/** Outcome of a check, with Redis's values (ACL_OK, ACL_DENIED_*). */
export const AclResult = {
  ok: 0,
  command: 1,
  key: 2,
  auth: 3,
  channel: 4,
} as const;

/** A refusal: its reason and the argv position of the key or channel refused. */
export interface AclDenial {
  reason: number;
  pos: number;
}

/** The keys of one command, computed once for all selectors. */
interface KeyCache {
  positions: number[] | undefined;
  needs: number[] | undefined;
}

/** Channel arguments of pub/sub commands: where they start, and whether they are patterns. */
function channelArgs(cmd: Command): { from: number; to: number; pattern: boolean } | undefined {
  switch (cmd.fullName) {
    case "publish":
    case "spublish":
      return { from: 1, to: 1, pattern: false };
    case "subscribe":
    case "ssubscribe":
      return { from: 1, to: -1, pattern: false };
    case "psubscribe":
      return { from: 1, to: -1, pattern: true };
  }
  return undefined;
}

/**
 * The key positions, or none when the arguments do not fit the command's key spec (`EVAL s -1`):
 * Redis's ACL check then finds no keys and leaves the error to the command itself.
 */
function keyPositionsOrNone(cmd: Command, argv: string[]): number[] {
  try {
    return cmd.keyPositions(argv);
  } catch (e) {
    if (e instanceof ErrorReply) return [];
    throw e;
  }
}

function checkSelector(
  sel: Selector,
  cmd: Command,
  argv: string[],
  cache: KeyCache,
): AclDenial | undefined {
  if (!sel.allCommands && (cmd.bits & F.noAuth) === 0 && !sel.allowed.has(cmd)) {
    const args = sel.firstArgs?.get(cmd);
    const first = argv[cmd.parent !== undefined ? 2 : 1];
    if (args === undefined || first === undefined) return { reason: AclResult.command, pos: 0 };
    const lower = first.toLowerCase();
    if (!args.some((a) => a.toLowerCase() === lower)) return { reason: AclResult.command, pos: 0 };
  }
  if (!sel.allKeys && !NOT_KEYS.has(cmd.fullName)) {
    cache.positions ??= keyPositionsOrNone(cmd, argv);
    const positions = cache.positions;
    if (positions.length !== 0) {
      cache.needs ??= keyNeeds(cmd, argv, positions);
      for (let i = 0; i < positions.length; i++) {
        const pos = positions[i]!;
        if (!sel.keyAllowed(argv[pos]!, cache.needs[i]!)) return { reason: AclResult.key, pos };
      }
    }
  }
  if (!sel.allChannels) {
    const ch = channelArgs(cmd);
    if (ch !== undefined) {
      const to = ch.to < 0 ? argv.length - 1 : ch.to;
      for (let pos = ch.from; pos <= to && pos < argv.length; pos++) {
        if (!sel.channelAllowed(argv[pos]!, ch.pattern)) {
          return { reason: AclResult.channel, pos };
        }
      }
    }
  }
  return undefined;
}

/**
 * Checks `argv` (resolved to `cmd`) against the user's rules.
 *
 * @param user the user
 * @param cmd the command or subcommand
 * @param argv the arguments, the command name first
 * @returns undefined when allowed, else the reason and position
 */
export function checkCommand(user: User, cmd: Command, argv: string[]): AclDenial | undefined {
  if (user.unrestricted) return undefined;
  const cache: KeyCache = { positions: undefined, needs: undefined };
  let worst: AclDenial = { reason: AclResult.command, pos: 0 };
  for (const sel of user.selectors) {
    const d = checkSelector(sel, cmd, argv, cache);
    if (d === undefined) return undefined;
    if (d.reason > worst.reason || (d.reason === worst.reason && d.pos > worst.pos)) worst = d;
  }
  return worst;
}

/**
 * True when one of the user's selectors allows the command and grants `perm` (READ/WRITE) on
 * every key (ACLUserCheckCmdWithUnrestrictedKeyAccess in acl.c).
 */
export function unrestrictedKeyAccess(
  user: User,
  cmd: Command,
  argv: string[],
  perm: number,
): boolean {
  const cache: KeyCache = { positions: undefined, needs: undefined };
  return user.selectors.some((s) =>
    checkSelector(s, cmd, argv, cache) === undefined && s.allKeysWith(perm)
  );
}

/** True when the user has `perm` (READ/WRITE) on the key `key` in one of its selectors. */
export function keyAllowed(user: User, key: string, perm: number): boolean {
  return user.selectors.some((s) => s.keyAllowed(key, perm));
}

/** True when the user may use `channel` (a pattern when `isPattern`) in one of its selectors. */
export function channelAllowed(user: User, channel: string, isPattern: boolean): boolean {
  return user.selectors.some((s) => s.channelAllowed(channel, isPattern));
}

/**
 * Redis 7.2's text for a denial (getAclErrorMessage in acl.c): the user and the command by name;
 * `arg`, when given (ACL DRYRUN), names the key or channel refused.
 */
export function aclErrorMessage(d: AclDenial, user: User, cmd: Command, arg?: string): string {
  if (d.reason === AclResult.command) {
    return `User ${user.name} has no permissions to run the '${cmd.fullName}' command`;
  }
  const what = d.reason === AclResult.key ? "key" : "channel";
  if (arg !== undefined) {
    return `User ${user.name} has no permissions to access the '${arg}' ${what}`;
  }
  return `No permissions to access a ${what}`;
}

/**
 * The `-NOPERM` text of a refused command (processCommand in server.c): 7.2's, or with `v72`
 * false Redis 7.0's.
 */
export function nopermMessage(d: AclDenial, user: User, cmd: Command, v72: boolean): string {
  if (v72) return `NOPERM ${aclErrorMessage(d, user, cmd)}`;
  switch (d.reason) {
    case AclResult.command:
      return `NOPERM this user has no permissions to run the '${cmd.fullName}' command`;
    case AclResult.key:
      return "NOPERM this user has no permissions to access one of the keys used as arguments";
    default:
      return "NOPERM this user has no permissions to access one of the channels used as arguments";
  }
}

/**
 * What a script is told of a refused call (scriptVerifyACL in script.c), after `ERR `: 7.2's, or
 * with `v72` false Redis 7.0's.
 */
export function scriptDenialText(d: AclDenial, user: User, cmd: Command, v72: boolean): string {
  if (v72) return `ACL failure in script: ${aclErrorMessage(d, user, cmd)}`;
  switch (d.reason) {
    case AclResult.command:
      return "The user executing the script can't run this command or subcommand";
    case AclResult.key:
      return "The user executing the script can't access at least one of the keys mentioned in " +
        "the command arguments";
    default:
      return "The user executing the script can't publish to the channel mentioned in the command";
  }
}

/** The reason EXEC gives for a queued command no longer allowed (execCommand in multi.c). */
export function execDenialText(d: AclDenial): string {
  const why = d.reason === AclResult.command
    ? "no permission to execute the command or subcommand"
    : d.reason === AclResult.key
    ? "no permission to touch the specified keys"
    : "no permission to access one of the channels used as arguments";
  return "NOPERM ACLs rules changed between the moment the transaction was accumulated and the " +
    `EXEC call. This command is no longer allowed for the following reason: ${why}`;
}
