/**
 * READONLY, READWRITE, ASKING, CLUSTER and RESTORE-ASKING on a server without cluster support:
 * Redis 7.0's error (RESTORE-ASKING runs as RESTORE), and the same COMMAND INFO and COMMAND DOCS
 * as redis-server (ACL rules such as `+readonly` name them).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { startServer } from "./helpers.ts";
import { as7015, startRedis } from "./redis_compare.ts";
import { missing } from "./redis_tools.ts";

const ASKS: (string | number)[][] = [
  ["READONLY"],
  ["READWRITE"],
  ["READONLY", "extra"],
  ["COMMAND", "INFO", "readonly", "readwrite"],
  ["COMMAND", "DOCS", "readonly", "readwrite"],
  ["ACL", "SETUSER", "ro", "on", "nopass", "+readonly"],
  ["ACL", "DRYRUN", "ro", "readonly"],
  ["ACL", "DRYRUN", "ro", "readwrite"],
  ["ASKING"],
  ["CLUSTER", "INFO"],
  ["CLUSTER", "HELP"],
  ["CLUSTER", "KEYSLOT", "a"],
  ["CLUSTER", "KEYSLOT", "a", "b"],
  ["CLUSTER", "NOSUCH"],
  ["CLUSTER"],
  ["RESTORE-ASKING", "k", "0", "not a payload"],
  ["COMMAND", "INFO", "asking", "restore-asking", "cluster|setslot", "cluster|info"],
  ["COMMAND", "DOCS", "asking", "cluster|info", "cluster|keyslot", "cluster|addslots"],
  ["EVAL", "return redis.call('cluster', 'reset')", 0],
  ["EVAL", "return redis.call('cluster', 'info')", 0],
  ["COMMAND", "LIST", "FILTERBY", "PATTERN", "cluster|*"],
];

async function answers(port: number): Promise<unknown[]> {
  const c = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
  await c.connect();
  const out: unknown[] = [];
  for (const [name, ...args] of ASKS) {
    try {
      out.push(await c.call(String(name), ...args));
    } catch (e) {
      out.push(`error: ${(e as Error).message}`);
    }
  }
  c.disconnect();
  return out;
}

test(
  "READONLY, READWRITE, ASKING, CLUSTER and RESTORE-ASKING answer as redis-server 7.0 without cluster support",
  {
    skip: missing("redis-server"),
  },
  async () => {
    const redis = await startRedis();
    const ours = await startServer(as7015());
    try {
      const want = await answers(redis.port);
      const got = await answers(ours.port);
      // COMMAND LIST comes in each server's table order.
      for (const a of [want, got]) (a.at(-1) as string[]).sort();
      assert.deepEqual(got, want);
      assert.equal(got[0], "error: ERR This instance has cluster support disabled");
      // CLUSTER RESET is `noscript`: a script is told so (unit/scripting), not "unknown command".
      const reset = ASKS.findIndex((a) => a[0] === "EVAL" && String(a[1]).includes("reset"));
      assert.match(String(got[reset]), /command is not allowed from script/);
      assert.equal((got.at(-1) as string[]).length, 27);
    } finally {
      redis.stop();
      await ours.close();
    }
  },
);
