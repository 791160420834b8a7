/**
 * Command-line and redis.conf parsing, like `redis-server [config-file] [--name value ...]`:
 * every `--name` starts a directive line, the words after it are its arguments, and the lines
 * from the file come first. Unknown directives and bad values stop startup with Redis's
 * "FATAL CONFIG FILE ERROR" report naming the line.
 *
 * @module
 */

import { readFile } from "node:fs/promises";
import { Config, ConfigError } from "./config.ts";
import { splitArgs } from "./resp/parser.ts";

/** Parsed startup configuration, or the error report to print. */
export interface CommandLine {
  /** Directive name to its argument words, in order of appearance (later ones win). */
  config: Record<string, string[]>;
  /** The fatal error report, when the configuration is unusable. */
  error?: string;
  /** The config file given on the command line, if any. */
  configFile?: string;
}

function fatal(lineNo: number, line: string, why: string): string {
  return [
    "",
    "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***",
    `Reading the configuration file, at line ${lineNo}`,
    `>>> '${line}'`,
    why,
  ].join("\n");
}

/** Turns `--port 6380 --save "" --bind 127.0.0.1 ::1` into config lines. */
export function argsToLines(args: string[]): string[] {
  const lines: string[] = [];
  let cur: string[] | undefined;
  for (const a of args) {
    if (a.startsWith("--") && a.length > 2) {
      if (cur) lines.push(cur.join(" "));
      cur = [a.slice(2)];
    } else if (cur) {
      cur.push(a === "" ? '""' : /[\s"'\\]/.test(a) ? JSON.stringify(a) : a);
    }
  }
  if (cur) lines.push(cur.join(" "));
  return lines;
}

/**
 * Parses config text lines and validates them against the config table.
 *
 * @param lines directive lines (comments and blank lines allowed)
 * @returns the directives, or the fatal error
 */
export function parseConfigLines(lines: string[]): CommandLine {
  const config: Record<string, string[]> = {};
  const check = new Config();
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === "" || raw.startsWith("#")) continue;
    const words = splitArgs(raw);
    if (words === undefined) {
      return { config, error: fatal(i + 1, raw, "Unbalanced quotes in configuration line") };
    }
    if (words.length === 0) continue;
    const name = words[0]!.toLowerCase();
    const def = check.def(name);
    if (!def || (!def.multiArg && words.length !== 2)) {
      return { config, error: fatal(i + 1, raw, "Bad directive or wrong number of arguments") };
    }
    const args = words.slice(1);
    try {
      // "save" lines accumulate in a file; elsewhere the last one wins.
      const prev = config[def.name];
      const merged = def.name === "save" && prev && prev.join("") !== "" && args.join("") !== ""
        ? [...prev, ...args]
        : args;
      check.setMany([[def.name, merged]], true);
      config[def.name] = merged;
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      const why = e.message.replace(
        /^CONFIG SET failed \(possibly related to argument '[^']*'\) - /,
        "",
      );
      return { config, error: fatal(i + 1, raw, why) };
    }
  }
  return { config };
}

/**
 * Reads `[config-file] [--name value ...]`.
 *
 * @param args the process arguments after the program name
 * @returns the directives, or the fatal error
 */
export async function parseCommandLine(args: string[]): Promise<CommandLine> {
  const lines: string[] = [];
  let configFile: string | undefined;
  let rest = args;
  if (rest.length > 0 && !rest[0]!.startsWith("--")) {
    const path = rest[0]!;
    configFile = path;
    rest = rest.slice(1);
    try {
      lines.push(...(await readFile(path, "utf8")).split(/\r?\n/));
    } catch (e) {
      return {
        config: {},
        error: `Fatal error, can't open config file '${path}': ${(e as Error).message}`,
      };
    }
  }
  lines.push(...argsToLines(rest));
  const parsed = parseConfigLines(lines);
  return configFile === undefined ? parsed : { ...parsed, configFile };
}
