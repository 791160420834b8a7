/**
 * Sorted set pops and random picks: ZPOPMIN, ZPOPMAX, ZMPOP and ZRANDMEMBER. The pop functions
 * are exported for the blocking commands (BZPOPMIN, BZPOPMAX, BZMPOP).
 *
 * @module
 */

import { intArg } from "../core/args.ts";
import type { Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import { N } from "../core/notify.ts";
import { MIN_ELEMENT_BYTES } from "../core/output_limits.ts";
import { DoubleReply, E, fail, R, type Reply } from "../core/resp/reply.ts";
import type { ZElement } from "../core/types/zset.ts";
import { randomCountArg } from "./set_random.ts";
import { getZset, pushElement, scoreMode, type ZSet } from "./zset_common.ts";
import { numkeysPositions, parseMultiPop } from "./numkeys.ts";

const ONE_KEY = { first: 1, last: 1, step: 1 } as const;
const LONG_MAX = 9223372036854775807n;
/** Redis's ZRANDMEMBER_SUB_STRATEGY_MUL: below this ratio, copy the set and remove picks. */
const SUB_STRATEGY_MUL = 3;
const OUT_OF_RANGE = "ERR value is out of range, must be positive";

/**
 * Pops up to `count` elements from the lowest (or highest, `max`) end of the non-empty set `z`
 * at `key`: counts the changes, fires `zpopmin`/`zpopmax` (and `del` when the set empties, which
 * deletes the key). Propagation is the caller's: the command itself, or a rewrite.
 *
 * @param client the calling client
 * @param key the key holding `z`
 * @param z the set, not empty
 * @param max pop the highest scores instead of the lowest
 * @param count how many elements at most (at least 1)
 * @returns the popped elements, in pop order
 */
export function zsetPop(
  client: Client,
  key: string,
  z: ZSet,
  max: boolean,
  count: number,
): ZElement[] {
  const popped: ZElement[] = [];
  const n = Math.min(count, z.size);
  for (let i = 0; i < n; i++) popped.push(z.pop(max));
  const db = client.db;
  client.server.dirty += n;
  db.notify(N.zset, max ? "zpopmax" : "zpopmin", key);
  if (z.size === 0) {
    db.delete(key);
    db.notify(N.generic, "del", key);
  } else db.touch(key);
  return popped;
}

/**
 * Popped elements as a reply: `[member, score, ...]` flat, or `[[member, score], ...]` nested.
 *
 * @param popped the popped elements
 * @param nested whether each element is its own pair
 * @returns the reply items
 */
export function poppedReply(popped: ZElement[], nested: boolean): Reply[] {
  const out: Reply[] = [];
  for (const e of popped) pushElement(out, e.member, e.score, nested ? 3 : 2);
  return out;
}

/**
 * Pops from the first of `keys` holding a non-empty sorted set, for BZPOPMIN/BZPOPMAX (`count`
 * undefined: `[key, member, score]`, propagated as `ZPOPMIN key`) and ZMPOP/BZMPOP (`[key,
 * [[member, score], ...]]`, propagated as `ZPOPMIN key count`). Missing keys are skipped; a key
 * of another type fails with WRONGTYPE.
 *
 * @param client the calling client
 * @param keys the keys, in order
 * @param max pop the highest scores instead of the lowest
 * @param count the ZMPOP count, undefined for the single-element BZPOP form
 * @returns the reply, or undefined when every key is missing (the caller replies null or blocks)
 */
export function zpopFromKeys(
  client: Client,
  keys: readonly string[],
  max: boolean,
  count: number | undefined,
): Reply | undefined {
  for (const key of keys) {
    const z = getZset(client, key, true);
    if (z === undefined || z.size === 0) continue;
    const n = Math.min(count ?? 1, z.size);
    const popped = zsetPop(client, key, z, max, n);
    const name = max ? "ZPOPMAX" : "ZPOPMIN";
    if (count === undefined) {
      client.server.replicate(client.db.id, [name, key]);
      return [key, popped[0]!.member, new DoubleReply(popped[0]!.score)];
    }
    client.server.replicate(client.db.id, [name, key, String(n)]);
    return [key, poppedReply(popped, true)];
  }
  return undefined;
}

function popSpec(name: string, max: boolean): CommandSpec {
  return {
    name,
    arity: -2,
    flags: ["write", "fast"],
    keys: ONE_KEY,
    docs: {
      summary: max
        ? "Remove and return members with the highest scores in a sorted set"
        : "Remove and return members with the lowest scores in a sorted set",
      since: "5.0.0",
      group: "sorted-set",
      complexity:
        "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
      args: "key [count]",
    },
    execute(client, argv) {
      if (argv.length > 3) return fail(E.syntax);
      let count = -1;
      if (argv.length === 3) {
        count = intArg(argv[2]!, OUT_OF_RANGE);
        if (count < 0) return fail(OUT_OF_RANGE);
      }
      const key = argv[1]!;
      const z = getZset(client, key, true);
      if (z === undefined || count === 0) return [];
      const popped = zsetPop(client, key, z, max, count < 0 ? 1 : count);
      // RESP3 nests the pairs when a count was given.
      return poppedReply(popped, client.resp > 2 && count >= 0);
    },
  };
}

/** ZPOPMIN key [count] */
export const zpopminCommand: CommandSpec = popSpec("zpopmin", false);
/** ZPOPMAX key [count] */
export const zpopmaxCommand: CommandSpec = popSpec("zpopmax", true);

/** The parsed arguments of ZMPOP and BZMPOP. */
export interface ZmpopArgs {
  /** The keys, in order. */
  keys: string[];
  /** MAX (true) or MIN. */
  max: boolean;
  /** COUNT, 1 by default. */
  count: number;
}

/** ZMPOP numkeys key [key ...] MIN | MAX [COUNT count] */
export const zmpopCommand: CommandSpec = {
  name: "zmpop",
  arity: -4,
  flags: ["write"],
  getKeys: (argv) => numkeysPositions(argv, 1),
  docs: {
    summary: "Remove and return members with scores in a sorted set",
    since: "7.0.0",
    group: "sorted-set",
    complexity:
      "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
    args: "numkeys key [key ...] <MIN | MAX> [COUNT count]",
  },
  execute(client, argv) {
    const { keys, max, count } = parseZmpopArgs(argv, 1);
    return zpopFromKeys(client, keys, max, count) ?? R.nullArray;
  },
};

/** ZRANDMEMBER key [count [WITHSCORES]] */
export const zrandmemberCommand: CommandSpec = {
  name: "zrandmember",
  arity: -2,
  flags: ["readonly"],
  keys: ONE_KEY,
  docs: {
    summary: "Get one or multiple random elements from a sorted set",
    since: "6.2.0",
    group: "sorted-set",
    complexity: "O(N) where N is the number of elements returned",
    args: "key [count [WITHSCORES]]",
  },
  execute(client, argv) {
    if (argv.length === 2) {
      const z = getZset(client, argv[1]!);
      return z === undefined ? null : z.randomMember();
    }
    const l = randomCountArg(argv[2]!);
    const withScores = argv.length === 4;
    if (argv.length > 4 || (withScores && argv[3]!.toLowerCase() !== "withscores")) {
      return fail(E.syntax);
    }
    if (withScores && (l < -LONG_MAX / 2n || l > LONG_MAX / 2n)) {
      return fail("ERR value is out of range");
    }
    const z = getZset(client, argv[1]!);
    if (z === undefined || l === 0n) return [];
    const least = Number(l < 0n ? -l : l) * MIN_ELEMENT_BYTES * (withScores ? 2 : 1);
    // Repeated picks may ask for more than the client may hold (see replyFits).
    if (l < 0n && !client.server.outputLimits.replyFits(client, least)) return [];
    return randomElements(z, Number(l), scoreMode(client, withScores));
  },
};

/** ZRANDMEMBER with a count, following Redis's four cases. */
function randomElements(z: ZSet, l: number, mode: number): Reply[] {
  const out: Reply[] = [];
  const size = z.size;
  const count = Math.abs(l);
  // Negative count: independent picks, repetitions allowed.
  if (l < 0 || count === 1) {
    for (let i = 0; i < count; i++) {
      const m = z.randomMember();
      pushElement(out, m, z.score(m)!, mode);
    }
    return out;
  }
  if (count >= size) {
    // The whole set, from the top down as Redis's set-operation iterator walks it.
    for (const c = z.list.last(); c.valid; c.prev()) pushElement(out, c.member, c.score, mode);
    return out;
  }
  if (count * SUB_STRATEGY_MUL > size) {
    // Close to the whole set: copy it and remove random members down to count.
    const members = z.members();
    while (members.length > count) {
      const i = Math.floor(Math.random() * members.length);
      members[i] = members[members.length - 1]!;
      members.pop();
    }
    for (const m of members) pushElement(out, m, z.score(m)!, mode);
    return out;
  }
  const picked = new Set<string>();
  while (picked.size < count) {
    const m = z.randomMember();
    if (picked.has(m)) continue;
    picked.add(m);
    pushElement(out, m, z.score(m)!, mode);
  }
  return out;
}

/** The pop and random commands. */
export const zsetPopCommands: CommandSpec[] = [
  zpopminCommand,
  zpopmaxCommand,
  zmpopCommand,
  zrandmemberCommand,
];

/** ZMPOP/BZMPOP arguments from `argv[at]` (numkeys) on. */
export function parseZmpopArgs(argv: string[], at: number): ZmpopArgs {
  const { keys, first, count } = parseMultiPop(argv, at, ["MIN", "MAX"]);
  return { keys, max: !first, count };
}
