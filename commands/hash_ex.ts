/**
 * Redis 8.0's hash commands that clients already call: HGETDEL, HGETEX and HSETEX. There is no
 * 8.0 reference binary here: replies follow the command pages of redis.io, and error texts reuse
 * Redis 7.4's for the same checks (FIELDS, numfields, expire times).
 *
 * Their effects reach replicas and the AOF in Redis 7.4's vocabulary (HSET, HDEL, HPEXPIREAT,
 * HPERSIST), so a 7.4 replica or an AOF read by 7.4 can follow them.
 *
 * @module
 */

import { i64Arg } from "../core/args.ts";
import type { Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import { keySpec } from "../core/key_spec.ts";
import { N } from "../core/notify.ts";
import { E, fail } from "../core/resp/reply.ts";
import { HashValue } from "../core/types/hash.ts";
import { checkField, trackFieldTtls } from "../core/types/hash_expiry.ts";
import { fieldsArg, MAX_FIELD_EXPIRE_MS } from "./hash_ttl.ts";
import { hashLimits } from "./hash_limits.ts";

/** An expiry option: an absolute time in ms, PERSIST, KEEPTTL, or none. */
type Expiry = number | "PERSIST" | "KEEPTTL" | undefined;

/** Parses `EX s | PX ms | EXAT s | PXAT ms` at `i` (the caller checked the word); the time in ms. */
function expiryTime(client: Client, word: string, text: string, name: string): number {
  const raw = i64Arg(text);
  const timeError = `ERR invalid expire time in '${name}' command`;
  if (raw < 0) return fail(timeError);
  let ms = Number(raw);
  if (word === "EX" || word === "EXAT") {
    if (ms > Math.floor(MAX_FIELD_EXPIRE_MS / 1000)) return fail(timeError);
    ms *= 1000;
  }
  const base = word === "EX" || word === "PX" ? client.server.now() : 0;
  if (ms > MAX_FIELD_EXPIRE_MS - base) return fail(timeError);
  return ms + base;
}

/** Reads the hash's field values, expiring due fields first (null for missing ones). */
function readValues(client: Client, key: string, hash: HashValue, fields: string[]) {
  return fields.map((f) => {
    if (hash.ttls !== undefined && checkField(client, key, hash, f) !== "live") return null;
    return hash.get(f) ?? null;
  });
}

/** Deletes the hash's key when it is empty, with the events Redis raises. */
function dropIfEmpty(client: Client, key: string, hash: HashValue): void {
  if (hash.size !== 0) {
    client.db.touch(key);
    return;
  }
  client.db.delete(key);
  client.db.notify(N.generic, "del", key);
}

/** HGETDEL key FIELDS numfields field [field ...] */
export const hgetdelCommand: CommandSpec = {
  name: "hgetdel",
  arity: -5,
  flags: ["write", "fast"],
  keys: { first: 1, last: 1, step: 1 },
  aclKeys: "RW",
  keySpecs: [keySpec("RW access delete")],
  docs: {
    summary: "Returns the value of a field and deletes it from the hash.",
    since: "8.0.0",
    group: "hash",
    complexity: "O(N) where N is the number of specified fields",
    args: "key FIELDS numfields field [field ...]",
  },
  execute(client, argv) {
    const key = argv[1]!;
    const hash = client.db.getTyped<HashValue>(key, "hash", true);
    const fields = fieldsArg(argv, 3, "Number of fields must be a positive integer");
    if (hash === undefined) return fields.map(() => null);
    const out = readValues(client, key, hash, fields);
    const deleted = fields.filter((f) => hash.delete(f));
    if (deleted.length === 0) return out;
    client.server.dirty += deleted.length;
    client.server.replicate(client.db.id, ["HDEL", key, ...deleted]);
    client.db.notify(N.hash, "hdel", key);
    dropIfEmpty(client, key, hash);
    return out;
  },
};

/** HGETEX key [EX s | PX ms | EXAT s | PXAT ms | PERSIST] FIELDS numfields field [field ...] */
export const hgetexCommand: CommandSpec = {
  name: "hgetex",
  arity: -5,
  flags: ["write", "fast"],
  keys: { first: 1, last: 1, step: 1 },
  aclKeys: "RW",
  keySpecs: [keySpec("RW access update")],
  docs: {
    summary:
      "Get the value of one or more fields of a given hash key, and optionally set their expiration.",
    since: "8.0.0",
    group: "hash",
    complexity: "O(N) where N is the number of specified fields",
    args:
      "key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST] FIELDS numfields field [field ...]",
  },
  execute(client, argv) {
    const key = argv[1]!;
    const db = client.db;
    const server = client.server;
    const hash = db.getTyped<HashValue>(key, "hash", true);
    let i = 2;
    let expiry: Expiry;
    const word = argv[i]!.toUpperCase();
    if (word === "PERSIST") {
      expiry = "PERSIST";
      i++;
    } else if (word === "EX" || word === "PX" || word === "EXAT" || word === "PXAT") {
      expiry = expiryTime(client, word, argv[i + 1] ?? fail(E.syntax), "hgetex");
      i += 2;
    }
    const fields = fieldsArg(argv, i + 1, "Number of fields must be a positive integer");
    if (hash === undefined) return fields.map(() => null);
    const out = readValues(client, key, hash, fields);
    if (expiry === undefined || db.peek(key) !== hash) return out;
    const present = fields.filter((f, j) => out[j] !== null && hash.has(f));
    if (present.length === 0) return out;
    if (expiry === "PERSIST") {
      const persisted = present.filter((f) => hash.ttls?.has(f) === true);
      for (const f of persisted) hash.setFieldTtl(f, undefined);
      if (persisted.length === 0) return out;
      server.dirty += persisted.length;
      server.replicate(db.id, ["HPERSIST", key, "FIELDS", String(persisted.length), ...persisted]);
      db.notify(N.hash, "hpersist", key);
      db.touch(key);
      return out;
    }
    const at = expiry as number;
    server.dirty += present.length;
    if (at <= server.now() && !server.isReplica()) {
      for (const f of present) hash.delete(f);
      server.stats.expiredSubkeys += present.length;
      server.replicate(db.id, ["HDEL", key, ...present]);
      db.notify(N.hash, "hdel", key);
      dropIfEmpty(client, key, hash);
      return out;
    }
    trackFieldTtls(server, db, key);
    for (const f of present) hash.setFieldTtl(f, at);
    server.replicate(db.id, [
      "HPEXPIREAT",
      key,
      String(at),
      "FIELDS",
      String(present.length),
      ...present,
    ]);
    db.notify(N.hash, "hexpire", key);
    db.touch(key);
    return out;
  },
};

/**
 * HSETEX key [FNX | FXX] [EX s | PX ms | EXAT s | PXAT ms | KEEPTTL]
 * FIELDS numfields field value [field value ...]
 */
export const hsetexCommand: CommandSpec = {
  name: "hsetex",
  arity: -6,
  flags: ["write", "denyoom", "fast"],
  keys: { first: 1, last: 1, step: 1 },
  aclKeys: "W", // RW UPDATE, as the write flag implies
  docs: {
    summary:
      "Set the value of one or more fields of a given hash key, and optionally set their expiration.",
    since: "8.0.0",
    group: "hash",
    complexity: "O(N) where N is the number of fields being set.",
    args:
      "key [FNX | FXX] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL] FIELDS numfields field value [field value ...]",
  },
  execute(client, argv) {
    const key = argv[1]!;
    const db = client.db;
    const server = client.server;
    let cond: "FNX" | "FXX" | undefined;
    let expiry: Expiry;
    let i = 2;
    for (; i < argv.length; i++) {
      const word = argv[i]!.toUpperCase();
      if (word === "FIELDS") break;
      if ((word === "FNX" || word === "FXX") && cond === undefined) cond = word;
      else if (word === "KEEPTTL" && expiry === undefined) expiry = "KEEPTTL";
      else if (
        (word === "EX" || word === "PX" || word === "EXAT" || word === "PXAT") &&
        expiry === undefined && i + 1 < argv.length
      ) expiry = expiryTime(client, word, argv[++i]!, "hsetex");
      else return fail(E.syntax);
    }
    if (i >= argv.length - 1) {
      return fail("ERR Mandatory argument FIELDS is missing or not at the right position");
    }
    const n = Number(argv[i + 1]);
    if (!Number.isSafeInteger(n) || n < 1) {
      return fail("ERR Number of fields must be a positive integer");
    }
    if (n * 2 !== argv.length - i - 2) {
      return fail("ERR The `numfields` parameter must match the number of arguments");
    }
    const found = db.getTyped<HashValue>(key, "hash", true);
    const pairs = argv.slice(i + 2);
    if (cond !== undefined) {
      for (let j = 0; j < pairs.length; j += 2) {
        const f = pairs[j]!;
        const exists = found !== undefined &&
          (found.ttls === undefined || checkField(client, key, found, f) === "live") &&
          found.has(f);
        if (exists !== (cond === "FXX")) return 0;
      }
    }
    const live = found !== undefined && db.peek(key) === found;
    const hash = live ? found : new HashValue();
    if (!live) db.add(key, hash);
    const now = server.now();
    const kept: Array<[string, number]> = [];
    for (let j = 0; j < pairs.length; j += 2) {
      const f = pairs[j]!;
      const old = expiry === "KEEPTTL" ? hash.ttls?.get(f) : undefined;
      hash.set(f, pairs[j + 1]!, hashLimits(client), expiry === "KEEPTTL");
      // The HSET that replicas get clears the TTL: an HPEXPIREAT after it restores it.
      if (old !== undefined) kept.push([f, old]);
    }
    server.dirty += pairs.length / 2;
    server.replicate(db.id, ["HSET", key, ...pairs]);
    db.notify(N.hash, "hset", key);
    for (const [f, at] of kept) {
      server.replicate(db.id, ["HPEXPIREAT", key, String(at), "FIELDS", "1", f]);
    }
    if (typeof expiry === "number") {
      const fields = pairs.filter((_, j) => j % 2 === 0);
      if (expiry <= now && !server.isReplica()) {
        for (const f of fields) hash.delete(f);
        server.replicate(db.id, ["HDEL", key, ...fields]);
        db.notify(N.hash, "hdel", key);
        dropIfEmpty(client, key, hash);
        return 1;
      }
      trackFieldTtls(server, db, key);
      for (const f of fields) hash.setFieldTtl(f, expiry);
      server.replicate(db.id, [
        "HPEXPIREAT",
        key,
        String(expiry),
        "FIELDS",
        String(fields.length),
        ...fields,
      ]);
      db.notify(N.hash, "hexpire", key);
    }
    if (live) db.touch(key);
    return 1;
  },
};

/** The Redis 8.0 hash commands. */
export const hashExCommands: CommandSpec[] = [hgetdelCommand, hgetexCommand, hsetexCommand];
