/**
 * SAVE, BGSAVE [SCHEDULE] and LASTSAVE, over the RDB file of core/persistence/rdb_file.ts.
 *
 * @module
 */

import type { CommandSpec } from "../core/command.ts";
import { rdbOf } from "../core/persistence/rdb_file.ts";
import { E, fail, R, SimpleString } from "../core/resp/reply.ts";

const IN_PROGRESS = "ERR Background save already in progress";

/** SAVE */
export const saveCommand: CommandSpec = {
  name: "save",
  arity: 1,
  flags: ["admin", "noscript", "no_async_loading", "no_multi"],
  docs: {
    summary: "Synchronously save the dataset to disk",
    since: "1.0.0",
    group: "server",
    complexity: "O(N) where N is the total number of keys in all databases",
  },
  execute(client) {
    const rdb = rdbOf(client.server);
    if (rdb.job !== undefined) return fail(IN_PROGRESS);
    rdb.saves++;
    // Redis answers a bare "-ERR" when the save fails; the reason is in the log.
    return rdb.save() ? R.ok : fail("ERR");
  },
};

/** BGSAVE [SCHEDULE] */
export const bgsaveCommand: CommandSpec = {
  name: "bgsave",
  arity: -1,
  flags: ["admin", "noscript", "no_async_loading"],
  docs: {
    summary: "Asynchronously save the dataset to disk",
    since: "1.0.0",
    group: "server",
    complexity: "O(1)",
    args: "[SCHEDULE]",
  },
  execute(client, argv) {
    let schedule = false;
    if (argv.length > 1) {
      if (argv.length === 2 && argv[1]!.toLowerCase() === "schedule") schedule = true;
      else return fail(E.syntax);
    }
    const server = client.server;
    const rdb = rdbOf(server);
    // Inside EXEC the save waits for the transaction to end, as it would for a fork.
    if (rdb.job !== undefined) return fail(IN_PROGRESS);
    if (rdb.otherJobRunning() || server.nested) {
      if (!schedule && !server.nested) {
        return fail(
          "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
        );
      }
      rdb.scheduled = true;
      return new SimpleString("Background saving scheduled");
    }
    return rdb.bgsave() ? new SimpleString("Background saving started") : fail("ERR");
  },
};

/** LASTSAVE */
export const lastsaveCommand: CommandSpec = {
  name: "lastsave",
  arity: 1,
  flags: ["loading", "stale", "fast"],
  acl: ["admin", "dangerous"],
  docs: {
    summary: "Get the UNIX time stamp of the last successful save to disk",
    since: "1.0.0",
    group: "server",
    complexity: "O(1)",
  },
  execute: (client) => Math.floor(client.server.lastSave / 1000),
};

/** SAVE, BGSAVE and LASTSAVE. */
export const persistenceCommands: CommandSpec[] = [saveCommand, bgsaveCommand, lastsaveCommand];
