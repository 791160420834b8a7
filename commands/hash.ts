/**
 * Hash commands that read or write single fields: HSET, HSETNX, HMSET, HGET, HMGET, HDEL, HLEN,
 * HSTRLEN, HEXISTS, HINCRBY, HINCRBYFLOAT. Whole-hash reads (HKEYS, HVALS, HGETALL, HRANDFIELD,
 * HSCAN) live in `hash_read.ts`; {@linkcode hashCommands} lists both.
 *
 * @module
 */

import { i64Arg } from "../core/args.ts";
import { fitsI64, parseI64 } from "../core/bytes.ts";
import type { Client } from "../core/client.ts";
import type { CommandFlag, CommandSpec, Execute } from "../core/command.ts";
import { N } from "../core/notify.ts";
import { E, fail, R } from "../core/resp/reply.ts";
import { HashValue } from "../core/types/hash.ts";
import { hashLimits } from "./hash_limits.ts";
import { hashExCommands } from "./hash_ex.ts";
import { hashReadCommands } from "./hash_read.ts";
import { addLongDouble, formatLongDouble, parseLongDouble } from "./long_double.ts";
import { removeElements } from "./collection.ts";
import { checkField } from "../core/types/hash_expiry.ts";
import { hashTtlCommands } from "./hash_ttl.ts";

/** The hash at `key` for reading: undefined when absent, WRONGTYPE for another type. */
function readHash(client: Client, key: string): HashValue | undefined {
  return client.db.getTyped<HashValue>(key, "hash");
}

/**
 * The hash at `key` for reading `field`: undefined when absent or when the field has expired
 * (Redis 7.4 deletes it then, see hash_expiry.ts).
 */
function readField(client: Client, key: string, field: string): HashValue | undefined {
  const hash = readHash(client, key);
  if (hash === undefined || hash.ttls === undefined) return hash;
  return checkField(client, key, hash, field) === "live" ? hash : undefined;
}

/**
 * Lazily expires `field` before a write reads it; true when it expired. The write command must
 * then replicate itself after the HDEL (the effects list no longer holds only its own argv).
 */
function expireBeforeWrite(client: Client, key: string, hash: HashValue, field: string): boolean {
  return hash.ttls !== undefined && checkField(client, key, hash, field) !== "live";
}

/** The hash at `key` for writing, created (and added to the keyspace) when absent. */
function writeHash(client: Client, key: string): { hash: HashValue; created: boolean } {
  const db = client.db;
  const found = db.getTyped<HashValue>(key, "hash", true);
  if (found !== undefined) return { hash: found, created: false };
  const hash = new HashValue();
  db.add(key, hash);
  return { hash, created: true };
}

/** Signals an in-place change (a new key was already signalled when it was added). */
function touched(client: Client, key: string, created: boolean): void {
  if (!created) client.db.touch(key);
}

function spec(
  name: string,
  arity: number,
  flags: readonly CommandFlag[],
  docs: { summary: string; since: string; complexity: string; args: string },
  execute: Execute,
): CommandSpec {
  return {
    name,
    arity,
    flags,
    keys: { first: 1, last: 1, step: 1 },
    docs: { ...docs, group: "hash" },
    execute,
  };
}

const WRITE: readonly CommandFlag[] = ["write", "denyoom", "fast"];
const READ: readonly CommandFlag[] = ["readonly", "fast"];

function hsetGeneric(client: Client, argv: string[], name: string): number {
  if (argv.length % 2 === 1) return fail(E.wrongArgs(name));
  const key = argv[1]!;
  const { hash, created } = writeHash(client, key);
  const lim = hashLimits(client);
  let added = 0;
  for (let i = 2; i < argv.length; i += 2) if (hash.set(argv[i]!, argv[i + 1]!, lim)) added++;
  touched(client, key, created);
  client.db.notify(N.hash, "hset", key);
  client.server.dirty += (argv.length - 2) / 2;
  return added;
}

/** HSET key field value [field value ...] */
export const hsetCommand = spec("hset", -4, WRITE, {
  summary: "Set the string value of a hash field",
  since: "2.0.0",
  complexity:
    "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.",
  args: "key field value [field value ...]",
}, (client, argv) => hsetGeneric(client, argv, "hset"));

/** HMSET key field value [field value ...] (deprecated: HSET does the same) */
export const hmsetCommand = spec("hmset", -4, WRITE, {
  summary: "Set multiple hash fields to multiple values",
  since: "2.0.0",
  complexity: "O(N) where N is the number of fields being set.",
  args: "key field value [field value ...]",
}, (client, argv) => {
  hsetGeneric(client, argv, "hmset");
  return R.ok;
});

/** HSETNX key field value */
export const hsetnxCommand = spec("hsetnx", 4, WRITE, {
  summary: "Set the value of a hash field, only if the field does not exist",
  since: "2.0.0",
  complexity: "O(1)",
  args: "key field value",
}, (client, argv) => {
  const key = argv[1]!;
  let { hash, created } = writeHash(client, key);
  const expired = expireBeforeWrite(client, key, hash, argv[2]!);
  if (expired && hash.size === 0 && !client.db.has(key)) {
    ({ hash, created } = writeHash(client, key));
  }
  if (hash.has(argv[2]!)) return 0;
  hash.set(argv[2]!, argv[3]!, hashLimits(client));
  touched(client, key, created);
  client.db.notify(N.hash, "hset", key);
  client.server.dirty++;
  if (expired) client.server.replicate(client.db.id, argv);
  return 1;
});

/** HGET key field */
export const hgetCommand = spec("hget", 3, READ, {
  summary: "Get the value of a hash field",
  since: "2.0.0",
  complexity: "O(1)",
  args: "key field",
}, (client, argv) => readField(client, argv[1]!, argv[2]!)?.get(argv[2]!) ?? null);

/** HMGET key field [field ...] */
export const hmgetCommand = spec("hmget", -3, READ, {
  summary: "Get the values of all the given hash fields",
  since: "2.0.0",
  complexity: "O(N) where N is the number of fields being requested.",
  args: "key field [field ...]",
}, (client, argv) => {
  // A missing key is an empty hash: one null per field.
  const key = argv[1]!;
  let hash = readHash(client, key);
  const out: (string | null)[] = [];
  if (hash?.ttls === undefined) {
    for (let i = 2; i < argv.length; i++) out.push(hash?.get(argv[i]!) ?? null);
    return out;
  }
  // Expired fields are nulls; one hexpired (and del when the hash went) for them all.
  let expired = false;
  let deleted = false;
  for (let i = 2; i < argv.length; i++) {
    const res = hash === undefined ? "live" : checkField(client, key, hash, argv[i]!, false);
    if (res !== "live") expired = true;
    if (res === "deleted") {
      deleted = true;
      hash = undefined;
    }
    out.push(res === "live" ? hash?.get(argv[i]!) ?? null : null);
  }
  if (expired) {
    client.db.notify(N.hash, "hexpired", key);
    if (deleted) client.db.notify(N.generic, "del", key);
  }
  return out;
});

/** HDEL key field [field ...] */
export const hdelCommand = spec("hdel", -3, ["write", "fast"], {
  summary: "Delete one or more hash fields",
  since: "2.0.0",
  complexity: "O(N) where N is the number of fields to be removed.",
  args: "key field [field ...]",
}, (client, argv) => {
  const key = argv[1]!;
  const hash = client.db.getTyped<HashValue>(key, "hash", true);
  if (hash === undefined) return 0;
  return removeElements(client, key, hash, argv.slice(2), (h, f) => h.delete(f), {
    type: N.hash,
    event: "hdel",
  });
});

/** HLEN key */
export const hlenCommand = spec("hlen", 2, READ, {
  summary: "Get the number of fields in a hash",
  since: "2.0.0",
  complexity: "O(1)",
  args: "key",
}, (client, argv) => readHash(client, argv[1]!)?.size ?? 0);

/** HSTRLEN key field */
export const hstrlenCommand = spec("hstrlen", 3, READ, {
  summary: "Get the length of the value of a hash field",
  since: "3.2.0",
  complexity: "O(1)",
  args: "key field",
}, (client, argv) => readField(client, argv[1]!, argv[2]!)?.get(argv[2]!)?.length ?? 0);

/** HEXISTS key field */
export const hexistsCommand = spec("hexists", 3, READ, {
  summary: "Determine if a hash field exists",
  since: "2.0.0",
  complexity: "O(1)",
  args: "key field",
}, (client, argv) => readField(client, argv[1]!, argv[2]!)?.has(argv[2]!) ? 1 : 0);

/** HINCRBY key field increment */
export const hincrbyCommand = spec("hincrby", 4, WRITE, {
  summary: "Increment the integer value of a hash field by the given number",
  since: "2.0.0",
  complexity: "O(1)",
  args: "key field increment",
}, (client, argv) => {
  const incr = i64Arg(argv[3]!);
  const key = argv[1]!;
  let { hash, created } = writeHash(client, key);
  const expired = expireBeforeWrite(client, key, hash, argv[2]!);
  if (expired && hash.size === 0 && !client.db.has(key)) {
    ({ hash, created } = writeHash(client, key));
  }
  const cur = hash.get(argv[2]!);
  const old = cur === undefined ? 0 : parseI64(cur);
  if (old === undefined) return fail("ERR hash value is not an integer");
  let next: number | bigint;
  if (typeof old === "number" && typeof incr === "number" && Number.isSafeInteger(old + incr)) {
    next = old + incr;
  } else {
    const sum = BigInt(old) + BigInt(incr);
    if (!fitsI64(sum)) return fail(E.overflow);
    const n = Number(sum);
    next = Number.isSafeInteger(n) ? n : sum;
  }
  hash.set(argv[2]!, String(next), hashLimits(client), true);
  touched(client, key, created);
  client.db.notify(N.hash, "hincrby", key);
  client.server.dirty++;
  if (expired) client.server.replicate(client.db.id, argv);
  return next;
});

/** HINCRBYFLOAT key field increment */
export const hincrbyfloatCommand = spec("hincrbyfloat", 4, WRITE, {
  summary: "Increment the float value of a hash field by the given amount",
  since: "2.6.0",
  complexity: "O(1)",
  args: "key field increment",
}, (client, argv) => {
  const incr = parseLongDouble(argv[3]!);
  if (incr === undefined) return fail(E.notFloat);
  if (typeof incr === "string") return fail("ERR value is NaN or Infinity");
  const key = argv[1]!;
  const field = argv[2]!;
  let { hash, created } = writeHash(client, key);
  if (expireBeforeWrite(client, key, hash, field) && hash.size === 0 && !client.db.has(key)) {
    ({ hash, created } = writeHash(client, key));
  }
  const cur = hash.get(field);
  const value = cur === undefined ? { neg: false, m: 0n, e: 0 } : parseLongDouble(cur);
  if (value === undefined) return fail("ERR hash value is not a float");
  const sum = typeof value === "string" ? undefined : addLongDouble(value, incr);
  if (sum === undefined) return fail("ERR increment would produce NaN or Infinity");
  const text = formatLongDouble(sum);
  hash.set(field, text, hashLimits(client), true);
  touched(client, key, created);
  client.db.notify(N.hash, "hincrbyfloat", key);
  client.server.dirty++;
  // Replicas and the AOF get the result, never the float arithmetic.
  client.server.replicate(client.db.id, ["HSET", key, field, text]);
  return text;
});

/** Every hash command. */
export const hashCommands: CommandSpec[] = [
  hsetCommand,
  hsetnxCommand,
  hgetCommand,
  hmgetCommand,
  hmsetCommand,
  hdelCommand,
  hlenCommand,
  hstrlenCommand,
  hexistsCommand,
  hincrbyCommand,
  hincrbyfloatCommand,
  ...hashReadCommands,
  ...hashTtlCommands,
  ...hashExCommands,
];
