/**
 * Server commands: TIME, SHUTDOWN, MEMORY, SLOWLOG, LATENCY, FUNCTION FLUSH.
 *
 * @module
 */

import { helpFor } from "../core/compat.ts";
import { latencyCommand } from "./latency.ts";
import { lolwutCommand } from "./lolwut.ts";
import { intArg } from "../core/args.ts";
import { CF } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import { E, fail, R, VerbatimReply } from "../core/resp/reply.ts";
import { entryBytes } from "../core/memory/cost.ts";
import { doctorReport, mallocStats, memoryStats } from "./memory_info.ts";
import { releaseMemory } from "../core/memory/release.ts";
import { rdbOf } from "../core/persistence/rdb_file.ts";

/** TIME */
export const timeCommand: CommandSpec = {
  name: "time",
  arity: 1,
  flags: ["loading", "stale", "fast"],
  docs: {
    summary: "Return the current server time",
    since: "2.6.0",
    group: "server",
    complexity: "O(1)",
  },
  execute(client) {
    // Microseconds come from the high-resolution timer on top of the (injectable) clock.
    const us = client.server.clock.now() * 1000 + Math.floor((performance.now() % 1) * 1000);
    return [String(Math.floor(us / 1e6)), String(us % 1e6)];
  },
};

/** SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT] */
export const shutdownCommand: CommandSpec = {
  name: "shutdown",
  arity: -1,
  flags: ["admin", "noscript", "loading", "stale", "no_multi", "allow_busy"],
  docs: {
    summary: "Synchronously save the dataset to disk and then shut down the server",
    since: "1.0.0",
    group: "server",
    complexity:
      "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
    args: "[NOSAVE | SAVE] [NOW] [FORCE] [ABORT]",
  },
  execute(client, argv) {
    let save: boolean | undefined;
    let force = false;
    for (const a of argv.slice(1)) {
      const o = a.toUpperCase();
      if (o === "NOSAVE" && save === undefined) save = false;
      else if (o === "SAVE" && save === undefined) save = true;
      else if (o === "FORCE") force = true;
      else if (o === "NOW") continue;
      else if (o === "ABORT") return fail("ERR No shutdown in progress.");
      else return fail(E.syntax);
    }
    const server = client.server;
    // Past busy-reply-threshold only SHUTDOWN NOSAVE may stop the server (the data may be half
    // written by the script).
    if (server.busy !== undefined && save !== false) return server.busy;
    server.log("warning", "User requested shutdown...");
    // The final save happens here, so that a failure can still cancel the shutdown.
    if (!rdbOf(server).shutdownSave(save, force)) {
      return fail("ERR Errors trying to SHUTDOWN. Check logs.");
    }
    server.shutdownSave = false;
    void server.close();
    return R.none;
  },
};

/** MEMORY <subcommand> */
export const memoryCommand: CommandSpec = {
  name: "memory",
  arity: -2,
  docs: {
    summary: "A container for memory diagnostics commands",
    since: "4.0.0",
    group: "server",
    complexity: "Depends on subcommand.",
  },
  subcommands: [
    {
      name: "usage",
      arity: -3,
      flags: ["readonly"],
      keys: { first: 2, last: 2, step: 1 },
      docs: {
        summary: "Estimate the memory usage of a key",
        since: "4.0.0",
        group: "server",
        complexity: "O(N) where N is the number of samples.",
        args: "key [SAMPLES count]",
      },
      execute(client, argv) {
        if (argv.length === 5 && argv[3]!.toUpperCase() === "SAMPLES") intArg(argv[4]!);
        else if (argv.length !== 3) return fail(E.syntax);
        const v = client.db.peek(argv[2]!);
        return v === undefined ? null : entryBytes(argv[2]!, v);
      },
    },
    {
      name: "doctor",
      arity: 2,
      flags: [],
      docs: {
        summary: "Outputs memory problems report",
        since: "4.0.0",
        group: "server",
        complexity: "O(1)",
      },
      execute: (client) => new VerbatimReply(doctorReport(client.server)),
    },
    {
      name: "stats",
      arity: 2,
      flags: [],
      docs: {
        summary: "Show memory usage details",
        since: "4.0.0",
        group: "server",
        complexity: "O(1)",
      },
      execute: (client) => memoryStats(client.server),
    },
    {
      name: "malloc-stats",
      arity: 2,
      flags: [],
      docs: {
        summary: "Show allocator internal stats",
        since: "4.0.0",
        group: "server",
        complexity: "Depends on how much memory is allocated, could be slow",
      },
      execute: () => new VerbatimReply(mallocStats()),
    },
    {
      name: "purge",
      arity: 2,
      flags: [],
      docs: {
        summary: "Ask the allocator to release memory",
        since: "4.0.0",
        group: "server",
        complexity: "Depends on how much memory is allocated, could be slow",
      },
      // A full collection, and on Deno glibc's malloc_trim (core/memory/release.ts).
      execute: () => {
        releaseMemory();
        return R.ok;
      },
    },
    {
      name: "help",
      arity: 2,
      flags: ["loading", "stale"],
      docs: {
        summary: "Show helpful text about the different subcommands",
        since: "4.0.0",
        group: "server",
        complexity: "O(1)",
      },
      execute: (client) =>
        helpFor(client, [
          "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
          "DOCTOR",
          "    Return memory problems reports.",
          "MALLOC-STATS",
          "    Return internal statistics report from the memory allocator.",
          "PURGE",
          "    Attempt to purge dirty pages for reclamation by the allocator.",
          "STATS",
          "    Return information about the memory usage of the server.",
          "USAGE <key> [SAMPLES <count>]",
          "    Return memory in bytes used by <key> and its value. Nested values are",
          "    sampled up to <count> times (default: 5, 0 means sample all).",
          "HELP",
          "    Print this help.",
        ]),
    },
  ],
};

/** SLOWLOG <subcommand> */
export const slowlogCommand: CommandSpec = {
  name: "slowlog",
  arity: -2,
  docs: {
    summary: "A container for slow log commands",
    since: "2.2.12",
    group: "server",
    complexity: "Depends on subcommand.",
  },
  subcommands: [
    {
      name: "get",
      arity: -2,
      flags: ["admin", "loading", "stale"],
      docs: {
        summary: "Get the slow log's entries",
        since: "2.2.12",
        group: "server",
        complexity: "O(N) where N is the number of entries returned",
        args: "[count]",
      },
      execute(client, argv) {
        let n = 10;
        if (argv.length === 3) {
          n = intArg(argv[2]!, "ERR count should be greater than or equal to -1");
          if (n < -1) return fail("ERR count should be greater than or equal to -1");
          if (n === -1) n = Infinity;
        } else if (argv.length > 3) return fail(E.wrongArgs("slowlog|get"));
        return client.server.slowlog.slice(0, n).map((e) => [
          e.id,
          e.time,
          e.usec,
          e.argv,
          e.addr,
          e.name,
        ]);
      },
    },
    {
      name: "len",
      arity: 2,
      flags: ["admin", "loading", "stale"],
      docs: {
        summary: "Get the slow log's length",
        since: "2.2.12",
        group: "server",
        complexity: "O(1)",
      },
      execute: (client) => client.server.slowlog.length,
    },
    {
      name: "reset",
      arity: 2,
      flags: ["admin", "loading", "stale"],
      docs: {
        summary: "Clear all entries from the slow log",
        since: "2.2.12",
        group: "server",
        complexity: "O(N) where N is the number of entries in the slowlog",
      },
      execute(client) {
        client.server.slowlog.length = 0;
        return R.ok;
      },
    },
    {
      name: "help",
      arity: 2,
      flags: ["loading", "stale"],
      docs: {
        summary: "Show helpful text about the different subcommands",
        since: "6.2.0",
        group: "server",
        complexity: "O(1)",
      },
      execute: (client) =>
        helpFor(client, [
          "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
          "GET [<count>]",
          "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
          "    Entries are made of:",
          "    id, timestamp, time in microseconds, arguments array, client IP and port,",
          "    client name",
          "LEN",
          "    Return the length of the slowlog.",
          "RESET",
          "    Reset the slowlog.",
          "HELP",
          "    Print this help.",
        ]),
    },
  ],
};

/** MONITOR */
export const monitorCommand: CommandSpec = {
  name: "monitor",
  arity: 1,
  flags: ["admin", "noscript", "loading", "stale"],
  docs: {
    summary: "Listen for all requests received by the server in real time",
    since: "1.0.0",
    group: "server",
  },
  execute(client) {
    if (client.flags & CF.monitor) return R.none;
    client.server.monitors.add(client);
    return R.ok;
  },
};

/** Server commands. */
export const serverCommands: CommandSpec[] = [
  monitorCommand,
  timeCommand,
  shutdownCommand,
  memoryCommand,
  slowlogCommand,
  latencyCommand,
  lolwutCommand,
];
