/**
 * EVAL, EVALSHA, their _RO variants and SCRIPT: Lua scripts cached by SHA-1, as in Redis 7.0.
 * The engine is scripting/engine.ts.
 *
 * @module
 */

import { helpFor } from "../core/compat.ts";
import type { CommandFlag, CommandSpec } from "../core/command.ts";
import { parseI64 } from "../core/bytes.ts";
import { E, ErrorReply, fail, R, type Reply } from "../core/resp/reply.ts";
import { splitArgs } from "../core/resp/parser.ts";
import type { Client } from "../core/client.ts";
import type { Server } from "../core/server.ts";
import { type Script, SCRIPT_FLAG_NAMES, scriptingOf, SF } from "../scripting/engine.ts";
import { numkeysPositions } from "./numkeys.ts";
import { flushIsAsync, lazyFreedEntries } from "../core/memory/lazyfree.ts";
import { evalCallFlags } from "../scripting/call_flags.ts";

function cacheOf(server: Server): Map<string, Script> {
  return scriptingOf(server).scripts;
}

/**
 * Parses a script's `#!lua flags=...` line. Returns the flags and the length of the line
 * (its line feed stays, so line numbers do not move), or throws Redis's error.
 */
export function parseShebang(body: string): { flags: number; skip: number } {
  if (!body.startsWith("#!")) return { flags: SF.evalCompat, skip: 0 };
  const end = body.indexOf("\n");
  if (end < 0) fail("ERR Invalid script shebang");
  const parts = splitArgs(body.slice(0, end));
  if (parts === undefined || parts.length === 0) fail("ERR Invalid engine in script shebang");
  if (parts[0] !== "#!lua") fail(`ERR Unexpected engine in script shebang: ${parts[0]}`);
  let flags = 0;
  for (const part of parts.slice(1)) {
    if (!part.startsWith("flags=")) fail(`ERR Unknown lua shebang option: ${part}`);
    const list = part.slice(6);
    if (list === "") continue;
    for (const f of list.split(",")) {
      const bit = SCRIPT_FLAG_NAMES.indexOf(f as typeof SCRIPT_FLAG_NAMES[number]);
      if (bit < 0) fail(`ERR Unexpected flag in script shebang: ${f}`);
      flags |= 1 << bit;
    }
  }
  return { flags, skip: end };
}

/** How many scripts EVAL may keep cached before the least recently run goes (Redis 7.4). */
const EVAL_SCRIPTS_KEPT = 500;

/**
 * Compiles and caches `body` (SCRIPT LOAD, or the first EVAL: `byEval`). Returns its SHA. A
 * script EVAL created can be evicted, as Redis 7.4 does: past 500, the least recently run goes.
 */
function createScript(server: Server, body: string, byEval: boolean): string {
  const engine = scriptingOf(server);
  const sha = engine.vm.sha1hex(body);
  const cache = cacheOf(server);
  if (cache.has(sha)) return sha;
  const { flags, skip } = parseShebang(body);
  const ref = engine.vm.compile(sha, body, skip);
  if (typeof ref === "string") fail(`ERR ${ref}`);
  if (byEval) {
    const order = engine.evalOrder;
    for (const oldest of order) {
      if (order.size < EVAL_SCRIPTS_KEPT) break;
      order.delete(oldest);
      engine.vm.evalUnref(cache.get(oldest)!.ref);
      cache.delete(oldest);
      server.stats.evictedScripts++;
    }
    order.add(sha);
  }
  cache.set(sha, { body, flags, ref, evictable: byEval });
  return sha;
}

function evalGeneric(client: Client, argv: string[], evalsha: boolean, ro: boolean): Reply {
  const server = client.server;
  // MONITOR shows the script before the commands it runs, and also when it fails (NOSCRIPT).
  server.monitors.feedFirst(client, argv);
  const numkeys = parseI64(argv[2]!);
  if (numkeys === undefined) return new ErrorReply(E.notInteger);
  if (numkeys > argv.length - 3) {
    return new ErrorReply("ERR Number of keys can't be greater than number of args");
  }
  if (numkeys < 0) return new ErrorReply("ERR Number of keys can't be negative");
  const engine = scriptingOf(server);
  const cache = engine.scripts;
  let sha: string;
  let script: Script | undefined;
  if (evalsha) {
    sha = argv[1]!;
    script = cache.get(sha);
    if (script === undefined) {
      sha = sha.toLowerCase();
      script = cache.get(sha);
    }
    if (script === undefined) {
      return new ErrorReply("NOSCRIPT No matching script. Please use EVAL.");
    }
  } else {
    sha = createScript(server, argv[1]!, true);
    script = cache.get(sha)!;
  }
  const err = engine.prepareError(script.flags, ro);
  if (err !== undefined) return err;
  // A run makes an evictable script the most recently used.
  if (script.evictable) {
    engine.evalOrder.delete(sha);
    engine.evalOrder.add(sha);
  }
  const n = Number(numkeys);
  return engine.execute(client, argv, true, sha, script.flags, ro, script.ref, n);
}

const SCRIPT_HELP = [
  "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "DEBUG (YES|SYNC|NO)",
  "    Set the debug mode for subsequent scripts executed.",
  "EXISTS <sha1> [<sha1> ...]",
  "    Return information about the existence of the scripts in the script cache.",
  "FLUSH [ASYNC|SYNC]",
  "    Flush the Lua scripts cache. Very dangerous on replicas.",
  "    When called without the optional mode argument, the behavior is determined by the",
  "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
  "    * ASYNC: Asynchronously flush the scripts cache.",
  "    * SYNC: Synchronously flush the scripts cache.",
  "KILL",
  "    Kill the currently executing Lua script.",
  "LOAD <script>",
  "    Load a script into the scripts cache without executing it.",
  "HELP",
  "    Print this help.",
];

const evalKeys = (argv: string[]) => {
  const n = parseI64(argv[2] ?? "");
  if (n === 0) return [];
  return numkeysPositions(argv, 2);
};

const evalDocs = (summary: string, since: string, first: string) => ({
  summary,
  since,
  group: "scripting",
  complexity: "Depends on the script that is executed.",
  args: `${first} numkeys [key [key ...]] [arg [arg ...]]`,
});

const EVAL_FLAGS: CommandFlag[] = [
  "noscript",
  "skip_monitor",
  "may_replicate",
  "no_mandatory_keys",
  "stale",
];

/** The EVAL family and SCRIPT. */
export const scriptingCommands: CommandSpec[] = [
  {
    name: "eval",
    arity: -3,
    flags: EVAL_FLAGS,
    callFlags: (client, argv) => evalCallFlags(EVAL_FLAGS, client, argv, false, parseShebang),
    getKeys: evalKeys,
    effectsOnly: true,
    docs: evalDocs("Execute a Lua script server side", "2.6.0", "script"),
    execute: (client, argv) => evalGeneric(client, argv, false, false),
  },
  {
    name: "evalsha",
    arity: -3,
    flags: EVAL_FLAGS,
    callFlags: (client, argv) => evalCallFlags(EVAL_FLAGS, client, argv, true, parseShebang),
    getKeys: evalKeys,
    effectsOnly: true,
    docs: evalDocs("Execute a Lua script server side", "2.6.0", "sha1"),
    execute: (client, argv) => evalGeneric(client, argv, true, false),
  },
  {
    name: "eval_ro",
    arity: -3,
    flags: ["noscript", "skip_monitor", "no_mandatory_keys", "stale", "readonly"],
    getKeys: evalKeys,
    effectsOnly: true,
    docs: evalDocs("Execute a read-only Lua script server side", "7.0.0", "script"),
    execute: (client, argv) => evalGeneric(client, argv, false, true),
  },
  {
    name: "evalsha_ro",
    arity: -3,
    flags: ["noscript", "skip_monitor", "no_mandatory_keys", "stale", "readonly"],
    getKeys: evalKeys,
    effectsOnly: true,
    docs: evalDocs("Execute a read-only Lua script server side", "7.0.0", "sha1"),
    execute: (client, argv) => evalGeneric(client, argv, true, true),
  },
  {
    name: "script",
    arity: -2,
    docs: {
      summary: "A container for Lua scripts management commands",
      since: "2.6.0",
      group: "scripting",
      complexity: "Depends on subcommand.",
    },
    subcommands: [
      {
        name: "load",
        arity: 3,
        flags: ["noscript", "stale"],
        docs: {
          summary: "Load the specified Lua script into the script cache.",
          since: "2.6.0",
          group: "scripting",
          complexity: "O(N) with N being the length in bytes of the script body.",
          args: "script",
        },
        execute: (client, argv) => createScript(client.server, argv[2]!, false),
      },
      {
        name: "exists",
        arity: -3,
        flags: ["noscript"],
        docs: {
          summary: "Check existence of scripts in the script cache.",
          since: "2.6.0",
          group: "scripting",
          complexity:
            "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
          args: "sha1 [sha1 ...]",
        },
        execute(client, argv) {
          const cache = cacheOf(client.server);
          return argv.slice(2).map((sha) => (cache.has(sha.toLowerCase()) ? 1 : 0));
        },
      },
      {
        name: "flush",
        arity: -2,
        flags: ["noscript"],
        docs: {
          summary: "Remove all the scripts from the script cache.",
          since: "2.6.0",
          group: "scripting",
          complexity: "O(N) with N being the number of scripts in cache",
          args: "[ASYNC | SYNC]",
        },
        execute(client, argv) {
          if (argv.length > 3 || (argv.length === 3 && !/^(a?sync)$/i.test(argv[2]!))) {
            return new ErrorReply("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
          }
          const server = client.server;
          const cache = cacheOf(server);
          lazyFreedEntries(server, flushIsAsync(server, argv[2]), cache.size);
          cache.clear();
          const engine = scriptingOf(server);
          engine.evalOrder.clear();
          if (engine.started) engine.vm.reset(0);
          return R.ok;
        },
      },
      {
        name: "kill",
        arity: 2,
        flags: ["noscript", "allow_busy"],
        docs: {
          summary: "Kill the script currently in execution.",
          since: "2.6.0",
          group: "scripting",
          complexity: "O(1)",
        },
        execute: (client) => scriptingOf(client.server).kill(true),
      },
      {
        name: "debug",
        arity: 3,
        flags: ["noscript"],
        docs: {
          summary: "Set the debug mode for executed scripts.",
          since: "3.2.0",
          group: "scripting",
          complexity: "O(1)",
          args: "<YES | SYNC | NO>",
        },
        execute(_client, argv) {
          const mode = argv[2]!.toLowerCase();
          if (mode === "no") return R.ok;
          if (mode === "yes" || mode === "sync") {
            return new ErrorReply("ERR The Lua debugger (LDB) is not supported by this server");
          }
          return new ErrorReply("ERR Use SCRIPT DEBUG YES/SYNC/NO");
        },
      },
      {
        name: "help",
        arity: 2,
        flags: ["loading", "stale"],
        docs: {
          summary: "Show helpful text about the different subcommands",
          since: "5.0.0",
          group: "scripting",
          complexity: "O(1)",
        },
        execute: (client) => helpFor(client, SCRIPT_HELP),
      },
    ],
  },
];
