/**
 * Sorted set algebra: ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD, with WEIGHTS
 * and AGGREGATE SUM | MIN | MAX. Plain sets are accepted as inputs, every member scoring 1.
 *
 * @module
 */

import { intArg } from "../core/args.ts";
import type { Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import { E, fail, type Reply } from "../core/resp/reply.ts";
import { zsetLimits } from "../core/types/zset.ts";
import { scoreArg } from "./zset_args.ts";
import { numkeysPositions } from "./numkeys.ts";
import { pushElement, scoreMode, storeZset, ZSet } from "./zset_common.ts";

/** What ZUNION and friends need of a plain set (`core/types/set.ts`). */
interface SetLike {
  readonly size: number;
  has(member: string): boolean;
  members(): string[];
}

/** One input: a sorted set, a plain set, or nothing (a missing key), and its weight. */
interface Source {
  value: ZSet | SetLike | undefined;
  weight: number;
}

const enum Op {
  Union,
  Inter,
  Diff,
}

const enum Aggregate {
  Sum,
  Min,
  Max,
}

function sizeOf(src: Source): number {
  return src.value?.size ?? 0;
}

/**
 * Visits every element of a source: a sorted set from the highest score down, as Redis's
 * set-operation iterator does.
 */
function forEach(src: Source, visit: (member: string, score: number) => void): void {
  const v = src.value;
  if (v instanceof ZSet) {
    for (const c = v.list.last(); c.valid; c.prev()) visit(c.member, c.score);
  } else if (v !== undefined) {
    for (const m of v.members()) visit(m, 1);
  }
}

/** The score of `member` in a source (1 in a plain set), undefined when absent. */
function find(src: Source, member: string): number | undefined {
  const v = src.value;
  if (v instanceof ZSet) return v.score(member);
  return v !== undefined && v.has(member) ? 1 : undefined;
}

function aggregate(target: number, value: number, how: Aggregate): number {
  if (how === Aggregate.Sum) {
    const sum = target + value;
    // inf + -inf is NaN: Redis makes it 0.
    return Number.isNaN(sum) ? 0 : sum;
  }
  if (how === Aggregate.Min) return value < target ? value : target;
  return value > target ? value : target;
}

/** The options of one call, as parsed. */
interface Parsed {
  sources: Source[];
  how: Aggregate;
  withScores: boolean;
  limit: number;
}

/** Parses `numkeys key [key ...]` and the options that `op` and the form allow. */
function parse(
  client: Client,
  argv: string[],
  at: number,
  op: Op,
  store: boolean,
  cardOnly: boolean,
): Parsed {
  const numkeys = intArg(argv[at]!);
  if (numkeys < 1) {
    return fail(`ERR at least 1 input key is needed for '${argv[0]!.toLowerCase()}' command`);
  }
  if (numkeys > argv.length - at - 1) return fail(E.syntax);
  const sources: Source[] = [];
  let j = at + 1;
  for (let i = 0; i < numkeys; i++, j++) {
    const v = client.db.get(argv[j]!);
    if (v !== undefined && (typeof v === "string" || (v.type !== "zset" && v.type !== "set"))) {
      return fail(E.wrongType);
    }
    sources.push({ value: v as ZSet | SetLike | undefined, weight: 1 });
  }
  const p: Parsed = { sources, how: Aggregate.Sum, withScores: false, limit: 0 };
  while (j < argv.length) {
    const opt = argv[j]!.toLowerCase();
    const left = argv.length - j;
    const algebra = op !== Op.Diff && !cardOnly;
    if (algebra && left >= numkeys + 1 && opt === "weights") {
      j++;
      for (const src of sources) {
        src.weight = scoreArg(argv[j++]!, "ERR weight value is not a float");
      }
    } else if (algebra && left >= 2 && opt === "aggregate") {
      const how = argv[j + 1]!.toLowerCase();
      if (how === "sum") p.how = Aggregate.Sum;
      else if (how === "min") p.how = Aggregate.Min;
      else if (how === "max") p.how = Aggregate.Max;
      else return fail(E.syntax);
      j += 2;
    } else if (!store && !cardOnly && opt === "withscores") {
      p.withScores = true;
      j++;
    } else if (cardOnly && left >= 2 && opt === "limit") {
      p.limit = intArg(argv[j + 1]!, "ERR LIMIT can't be negative");
      if (p.limit < 0) return fail("ERR LIMIT can't be negative");
      j += 2;
    } else return fail(E.syntax);
  }
  // Smallest first: intersections iterate the smallest input. Array.sort is stable.
  if (op !== Op.Diff) sources.sort((a, b) => sizeOf(a) - sizeOf(b));
  return p;
}

/** Runs the operation; returns the elements of the result, or their count for ZINTERCARD. */
function compute(p: Parsed, op: Op, cardOnly: boolean): [string[], number[], number] {
  const members: string[] = [];
  const scores: number[] = [];
  const src = p.sources;
  let card = 0;
  if (op === Op.Inter) {
    if (sizeOf(src[0]!) === 0) return [members, scores, 0];
    const first = src[0]!;
    let done = false;
    forEach(first, (member, s) => {
      if (done) return;
      let score = first.weight * s;
      if (Number.isNaN(score)) score = 0;
      for (let j = 1; j < src.length; j++) {
        // The same key twice: Redis reads the element's own score rather than searching.
        const v = src[j]!.value === first.value ? s : find(src[j]!, member);
        if (v === undefined) return;
        score = aggregate(score, v * src[j]!.weight, p.how);
      }
      if (cardOnly) {
        card++;
        if (p.limit !== 0 && card >= p.limit) done = true;
        return;
      }
      members.push(member);
      scores.push(score);
    });
  } else if (op === Op.Union) {
    const acc = new Map<string, number>();
    for (const s of src) {
      forEach(s, (member, value) => {
        let score = s.weight * value;
        if (Number.isNaN(score)) score = 0;
        const cur = acc.get(member);
        acc.set(member, cur === undefined ? score : aggregate(cur, score, p.how));
      });
    }
    for (const [m, s] of acc) {
      members.push(m);
      scores.push(s);
    }
  } else {
    const first = src[0]!;
    const same = src.some((s, i) => i > 0 && s.value === first.value && s.value !== undefined);
    if (!same) {
      forEach(first, (member, score) => {
        for (let j = 1; j < src.length; j++) if (find(src[j]!, member) !== undefined) return;
        members.push(member);
        scores.push(score);
      });
    }
  }
  return [members, scores, card];
}

function opSpec(
  name: string,
  op: Op,
  store: boolean,
  docs: { summary: string; since: string; complexity: string; args: string },
): CommandSpec {
  const at = store ? 2 : 1;
  const cardOnly = name === "zintercard";
  return {
    name,
    arity: store ? -4 : -3,
    flags: store ? ["write", "denyoom"] : ["readonly"],
    ...(store ? { keys: { first: 1, last: 1, step: 1 } } : {}),
    getKeys: (argv) => numkeysPositions(argv, at, store ? [1] : []),
    docs: { ...docs, group: "sorted-set" },
    execute(client, argv) {
      const p = parse(client, argv, at, op, store, cardOnly);
      const [members, scores, card] = compute(p, op, cardOnly);
      if (cardOnly) return card;
      if (store) {
        const limits = zsetLimits(client.server.config);
        return storeZset(client, argv[1]!, ZSet.fromElements(members, scores, limits), name);
      }
      const result = ZSet.fromElements(members, scores);
      const out: Reply[] = [];
      const mode = scoreMode(client, p.withScores);
      for (const c = result.list.first(); c.valid; c.next()) {
        pushElement(out, c.member, c.score, mode);
      }
      return out;
    },
  };
}

const UNION_COST =
  "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.";
const INTER_COST =
  "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.";
const DIFF_COST =
  "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.";
const ALGEBRA_ARGS =
  "numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX>]";

/** ZUNION numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX] [WITHSCORES] */
export const zunionCommand = opSpec("zunion", Op.Union, false, {
  summary: "Add multiple sorted sets",
  since: "6.2.0",
  complexity: UNION_COST,
  args: `${ALGEBRA_ARGS} [WITHSCORES]`,
});

/** ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX] */
export const zunionstoreCommand = opSpec("zunionstore", Op.Union, true, {
  summary: "Add multiple sorted sets and store the resulting sorted set in a new key",
  since: "2.0.0",
  // Redis 7.0 writes this one without the `*`.
  complexity: UNION_COST.replace("M*log", "M log"),
  args: `destination ${ALGEBRA_ARGS}`,
});

/** ZINTER numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX] [WITHSCORES] */
export const zinterCommand = opSpec("zinter", Op.Inter, false, {
  summary: "Intersect multiple sorted sets",
  since: "6.2.0",
  complexity: INTER_COST,
  args: `${ALGEBRA_ARGS} [WITHSCORES]`,
});

/** ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX] */
export const zinterstoreCommand = opSpec("zinterstore", Op.Inter, true, {
  summary: "Intersect multiple sorted sets and store the resulting sorted set in a new key",
  since: "2.0.0",
  complexity: INTER_COST,
  args: `destination ${ALGEBRA_ARGS}`,
});

/** ZINTERCARD numkeys key [key ...] [LIMIT limit] */
export const zintercardCommand = opSpec("zintercard", Op.Inter, false, {
  summary: "Intersect multiple sorted sets and return the cardinality of the result",
  since: "7.0.0",
  complexity:
    "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.",
  args: "numkeys key [key ...] [LIMIT limit]",
});

/** ZDIFF numkeys key [key ...] [WITHSCORES] */
export const zdiffCommand = opSpec("zdiff", Op.Diff, false, {
  summary: "Subtract multiple sorted sets",
  since: "6.2.0",
  complexity: DIFF_COST,
  args: "numkeys key [key ...] [WITHSCORES]",
});

/** ZDIFFSTORE destination numkeys key [key ...] */
export const zdiffstoreCommand = opSpec("zdiffstore", Op.Diff, true, {
  summary: "Subtract multiple sorted sets and store the resulting sorted set in a new key",
  since: "6.2.0",
  complexity: DIFF_COST,
  args: "destination numkeys key [key ...]",
});

/** The set algebra commands. */
export const zsetOpsCommands: CommandSpec[] = [
  zunionCommand,
  zunionstoreCommand,
  zinterCommand,
  zinterstoreCommand,
  zintercardCommand,
  zdiffCommand,
  zdiffstoreCommand,
];
