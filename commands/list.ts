/**
 * List commands: LPUSH, RPUSH, LPUSHX, RPUSHX, LLEN, LINDEX, LRANGE, LSET, LINSERT, LREM, LTRIM
 * and LPOS here; the pops and moves (LPOP, RPOP, LMPOP, LMOVE, RPOPLPUSH) in `list_pop.ts`.
 *
 * @module
 */

import { i64Arg, intArg } from "../core/args.ts";
import type { Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import { N } from "../core/notify.ts";
import { E, fail, R, type Reply } from "../core/resp/reply.ts";
import { ListValue } from "../core/types/list.ts";
import {
  listForWrite,
  lmoveCommand,
  lmpopCommand,
  lpopCommand,
  rpopCommand,
  rpoplpushCommand,
} from "./list_pop.ts";

const PUSH_COMPLEXITY =
  "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.";

/** The list at `key` for reading (counts hits and misses); WRONGTYPE for other types. */
function listForRead(client: Client, key: string): ListValue | undefined {
  return client.db.getTyped<ListValue>(key, "list");
}

function pushCommand(name: string, left: boolean, xx: boolean, summary: string): CommandSpec {
  const event = left ? "lpush" : "rpush";
  return {
    name,
    arity: -3,
    flags: ["write", "denyoom", "fast"],
    keys: { first: 1, last: 1, step: 1 },
    docs: {
      summary,
      since: xx ? "2.2.0" : "1.0.0",
      group: "list",
      complexity: PUSH_COMPLEXITY,
      args: "key element [element ...]",
    },
    execute(client, argv) {
      const key = argv[1]!;
      const db = client.db;
      let list = listForWrite(client, key);
      let created = false;
      if (list === undefined) {
        if (xx) return 0;
        list = new ListValue();
        created = true;
      }
      list.pushAll(argv, 2, left);
      // The key is added once it holds its elements: whoever watches for new keys sees them.
      if (created) db.add(key, list);
      else db.touch(key);
      client.server.dirty += argv.length - 2;
      db.notify(N.list, event, key);
      return list.length;
    },
  };
}

/** LPUSH key element [element ...] */
export const lpushCommand = pushCommand(
  "lpush",
  true,
  false,
  "Prepend one or multiple elements to a list",
);
/** RPUSH key element [element ...] */
export const rpushCommand = pushCommand(
  "rpush",
  false,
  false,
  "Append one or multiple elements to a list",
);
/** LPUSHX key element [element ...] */
export const lpushxCommand = pushCommand(
  "lpushx",
  true,
  true,
  "Prepend an element to a list, only if the list exists",
);
/** RPUSHX key element [element ...] */
export const rpushxCommand = pushCommand(
  "rpushx",
  false,
  true,
  "Append an element to a list, only if the list exists",
);

/** LLEN key */
export const llenCommand: CommandSpec = {
  name: "llen",
  arity: 2,
  flags: ["readonly", "fast"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Get the length of a list",
    since: "1.0.0",
    group: "list",
    complexity: "O(1)",
    args: "key",
  },
  execute: (client, argv) => listForRead(client, argv[1]!)?.length ?? 0,
};

/** LINDEX key index */
export const lindexCommand: CommandSpec = {
  name: "lindex",
  arity: 3,
  flags: ["readonly"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Get an element from a list by its index",
    since: "1.0.0",
    group: "list",
    complexity:
      "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).",
    args: "key index",
  },
  execute(client, argv) {
    const list = listForRead(client, argv[1]!);
    if (list === undefined) return null;
    return list.get(intArg(argv[2]!)) ?? null;
  },
};

/** Clamps Redis's inclusive `start stop` (negative from the end) to [start, end] or undefined. */
function clampRange(len: number, start: number, end: number): [number, number] | undefined {
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (start > end || start >= len) return undefined;
  return [start, end >= len ? len - 1 : end];
}

/** LRANGE key start stop */
export const lrangeCommand: CommandSpec = {
  name: "lrange",
  arity: 4,
  flags: ["readonly"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Get a range of elements from a list",
    since: "1.0.0",
    group: "list",
    complexity:
      "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
    args: "key start stop",
  },
  execute(client, argv) {
    const start = intArg(argv[2]!);
    const end = intArg(argv[3]!);
    const list = listForRead(client, argv[1]!);
    if (list === undefined) return [];
    const r = clampRange(list.length, start, end);
    return r === undefined ? [] : list.range(r[0], r[1]);
  },
};

/** LSET key index element */
export const lsetCommand: CommandSpec = {
  name: "lset",
  arity: 4,
  flags: ["write", "denyoom"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Set the value of an element in a list by its index",
    since: "1.0.0",
    group: "list",
    complexity:
      "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).",
    args: "key index element",
  },
  execute(client, argv) {
    const key = argv[1]!;
    const list = listForWrite(client, key);
    if (list === undefined) return fail(E.noSuchKey);
    if (!list.set(intArg(argv[2]!), argv[3]!)) return fail(E.outOfRange);
    const db = client.db;
    db.touch(key);
    db.notify(N.list, "lset", key);
    client.server.dirty++;
    return R.ok;
  },
};

/** LINSERT key BEFORE | AFTER pivot element */
export const linsertCommand: CommandSpec = {
  name: "linsert",
  arity: 5,
  flags: ["write", "denyoom"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Insert an element before or after another element in a list",
    since: "2.2.0",
    group: "list",
    complexity:
      "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).",
    args: "key <BEFORE | AFTER> pivot element",
  },
  execute(client, argv) {
    const where = argv[2]!.toUpperCase();
    if (where !== "BEFORE" && where !== "AFTER") return fail(E.syntax);
    const key = argv[1]!;
    const list = listForWrite(client, key);
    if (list === undefined) return 0;
    if (!list.insert(argv[3]!, argv[4]!, where === "AFTER")) return -1;
    const db = client.db;
    db.touch(key);
    db.notify(N.list, "linsert", key);
    client.server.dirty++;
    return list.length;
  },
};

/** Deletes an emptied list's key with its `del` event; otherwise signals the change. */
function afterRemoval(client: Client, key: string, list: ListValue): void {
  const db = client.db;
  if (list.length === 0) {
    db.delete(key);
    db.notify(N.generic, "del", key);
  } else {
    db.touch(key);
  }
}

/** LREM key count element */
export const lremCommand: CommandSpec = {
  name: "lrem",
  arity: 4,
  flags: ["write"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Remove elements from a list",
    since: "1.0.0",
    group: "list",
    complexity: "O(N+M) where N is the length of the list and M is the number of elements removed.",
    args: "key count element",
  },
  execute(client, argv) {
    const count = intArg(argv[2]!);
    const key = argv[1]!;
    const list = listForWrite(client, key);
    if (list === undefined) return 0;
    const removed = list.remove(argv[3]!, count);
    if (removed !== 0) {
      client.server.dirty += removed;
      client.db.notify(N.list, "lrem", key);
      afterRemoval(client, key, list);
    }
    return removed;
  },
};

/** LTRIM key start stop */
export const ltrimCommand: CommandSpec = {
  name: "ltrim",
  arity: 4,
  flags: ["write"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Trim a list to the specified range",
    since: "1.0.0",
    group: "list",
    complexity: "O(N) where N is the number of elements to be removed by the operation.",
    args: "key start stop",
  },
  execute(client, argv) {
    const start = intArg(argv[2]!);
    const end = intArg(argv[3]!);
    const key = argv[1]!;
    const list = listForWrite(client, key);
    if (list === undefined) return R.ok;
    const len = list.length;
    const r = clampRange(len, start, end);
    const front = r === undefined ? len : r[0];
    const back = r === undefined ? 0 : len - 1 - r[1];
    list.trimFront(front);
    list.trimBack(back);
    client.db.notify(N.list, "ltrim", key);
    afterRemoval(client, key, list);
    client.server.dirty += front + back;
    return R.ok;
  },
};

const LONG_MIN = -9223372036854775808n;

const LLONG_MIN = -(2n ** 63n);

/** LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len] */
export const lposCommand: CommandSpec = {
  name: "lpos",
  arity: -3,
  flags: ["readonly"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Return the index of matching elements on a list",
    since: "6.0.6",
    group: "list",
    complexity:
      "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.",
    args: "key element [RANK rank] [COUNT num-matches] [MAXLEN len]",
  },
  execute(client, argv) {
    let rank: number | bigint = 1;
    let count = -1;
    let maxlen = 0;
    for (let j = 3; j < argv.length; j++) {
      const opt = argv[j]!.toUpperCase();
      const more = j + 1 < argv.length;
      if (opt === "RANK" && more) {
        rank = i64Arg(argv[++j]!);
        // Redis 7.2 takes -LONG_MAX..LONG_MAX (7.0 also took LLONG_MIN).
        if (rank === LLONG_MIN) {
          return fail(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
          );
        }
        if (rank === 0) {
          return fail(
            "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
          );
        }
      } else if (opt === "COUNT" && more) {
        count = nonNegative(argv[++j]!, "ERR COUNT can't be negative");
      } else if (opt === "MAXLEN" && more) {
        maxlen = nonNegative(argv[++j]!, "ERR MAXLEN can't be negative");
      } else {
        return fail(E.syntax);
      }
    }
    const list = listForRead(client, argv[1]!);
    if (list === undefined) return count !== -1 ? [] : null;
    let found: number[];
    if (rank === LONG_MIN) {
      // Redis negates the rank in a C long: LONG_MIN stays negative, so every match from the
      // tail qualifies and no COUNT stops the scan.
      found = list.positions(argv[2]!, true, 0, count === -1 ? 1 : 0, maxlen);
    } else {
      const r = Number(rank);
      found = list.positions(argv[2]!, r < 0, Math.abs(r) - 1, count === -1 ? 1 : count, maxlen);
    }
    if (count !== -1) return found as Reply[];
    return found.length === 0 ? null : found[0]!;
  },
};

/** A non-negative int64 argument; any other text fails with `error` (LPOS COUNT and MAXLEN). */
function nonNegative(arg: string, error: string): number {
  const n = intArg(arg, error);
  return n < 0 ? fail(error) : n;
}

/** The list commands. */
export const listCommands: CommandSpec[] = [
  lpushCommand,
  rpushCommand,
  lpushxCommand,
  rpushxCommand,
  lpopCommand,
  rpopCommand,
  llenCommand,
  lindexCommand,
  lrangeCommand,
  lsetCommand,
  linsertCommand,
  lremCommand,
  ltrimCommand,
  lposCommand,
  lmoveCommand,
  rpoplpushCommand,
  lmpopCommand,
];
