/**
 * Set algebra: SMEMBERS, SINTER, SINTERCARD, SINTERSTORE, SUNION, SUNIONSTORE, SDIFF,
 * SDIFFSTORE, following Redis 7.0's t_set.c: a missing key is an empty set, results are built
 * as a fresh set (so an all-integer result is an intset, listed in ascending order), and the
 * STORE forms delete the destination when the result is empty.
 *
 * @module
 */

import { intArg } from "../core/args.ts";
import { parseI64 } from "../core/bytes.ts";
import type { Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import type { Config } from "../core/config.ts";
import { N } from "../core/notify.ts";
import { E, fail, type Reply, SetReply } from "../core/resp/reply.ts";
import { SetValue } from "../core/types/set.ts";

const ALL_KEYS = { first: 1, last: -1, step: 1 } as const;
const INTER_COMPLEXITY =
  "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.";
const UNION_COMPLEXITY = "O(N) where N is the total number of elements in all given sets.";

/** Each server's `set-max-intset-entries`, kept current by a config listener. */
const maxIntsetOf = new WeakMap<Config, { value: number }>();
/** The last server's config and box: one process rarely runs several servers. */
let lastConfig: Config | undefined;
let lastBox = { value: 0 };

/**
 * The `set-max-intset-entries` setting of the client's server.
 *
 * @param client the calling client
 * @returns the setting
 */
export function maxIntset(client: Client): number {
  const config = client.server.config;
  if (config === lastConfig) return lastBox.value;
  let cached = maxIntsetOf.get(config);
  if (cached === undefined) {
    const c = { value: config.num("set-max-intset-entries") };
    config.onChange((name, value) => {
      if (name === "set-max-intset-entries") c.value = value as number;
    });
    maxIntsetOf.set(config, c);
    cached = c;
  }
  lastConfig = config;
  lastBox = cached;
  return cached.value;
}

/** The sets at `keys` for reading (undefined for a missing key); WRONGTYPE at the first other type. */
function lookupSets(client: Client, keys: string[]): (SetValue | undefined)[] {
  const db = client.db;
  return keys.map((k) => db.getTyped<SetValue>(k, "set"));
}

/**
 * The union of `sets` as a new set, built the way Redis builds it: starting as an intset.
 *
 * @param sets the sets (undefined entries are empty sets)
 * @param max the `set-max-intset-entries` setting
 * @returns the union
 */
export function unionOf(sets: readonly (SetValue | undefined)[], max: number): SetValue {
  const out = new SetValue(true);
  for (const s of sets) {
    if (s === undefined) continue;
    for (let i = 0; i < s.size; i++) out.add(s.at(i), max);
  }
  return out;
}

function differenceOf(sets: (SetValue | undefined)[], max: number): SetValue {
  const out = new SetValue(true);
  const first = sets[0];
  if (first === undefined) return out;
  // The difference of a set with itself (the same key named again) is empty.
  for (let j = 1; j < sets.length; j++) if (sets[j] === first) return out;
  let oneWork = 0;
  let twoWork = 0;
  for (const s of sets) {
    if (s === undefined) continue;
    oneWork += first.size;
    twoWork += s.size;
  }
  if (Math.floor(oneWork / 2) <= twoWork) {
    // Redis's algorithm 1: test each member of the first set against the others, largest first.
    const others = sets.slice(1).filter((s): s is SetValue => s !== undefined)
      .sort((a, b) => b.size - a.size);
    for (let i = 0; i < first.size; i++) {
      const m = first.at(i);
      if (!others.some((s) => s.has(m))) out.add(m, max);
    }
    return out;
  }
  // Algorithm 2: copy the first set, then remove every member of the others.
  for (let i = 0; i < first.size; i++) out.add(first.at(i), max);
  for (let j = 1; j < sets.length && out.size !== 0; j++) {
    const s = sets[j];
    if (s !== undefined) { for (let i = 0; i < s.size; i++) out.remove(s.at(i)); }
  }
  return out;
}

/** Stores a computed set at `dst`, or deletes `dst` when the result is empty. */
function store(client: Client, dst: string, result: SetValue, event: string): number {
  const db = client.db;
  if (result.size > 0) {
    db.set(dst, result);
    db.notify(N.set, event, dst);
    client.server.dirty++;
    return result.size;
  }
  if (db.delete(dst)) {
    client.server.dirty++;
    db.notify(N.generic, "del", dst);
  }
  return 0;
}

/** What SINTER computes: members, a count (SINTERCARD) or a stored set (SINTERSTORE). */
type InterMode =
  | { kind: "reply" }
  | { kind: "card"; limit: number }
  | { kind: "store"; dst: string };

function interGeneric(client: Client, keys: string[], mode: InterMode): Reply {
  const sets = lookupSets(client, keys);
  if (sets.some((s) => s === undefined)) {
    if (mode.kind === "store") return store(client, mode.dst, new SetValue(true), "sinterstore");
    return mode.kind === "card" ? 0 : new SetReply([]);
  }
  // Smallest first (a stable sort, as glibc's qsort is for these sizes).
  const sorted = (sets as SetValue[]).slice().sort((a, b) => a.size - b.size);
  const first = sorted[0]!;
  const max = mode.kind === "store" ? maxIntset(client) : 0;
  const dst = mode.kind === "store" ? new SetValue(true) : undefined;
  const members: string[] = [];
  let card = 0;
  for (let i = 0; i < first.size; i++) {
    const m = first.at(i);
    let j = 1;
    for (; j < sorted.length; j++) {
      const s = sorted[j]!;
      if (s !== first && !s.has(m)) break;
    }
    if (j !== sorted.length) continue;
    card++;
    if (mode.kind === "card") {
      if (mode.limit !== 0 && card >= mode.limit) break;
    } else if (dst !== undefined) dst.add(m, max);
    else members.push(m);
  }
  if (mode.kind === "card") return card;
  if (mode.kind === "store") return store(client, mode.dst, dst!, "sinterstore");
  return new SetReply(members);
}

function readSpec(
  name: string,
  summary: string,
  complexity: string,
  arity: number,
  execute: CommandSpec["execute"],
): CommandSpec {
  return {
    name,
    arity,
    flags: ["readonly"],
    keys: arity === 2 ? { first: 1, last: 1, step: 1 } : ALL_KEYS,
    docs: {
      summary,
      since: "1.0.0",
      group: "set",
      complexity,
      args: arity === 2 ? "key" : "key [key ...]",
    },
    execute,
  };
}

function storeSpec(
  name: string,
  summary: string,
  complexity: string,
  execute: CommandSpec["execute"],
): CommandSpec {
  return {
    name,
    arity: -3,
    flags: ["write", "denyoom"],
    keys: ALL_KEYS,
    docs: {
      summary,
      since: "1.0.0",
      group: "set",
      complexity,
      args: "destination key [key ...]",
    },
    execute,
  };
}

/** SMEMBERS key (Redis runs it as a one-key SINTER) */
export const smembersCommand = readSpec(
  "smembers",
  "Get all the members in a set",
  "O(N) where N is the set cardinality.",
  2,
  (client, argv) => interGeneric(client, [argv[1]!], { kind: "reply" }),
);

/** SINTER key [key ...] */
export const sinterCommand = readSpec(
  "sinter",
  "Intersect multiple sets",
  INTER_COMPLEXITY,
  -2,
  (client, argv) => interGeneric(client, argv.slice(1), { kind: "reply" }),
);

/** SINTERSTORE destination key [key ...] */
export const sinterstoreCommand = storeSpec(
  "sinterstore",
  "Intersect multiple sets and store the resulting set in a key",
  INTER_COMPLEXITY,
  (client, argv) => interGeneric(client, argv.slice(2), { kind: "store", dst: argv[1]! }),
);

/** The keys of SINTERCARD: `numkeys` of them after it (none when numkeys is not valid). */
function sintercardKeys(argv: string[]): number[] {
  const n = parseI64(argv[1] ?? "");
  if (typeof n !== "number" || n < 1 || n > argv.length - 2) return [];
  return Array.from({ length: n }, (_, i) => i + 2);
}

/** SINTERCARD numkeys key [key ...] [LIMIT limit] */
export const sintercardCommand: CommandSpec = {
  name: "sintercard",
  arity: -3,
  flags: ["readonly"],
  getKeys: sintercardKeys,
  docs: {
    summary: "Intersect multiple sets and return the cardinality of the result",
    since: "7.0.0",
    group: "set",
    complexity: INTER_COMPLEXITY,
    args: "numkeys key [key ...] [LIMIT limit]",
  },
  execute(client, argv) {
    const numkeys = intArg(argv[1]!, "ERR numkeys should be greater than 0");
    if (numkeys < 1) return fail("ERR numkeys should be greater than 0");
    if (numkeys > argv.length - 2) {
      return fail("ERR Number of keys can't be greater than number of args");
    }
    let limit = 0;
    for (let j = 2 + numkeys; j < argv.length; j++) {
      if (argv[j]!.toUpperCase() === "LIMIT" && j + 1 < argv.length) {
        limit = intArg(argv[++j]!, "ERR LIMIT can't be negative");
        if (limit < 0) return fail("ERR LIMIT can't be negative");
      } else return fail(E.syntax);
    }
    return interGeneric(client, argv.slice(2, 2 + numkeys), { kind: "card", limit });
  },
};

function unionDiff(client: Client, keys: string[], diff: boolean): SetValue {
  const sets = lookupSets(client, keys);
  const max = maxIntset(client);
  return diff ? differenceOf(sets, max) : unionOf(sets, max);
}

/** SUNION key [key ...] */
export const sunionCommand = readSpec(
  "sunion",
  "Add multiple sets",
  UNION_COMPLEXITY,
  -2,
  (client, argv) => new SetReply(unionDiff(client, argv.slice(1), false).members()),
);

/** SUNIONSTORE destination key [key ...] */
export const sunionstoreCommand = storeSpec(
  "sunionstore",
  "Add multiple sets and store the resulting set in a key",
  UNION_COMPLEXITY,
  (client, argv) => store(client, argv[1]!, unionDiff(client, argv.slice(2), false), "sunionstore"),
);

/** SDIFF key [key ...] */
export const sdiffCommand = readSpec(
  "sdiff",
  "Subtract multiple sets",
  UNION_COMPLEXITY,
  -2,
  (client, argv) => new SetReply(unionDiff(client, argv.slice(1), true).members()),
);

/** SDIFFSTORE destination key [key ...] */
export const sdiffstoreCommand = storeSpec(
  "sdiffstore",
  "Subtract multiple sets and store the resulting set in a key",
  UNION_COMPLEXITY,
  (client, argv) => store(client, argv[1]!, unionDiff(client, argv.slice(2), true), "sdiffstore"),
);

/** The set algebra commands. */
export const setOpsCommands: CommandSpec[] = [
  smembersCommand,
  sinterCommand,
  sintercardCommand,
  sinterstoreCommand,
  sunionCommand,
  sunionstoreCommand,
  sdiffCommand,
  sdiffstoreCommand,
];
