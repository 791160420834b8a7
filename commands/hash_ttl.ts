/**
 * Hash field expiration, as Redis 7.4: HEXPIRE, HPEXPIRE, HEXPIREAT, HPEXPIREAT, HPERSIST,
 * HTTL, HPTTL, HEXPIRETIME, HPEXPIRETIME. Each answers one integer per field:
 *
 * - set: -2 no such field, 0 condition (NX/XX/GT/LT) not met, 1 set, 2 deleted (time past);
 * - read: -2 no such field, -1 no TTL, else the TTL or expiry time;
 * - HPERSIST: -2 no such field, -1 no TTL, 1 TTL removed.
 *
 * A set goes to replicas and the AOF as `HPEXPIREAT key ms [cond] FIELDS n field...` with only
 * the fields it set, after an `HDEL` for each field it deleted.
 *
 * @module
 */

import { i64Arg } from "../core/args.ts";
import { parseI64 } from "../core/bytes.ts";
import type { Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import { N } from "../core/notify.ts";
import { fail } from "../core/resp/reply.ts";
import type { HashValue } from "../core/types/hash.ts";
import { trackFieldTtls } from "../core/types/hash_expiry.ts";

/** Redis 7.4's largest field expiry time (ms): its 48-bit expiry time shifted right by two. */
export const MAX_FIELD_EXPIRE_MS = 70368744177663;

/** -2: no such field (or the key does not exist). */
const NO_FIELD = -2;

/**
 * The fields after `FIELDS numfields` at `at`: Redis's checks in its order, with its texts
 * (`numError` for a count that is not a positive integer).
 */
export function fieldsArg(argv: string[], at: number, numError: string): string[] {
  if (argv[at - 1]!.toUpperCase() !== "FIELDS") {
    return fail("ERR Mandatory argument FIELDS is missing or not at the right position");
  }
  const n = parseI64(argv[at]!);
  if (n === undefined || n < 1) return fail(`ERR ${numError}`);
  if (Number(n) !== argv.length - at - 1) {
    return fail("ERR The `numfields` parameter must match the number of arguments");
  }
  return argv.slice(at + 1);
}

function spec(
  name: string,
  arity: number,
  write: boolean,
  docs: { summary: string; complexity: string; args: string },
  execute: CommandSpec["execute"],
): CommandSpec {
  return {
    name,
    arity,
    flags: write ? ["write", "denyoom", "fast"] : ["readonly", "fast"],
    keys: { first: 1, last: 1, step: 1 },
    // Redis 7.4's key specs: RW UPDATE for the writes, RO ACCESS for the reads.
    aclKeys: write ? "W" : "R",
    docs: { ...docs, since: "7.4.0", group: "hash" },
    execute,
  };
}

type Cond = "" | "NX" | "XX" | "GT" | "LT";

/** The outcome of setting one field's expiry (see the module doc). */
function setOne(hash: HashValue, field: string, at: number, cond: Cond): number {
  if (!hash.has(field)) return NO_FIELD;
  const prev = hash.ttls!.get(field);
  if (prev === undefined) {
    // No TTL counts as an infinite one: GT never beats it, LT always does.
    if (cond === "XX" || cond === "GT") return 0;
  } else if (
    cond === "NX" || (cond === "GT" && prev >= at) || (cond === "LT" && prev <= at)
  ) return 0;
  return 1;
}

/** HEXPIRE and its variants: `unit` 1000 for seconds, `relative` for a TTL rather than a time. */
function hexpire(name: string, unit: number, relative: boolean): CommandSpec["execute"] {
  return (client: Client, argv: string[]) => {
    const key = argv[1]!;
    const db = client.db;
    const server = client.server;
    const hash = db.getTyped<HashValue>(key, "hash", true);
    const raw = i64Arg(argv[2]!);
    if (raw < 0) return fail("ERR invalid expire time, must be >= 0");
    const timeError = `ERR invalid expire time in '${name}' command`;
    let expire = Number(raw);
    if (unit === 1000) {
      if (expire > Math.floor(MAX_FIELD_EXPIRE_MS / 1000)) return fail(timeError);
      expire *= 1000;
    }
    const base = relative ? server.now() : 0;
    if (expire > MAX_FIELD_EXPIRE_MS - base) return fail(timeError);
    expire += base;
    const opt = argv[3]!.toUpperCase();
    const cond: Cond = opt === "NX" || opt === "XX" || opt === "GT" || opt === "LT" ? opt : "";
    const at = cond === "" ? 4 : 5;
    const fields = fieldsArg(argv, at, "Parameter `numFields` should be greater than 0");
    if (hash === undefined) return fields.map(() => NO_FIELD);
    hash.enableTtls();
    trackFieldTtls(server, db, key);
    // Past times delete on a master; a replica keeps the field for its master's HDEL (and an AOF
    // load runs at time 0, so nothing is past).
    const deletes = expire <= server.now() && !server.isReplica();
    const set: string[] = [];
    let deleted = 0;
    const out = fields.map((field) => {
      const res = setOne(hash, field, expire, cond);
      if (res !== 1) return res;
      if (deletes) {
        hash.delete(field);
        server.replicate(db.id, ["HDEL", key, field]);
        server.stats.expiredSubkeys++;
        deleted++;
        return 2;
      }
      hash.setFieldTtl(field, expire);
      set.push(field);
      return 1;
    });
    if (deleted + set.length === 0) return out;
    server.dirty += deleted + set.length;
    if (hash.size === 0) {
      db.delete(key);
      db.notify(N.hash, "hdel", key);
      db.notify(N.generic, "del", key);
    } else {
      db.touch(key);
      db.notify(N.hash, deleted !== 0 ? "hdel" : "hexpire", key);
    }
    if (set.length !== 0) {
      const prop = ["HPEXPIREAT", key, String(expire)];
      if (cond !== "") prop.push(argv[3]!);
      prop.push("FIELDS", String(set.length), ...set);
      server.replicate(db.id, prop);
    }
    return out;
  };
}

/** HTTL and its variants: `unit` 1000 for seconds, `relative` for a TTL rather than a time. */
function httl(unit: number, relative: boolean): CommandSpec["execute"] {
  return (client: Client, argv: string[]) => {
    const hash = client.db.getTyped<HashValue>(argv[1]!, "hash");
    const fields = fieldsArg(argv, 3, "Number of fields must be a positive integer");
    if (hash === undefined) return fields.map(() => NO_FIELD);
    const now = client.server.now();
    const base = relative ? now : 0;
    // A listpack counts a field due at `now` as gone; a hashtable only one due before.
    const slack = hash.encoding() === "hashtable" ? 0 : 1;
    return fields.map((field) => {
      if (!hash.has(field)) return NO_FIELD;
      const at = hash.ttls?.get(field);
      if (at === undefined) return -1;
      if (at < now + slack) return NO_FIELD;
      return unit === 1000 ? Math.floor((at + 999 - base) / 1000) : at - base;
    });
  };
}

const SET_COMPLEXITY = "O(N) where N is the number of specified fields";
const SET_ARGS = "key time [NX | XX | GT | LT] FIELDS numfields field [field ...]";
const GET_ARGS = "key FIELDS numfields field [field ...]";

/** HPERSIST key FIELDS numfields field [field ...] */
export const hpersistCommand: CommandSpec = spec("hpersist", -5, true, {
  summary: "Removes the expiration time for each specified field",
  complexity: SET_COMPLEXITY,
  args: GET_ARGS,
}, (client, argv) => {
  const key = argv[1]!;
  const db = client.db;
  const hash = db.getTyped<HashValue>(key, "hash", true);
  const fields = fieldsArg(argv, 3, "Number of fields must be a positive integer");
  if (hash === undefined) return fields.map(() => NO_FIELD);
  const now = client.server.now();
  let changed = false;
  const out = fields.map((field) => {
    if (!hash.has(field)) return NO_FIELD;
    const at = hash.ttls?.get(field);
    if (at === undefined) return -1;
    if (at < now) return NO_FIELD;
    hash.setFieldTtl(field, undefined);
    changed = true;
    return 1;
  });
  if (changed) {
    db.notify(N.hash, "hpersist", key);
    db.touch(key);
    client.server.dirty++;
  }
  return out;
});

/** The field expiration commands of Redis 7.4. */
export const hashTtlCommands: CommandSpec[] = [
  spec("hexpire", -6, true, {
    summary: "Set expiry for hash field using relative time to expire (seconds)",
    complexity: SET_COMPLEXITY,
    args: SET_ARGS.replace("time", "seconds"),
  }, hexpire("hexpire", 1000, true)),
  spec("hpexpire", -6, true, {
    summary: "Set expiry for hash field using relative time to expire (milliseconds)",
    complexity: SET_COMPLEXITY,
    args: SET_ARGS.replace("time", "milliseconds"),
  }, hexpire("hpexpire", 1, true)),
  spec("hexpireat", -6, true, {
    summary: "Set expiry for hash field using an absolute Unix timestamp (seconds)",
    complexity: SET_COMPLEXITY,
    args: SET_ARGS.replace("time", "unix-time-seconds"),
  }, hexpire("hexpireat", 1000, false)),
  spec("hpexpireat", -6, true, {
    summary: "Set expiry for hash field using an absolute Unix timestamp (milliseconds)",
    complexity: SET_COMPLEXITY,
    args: SET_ARGS.replace("time", "unix-time-milliseconds"),
  }, hexpire("hpexpireat", 1, false)),
  hpersistCommand,
  spec("httl", -5, false, {
    summary: "Returns the TTL in seconds of a hash field.",
    complexity: SET_COMPLEXITY,
    args: GET_ARGS,
  }, httl(1000, true)),
  spec("hpttl", -5, false, {
    summary: "Returns the TTL in milliseconds of a hash field.",
    complexity: SET_COMPLEXITY,
    args: GET_ARGS,
  }, httl(1, true)),
  spec("hexpiretime", -5, false, {
    summary: "Returns the expiration time of a hash field as a Unix timestamp, in seconds.",
    complexity: SET_COMPLEXITY,
    args: GET_ARGS,
  }, httl(1000, false)),
  spec("hpexpiretime", -5, false, {
    summary: "Returns the expiration time of a hash field as a Unix timestamp, in msec.",
    complexity: SET_COMPLEXITY,
    args: GET_ARGS,
  }, httl(1, false)),
];
