/**
 * FUNCTION and FCALL: Redis 7.0's function libraries (scripting/functions.ts) run by the Lua
 * engine (scripting/engine.ts).
 *
 * @module
 */

import { compat, helpFor } from "../core/compat.ts";
import type { CommandFlag, CommandSpec } from "../core/command.ts";
import { bytesToStr, parseI64, strToBytes } from "../core/bytes.ts";
import { globMatch } from "../core/glob.ts";
import { ErrorReply, MapReply, R, type Reply, SetReply, SimpleString } from "../core/resp/reply.ts";
import type { Client } from "../core/client.ts";
import { SCRIPT_FLAG_NAMES, scriptingOf } from "../scripting/engine.ts";
import { librariesOf, LibraryError } from "../scripting/functions.ts";
import { flushIsAsync, lazyFreedEntries } from "../core/memory/lazyfree.ts";
import { numkeysPositions } from "./numkeys.ts";
import { fcallCallFlags } from "../scripting/call_flags.ts";

/** Runs a library operation, turning its errors into ERR replies. */
function attempt(fn: () => Reply): Reply {
  try {
    return fn();
  } catch (e) {
    if (e instanceof LibraryError) return new ErrorReply(`ERR ${e.message}`);
    throw e;
  }
}

function fcall(client: Client, argv: string[], ro: boolean): Reply {
  const server = client.server;
  // MONITOR shows the call before the commands it runs, and also when it fails.
  server.monitors.feedFirst(client, argv);
  const fn = librariesOf(server).functions.get(argv[1]!.toLowerCase());
  if (fn === undefined) return new ErrorReply("ERR Function not found");
  const numkeys = parseI64(argv[2]!);
  if (numkeys === undefined) return new ErrorReply("ERR Bad number of keys provided");
  if (numkeys > argv.length - 3) {
    return new ErrorReply("ERR Number of keys can't be greater than number of args");
  }
  if (numkeys < 0) return new ErrorReply("ERR Number of keys can't be negative");
  const engine = scriptingOf(server);
  const err = engine.prepareError(fn.flags, ro);
  if (err !== undefined) return err;
  const n = Number(numkeys);
  return engine.execute(client, argv, false, fn.name, fn.flags, ro, fn.ref, n);
}

function flagSet(flags: number): SetReply {
  const out: Reply[] = [];
  SCRIPT_FLAG_NAMES.forEach((name, bit) => {
    if ((flags & (1 << bit)) !== 0) out.push(new SimpleString(name));
  });
  return new SetReply(out);
}

function list(client: Client, argv: string[]): Reply {
  let withCode = false;
  let pattern: string | undefined;
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i]!.toLowerCase();
    if (!withCode && arg === "withcode") {
      withCode = true;
      continue;
    }
    if (pattern === undefined && arg === "libraryname") {
      if (i >= argv.length - 1) return new ErrorReply("ERR library name argument was not given");
      pattern = argv[++i]!;
      continue;
    }
    return new ErrorReply(`ERR Unknown argument ${argv[i]}`);
  }
  const out: Reply[] = [];
  for (const lib of librariesOf(client.server).libraries.values()) {
    if (pattern !== undefined && !globMatch(pattern, lib.name, true)) continue;
    const functions: Reply[] = [];
    for (const f of lib.functions.values()) {
      functions.push(
        new MapReply([
          "name",
          f.name,
          "description",
          f.description ?? null,
          "flags",
          flagSet(f.flags),
        ]),
      );
    }
    const entries: Reply[] = ["library_name", lib.name, "engine", "LUA", "functions", functions];
    if (withCode) entries.push("library_code", lib.code);
    out.push(new MapReply(entries));
  }
  return out;
}

function stats(client: Client): Reply {
  const engine = scriptingOf(client.server);
  const run = engine.run;
  if (run !== undefined && run.isEval && engine.server.busy !== undefined) {
    return new ErrorReply(
      "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
    );
  }
  const libs = librariesOf(client.server);
  const running = run === undefined || run.isEval ? null : new MapReply([
    "name",
    run.name,
    "command",
    run.argv,
    "duration_ms",
    Math.round(performance.now() - run.start),
  ]);
  return new MapReply([
    "running_script",
    running,
    "engines",
    new MapReply([
      "LUA",
      new MapReply([
        "libraries_count",
        libs.libraries.size,
        "functions_count",
        libs.functions.size,
      ]),
    ]),
  ]);
}

const FUNCTION_HELP = [
  "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "LOAD [REPLACE] <FUNCTION CODE>",
  "    Create a new library with the given library name and code.",
  "DELETE <LIBRARY NAME>",
  "    Delete the given library.",
  "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
  "    Return general information on all the libraries:",
  "    * Library name",
  "    * The engine used to run the Library",
  "    * Functions list",
  "    * Library code (if WITHCODE is given)",
  "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
  "STATS",
  "    Return information about the current function running:",
  "    * Function name",
  "    * Command used to run the function",
  "    * Duration in MS that the function is running",
  "    If no function is running, return nil",
  "    In addition, returns a list of available engines.",
  "KILL",
  "    Kill the current running function.",
  "FLUSH [ASYNC|SYNC]",
  "    Delete all the libraries.",
  "    When called without the optional mode argument, the behavior is determined by the",
  "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
  "    * ASYNC: Asynchronously flush the libraries.",
  "    * SYNC: Synchronously flush the libraries.",
  "DUMP",
  "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
  "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
  "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
  "    control how to handle existing libraries (default APPEND):",
  "    * FLUSH: delete all existing libraries.",
  "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
  "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
  "      libraries with the new libraries (notice that even on this option there is a chance of failure",
  "      in case of functions name collision with another library).",
  "HELP",
  "    Print this help.",
];

/** FUNCTION HELP as Redis 7.0 and 7.2 gave it: LIST's reply had a library description. */
const FUNCTION_HELP_70 = FUNCTION_HELP.flatMap((l) =>
  l === "    * The engine used to run the Library" ? [l, "    * Library description"] : [l]
);

const doc = (summary: string, complexity: string, args?: string) => ({
  summary,
  since: "7.0.0",
  group: "scripting",
  complexity,
  ...(args ? { args } : {}),
});

const fcallKeys = (argv: string[]) => {
  const n = parseI64(argv[2] ?? "");
  if (n === 0) return [];
  return numkeysPositions(argv, 2);
};

const FCALL_FLAGS: CommandFlag[] = [
  "noscript",
  "skip_monitor",
  "may_replicate",
  "no_mandatory_keys",
  "stale",
];

/** FUNCTION and FCALL / FCALL_RO. */
export const functionCommands: CommandSpec[] = [
  {
    name: "fcall",
    arity: -3,
    flags: FCALL_FLAGS,
    callFlags: (client, argv) => fcallCallFlags(FCALL_FLAGS, client, argv),
    getKeys: fcallKeys,
    effectsOnly: true,
    docs: doc(
      "Invoke a function",
      "Depends on the function that is executed.",
      "function numkeys [key [key ...]] [arg [arg ...]]",
    ),
    execute: (client, argv) => fcall(client, argv, false),
  },
  {
    name: "fcall_ro",
    arity: -3,
    flags: ["noscript", "skip_monitor", "no_mandatory_keys", "stale", "readonly"],
    getKeys: fcallKeys,
    effectsOnly: true,
    docs: doc(
      "Invoke a read-only function",
      "Depends on the function that is executed.",
      "function numkeys [key [key ...]] [arg [arg ...]]",
    ),
    execute: (client, argv) => fcall(client, argv, true),
  },
  {
    name: "function",
    arity: -2,
    docs: doc("A container for function commands", "Depends on subcommand."),
    subcommands: [
      {
        name: "load",
        arity: -3,
        flags: ["write", "denyoom", "noscript"],
        docs: doc(
          "Create a function with the given arguments (name, code, description)",
          "O(1) (considering compilation time is redundant)",
          "[REPLACE] function-code",
        ),
        execute(client, argv) {
          let replace = false;
          let i = 2;
          for (; i < argv.length - 1; i++) {
            if (argv[i]!.toLowerCase() === "replace") replace = true;
            else return new ErrorReply(`ERR Unknown option given: ${argv[i]}`);
          }
          if (i >= argv.length) return new ErrorReply("ERR Function code is missing");
          return attempt(() => {
            const name = librariesOf(client.server).load(argv[i]!, replace);
            client.server.dirty++;
            return name;
          });
        },
      },
      {
        name: "delete",
        arity: 3,
        flags: ["write", "noscript"],
        docs: doc("Delete a function by name", "O(1)", "library-name"),
        execute(client, argv) {
          if (!librariesOf(client.server).delete(argv[2]!)) {
            return new ErrorReply("ERR Library not found");
          }
          client.server.dirty++;
          return R.ok;
        },
      },
      {
        name: "flush",
        arity: -2,
        flags: ["write", "noscript"],
        docs: doc(
          "Deleting all functions",
          "O(N) where N is the number of functions deleted",
          "[ASYNC | SYNC]",
        ),
        execute(client, argv) {
          if (argv.length > 3) {
            return new ErrorReply(
              `ERR unknown subcommand or wrong number of arguments for '${
                argv[1]
              }'. Try FUNCTION HELP.`,
            );
          }
          if (argv.length === 3 && !/^(a?sync)$/i.test(argv[2]!)) {
            return new ErrorReply("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
          }
          const server = client.server;
          const libraries = librariesOf(server);
          const functions = libraries.functions.size;
          libraries.flush();
          // Redis 7.4 frees the Lua engine it rebuilds with them.
          lazyFreedEntries(
            server,
            flushIsAsync(server, argv[2]),
            functions,
            compat(server.config).v74 ? 1 : 0,
          );
          server.dirty++;
          return R.ok;
        },
      },
      {
        name: "list",
        arity: -2,
        flags: ["noscript"],
        docs: doc(
          "List information about all the functions",
          "O(N) where N is the number of functions",
          "[LIBRARYNAME library-name-pattern] [WITHCODE]",
        ),
        execute: list,
      },
      {
        name: "dump",
        arity: 2,
        flags: ["noscript"],
        docs: doc(
          "Dump all functions into a serialized binary payload",
          "O(N) where N is the number of functions",
        ),
        execute: (client) => bytesToStr(librariesOf(client.server).dump()),
      },
      {
        name: "restore",
        arity: -3,
        flags: ["write", "denyoom", "noscript"],
        docs: doc(
          "Restore all the functions on the given payload",
          "O(N) where N is the number of functions on the payload",
          "serialized-value [FLUSH | APPEND | REPLACE]",
        ),
        execute(client, argv) {
          if (argv.length > 4) {
            return new ErrorReply(
              `ERR unknown subcommand or wrong number of arguments for '${
                argv[1]
              }'. Try FUNCTION HELP.`,
            );
          }
          let policy: "append" | "replace" | "flush" = "append";
          if (argv.length === 4) {
            const p = argv[3]!.toLowerCase();
            if (p !== "append" && p !== "replace" && p !== "flush") {
              return new ErrorReply(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
              );
            }
            policy = p;
          }
          return attempt(() => {
            librariesOf(client.server).restore(strToBytes(argv[2]!), policy, true);
            client.server.dirty++;
            return R.ok;
          });
        },
      },
      {
        name: "stats",
        arity: 2,
        flags: ["noscript", "allow_busy"],
        docs: doc(
          "Return information about the function currently running (name, description, duration)",
          "O(1)",
        ),
        execute: stats,
      },
      {
        name: "kill",
        arity: 2,
        flags: ["noscript", "allow_busy"],
        docs: doc("Kill the function currently in execution.", "O(1)"),
        execute: (client) => scriptingOf(client.server).kill(false),
      },
      {
        name: "help",
        arity: 2,
        flags: ["loading", "stale"],
        docs: doc("Show helpful text about the different subcommands", "O(1)"),
        execute: (client) =>
          helpFor(
            client,
            compat(client.server.config).v74 ? FUNCTION_HELP : FUNCTION_HELP_70,
          ),
      },
    ],
  },
];
