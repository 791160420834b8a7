/**
 * FAILOVER between redeno and stock redis-server 7.0: a stock master hands over to a redeno
 * replica (which takes over on `PSYNC ... FAILOVER` and continues the old master and a stock
 * sibling partially), and a redeno master hands over to a stock replica (which takes over on our
 * `PSYNC ... FAILOVER`). Clients write to the master throughout; every write they saw
 * acknowledged is on the new master.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { dataset, HOST, waitFor } from "./replication_helpers.ts";
import { missing } from "./redis_tools.ts";
import {
  infoField,
  type Node,
  replicate,
  roleOf,
  startNode,
  stat,
  waitCaughtUp,
  waitState,
  writeLoad,
} from "./failover_helpers.ts";

/**
 * A master of `from` with a replica of `to` (the target) and one of `from`; FAILOVER TO the
 * target under write load; then the sibling follows the new master.
 */
async function handOver(from: "redeno" | "redis", to: "redeno" | "redis"): Promise<void> {
  const n0 = await startNode(from);
  const target = await startNode(to);
  const sibling = await startNode(from);
  const nodes: Node[] = [sibling, target, n0];
  try {
    await replicate(target, n0);
    await replicate(sibling, n0);
    const psyncs = await stat(target, "sync_partial_ok");
    const fulls = await stat(target, "sync_full");
    const load = writeLoad(n0.port, 4);
    await waitFor(() => load.acked.set > 200, "writes");
    assert.equal(await n0.c.call("FAILOVER", "TO", HOST, String(target.port)), "OK");
    await waitState(n0, "no-failover");
    await load.stop();
    assert.ok(load.refusals.length > 0, "the writers ran until the handover");
    for (const r of load.refusals) {
      assert.equal(r, "READONLY You can't write against a read only replica.");
    }
    assert.equal(await roleOf(target), "master");
    assert.equal(await roleOf(n0), "slave");
    assert.equal(await infoField(n0, "replication", "master_port"), String(target.port));
    await sibling.c.call("REPLICAOF", HOST, String(target.port));
    await waitFor(async () => await stat(target, "sync_partial_ok") - psyncs >= 2, "resyncs");
    await waitCaughtUp(target, n0);
    await waitCaughtUp(target, sibling);
    // The old master and the sibling both continued partially; nothing was synced in full.
    assert.equal(await stat(target, "sync_partial_ok") - psyncs, 2);
    assert.equal(await stat(target, "sync_full") - fulls, 0);
    assert.equal(Number(await target.c.get("counter")), load.acked.incr);
    assert.equal(await target.c.dbsize(), load.acked.set + 1);
    const d = await dataset(target.port);
    assert.deepEqual(await dataset(n0.port), d);
    assert.deepEqual(await dataset(sibling.port), d);
    // The new master takes writes, and they reach the old one.
    await target.c.set("after", "failover");
    await waitCaughtUp(target, n0);
    assert.equal(await n0.c.get("after"), "failover");
    for (const node of [n0, target]) {
      if (node.kind !== "redeno") continue;
      const line = node === n0
        ? `Failover target ${HOST}:${target.port} is synced, failing over.`
        : "MASTER MODE enabled (failover request from";
      assert.ok(node.log.some((l) => l.includes(line)), line);
    }
  } finally {
    for (const n of nodes) await n.stop();
  }
}

test("a stock redis-server master fails over to a redeno replica", {
  skip: missing("redis-server"),
}, async () => {
  await handOver("redis", "redeno");
});

test("a redeno master fails over to a stock redis-server replica", {
  skip: missing("redis-server"),
}, async () => {
  await handOver("redeno", "redis");
});
