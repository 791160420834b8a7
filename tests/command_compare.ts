/**
 * COMMAND side by side with a real redis-server 7.0: the tests of command metadata
 * (command_info_test, acl_categories_test) ask both servers the same and compare.
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
 * Runs `fn` with a client of a fresh redis-server, then with one of a fresh redeno (with the
 * replication and groups plugins); returns both answers, Redis's first.
 */
export function onBoth<T>(fn: (c: Redis) => Promise<T>): Promise<[T, T]> {
  return onBothWith(() => startRedis(), fn);
}

/** {@linkcode onBoth} with the server `start` runs (the 7.4.1 reference build, say). */
export async function onBothWith<T>(
  start: () => Promise<{ port: number; stop(): void }>,
  fn: (c: Redis) => Promise<T>,
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

/**
 * Commands whose COMMAND DOCS Redis 7.4 changed (new arguments, history entries) and redeno
 * follows, and why: the comparison with 7.0.15 leaves their argument tree and history out, and
 * compares those with the 7.4.1 reference build instead.
 */
export const CHANGED_IN_74: Record<string, string> = {
  hscan: "Redis 7.4's NOVALUES",
  "client|kill": "Redis 7.4's MAXAGE",
};

/**
 * Commands whose COMMAND INFO (flags, arity, tips) Redis 7.2/7.4 changed and redeno follows, and
 * why: compared with the 7.4.1 reference build instead of 7.0.15.
 */
export const INFO_CHANGED_IN_74: Record<string, string> = {
  ...Object.fromEntries(
    ["blpop", "brpop", "brpoplpush", "blmove", "bzpopmin", "bzpopmax"].map((n) => [
      n,
      "no longer noscript: in scripts they answer as a timeout when they would block",
    ]),
  ),
};
