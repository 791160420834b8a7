/**
 * `redis-cli --cluster create` over three redeno masters and three redis-server 7.0 replicas:
 * the check passes, an ioredis Cluster writes and reads across every master, and when a redeno
 * master goes away its stock replica is elected (the redeno masters vote) and serves its keys.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Cluster } from "ioredis";
import { client, waitFor } from "./replication_helpers.ts";
import { missing } from "./redis_tools.ts";
import { rmSync } from "node:fs";
import type { Server } from "../mod.ts";
import {
  clusterNodes,
  createCluster,
  portOf,
  redenoNode,
  stockClusterNode,
} from "./cluster_bus_helpers.ts";

test(
  "redis-cli --cluster create over 3 redeno masters and 3 stock replicas, then a failover",
  { skip: missing("redis-server", "redis-cli") },
  async () => {
    const masters = [await redenoNode(), await redenoNode(), await redenoNode()];
    const replicas: { port: number; stop(): Promise<void> }[] = [];
    for (let i = 0; i < 3; i++) {
      replicas.push(await stockClusterNode());
    }
    let ioredis: Cluster | undefined;
    const closed = new Set<Server>();
    try {
      await createCluster([...masters, ...replicas].map((n) => n.port), 1);
      const masterPorts = new Set(masters.map((m) => m.port));
      // In every node's view, the redeno nodes are the masters and the stock nodes their replicas.
      await waitFor(
        async () => {
          for (const n of [...masters, ...replicas]) {
            for (const f of await clusterNodes(n.port)) {
              const port = portOf(f);
              if (!f[2]!.includes(masterPorts.has(port) ? "master" : "slave")) return false;
            }
          }
          return true;
        },
        "every node to see the same roles",
        20000,
      );

      ioredis = new Cluster([{ host: "127.0.0.1", port: masters[0]!.port }]);
      for (let i = 0; i < 200; i++) await ioredis.set(`key:${i}`, `v${i}`);
      for (let i = 0; i < 200; i++) assert.equal(await ioredis.get(`key:${i}`), `v${i}`);
      const perMaster = await Promise.all(masters.map(async (m) => {
        const c = client(m.port);
        const n = await c.dbsize();
        c.disconnect();
        return n;
      }));
      assert.ok(perMaster.every((n) => n > 0), `keys on every master: ${perMaster}`);

      // SPUBLISH on a redeno master reaches a shard subscriber on its stock replica.
      const m1 = masters[1]!;
      const m1Nodes = await clusterNodes(m1.port);
      const m1Id = m1Nodes.find((f) => f[2]!.includes("myself"))![0]!;
      const [lo, hi] = m1Nodes.find((f) => f[0] === m1Id)![8]!.split("-").map(Number);
      const replicaLine = m1Nodes.find((f) => f[3] === m1Id)!;
      const replicaPort = Number(replicaLine[1]!.split(":")[1]!.split("@")[0]);
      const probe = client(m1.port);
      let channel = "";
      for (let i = 0; channel === "" && i < 100000; i++) {
        const slot = Number(await probe.call("CLUSTER", "KEYSLOT", `ch${i}`));
        if (slot >= lo! && slot <= hi!) channel = `ch${i}`;
      }
      probe.disconnect();
      const sub = client(replicaPort);
      const got: string[] = [];
      sub.on("smessage", (ch: string, m: string) => got.push(`${ch}:${m}`));
      await sub.call("SSUBSCRIBE", channel);
      const pub = client(m1.port);
      await pub.call("SPUBLISH", channel, "hello shard");
      await waitFor(() => got.length === 1, "the shard message on the replica");
      assert.deepEqual(got, [`${channel}:hello shard`]);
      pub.disconnect();
      sub.disconnect();

      // The first redeno master goes away: its stock replica wins the election.
      const gone = masters[0]!;
      const goneId = (await clusterNodes(gone.port)).find((f) => f[2]!.includes("myself"))![0]!;
      const nodes = await clusterNodes(replicas[0]!.port);
      const heir = nodes.find((f) => f[3] === goneId)!;
      const heirPort = Number(heir[1]!.split(":")[1]!.split("@")[0]);
      // Its replica has the master's keys before the master goes (replication caught up).
      await waitFor(
        async () => {
          const c = client(heirPort);
          const n = await c.dbsize();
          c.disconnect();
          return n === perMaster[0];
        },
        "the replica to have its master's keys",
        20000,
      );
      await gone.server.close();
      closed.add(gone.server);
      await waitFor(
        async () => {
          const mine = (await clusterNodes(heirPort)).find((f) => f[2]!.includes("myself"))!;
          return mine[2] === "myself,master" && mine[8] !== undefined;
        },
        "the stock replica to be promoted",
        30000,
      );
      const other = masters[1]!;
      await waitFor(
        async () => {
          const f = (await clusterNodes(other.port)).find((l) =>
            l[1]!.startsWith(`127.0.0.1:${heirPort}@`)
          )!;
          return f[2] === "master" && f[8] !== undefined;
        },
        "a redeno master to see the new master with the slots",
        30000,
      );
      ioredis.disconnect();
      ioredis = new Cluster([{ host: "127.0.0.1", port: other.port }]);
      ioredis.on("error", () => {}); // a refused connection to the node that went away
      for (let i = 0; i < 200; i++) assert.equal(await ioredis.get(`key:${i}`), `v${i}`);
    } finally {
      ioredis?.disconnect();
      for (const m of masters) {
        if (!closed.has(m.server)) await m.server.close();
        rmSync(m.dir, { recursive: true, force: true });
      }
      for (const r of replicas) await r.stop();
    }
  },
);
