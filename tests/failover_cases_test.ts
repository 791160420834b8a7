/**
 * The later cases of Redis's tests/integration/failover.tcl, reproduced on redeno nodes (and run
 * the same on stock redis-server nodes, the reference): FORCE after TIMEOUT, TIMEOUT giving up,
 * FAILOVER ABORT, a target that refuses the PSYNC; and FAILOVER inside MULTI. Where the Tcl
 * stops a process with SIGSTOP, a proxy holds its link still (the servers here run in this
 * process, or as stock processes reached through the proxy).
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { dataset, HOST, waitFor } from "./replication_helpers.ts";
import { missing } from "./redis_tools.ts";
import {
  failoverState,
  infoField,
  type Node,
  replicate,
  roleOf,
  StallProxy,
  startNode,
  stat,
  waitCaughtUp,
  waitState,
} from "./failover_helpers.ts";

/** The roles of `nodes`, in order. */
function roles(...nodes: Node[]): Promise<string[]> {
  return Promise.all(nodes.map(roleOf));
}

/** Asserts that every node holds the same data. */
async function sameData(...nodes: Node[]): Promise<void> {
  const first = await dataset(nodes[0]!.port);
  for (const n of nodes.slice(1)) assert.deepEqual(await dataset(n.port), first);
}

/** How many of `node`'s log lines end with `text` (redeno only). */
function logged(node: Node, text: string): number {
  return node.log.filter((l) => l.endsWith(text)).length;
}

for (const kind of ["redeno", "redis"] as const) {
  const on = kind === "redeno" ? "" : " (stock redis-server, the reference)";
  const skip = kind === "redis" ? missing("redis-server") : false;

  test(`FAILOVER TO a replica with TIMEOUT and FORCE hands over though it did not catch up${on}`, {
    skip,
  }, async () => {
    const n0 = await startNode(kind);
    // The target is reached through a proxy both ways: its link to n0, and the address it
    // announces, which n0 connects to when it hands over.
    const front = await StallProxy.start(0);
    const n1 = await startNode(kind, { "replica-announce-port": String(front.port) });
    front.retarget(n1.port);
    const n2 = await startNode(kind);
    const link = await StallProxy.start(n0.port);
    try {
      await replicate(n1, n0, link.port);
      await replicate(n2, n0);
      const psyncs = await stat(n1, "sync_partial_ok");
      const fulls = await stat(n1, "sync_full");
      link.stall();
      front.stall();
      // The target never acknowledges this write before the timeout.
      await n0.c.set("case", "2");
      assert.equal(
        await n0.c.call("FAILOVER", "TO", HOST, String(front.port), "TIMEOUT", "100", "FORCE"),
        "OK",
      );
      await waitState(n0, "failover-in-progress");
      // Never two masters: while n0 hands over, all three are replicas.
      assert.deepEqual(await roles(n0, n1, n2), ["slave", "slave", "slave"]);
      link.resume();
      await waitFor(async () =>
        (await infoField(n1, "replication", "slave_repl_offset")) ===
          await infoField(n0, "replication", "master_repl_offset"), "the target to catch up");
      front.resume();
      await waitState(n0, "no-failover");
      await n2.c.call("REPLICAOF", HOST, String(n1.port));
      await waitCaughtUp(n1, n0);
      await waitCaughtUp(n1, n2);
      assert.deepEqual(await roles(n0, n1, n2), ["slave", "master", "slave"]);
      if (kind === "redeno") {
        assert.equal(logged(n0, "time out exceeded, failing over."), 1);
      }
      assert.equal(await stat(n1, "sync_partial_ok") - psyncs, 2);
      assert.equal(await stat(n1, "sync_full") - fulls, 0);
      assert.equal(await n1.c.get("case"), "2");
      await sameData(n0, n1, n2);
    } finally {
      await link.close();
      await front.close();
      for (const n of [n2, n1, n0]) await n.stop();
    }
  });

  test(`FAILOVER ABORT while handing over makes the old master a master again${on}`, {
    skip,
  }, async () => {
    const n0 = await startNode(kind);
    const front = await StallProxy.start(0);
    const n1 = await startNode(kind, { "replica-announce-port": String(front.port) });
    front.retarget(n1.port);
    const n2 = await startNode(kind);
    try {
      await replicate(n1, n0);
      await replicate(n2, n0);
      await n0.c.set("before", "1");
      await waitCaughtUp(n0, n1);
      const psyncs = await stat(n0, "sync_partial_ok");
      const fulls = await stat(n0, "sync_full");
      // The target never answers: the handover hangs in its handshake.
      front.stall();
      assert.equal(await n0.c.call("FAILOVER", "TO", HOST, String(front.port)), "OK");
      await waitState(n0, "failover-in-progress");
      assert.deepEqual(await roles(n0, n1, n2), ["slave", "slave", "slave"]);
      assert.equal(await n0.c.call("FAILOVER", "ABORT"), "OK");
      assert.equal(await failoverState(n0), "no-failover");
      assert.equal(await roleOf(n0), "master");
      assert.equal(await n0.c.set("after", "1"), "OK");
      front.resume();
      // Master again under a new id: its replicas continue partially.
      await waitFor(async () => await stat(n0, "sync_partial_ok") - psyncs >= 2, "resyncs");
      await waitCaughtUp(n0, n1);
      await waitCaughtUp(n0, n2);
      assert.deepEqual(await roles(n0, n1, n2), ["master", "slave", "slave"]);
      assert.equal(await stat(n0, "sync_partial_ok") - psyncs, 2);
      assert.equal(await stat(n0, "sync_full") - fulls, 0);
      if (kind === "redeno") {
        assert.equal(
          logged(n0, `FAILOVER to ${HOST}:${front.port} aborted: Failover manually aborted`),
          1,
        );
      }
      await sameData(n0, n1, n2);
    } finally {
      await front.close();
      for (const n of [n2, n1, n0]) await n.stop();
    }
  });

  /** A master, a replica behind a proxy that can stall, and a direct replica. */
  const trio = async () => {
    const n0 = await startNode(kind);
    const n1 = await startNode(kind);
    const n2 = await startNode(kind);
    const link = await StallProxy.start(n0.port);
    await replicate(n1, n0, link.port);
    await replicate(n2, n0);
    return {
      n0,
      n1,
      n2,
      link,
      async stop() {
        await link.close();
        for (const n of [n2, n1, n0]) await n.stop();
      },
    };
  };

  test(`FAILOVER with TIMEOUT gives up when the replica never catches up${on}`, {
    skip,
  }, async () => {
    const { n0, n1, n2, link, stop } = await trio();
    try {
      const psyncs = await stat(n0, "sync_partial_ok");
      const fulls = await stat(n0, "sync_full");
      link.stall();
      await n0.c.set("CASE", "1");
      assert.equal(
        await n0.c.call("FAILOVER", "TO", HOST, String(n1.port), "TIMEOUT", "500"),
        "OK",
      );
      await waitState(n0, "no-failover");
      // Writes flow again.
      assert.equal(await n0.c.set("after", "1"), "OK");
      link.resume();
      await waitCaughtUp(n0, n1);
      await waitCaughtUp(n0, n2);
      assert.deepEqual(await roles(n0, n1, n2), ["master", "slave", "slave"]);
      assert.equal(await stat(n0, "sync_partial_ok") - psyncs, 0);
      assert.equal(await stat(n0, "sync_full") - fulls, 0);
      if (kind === "redeno") {
        assert.equal(
          logged(
            n0,
            `FAILOVER to ${HOST}:${n1.port} aborted: Replica never caught up before timeout`,
          ),
          1,
        );
      }
      await sameData(n0, n1, n2);
    } finally {
      await stop();
    }
  });

  test(`FAILOVER ABORT ends the wait; reads were served meanwhile${on}`, {
    skip,
  }, async () => {
    const { n0, n1, n2, link, stop } = await trio();
    try {
      const psyncs = await stat(n0, "sync_partial_ok");
      const fulls = await stat(n0, "sync_full");
      link.stall();
      await n0.c.set("CASE", "2");
      assert.equal(
        await n0.c.call("FAILOVER", "TO", HOST, String(n1.port), "TIMEOUT", "60000"),
        "OK",
      );
      assert.equal(await failoverState(n0), "waiting-for-sync");
      assert.equal(await n0.c.get("CASE"), "2");
      assert.equal(await n0.c.call("FAILOVER", "ABORT"), "OK");
      assert.equal(await failoverState(n0), "no-failover");
      link.resume();
      await waitCaughtUp(n0, n1);
      await waitCaughtUp(n0, n2);
      assert.deepEqual(await roles(n0, n1, n2), ["master", "slave", "slave"]);
      assert.equal(await stat(n0, "sync_partial_ok") - psyncs, 0);
      assert.equal(await stat(n0, "sync_full") - fulls, 0);
      await sameData(n0, n1, n2);
    } finally {
      await stop();
    }
  });

  test(`FAILOVER is aborted when the target refuses the PSYNC${on}`, {
    skip,
  }, async () => {
    const { n0, n1, n2, link, stop } = await trio();
    const rd = new Redis({ port: n0.port, host: HOST, maxRetriesPerRequest: 0 });
    try {
      const psyncs = await stat(n0, "sync_partial_ok");
      const fulls = await stat(n0, "sync_full");
      await n1.c.call("ACL", "SETUSER", "default", "-psync");
      // The target acknowledges late; this write is not interrupted.
      link.stall();
      const write = rd.set("FOO", "BAR");
      await waitFor(async () => (await n0.c.get("FOO")) === "BAR", "the write");
      assert.equal(await n0.c.call("FAILOVER", "TO", HOST, String(n1.port)), "OK");
      link.resume();
      await waitState(n0, "no-failover");
      assert.equal(await write, "OK");
      await n1.c.call("ACL", "SETUSER", "default", "+psync");
      await waitFor(async () => await stat(n0, "sync_partial_ok") - psyncs >= 2, "resyncs");
      await waitCaughtUp(n0, n1);
      await waitCaughtUp(n0, n2);
      assert.deepEqual(await roles(n0, n1, n2), ["master", "slave", "slave"]);
      // Back to master under a new id: both replicas continue partially.
      assert.equal(await stat(n0, "sync_partial_ok") - psyncs, 2);
      assert.equal(await stat(n0, "sync_full") - fulls, 0);
      if (kind === "redeno") assert.equal(logged(n0, "Failover target rejected psync request"), 1);
      await sameData(n0, n1, n2);
    } finally {
      rd.disconnect();
      await stop();
    }
  });

  test(`FAILOVER inside MULTI: the writes queued after it still run and reach the target${on}`, {
    skip,
  }, async () => {
    const n0 = await startNode(kind);
    const n1 = await startNode(kind);
    try {
      await replicate(n1, n0);
      const tx = await n0.c.multi().call("FAILOVER", "TO", HOST, String(n1.port)).set("a", "5")
        .exec();
      assert.deepEqual(tx, [[null, "OK"], [null, "OK"]]);
      await waitState(n0, "no-failover");
      assert.deepEqual(await roles(n0, n1), ["slave", "master"]);
      assert.equal(await n1.c.get("a"), "5");
    } finally {
      await n1.stop();
      await n0.stop();
    }
  });
}
