/**
 * CONFIG GET, SET, RESETSTAT, REWRITE and HELP over the typed config table (core/config.ts).
 *
 * @module
 */

import { helpFor } from "../core/compat.ts";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import type { CommandSpec } from "../core/command.ts";
import { ConfigError, type ConfigValue } from "../core/config.ts";
import { maxclientsLimit } from "../core/daemon.ts";
import { protectedActionAllowed } from "../core/protected.ts";
import { ErrorReply, fail, MapReply, R, type Reply } from "../core/resp/reply.ts";
import { canBlock } from "../core/blocking.ts";
import type { Client } from "../core/client.ts";
import type { Server } from "../core/server.ts";
import { splitArgs } from "../core/resp/parser.ts";

const HELP = [
  "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "GET <pattern>",
  "    Return parameters matching the glob-like <pattern> and their values.",
  "SET <directive> <value>",
  "    Set the configuration <directive> to <value>.",
  "RESETSTAT",
  "    Reset statistics reported by the INFO command.",
  "REWRITE",
  "    Rewrite the configuration file.",
  "HELP",
  "    Print this help.",
];

/** CONFIG GET parameter [parameter ...] */
const configGet: CommandSpec = {
  name: "get",
  arity: -3,
  flags: ["admin", "noscript", "loading", "stale"],
  docs: {
    summary: "Get the values of configuration parameters",
    since: "2.0.0",
    group: "server",
    complexity: "O(N) when N is the number of configuration parameters provided",
    args: "parameter [parameter ...]",
  },
  execute(client, argv) {
    const pairs = client.server.config.match(argv.slice(2));
    return new MapReply(pairs.flat());
  },
};

/** CONFIG SET parameter value [parameter value ...] */
const configSet: CommandSpec = {
  name: "set",
  arity: -4,
  flags: ["admin", "noscript", "loading", "stale"],
  docs: {
    summary: "Set configuration parameters to the given values",
    since: "2.0.0",
    group: "server",
    complexity: "O(N) when N is the number of configuration parameters provided",
    args: "parameter value [parameter value ...]",
  },
  // Redis redacts the value of every sensitive directive named, even when the SET fails.
  redact(argv, client) {
    const out: number[] = [];
    if (argv.length % 2 !== 0) return out;
    for (let i = 2; i + 1 < argv.length; i += 2) {
      if (client.server.config.def(argv[i]!)?.sensitive) out.push(i + 1);
    }
    return out;
  },
  execute(client, argv) {
    if (argv.length % 2 !== 0) {
      return fail("ERR wrong number of arguments for 'config|set' command");
    }
    const pairs: Array<[string, string[]]> = [];
    const old: Array<[string, string[]]> = [];
    const config = client.server.config;
    for (let i = 2; i < argv.length; i += 2) {
      const def = config.def(argv[i]!);
      // Multi-word directives take their words inside one argument, as in Redis.
      const words = def?.multiArg ? splitArgs(argv[i + 1]!) ?? [argv[i + 1]!] : [argv[i + 1]!];
      pairs.push([argv[i]!, words.length === 0 ? [""] : words]);
      if (def) old.push([def.name, [textOf(config.get(def.name))]]);
    }
    const before = config.num("maxclients");
    let binding: Promise<void> | undefined;
    try {
      const mode = config.str("enable-protected-configs");
      binding = config.setMany(pairs, false, protectedActionAllowed(mode, client));
    } catch (e) {
      if (e instanceof ConfigError) return fail(`ERR ${e.message}`);
      throw e;
    }
    // More clients than `ulimit -n` allows: refused and every value restored, as Redis does.
    const wanted = config.num("maxclients");
    const best = wanted > before ? maxclientsLimit(wanted) : undefined;
    if (best !== undefined) {
      client.server.log(
        "warning",
        "Failed applying new configuration. Possibly related to new maxclients setting. Restoring previous settings.",
      );
      config.setMany(old, true);
      return fail(
        `ERR CONFIG SET failed (possibly related to argument 'maxclients') - The operating system is not able to handle the specified number of clients, try with ${best}`,
      );
    }
    return binding === undefined ? R.ok : awaitBinding(client, binding);
  },
};

/**
 * The reply of a CONFIG SET whose port or addresses are being bound: Redis binds before it
 * answers, so the client waits (blocked, its pipeline held) and gets OK or the error once the
 * old values are back. Inside MULTI it cannot wait: OK now, and a failure is only logged.
 */
function awaitBinding(client: Client, binding: Promise<void>): Reply {
  const server = client.server;
  if (!canBlock(client)) {
    binding.catch((e) => server.log("warning", `CONFIG SET in MULTI failed: ${e?.message ?? e}`));
    return R.ok;
  }
  server.blocking.block(client, {
    keys: [],
    timeoutMs: 0,
    command: "config",
    serve: () => undefined,
    timeoutReply: R.none,
    unblockable: false,
  });
  binding.then(() => server.blocking.unblock(client, R.ok), (e) => {
    const reply = e instanceof ConfigError
      ? new ErrorReply(`ERR ${e.message}`)
      : new ErrorReply(`ERR ${e?.message ?? e}`);
    // Counted like a call that failed as it ran, as Redis counts it.
    server.stats.countError(reply);
    const set = server.command("config")?.subcommands?.get("set");
    if (set !== undefined) set.stats.failed++;
    server.blocking.unblock(client, reply);
  });
  return R.none;
}

/** A stored value as the one argument that sets it again. */
function textOf(v: ConfigValue): string {
  return typeof v === "boolean" ? (v ? "yes" : "no") : String(v);
}

/** CONFIG RESETSTAT */
const configResetstat: CommandSpec = {
  name: "resetstat",
  arity: 2,
  flags: ["admin", "noscript", "loading", "stale"],
  docs: {
    summary: "Reset the stats returned by INFO",
    since: "2.0.0",
    group: "server",
    complexity: "O(1)",
  },
  execute(client) {
    const s = client.server;
    s.stats.reset();
    s.evictor.resetStats();
    for (const cmd of s.allCommands()) {
      Object.assign(cmd.stats, { calls: 0, usec: 0, rejected: 0, failed: 0 });
      cmd.latency = undefined;
      for (const sub of cmd.subcommands?.values() ?? []) {
        Object.assign(sub.stats, { calls: 0, usec: 0, rejected: 0, failed: 0 });
        sub.latency = undefined;
      }
    }
    return R.ok;
  },
};

/**
 * Rewrites the config file: lines of directives we know are updated in place, directives that
 * differ from their defaults and are missing are appended (every directive with `all`, as DEBUG
 * CONFIG-REWRITE-FORCE-ALL asks), comments and unknown lines stay.
 */
export function rewriteConfigFile(server: Server, path: string, all = false): void {
  let lines: string[] = [];
  try {
    lines = readFileSync(path, "utf8").split(/\r?\n/);
  } catch {
    lines = [];
  }
  const config = server.config;
  const current = new Map(config.entries().map(([d, v]) => [d.name, { def: d, text: v }]));
  const written = new Set<string>();
  const out: string[] = [];
  // The users replace the `user` lines (none when an aclfile holds them), as Redis rewrites them.
  const acl = server.acl;
  const users = config.str("aclfile") !== ""
    ? []
    : acl.sortedUsers().map((u) => `user ${u.name} ${u.describe(acl.commands)}`);
  for (const line of lines) {
    const words = splitArgs(line.trim());
    if (words !== undefined && words[0]?.toLowerCase() === "user" && !line.trim().startsWith("#")) {
      const next = users.shift();
      if (next !== undefined) out.push(next);
      continue;
    }
    const def = words && words.length > 0 && !line.trim().startsWith("#")
      ? config.def(words[0]!)
      : undefined;
    if (!def) {
      out.push(line);
      continue;
    }
    if (written.has(def.name)) continue;
    written.add(def.name);
    out.push(directiveLine(def.name, current.get(def.name)!.text, def.multiArg === true));
  }
  const appended: string[] = [];
  for (const [name, { def, text }] of current) {
    if (written.has(name) || !all && config.defaultText(name) === text) continue;
    // Not a replica: no line at all, as Redis writes none (`replicaof ""` would not load).
    if (name === "replicaof" && text === "") continue;
    appended.push(directiveLine(name, text, def.multiArg === true));
  }
  appended.push(...users);
  if (appended.length > 0) {
    while (out.length > 0 && out[out.length - 1] === "") out.pop();
    out.push("# Generated by CONFIG REWRITE", ...appended);
  }
  const tmp = `${path}.tmp-${Date.now()}`;
  writeFileSync(tmp, out.join("\n") + "\n");
  renameSync(tmp, path);
}

function directiveLine(name: string, text: string, multi: boolean): string {
  if (text === "") return `${name} ""`;
  if (multi) return `${name} ${text}`;
  return /[\s"'\\]/.test(text) ? `${name} ${JSON.stringify(text)}` : `${name} ${text}`;
}

/** CONFIG REWRITE */
const configRewrite: CommandSpec = {
  name: "rewrite",
  arity: 2,
  flags: ["admin", "noscript", "loading", "stale"],
  docs: {
    summary: "Rewrite the configuration file with the in memory configuration",
    since: "2.8.0",
    group: "server",
    complexity: "O(1)",
  },
  execute(client) {
    const path = client.server.configFile;
    if (path === undefined) return fail("ERR The server is running without a config file");
    try {
      rewriteConfigFile(client.server, path);
    } catch (e) {
      client.server.log("warning", `CONFIG REWRITE failed: ${e}`);
      return fail(`ERR Rewriting config file: ${(e as Error).message}`);
    }
    return R.ok;
  },
};

/** CONFIG HELP */
const configHelp: CommandSpec = {
  name: "help",
  arity: 2,
  flags: ["loading", "stale"],
  docs: {
    summary: "Show helpful text about the different subcommands",
    since: "5.0.0",
    group: "server",
    complexity: "O(1)",
  },
  execute: (client) => helpFor(client, HELP),
};

/** CONFIG <subcommand> */
export const configCommand: CommandSpec = {
  name: "config",
  arity: -2,
  docs: {
    summary: "A container for server configuration commands",
    since: "2.0.0",
    group: "server",
    complexity: "Depends on subcommand.",
  },
  subcommands: [configGet, configSet, configResetstat, configRewrite, configHelp],
};
