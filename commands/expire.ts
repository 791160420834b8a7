/**
 * Expiry commands: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (with NX | XX | GT | LT), TTL, PTTL,
 * EXPIRETIME, PEXPIRETIME and PERSIST.
 *
 * Every form that sets a TTL propagates as `PEXPIREAT key <absolute ms>`, so replicas and the AOF
 * do not shift expiry by their lag; a time already past deletes the key and propagates `DEL`
 * (except on a replica, which keeps the key with its past TTL until the master's DEL arrives).
 *
 * @module
 */

import { parseI64 } from "../core/bytes.ts";
import type { Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import { N } from "../core/notify.ts";
import { E, fail, type Reply } from "../core/resp/reply.ts";

const EXPIRE_NX = 1;
const EXPIRE_XX = 2;
const EXPIRE_GT = 4;
const EXPIRE_LT = 8;

const LLONG_MAX = 9223372036854775807n;
const LLONG_MIN = -9223372036854775808n;
/** Below this magnitude, seconds * 1000 + now stays exact in a double. */
const SAFE_FAST = 4_000_000_000_000;

/** Parses `[NX | XX | GT | LT]...` from argv[3] on, with Redis's texts for bad combinations. */
function parseExpireFlags(argv: string[]): number {
  let flags = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j]!.toUpperCase();
    if (opt === "NX") flags |= EXPIRE_NX;
    else if (opt === "XX") flags |= EXPIRE_XX;
    else if (opt === "GT") flags |= EXPIRE_GT;
    else if (opt === "LT") flags |= EXPIRE_LT;
    else return fail(`ERR Unsupported option ${argv[j]!.replace(/[\r\n]/g, " ")}`);
  }
  if (flags & EXPIRE_NX && flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT)) {
    return fail("ERR NX and XX, GT or LT options at the same time are not compatible");
  }
  if (flags & EXPIRE_GT && flags & EXPIRE_LT) {
    return fail("ERR GT and LT options at the same time are not compatible");
  }
  return flags;
}

/**
 * The absolute expiry in ms for argument `text`, scaled from seconds and offset by `base`, with
 * Redis's int64 overflow checks. Returns the exact value (bigint past 2^53) for propagation.
 */
function absoluteMs(text: string, seconds: boolean, base: number, cmd: string): number | bigint {
  const v = parseI64(text);
  if (v === undefined) return fail(E.notInteger);
  if (typeof v === "number" && Math.abs(v) < SAFE_FAST) return (seconds ? v * 1000 : v) + base;
  let when = BigInt(v);
  if (seconds) {
    if (when > LLONG_MAX / 1000n || when < LLONG_MIN / 1000n) return fail(E.invalidExpire(cmd));
    when *= 1000n;
  }
  if (when > LLONG_MAX - BigInt(base)) return fail(E.invalidExpire(cmd));
  when += BigInt(base);
  return Number.isSafeInteger(Number(when)) ? Number(when) : when;
}

/** The shared body of the four EXPIRE commands (Redis's expireGenericCommand). */
function expireGeneric(
  client: Client,
  argv: string[],
  how: { name: string; relative: boolean; seconds: boolean },
): Reply {
  const flags = parseExpireFlags(argv);
  const server = client.server;
  const base = how.relative ? server.time : 0;
  const exact = absoluteMs(argv[2]!, how.seconds, base, how.name);
  const when = Number(exact);
  const db = client.db;
  const key = argv[1]!;
  if (db.lookupWrite(key) === undefined) return 0;
  if (flags !== 0) {
    const current = db.getExpire(key);
    if (flags & EXPIRE_NX && current !== -1) return 0;
    if (flags & EXPIRE_XX && current === -1) return 0;
    // A key without TTL counts as an infinite TTL: GT never beats it, LT always does.
    if (flags & EXPIRE_GT && (current === -1 || when <= current)) return 0;
    if (flags & EXPIRE_LT && current !== -1 && when >= current) return 0;
  }
  server.dirty++;
  if (when <= server.time && !server.isReplica()) {
    db.delete(key);
    const lazy = server.config.bool("lazyfree-lazy-expire");
    server.replicate(db.id, [lazy ? "UNLINK" : "DEL", key]);
    db.notify(N.generic, "del", key);
    return 1;
  }
  db.setExpire(key, when);
  db.touch(key);
  // Redis rewrites only the name and the time: the options travel along.
  server.replicate(db.id, ["PEXPIREAT", key, String(exact), ...argv.slice(3)]);
  db.notify(N.generic, "expire", key);
  return 1;
}

function expireSpec(
  name: string,
  relative: boolean,
  seconds: boolean,
  summary: string,
  since: string,
  unit: string,
): CommandSpec {
  return {
    name,
    arity: -3,
    flags: ["write", "fast"],
    keys: { first: 1, last: 1, step: 1 },
    docs: {
      summary,
      since,
      group: "generic",
      complexity: "O(1)",
      args: `key ${unit} [NX | XX | GT | LT]`,
    },
    execute: (client, argv) => expireGeneric(client, argv, { name, relative, seconds }),
  };
}

/** EXPIRE key seconds [NX | XX | GT | LT] */
export const expireCommand = expireSpec(
  "expire",
  true,
  true,
  "Set a key's time to live in seconds",
  "1.0.0",
  "seconds",
);
/** PEXPIRE key milliseconds [NX | XX | GT | LT] */
export const pexpireCommand = expireSpec(
  "pexpire",
  true,
  false,
  "Set a key's time to live in milliseconds",
  "2.6.0",
  "milliseconds",
);
/** EXPIREAT key unix-time-seconds [NX | XX | GT | LT] */
export const expireatCommand = expireSpec(
  "expireat",
  false,
  true,
  "Set the expiration for a key as a UNIX timestamp",
  "1.2.0",
  "unix-time-seconds",
);
/** PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT] */
export const pexpireatCommand = expireSpec(
  "pexpireat",
  false,
  false,
  "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
  "2.6.0",
  "unix-time-milliseconds",
);

/** TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 when missing, -1 without TTL. */
function ttlSpec(name: string, ms: boolean, absolute: boolean, summary: string): CommandSpec {
  return {
    name,
    arity: 2,
    flags: ["readonly", "fast"],
    keys: { first: 1, last: 1, step: 1 },
    docs: {
      summary,
      since: absolute ? "7.0.0" : ms ? "2.6.0" : "1.0.0",
      group: "generic",
      complexity: "O(1)",
      args: "key",
    },
    execute(client, argv) {
      const db = client.db;
      const key = argv[1]!;
      if (db.get(key, true) === undefined) return -2;
      const at = db.getExpire(key);
      if (at === -1) return -1;
      const ttl = Math.max(0, absolute ? at : at - client.server.time);
      // Seconds are rounded to the nearest, as Redis's (ttl + 500) / 1000.
      return ms ? ttl : Math.floor((ttl + 500) / 1000);
    },
  };
}

/** TTL key */
export const ttlCommand = ttlSpec("ttl", false, false, "Get the time to live for a key in seconds");
/** PTTL key */
export const pttlCommand = ttlSpec(
  "pttl",
  true,
  false,
  "Get the time to live for a key in milliseconds",
);
/** EXPIRETIME key */
export const expiretimeCommand = ttlSpec(
  "expiretime",
  false,
  true,
  "Get the expiration Unix timestamp for a key",
);
/** PEXPIRETIME key */
export const pexpiretimeCommand = ttlSpec(
  "pexpiretime",
  true,
  true,
  "Get the expiration Unix timestamp for a key in milliseconds",
);

/** PERSIST key */
export const persistCommand: CommandSpec = {
  name: "persist",
  arity: 2,
  flags: ["write", "fast"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Remove the expiration from a key",
    since: "2.2.0",
    group: "generic",
    complexity: "O(1)",
    args: "key",
  },
  execute(client, argv) {
    const db = client.db;
    const key = argv[1]!;
    if (db.lookupWrite(key) === undefined || !db.persist(key)) return 0;
    db.touch(key);
    db.notify(N.generic, "persist", key);
    client.server.dirty++;
    return 1;
  },
};

/** The expiry commands. */
export const expireCommands: CommandSpec[] = [
  expireCommand,
  pexpireCommand,
  expireatCommand,
  pexpireatCommand,
  ttlCommand,
  pttlCommand,
  expiretimeCommand,
  pexpiretimeCommand,
  persistCommand,
];
