/**
 * Replication across restarts: a dump carries the replication id, offset and stream database,
 * so a replica restarted from its dump, and the replicas of a master restarted from its dump,
 * continue with a partial resync instead of a full one (Redis's rdbPopulateSaveInfo and
 * loadDataFromDisk), with a redeno and with a stock Redis replica.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server, SimpleString } from "../mod.ts";
import { rdbOf } from "../core/persistence/rdb_file.ts";
import { replication } from "../replication/mod.ts";
import {
  client,
  dataset,
  field,
  HOST,
  infoText,
  remoteInfo,
  stockRedis,
  waitFor,
} from "./replication_helpers.ts";
import { missing } from "./redis_tools.ts";

/** A redeno with the replication plugin, its dump in `dir` loaded first, as main.ts does. */
async function start(dir: string, port: number, config: Record<string, string> = {}) {
  const s = createServer({ plugins: [replication()], config: { dir, ...config } });
  rdbOf(s).loadOnStart();
  const listening = await s.listen({ port, hostname: HOST });
  return { s, port: listening.port };
}

const linkUp = (s: Server) => field(infoText(s, "replication"), "master_link_status") === "up";
const stat = (s: Server, name: string) => Number(field(infoText(s, "stats"), name));

test("a replica restarted from its dump continues partially, from the stream's database", async () => {
  const dir = mkdtempSync(join(tmpdir(), "redeno-restart-"));
  const m = await start(dir, 0);
  const c = client(m.port);
  const replicaDir = mkdtempSync(join(tmpdir(), "redeno-restart-r-"));
  try {
    const r1 = await start(replicaDir, 0, { replicaof: `${HOST} ${m.port}` });
    await waitFor(() => linkUp(r1.s), "the first link");
    await c.select(3);
    await c.set("a", "1");
    await c.rpush("l", "x", "y");
    assert.equal(await c.call("WAIT", "1", "2000"), 1);
    assert.deepEqual(r1.s.dispatch(["SAVE"]), new SimpleString("OK"));
    await r1.s.close();
    // Written while the replica is away, in the database the stream had selected (no SELECT).
    await c.set("b", "2");
    await c.incr("a");
    const r2 = await start(replicaDir, 0, { replicaof: `${HOST} ${m.port}` });
    await waitFor(() => linkUp(r2.s), "the link after the restart");
    const replid = (s: Server) => field(infoText(s, "replication"), "master_replid");
    assert.equal(replid(r2.s), replid(m.s));
    assert.equal(stat(m.s, "sync_full"), 1);
    assert.equal(stat(m.s, "sync_partial_ok"), 1);
    assert.equal(await c.call("WAIT", "1", "2000"), 1);
    assert.deepEqual(await dataset(r2.port), await dataset(m.port));
    await r2.s.close();
  } finally {
    c.disconnect();
    await m.s.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(replicaDir, { recursive: true, force: true });
  }
});

test("the replicas of a master restarted from its dump continue partially, stock Redis too", {
  skip: missing("redis-server"),
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "redeno-restart-m-"));
  const m1 = await start(dir, 0);
  const port = m1.port;
  const replicaDir = mkdtempSync(join(tmpdir(), "redeno-restart-r-"));
  const r = await start(replicaDir, 0, { replicaof: `${HOST} ${port}` });
  const redis = await stockRedis(["--replicaof", HOST, String(port)]);
  let m2: Awaited<ReturnType<typeof start>> | undefined;
  try {
    const redisUp = async () =>
      field(await remoteInfo(redis.port, "replication"), "master_link_status") === "up";
    await waitFor(async () => linkUp(r.s) && await redisUp(), "both replicas");
    const c1 = client(port);
    await c1.set("before", "1");
    await c1.hset("h", "f", "v");
    assert.equal(await c1.call("WAIT", "2", "2000"), 2);
    c1.disconnect();
    // SHUTDOWN's own save, as an operator restarting the master would do it.
    m1.s.config.set("save", ["3600", "1"]);
    await m1.s.close();
    // The old sockets may hold the port for a moment after close().
    for (let tries = 0; m2 === undefined; tries++) {
      try {
        m2 = await start(dir, port);
      } catch (e) {
        if (tries > 50 || !String(e).includes("in use")) throw e;
        await new Promise((res) => setTimeout(res, 100));
      }
    }
    const restarted = m2;
    await waitFor(() => stat(restarted.s, "sync_partial_ok") === 2, "both to continue", 15000);
    assert.equal(stat(restarted.s, "sync_full"), 0);
    const c2 = client(port);
    await c2.set("after", "2");
    await c2.del("before");
    assert.equal(await c2.call("WAIT", "2", "2000"), 2);
    c2.disconnect();
    const expected = await dataset(port);
    assert.deepEqual(expected.map((l) => l.split(":")[1]).sort(), ["after", "h"]);
    assert.deepEqual(await dataset(r.port), expected);
    assert.deepEqual(await dataset(redis.port), expected);
  } finally {
    await redis.stop();
    await r.s.close();
    await m2?.s.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(replicaDir, { recursive: true, force: true });
  }
});
