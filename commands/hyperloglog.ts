/**
 * HyperLogLog commands: PFADD, PFCOUNT, PFMERGE (PFSELFTEST and PFDEBUG live in
 * `hyperloglog_debug.ts`). A HyperLogLog is a plain string value in Redis's exact layout (see
 * `core/hll.ts`), so GET, SET, DUMP/RESTORE and RDB files carry it unchanged.
 *
 * @module
 */

import type { Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import {
  HLL_DENSE,
  HLL_EMPTY,
  HLL_REGISTERS,
  hllAdd,
  hllCount,
  hllMerge,
  hllSetRegister,
  invalidateCard,
  loadHll,
  rawCount,
  saveHll,
  setCachedCard,
  sparseToDense,
} from "../core/hll.ts";
import { N } from "../core/notify.ts";
import { fail, R } from "../core/resp/reply.ts";
import { HLL_CORRUPTED, hllAt, sparseMaxBytes, storeHll } from "../core/hll_access.ts";
import { hllDebugCommands } from "./hyperloglog_debug.ts";

/** PFADD key [element [element ...]] */
export const pfaddCommand: CommandSpec = {
  name: "pfadd",
  arity: -2,
  flags: ["write", "denyoom", "fast"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Adds the specified elements to the specified HyperLogLog.",
    since: "2.8.9",
    group: "hyperloglog",
    complexity: "O(1) to add every element.",
    args: "key [element [element ...]]",
  },
  execute(client, argv) {
    const key = argv[1]!;
    const cur = hllAt(client, key, true);
    const h = loadHll(cur ?? HLL_EMPTY);
    let updated = cur === undefined ? 1 : 0;
    const maxBytes = argv.length > 2 ? sparseMaxBytes(client) : 0;
    for (let j = 2; j < argv.length; j++) {
      const r = hllAdd(h, argv[j]!, maxBytes);
      if (r === 1) updated++;
      else if (r === -1) {
        // Redis changed the value in place for the elements before the corrupted spot.
        if (updated !== 0) client.db.replace(key, saveHll(h));
        return fail(HLL_CORRUPTED);
      }
    }
    if (updated === 0) return 0;
    invalidateCard(h);
    storeHll(client, key, saveHll(h), cur !== undefined);
    client.db.notify(N.string, "pfadd", key);
    client.server.dirty += updated;
    return 1;
  },
};

/** Cached cardinality read straight from the string (bytes 8..15, little-endian). */
function stringCard(s: string): number | bigint {
  let n = 0;
  for (let i = 15; i >= 8; i--) n = n * 256 + s.charCodeAt(i);
  if (n <= Number.MAX_SAFE_INTEGER) return n;
  // Only a hand-made header holds such a count; Redis replies it exactly.
  let b = 0n;
  for (let i = 15; i >= 8; i--) b = (b << 8n) | BigInt(s.charCodeAt(i));
  return b;
}

const merged = new Uint8Array(HLL_REGISTERS);

/** Merges the HyperLogLogs at argv[from..] into `merged`; true when one of them is dense. */
function mergeKeys(client: Client, argv: string[], from: number): boolean {
  merged.fill(0);
  let dense = false;
  for (let j = from; j < argv.length; j++) {
    const s = hllAt(client, argv[j]!, false);
    if (s === undefined) continue;
    const h = loadHll(s);
    if (h.buf[4] === HLL_DENSE) dense = true;
    if (!hllMerge(merged, h)) fail(HLL_CORRUPTED);
  }
  return dense;
}

/** PFCOUNT key [key ...] */
export const pfcountCommand: CommandSpec = {
  name: "pfcount",
  arity: -2,
  // "may_replicate": it may write the cached count (COMMAND INFO hides the flag, as Redis's;
  // read-only scripts refuse it, and CLIENT PAUSE WRITE holds it).
  flags: ["readonly", "may_replicate"],
  keys: { first: 1, last: -1, step: 1 },
  docs: {
    summary:
      "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
    since: "2.8.9",
    group: "hyperloglog",
    complexity:
      "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.",
    args: "key [key ...]",
  },
  execute(client, argv) {
    if (argv.length > 2) {
      mergeKeys(client, argv, 1);
      return rawCount(merged);
    }
    const key = argv[1]!;
    const s = hllAt(client, key, false);
    if (s === undefined) return 0;
    if ((s.charCodeAt(15) & 0x80) === 0) return stringCard(s);
    const h = loadHll(s);
    const card = hllCount(h);
    if (card < 0) return fail(HLL_CORRUPTED);
    // Caching the count changes the string: Redis counts it as a write, so it propagates.
    setCachedCard(h, card);
    storeHll(client, key, saveHll(h), true);
    client.server.dirty++;
    return card;
  },
};

/** PFMERGE destkey [sourcekey [sourcekey ...]] */
export const pfmergeCommand: CommandSpec = {
  name: "pfmerge",
  arity: -2,
  flags: ["write", "denyoom"],
  keys: { first: 1, last: -1, step: 1 },
  docs: {
    summary: "Merge N different HyperLogLogs into a single one.",
    since: "2.8.9",
    group: "hyperloglog",
    complexity: "O(N) to merge N HyperLogLogs, but with high constant times.",
    args: "destkey sourcekey [sourcekey ...]",
  },
  execute(client, argv) {
    const dense = mergeKeys(client, argv, 1);
    const key = argv[1]!;
    // The destination was checked as the first source.
    const cur = client.db.lookupWrite(key) as string | undefined;
    const h = loadHll(cur ?? HLL_EMPTY);
    if (dense && !sparseToDense(h)) return fail(HLL_CORRUPTED);
    const maxBytes = sparseMaxBytes(client);
    for (let j = 0; j < HLL_REGISTERS; j++) {
      const v = merged[j]!;
      if (v !== 0) hllSetRegister(h, j, v, maxBytes);
    }
    invalidateCard(h);
    storeHll(client, key, saveHll(h), cur !== undefined);
    // PFMERGE fires "pfadd": in effect it adds elements in bulk.
    client.db.notify(N.string, "pfadd", key);
    client.server.dirty++;
    return R.ok;
  },
};

/** Every HyperLogLog command. */
export const hyperloglogCommands: CommandSpec[] = [
  pfaddCommand,
  pfcountCommand,
  pfmergeCommand,
  ...hllDebugCommands,
];
