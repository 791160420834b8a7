/**
 * Redis 7.4's transaction changes (#12961): a read-only transaction runs when memory is out (only
 * writes are refused while queueing), and the commands MULTI queued count toward the client's
 * query buffer limit. Asserted on redeno, and the same steps on the 7.4.1 reference when present.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RawConn, startServer } from "./helpers.ts";
import { pipeline } from "./redis_compare.ts";
import { compareWithReference, REFERENCE_74, startReference } from "./reference_redis.ts";

const NO_REF = REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false;
const OOM = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";
const ABORT = "-EXECABORT Transaction discarded because of previous errors.\r\n";

const OOM_CASES: Array<[string, string]> = [
  ["SET k v", "+OK\r\n"],
  ["CONFIG SET maxmemory 1", "+OK\r\n"],
  ["MULTI", "+OK\r\n"],
  ["GET k", "+QUEUED\r\n"],
  ["PING", "+QUEUED\r\n"],
  ["EXEC", "*2\r\n$1\r\nv\r\n+PONG\r\n"],
  ["MULTI", "+OK\r\n"],
  ["GET k", "+QUEUED\r\n"],
  ["SET k w", OOM],
  ["EXEC", ABORT],
  ["MULTI", "+OK\r\n"],
  ["DEL k", "+QUEUED\r\n"],
  ["EXEC", "*1\r\n:1\r\n"],
  ["CONFIG SET maxmemory 0", "+OK\r\n"],
];

test("a read-only transaction runs out of memory; a queued write is refused (7.4)", async () => {
  const ours = await startServer();
  const c = await RawConn.connect(ours.port);
  try {
    const got = await pipeline(c, OOM_CASES.map(([cmd]) => cmd.split(" ")));
    OOM_CASES.forEach(([cmd, want], i) => assert.equal(got[i], want, cmd));
  } finally {
    c.close();
    await ours.close();
  }
});

test("transactions out of memory side by side with the 7.4.1 reference", {
  skip: NO_REF,
}, async () => {
  for (const resp3 of [false, true]) {
    await compareWithReference(OOM_CASES.map(([cmd]) => cmd.split(" ")), resp3);
  }
});

/**
 * On `port`, with a 1 MB query buffer limit: MULTI and two queued 600 KB SETs, each sent when
 * the reply before it came; returns what came back and whether the connection was closed.
 */
async function queuedPastLimit(port: number): Promise<{ replies: string[]; closed: boolean }> {
  const admin = await RawConn.connect(port);
  const c = await RawConn.connect(port);
  try {
    await pipeline(admin, [["CONFIG", "SET", "client-query-buffer-limit", "1mb"]]);
    const big = "x".repeat(600_000);
    const replies = await pipeline(c, [["MULTI"], ["SET", "a", big]]);
    c.command("SET", "b", big);
    const closed = await c.waitClosed();
    replies.push(c.pending);
    const [stats] = await pipeline(admin, [["INFO", "stats"]]);
    replies.push(/client_query_buffer_limit_disconnections:(\d+)/.exec(stats!)![1]!);
    return { replies, closed };
  } finally {
    c.close();
    admin.close();
  }
}

const QUEUED = { replies: ["+OK\r\n", "+QUEUED\r\n", "", "1"], closed: true };

test("commands queued by MULTI count toward the query buffer limit (7.4)", async () => {
  const ours = await startServer();
  try {
    assert.deepEqual(await queuedPastLimit(ours.port), QUEUED);
  } finally {
    await ours.close();
  }
});

test("MULTI's queue and the query buffer limit side by side with the 7.4.1 reference", {
  skip: NO_REF,
}, async () => {
  const ref = await startReference();
  try {
    assert.deepEqual(await queuedPastLimit(ref.port), QUEUED);
  } finally {
    ref.stop();
  }
});
