/**
 * An ACL selector: the commands, key patterns and channel patterns one set of rules allows. A
 * user has a root selector (the rules outside parentheses) and any number of `(...)` selectors; a
 * command runs when one of them allows it all. The rules and their errors are Redis 7.0's
 * (ACLSetSelector in acl.c): commands are a set, as Redis's command bitmap, so that
 * `+@all -get` and `-@all +@read` mean what they do there.
 *
 * @module
 */

import type { Command } from "../command.ts";
import { globMatch } from "../glob.ts";
import { categoryBit } from "./categories.ts";
import { READ, WRITE } from "./key_access.ts";

/** A rule that cannot be applied; the message is Redis's (ACLSetUserStringError). */
export class AclRuleError extends Error {}

/** The error messages of Redis, by the errno it sets. */
export const RULE_ERRORS = {
  unknown: "Unknown command or category name in ACL",
  syntax: "Syntax error",
  keysAfterAll:
    "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
  channelsAfterAll:
    "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
  noSuchPassword: "The password you are trying to remove from the user does not exist",
  badHash:
    "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
  firstArgOfSub: "Allowing first-arg of a subcommand is not supported",
} as const;

/** The commands ACL rules name: Redis's original table (rename-command does not change it). */
export interface AclCommands {
  /** The command or subcommand called `name` (`get`, `config|get`, any case). */
  lookup(name: string): Command | undefined;
  /** Every command and subcommand, each container before its subcommands. */
  all(): readonly Command[];
}

/** A key pattern and the permissions it grants (READ, WRITE or both). */
export interface KeyPattern {
  pattern: string;
  perm: number;
}

/** True when `s` has a space or a NUL (refused in patterns and user names, as in Redis). */
export function hasSpaces(s: string): boolean {
  return /[\s\0\v]/.test(s);
}

/** One selector of a user. */
export class Selector {
  /** `allkeys`: every key. */
  allKeys = false;
  /** `allchannels`: every channel. */
  allChannels = false;
  /** Every command allowed with no exception since the last `+@all` (Redis's ALLCOMMANDS). */
  allCommands = false;
  /** `+@all` was the base: commands added later (plugins) are allowed (Redis's reserved bit). */
  future = false;
  /** The allowed commands (when not `allCommands`). */
  allowed: Set<Command> = new Set();
  /** Allowed first arguments of otherwise denied commands (`+select|0`). */
  firstArgs: Map<Command, string[]> | undefined;
  /** Key patterns, in the order given. */
  patterns: KeyPattern[] = [];
  /** Channel patterns, in the order given. */
  channels: string[] = [];

  /** A copy of this selector. */
  copy(): Selector {
    const s = new Selector();
    s.allKeys = this.allKeys;
    s.allChannels = this.allChannels;
    s.allCommands = this.allCommands;
    s.future = this.future;
    s.allowed = new Set(this.allowed);
    if (this.firstArgs !== undefined) {
      s.firstArgs = new Map([...this.firstArgs].map(([c, a]) => [c, [...a]]));
    }
    s.patterns = this.patterns.map((p) => ({ ...p }));
    s.channels = [...this.channels];
    return s;
  }

  /** True when the command's bit is set (or `allCommands` covers it). */
  has(cmd: Command): boolean {
    return this.allCommands || this.allowed.has(cmd);
  }

  /**
   * Applies one rule (`+get`, `~key:*`, `allchannels`...).
   *
   * @throws {AclRuleError} with Redis's message when the rule is not valid
   */
  apply(op: string, commands: AclCommands): void {
    // The default user's `+@all` may predate the commands (a server starts with none): its set
    // is completed before a rule takes one away.
    if (this.allCommands && this.allowed.size !== commands.all().length) {
      this.allowed = new Set(commands.all());
    }
    const lower = op.toLowerCase();
    if (lower === "allkeys" || op === "~*") {
      this.allKeys = true;
      this.patterns = [];
    } else if (lower === "resetkeys") {
      this.allKeys = false;
      this.patterns = [];
    } else if (lower === "allchannels" || op === "&*") {
      this.allChannels = true;
      this.channels = [];
    } else if (lower === "resetchannels") {
      this.allChannels = false;
      this.channels = [];
    } else if (lower === "allcommands" || lower === "+@all") {
      this.allCommands = true;
      this.future = true;
      this.allowed = new Set(commands.all());
      this.firstArgs = undefined;
    } else if (lower === "nocommands" || lower === "-@all") {
      this.allCommands = false;
      this.future = false;
      this.allowed = new Set();
      this.firstArgs = undefined;
    } else if (op[0] === "~" || op[0] === "%") {
      this.addKeyPattern(op);
    } else if (op[0] === "&") {
      if (this.allChannels) throw new AclRuleError(RULE_ERRORS.channelsAfterAll);
      const pattern = op.slice(1);
      if (hasSpaces(pattern)) throw new AclRuleError(RULE_ERRORS.syntax);
      if (!this.channels.includes(pattern)) this.channels.push(pattern);
      this.allChannels = false;
    } else if (op[0] === "+" && op[1] !== "@") {
      this.allowCommand(op.slice(1), commands);
    } else if (op[0] === "-" && op[1] !== "@") {
      const cmd = commands.lookup(op.slice(1));
      if (cmd === undefined) throw new AclRuleError(RULE_ERRORS.unknown);
      this.change(cmd, false);
    } else if ((op[0] === "+" || op[0] === "-") && op[1] === "@") {
      const bit = categoryBit(op.slice(2));
      if (bit === 0) throw new AclRuleError(RULE_ERRORS.unknown);
      this.changeCategory(bit, op[0] === "+", commands);
    } else {
      throw new AclRuleError(RULE_ERRORS.syntax);
    }
  }

  private addKeyPattern(op: string): void {
    if (this.allKeys) throw new AclRuleError(RULE_ERRORS.keysAfterAll);
    let perm = 0;
    let offset = 1;
    if (op[0] === "%") {
      for (; offset < op.length; offset++) {
        const c = op[offset]!.toUpperCase();
        if (c === "R" && (perm & READ) === 0) perm |= READ;
        else if (c === "W" && (perm & WRITE) === 0) perm |= WRITE;
        else if (op[offset] === "~") {
          offset++;
          break;
        } else throw new AclRuleError(RULE_ERRORS.syntax);
      }
    } else {
      perm = READ | WRITE;
    }
    const pattern = op.slice(offset);
    if (hasSpaces(pattern)) throw new AclRuleError(RULE_ERRORS.syntax);
    const old = this.patterns.find((p) => p.pattern === pattern);
    if (old !== undefined) old.perm |= perm;
    else this.patterns.push({ pattern, perm });
    this.allKeys = false;
  }

  /** `+cmd`, `+cmd|sub` (a subcommand) or `+cmd|arg` (a first argument of a plain command). */
  private allowCommand(name: string, commands: AclCommands): void {
    const bar = name.lastIndexOf("|");
    if (bar < 0) {
      const cmd = commands.lookup(name);
      if (cmd === undefined) throw new AclRuleError(RULE_ERRORS.unknown);
      this.change(cmd, true);
      return;
    }
    const cmd = commands.lookup(name.slice(0, bar));
    const sub = name.slice(bar + 1);
    if (cmd === undefined) throw new AclRuleError(RULE_ERRORS.unknown);
    if (cmd.parent !== undefined) throw new AclRuleError(RULE_ERRORS.firstArgOfSub);
    if (sub === "") throw new AclRuleError(RULE_ERRORS.syntax);
    if (cmd.subcommands !== undefined) {
      const subcmd = commands.lookup(name);
      if (subcmd === undefined) throw new AclRuleError(RULE_ERRORS.unknown);
      this.change(subcmd, true);
      return;
    }
    this.firstArgs ??= new Map();
    const args = this.firstArgs.get(cmd) ?? [];
    if (!args.some((a) => a.toLowerCase() === sub.toLowerCase())) args.push(sub);
    this.firstArgs.set(cmd, args);
  }

  /** Allows or denies a command, and a container's subcommands with it. */
  change(cmd: Command, allow: boolean): void {
    this.setBit(cmd, allow);
    this.firstArgs?.delete(cmd);
    if (cmd.subcommands !== undefined) {
      for (const sub of cmd.subcommands.values()) this.setBit(sub, allow);
    }
  }

  private setBit(cmd: Command, allow: boolean): void {
    if (allow) {
      this.allowed.add(cmd);
    } else {
      this.allowed.delete(cmd);
      this.allCommands = false;
    }
  }

  /** `+@category` / `-@category`: every command of the category (a container: its subcommands). */
  changeCategory(bit: number, allow: boolean, commands: AclCommands): void {
    for (const cmd of commands.all()) if ((cmd.categories & bit) !== 0) this.change(cmd, allow);
  }

  /** True when a key named `key`, needing `perm`, matches one of the patterns. */
  keyAllowed(key: string, perm: number): boolean {
    if (this.allKeys) return true;
    for (const p of this.patterns) {
      if ((p.perm & perm) !== perm) continue;
      if (globMatch(p.pattern, key)) return true;
    }
    return false;
  }

  /**
   * True when `channel` is allowed; a pattern (PSUBSCRIBE) must equal one of the patterns, a
   * channel must match one.
   */
  channelAllowed(channel: string, isPattern: boolean): boolean {
    if (this.allChannels) return true;
    for (const p of this.channels) {
      if (isPattern ? p === channel : globMatch(p, channel)) return true;
    }
    return false;
  }

  /** True when the selector has `perm` on every key (`~*`, `%R~*`...). */
  allKeysWith(perm: number): boolean {
    return this.allKeys || this.patterns.some((p) => (p.perm & perm) === perm && p.pattern === "*");
  }
}
