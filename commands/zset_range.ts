/**
 * Sorted set ranges: ZRANGE (BYSCORE, BYLEX, REV, LIMIT, WITHSCORES), ZRANGESTORE, ZREVRANGE,
 * Z[REV]RANGEBYSCORE, Z[REV]RANGEBYLEX, ZCOUNT, ZLEXCOUNT and ZREMRANGEBYRANK/SCORE/LEX. Every
 * range starts with an O(log n) rank search in the order tree.
 *
 * @module
 */

import { intArg } from "../core/args.ts";
import type { Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import { N } from "../core/notify.ts";
import { E, fail, type Reply } from "../core/resp/reply.ts";
import type { TreeCursor } from "../core/types/order_tree.ts";
import {
  deleteRangeByLex,
  deleteRangeByScore,
  firstRankInLex,
  firstRankInRange,
  gteMin,
  lastRankInLex,
  lastRankInRange,
  lexGteMin,
  lexLteMax,
  type LexRange,
  lteMax,
  type ScoreRange,
} from "../core/types/zset_range_spec.ts";
import type { ConfigSource } from "../core/types/zset.ts";
import { lexRangeArg, scoreRangeArg } from "./zset_args.ts";
import { getZset, pushElement, scoreMode, storeZset, ZSet } from "./zset_common.ts";

const ONE_KEY = { first: 1, last: 1, step: 1 } as const;
const RANGE_COST =
  "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.";
const LIMITED_COST =
  "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).";
const REMOVE_COST =
  "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.";

const enum By {
  Auto,
  Rank,
  Score,
  Lex,
}

/**
 * Where range elements go: a reply (members, flat or nested pairs), or for ZRANGESTORE a new
 * set filled element by element like Redis fills it (listpack first unless a rank range is
 * known to be too long, converting on the way), which decides its encoding and its -0 scores.
 */
class Sink {
  readonly out: Reply[] = [];
  readonly store: ZSet | undefined;

  /**
   * @param mode a pushElement mode (ignored when storing)
   * @param config the server config, to store instead of replying
   * @param length the number of elements to come when known, -1 otherwise
   */
  constructor(readonly mode: number, readonly config?: ConfigSource, length = -1) {
    if (config !== undefined) {
      this.store = new ZSet(length <= config.num("zset-max-listpack-entries"));
    }
  }

  emit(member: string, score: number): void {
    if (this.store !== undefined) this.store.add(score, member, 0, this.config!);
    else pushElement(this.out, member, score, this.mode);
  }
}

/** Start and end of a rank range clamped to the set, or undefined when it is empty. */
function clampRanks(len: number, start: number, end: number): [number, number] | undefined {
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (start > end || start >= len) return undefined;
  return [start, end >= len ? len - 1 : end];
}

function rankRange(z: ZSet, from: number, to: number, reverse: boolean, sink: Sink): void {
  const c = z.list.at(reverse ? z.size - from : from + 1);
  for (let i = from; i <= to && c.valid; i++) {
    sink.emit(c.member, c.score);
    if (reverse) c.prev();
    else c.next();
  }
}

/**
 * Emits elements from 1-based rank `first` (0: none) skipping `offset`, while `inRange` holds,
 * at most `limit` (negative: no limit). A negative offset yields nothing, as in Redis, whose
 * offset loop then runs off the end.
 */
function walk(
  z: ZSet,
  first: number,
  offset: number,
  limit: number,
  reverse: boolean,
  inRange: (c: TreeCursor) => boolean,
  sink: Sink,
): void {
  if (first === 0 || offset < 0) return;
  const c = z.list.at(reverse ? first - offset : first + offset);
  for (; c.valid && limit !== 0; limit--) {
    if (!inRange(c)) break;
    sink.emit(c.member, c.score);
    if (reverse) c.prev();
    else c.next();
  }
}

function scoreRange(
  z: ZSet,
  r: ScoreRange,
  offset: number,
  limit: number,
  reverse: boolean,
  sink: Sink,
): void {
  if (offset > 0 && offset >= z.size) return;
  if (reverse) {
    walk(z, lastRankInRange(z.list, r), offset, limit, true, (n) => gteMin(n.score, r), sink);
  } else {
    walk(z, firstRankInRange(z.list, r), offset, limit, false, (n) => lteMax(n.score, r), sink);
  }
}

function lexRange(
  z: ZSet,
  r: LexRange,
  offset: number,
  limit: number,
  reverse: boolean,
  sink: Sink,
): void {
  if (reverse) {
    walk(z, lastRankInLex(z.list, r), offset, limit, true, (n) => lexGteMin(n.member, r), sink);
  } else {
    walk(z, firstRankInLex(z.list, r), offset, limit, false, (n) => lexLteMax(n.member, r), sink);
  }
}

/**
 * The range commands, as Redis's `zrangeGenericCommand`: `src` is the position of the source
 * key, `dst` the destination key for ZRANGESTORE; `by` and `rev` are fixed by the legacy
 * commands and chosen by options for ZRANGE and ZRANGESTORE.
 */
function zrangeGeneric(
  client: Client,
  argv: string[],
  src: number,
  dst: string | undefined,
  by: By,
  rev: boolean | undefined,
): Reply {
  let withScores = false;
  let offset = 0;
  let limit = -1;
  for (let j = src + 3; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    if (dst === undefined && opt === "withscores") withScores = true;
    else if (opt === "limit" && argv.length - j - 1 >= 2) {
      offset = intArg(argv[j + 1]!);
      limit = intArg(argv[j + 2]!);
      j += 2;
    } else if (rev === undefined && opt === "rev") rev = true;
    else if (by === By.Auto && opt === "bylex") by = By.Lex;
    else if (by === By.Auto && opt === "byscore") by = By.Score;
    else return fail(E.syntax);
  }
  const reverse = rev === true;
  if (by === By.Auto) by = By.Rank;
  if (limit !== -1 && by === By.Rank) {
    return fail(
      "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
    );
  }
  if (withScores && by === By.Lex) {
    return fail("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
  }
  // Reversed score and lex ranges are given as max, min.
  const lo = argv[reverse && by !== By.Rank ? src + 2 : src + 1]!;
  const hi = argv[reverse && by !== By.Rank ? src + 1 : src + 2]!;
  let start = 0;
  let end = 0;
  let scores: ScoreRange | undefined;
  let lex: LexRange | undefined;
  if (by === By.Rank) {
    start = intArg(lo);
    end = intArg(hi);
  } else if (by === By.Score) scores = scoreRangeArg(lo, hi);
  else lex = lexRangeArg(lo, hi);
  const z = getZset(client, argv[src]!);
  const ranks = by === By.Rank && z !== undefined ? clampRanks(z.size, start, end) : undefined;
  const length = ranks === undefined ? (by === By.Rank ? 0 : -1) : ranks[1] - ranks[0] + 1;
  const sink = dst === undefined
    ? new Sink(scoreMode(client, withScores))
    : new Sink(0, client.server.config, z === undefined ? -1 : length);
  if (z !== undefined) {
    if (ranks !== undefined) rankRange(z, ranks[0], ranks[1], reverse, sink);
    else if (scores !== undefined) scoreRange(z, scores, offset, limit, reverse, sink);
    else if (lex !== undefined) lexRange(z, lex, offset, limit, reverse, sink);
  }
  if (dst === undefined) return sink.out;
  return storeZset(client, dst, sink.store!, "zrangestore");
}

function rangeSpec(
  name: string,
  summary: string,
  since: string,
  args: string,
  by: By,
  rev: boolean | undefined,
  complexity = LIMITED_COST,
): CommandSpec {
  return {
    name,
    arity: -4,
    flags: ["readonly"],
    keys: ONE_KEY,
    docs: { summary, since, group: "sorted-set", complexity, args },
    execute: (client, argv) => zrangeGeneric(client, argv, 1, undefined, by, rev),
  };
}

/** ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES] */
export const zrangeCommand = rangeSpec(
  "zrange",
  "Return a range of members in a sorted set",
  "1.2.0",
  "key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]",
  By.Auto,
  undefined,
  RANGE_COST,
);

/** ZRANGESTORE dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count] */
export const zrangestoreCommand: CommandSpec = {
  name: "zrangestore",
  arity: -5,
  flags: ["write", "denyoom"],
  keys: { first: 1, last: 2, step: 1 },
  docs: {
    summary: "Store a range of members from sorted set into another key",
    since: "6.2.0",
    group: "sorted-set",
    complexity:
      "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.",
    args: "dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]",
  },
  execute: (client, argv) => zrangeGeneric(client, argv, 2, argv[1]!, By.Auto, undefined),
};

/** ZREVRANGE key start stop [WITHSCORES] */
export const zrevrangeCommand = rangeSpec(
  "zrevrange",
  "Return a range of members in a sorted set, by index, with scores ordered from high to low",
  "1.2.0",
  "key start stop [WITHSCORES]",
  By.Rank,
  true,
  RANGE_COST,
);

/** ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count] */
export const zrangebyscoreCommand = rangeSpec(
  "zrangebyscore",
  "Return a range of members in a sorted set, by score",
  "1.0.5",
  "key min max [WITHSCORES] [LIMIT offset count]",
  By.Score,
  false,
);

/** ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count] */
export const zrevrangebyscoreCommand = rangeSpec(
  "zrevrangebyscore",
  "Return a range of members in a sorted set, by score, with scores ordered from high to low",
  "2.2.0",
  "key max min [WITHSCORES] [LIMIT offset count]",
  By.Score,
  true,
);

/** ZRANGEBYLEX key min max [LIMIT offset count] */
export const zrangebylexCommand = rangeSpec(
  "zrangebylex",
  "Return a range of members in a sorted set, by lexicographical range",
  "2.8.9",
  "key min max [LIMIT offset count]",
  By.Lex,
  false,
);

/** ZREVRANGEBYLEX key max min [LIMIT offset count] */
export const zrevrangebylexCommand = rangeSpec(
  "zrevrangebylex",
  "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.",
  "2.8.9",
  "key max min [LIMIT offset count]",
  By.Lex,
  true,
);

function countSpec(name: string, lex: boolean): CommandSpec {
  return {
    name,
    arity: 4,
    flags: ["readonly", "fast"],
    keys: ONE_KEY,
    docs: {
      summary: lex
        ? "Count the number of members in a sorted set between a given lexicographical range"
        : "Count the members in a sorted set with scores within the given values",
      since: lex ? "2.8.9" : "2.0.0",
      group: "sorted-set",
      complexity: "O(log(N)) with N being the number of elements in the sorted set.",
      args: "key min max",
    },
    execute(client, argv) {
      const list = (client: Client) => getZset(client, argv[1]!)?.list;
      if (lex) {
        const r = lexRangeArg(argv[2]!, argv[3]!);
        const l = list(client);
        const first = l === undefined ? 0 : firstRankInLex(l, r);
        return first === 0 ? 0 : lastRankInLex(l!, r) - first + 1;
      }
      const r = scoreRangeArg(argv[2]!, argv[3]!);
      const l = list(client);
      const first = l === undefined ? 0 : firstRankInRange(l, r);
      return first === 0 ? 0 : lastRankInRange(l!, r) - first + 1;
    },
  };
}

/** ZCOUNT key min max */
export const zcountCommand: CommandSpec = countSpec("zcount", false);
/** ZLEXCOUNT key min max */
export const zlexcountCommand: CommandSpec = countSpec("zlexcount", true);

function removeSpec(name: string, by: By, summary: string, since: string): CommandSpec {
  return {
    name,
    arity: 4,
    flags: ["write"],
    keys: ONE_KEY,
    docs: {
      summary,
      since,
      group: "sorted-set",
      complexity: REMOVE_COST,
      args: by === By.Rank ? "key start stop" : "key min max",
    },
    execute(client, argv) {
      const key = argv[1]!;
      let start = 0;
      let end = 0;
      let scores: ScoreRange | undefined;
      let lex: LexRange | undefined;
      if (by === By.Rank) {
        start = intArg(argv[2]!);
        end = intArg(argv[3]!);
      } else if (by === By.Score) scores = scoreRangeArg(argv[2]!, argv[3]!);
      else lex = lexRangeArg(argv[2]!, argv[3]!);
      const z = client.db.getTypedForChange<ZSet>(key, "zset");
      if (z === undefined) return 0;
      let deleted: number;
      if (by === By.Rank) {
        const ranks = clampRanks(z.size, start, end);
        if (ranks === undefined) return 0;
        deleted = z.list.deleteRangeByRank(ranks[0] + 1, ranks[1] + 1, (m) => z.forget(m));
      } else if (scores !== undefined) {
        deleted = deleteRangeByScore(z.list, scores, (m) => z.forget(m));
      } else deleted = deleteRangeByLex(z.list, lex!, (m) => z.forget(m));
      if (deleted !== 0) {
        const db = client.db;
        db.notify(N.zset, name, key);
        if (z.size === 0) {
          db.delete(key);
          db.notify(N.generic, "del", key);
        } else db.touch(key);
        client.server.dirty += deleted;
      }
      return deleted;
    },
  };
}

/** ZREMRANGEBYRANK key start stop */
export const zremrangebyrankCommand = removeSpec(
  "zremrangebyrank",
  By.Rank,
  "Remove all members in a sorted set within the given indexes",
  "2.0.0",
);
/** ZREMRANGEBYSCORE key min max */
export const zremrangebyscoreCommand = removeSpec(
  "zremrangebyscore",
  By.Score,
  "Remove all members in a sorted set within the given scores",
  "1.2.0",
);
/** ZREMRANGEBYLEX key min max */
export const zremrangebylexCommand = removeSpec(
  "zremrangebylex",
  By.Lex,
  "Remove all members in a sorted set between the given lexicographical range",
  "2.8.9",
);

/** The range commands. */
export const zsetRangeCommands: CommandSpec[] = [
  zrangeCommand,
  zrangestoreCommand,
  zrevrangeCommand,
  zrangebyscoreCommand,
  zrevrangebyscoreCommand,
  zrangebylexCommand,
  zrevrangebylexCommand,
  zcountCommand,
  zlexcountCommand,
  zremrangebyrankCommand,
  zremrangebyscoreCommand,
  zremrangebylexCommand,
];
