/**
 * Set commands on one set: SADD, SREM, SISMEMBER, SMISMEMBER, SCARD, SMOVE and SSCAN.
 * Random picks (SPOP, SRANDMEMBER) live in `set_random.ts`, set algebra (SMEMBERS, SINTER,
 * SUNION, SDIFF and their variants) in `set_ops.ts`; {@linkcode setCommands} lists them all.
 *
 * @module
 */

import type { Client } from "../core/client.ts";
import type { CommandFlag, CommandSpec, Execute } from "../core/command.ts";
import { globMatch } from "../core/glob.ts";
import type { Value } from "../core/keyspace/database.ts";
import { N } from "../core/notify.ts";
import { E, fail } from "../core/resp/reply.ts";
import { SetValue } from "../core/types/set.ts";
import { parseScanCursor, parseScanOptions } from "./keys.ts";
import { maxIntset, setOpsCommands } from "./set_ops.ts";
import { setRandomCommands } from "./set_random.ts";
import { removeElements } from "./collection.ts";

function isSet(v: Value): v is SetValue {
  return typeof v !== "string" && v.type === "set";
}

function readSet(client: Client, key: string): SetValue | undefined {
  return client.db.getTyped<SetValue>(key, "set");
}

function spec(
  name: string,
  arity: number,
  flags: readonly CommandFlag[],
  docs: { summary: string; since: string; complexity: string; args: string },
  execute: Execute,
): CommandSpec {
  return {
    name,
    arity,
    flags,
    keys: { first: 1, last: 1, step: 1 },
    docs: { ...docs, group: "set" },
    execute,
  };
}

/** SADD key member [member ...] */
export const saddCommand = spec("sadd", -3, ["write", "denyoom", "fast"], {
  summary: "Add one or more members to a set",
  since: "1.0.0",
  complexity:
    "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
  args: "key member [member ...]",
}, (client, argv) => {
  const key = argv[1]!;
  const db = client.db;
  let set = db.getTypedForChange<SetValue>(key, "set");
  const created = set === undefined;
  if (set === undefined) {
    set = SetValue.for(argv[2]!);
    db.add(key, set);
  }
  const max = maxIntset(client);
  let added = 0;
  for (let i = 2; i < argv.length; i++) if (set.add(argv[i]!, max)) added++;
  if (added !== 0) {
    if (!created) db.touch(key);
    db.notify(N.set, "sadd", key);
    client.server.dirty += added;
  }
  return added;
});

/** SREM key member [member ...] */
export const sremCommand = spec("srem", -3, ["write", "fast"], {
  summary: "Remove one or more members from a set",
  since: "1.0.0",
  complexity: "O(N) where N is the number of members to be removed.",
  args: "key member [member ...]",
}, (client, argv) => {
  const key = argv[1]!;
  const set = client.db.getTypedForChange<SetValue>(key, "set");
  if (set === undefined) return 0;
  return removeElements(client, key, set, argv.slice(2), (s, m) => s.remove(m), {
    type: N.set,
    event: "srem",
  });
});

/** SISMEMBER key member */
export const sismemberCommand = spec("sismember", 3, ["readonly", "fast"], {
  summary: "Determine if a given value is a member of a set",
  since: "1.0.0",
  complexity: "O(1)",
  args: "key member",
}, (client, argv) => readSet(client, argv[1]!)?.has(argv[2]!) ? 1 : 0);

/** SMISMEMBER key member [member ...] */
export const smismemberCommand = spec("smismember", -3, ["readonly", "fast"], {
  summary: "Returns the membership associated with the given elements for a set",
  since: "6.2.0",
  complexity: "O(N) where N is the number of elements being checked for membership",
  args: "key member [member ...]",
}, (client, argv) => {
  // A missing key is an empty set: one 0 per member.
  const set = readSet(client, argv[1]!);
  const out: number[] = [];
  for (let i = 2; i < argv.length; i++) out.push(set?.has(argv[i]!) ? 1 : 0);
  return out;
});

/** SCARD key */
export const scardCommand = spec("scard", 2, ["readonly", "fast"], {
  summary: "Get the number of members in a set",
  since: "1.0.0",
  complexity: "O(1)",
  args: "key",
}, (client, argv) => readSet(client, argv[1]!)?.size ?? 0);

/** SMOVE source destination member */
export const smoveCommand: CommandSpec = {
  name: "smove",
  arity: 4,
  flags: ["write", "fast"],
  keys: { first: 1, last: 2, step: 1 },
  docs: {
    summary: "Move a member from one set to another",
    since: "1.0.0",
    group: "set",
    complexity: "O(1)",
    args: "source destination member",
  },
  execute(client, argv) {
    const [, src, dst, member] = argv as [string, string, string, string];
    const db = client.db;
    // Each key is touched when it changes (an added destination is measured as it is added).
    const from = db.lookupWrite(src, false);
    const toValue = db.lookupWrite(dst, false);
    if (from === undefined) return 0;
    if (!isSet(from) || (toValue !== undefined && !isSet(toValue))) return fail(E.wrongType);
    let to = toValue as SetValue | undefined;
    // Same key: nothing moves, the answer is whether the member is there.
    if (from === to) return from.has(member) ? 1 : 0;
    if (!from.remove(member)) return 0;
    db.notify(N.set, "srem", src);
    if (from.size === 0) {
      db.delete(src);
      db.notify(N.generic, "del", src);
    } else {
      db.touch(src);
    }
    const server = client.server;
    server.dirty++;
    const created = to === undefined;
    if (to === undefined) {
      to = SetValue.for(member);
      db.add(dst, to);
    }
    if (to.add(member, maxIntset(client))) {
      server.dirty++;
      if (!created) db.touch(dst);
      db.notify(N.set, "sadd", dst);
    }
    return 1;
  },
};

/** SSCAN key cursor [MATCH pattern] [COUNT count] */
export const sscanCommand = spec("sscan", -3, ["readonly"], {
  summary: "Incrementally iterate Set elements",
  since: "2.8.0",
  complexity:
    "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
  args: "key cursor [MATCH pattern] [COUNT count]",
}, (client, argv) => {
  const cursor = parseScanCursor(argv[2]!);
  const set = readSet(client, argv[1]!);
  // Like Redis, a missing key answers before the options are even parsed.
  if (set === undefined) return ["0", []];
  const { count, pattern } = parseScanOptions(argv, 3, "sscan");
  const out: string[] = [];
  const next = set.scan(cursor, count, (m) => {
    if (pattern === undefined || globMatch(pattern, m)) out.push(m);
  });
  return [String(next), out];
});

/** Every set command. */
export const setCommands: CommandSpec[] = [
  saddCommand,
  sremCommand,
  sismemberCommand,
  smismemberCommand,
  scardCommand,
  smoveCommand,
  ...setRandomCommands,
  ...setOpsCommands,
  sscanCommand,
];
