/**
 * Popping and moving list elements: LPOP, RPOP, LMPOP, LMOVE, RPOPLPUSH, and the operations
 * behind them, exported for the blocking variants (BLPOP, BRPOP, BLMPOP, BLMOVE, BRPOPLPUSH) so
 * that both perform the same mutation, keyspace events, dirty count and propagation.
 *
 * @module
 */

import type { Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import { parseInteger } from "../core/bytes.ts";
import { N } from "../core/notify.ts";
import { E, fail, R, type Reply } from "../core/resp/reply.ts";
import { ListValue } from "../core/types/list.ts";
import { numkeysPositions, parseMultiPop } from "./numkeys.ts";

/** The list at `key` for writing; undefined when missing; WRONGTYPE for other types. */
export function listForWrite(client: Client, key: string): ListValue | undefined {
  return client.db.getTyped<ListValue>(key, "list", true);
}

/**
 * Parses a `LEFT | RIGHT` argument (any case) as Redis does.
 *
 * @param arg the argument
 * @returns true for LEFT (the head), false for RIGHT (the tail)
 * @throws ErrorReply `ERR syntax error` for anything else
 * @example
 * ```ts
 * parseListEnd("left"); // true
 * ```
 */
export function parseListEnd(arg: string): boolean {
  const up = arg.toUpperCase();
  if (up === "LEFT") return true;
  if (up === "RIGHT") return false;
  return fail(E.syntax);
}

/** Housekeeping after `n` elements left the list at `key` (Redis's listElementsRemoved). */
function elementsRemoved(
  client: Client,
  key: string,
  list: ListValue,
  left: boolean,
  n: number,
): void {
  const db = client.db;
  db.notify(N.list, left ? "lpop" : "rpop", key);
  if (list.length === 0) {
    db.delete(key);
    db.notify(N.generic, "del", key);
  } else {
    db.touch(key);
  }
  client.server.dirty += n;
}

/** Pops up to `count` elements from one end, in popping order. */
function popRange(list: ListValue, left: boolean, count: number): string[] {
  const n = count < list.length ? count : list.length;
  const out: string[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = left ? list.popFront() : list.popBack();
  return out;
}

/** Options of {@linkcode popFromList}. */
export interface ListPopOptions {
  /** Pop from the head (LEFT) rather than the tail (RIGHT). */
  left: boolean;
  /** Pop up to this many elements (LPOP key count, LMPOP); omitted: a single element. */
  count?: number;
  /**
   * Propagate the effect as `LPOP key` (without count) or `LPOP key n` (with count, n being the
   * number popped), as Redis rewrites LMPOP and the blocking pops; omitted or false: the running
   * command's own argv propagates.
   */
  propagate?: boolean;
}

/**
 * Pops elements from the list at `key` with everything Redis does around it: the `lpop`/`rpop`
 * event, deleting the emptied key (then `del`), signalling the key modified, counting dirty and,
 * when asked, propagating the `LPOP`/`RPOP` effect.
 *
 * @param client the client running the command (its database is used)
 * @param key the list's key
 * @param options which end, how many, and whether to propagate
 * @returns the popped elements in popping order, or undefined when the key does not exist
 * @throws ErrorReply WRONGTYPE when the key holds another type (nothing is changed)
 * @example
 * ```ts
 * popFromList(client, "queue", { left: true, propagate: true }); // ["job1"], propagates LPOP queue
 * ```
 */
export function popFromList(
  client: Client,
  key: string,
  options: ListPopOptions,
): string[] | undefined {
  const list = listForWrite(client, key);
  if (list === undefined) return undefined;
  const { left, count } = options;
  const popped = popRange(list, left, count ?? 1);
  if (options.propagate) {
    const effect = [left ? "LPOP" : "RPOP", key];
    if (count !== undefined) effect.push(String(popped.length));
    client.server.replicate(client.db.id, effect);
  }
  elementsRemoved(client, key, list, left, popped.length);
  return popped;
}

/** Options of {@linkcode moveBetweenLists}. */
export interface ListMoveOptions {
  /** Pop from the source's head (LEFT) rather than its tail (RIGHT). */
  fromLeft: boolean;
  /** Push to the destination's head (LEFT) rather than its tail (RIGHT). */
  toLeft: boolean;
  /**
   * The effect to propagate instead of the running command's argv, e.g. `LMOVE src dst LEFT
   * RIGHT` for BLMOVE or `RPOPLPUSH src dst` for BRPOPLPUSH.
   */
  effect?: string[];
}

/**
 * Moves one element from the list at `source` to the list at `destination` (LMOVE), with
 * Redis's events (`lpush`/`rpush` on the destination, then `lpop`/`rpop` on the source, then
 * `del` if the source emptied), dirty count and optional propagated effect. The destination is
 * created when missing; source and destination may be the same list (a rotation).
 *
 * @param client the client running the command (its database is used)
 * @param keys `[source, destination]`
 * @param options ends and the effect to propagate
 * @returns the element moved, or undefined when the source does not exist
 * @throws ErrorReply WRONGTYPE when either key holds another type (nothing is changed)
 * @example
 * ```ts
 * moveBetweenLists(client, ["src", "dst"], { fromLeft: false, toLeft: true }); // RPOPLPUSH
 * ```
 */
export function moveBetweenLists(
  client: Client,
  keys: readonly [string, string],
  options: ListMoveOptions,
): string | undefined {
  const [source, destination] = keys;
  const src = listForWrite(client, source);
  if (src === undefined) return undefined;
  let dst = listForWrite(client, destination);
  const db = client.db;
  const value = options.fromLeft ? src.popFront() : src.popBack();
  if (dst === undefined) {
    dst = new ListValue();
    db.add(destination, dst);
  } else {
    db.touch(destination);
  }
  if (options.toLeft) dst.pushFront(value);
  else dst.pushBack(value);
  db.notify(N.list, options.toLeft ? "lpush" : "rpush", destination);
  if (options.effect) client.server.replicate(db.id, options.effect);
  elementsRemoved(client, source, src, options.fromLeft, 1);
  return value;
}

function popCommand(name: string, left: boolean): CommandSpec {
  const end = left ? "first" : "last";
  return {
    name,
    arity: -2,
    flags: ["write", "fast"],
    keys: { first: 1, last: 1, step: 1 },
    docs: {
      summary: `Remove and get the ${end} elements in a list`,
      since: "1.0.0",
      group: "list",
      complexity: "O(N) where N is the number of elements returned",
      args: "key [count]",
    },
    execute(client, argv) {
      if (argv.length > 3) return fail(E.wrongArgs(name));
      const key = argv[1]!;
      if (argv.length === 2) {
        const list = listForWrite(client, key);
        if (list === undefined) return null;
        const v = left ? list.popFront() : list.popBack();
        elementsRemoved(client, key, list, left, 1);
        return v;
      }
      const count = parseInteger(argv[2]!);
      if (count === undefined || count < 0) {
        return fail("ERR value is out of range, must be positive");
      }
      const list = listForWrite(client, key);
      if (list === undefined) return R.nullArray;
      if (count === 0) return [];
      const popped = popRange(list, left, count);
      elementsRemoved(client, key, list, left, popped.length);
      return popped;
    },
  };
}

/** LPOP key [count] */
export const lpopCommand = popCommand("lpop", true);
/** RPOP key [count] */
export const rpopCommand = popCommand("rpop", false);

/** LMPOP numkeys key [key ...] LEFT | RIGHT [COUNT count] */
export const lmpopCommand: CommandSpec = {
  name: "lmpop",
  arity: -4,
  flags: ["write"],
  getKeys: (argv) => numkeysPositions(argv, 1),
  docs: {
    summary: "Pop elements from a list",
    since: "7.0.0",
    group: "list",
    complexity:
      "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
    args: "numkeys key [key ...] <LEFT | RIGHT> [COUNT count]",
  },
  execute(client, argv) {
    const { keys, left, count } = listMpopArgs(argv, 1);
    for (const key of keys) {
      const popped = popFromList(client, key, { left, count, propagate: true });
      if (popped !== undefined) return [key, popped];
    }
    return R.nullArray;
  },
};

function moveReply(client: Client, argv: string[], fromLeft: boolean, toLeft: boolean): Reply {
  return moveBetweenLists(client, [argv[1]!, argv[2]!], { fromLeft, toLeft }) ?? null;
}

/** LMOVE source destination LEFT | RIGHT LEFT | RIGHT */
export const lmoveCommand: CommandSpec = {
  name: "lmove",
  arity: 5,
  flags: ["write", "denyoom"],
  keys: { first: 1, last: 2, step: 1 },
  docs: {
    summary: "Pop an element from a list, push it to another list and return it",
    since: "6.2.0",
    group: "list",
    complexity: "O(1)",
    args: "source destination <LEFT | RIGHT> <LEFT | RIGHT>",
  },
  execute(client, argv) {
    const fromLeft = parseListEnd(argv[3]!);
    return moveReply(client, argv, fromLeft, parseListEnd(argv[4]!));
  },
};

/** RPOPLPUSH source destination */
export const rpoplpushCommand: CommandSpec = {
  name: "rpoplpush",
  arity: 3,
  flags: ["write", "denyoom"],
  keys: { first: 1, last: 2, step: 1 },
  docs: {
    summary: "Remove the last element in a list, prepend it to another list and return it",
    since: "1.2.0",
    group: "list",
    complexity: "O(1)",
    args: "source destination",
  },
  execute: (client, argv) => moveReply(client, argv, false, true),
};

/** LMPOP/BLMPOP arguments from `argv[at]` (numkeys) on; `left` for LEFT. */
export function listMpopArgs(
  argv: string[],
  at: number,
): { keys: string[]; left: boolean; count: number } {
  const { keys, first, count } = parseMultiPop(argv, at, ["LEFT", "RIGHT"]);
  return { keys, left: first, count };
}
