/**
 * DUMP and RESTORE: a key's value as a DUMP payload (RDB type byte, RDB body, RDB version 10,
 * CRC64) and back, in the format of Redis 7.0, so payloads move between redeno and Redis.
 *
 * RESTORE with a relative TTL propagates with the absolute time and `ABSTTL` added (replicas do
 * not shift the expiry by their lag); a TTL already past restores nothing, and with REPLACE
 * propagates the deletion of the old value as `DEL`.
 *
 * @module
 */

import { parseI64 } from "../core/bytes.ts";
import { strToBytes } from "../core/bytes.ts";
import type { Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import { lfuInit, lruClock } from "../core/keyspace/access.ts";
import { N } from "../core/notify.ts";
import { dumpValue, restoreValue, verifyPayload } from "../core/rdb/payload.ts";
import { readLimits } from "../core/rdb/read_value.ts";
import { RdbFormatError } from "../core/rdb/strings.ts";
import { writeOptions } from "../core/rdb/write_value.ts";
import { E, fail, R, type Reply } from "../core/resp/reply.ts";
import { BIG_ERROR, bigArg, BigString } from "../core/types/big_string.ts";
import { bytesReply, replicateBigSet } from "./string_big.ts";
import { trackIfFieldTtls } from "../core/types/hash_expiry.ts";

const LRU_CLOCK_MAX = (1 << 24) - 1;

/** DUMP key */
export const dumpCommand: CommandSpec = {
  name: "dump",
  arity: 2,
  flags: ["readonly"],
  keys: { first: 1, last: 1, step: 1 },
  acl: ["keyspace"],
  docs: {
    summary: "Return a serialized version of the value stored at the specified key.",
    since: "2.6.0",
    group: "generic",
    complexity:
      "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).",
    args: "key",
  },
  execute(client, argv) {
    const value = client.db.get(argv[1]!);
    if (value === undefined) return null;
    try {
      return bytesReply(client, dumpValue(value, writeOptions(client.server.config)), true);
    } catch (e) {
      if (e instanceof TypeError) return fail(`ERR ${e.message}`);
      throw e;
    }
  },
};

/** The options of RESTORE after the payload. */
interface RestoreOptions {
  replace: boolean;
  absttl: boolean;
  /** IDLETIME seconds, or -1. */
  idle: number;
  /** FREQ counter, or -1. */
  freq: number;
}

/** Parses `[REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]` as Redis does. */
function parseRestoreOptions(argv: string[]): RestoreOptions {
  const opts: RestoreOptions = { replace: false, absttl: false, idle: -1, freq: -1 };
  for (let j = 4; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    const more = j + 1 < argv.length;
    if (opt === "replace") opts.replace = true;
    else if (opt === "absttl") opts.absttl = true;
    // IDLETIME and FREQ exclude each other: the second one is a syntax error.
    else if (opt === "idletime" && more && opts.freq === -1) {
      opts.idle = int64(argv[++j]!);
      if (opts.idle < 0) fail("ERR Invalid IDLETIME value, must be >= 0");
    } else if (opt === "freq" && more && opts.idle === -1) {
      opts.freq = int64(argv[++j]!);
      if (opts.freq < 0 || opts.freq > 255) fail("ERR Invalid FREQ value, must be >= 0 and <= 255");
    } else fail(E.syntax);
  }
  return opts;
}

function int64(text: string): number {
  const v = parseI64(text);
  return v === undefined ? fail(E.notInteger) : Number(v);
}

/** The access stamp RESTORE gives the key: from FREQ under LFU, from IDLETIME otherwise. */
function restoredStamp(client: Client, opts: RestoreOptions): number | undefined {
  const server = client.server;
  const now = server.time;
  if (server.config.str("maxmemory-policy").endsWith("lfu")) {
    // The stamp packs the minutes clock with the counter; lfuInit gives the clock part.
    return opts.freq >= 0 ? ((lfuInit(now) >>> 8) << 8) | opts.freq : undefined;
  }
  if (opts.idle < 0) return undefined;
  let stamp = lruClock(now) - opts.idle;
  if (stamp < 0) stamp += LRU_CLOCK_MAX;
  return stamp;
}

/** RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency] */
export const restoreCommand: CommandSpec = {
  name: "restore",
  arity: -4,
  flags: ["write", "denyoom"],
  keys: { first: 1, last: 1, step: 1 },
  acl: ["keyspace", "dangerous"],
  docs: {
    summary: "Create a key using the provided serialized value, previously obtained using DUMP.",
    since: "2.6.0",
    group: "generic",
    complexity:
      "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).",
    args: "key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]",
  },
  bigArg: 3,
  execute(client, argv): Reply {
    const opts = parseRestoreOptions(argv);
    const db = client.db;
    const server = client.server;
    const key = argv[1]!;
    if (!opts.replace && db.lookupWrite(key) !== undefined) {
      return fail("BUSYKEY Target key name already exists.");
    }
    let ttl = int64(argv[2]!);
    if (ttl < 0) return fail("ERR Invalid TTL value, must be >= 0");
    const big = bigArg(argv, 3);
    const payload = big?.bytes ?? strToBytes(argv[3]!);
    if (!verifyPayload(payload, true)) {
      return fail("ERR DUMP payload version or checksum are wrong");
    }
    let value;
    try {
      value = restoreValue(payload, readLimits(server.config));
    } catch (e) {
      if (e instanceof RdbFormatError) return fail("ERR Bad data format");
      throw e;
    }
    // A payload too long for a string propagates as the value's SET (below), so it must be one.
    if (big !== undefined && !(value instanceof BigString)) return fail(BIG_ERROR);
    const deleted = opts.replace && db.delete(key);
    if (ttl !== 0 && !opts.absttl) ttl += server.time;
    if (ttl !== 0 && ttl <= server.time && !server.isReplica()) {
      // Already expired: nothing is created; a replaced key is gone, which propagates as DEL.
      if (deleted) {
        server.replicate(db.id, ["DEL", key]);
        db.notify(N.generic, "del", key);
        server.dirty++;
      }
      return R.ok;
    }
    db.add(key, value);
    trackIfFieldTtls(server, db, key, value);
    const stamp = restoredStamp(client, opts);
    if (stamp !== undefined) db.dict.set(key, value, stamp);
    if (value instanceof BigString && big !== undefined) {
      if (ttl !== 0) db.setExpire(key, ttl);
      replicateBigSet(client, key, value, ttl !== 0 ? ["PXAT", String(ttl)] : []);
    } else if (ttl !== 0) {
      db.setExpire(key, ttl);
      if (!opts.absttl) {
        const effect = argv.slice();
        effect[2] = String(ttl);
        effect.push("ABSTTL");
        server.replicate(db.id, effect);
      }
    }
    db.notify(N.generic, "restore", key);
    server.dirty++;
    return R.ok;
  },
};

/** DUMP and RESTORE. */
export const dumpCommands: CommandSpec[] = [dumpCommand, restoreCommand];
