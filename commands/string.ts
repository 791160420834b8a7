/**
 * String commands: GET, SET (every 7.0 option), SETNX, SETEX, PSETEX, GETSET, GETDEL, GETEX, MGET,
 * MSET, MSETNX, APPEND, STRLEN. Counters, ranges and bit operations live in their own modules.
 *
 * @module
 */

import { hasGet } from "../core/acl/key_access.ts";
import { ArgCursor } from "../core/args.ts";
import { parseI64 } from "../core/bytes.ts";
import type { Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import { N } from "../core/notify.ts";
import { E, fail, R, type Reply } from "../core/resp/reply.ts";
import {
  BIG_ERROR,
  bigArg,
  BigString,
  MAX_STRING_LENGTH,
  recycle,
} from "../core/types/big_string.ts";
import {
  appendBig,
  readString,
  replicateBigSet,
  replicateParts,
  valueReply,
  writeString,
} from "./string_big.ts";

const MAX_MS = 9223372036854775807 / 1000;

/**
 * Turns an expire argument into an absolute Unix time in ms, as Redis's
 * `getExpireMillisecondsOrReply` does: the value must be a positive integer; seconds are scaled;
 * relative times are added to the command time.
 */
export function expireArgToAbs(
  client: Client,
  text: string,
  seconds: boolean,
  relative: boolean,
  cmd: string,
): number {
  const v = parseI64(text);
  if (v === undefined) return fail(E.notInteger);
  const n = Number(v);
  if (n <= 0 || (seconds && n > MAX_MS)) return fail(E.invalidExpire(cmd));
  let ms = seconds ? n * 1000 : n;
  if (relative) ms += client.server.time;
  if (ms <= 0 || ms > 9223372036854775807) return fail(E.invalidExpire(cmd));
  return ms;
}

const SET_NX = 1;
const SET_XX = 2;
const SET_GET = 4;
const SET_KEEPTTL = 8;
const SET_EXPIRE = 16;

/** Runs SET with parsed options; shared by SET, SETEX, PSETEX and SETNX. */
function setGeneric(
  client: Client,
  argv: string[],
  value: string | BigString,
  flags: number,
  expireAt: number,
): Reply {
  const key = argv[1]!;
  const db = client.db;
  let old: string | BigString | null = null;
  if (flags & SET_GET) old = readString(client, key) ?? null;
  const prev = db.lookupWrite(key);
  const found = prev !== undefined;
  const oldReply = old === null ? null : valueReply(client, old);
  if ((flags & SET_NX && found) || (flags & SET_XX && !found)) {
    return flags & SET_GET ? oldReply : null;
  }
  db.set(key, value, (flags & SET_KEEPTTL) !== 0);
  // The old value's reply (GET) may still read its bytes: only a plain overwrite recycles them.
  if ((flags & SET_GET) === 0 && typeof value !== "string") recycle(db, prev);
  const server = client.server;
  server.dirty++;
  db.notify(N.string, "set", key);
  if (typeof value !== "string") {
    const opts = flags & SET_EXPIRE
      ? ["PXAT", String(expireAt)]
      : flags & SET_KEEPTTL
      ? ["KEEPTTL"]
      : [];
    if (flags & SET_EXPIRE) db.setExpire(key, expireAt);
    replicateBigSet(client, key, value, opts);
    if (flags & SET_EXPIRE) db.notify(N.generic, "expire", key);
  } else if (flags & SET_EXPIRE) {
    db.setExpire(key, expireAt);
    server.replicate(db.id, ["SET", key, value, "PXAT", String(expireAt)]);
    db.notify(N.generic, "expire", key);
  } else if (flags & SET_GET) {
    // Replicas get the command without GET, which is a read.
    server.replicate(db.id, argv.filter((a, i) => i < 3 || a.toUpperCase() !== "GET"));
  }
  return flags & SET_GET ? oldReply : R.ok;
}

/** SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL] */
export const setCommand: CommandSpec = {
  name: "set",
  arity: -3,
  flags: ["write", "denyoom"],
  keys: { first: 1, last: 1, step: 1 },
  keyFlags: (argv) => hasGet(argv) ? ["RW", "access", "update"] : ["OW", "update"],
  docs: {
    summary: "Set the string value of a key",
    since: "1.0.0",
    group: "string",
    complexity: "O(1)",
    args:
      "key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]",
  },
  bigArg: 2,
  bigArgBytes: true,
  execute(client, argv) {
    const big = bigArg(argv, 2);
    if (argv.length === 3 && big === undefined) {
      const db = client.db;
      db.set(argv[1]!, argv[2]!);
      client.server.dirty++;
      db.notify(N.string, "set", argv[1]!);
      return R.ok;
    }
    let flags = 0;
    let expire = "";
    let unitSeconds = false;
    let relative = false;
    const args = new ArgCursor(argv, 3);
    while (!args.done) {
      const opt = args.nextUpper();
      const hasNext = !args.done;
      if (opt === "NX" && !(flags & SET_XX)) flags |= SET_NX;
      else if (opt === "XX" && !(flags & SET_NX)) flags |= SET_XX;
      else if (opt === "GET") flags |= SET_GET;
      else if (opt === "KEEPTTL" && !(flags & SET_EXPIRE)) flags |= SET_KEEPTTL;
      else if (
        (opt === "EX" || opt === "PX" || opt === "EXAT" || opt === "PXAT") &&
        !(flags & (SET_KEEPTTL | SET_EXPIRE)) && hasNext
      ) {
        flags |= SET_EXPIRE;
        expire = args.next();
        unitSeconds = opt === "EX" || opt === "EXAT";
        relative = opt === "EX" || opt === "PX";
      } else return fail(E.syntax);
    }
    const at = flags & SET_EXPIRE
      ? expireArgToAbs(client, expire, unitSeconds, relative, "set")
      : 0;
    return setGeneric(client, argv, big ?? argv[2]!, flags, at);
  },
};

/** GET key */
export const getCommand: CommandSpec = {
  name: "get",
  arity: 2,
  flags: ["readonly", "fast"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Get the value of a key",
    since: "1.0.0",
    group: "string",
    complexity: "O(1)",
    args: "key",
  },
  execute(client, argv) {
    const v = client.db.get(argv[1]!);
    if (typeof v === "string") return v;
    return v === undefined
      ? null
      : valueReply(client, v instanceof BigString ? v : fail(E.wrongType));
  },
};

/** SETNX key value */
export const setnxCommand: CommandSpec = {
  name: "setnx",
  arity: 3,
  flags: ["write", "denyoom", "fast"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Set the value of a key, only if the key does not exist",
    since: "1.0.0",
    group: "string",
    complexity: "O(1)",
    args: "key value",
  },
  bigArg: 2,
  bigArgBytes: true,
  execute(client, argv) {
    return setGeneric(client, argv, bigArg(argv, 2) ?? argv[2]!, SET_NX, 0) === null ? 0 : 1;
  },
};

function setexSpec(name: string, seconds: boolean, summary: string, unit: string): CommandSpec {
  return {
    name,
    arity: 4,
    flags: ["write", "denyoom"],
    keys: { first: 1, last: 1, step: 1 },
    docs: {
      summary,
      since: seconds ? "2.0.0" : "2.6.0",
      group: "string",
      complexity: "O(1)",
      args: `key ${unit} value`,
    },
    bigArg: 3,
    bigArgBytes: true,
    execute(client, argv) {
      const at = expireArgToAbs(client, argv[2]!, seconds, true, name);
      return setGeneric(client, argv, bigArg(argv, 3) ?? argv[3]!, SET_EXPIRE, at);
    },
  };
}

/** SETEX key seconds value */
export const setexCommand = setexSpec(
  "setex",
  true,
  "Set the value and expiration of a key",
  "seconds",
);
/** PSETEX key milliseconds value */
export const psetexCommand = setexSpec(
  "psetex",
  false,
  "Set the value and expiration in milliseconds of a key",
  "milliseconds",
);

/** GETSET key value */
export const getsetCommand: CommandSpec = {
  name: "getset",
  arity: 3,
  flags: ["write", "denyoom", "fast"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Set the string value of a key and return its old value",
    since: "1.0.0",
    group: "string",
    complexity: "O(1)",
    args: "key value",
  },
  bigArg: 2,
  bigArgBytes: true,
  execute(client, argv) {
    const db = client.db;
    const old = readString(client, argv[1]!);
    const reply = old === undefined ? null : valueReply(client, old);
    const big = bigArg(argv, 2);
    db.set(argv[1]!, big ?? argv[2]!);
    client.server.dirty++;
    db.notify(N.string, "set", argv[1]!);
    if (big !== undefined) replicateBigSet(client, argv[1]!, big, []);
    return reply;
  },
};

/** GETDEL key */
export const getdelCommand: CommandSpec = {
  name: "getdel",
  arity: 2,
  flags: ["write", "fast"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Get the value of a key and delete the key",
    since: "6.2.0",
    group: "string",
    complexity: "O(1)",
    args: "key",
  },
  execute(client, argv) {
    const db = client.db;
    const v = readString(client, argv[1]!);
    if (v === undefined) return null;
    const reply = valueReply(client, v);
    db.delete(argv[1]!);
    client.server.dirty++;
    client.server.replicate(db.id, ["DEL", argv[1]!]);
    db.notify(N.generic, "del", argv[1]!);
    return reply;
  },
};

/** GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST] */
export const getexCommand: CommandSpec = {
  name: "getex",
  arity: -2,
  flags: ["write", "fast"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Get the value of a key and optionally set its expiration",
    since: "6.2.0",
    group: "string",
    complexity: "O(1)",
    args:
      "key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST]",
  },
  execute(client, argv) {
    const key = argv[1]!;
    let mode = "";
    let expire = "";
    const args = new ArgCursor(argv, 2);
    while (!args.done) {
      const opt = args.nextUpper();
      if (opt === "PERSIST" && mode === "") mode = opt;
      else if (
        (opt === "EX" || opt === "PX" || opt === "EXAT" || opt === "PXAT") && mode === "" &&
        !args.done
      ) {
        mode = opt;
        expire = args.next();
      } else return fail(E.syntax);
    }
    let at = 0;
    if (mode !== "" && mode !== "PERSIST") {
      at = expireArgToAbs(
        client,
        expire,
        mode === "EX" || mode === "EXAT",
        mode === "EX" || mode === "PX",
        "getex",
      );
    }
    const db = client.db;
    const v = readString(client, key);
    if (v === undefined) return null;
    const server = client.server;
    if (mode === "PERSIST") {
      if (db.persist(key)) {
        server.replicate(db.id, ["PERSIST", key]);
        server.dirty++;
        db.notify(N.generic, "persist", key);
      }
    } else if (mode !== "") {
      if (at <= server.time && !server.isReplica()) {
        db.delete(key);
        server.replicate(db.id, ["DEL", key]);
        server.dirty++;
        db.notify(N.generic, "del", key);
      } else {
        db.setExpire(key, at);
        server.replicate(db.id, ["PEXPIREAT", key, String(at)]);
        server.dirty++;
        db.notify(N.generic, "expire", key);
      }
      db.touch(key);
    }
    return valueReply(client, v);
  },
};

/** MGET key [key ...] */
export const mgetCommand: CommandSpec = {
  name: "mget",
  arity: -2,
  flags: ["readonly", "fast"],
  keys: { first: 1, last: -1, step: 1 },
  docs: {
    summary: "Get the values of all the given keys",
    since: "1.0.0",
    group: "string",
    complexity: "O(N) where N is the number of keys to retrieve.",
    args: "key [key ...]",
  },
  execute(client, argv) {
    const db = client.db;
    const out: Reply[] = new Array(argv.length - 1);
    for (let i = 1; i < argv.length; i++) {
      const v = db.get(argv[i]!);
      out[i - 1] = typeof v === "string"
        ? v
        : v instanceof BigString
        ? valueReply(client, v)
        : null;
    }
    return out;
  },
};

function msetGeneric(client: Client, argv: string[], nx: boolean, name: string): Reply {
  if (argv.length % 2 === 0) return fail(E.wrongArgs(name));
  const db = client.db;
  if (nx) {
    for (let i = 1; i < argv.length; i += 2) if (db.lookupWrite(argv[i]!) !== undefined) return 0;
  }
  for (let i = 1; i < argv.length; i += 2) {
    db.set(argv[i]!, argv[i + 1]!);
    db.notify(N.string, "set", argv[i]!);
  }
  client.server.dirty += (argv.length - 1) / 2;
  return nx ? 1 : R.ok;
}

/** MSET key value [key value ...] */
export const msetCommand: CommandSpec = {
  name: "mset",
  arity: -3,
  flags: ["write", "denyoom"],
  keys: { first: 1, last: -1, step: 2 },
  docs: {
    summary: "Set multiple keys to multiple values",
    since: "1.0.1",
    group: "string",
    complexity: "O(N) where N is the number of keys to set.",
    args: "key value [key value ...]",
  },
  execute: (client, argv) => msetGeneric(client, argv, false, "mset"),
};

/** MSETNX key value [key value ...] */
export const msetnxCommand: CommandSpec = {
  name: "msetnx",
  arity: -3,
  flags: ["write", "denyoom"],
  keys: { first: 1, last: -1, step: 2 },
  docs: {
    summary: "Set multiple keys to multiple values, only if none of the keys exist",
    since: "1.0.1",
    group: "string",
    complexity: "O(N) where N is the number of keys to set.",
    args: "key value [key value ...]",
  },
  execute: (client, argv) => msetGeneric(client, argv, true, "msetnx"),
};

/** APPEND key value */
export const appendCommand: CommandSpec = {
  name: "append",
  arity: 3,
  flags: ["write", "denyoom", "fast"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Append a value to a key",
    since: "2.0.0",
    group: "string",
    complexity:
      "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.",
    args: "key value",
  },
  bigArg: 2,
  bigArgBytes: true,
  execute(client, argv) {
    const db = client.db;
    const key = argv[1]!;
    const big = bigArg(argv, 2);
    const add = big ?? argv[2]!;
    const cur = writeString(client, key);
    let length = add.length;
    if (cur === undefined) {
      db.add(key, add);
    } else {
      length += cur.length;
      if (length > client.server.parserLimits.maxBulkLen) return fail(BIG_ERROR);
      db.replace(
        key,
        typeof cur === "string" && typeof add === "string" && length <= MAX_STRING_LENGTH
          ? cur + add
          : appendBig(cur, add),
      );
      db.touch(key);
    }
    client.server.dirty++;
    db.notify(N.string, "append", key);
    if (big !== undefined) replicateParts(client, big.bytes, (text) => ["APPEND", key, text]);
    return length;
  },
};

/** STRLEN key */
export const strlenCommand: CommandSpec = {
  name: "strlen",
  arity: 2,
  flags: ["readonly", "fast"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Get the length of the value stored in a key",
    since: "2.2.0",
    group: "string",
    complexity: "O(1)",
    args: "key",
  },
  execute(client, argv) {
    return readString(client, argv[1]!)?.length ?? 0;
  },
};

/** The basic string commands. */
export const stringCommands: CommandSpec[] = [
  getCommand,
  setCommand,
  setnxCommand,
  setexCommand,
  psetexCommand,
  getsetCommand,
  getdelCommand,
  getexCommand,
  mgetCommand,
  msetCommand,
  msetnxCommand,
  appendCommand,
  strlenCommand,
];
