/**
 * Hash commands that read a whole hash: HKEYS, HVALS, HGETALL, HRANDFIELD and HSCAN.
 *
 * @module
 */

import type { Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import { globMatch } from "../core/glob.ts";
import { E, fail, MapReply, type Reply } from "../core/resp/reply.ts";
import type { HashValue } from "../core/types/hash.ts";
import { parseScanCursor, parseScanOptions } from "./keys.ts";
import { randomCountArg } from "./set_random.ts";
import { MIN_ELEMENT_BYTES } from "../core/output_limits.ts";
import { expireAllDue } from "../core/types/hash_expiry.ts";

const ONE_KEY = { first: 1, last: 1, step: 1 } as const;
const WHOLE_HASH = "O(N) where N is the size of the hash.";
/** Redis's HRANDFIELD_SUB_STRATEGY_MUL: below this ratio, copy the hash and remove picks. */
const SUB_STRATEGY_MUL = 3;
const HALF_LONG_MAX = 4611686018427387903n;

function readHash(client: Client, key: string): HashValue | undefined {
  return client.db.getTyped<HashValue>(key, "hash");
}

/** Visits the fields of `hash` that have not expired (Redis 7.4 skips them, deleting none). */
function forEachLive(
  client: Client,
  hash: HashValue | undefined,
  fn: (f: string, v: string) => void,
) {
  if (hash === undefined) return;
  if (hash.ttls === undefined || hash.ttls.size === 0) return hash.forEach(fn);
  const now = client.server.now();
  hash.forEach((f, v) => {
    if (!hash.expiredAt(f, now)) fn(f, v);
  });
}

/** HKEYS key */
export const hkeysCommand: CommandSpec = {
  name: "hkeys",
  arity: 2,
  flags: ["readonly"],
  keys: ONE_KEY,
  docs: {
    summary: "Get all the fields in a hash",
    since: "2.0.0",
    group: "hash",
    complexity: WHOLE_HASH,
    args: "key",
  },
  execute(client, argv) {
    const out: string[] = [];
    forEachLive(client, readHash(client, argv[1]!), (f) => out.push(f));
    return out;
  },
};

/** HVALS key */
export const hvalsCommand: CommandSpec = {
  name: "hvals",
  arity: 2,
  flags: ["readonly"],
  keys: ONE_KEY,
  docs: {
    summary: "Get all the values in a hash",
    since: "2.0.0",
    group: "hash",
    complexity: WHOLE_HASH,
    args: "key",
  },
  execute(client, argv) {
    const out: string[] = [];
    forEachLive(client, readHash(client, argv[1]!), (_, v) => out.push(v));
    return out;
  },
};

/** HGETALL key: a map in RESP3, a flat field/value array in RESP2. */
export const hgetallCommand: CommandSpec = {
  name: "hgetall",
  arity: 2,
  flags: ["readonly"],
  keys: ONE_KEY,
  docs: {
    summary: "Get all the fields and values in a hash",
    since: "2.0.0",
    group: "hash",
    complexity: WHOLE_HASH,
    args: "key",
  },
  execute(client, argv) {
    const out: string[] = [];
    forEachLive(client, readHash(client, argv[1]!), (f, v) => out.push(f, v));
    return new MapReply(out);
  },
};

/** Appends one pick: the field, or with values a pair (nested in RESP3, flat in RESP2). */
function pushPick(out: Reply[], field: string, value: string | undefined, resp3: boolean): void {
  if (value === undefined) out.push(field);
  else if (resp3) out.push([field, value]);
  else out.push(field, value);
}

/**
 * HRANDFIELD with a count, following Redis's four cases: a negative count samples with
 * repetitions; a count covering the hash returns it whole; a count close to the size copies the
 * hash and removes random fields; a small count collects distinct random picks.
 */
function randomFields(
  client: Client,
  hash: HashValue,
  count: number,
  uniq: boolean,
  withValues: boolean,
): Reply {
  const resp3 = client.resp >= 3;
  const out: Reply[] = [];
  const size = hash.size;
  if (!uniq || count === 1) {
    const least = count * MIN_ELEMENT_BYTES * (withValues ? 2 : 1);
    if (!client.server.outputLimits.replyFits(client, least)) return out;
    if (hash.encoding() === "listpack") {
      // Redis samples a listpack by index; the arrays are the listpack walk it does.
      const { fields, values } = hash.toArrays();
      for (let i = 0; i < count; i++) {
        const j = Math.floor(Math.random() * size);
        pushPick(out, fields[j]!, withValues ? values[j] : undefined, resp3);
      }
    } else {
      for (let i = 0; i < count; i++) {
        const [f, v] = hash.randomPair();
        pushPick(out, f, withValues ? v : undefined, resp3);
      }
    }
    return out;
  }
  if (count >= size) {
    hash.forEach((f, v) => pushPick(out, f, withValues ? v : undefined, resp3));
    return out;
  }
  if (count * SUB_STRATEGY_MUL > size) {
    const { fields, values } = hash.toArrays();
    // Remove random entries (swap with the last) until `count` remain.
    for (let n = size; n > count; n--) {
      const j = Math.floor(Math.random() * n);
      fields[j] = fields[n - 1]!;
      values[j] = values[n - 1]!;
    }
    for (let i = 0; i < count; i++) {
      pushPick(out, fields[i]!, withValues ? values[i] : undefined, resp3);
    }
    return out;
  }
  if (hash.encoding() === "listpack") {
    // Redis's lpRandomPairsUnique: selection sampling, picks come out in listpack order.
    const { fields, values } = hash.toArrays();
    let need = count;
    for (let i = 0; i < size && need > 0; i++) {
      if (Math.random() * (size - i) < need) {
        pushPick(out, fields[i]!, withValues ? values[i] : undefined, resp3);
        need--;
      }
    }
    return out;
  }
  const seen = new Set<string>();
  while (seen.size < count) {
    const [f, v] = hash.randomPair();
    if (seen.has(f)) continue;
    seen.add(f);
    pushPick(out, f, withValues ? v : undefined, resp3);
  }
  return out;
}

/** HRANDFIELD key [count [WITHVALUES]] */
export const hrandfieldCommand: CommandSpec = {
  name: "hrandfield",
  arity: -2,
  flags: ["readonly"],
  keys: ONE_KEY,
  docs: {
    summary: "Get one or multiple random fields from a hash",
    since: "6.2.0",
    group: "hash",
    complexity: "O(N) where N is the number of fields returned",
    args: "key [count [WITHVALUES]]",
  },
  execute(client, argv) {
    if (argv.length === 2) {
      const hash = readHash(client, argv[1]!);
      if (hash === undefined || (hash.ttls !== undefined && expireAllDue(client, argv[1]!, hash))) {
        return null;
      }
      return hash.randomPair()[0];
    }
    const l = randomCountArg(argv[2]!);
    if (argv.length > 4 || (argv.length === 4 && argv[3]!.toUpperCase() !== "WITHVALUES")) {
      return fail(E.syntax);
    }
    const withValues = argv.length === 4;
    if (withValues && (l < -HALF_LONG_MAX || l > HALF_LONG_MAX)) {
      return fail("ERR value is out of range");
    }
    const hash = readHash(client, argv[1]!);
    if (hash === undefined) return [];
    if (hash.ttls !== undefined && expireAllDue(client, argv[1]!, hash)) return [];
    if (l === 0n) return [];
    return randomFields(client, hash, Number(l < 0n ? -l : l), l > 0n, withValues);
  },
};

/** HSCAN key cursor [MATCH pattern] [COUNT count] [NOVALUES] */
export const hscanCommand: CommandSpec = {
  name: "hscan",
  arity: -3,
  flags: ["readonly"],
  keys: ONE_KEY,
  docs: {
    // Redis 7.4.1's summary and complexity, as its NOVALUES (tests/command_compare.ts).
    summary: "Iterates over fields and values of a hash.",
    since: "2.8.0",
    group: "hash",
    complexity:
      "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
    args: "key cursor [MATCH pattern] [COUNT count] [NOVALUES]",
  },
  execute(client, argv) {
    const cursor = parseScanCursor(argv[2]!);
    const hash = readHash(client, argv[1]!);
    // Like Redis, a missing key answers before the options are even parsed.
    if (hash === undefined) return ["0", []];
    const { count, pattern, noValues } = parseScanOptions(argv, 3, "hscan");
    const out: string[] = [];
    const now = client.server.now();
    const next = hash.scan(cursor, count, (f, v) => {
      if (hash.ttls !== undefined && hash.expiredAt(f, now)) return;
      if (pattern !== undefined && !globMatch(pattern, f)) return;
      if (noValues) out.push(f);
      else out.push(f, v);
    });
    return [String(next), out];
  },
};

/** The whole-hash read commands. */
export const hashReadCommands: CommandSpec[] = [
  hkeysCommand,
  hvalsCommand,
  hgetallCommand,
  hrandfieldCommand,
  hscanCommand,
];
