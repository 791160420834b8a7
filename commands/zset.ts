/**
 * Sorted set commands: ZADD (NX, XX, GT, LT, CH, INCR), ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE,
 * ZRANK, ZREVRANK and ZSCAN. Ranges, set operations, pops and random picks live in
 * `zset_range.ts`, `zset_ops.ts` and `zset_pop.ts`; {@linkcode zsetCommands} lists them all.
 *
 * @module
 */

import { formatDouble, formatDouble72 } from "../core/bytes.ts";
import type { Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import { globMatch } from "../core/glob.ts";
import { N } from "../core/notify.ts";
import { DoubleReply, E, fail, R, type Reply } from "../core/resp/reply.ts";
import {
  ZADD_GT,
  ZADD_INCR,
  ZADD_LT,
  ZADD_NX,
  ZADD_OUT,
  ZADD_XX,
  zsetLimits,
} from "../core/types/zset.ts";
import { parseScanCursor, parseScanOptions } from "./keys.ts";
import { scoreArg } from "./zset_args.ts";
import { getZset, ZSet } from "./zset_common.ts";
import { zsetOpsCommands } from "./zset_ops.ts";
import { zsetPopCommands } from "./zset_pop.ts";
import { zsetRangeCommands } from "./zset_range.ts";

const ONE_KEY = { first: 1, last: 1, step: 1 } as const;
const LOG_N = "O(log(N)) where N is the number of elements in the sorted set.";

/** The ZADD option flag of `s`, 0 when it is not an option (ZADD's options are 2-4 chars). */
function zaddOption(s: string): number {
  if (s.length < 2 || s.length > 4) return 0;
  switch (s.toLowerCase()) {
    case "nx":
      return ZADD_NX;
    case "xx":
      return ZADD_XX;
    case "gt":
      return ZADD_GT;
    case "lt":
      return ZADD_LT;
    case "incr":
      return ZADD_INCR;
    case "ch":
      return -1;
    default:
      return 0;
  }
}

/** ZADD and ZINCRBY, as Redis's `zaddGenericCommand`. */
function zaddGeneric(client: Client, argv: string[], initial: number): Reply {
  const key = argv[1]!;
  let flags = initial;
  let ch = false;
  let first = 2;
  for (; first < argv.length; first++) {
    const opt = zaddOption(argv[first]!);
    if (opt === 0) break;
    if (opt < 0) ch = true;
    else flags |= opt;
  }
  const elements = (argv.length - first) / 2;
  if (elements === 0 || !Number.isInteger(elements)) return fail(E.syntax);
  const incr = (flags & ZADD_INCR) !== 0;
  if (flags & ZADD_NX && flags & ZADD_XX) {
    return fail("ERR XX and NX options at the same time are not compatible");
  }
  const gtLtNx = flags & (ZADD_GT | ZADD_LT | ZADD_NX);
  if (gtLtNx !== 0 && gtLtNx !== ZADD_GT && gtLtNx !== ZADD_LT && gtLtNx !== ZADD_NX) {
    return fail("ERR GT, LT, and/or NX options at the same time are not compatible");
  }
  if (incr && elements > 1) {
    return fail("ERR INCR option supports a single increment-element pair");
  }
  // Every score is checked before anything changes: the command runs fully or not at all. One
  // pair (the usual call) keeps its score in a local: an array of one score made ~150 bytes of
  // garbage per call (its backing store grows to 17 doubles on the first push).
  const score0 = scoreArg(argv[first]!);
  let scores: number[] | undefined;
  if (elements > 1) {
    scores = [score0];
    for (let i = first + 2; i < argv.length; i += 2) scores.push(scoreArg(argv[i]!));
  }
  const db = client.db;
  let z = db.getTypedForChange<ZSet>(key, "zset");
  if (z === undefined) {
    if (flags & ZADD_XX) return incr ? null : 0;
    z = ZSet.forFirst(zsetLimits(client.server.config), argv[first + 1]!.length);
    db.add(key, z);
  }
  let added = 0;
  let updated = 0;
  let processed = 0;
  const config = client.server.config;
  for (let j = 0; j < elements; j++) {
    const score = scores === undefined ? score0 : scores[j]!;
    const out = z.add(score, argv[first + 1 + 2 * j]!, flags, config);
    if (out === ZADD_OUT.nan) return fail("ERR resulting score is not a number (NaN)");
    if (out === ZADD_OUT.added) added++;
    else if (out === ZADD_OUT.updated) updated++;
    if (out !== ZADD_OUT.nop) processed++;
  }
  if (added + updated !== 0) {
    client.server.dirty += added + updated;
    db.touch(key);
    db.notify(N.zset, incr ? "zincr" : "zadd", key);
  }
  if (incr) return processed !== 0 ? new DoubleReply(z.newScore) : null;
  return ch ? added + updated : added;
}

/** ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...] */
export const zaddCommand: CommandSpec = {
  name: "zadd",
  arity: -4,
  flags: ["write", "denyoom", "fast"],
  keys: ONE_KEY,
  docs: {
    summary: "Add one or more members to a sorted set, or update its score if it already exists",
    since: "1.2.0",
    group: "sorted-set",
    complexity:
      "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
    args: "key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]",
  },
  execute: (client, argv) => zaddGeneric(client, argv, 0),
};

/** ZINCRBY key increment member */
export const zincrbyCommand: CommandSpec = {
  name: "zincrby",
  arity: 4,
  flags: ["write", "denyoom", "fast"],
  keys: ONE_KEY,
  docs: {
    summary: "Increment the score of a member in a sorted set",
    since: "1.2.0",
    group: "sorted-set",
    complexity: LOG_N,
    args: "key increment member",
  },
  execute: (client, argv) => zaddGeneric(client, argv, ZADD_INCR),
};

/** ZREM key member [member ...] */
export const zremCommand: CommandSpec = {
  name: "zrem",
  arity: -3,
  flags: ["write", "fast"],
  keys: ONE_KEY,
  docs: {
    summary: "Remove one or more members from a sorted set",
    since: "1.2.0",
    group: "sorted-set",
    complexity:
      "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.",
    args: "key member [member ...]",
  },
  execute(client, argv) {
    const key = argv[1]!;
    const z = client.db.getTypedForChange<ZSet>(key, "zset");
    if (z === undefined) return 0;
    let deleted = 0;
    for (let i = 2; i < argv.length && z.size !== 0; i++) if (z.delete(argv[i]!)) deleted++;
    if (deleted !== 0) {
      const db = client.db;
      db.notify(N.zset, "zrem", key);
      if (z.size === 0) {
        db.delete(key);
        db.notify(N.generic, "del", key);
      } else db.touch(key);
      client.server.dirty += deleted;
    }
    return deleted;
  },
};

/** ZCARD key */
export const zcardCommand: CommandSpec = {
  name: "zcard",
  arity: 2,
  flags: ["readonly", "fast"],
  keys: ONE_KEY,
  docs: {
    summary: "Get the number of members in a sorted set",
    since: "1.2.0",
    group: "sorted-set",
    complexity: "O(1)",
    args: "key",
  },
  execute: (client, argv) => getZset(client, argv[1]!)?.size ?? 0,
};

/** ZSCORE key member */
export const zscoreCommand: CommandSpec = {
  name: "zscore",
  arity: 3,
  flags: ["readonly", "fast"],
  keys: ONE_KEY,
  docs: {
    summary: "Get the score associated with the given member in a sorted set",
    since: "1.2.0",
    group: "sorted-set",
    complexity: "O(1)",
    args: "key member",
  },
  execute(client, argv) {
    const score = getZset(client, argv[1]!)?.score(argv[2]!);
    return score === undefined ? null : new DoubleReply(score);
  },
};

/** ZMSCORE key member [member ...] */
export const zmscoreCommand: CommandSpec = {
  name: "zmscore",
  arity: -3,
  flags: ["readonly", "fast"],
  keys: ONE_KEY,
  docs: {
    summary: "Get the score associated with the given members in a sorted set",
    since: "6.2.0",
    group: "sorted-set",
    complexity: "O(N) where N is the number of members being requested.",
    args: "key member [member ...]",
  },
  execute(client, argv) {
    const z = getZset(client, argv[1]!);
    const out: Reply[] = [];
    for (let i = 2; i < argv.length; i++) {
      const score = z?.score(argv[i]!);
      out.push(score === undefined ? null : new DoubleReply(score));
    }
    return out;
  },
};

function rankSpec(name: string, reverse: boolean): CommandSpec {
  return {
    name,
    arity: -3,
    flags: ["readonly", "fast"],
    keys: ONE_KEY,
    docs: {
      // Redis 7.2's WITHSCORE, with 7.4.1's summaries and history.
      summary: reverse
        ? "Returns the index of a member in a sorted set ordered by descending scores."
        : "Returns the index of a member in a sorted set ordered by ascending scores.",
      since: "2.0.0",
      group: "sorted-set",
      complexity: "O(log(N))",
      args: "key member [WITHSCORE]",
      notes: { history: [["7.2.0", "Added the optional `WITHSCORE` argument."]] },
    },
    execute(client, argv) {
      // The option is checked before the key, as in Redis: a bad one is a syntax error even for
      // a missing key or one of another type.
      if (argv.length > 4) return fail(E.wrongArgs(name));
      const withScore = argv.length === 4;
      if (withScore && argv[3]!.toUpperCase() !== "WITHSCORE") return fail(E.syntax);
      // Without the member, Redis answers a null array to WITHSCORE and a null bulk otherwise.
      const none = withScore ? R.nullArray : null;
      const z = getZset(client, argv[1]!);
      if (z === undefined) return none;
      const r = z.rank(argv[2]!, reverse);
      if (r < 0) return none;
      // Redis 7.2 formats this double its new way (shortest digits), unlike ZSCORE here.
      const score = z.score(argv[2]!)!;
      return withScore ? [r, new DoubleReply(score, formatDouble72(score))] : r;
    },
  };
}

/** ZRANK key member [WITHSCORE] */
export const zrankCommand: CommandSpec = rankSpec("zrank", false);
/** ZREVRANK key member [WITHSCORE] */
export const zrevrankCommand: CommandSpec = rankSpec("zrevrank", true);

/** ZSCAN key cursor [MATCH pattern] [COUNT count] */
export const zscanCommand: CommandSpec = {
  name: "zscan",
  arity: -3,
  flags: ["readonly"],
  keys: ONE_KEY,
  docs: {
    summary: "Incrementally iterate sorted sets elements and associated scores",
    since: "2.8.0",
    group: "sorted-set",
    complexity:
      "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
    args: "key cursor [MATCH pattern] [COUNT count]",
  },
  execute(client, argv) {
    const cursor = parseScanCursor(argv[2]!);
    const z = getZset(client, argv[1]!);
    if (z === undefined) return ["0", []];
    const { count, pattern } = parseScanOptions(argv, 3, "zscan");
    const out: string[] = [];
    const visit = (member: string, score: number) => {
      if (pattern === undefined || globMatch(pattern, member)) {
        out.push(member, formatDouble(score));
      }
    };
    // A listpack comes back whole and in order, as Redis returns small encodings in one call.
    if (z.isListpack) {
      for (const c = z.list.first(); c.valid; c.next()) visit(c.member, c.score);
      return ["0", out];
    }
    const next = z.dict!.scan(cursor, count, visit);
    return [String(next), out];
  },
};

/** Every sorted set command. */
export const zsetCommands: CommandSpec[] = [
  zaddCommand,
  zincrbyCommand,
  zremCommand,
  zcardCommand,
  zscoreCommand,
  zmscoreCommand,
  zrankCommand,
  zrevrankCommand,
  zscanCommand,
  ...zsetRangeCommands,
  ...zsetOpsCommands,
  ...zsetPopCommands,
];
