/**
 * INFO commandstats and errorstats count refused and failed calls as Redis 7.0 does: an arity
 * error is a rejected call of the command named (in MULTI too, then EXEC fails with EXECABORT),
 * a call unblocked by CLIENT UNBLOCK ... ERROR failed with UNBLOCKED, a CONFIG SET whose port
 * cannot be bound failed. The same calls run against redis-server when it is installed, and
 * the counters must read the same.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { Redis } from "ioredis";
import { startServer } from "./helpers.ts";
import { HOST, stockRedis, waitFor } from "./replication_helpers.ts";
import { missing } from "./redis_tools.ts";

function connect(port: number): Redis {
  return new Redis({ port, host: HOST, maxRetriesPerRequest: 0 });
}

/** Runs `argv`, answering the error's text when it fails. */
async function run(c: Redis, ...argv: string[]): Promise<unknown> {
  try {
    return await c.call(argv[0]!, ...argv.slice(1));
  } catch (e) {
    return (e as Error).message;
  }
}

/** The calls of the test, then the counters: `cmdstat_x` without times, and `errorstat_x`. */
async function counters(port: number): Promise<Record<string, string>> {
  const busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, HOST, r));
  const c = connect(port);
  const b = connect(port);
  try {
    await run(c, "CONFIG", "RESETSTAT");
    assert.match(String(await run(c, "SET", "k")), /^ERR wrong number of arguments for 'set'/);
    await run(c, "SET", "k1", "v1");
    assert.match(String(await run(c, "EVAL", "a")), /^ERR wrong number/);
    await run(c, "EVAL", "redis.pcall('XGROUP', 'CREATECONSUMER', 's1', 'g', 'c')", "0");
    await run(c, "MULTI");
    await run(c, "SET");
    assert.match(String(await run(c, "EXEC")), /^EXECABORT/);
    await run(c, "MULTI");
    assert.match(String(await run(c, "EXEC", "now")), /^EXECABORT Transaction discarded/);
    assert.match(String(await run(c, "CONFIG")), /^ERR wrong number of arguments for 'config'/);
    const busyPort = (busy.address() as net.AddressInfo).port;
    assert.match(
      String(await run(c, "CONFIG", "SET", "port", String(busyPort))),
      /Unable to listen on this port/,
    );
    const id = String(await b.client("ID"));
    const blocked = run(b, "BLPOP", "nolist", "0");
    await waitFor(async () => /blocked_clients:1/.test(await c.info("clients")), "BLPOP to block");
    assert.equal(await run(c, "CLIENT", "UNBLOCK", id, "ERROR"), 1);
    assert.match(String(await blocked), /^UNBLOCKED/);
    const out: Record<string, string> = {};
    const text = `${await c.info("commandstats")}\n${await c.info("errorstats")}`;
    for (const line of text.split("\r\n")) {
      const m = /^(cmdstat_[^:]+|errorstat_[^:]+):(.*)$/.exec(line);
      if (m === null || m[1] === "cmdstat_info" || m[1] === "cmdstat_client|id") continue;
      out[m[1]!] = m[2]!.replace(/usec=\d+,usec_per_call=[\d.]+,/, "");
    }
    return out;
  } finally {
    c.disconnect();
    b.disconnect();
    await new Promise((r) => busy.close(r));
  }
}

test("refused, unblocked and failed calls are counted as Redis 7.0 counts them", async () => {
  const { port, close } = await startServer();
  try {
    const got = await counters(port);
    assert.equal(got["cmdstat_set"], "calls=1,rejected_calls=2,failed_calls=0");
    assert.equal(got["cmdstat_eval"], "calls=1,rejected_calls=1,failed_calls=0");
    assert.equal(got["cmdstat_xgroup|createconsumer"], "calls=1,rejected_calls=0,failed_calls=1");
    assert.equal(got["cmdstat_exec"], "calls=1,rejected_calls=1,failed_calls=1");
    assert.equal(got["cmdstat_config|set"], "calls=1,rejected_calls=0,failed_calls=1");
    assert.equal(got["cmdstat_blpop"], "calls=1,rejected_calls=0,failed_calls=1");
    // The UNBLOCKED error was sent during CLIENT UNBLOCK: Redis counts that call failed too.
    assert.equal(got["cmdstat_client|unblock"], "calls=1,rejected_calls=0,failed_calls=1");
    assert.equal(got["cmdstat_config"], "calls=0,rejected_calls=1,failed_calls=0");
    assert.equal(got["errorstat_UNBLOCKED"], "count=1");
    assert.equal(got["errorstat_EXECABORT"], "count=2");
  } finally {
    await close();
  }
});

test(
  "the counters read the same as redis-server's",
  { skip: missing("redis-server") },
  async () => {
    const redis = await stockRedis();
    const ours = await startServer();
    try {
      assert.deepEqual(await counters(ours.port), await counters(redis.port));
    } finally {
      await ours.close();
      await redis.stop();
    }
  },
);
