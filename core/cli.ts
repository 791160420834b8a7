/**
 * Command-line and redis.conf parsing, like `redis-server [config-file] [--name value ...]`:
 * every `--name` starts a directive line, the words after it are its arguments, and the lines
 * from the file come first. Unknown directives and bad values stop startup with Redis's
 * "FATAL CONFIG FILE ERROR" report naming the line.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { Config, ConfigError, type ConfigParam } from "./config.ts";
import { DEPRECATED_DIRECTIVES } from "./config_defs.ts";
import { registryOf } from "./registry.ts";
import { checkUserDirective } from "./acl/file.ts";
import { splitArgs } from "./resp/parser.ts";
import type { Server } from "./server.ts";
import { REDENO_VERSION, REDIS_COMPAT_VERSION } from "./version.ts";

/** Parsed startup configuration, or the error report to print. */
export interface CommandLine {
  /** Directive name to its argument words, in order of appearance (later ones win). */
  config: Record<string, string[]>;
  /** The fatal error report, when the configuration is unusable. */
  error?: string;
  /** The config file given on the command line, if any. */
  configFile?: string;
  /** `rename-command` lines, applied once every command (plugins' too) is registered. */
  renames?: RenameLine[];
  /** Directives set by the configuration that redeno accepts but does not act on. */
  ignored?: string[];
  /** `user` lines (the words after `user`), created once every command is registered. */
  users?: string[][];
}

/** One `rename-command from to` line, kept with its place for the error report. */
export interface RenameLine {
  from: string;
  to: string;
  lineNo: number;
  line: string;
}

/** Reads an `include`d file as lines; throws when it cannot. */
export type IncludeReader = (path: string) => string[];

/** What else a configuration may hold besides Redis's directives. */
export interface ParseOptions {
  /** Reads the file of an `include` line (without it, `include` is refused). */
  include?: IncludeReader;
  /** Plugins' directives (`Plugin.config`), accepted like the built-in ones. */
  params?: ConfigParam[];
}

function fatal(lineNo: number, line: string, why: string): string {
  return [
    "",
    `*** FATAL CONFIG FILE ERROR (Redis ${REDIS_COMPAT_VERSION}) ***`,
    `Reading the configuration file, at line ${lineNo}`,
    `>>> '${line}'`,
    why,
  ].join("\n");
}

/**
 * Turns `--port 6380 --save "" --bind 127.0.0.1 ::1` into config lines as redis-server 7.0 does:
 * the argument right after an option name alone is its value even when it starts with `--`
 * (`--port --bla` sets port to `--bla`); an option may carry its value (`"--maxmemory 700mb"`);
 * `--save` with no value means `save ""`; values are quoted, so an error shows them as Redis
 * does (`port "6379" "6380"`).
 */
export function argsToLines(args: string[]): string[] {
  const lines: string[] = [];
  let cur: string | undefined;
  let wantsValue = false;
  for (let j = 0; j < args.length; j++) {
    const a = args[j]!;
    if (!wantsValue && a.startsWith("--")) {
      if (cur !== undefined) lines.push(cur.trim());
      cur = a.slice(2) + " ";
      wantsValue = (splitArgs(a) ?? []).length === 1;
      const next = args[j + 1];
      if (
        wantsValue && a.toLowerCase() === "--save" && (next === undefined || next.startsWith("--"))
      ) {
        cur += '""';
        wantsValue = false;
      }
    } else {
      cur = (cur ?? "") + quoted(a) + " ";
      wantsValue = false;
    }
  }
  if (cur !== undefined) lines.push(cur.trim());
  return lines;
}

/** `s` in double quotes with Redis's escapes (sdscatrepr) for quotes and control bytes. */
function quoted(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const c = s.charCodeAt(i);
    if (ch === "\\" || ch === '"') out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    // Text past ASCII stays as it is, as a config file's text (read as UTF-8) does.
    else if (c < 32 || c === 127) out += "\\x" + c.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + '"';
}

/**
 * Parses config text lines and validates them against the config table.
 *
 * @param lines directive lines (comments and blank lines allowed)
 * @param options `include` reader and plugins' directives
 * @returns the directives, or the fatal error
 * @example
 * ```ts
 * import { parseConfigLines } from "./cli.ts";
 * parseConfigLines(["port 6380", "rename-command flushall \"\""]).renames; // [{ from: "flushall", ... }]
 * ```
 */
export function parseConfigLines(lines: string[], options: ParseOptions = {}): CommandLine {
  const check = new Config();
  for (const param of options.params ?? []) check.define(param);
  const state: ParseState = {
    config: {},
    check,
    renames: [],
    users: [],
    ignored: new Set(),
    include: options.include,
    depth: 0,
  };
  const error = parseInto(state, lines);
  const out: CommandLine = {
    config: state.config,
    renames: state.renames,
    ignored: [...state.ignored],
    users: state.users,
  };
  return error === undefined ? out : { ...out, error };
}

interface ParseState {
  config: Record<string, string[]>;
  check: Config;
  renames: RenameLine[];
  users: string[][];
  ignored: Set<string>;
  include: IncludeReader | undefined;
  depth: number;
}

/** Redis's special directives, which are not config table entries (loadServerConfigFromString). */
function special(
  state: ParseState,
  words: string[],
  lineNo: number,
  raw: string,
): string | undefined | null {
  const name = words[0]!.toLowerCase();
  const argc = words.length;
  if (name === "rename-command" && argc === 3) {
    state.renames.push({ from: words[1]!, to: words[2]!, lineNo, line: raw });
    return undefined;
  }
  if (name === "user" && argc >= 2) {
    if (state.users.some((u) => u[0] === words[1])) {
      return `Error in user declaration '${
        words[1]
      }': Duplicate user found. A user can only be defined once in config files`;
    }
    const err = checkUserDirective(words.slice(1));
    if (err !== undefined) return err;
    state.users.push(words.slice(1));
    return undefined;
  }
  // Refused rather than ignored: a module's commands would be missing (Redis too stops when a
  // module cannot load).
  if (name === "loadmodule" && argc >= 2) {
    return `Module ${words[1]} failed to load: redeno cannot load Redis modules`;
  }
  if (name === "sentinel" && argc !== 1) return "sentinel directive while not in sentinel mode";
  if (DEPRECATED_DIRECTIVES.includes(name) && argc === 2) {
    state.ignored.add(name);
    return undefined;
  }
  return null;
}

/** `include path`: the file's lines are read in place, reported against their own line numbers. */
function includeFile(state: ParseState, path: string): string | undefined {
  if (state.depth > 16) return `Fatal error, too many nested includes at '${path}'`;
  let lines: string[];
  try {
    lines = state.include!(path);
  } catch (e) {
    return `Fatal error, can't open config file '${path}': ${(e as Error).message}`;
  }
  state.depth++;
  try {
    return parseInto(state, lines);
  } finally {
    state.depth--;
  }
}

/** Parses `lines` into `state`; returns the fatal report, if any. */
function parseInto(state: ParseState, lines: string[]): string | undefined {
  const { config, check } = state;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === "" || raw.startsWith("#")) continue;
    const words = splitArgs(raw);
    if (words === undefined) return fatal(i + 1, raw, "Unbalanced quotes in configuration line");
    if (words.length === 0) continue;
    const name = words[0]!.toLowerCase();
    const def = check.def(name);
    if (name === "include" && words.length === 2 && state.include !== undefined) {
      const report = includeFile(state, words[1]!);
      if (report !== undefined) return report;
      continue;
    }
    if (!def) {
      const why = special(state, words, i + 1, raw);
      if (why === undefined) continue;
      return fatal(i + 1, raw, why ?? "Bad directive or wrong number of arguments");
    }
    if (!def.multiArg && words.length !== 2) return fatal(i + 1, raw, "wrong number of arguments");
    const args = words.slice(1);
    try {
      // "save" lines accumulate in a file; elsewhere the last one wins.
      const prev = config[def.name];
      const merged = def.name === "save" && prev && prev.join("") !== "" && args.join("") !== ""
        ? [...prev, ...args]
        : args;
      check.setMany([[def.name, merged]], true);
      config[def.name] = merged;
      if (def.inert) state.ignored.add(def.name);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      const why = e.message.replace(
        /^CONFIG SET failed \(possibly related to argument '[^']*'\) - /,
        "",
      );
      return fatal(i + 1, raw, why);
    }
  }
  return undefined;
}

/**
 * Applies the `rename-command` lines to a server whose commands (plugins' too) are registered.
 *
 * @param server the server
 * @param renames the lines, in order
 * @returns the fatal report for the first line that cannot be applied, if any
 * @example
 * ```ts
 * import { createServer } from "../mod.ts";
 * import { applyRenames, parseConfigLines } from "./cli.ts";
 * const server = createServer();
 * applyRenames(server, parseConfigLines(["rename-command config cfg"]).renames ?? []); // undefined
 * ```
 */
export function applyRenames(server: Server, renames: RenameLine[]): string | undefined {
  for (const r of renames) {
    const cmd = server.command(r.from);
    try {
      if (cmd === undefined) throw new RangeError("No such command in rename-command");
      registryOf(cmd).rename(r.from, r.to);
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      return fatal(r.lineNo, r.line, e.message);
    }
  }
  return undefined;
}

/** What the first argument asks for instead of a server: `-h`/`--help`, `-v`/`--version`. */
export function specialAction(args: string[]): "help" | "version" | undefined {
  const first = args[0];
  if (first === "-v" || first === "--version") return "version";
  if (first === "-h" || first === "--help") return "help";
  return undefined;
}

/**
 * The `--version` line: redeno's version, the Redis version it answers as, and the runtime.
 *
 * @param runtime e.g. `deno 2.9.6` or `node 20.19.0`
 * @returns one line
 * @example
 * ```ts
 * import { versionLine } from "./cli.ts";
 * versionLine("node 20.19.0"); // "redeno server v=0.2.0 redis=7.4.1 runtime=node 20.19.0"
 * ```
 */
export function versionLine(runtime: string): string {
  return `redeno server v=${REDENO_VERSION} redis=${REDIS_COMPAT_VERSION} runtime=${runtime}`;
}

/**
 * The `--help` text, after redis-server's.
 *
 * @param program how the program was started (`main.ts`, `npx tsx main.ts`)
 * @returns the usage text
 * @example
 * ```ts
 * import { usage } from "./cli.ts";
 * console.log(usage("main.ts"));
 * ```
 */
export function usage(program: string): string {
  return [
    `Usage: ${program} [/path/to/redis.conf] [options]`,
    `       ${program} -v or --version`,
    `       ${program} -h or --help`,
    "",
    "Every redis.conf directive can be given as an option: --<directive> <value ...>.",
    "Options come after the config file and override its lines.",
    "",
    "Examples:",
    `       ${program} (run the server with default conf)`,
    `       ${program} /etc/redis/redis.conf`,
    `       ${program} --port 7777`,
    `       ${program} --port 7777 --replicaof 127.0.0.1 8888`,
    `       ${program} /etc/myredis.conf --loglevel verbose`,
    `       ${program} --save "" --appendonly yes`,
    "",
    `redeno ${REDENO_VERSION}, compatible with Redis ${REDIS_COMPAT_VERSION}.`,
  ].join("\n");
}

/**
 * Reads `[config-file] [--name value ...]`.
 *
 * @param args the process arguments after the program name
 * @param options plugins' directives (`Plugin.config`)
 * @returns the directives, or the fatal error
 * @example
 * ```ts
 * import { parseCommandLine } from "./cli.ts";
 * const { config } = await parseCommandLine(["--port", "6380"]); // { port: ["6380"] }
 * ```
 */
export function parseCommandLine(
  args: string[],
  options: { params?: ConfigParam[] } = {},
): Promise<CommandLine> {
  const lines: string[] = [];
  let configFile: string | undefined;
  let rest = args;
  if (rest.length > 0 && !rest[0]!.startsWith("--")) {
    const path = rest[0]!;
    configFile = path;
    rest = rest.slice(1);
    try {
      lines.push(...readLines(path));
    } catch (e) {
      return Promise.resolve({
        config: {},
        error: `Fatal error, can't open config file '${path}': ${(e as Error).message}`,
      });
    }
  }
  lines.push(...argsToLines(rest));
  const parsed = parseConfigLines(lines, { include: readLines, ...options });
  return Promise.resolve(configFile === undefined ? parsed : { ...parsed, configFile });
}

function readLines(path: string): string[] {
  return readFileSync(path, "utf8").split(/\r?\n/);
}
