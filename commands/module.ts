/**
 * MODULE: redeno loads no Redis modules (they are C shared objects), so LIST is always empty and
 * LOAD/LOADEX fail as a module that cannot load fails in Redis. LOAD, LOADEX and UNLOAD are
 * protected by `enable-module-command` (default `no`) as Redis's are: refused with Redis's text
 * unless it allows the client (core/protected.ts).
 *
 * @module
 */

import { helpFor } from "../core/compat.ts";
import type { CommandSpec } from "../core/command.ts";
import { fail } from "../core/resp/reply.ts";

const HELP = [
  "MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "LIST",
  "    Return a list of loaded modules.",
  "LOAD <path> [<arg> ...]",
  "    Load a module library from <path>, passing to it any optional arguments.",
  "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
  "    Load a module library from <path>, while passing it module configurations and optional arguments.",
  "UNLOAD <name>",
  "    Unload a module.",
  "HELP",
  "    Print this help.",
];

const PROTECTED = "enable-module-command";

/** MODULE LOAD / LOADEX: the module fails to load, with the reason in the log as Redis logs it. */
function load(name: string, summary: string, since: string, args: string): CommandSpec {
  return {
    name,
    arity: -3,
    flags: ["admin", "noscript", "no_async_loading"],
    protectedBy: PROTECTED,
    docs: { summary, since, group: "server", complexity: "O(1)", args },
    execute(client, argv) {
      client.server.log(
        "warning",
        `Module ${argv[2]} failed to load: redeno cannot load Redis modules`,
      );
      return fail("ERR Error loading the extension. Please check the server logs.");
    },
  };
}

/** MODULE <subcommand> */
export const moduleCommand: CommandSpec = {
  name: "module",
  arity: -2,
  docs: {
    summary: "A container for module commands",
    since: "4.0.0",
    group: "server",
    complexity: "Depends on subcommand.",
  },
  subcommands: [
    {
      name: "list",
      arity: 2,
      flags: ["admin", "noscript"],
      docs: {
        summary: "List all modules loaded by the server",
        since: "4.0.0",
        group: "server",
        complexity: "O(N) where N is the number of loaded modules.",
      },
      execute: () => [],
    },
    load("load", "Load a module", "4.0.0", "path [arg ...]"),
    load(
      "loadex",
      "Load a module with extended parameters",
      "7.0.0",
      "path [CONFIG name value [CONFIG name value ...]] [ARGS args [args ...]]",
    ),
    {
      name: "unload",
      arity: 3,
      flags: ["admin", "noscript", "no_async_loading"],
      protectedBy: PROTECTED,
      docs: {
        summary: "Unload a module",
        since: "4.0.0",
        group: "server",
        complexity: "O(1)",
        args: "name",
      },
      execute: () => fail("ERR Error unloading module: no such module with that name"),
    },
    {
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
    },
  ],
};
