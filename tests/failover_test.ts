/**
 * FAILOVER on a master with replicas: its refusals and what it allows while waiting, compared
 * reply for reply with a stock redis-server 7.0 master and replica; the handover to a named
 * replica and to any replica that caught up (the first cases of Redis's
 * tests/integration/failover.tcl), with clients writing throughout and none of their
 * acknowledged writes lost. The cases with TIMEOUT, FORCE, ABORT and a refused PSYNC are in
 * failover_cases_test.ts, the mixed ones with stock servers in failover_interop_test.ts.
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
  writeLoad,
} from "./failover_helpers.ts";

/** A reply or error as one line, for transcripts compared across servers. */
async function line(node: Node, argv: string[]): Promise<string> {
  try {
    return `${argv.join(" ")} -> ${JSON.stringify(await node.c.call(argv[0]!, ...argv.slice(1)))}`;
  } catch (e) {
    return `${argv.join(" ")} -> -${(e as Error).message}`;
  }
}

/** FAILOVER's refusals, its pause and ABORT on a master of `kind` with one replica. */
async function transcript(kind: "redeno" | "redis"): Promise<string[]> {
  const out: string[] = [];
  const m = await startNode(kind);
  const r = await startNode(kind);
  const proxy = await StallProxy.start(m.port);
  const writer = new Redis({ port: m.port, host: HOST, maxRetriesPerRequest: 0 });
  const rp = String(r.port);
  try {
    for (const argv of [["FAILOVER"], ["FAILOVER", "TO", HOST, rp], ["FAILOVER", "ABORT"]]) {
      out.push(await line(m, argv));
    }
    out.push(await line(m, ["PSYNC", "?", "-1", "FAILOVER"]));
    await replicate(r, m, proxy.port);
    // A replica takes over only for its own master's id.
    out.push(`replica: ${await line(r, ["PSYNC", "0".repeat(40), "1", "FAILOVER"])}`);
    const refused = [
      ["TO", HOST],
      ["TO"],
      ["TO", HOST, "abc"],
      ["TIMEOUT", "0"],
      ["TIMEOUT", "-5"],
      ["TIMEOUT", "abc"],
      ["TIMEOUT"],
      ["FORCE"],
      ["FORCE", "TIMEOUT", "100"],
      ["TO", HOST, rp, "FORCE"],
      ["TO", "localhost", rp],
      ["TO", HOST, "1"],
      ["TO", HOST, rp, "TO", HOST, rp],
      ["TIMEOUT", "10", "TIMEOUT", "10"],
      ["FORCE", "FORCE"],
      ["ABORT", "TIMEOUT", "10"],
      ["TIMEOUT", "10", "FORCE", "TO", HOST, "99999"],
      ["NOSUCH"],
    ];
    for (const argv of refused) out.push(await line(m, ["FAILOVER", ...argv]));
    for (const argv of [["FAILOVER"], ["FAILOVER", "ABORT"], ["FAILOVER", "TO", HOST, rp]]) {
      out.push(`replica: ${await line(r, argv)}`);
    }
    // The replica stops acknowledging: the failover waits for it.
    proxy.stall();
    out.push(await line(m, ["SET", "k", "1"]));
    out.push(await line(m, ["FAILOVER", "TO", HOST, rp, "TIMEOUT", "60000"]));
    out.push(`state ${await failoverState(m)}`);
    for (
      const argv of [
        ["FAILOVER"],
        ["FAILOVER", "TO", HOST, "abc"],
        ["FAILOVER", "TO", HOST, rp],
        ["REPLICAOF", "NO", "ONE"],
        ["REPLICAOF", HOST, rp],
        ["GET", "k"],
        ["CLIENT", "UNPAUSE"],
      ]
    ) out.push(await line(m, argv));
    const sync = new Redis({ port: m.port, host: HOST, maxRetriesPerRequest: 0 });
    out.push(await line({ ...m, c: sync }, ["PSYNC", "?", "-1"]));
    sync.disconnect();
    // Writes wait, CLIENT UNPAUSE notwithstanding; reads go on.
    const postponed = writer.set("k", "2");
    await waitFor(
      async () => (await infoField(m, "clients", "blocked_clients")) === "1",
      "the write to be postponed",
    );
    out.push(`blocked_clients 1, GET k ${await m.c.get("k")}`);
    // A CLIENT PAUSE ALL comes and goes (everything waits for its end, INFO too); the
    // failover's pause stays.
    out.push(await line(m, ["CLIENT", "PAUSE", "200", "ALL"]));
    out.push(await line(m, ["GET", "k"]));
    out.push(`blocked_clients ${await infoField(m, "clients", "blocked_clients")}`);
    const tx = await m.c.multi().call("FAILOVER", "ABORT").get("k").exec();
    out.push(`MULTI FAILOVER ABORT GET -> ${JSON.stringify(tx)}`);
    out.push(`state ${await failoverState(m)}`);
    out.push(`postponed SET -> ${await postponed}`);
    out.push(await line(m, ["GET", "k"]));
    out.push(await line(m, ["FAILOVER", "ABORT"]));
    proxy.resume();
    out.push(`role ${await roleOf(m)} ${await roleOf(r)}`);
  } finally {
    writer.disconnect();
    await proxy.close();
    await r.stop();
    await m.stop();
  }
  return out;
}

test("FAILOVER refuses, pauses writes and aborts like a redis-server 7.0 master", {
  skip: missing("redis-server"),
}, async () => {
  const ours = await transcript("redeno");
  const theirs = await transcript("redis");
  // The ports differ: compare the transcripts with them blanked out.
  const blank = (lines: string[]) => lines.map((l) => l.replace(/ \d{4,5}\b/g, " PORT"));
  assert.deepEqual(blank(ours), blank(theirs));
  assert.ok(ours.includes("state waiting-for-sync"), ours.join("\n"));
  assert.ok(ours.includes("FAILOVER -> -ERR FAILOVER requires connected replicas."));
  assert.ok(ours.includes("postponed SET -> OK"));
});

/** A master and two replicas of `kind`; the first replica through a proxy that can stall. */
async function trio(kind: "redeno" | "redis") {
  const n0 = await startNode(kind);
  const n1 = await startNode(kind);
  const n2 = await startNode(kind);
  const proxy = await StallProxy.start(n0.port);
  await replicate(n1, n0, proxy.port);
  await replicate(n2, n0);
  return {
    n0,
    n1,
    n2,
    proxy,
    async stop() {
      await proxy.close();
      for (const n of [n2, n1, n0]) await n.stop();
    },
  };
}

for (const kind of ["redeno", "redis"] as const) {
  const on = kind === "redeno" ? "" : " (stock redis-server, the reference)";
  const skip = kind === "redis" ? missing("redis-server") : false;

  test(
    `FAILOVER TO a replica hands over with partial resyncs; no acknowledged write is lost${on}`,
    {
      skip,
    },
    async () => {
      const { n0, n1, n2, proxy, stop } = await trio(kind);
      try {
        const psyncs = await stat(n1, "sync_partial_ok");
        const fulls = await stat(n1, "sync_full");
        const load = writeLoad(n0.port, 4);
        await waitFor(() => load.acked.set > 100, "writes");
        // A delta between the master and the target (Redis's test stops the target with SIGSTOP).
        proxy.stall();
        const before = load.acked.set;
        await waitFor(() => load.acked.set > before + 100, "more writes");
        proxy.resume();
        assert.equal(await n0.c.call("FAILOVER", "TO", HOST, String(n1.port)), "OK");
        await waitState(n0, "no-failover");
        await load.stop();
        assert.ok(load.refusals.length > 0, "the writers ran until the handover");
        for (const r of load.refusals) {
          assert.equal(r, "READONLY You can't write against a read only replica.");
        }
        await n2.c.call("REPLICAOF", HOST, String(n1.port));
        await waitCaughtUp(n1, n0);
        await waitCaughtUp(n1, n2);
        assert.deepEqual(
          [await roleOf(n0), await roleOf(n1), await roleOf(n2)],
          ["slave", "master", "slave"],
        );
        assert.equal(await stat(n1, "sync_partial_ok") - psyncs, 2);
        assert.equal(await stat(n1, "sync_full") - fulls, 0);
        // Every write a client saw acknowledged is on the new master, and nothing else.
        assert.equal(Number(await n1.c.get("counter")), load.acked.incr);
        assert.equal(await n1.c.dbsize(), load.acked.set + 1);
        const d1 = await dataset(n1.port);
        assert.deepEqual(await dataset(n0.port), d1);
        assert.deepEqual(await dataset(n2.port), d1);
        if (kind === "redeno") {
          assert.ok(
            n0.log.some((l) =>
              l.endsWith(`Failover target ${HOST}:${n1.port} is synced, failing over.`)
            ),
          );
          assert.ok(n1.log.some((l) => l.includes("MASTER MODE enabled (failover request from")));
        }
      } finally {
        await stop();
      }
    },
  );

  test(`FAILOVER without TO hands over to a replica that caught up${on}`, {
    skip,
  }, async () => {
    const { n0, n1, n2, proxy, stop } = await trio(kind);
    try {
      await n0.c.set("CASE", "0");
      await waitCaughtUp(n0, n1);
      await waitCaughtUp(n0, n2);
      const psyncs = await stat(n2, "sync_partial_ok");
      const fulls = await stat(n2, "sync_full");
      // n1 stops acknowledging: n2 is the one that catches up.
      proxy.stall();
      await n0.c.set("CASE", "1");
      assert.equal(await n0.c.call("FAILOVER"), "OK");
      await waitState(n0, "no-failover");
      proxy.resume();
      await n1.c.call("REPLICAOF", HOST, String(n2.port));
      await waitCaughtUp(n2, n0);
      await waitCaughtUp(n2, n1);
      assert.deepEqual(
        [await roleOf(n0), await roleOf(n1), await roleOf(n2)],
        ["slave", "slave", "master"],
      );
      assert.equal(await stat(n2, "sync_partial_ok") - psyncs, 2);
      assert.equal(await stat(n2, "sync_full") - fulls, 0);
      assert.equal(await n2.c.get("CASE"), "1");
      const d2 = await dataset(n2.port);
      assert.deepEqual(await dataset(n0.port), d2);
      assert.deepEqual(await dataset(n1.port), d2);
    } finally {
      await stop();
    }
  });
}
