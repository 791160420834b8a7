/**
 * Counter commands: INCR, DECR, INCRBY, DECRBY on signed 64-bit integers, and INCRBYFLOAT with
 * Redis's `long double` arithmetic (see `long_double.ts`).
 *
 * @module
 */

import { i64Arg } from "../core/args.ts";
import { fitsI64, parseI64 } from "../core/bytes.ts";
import type { Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import { N } from "../core/notify.ts";
import { smallString } from "../core/types/big_string.ts";
import { E, fail, type Reply } from "../core/resp/reply.ts";
import { addLongDouble, formatLongDouble, parseLongDouble } from "./long_double.ts";

const MIN_I64 = -9223372036854775808n;

/** The string at `key` for an in-place update (undefined if absent; WRONGTYPE otherwise). */
function currentString(client: Client, key: string): string | undefined {
  const v = client.db.lookupWrite(key);
  return smallString(v, E.wrongType);
}

/** Stores an updated counter, keeping the key's TTL as Redis's dbOverwrite does. */
function store(client: Client, key: string, existed: boolean, value: string, event: string): void {
  const db = client.db;
  if (existed) {
    db.replace(key, value);
    db.touch(key);
  } else {
    db.set(key, value);
  }
  db.notify(N.string, event, key);
  client.server.dirty++;
}

/** Adds `incr` to the integer at `key` (INCR, DECR, INCRBY, DECRBY). */
function incrDecr(client: Client, key: string, incr: number | bigint): Reply {
  const cur = currentString(client, key);
  const old = cur === undefined ? 0 : parseI64(cur);
  if (old === undefined) return fail(E.notInteger);
  let next: number | bigint;
  if (typeof old === "number" && typeof incr === "number" && Number.isSafeInteger(old + incr)) {
    next = old + incr;
  } else {
    const sum = BigInt(old) + BigInt(incr);
    if (!fitsI64(sum)) return fail(E.overflow);
    const n = Number(sum);
    next = Number.isSafeInteger(n) ? n : sum;
  }
  // Redis fires "incrby" for all four commands.
  store(client, key, cur !== undefined, String(next), "incrby");
  return next;
}

function counterSpec(
  name: string,
  arity: number,
  summary: string,
  args: string,
  execute: CommandSpec["execute"],
): CommandSpec {
  return {
    name,
    arity,
    flags: ["write", "denyoom", "fast"],
    keys: { first: 1, last: 1, step: 1 },
    docs: { summary, since: "1.0.0", group: "string", complexity: "O(1)", args },
    execute,
  };
}

/** INCR key */
export const incrCommand: CommandSpec = counterSpec(
  "incr",
  2,
  "Increment the integer value of a key by one",
  "key",
  (client, argv) => incrDecr(client, argv[1]!, 1),
);

/** DECR key */
export const decrCommand: CommandSpec = counterSpec(
  "decr",
  2,
  "Decrement the integer value of a key by one",
  "key",
  (client, argv) => incrDecr(client, argv[1]!, -1),
);

/** INCRBY key increment */
export const incrbyCommand: CommandSpec = counterSpec(
  "incrby",
  3,
  "Increment the integer value of a key by the given amount",
  "key increment",
  (client, argv) => incrDecr(client, argv[1]!, i64Arg(argv[2]!)),
);

/** DECRBY key decrement */
export const decrbyCommand: CommandSpec = counterSpec(
  "decrby",
  3,
  "Decrement the integer value of a key by the given number",
  "key decrement",
  (client, argv) => {
    const n = i64Arg(argv[2]!);
    // Negating the smallest int64 overflows before the addition is even tried.
    if (n === MIN_I64) return fail("ERR decrement would overflow");
    return incrDecr(client, argv[1]!, -n);
  },
);

/** INCRBYFLOAT key increment */
export const incrbyfloatCommand: CommandSpec = {
  name: "incrbyfloat",
  arity: 3,
  flags: ["write", "denyoom", "fast"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Increment the float value of a key by the given amount",
    since: "2.6.0",
    group: "string",
    complexity: "O(1)",
    args: "key increment",
  },
  execute(client, argv) {
    const key = argv[1]!;
    const cur = currentString(client, key);
    const value = cur === undefined ? { neg: false, m: 0n, e: 0 } : parseLongDouble(cur);
    const incr = value === undefined ? undefined : parseLongDouble(argv[2]!);
    if (value === undefined || incr === undefined) return fail(E.notFloat);
    const sum = typeof value === "string" || typeof incr === "string"
      ? undefined
      : addLongDouble(value, incr);
    if (sum === undefined) return fail("ERR increment would produce NaN or Infinity");
    const text = formatLongDouble(sum);
    store(client, key, cur !== undefined, text, "incrbyfloat");
    // Replicas and the AOF get the result, never the float arithmetic.
    client.server.replicate(client.db.id, ["SET", key, text, "KEEPTTL"]);
    return text;
  },
};

/** The counter commands. */
export const counterCommands: CommandSpec[] = [
  incrCommand,
  decrCommand,
  incrbyCommand,
  decrbyCommand,
  incrbyfloatCommand,
];
