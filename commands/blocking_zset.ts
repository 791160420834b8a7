/**
 * Blocking sorted-set pops: BZPOPMIN, BZPOPMAX, BZMPOP. Like the list ones, they pop at once
 * when they can, block otherwise (not inside MULTI or a script), and propagate as the plain
 * ZPOPMIN/ZPOPMAX Redis rewrites them to.
 *
 * @module
 */

import { blockOnKeys, parseTimeoutSeconds } from "../core/blocking.ts";
import type { Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import { R, type Reply } from "../core/resp/reply.ts";
import { numkeysPositions } from "./numkeys.ts";
import { parseZmpopArgs, zpopFromKeys } from "./zset_pop.ts";

function blockingZpop(
  client: Client,
  keys: string[],
  max: boolean,
  count: number | undefined,
  timeoutMs: number,
  command: string,
): Reply {
  const now = zpopFromKeys(client, keys, max, count);
  if (now !== undefined) return now;
  return blockOnKeys(client, {
    keys,
    type: "zset",
    timeoutMs,
    command,
    attempt: (key) => zpopFromKeys(client, [key], max, count),
    denied: R.nullArray,
  });
}

function bzpopSpec(name: string, max: boolean): CommandSpec {
  return {
    name,
    arity: -3,
    flags: ["write", "blocking", "fast"],
    keys: { first: 1, last: -2, step: 1 },
    docs: {
      summary: `Remove and return the member with the ${
        max ? "highest" : "lowest"
      } score from one or more sorted sets, or block until one is available`,
      since: "5.0.0",
      group: "sorted-set",
      complexity: "O(log(N)) with N being the number of elements in the sorted set.",
      args: "key [key ...] timeout",
    },
    execute(client, argv) {
      const timeout = parseTimeoutSeconds(argv[argv.length - 1]!);
      return blockingZpop(client, argv.slice(1, -1), max, undefined, timeout, name);
    },
  };
}

/** BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count] */
const bzmpopCommand: CommandSpec = {
  name: "bzmpop",
  arity: -5,
  flags: ["write", "blocking"],
  getKeys: (argv) => numkeysPositions(argv, 2),
  docs: {
    summary:
      "Remove and return members with scores in a sorted set or block until one is available",
    since: "7.0.0",
    group: "sorted-set",
    complexity:
      "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
    args: "timeout numkeys key [key ...] <MIN | MAX> [COUNT count]",
  },
  execute(client, argv) {
    const args = parseZmpopArgs(argv, 2);
    const timeout = parseTimeoutSeconds(argv[1]!);
    return blockingZpop(client, args.keys, args.max, args.count, timeout, "bzmpop");
  },
};

/** The blocking sorted-set commands. */
export const blockingZsetCommands: CommandSpec[] = [
  bzpopSpec("bzpopmin", false),
  bzpopSpec("bzpopmax", true),
  bzmpopCommand,
];
