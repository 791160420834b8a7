/**
 * What redis-sentinel 7.0 reads from and sends to the servers it watches, redeno beside
 * redis-server (facts from sentinel.c's sentinelRefreshInstanceInfo and sentinelSendSlaveOf):
 *
 * - INFO: `run_id` (40 hex), the master's `slaveN:ip=,port=,state=,offset=,lag=` lines (the
 *   replica's announced address: `replica-announce-ip/port`), the replica's `slave_priority`
 *   (`replica-priority`; 0 is never promoted) and `replica_announced`; ROLE lists the same
 *   address;
 * - the reconfiguration transaction: `MULTI`, `SLAVEOF host port`, `CONFIG REWRITE`,
 *   `CLIENT KILL TYPE normal`, `CLIENT KILL TYPE pubsub`, `EXEC`, sent by a connection named
 *   with `CLIENT SETNAME sentinel-<id>-cmd`: the same replies, every other client closed, the
 *   config file rewritten with the new master.
 *
 * Failover itself, hello messages between sentinels through the servers, renamed commands and
 * clients in sentinel mode are in sentinel_test.ts.
 *
 * @module
 */

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Redis } from "ioredis";
import { freePort, HOST, waitFor } from "./replication_helpers.ts";
import { missing } from "./redis_tools.ts";
import { infoOf, startNode, stopAll, withClient } from "./sentinel_helpers.ts";

after(stopAll);

const needs = { skip: missing("redis-server") };
type Kind = "redeno" | "redis";

/** What sentinel learns about a master and its announced replica. */
async function announced(master: Kind, replica: Kind) {
  const m = await startNode(master);
  const r = await startNode(replica, {
    replicaOf: m.port,
    lines: [
      "replica-announce-ip 10.1.2.3",
      "replica-announce-port 7777",
      "replica-priority 0",
      "replica-announced no",
    ],
  });
  await waitFor(
    async () => (await infoOf(m.port)).get("slave0")?.includes("state=online") === true,
    "the replica to be online",
  );
  const mi = await infoOf(m.port);
  const ri = await infoOf(r.port);
  const role = await withClient(m.port, (c) => c.call("ROLE")) as [string, number, string[][]];
  const server = await infoOf(r.port, "server");
  return {
    slave0: mi.get("slave0")!.replace(/offset=\d+,lag=\d+/, "offset=N,lag=L"),
    roleReplicas: role[2].map(([ip, port]) => [ip, port]),
    priority: ri.get("slave_priority"),
    announced: ri.get("replica_announced"),
    linkStatus: ri.get("master_link_status"),
    runIdOk: /^[0-9a-f]{40}$/.test(server.get("run_id") ?? ""),
  };
}

test(
  "the announced address, priority and announcement reach INFO and ROLE as sentinel reads them, as redis-server",
  needs,
  async () => {
    try {
      const reference = await announced("redis", "redis");
      assert.deepEqual(reference, {
        slave0: "ip=10.1.2.3,port=7777,state=online,offset=N,lag=L",
        roleReplicas: [["10.1.2.3", "7777"]],
        priority: "0",
        announced: "0",
        linkStatus: "up",
        runIdOk: true,
      });
      assert.deepEqual(await announced("redis", "redeno"), reference, "redeno replica");
      assert.deepEqual(await announced("redeno", "redis"), reference, "redeno master");
    } finally {
      await stopAll();
    }
  },
);

/** Sentinel's reconfiguration of an instance, with a normal and a pubsub client connected. */
async function reconfigure(kind: Kind) {
  const node = await startNode(kind);
  const target = await freePort();
  const sentinel = new Redis({ port: node.port, host: HOST, maxRetriesPerRequest: 0 });
  const normal = new Redis({ port: node.port, host: HOST, retryStrategy: () => null });
  const pubsub = new Redis({ port: node.port, host: HOST, retryStrategy: () => null });
  for (const c of [sentinel, normal, pubsub]) c.on("error", () => {});
  try {
    await sentinel.call("CLIENT", "SETNAME", "sentinel-0123abcd-cmd");
    await normal.ping();
    await pubsub.subscribe("__sentinel__:hello");
    const closed = [normal, pubsub].map((c) => new Promise<void>((r) => c.once("end", r)));
    const replies = await sentinel.multi()
      .call("SLAVEOF", HOST, String(target))
      .call("CONFIG", "REWRITE")
      .call("CLIENT", "KILL", "TYPE", "normal")
      .call("CLIENT", "KILL", "TYPE", "pubsub")
      .exec();
    await Promise.all(closed);
    const list = (await sentinel.call("CLIENT", "LIST")) as string;
    const conf = readFileSync(node.conf, "utf8");
    return {
      replies,
      names: list.trim().split("\n").map((l) => /name=(\S*)/.exec(l)?.[1]),
      role: (await infoOf(node.port)).get("role"),
      rewritten: conf.includes(`replicaof ${HOST} ${target}`),
    };
  } finally {
    for (const c of [sentinel, normal, pubsub]) c.disconnect();
  }
}

test(
  "sentinel's MULTI, SLAVEOF, CONFIG REWRITE, CLIENT KILL TYPE normal|pubsub, EXEC: same replies as redis-server, other clients closed, config rewritten",
  needs,
  async () => {
    try {
      const expected = {
        replies: [[null, "OK"], [null, "OK"], [null, 1], [null, 1]],
        names: ["sentinel-0123abcd-cmd"],
        role: "slave",
        rewritten: true,
      };
      assert.deepEqual(await reconfigure("redis"), expected);
      assert.deepEqual(await reconfigure("redeno"), expected);
    } finally {
      await stopAll();
    }
  },
);
