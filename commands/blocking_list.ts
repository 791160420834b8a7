/**
 * Blocking list commands: BLPOP, BRPOP, BRPOPLPUSH, BLMOVE, BLMPOP. Each tries its non-blocking
 * form first; with nothing to pop it blocks (core/blocking.ts) until a push makes a key ready,
 * except inside MULTI or a script, where it answers at once as if timed out. Served pops
 * propagate as the plain LPOP/RPOP/LMOVE Redis rewrites them to.
 *
 * @module
 */

import { blockOnKeys, parseTimeoutSeconds } from "../core/blocking.ts";
import type { Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import { R, type Reply } from "../core/resp/reply.ts";
import type { ListValue } from "../core/types/list.ts";
import { listMpopArgs, moveBetweenLists, parseListEnd, popFromList } from "./list_pop.ts";
import { numkeysPositions } from "./numkeys.ts";

/** The list at `key` when it holds elements (WRONGTYPE for another type). */
function nonEmptyList(client: Client, key: string): boolean {
  const list = client.db.getTyped<ListValue>(key, "list", true);
  return list !== undefined && list.length > 0;
}

/** Pops one element (or `count`, for BLMPOP) from the first non-empty list among `keys`. */
function popFirst(
  client: Client,
  keys: string[],
  left: boolean,
  count: number | undefined,
): Reply | undefined {
  for (const key of keys) {
    if (!nonEmptyList(client, key)) continue;
    const popped = popFromList(client, key, {
      left,
      propagate: true,
      ...(count === undefined ? {} : { count }),
    })!;
    return count === undefined ? [key, popped[0]!] : [key, popped];
  }
  return undefined;
}

function blockingPop(
  client: Client,
  keys: string[],
  left: boolean,
  count: number | undefined,
  timeoutMs: number,
  command: string,
): Reply {
  const now = popFirst(client, keys, left, count);
  if (now !== undefined) return now;
  return blockOnKeys(client, {
    keys,
    type: "list",
    timeoutMs,
    command,
    attempt: (key) => popFirst(client, [key], left, count),
    denied: R.nullArray,
  });
}

function bpopSpec(name: string, left: boolean): CommandSpec {
  return {
    name,
    arity: -3,
    flags: ["write", "blocking"],
    keys: { first: 1, last: -2, step: 1 },
    docs: {
      summary: `Remove and get the ${
        left ? "first" : "last"
      } element in a list, or block until one is available`,
      since: "2.0.0",
      group: "list",
      complexity: "O(N) where N is the number of provided keys.",
      args: "key [key ...] timeout",
    },
    execute(client, argv) {
      const timeout = parseTimeoutSeconds(argv[argv.length - 1]!);
      return blockingPop(client, argv.slice(1, -1), left, undefined, timeout, name);
    },
  };
}

function blockingMove(
  client: Client,
  source: string,
  destination: string,
  fromLeft: boolean,
  toLeft: boolean,
  timeoutMs: number,
  command: string,
): Reply {
  const effect = [
    "LMOVE",
    source,
    destination,
    fromLeft ? "LEFT" : "RIGHT",
    toLeft ? "LEFT" : "RIGHT",
  ];
  const move = () =>
    nonEmptyList(client, source)
      ? moveBetweenLists(client, [source, destination], { fromLeft, toLeft, effect })
      : undefined;
  const now = move();
  if (now !== undefined) return now;
  return blockOnKeys(client, {
    keys: [source],
    type: "list",
    timeoutMs,
    command,
    attempt: move,
    denied: null,
  });
}

/** BRPOPLPUSH source destination timeout */
const brpoplpushCommand: CommandSpec = {
  name: "brpoplpush",
  arity: 4,
  flags: ["write", "denyoom", "blocking"],
  keys: { first: 1, last: 2, step: 1 },
  docs: {
    summary:
      "Pop an element from a list, push it to another list and return it; or block until one is available",
    since: "2.2.0",
    group: "list",
    complexity: "O(1)",
    args: "source destination timeout",
  },
  execute(client, argv) {
    const timeout = parseTimeoutSeconds(argv[3]!);
    return blockingMove(client, argv[1]!, argv[2]!, false, true, timeout, "brpoplpush");
  },
};

/** BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout */
const blmoveCommand: CommandSpec = {
  name: "blmove",
  arity: 6,
  flags: ["write", "denyoom", "blocking"],
  keys: { first: 1, last: 2, step: 1 },
  docs: {
    summary:
      "Pop an element from a list, push it to another list and return it; or block until one is available",
    since: "6.2.0",
    group: "list",
    complexity: "O(1)",
    args: "source destination <LEFT | RIGHT> <LEFT | RIGHT> timeout",
  },
  execute(client, argv) {
    const fromLeft = parseListEnd(argv[3]!);
    const toLeft = parseListEnd(argv[4]!);
    const timeout = parseTimeoutSeconds(argv[5]!);
    return blockingMove(client, argv[1]!, argv[2]!, fromLeft, toLeft, timeout, "blmove");
  },
};

/** BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count] */
const blmpopCommand: CommandSpec = {
  name: "blmpop",
  arity: -5,
  flags: ["write", "blocking"],
  getKeys: (argv) => numkeysPositions(argv, 2),
  docs: {
    summary: "Pop elements from a list, or block until one is available",
    since: "7.0.0",
    group: "list",
    complexity:
      "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
    args: "timeout numkeys key [key ...] <LEFT | RIGHT> [COUNT count]",
  },
  execute(client, argv) {
    const { keys, left, count } = listMpopArgs(argv, 2);
    const timeout = parseTimeoutSeconds(argv[1]!);
    return blockingPop(client, keys, left, count, timeout, "blmpop");
  },
};

/** The blocking list commands. */
export const blockingListCommands: CommandSpec[] = [
  bpopSpec("blpop", true),
  bpopSpec("brpop", false),
  brpoplpushCommand,
  blmoveCommand,
  blmpopCommand,
];
