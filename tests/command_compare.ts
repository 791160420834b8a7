/**
 * COMMAND side by side with a real redis-server 7.0 (or the 7.4.1 reference): the tests of
 * command metadata (command_info_test, command_info_74_test, acl_categories_test) ask both
 * servers the same and compare.
 */
import { Redis } from "ioredis";
import { startServer } from "./helpers.ts";
import { startRedis } from "./redis_compare.ts";
import { groups } from "../plugins/groups/mod.ts";
import { replication } from "../replication/mod.ts";

/**
 * One command of a `COMMAND` / `COMMAND INFO` reply: name, arity, flags, first, last, step, ACL
 * categories, tips, key specs, subcommands.
 */
export type CommandInfo = [
  string,
  number,
  string[],
  number,
  number,
  number,
  string[],
  string[],
  unknown[][],
  CommandInfo[],
];

/** Every command of a `COMMAND` reply by name, subcommands (`client|list`) included. */
export function flattenCommands(
  list: CommandInfo[],
  out = new Map<string, CommandInfo>(),
): Map<string, CommandInfo> {
  for (const e of list) {
    if (!e) continue;
    out.set(e[0], e);
    if (Array.isArray(e[9])) flattenCommands(e[9], out);
  }
  return out;
}

/**
 * Commands whose `COMMAND INFO` (arity, flags, ACL categories) follows Redis 7.2/7.4 on purpose
 * where it differs from 7.0.15's, and why. The tests comparing with 7.0.15 leave these out;
 * command_info_74_test compares them with the 7.4.1 reference instead.
 */
export const FOLLOWS_74: Record<string, string> = {
  zrank: "Redis 7.2's WITHSCORE: arity -3",
  zrevrank: "Redis 7.2's WITHSCORE: arity -3",
  ...Object.fromEntries(
    ["blpop", "brpop", "brpoplpush", "blmove", "bzpopmin", "bzpopmax", "wait"].map((n) => [
      n,
      "Redis 7.2 runs blocking commands in scripts as in MULTI: no `noscript` flag (WAIT: `blocking`)",
    ]),
  ),
};

/**
 * Commands whose `COMMAND DOCS` (summary, history, arguments) follows Redis 7.2/7.4, and why;
 * compared with the 7.4.1 reference instead of 7.0.15, as FOLLOWS_74.
 */
export const DOCS_FOLLOW_74: Record<string, string> = {
  zrank: "Redis 7.2's WITHSCORE (history, arguments) and 7.4.1's summary",
  zrevrank: "Redis 7.2's WITHSCORE (history, arguments) and 7.4.1's summary",
  quit: "deprecated by Redis 7.2 (just closing the connection), with 7.4.1's summary",
  hscan: "Redis 7.4's NOVALUES, with 7.4.1's summary",
  "client|kill": "Redis 7.4's MAXAGE, with 7.4.1's summary",
};

/**
 * Whether `name` is listed in `table`: by itself, as a subcommand of a listed container
 * (`client|setinfo` under `client`), or under a listed prefix ending in a dot (`group.`).
 */
export function listed(name: string, table: Record<string, string>): boolean {
  return Object.keys(table).some((k) =>
    name === k || name.startsWith(`${k}|`) || (k.endsWith(".") && name.startsWith(k))
  );
}

/** The fields of a `COMMAND DOCS` entry compared besides the arguments. */
export const DOC_HEAD = [
  "summary",
  "since",
  "group",
  "complexity",
  "doc_flags",
  "deprecated_since",
  "replaced_by",
  "history",
];

/** A flat `[k1, v1, k2, v2...]` reply as a map. */
export function pairs(x: unknown): Map<string, unknown> {
  const a = x as unknown[];
  const m = new Map<string, unknown>();
  for (let i = 0; i < a.length; i += 2) m.set(a[i] as string, a[i + 1]);
  return m;
}

/**
 * The shape of a `COMMAND DOCS` argument tree: types (scalar types folded together), tokens,
 * flags and key specs; not the names, which our grammar derives from the placeholders, nor each
 * argument's `since` or `display_text`.
 */
export function argShape(args: unknown): unknown {
  return ((args ?? []) as unknown[]).map((arg) => {
    const a = arg as unknown[];
    const out: Record<string, unknown> = {};
    for (let i = 0; i < a.length; i += 2) {
      const [k, v] = [a[i] as string, a[i + 1]];
      if (k === "name" || k === "since" || k === "display_text") continue;
      if (k === "type") {
        out[k] = ["key", "pure-token", "block", "oneof"].includes(v as string) ? v : "scalar";
      } else out[k] = k === "arguments" ? argShape(v) : v;
    }
    return out;
  });
}

/**
 * Runs `fn` with a client of a fresh redis-server (by default Debian's 7.0.15; `start` may start
 * another), then with one of a fresh redeno (with the replication and groups plugins); returns
 * both answers, Redis's first.
 */
export async function onBoth<T>(
  fn: (c: Redis) => Promise<T>,
  start: () => Promise<{ port: number; stop(): void }> = startRedis,
): Promise<[T, T]> {
  const redis = await start();
  const ours = await startServer({ plugins: [replication(), groups()] });
  const a = new Redis(redis.port, "127.0.0.1");
  const b = new Redis(ours.port, "127.0.0.1");
  try {
    return [await fn(a), await fn(b)];
  } finally {
    a.disconnect();
    b.disconnect();
    redis.stop();
    await ours.close();
  }
}

/** Commands whose COMMAND DOCS argument tree has another shape than Redis's, and why. */
export const ARGS_DIFFER: Record<string, string> = {
  bitfield: "Redis nests OVERFLOW before each SET/INCRBY block; our one-line grammar cannot",
  "client|kill": "Redis marks the old `ip:port` form with its own deprecated_since",
  "client|list": "Redis makes ID a block of one repeated id (WEIGHTS, PREFIX are not blocks)",
  "command|getkeys": "Redis 7.0.15 declares no arguments for it",
  "command|getkeysandflags": "Redis 7.0.15 declares no arguments for it",
  failover:
    "Redis makes TO a block (token TO: host, port, optional FORCE); our grammar gives TO to host",
  "config|get": "Redis makes the parameter a block of one repeated argument",
  psubscribe: "Redis makes the pattern a block of one repeated argument",
  "module|loadex": "Redis makes ARGS a block of one repeated argument",
  geosearch: "Redis makes FROMLONLAT a block with its token but not BYRADIUS",
  geosearchstore: "the same as GEOSEARCH",
  migrate: 'Redis gives the `""` key alternative as an empty token',
  sort: "Redis counts the BY and GET patterns as keys",
  sort_ro: "the same as SORT",
  xread: "Redis makes STREAMS a block of the keys and the ids",
  xreadgroup: "Redis makes GROUP and STREAMS blocks",
};
