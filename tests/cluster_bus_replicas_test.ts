/**
 * `redis-cli --cluster create` over three redis-server 7.0 masters and three redeno replicas:
 * the replicas replicate their stock masters, CLUSTER FAILOVER on a redeno replica swaps roles
 * without losing a write, and when a stock master is killed its redeno replica wins the election.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { client, waitFor } from "./replication_helpers.ts";
import { missing } from "./redis_tools.ts";
import { rmSync } from "node:fs";
import {
  clusterNodes,
  createCluster,
  portOf,
  redenoNode,
  stockClusterNode,
} from "./cluster_bus_helpers.ts";

/** The role `port` gives itself in its CLUSTER NODES. */
async function selfRole(port: number): Promise<string> {
  return (await clusterNodes(port)).find((f) => f[2]!.includes("myself"))![2]!;
}

test(
  "redis-cli --cluster create over 3 stock masters and 3 redeno replicas, manual and automatic failover",
  { skip: missing("redis-server", "redis-cli") },
  async () => {
    const masters: { port: number; stop(): Promise<void> }[] = [];
    for (let i = 0; i < 3; i++) {
      masters.push(await stockClusterNode());
    }
    const replicas = [await redenoNode(), await redenoNode(), await redenoNode()];
    const stopped = new Set<number>();
    try {
      await createCluster([...masters, ...replicas].map((n) => n.port), 1);
      for (const r of replicas) assert.equal(await selfRole(r.port), "myself,slave");
      // Every node knows every replica's role (a master takes MFSTART only from its replica).
      const replicaPorts = new Set(replicas.map((r) => r.port));
      await waitFor(
        async () => {
          for (const n of [...masters, ...replicas]) {
            for (const f of await clusterNodes(n.port)) {
              if (!f[2]!.includes(replicaPorts.has(portOf(f)) ? "slave" : "master")) return false;
            }
          }
          return true;
        },
        "every node to see the same roles",
        20000,
      );
      await waitFor(
        async () => {
          for (const n of [...masters, ...replicas]) {
            const c = client(n.port);
            const info = String(await c.call("CLUSTER", "INFO"));
            c.disconnect();
            if (!info.includes("cluster_state:ok")) return false;
          }
          return true;
        },
        "cluster_state:ok everywhere",
        20000,
      );

      // Writes on a stock master reach its redeno replica.
      const r0 = replicas[0]!;
      const masterId = (await clusterNodes(r0.port)).find((f) => f[2]!.includes("myself"))![3]!;
      const masterPort = portOf((await clusterNodes(r0.port)).find((f) => f[0] === masterId)!);
      const mc = client(masterPort);
      const slots = (await clusterNodes(masterPort)).find((f) => f[2]!.includes("myself"))![8]!;
      const [lo] = slots.split("-").map(Number);
      const key = await findKeyInSlotRange(mc, lo!, Number(slots.split("-")[1]));
      for (let i = 0; i < 50; i++) await mc.call("RPUSH", key, String(i));
      const rc = client(r0.port);
      await rc.call("READONLY");
      await waitFor(
        async () => (await rc.call("LLEN", key)) === 50,
        "the redeno replica to have the list",
      );
      mc.disconnect();

      // CLUSTER FAILOVER on the redeno replica: it becomes the master, its old master its replica.
      assert.equal(await rc.call("CLUSTER", "FAILOVER"), "OK");
      await waitFor(
        async () => (await selfRole(r0.port)) === "myself,master",
        "r0 to be master",
        20000,
      );
      await waitFor(
        async () => (await selfRole(masterPort)).includes("slave"),
        "the old stock master to follow r0",
        20000,
      );
      rc.disconnect();
      const wc = client(r0.port);
      assert.equal(await wc.call("RPUSH", key, "after"), 51); // no write lost, writable now
      wc.disconnect();

      // A stock master killed: its redeno replica is elected.
      const r1 = replicas[1]!;
      const m1Id = (await clusterNodes(r1.port)).find((f) => f[2]!.includes("myself"))![3]!;
      const m1Port = portOf((await clusterNodes(r1.port)).find((f) => f[0] === m1Id)!);
      const m1 = masters.find((m) => m.port === m1Port)!;
      await m1.stop();
      stopped.add(m1Port);
      await waitFor(
        async () => (await selfRole(r1.port)) === "myself,master",
        "r1 to win the election",
        30000,
      );
      const mine = (await clusterNodes(r1.port)).find((f) => f[2]!.includes("myself"))!;
      assert.ok(mine[8] !== undefined, "r1 serves slots");
    } finally {
      for (const m of masters) if (!stopped.has(m.port)) await m.stop();
      for (const r of replicas) {
        await r.server.close();
        rmSync(r.dir, { recursive: true, force: true });
      }
    }
  },
);

/** A key whose slot lies in [lo, hi]. */
async function findKeyInSlotRange(
  c: ReturnType<typeof client>,
  lo: number,
  hi: number,
): Promise<string> {
  for (let i = 0; i < 100000; i++) {
    const slot = Number(await c.call("CLUSTER", "KEYSLOT", `k${i}`));
    if (slot >= lo && slot <= hi) return `k${i}`;
  }
  throw new Error("no key found");
}
