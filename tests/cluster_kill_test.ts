/**
 * `kill -9` of a redeno master (a main.ts process): the cluster itself notices (PFAIL, then FAIL
 * by the majority of masters) and elects its replica, redeno in one layout and stock
 * redis-server in the other. Writes the replica acknowledged (WAIT 1) before the kill are read
 * back from it, and an ioredis Cluster client made before the kill writes every slot after it.
 *
 * Three masters (the redeno one killed, another redeno, a stock one) and one replica, of the
 * killed master: the two surviving masters are the majority that votes.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { Cluster } from "ioredis";
import { missing } from "./redis_tools.ts";
import { client, waitFor } from "./replication_helpers.ts";
import { stopAll } from "./sentinel_helpers.ts";
import {
  clusterNodes,
  clusterProcess,
  createCluster,
  portOf,
  run,
  selfLine,
} from "./cluster_bus_helpers.ts";

after(stopAll);

/** Keys written (and how many of them the killed master holds). */
const KEYS = 600;

async function killedMasterFailover(replicaKind: "redeno" | "redis"): Promise<void> {
  const victim = await clusterProcess("redeno");
  const other = await clusterProcess("redeno");
  const stock = await clusterProcess("redis");
  const replica = await clusterProcess(replicaKind);
  let cluster: Cluster | undefined;
  try {
    await createCluster([victim.port, other.port, stock.port]);
    const victimId = (await selfLine(victim.port))[0]!;
    const added = await run("redis-cli", [
      "--cluster",
      "add-node",
      `127.0.0.1:${replica.port}`,
      `127.0.0.1:${victim.port}`,
      "--cluster-slave",
      "--cluster-master-id",
      victimId,
    ]);
    assert.equal(added.status, 0, added.stdout);
    await waitFor(
      async () => {
        const me = await selfLine(replica.port);
        if (me[2] !== "myself,slave" || me[3] !== victimId) return false;
        const c = client(replica.port);
        const info = await c.info("replication").finally(() => c.disconnect());
        if (!info.includes("master_link_status:up")) return false;
        // Every master knows the replica (they vote for it).
        for (const p of [victim.port, other.port, stock.port]) {
          const line = (await clusterNodes(p)).find((f) => portOf(f) === replica.port);
          if (line === undefined || !line[2]!.includes("slave") || line[3] !== victimId) {
            return false;
          }
        }
        return true;
      },
      "the replica to follow the redeno master, known as its replica everywhere",
      30000,
    );

    // The victim's keys, written on it directly and acknowledged by the replica (WAIT 1).
    const direct = client(victim.port);
    const acked = new Map<string, string>();
    for (let i = 0; i < KEYS; i++) {
      const key = `acked:${i}`;
      try {
        await direct.set(key, `v${i}`);
        acked.set(key, `v${i}`);
      } catch (e) {
        assert.match((e as Error).message, /^MOVED /); // another master's slot
      }
    }
    assert.equal(await direct.call("WAIT", "1", "5000"), 1);
    direct.disconnect();
    assert.ok(acked.size > KEYS / 5, `the victim holds ${acked.size} of the keys`);

    cluster = new Cluster([{ host: "127.0.0.1", port: other.port }], {
      redisOptions: { maxRetriesPerRequest: 0 },
    });
    cluster.on("error", () => {}); // the connection to the killed node
    for (let i = 0; i < 100; i++) assert.equal(await cluster.set(`before:${i}`, "x"), "OK");

    await victim.kill("SIGKILL");
    await waitFor(
      async () => {
        const me = await selfLine(replica.port);
        return me[2] === "myself,master" && me[8] !== undefined;
      },
      "the replica to be elected",
      30000,
    );
    await waitFor(
      async () => {
        for (const p of [other.port, stock.port]) {
          const nodes = await clusterNodes(p);
          const promoted = nodes.find((f) => portOf(f) === replica.port)!;
          const dead = nodes.find((f) => f[0] === victimId)!;
          if (promoted[2] !== "master" || promoted[8] === undefined) return false;
          if (!dead[2]!.includes("fail") || dead[2]!.includes("fail?")) return false;
          const c = client(p);
          const info = String(await c.call("CLUSTER", "INFO").finally(() => c.disconnect()));
          if (!info.includes("cluster_state:ok")) return false;
        }
        return true;
      },
      "the surviving masters to mark the victim failed and see the new master",
      30000,
    );

    // The client made before the kill goes on: once it has found the new master (a write may
    // fail while its slot map still names the killed node), every slot takes writes.
    await waitFor(
      async () => (await cluster!.set("probe", "1").catch(() => "")) === "OK",
      "the cluster client to write again",
      20000,
    );
    for (let i = 0; i < KEYS; i++) assert.equal(await cluster.set(`after:${i}`, `a${i}`), "OK");
    for (let i = 0; i < KEYS; i++) assert.equal(await cluster.get(`after:${i}`), `a${i}`);
    for (const [key, value] of acked) assert.equal(await cluster.get(key), value, key);
    for (let i = 0; i < 100; i++) assert.equal(await cluster.get(`before:${i}`), "x");
  } finally {
    cluster?.disconnect();
    await stopAll();
  }
}

test(
  "kill -9 of a redeno master: its redeno replica is elected, acknowledged writes survive",
  { skip: missing("redis-server", "redis-cli") },
  () => killedMasterFailover("redeno"),
);

test(
  "kill -9 of a redeno master: its stock replica is elected, acknowledged writes survive",
  { skip: missing("redis-server", "redis-cli") },
  () => killedMasterFailover("redis"),
);
