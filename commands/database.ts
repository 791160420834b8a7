/**
 * Whole-database commands: DBSIZE, FLUSHDB, FLUSHALL and SWAPDB.
 *
 * ASYNC and SYNC are accepted and behave alike: the old maps are dropped at once and reclaimed
 * by the garbage collector, which is what an asynchronous flush gives a Redis client.
 *
 * @module
 */

import { i32Arg } from "../core/args.ts";
import type { CommandSpec } from "../core/command.ts";
import type { Client } from "../core/client.ts";
import { canBlock } from "../core/blocking.ts";
import { compat } from "../core/compat.ts";
import { E, fail, R } from "../core/resp/reply.ts";
import { rdbOf } from "../core/persistence/rdb_file.ts";

/**
 * Checks FLUSHDB/FLUSHALL's `ASYNC | SYNC` argument; true when Redis frees the data lazily (what
 * `lazyfreed_objects` counts): ASYNC, or no argument with `lazyfree-lazy-user-flush`, and since
 * Redis 7.4 also a synchronous flush by a client that may block, which Redis runs as a blocking
 * asynchronous one (not in MULTI or a script).
 */
function checkFlushArgs(client: Client, argv: string[]): boolean {
  const server = client.server;
  let lazy: boolean;
  if (argv.length === 1) lazy = server.config.bool("lazyfree-lazy-user-flush");
  else {
    const mode = argv[1]!.toUpperCase();
    if (argv.length > 2 || (mode !== "ASYNC" && mode !== "SYNC")) fail(E.syntax);
    lazy = mode === "ASYNC";
  }
  return lazy || (compat(server.config).v74 && canBlock(client));
}

/** DBSIZE */
export const dbsizeCommand: CommandSpec = {
  name: "dbsize",
  arity: 1,
  flags: ["readonly", "fast"],
  acl: ["keyspace"],
  docs: {
    summary: "Return the number of keys in the selected database",
    since: "1.0.0",
    group: "server",
    complexity: "O(1)",
  },
  // Like Redis, this counts keys that are logically expired but not yet reclaimed.
  execute: (client) => client.db.size,
};

/** FLUSHDB [ASYNC | SYNC] */
export const flushdbCommand: CommandSpec = {
  name: "flushdb",
  arity: -1,
  flags: ["write"],
  acl: ["keyspace", "dangerous"],
  docs: {
    summary: "Remove all keys from the current database",
    since: "1.0.0",
    group: "server",
    complexity: "O(N) where N is the number of keys in the selected database",
    args: "[ASYNC | SYNC]",
  },
  execute(client, argv) {
    const server = client.server;
    const lazy = checkFlushArgs(client, argv);
    const removed = client.db.flush();
    // An asynchronous flush frees every value lazily in Redis: each key counts as lazyfreed.
    if (lazy) server.stats.lazyfreedObjects += removed;
    server.dirty += removed;
    // Propagated even when nothing was removed: the replica may hold keys we do not.
    server.replicate(client.db.id, argv);
    return R.ok;
  },
};

/** FLUSHALL [ASYNC | SYNC] */
export const flushallCommand: CommandSpec = {
  name: "flushall",
  arity: -1,
  flags: ["write"],
  acl: ["keyspace", "dangerous"],
  docs: {
    summary: "Remove all keys from all databases",
    since: "1.0.0",
    group: "server",
    complexity: "O(N) where N is the total number of keys in all databases",
    args: "[ASYNC | SYNC]",
  },
  execute(client, argv) {
    const server = client.server;
    const lazy = checkFlushArgs(client, argv);
    let removed = 0;
    for (const db of server.dbs) removed += db.flush();
    if (lazy) server.stats.lazyfreedObjects += removed;
    server.dirty += removed;
    // A running BGSAVE would bring the old data back; with save points the empty dump is saved.
    rdbOf(server).afterFlushAll();
    server.replicate(client.db.id, argv);
    return R.ok;
  },
};

/** SWAPDB index1 index2 */
export const swapdbCommand: CommandSpec = {
  name: "swapdb",
  arity: 3,
  flags: ["write", "fast"],
  acl: ["keyspace", "dangerous"],
  docs: {
    summary: "Swaps two Redis databases",
    since: "4.0.0",
    group: "server",
    complexity:
      "O(N) where N is the count of clients watching or blocking on keys from both databases.",
    args: "index1 index2",
  },
  execute(client, argv) {
    const dbs = client.server.dbs;
    const a = dbs[i32Arg(argv[1]!, "ERR invalid first DB index")];
    const b = dbs[i32Arg(argv[2]!, "ERR invalid second DB index")];
    if (a === undefined || b === undefined) return fail(E.dbIndex);
    if (a !== b) a.swapWith(b);
    client.server.dirty++;
    return R.ok;
  },
};

/** The whole-database commands. */
export const databaseCommands: CommandSpec[] = [
  dbsizeCommand,
  flushdbCommand,
  flushallCommand,
  swapdbCommand,
];
