/**
 * Generic keyspace commands: DEL, UNLINK, EXISTS, TYPE, KEYS, SCAN, RANDOMKEY, TOUCH, RENAME,
 * RENAMENX, MOVE and COPY, plus OBJECT (from `object.ts`). Expiry commands live in `expire.ts`,
 * whole-database commands in `database.ts`.
 *
 * @module
 */

import { lazyFreed } from "../core/memory/lazyfree.ts";
import { i32Arg, intArg } from "../core/args.ts";
import type { Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import { globMatch } from "../core/glob.ts";
import { type Database, typeName, type Value } from "../core/keyspace/database.ts";
import { N } from "../core/notify.ts";
import { E, fail, R, type Reply, SimpleString } from "../core/resp/reply.ts";
import { objectCommand } from "./object.ts";
import { parseU64 } from "../core/types/stream_id.ts";

const SAME_OBJECT = "ERR source and destination objects are the same";
const ONE_KEY = { first: 1, last: 1, step: 1 } as const;
const ALL_KEYS = { first: 1, last: -1, step: 1 } as const;

/** How many of the keys in argv exist (a key named twice counts twice). */
function countExisting(client: Client, argv: string[], touch: boolean): Reply {
  const db = client.db;
  let found = 0;
  // TOUCH updates the keys' access stamps; EXISTS does not, as in Redis.
  for (let i = 1; i < argv.length; i++) if (db.get(argv[i]!, !touch) !== undefined) found++;
  return found;
}

function delGeneric(client: Client, argv: string[], lazy: boolean): Reply {
  const db = client.db;
  let deleted = 0;
  for (let i = 1; i < argv.length; i++) {
    const key = argv[i]!;
    const value = lazy ? db.peek(key) : undefined;
    if (db.delete(key)) {
      if (lazy) lazyFreed(client.server, value);
      db.notify(N.generic, "del", key);
      deleted++;
    }
  }
  client.server.dirty += deleted;
  return deleted;
}

/** DEL key [key ...] */
export const delCommand: CommandSpec = {
  name: "del",
  arity: -2,
  flags: ["write"],
  keys: ALL_KEYS,
  docs: {
    summary: "Delete a key",
    since: "1.0.0",
    group: "generic",
    complexity:
      "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).",
    args: "key [key ...]",
  },
  execute: (client, argv) =>
    delGeneric(client, argv, client.server.config.bool("lazyfree-lazy-user-del")),
};

/** UNLINK key [key ...]: DEL; values are reclaimed by the garbage collector either way. */
export const unlinkCommand: CommandSpec = {
  name: "unlink",
  arity: -2,
  flags: ["write", "fast"],
  keys: ALL_KEYS,
  docs: {
    summary:
      "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
    since: "4.0.0",
    group: "generic",
    complexity:
      "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.",
    args: "key [key ...]",
  },
  execute: (client, argv) => delGeneric(client, argv, true),
};

/** EXISTS key [key ...]: a key named twice counts twice. */
export const existsCommand: CommandSpec = {
  name: "exists",
  arity: -2,
  flags: ["readonly", "fast"],
  keys: ALL_KEYS,
  docs: {
    summary: "Determine if a key exists",
    since: "1.0.0",
    group: "generic",
    complexity: "O(N) where N is the number of keys to check.",
    args: "key [key ...]",
  },
  execute: (client, argv) => countExisting(client, argv, false),
};

/** TOUCH key [key ...] */
export const touchCommand: CommandSpec = {
  name: "touch",
  arity: -2,
  flags: ["readonly", "fast"],
  keys: ALL_KEYS,
  docs: {
    summary:
      "Alters the last access time of a key(s). Returns the number of existing keys specified.",
    since: "3.2.1",
    group: "generic",
    complexity: "O(N) where N is the number of keys that will be touched.",
    args: "key [key ...]",
  },
  // Access times are not tracked yet, so TOUCH only counts.
  execute: (client, argv) => countExisting(client, argv, true),
};

/** TYPE key */
export const typeCommand: CommandSpec = {
  name: "type",
  arity: 2,
  flags: ["readonly", "fast"],
  keys: ONE_KEY,
  docs: {
    summary: "Determine the type stored at key",
    since: "1.0.0",
    group: "generic",
    complexity: "O(1)",
    args: "key",
  },
  execute(client, argv) {
    const v = client.db.get(argv[1]!, true);
    return new SimpleString(v === undefined ? "none" : typeName(v));
  },
};

/** KEYS pattern */
export const keysCommand: CommandSpec = {
  name: "keys",
  arity: 2,
  flags: ["readonly"],
  acl: ["keyspace", "dangerous"],
  docs: {
    summary: "Find all keys matching the given pattern",
    since: "1.0.0",
    group: "generic",
    complexity:
      "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
    args: "pattern",
  },
  execute(client, argv) {
    const db = client.db;
    const pattern = argv[1]!;
    const all = pattern === "*";
    const now = client.server.time;
    const dict = db.dict;
    const out: string[] = [];
    for (let i = 0; i < dict.size; i++) {
      const key = dict.keyAt(i);
      if (!all && !globMatch(pattern, key)) continue;
      // Like Redis, KEYS hides expired keys without deleting them.
      const at = db.expires.size === 0 ? undefined : db.expires.get(key);
      if (at === undefined || at > now) out.push(key);
    }
    return out;
  },
};

/**
 * Parses a SCAN cursor as Redis 7.4 does (`string2ull`): decimal digits, optionally after blanks
 * and a sign (a negative one wraps modulo 2^64, but `-<n>` that fits a long long is refused), up
 * to a NUL; nothing else, and not an empty string.
 *
 * @param text the cursor argument
 * @returns the cursor (positions past 2^53 lose precision, harmless: they exceed any size)
 */
export function parseScanCursor(text: string): number {
  const nul = text.indexOf("\0");
  const n = parseU64(nul < 0 ? text : text.slice(0, nul));
  return n === undefined ? fail("ERR invalid cursor") : Number(n);
}

/** The options of SCAN, SSCAN, HSCAN and ZSCAN. */
export interface ScanOptions {
  /** Elements to visit per call (COUNT, default 10). */
  count: number;
  /** MATCH pattern, undefined when absent or `*`. */
  pattern: string | undefined;
  /** TYPE filter (SCAN only), undefined when absent. */
  type: string | undefined;
  /** NOVALUES (HSCAN only, Redis 7.4): fields without their values. */
  noValues: boolean;
}

/** Which of the scan commands is parsing its options: each accepts a different extra. */
export type ScanKind = "scan" | "sscan" | "hscan" | "zscan";

/**
 * Parses `[MATCH pattern] [COUNT count] [TYPE type] [NOVALUES]` from `argv[from]` on, with
 * Redis's errors: TYPE is SCAN's, NOVALUES HSCAN's.
 *
 * @param argv the command's arguments
 * @param from index of the first option
 * @param kind the command parsing them
 * @returns the options
 */
export function parseScanOptions(argv: string[], from: number, kind: ScanKind): ScanOptions {
  const opts: ScanOptions = { count: 10, pattern: undefined, type: undefined, noValues: false };
  for (let i = from; i < argv.length; i += 2) {
    const opt = argv[i]!.toUpperCase();
    const hasValue = i + 1 < argv.length;
    if (opt === "COUNT" && hasValue) {
      const n = intArg(argv[i + 1]!);
      if (n < 1) return fail(E.syntax);
      opts.count = n;
    } else if (opt === "MATCH" && hasValue) {
      opts.pattern = argv[i + 1] === "*" ? undefined : argv[i + 1];
    } else if (opt === "TYPE" && kind === "scan" && hasValue) {
      opts.type = argv[i + 1]!.toLowerCase();
    } else if (opt === "NOVALUES") {
      if (kind !== "hscan") return fail("ERR NOVALUES option can only be used in HSCAN");
      opts.noValues = true;
      i--; // a flag: the loop's step of two would skip the next option
    } else return fail(E.syntax);
  }
  return opts;
}

/** SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] */
export const scanCommand: CommandSpec = {
  name: "scan",
  touchesArbitraryKeys: true,
  arity: -2,
  flags: ["readonly"],
  docs: {
    summary: "Incrementally iterate the keys space",
    since: "2.8.0",
    group: "generic",
    complexity:
      "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
    args: "cursor [MATCH pattern] [COUNT count] [TYPE type]",
  },
  execute(client, argv) {
    const cursor = parseScanCursor(argv[1]!);
    const opts = parseScanOptions(argv, 2, "scan");
    const db = client.db;
    const found: string[] = [];
    // Collect first, filter after: filtering may delete expired keys, which moves entries.
    const next = db.dict.scan(cursor, opts.count, (key) => found.push(key));
    const keys: string[] = [];
    for (const key of found) {
      if (opts.pattern !== undefined && !globMatch(opts.pattern, key)) continue;
      if (opts.type !== undefined) {
        const v = db.get(key, true);
        if ((v === undefined ? "none" : typeName(v)).toLowerCase() !== opts.type) continue;
      }
      if (db.expires.size !== 0 && db.expireIfNeeded(key)) continue;
      keys.push(key);
    }
    return [String(next), keys];
  },
};

/** RANDOMKEY */
export const randomkeyCommand: CommandSpec = {
  name: "randomkey",
  touchesArbitraryKeys: true,
  arity: 1,
  flags: ["readonly"],
  docs: {
    summary: "Return a random key from the keyspace",
    since: "1.0.0",
    group: "generic",
    complexity: "O(1)",
  },
  execute: (client) => client.db.randomKey() ?? null,
};

function renameGeneric(client: Client, argv: string[], nx: boolean): Reply {
  const db = client.db;
  const src = argv[1]!;
  const dst = argv[2]!;
  const value = db.lookupWrite(src);
  if (value === undefined) return fail(E.noSuchKey);
  if (src === dst) return nx ? 0 : R.ok;
  const expire = db.getExpire(src);
  if (db.lookupWrite(dst) !== undefined && nx) return 0;
  // set() replaces any value at dst and drops its TTL; the TTL of src moves with the value.
  db.set(dst, value);
  if (expire !== -1) db.setExpire(dst, expire);
  db.delete(src);
  db.notify(N.generic, "rename_from", src);
  db.notify(N.generic, "rename_to", dst);
  client.server.dirty++;
  return nx ? 1 : R.ok;
}

/** RENAME key newkey */
export const renameCommand: CommandSpec = {
  name: "rename",
  arity: 3,
  flags: ["write"],
  keys: { first: 1, last: 2, step: 1 },
  docs: {
    summary: "Rename a key",
    since: "1.0.0",
    group: "generic",
    complexity: "O(1)",
    args: "key newkey",
  },
  execute: (client, argv) => renameGeneric(client, argv, false),
};

/** RENAMENX key newkey */
export const renamenxCommand: CommandSpec = {
  name: "renamenx",
  arity: 3,
  flags: ["write", "fast"],
  keys: { first: 1, last: 2, step: 1 },
  docs: {
    summary: "Rename a key, only if the new key does not exist",
    since: "1.0.0",
    group: "generic",
    complexity: "O(1)",
    args: "key newkey",
  },
  execute: (client, argv) => renameGeneric(client, argv, true),
};

/** The database numbered by argument `text`, with Redis's errors. */
function targetDb(client: Client, text: string): Database {
  const db = client.server.dbs[i32Arg(text)];
  return db ?? fail(E.dbIndex);
}

/** MOVE key db */
export const moveCommand: CommandSpec = {
  name: "move",
  arity: 3,
  flags: ["write", "fast"],
  keys: ONE_KEY,
  docs: {
    summary: "Move a key to another database",
    since: "1.0.0",
    group: "generic",
    complexity: "O(1)",
    args: "key db",
  },
  execute(client, argv) {
    const src = client.db;
    const dst = targetDb(client, argv[2]!);
    if (dst === src) return fail(SAME_OBJECT);
    const key = argv[1]!;
    const value = src.lookupWrite(key);
    if (value === undefined) return 0;
    const expire = src.getExpire(key);
    if (dst.lookupWrite(key) !== undefined) return 0;
    dst.add(key, value);
    if (expire !== -1) dst.setExpire(key, expire);
    src.delete(key);
    src.notify(N.generic, "move_from", key);
    dst.notify(N.generic, "move_to", key);
    client.server.dirty++;
    return 1;
  },
};

/** COPY source destination [DB destination-db] [REPLACE] */
export const copyCommand: CommandSpec = {
  name: "copy",
  arity: -3,
  flags: ["write", "denyoom"],
  keys: { first: 1, last: 2, step: 1 },
  docs: {
    summary: "Copy a key",
    since: "6.2.0",
    group: "generic",
    complexity:
      "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
    args: "source destination [DB destination-db] [REPLACE]",
  },
  execute(client, argv) {
    const src = client.db;
    let dst = src;
    let replace = false;
    for (let i = 3; i < argv.length; i++) {
      const opt = argv[i]!.toUpperCase();
      if (opt === "REPLACE") replace = true;
      else if (opt === "DB" && i + 1 < argv.length) dst = targetDb(client, argv[++i]!);
      else return fail(E.syntax);
    }
    const key = argv[1]!;
    const newkey = argv[2]!;
    if (src === dst && key === newkey) return fail(SAME_OBJECT);
    const value = src.get(key);
    if (value === undefined) return 0;
    const expire = src.getExpire(key);
    if (dst.lookupWrite(newkey) !== undefined && !replace) return 0;
    // Strings are immutable JS strings: sharing one is a copy.
    const copy: Value = typeof value === "string" ? value : value.clone();
    dst.set(newkey, copy);
    if (expire !== -1) dst.setExpire(newkey, expire);
    dst.notify(N.generic, "copy_to", newkey);
    client.server.dirty++;
    return 1;
  },
};

/** The generic keyspace commands. */
export const keysCommands: CommandSpec[] = [
  delCommand,
  unlinkCommand,
  existsCommand,
  touchCommand,
  typeCommand,
  keysCommand,
  scanCommand,
  randomkeyCommand,
  renameCommand,
  renamenxCommand,
  moveCommand,
  copyCommand,
  objectCommand,
];
