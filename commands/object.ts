/**
 * OBJECT ENCODING | FREQ | IDLETIME | REFCOUNT | HELP: introspection of the value at a key.
 *
 * IDLETIME and FREQ read the key's access stamp (core/keyspace/access.ts), kept like Redis's
 * per-object LRU/LFU field; each refuses under the other kind of policy, as in Redis.
 *
 * @module
 */

import { helpFor } from "../core/compat.ts";
import { parseI64 } from "../core/bytes.ts";
import { idleSeconds, lfuCounter } from "../core/keyspace/access.ts";
import type { Client } from "../core/client.ts";
import type { CommandSpec, Execute } from "../core/command.ts";
import type { Config } from "../core/config.ts";
import type { Value } from "../core/keyspace/database.ts";
import { fail } from "../core/resp/reply.ts";

const HELP = [
  "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "ENCODING <key>",
  "    Return the kind of internal representation used in order to store the value",
  "    associated with a <key>.",
  "FREQ <key>",
  "    Return the access frequency index of the <key>. The returned integer is",
  "    proportional to the logarithm of the recent access frequency of the key.",
  "IDLETIME <key>",
  "    Return the idle time of the <key>, that is the approximated number of",
  "    seconds elapsed since the last access to the key.",
  "REFCOUNT <key>",
  "    Return the number of references of the value associated with the specified",
  "    <key>.",
  "HELP",
  "    Print this help.",
];

/** Redis's refcount of its shared objects (integers 0..9999). */
const SHARED_REFCOUNT = 2147483647;
/** Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT. */
const EMBSTR_MAX = 44;

/**
 * The encoding Redis would give a string value: `int` when it reads as an int64 (no leading
 * zeros, at most 20 bytes), `embstr` up to 44 bytes, `raw` beyond.
 *
 * @param s the string value
 * @returns `int`, `embstr` or `raw`
 */
export function stringEncoding(s: string): string {
  if (s.length <= 20 && parseI64(s) !== undefined) return "int";
  return s.length <= EMBSTR_MAX ? "embstr" : "raw";
}

function lfuPolicy(config: Config): boolean {
  return config.str("maxmemory-policy").endsWith("-lfu");
}

/** Redis does not share integers when maxmemory is set with an LRU or LFU policy. */
function sharesIntegers(config: Config): boolean {
  const policy = config.str("maxmemory-policy");
  return config.num("maxmemory") === 0 || !(policy.endsWith("-lru") || policy.endsWith("-lfu"));
}

function refcount(client: Client, v: Value): number {
  if (typeof v !== "string" || !sharesIntegers(client.server.config)) return 1;
  const n = v.length <= 4 ? parseI64(v) : undefined;
  return typeof n === "number" && n >= 0 && n < 10000 ? SHARED_REFCOUNT : 1;
}

function keySub(
  name: string,
  summary: string,
  since: string,
  answer: (client: Client, v: Value, key: string) => number | string,
): CommandSpec {
  const execute: Execute = (client, argv) => {
    // OBJECT looks at the key without counting as an access.
    const v = client.db.get(argv[2]!, true);
    return v === undefined ? null : answer(client, v, argv[2]!);
  };
  return {
    name,
    arity: 3,
    flags: ["readonly"],
    keys: { first: 2, last: 2, step: 1 },
    docs: { summary, since, group: "generic", complexity: "O(1)", args: "key" },
    execute,
  };
}

/** OBJECT ENCODING | FREQ | IDLETIME | REFCOUNT | HELP */
export const objectCommand: CommandSpec = {
  name: "object",
  arity: -2,
  docs: {
    summary: "A container for object introspection commands",
    since: "2.2.3",
    group: "generic",
    complexity: "Depends on subcommand.",
  },
  subcommands: [
    keySub(
      "encoding",
      "Inspect the internal encoding of a Redis object",
      "2.2.3",
      (_client, v) => typeof v === "string" ? stringEncoding(v) : v.encoding(),
    ),
    keySub(
      "freq",
      "Get the logarithmic access frequency counter of a Redis object",
      "4.0.0",
      (client, _v, key) => {
        if (!lfuPolicy(client.server.config)) {
          return fail(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
          );
        }
        const server = client.server;
        return lfuCounter(
          client.db.dict.stampOf(key),
          server.time,
          server.config.num("lfu-decay-time"),
        );
      },
    ),
    keySub(
      "idletime",
      "Get the time since a Redis object was last accessed",
      "2.2.3",
      (client, _v, key) => {
        if (lfuPolicy(client.server.config)) {
          return fail(
            "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
          );
        }
        return idleSeconds(client.db.dict.stampOf(key), client.server.time);
      },
    ),
    keySub(
      "refcount",
      "Get the number of references to the value of the key",
      "2.2.3",
      refcount,
    ),
    {
      name: "help",
      arity: 2,
      flags: ["loading", "stale"],
      docs: {
        summary: "Show helpful text about the different subcommands",
        since: "6.2.0",
        group: "generic",
        complexity: "O(1)",
      },
      execute: (client) => helpFor(client, HELP),
    },
  ],
};
