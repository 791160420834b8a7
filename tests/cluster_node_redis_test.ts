/**
 * node-redis `createCluster` over a mixed cluster (two redeno masters, main.ts processes, and a
 * stock redis-server master): a key in every one of the 16384 slots written and read back,
 * MULTI and a pipeline on one slot, a script, and sharded pub/sub on each master's slots.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createCluster as nodeRedisCluster } from "redis";
import { keyHashSlot } from "../cluster/slots.ts";
import { missing } from "./redis_tools.ts";
import { client, waitFor } from "./replication_helpers.ts";
import { stopAll } from "./sentinel_helpers.ts";
import { clusterProcess, createCluster, selfLine } from "./cluster_bus_helpers.ts";

after(stopAll);

/** A key (a hash tag) for every slot, by slot. */
function keyPerSlot(): string[] {
  const keys = new Array<string>(16384);
  let found = 0;
  for (let i = 0; found < 16384; i++) {
    const slot = keyHashSlot(`t${i}`);
    if (keys[slot] === undefined) {
      keys[slot] = `t${i}`;
      found++;
    }
  }
  return keys;
}

test(
  "node-redis createCluster reads and writes every slot of a redeno + stock cluster",
  { skip: missing("redis-server", "redis-cli") },
  async () => {
    const nodes = [
      await clusterProcess("redeno"),
      await clusterProcess("redis"),
      await clusterProcess("redeno"),
    ];
    const cluster = nodeRedisCluster({
      rootNodes: [{ url: `redis://127.0.0.1:${nodes[0]!.port}` }],
    });
    cluster.on("error", () => {});
    try {
      await createCluster(nodes.map((n) => n.port));
      await cluster.connect();

      const keys = keyPerSlot();
      for (let lo = 0; lo < keys.length; lo += 1024) {
        const batch = keys.slice(lo, lo + 1024);
        await Promise.all(batch.map((k, i) => cluster.set(`{${k}}:v`, `slot${lo + i}`)));
      }
      for (let lo = 0; lo < keys.length; lo += 1024) {
        const batch = keys.slice(lo, lo + 1024);
        const got = await Promise.all(batch.map((k) => cluster.get(`{${k}}:v`)));
        got.forEach((v, i) => assert.equal(v, `slot${lo + i}`));
      }
      // Each master holds the keys of its own slots.
      for (const n of nodes) {
        const [lo, hi] = (await selfLine(n.port))[8]!.split("-").map(Number);
        const c = client(n.port);
        assert.equal(await c.dbsize().finally(() => c.disconnect()), hi! - lo! + 1);
      }

      // MULTI and a pipeline on one slot of each master (the first, middle and last slots).
      for (const slot of [0, 8000, 16383]) {
        const tag = `{${keys[slot]}}`;
        assert.deepEqual(
          await cluster.multi().set(`${tag}a`, "1").incr(`${tag}b`).get(`${tag}a`).exec(),
          ["OK", 1, "1"],
        );
        assert.deepEqual(
          await cluster.multi().incr(`${tag}b`).mGet([`${tag}a`, `${tag}b`]).execAsPipeline(),
          [2, ["1", "2"]],
        );
        assert.equal(
          await cluster.eval("return redis.call('INCRBY', KEYS[1], ARGV[1])", {
            keys: [`${tag}b`],
            arguments: ["40"],
          }),
          42,
        );
      }

      // Sharded pub/sub: a channel in each master's slots, subscribed and published through
      // the cluster client (which goes to the slot's master).
      const got: string[] = [];
      const channels = [keys[100]!, keys[8000]!, keys[16000]!];
      for (const ch of channels) {
        await cluster.sSubscribe(ch, (message, channel) => got.push(`${channel}:${message}`));
      }
      for (const ch of channels) await cluster.sPublish(ch, `to ${ch}`);
      await waitFor(() => got.length === channels.length, "the shard messages");
      assert.deepEqual(got.sort(), channels.map((ch) => `${ch}:to ${ch}`).sort());
      // One at a time: channels of different slots in one SUNSUBSCRIBE are CROSSSLOT.
      for (const ch of channels) await cluster.sUnsubscribe(ch);
    } finally {
      await cluster.close().catch(() => {});
      await stopAll();
    }
  },
);
