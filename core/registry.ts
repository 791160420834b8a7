/**
 * The command registry: the one place a command is known. Names are checked when registered
 * (lowercase, not taken, a handler or subcommands), and argv is resolved to a command or
 * subcommand with Redis's unknown-command, unknown-subcommand and arity errors.
 *
 * @module
 */

import { Command, type CommandSpec } from "./command.ts";
import { E } from "./resp/reply.ts";
import { bigArg } from "./types/big_string.ts";

/** Registered commands by lowercase name. */
export class CommandRegistry {
  private readonly byName = new Map<string, Command>();
  /** Commands by their own names, whatever rename-command did (ACL rules name these). */
  private readonly orig = new Map<string, Command>();
  /** Lookups by the exact spelling clients send (`GET`, `get`), to skip lowercasing. */
  private readonly cache = new Map<string, Command>();
  /**
   * The last name looked up and its command: pipelines repeat a command, and the parser hands
   * the same name string again (core/resp/parser.ts), so `===` is a pointer comparison.
   */
  private lastName = "";
  private lastCmd: Command | undefined;

  /** Registers a command; throws when the name is taken or malformed. */
  register(spec: CommandSpec): Command {
    const name = spec.name.toLowerCase();
    if (name !== spec.name) throw new TypeError(`Command names must be lowercase: ${spec.name}`);
    if (this.byName.has(name)) throw new Error(`Command already registered: ${name}`);
    if (!spec.execute && !spec.subcommands) throw new TypeError(`Command has no handler: ${name}`);
    const cmd = new Command(spec);
    this.byName.set(name, cmd);
    this.orig.set(name, cmd);
    owners.set(cmd, this);
    return cmd;
  }

  /**
   * `rename-command from to`: the command answers to `to` instead (an empty `to` removes it).
   * As in Redis, only the lookup changes: COMMAND INFO, COMMAND LIST and error texts keep the
   * command's own name.
   *
   * @param from the current name (any case)
   * @param to the new name, or "" to disable the command
   * @throws {RangeError} with Redis's config error text when `from` is unknown or `to` is taken
   */
  rename(from: string, to: string): void {
    const key = from.toLowerCase();
    const cmd = this.byName.get(key);
    if (cmd === undefined) throw new RangeError("No such command in rename-command");
    const target = to.toLowerCase();
    if (target !== "" && target !== key && this.byName.has(target)) {
      throw new RangeError("Target command name already exists");
    }
    this.byName.delete(key);
    if (target !== "") this.byName.set(target, cmd);
    this.cache.clear();
    this.lastName = "";
    this.lastCmd = undefined;
  }

  /** The command called `name` (any case), if any. */
  command(name: string): Command | undefined {
    if (name === this.lastName) return this.lastCmd;
    const hit = this.cache.get(name);
    if (hit !== undefined) {
      this.lastName = name;
      this.lastCmd = hit;
      return hit;
    }
    const cmd = this.byName.get(name.toLowerCase());
    if (cmd !== undefined && this.cache.size < 4096) this.cache.set(name, cmd);
    return cmd;
  }

  /** How many commands were registered (renames do not change it). */
  get count(): number {
    return this.orig.size;
  }

  /**
   * The command or subcommand called `name` in the original table (`get`, `config|get`, any
   * case), as ACL rules name commands: rename-command does not change it.
   */
  original(name: string): Command | undefined {
    const lower = name.toLowerCase();
    const bar = lower.indexOf("|");
    if (bar < 0) return this.orig.get(lower);
    const cmd = this.orig.get(lower.slice(0, bar));
    const sub = lower.slice(bar + 1);
    return sub.includes("|") ? undefined : cmd?.subcommands?.get(sub);
  }

  /** Every registered command by its own name, in registration order. */
  originals(): IterableIterator<Command> {
    return this.orig.values();
  }

  /** Every top-level command. */
  all(): IterableIterator<Command> {
    return this.byName.values();
  }

  /**
   * The command (or subcommand) argv names, whatever its arity: the one a refused call counts
   * against, as Redis counts an arity error in the command's `rejected_calls`.
   */
  named(argv: string[]): Command | undefined {
    const cmd = this.command(argv[0]!);
    if (cmd?.subcommands === undefined || argv.length < 2) return cmd;
    return cmd.subcommands.get(argv[1]!.toLowerCase());
  }

  /** Looks up argv's command (and subcommand) or returns Redis's error text. */
  resolve(argv: string[]): Command | string {
    const cmd = this.command(argv[0]!);
    if (cmd === undefined) return unknownCommand(argv);
    if (cmd.subcommands !== undefined) {
      // COMMAND alone is a command of its own; CONFIG alone is an arity error.
      if (argv.length < 2) return cmd.execute ? cmd : E.wrongArgs(cmd.name);
      const sub = cmd.subcommands.get(argv[1]!.toLowerCase());
      if (sub === undefined) {
        return `ERR unknown subcommand '${
          argv[1]!.slice(0, 128)
        }'. Try ${cmd.name.toUpperCase()} HELP.`
          .replace(/[\r\n]/g, " ");
      }
      return sub.arityOk(argv.length) ? sub : E.wrongArgs(sub.fullName);
    }
    return cmd.arityOk(argv.length) ? cmd : E.wrongArgs(cmd.name);
  }
}

/** The registry each command was registered in, so a server's commands can be renamed. */
const owners = new WeakMap<Command, CommandRegistry>();

/**
 * The registry holding `cmd` (the one `server.registerCommand` put it in).
 *
 * @param cmd a registered command, e.g. from `server.command("get")`
 * @returns its registry
 * @example
 * ```ts
 * import { createServer } from "../mod.ts";
 * import { registryOf } from "./registry.ts";
 * const server = createServer();
 * registryOf(server.command("flushall")!).rename("flushall", ""); // FLUSHALL disabled
 * ```
 */
export function registryOf(cmd: Command): CommandRegistry {
  const registry = owners.get(cmd);
  if (registry === undefined) throw new RangeError(`Command is not registered: ${cmd.name}`);
  return registry;
}

/** Redis's unknown-command error, quoting up to 128 bytes of arguments. */
function unknownCommand(argv: string[]): string {
  let args = "";
  for (let i = 1; i < argv.length && args.length < 128; i++) {
    const a = bigArg(argv, i)?.slice(0, 128) ?? argv[i]!;
    args += `'${a.slice(0, 128 - args.length)}' `;
  }
  return `ERR unknown command '${argv[0]!.slice(0, 128)}', with args beginning with: ${args}`
    .replace(/[\r\n]/g, " ");
}
