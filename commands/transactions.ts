/**
 * MULTI, EXEC, DISCARD, WATCH and UNWATCH; the state and the queueing gate are in
 * core/transactions.ts.
 *
 * @module
 */

import { CF } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import { fail, R } from "../core/resp/reply.ts";

const docs = (summary: string, since: string, complexity: string, args?: string) => ({
  summary,
  since,
  group: "transactions",
  complexity,
  ...(args ? { args } : {}),
});

/** The transaction commands. */
export const transactionCommands: CommandSpec[] = [
  {
    name: "multi",
    arity: 1,
    flags: ["noscript", "loading", "stale", "fast", "allow_busy"],
    docs: docs("Mark the start of a transaction block", "1.2.0", "O(1)"),
    execute(client) {
      if (client.flags & CF.multi) return fail("ERR MULTI calls can not be nested");
      client.server.transactions.begin(client);
      return R.ok;
    },
  },
  {
    name: "exec",
    arity: 1,
    flags: ["noscript", "loading", "stale", "skip_slowlog"],
    batchTimed: true,
    docs: docs(
      "Execute all commands issued after MULTI",
      "1.2.0",
      "Depends on commands in the transaction",
    ),
    execute: (client) => client.server.transactions.exec(client),
  },
  {
    name: "discard",
    arity: 1,
    flags: ["noscript", "loading", "stale", "fast", "allow_busy"],
    docs: docs(
      "Discard all commands issued after MULTI",
      "2.0.0",
      "O(N), when N is the number of queued commands",
    ),
    execute(client) {
      if (!(client.flags & CF.multi)) return fail("ERR DISCARD without MULTI");
      client.server.transactions.discard(client);
      return R.ok;
    },
  },
  {
    name: "watch",
    arity: -2,
    flags: ["noscript", "loading", "stale", "fast", "allow_busy"],
    keys: { first: 1, last: -1, step: 1 },
    docs: docs(
      "Watch the given keys to determine execution of the MULTI/EXEC block",
      "2.2.0",
      "O(1) for every key.",
      "key [key ...]",
    ),
    execute(client, argv) {
      if (client.flags & CF.multi) return fail("ERR WATCH inside MULTI is not allowed");
      client.server.transactions.watch(client, argv.slice(1));
      return R.ok;
    },
  },
  {
    name: "unwatch",
    arity: 1,
    flags: ["noscript", "loading", "stale", "fast", "allow_busy"],
    docs: docs("Forget about all watched keys", "2.2.0", "O(1)"),
    execute(client) {
      client.server.transactions.unwatchAll(client);
      return R.ok;
    },
  },
];
