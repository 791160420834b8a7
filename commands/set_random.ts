/**
 * Random set commands: SPOP and SRANDMEMBER, with Redis 7.0's count rules and SPOP's
 * propagation (each popped member as `SREM key member`, or `DEL key` when the whole set goes).
 *
 * @module
 */

import { parseI64 } from "../core/bytes.ts";
import type { Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import { N } from "../core/notify.ts";
import { MIN_ELEMENT_BYTES } from "../core/output_limits.ts";
import { E, fail, type Reply, SetReply } from "../core/resp/reply.ts";
import { SetValue } from "../core/types/set.ts";
import { maxIntset, unionOf } from "./set_ops.ts";

const LONG_MAX = 9223372036854775807n;
/** Redis's SPOP_MOVE_STRATEGY_MUL: past this ratio SPOP rebuilds the set from what remains. */
const SPOP_MOVE_STRATEGY_MUL = 5;
/** Redis's SRANDMEMBER_SUB_STRATEGY_MUL: below it, copy the set and remove random members. */
const SUB_STRATEGY_MUL = 3;

/**
 * The count of SRANDMEMBER and HRANDFIELD, checked as Redis's
 * `getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX)` checks it.
 *
 * @param text the argument
 * @returns the count, exactly
 */
export function randomCountArg(text: string): bigint {
  const v = parseI64(text);
  if (v === undefined) return fail(E.notInteger);
  const n = BigInt(v);
  if (n < -LONG_MAX) {
    return fail(
      "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
    );
  }
  return n;
}

/**
 * Pops `count` random members of the set at `key` (SPOP key count), propagating the pops as
 * Redis 7.0 does. The caller has checked that the key holds a non-empty set.
 */
function popMany(client: Client, key: string, set: SetValue, count: number): Reply {
  const db = client.db;
  const server = client.server;
  const size = set.size;
  db.notify(N.set, "spop", key);
  server.dirty += count >= size ? size : count;
  if (count >= size) {
    const all = unionOf([set], maxIntset(client)).members();
    db.delete(key);
    db.notify(N.generic, "del", key);
    server.replicate(db.id, ["DEL", key]);
    return new SetReply(all);
  }
  const popped: string[] = [];
  let remaining = size - count;
  if (remaining * SPOP_MOVE_STRATEGY_MUL > count) {
    for (let i = 0; i < count; i++) popped.push(set.pop());
  } else {
    // Most of the set goes: move the few members that stay into a new set, pop the rest.
    let kept: SetValue | undefined;
    const max = maxIntset(client);
    while (remaining-- > 0) {
      const m = set.pop();
      kept ??= SetValue.for(m);
      kept.add(m, max);
    }
    for (let i = 0; i < set.size; i++) popped.push(set.at(i));
    db.replace(key, kept!);
  }
  for (const m of popped) server.replicate(db.id, ["SREM", key, m]);
  db.touch(key);
  return new SetReply(popped);
}

/** SPOP key [count] */
export const spopCommand: CommandSpec = {
  name: "spop",
  arity: -2,
  flags: ["write", "fast"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Remove and return one or multiple random members from a set",
    since: "1.0.0",
    group: "set",
    complexity:
      "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
    args: "key [count]",
  },
  execute(client, argv) {
    if (argv.length > 3) return fail(E.syntax);
    const key = argv[1]!;
    const db = client.db;
    if (argv.length === 3) {
      const count = parseI64(argv[2]!);
      if (count === undefined || count < 0) {
        return fail("ERR value is out of range, must be positive");
      }
      const set = db.getTyped<SetValue>(key, "set", true);
      if (set === undefined || count === 0 || count === 0n) return new SetReply([]);
      return popMany(client, key, set, Number(count));
    }
    const set = db.getTyped<SetValue>(key, "set", true);
    if (set === undefined) return null;
    const member = set.pop();
    db.notify(N.set, "spop", key);
    client.server.replicate(db.id, ["SREM", key, member]);
    if (set.size === 0) {
      db.delete(key);
      db.notify(N.generic, "del", key);
    } else {
      db.touch(key);
    }
    client.server.dirty++;
    return member;
  },
};

/** SRANDMEMBER with a count: Redis's four cases (see HRANDFIELD for the same scheme). */
function randomMembers(set: SetValue, count: number, uniq: boolean): string[] {
  const size = set.size;
  if (!uniq || count === 1) {
    const out: string[] = [];
    for (let i = 0; i < count; i++) out.push(set.random());
    return out;
  }
  if (count >= size) return set.members();
  if (count * SUB_STRATEGY_MUL > size) {
    const all = set.members();
    for (let n = size; n > count; n--) {
      const j = Math.floor(Math.random() * n);
      all[j] = all[n - 1]!;
    }
    all.length = count;
    return all;
  }
  const picked = new Set<string>();
  while (picked.size < count) picked.add(set.random());
  return [...picked];
}

/** SRANDMEMBER key [count] */
export const srandmemberCommand: CommandSpec = {
  name: "srandmember",
  arity: -2,
  flags: ["readonly"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Get one or multiple random members from a set",
    since: "1.0.0",
    group: "set",
    complexity:
      "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.",
    args: "key [count]",
  },
  execute(client, argv) {
    if (argv.length > 3) return fail(E.syntax);
    if (argv.length === 2) {
      const set = client.db.getTyped<SetValue>(argv[1]!, "set");
      return set === undefined ? null : set.random();
    }
    const l = randomCountArg(argv[2]!);
    const set = client.db.getTyped<SetValue>(argv[1]!, "set");
    if (set === undefined || l === 0n) return [];
    const count = Number(l < 0n ? -l : l);
    // Repeated picks may ask for more than the client may hold (see replyFits).
    if (l < 0n && !client.server.outputLimits.replyFits(client, count * MIN_ELEMENT_BYTES)) {
      return [];
    }
    return randomMembers(set, count, l > 0n);
  },
};

/** The random set commands. */
export const setRandomCommands: CommandSpec[] = [spopCommand, srandmemberCommand];
