/**
 * The cluster bus with real redis-server 7.0 nodes: MEET, handshake, gossip that introduces a
 * third node, slot ownership learned both ways, PFAIL/FAIL of a killed node by majority, and
 * FORGET's blacklist.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ClusterState } from "../cluster/state.ts";
import { ClusterBus } from "../cluster/bus/bus.ts";
import { NodeFlag } from "../cluster/node.ts";
import { netAdapter } from "../core/net/runtime.ts";
import { systemClock } from "../core/clock.ts";
import { client, freePort, stockRedis, waitFor } from "./replication_helpers.ts";
import { missing } from "./redis_tools.ts";
import type { Redis } from "ioredis";

async function stockNode(timeout = 15000) {
  const cport = await freePort();
  const r = await stockRedis([
    "--cluster-enabled",
    "yes",
    "--cluster-port",
    String(cport),
    "--cluster-node-timeout",
    String(timeout),
  ]);
  const c = client(r.port);
  const id = String(await c.call("CLUSTER", "MYID"));
  return { ...r, cport, c, id };
}

async function ourNode(timeout = 15000, fakePort = 7999) {
  const state = new ClusterState(systemClock, {
    settings: {
      nodeTimeout: () => timeout,
      requireFullCoverage: () => true,
      allowReplicaMigration: () => true,
    },
  });
  let cport = 0;
  const net = await netAdapter();
  const bus = new ClusterBus(state, {
    announce: {
      port: () => fakePort,
      pport: () => 0,
      cport: () => cport,
      ip: () => "",
      replOffset: () => 0,
      paused: () => false,
    },
    listen: net.listen,
    connect: net.connect,
  });
  cport = await bus.start(["127.0.0.1"], 0);
  return { state, bus, cport };
}

/** What CLUSTER MEET does to the state: a handshake node the bus's cron connects to. */
function meet(state: ClusterState, port: number, cport: number): void {
  const n = state.createNode(undefined, NodeFlag.HANDSHAKE | NodeFlag.MEET);
  n.ip = "127.0.0.1";
  n.port = port;
  n.cport = cport;
  state.addNode(n);
}

/** CLUSTER NODES lines by id. */
async function nodesOf(c: Redis): Promise<Map<string, string[]>> {
  const text = String(await c.call("CLUSTER", "NODES"));
  const out = new Map<string, string[]>();
  for (const line of text.trim().split("\n")) {
    const f = line.split(" ");
    out.set(f[0]!, f);
  }
  return out;
}

test(
  "our node and two redis-server nodes meet, see each other connected and learn each other's slots",
  { skip: missing("redis-server") },
  async () => {
    const a = await stockNode();
    const b = await stockNode();
    const us = await ourNode();
    try {
      const me = us.state.myself;
      meet(us.state, a.port, a.cport);
      // a introduces b to us through gossip.
      await a.c.call("CLUSTER", "MEET", "127.0.0.1", String(b.port), String(b.cport));
      await waitFor(
        async () => {
          for (const c of [a.c, b.c]) {
            const nodes = await nodesOf(c);
            if (nodes.size !== 3) return false;
            for (const f of nodes.values()) {
              if (f[7] !== "connected" || f[2]!.includes("handshake")) {
                return false;
              }
            }
          }
          return us.state.nodes.size === 3 &&
            [...us.state.nodes.values()].every((n) => !n.inHandshake && n !== undefined);
        },
        "the three nodes to know each other",
        20000,
      );
      const fromA = (await nodesOf(a.c)).get(me.id)!;
      assert.equal(fromA[1], `127.0.0.1:7999@${us.cport}`);
      assert.equal(fromA[2], "master");
      assert.equal(us.state.nodes.get(b.id)?.port, b.port);
      assert.equal(us.state.nodes.get(a.id)?.cport, a.cport);
      assert.equal(me.ip, "127.0.0.1"); // learned from a's MEET... or its PING

      // Slots: each claims a third.
      await a.c.call("CLUSTER", "ADDSLOTSRANGE", "0", "5460");
      await b.c.call("CLUSTER", "ADDSLOTSRANGE", "5461", "10922");
      for (let s = 10923; s < 16384; s++) us.state.assignSlot(me, s);
      await waitFor(
        async () => {
          for (const c of [a.c, b.c]) {
            const info = String(await c.call("CLUSTER", "INFO"));
            if (!info.includes("cluster_slots_assigned:16384")) return false;
            if (!info.includes("cluster_state:ok")) return false;
          }
          return us.state.slots.every((o) => o !== undefined);
        },
        "every node to see the 16384 slots assigned",
        20000,
      );
      assert.equal((await nodesOf(b.c)).get(me.id)![8], "10923-16383");
      assert.equal(us.state.slots[0]?.id, a.id);
      assert.equal(us.state.slots[5461]?.id, b.id);
      // The three masters started with config epoch 0: collisions give them distinct epochs.
      await waitFor(
        async () => {
          const epochs = new Set<string>();
          for (const f of (await nodesOf(a.c)).values()) epochs.add(f[6]!);
          return epochs.size === 3;
        },
        "distinct config epochs",
        20000,
      );
    } finally {
      await us.bus.close();
      a.c.disconnect();
      b.c.disconnect();
      await a.stop();
      await b.stop();
    }
  },
);

test(
  "a killed redis-server is flagged PFAIL then FAIL by the majority, and FAIL reaches us",
  { skip: missing("redis-server") },
  async () => {
    const timeout = 1000;
    const a = await stockNode(timeout);
    const b = await stockNode(timeout);
    const us = await ourNode(timeout);
    try {
      meet(us.state, a.port, a.cport);
      await a.c.call("CLUSTER", "MEET", "127.0.0.1", String(b.port), String(b.cport));
      await a.c.call("CLUSTER", "ADDSLOTSRANGE", "0", "5460");
      await b.c.call("CLUSTER", "ADDSLOTSRANGE", "5461", "10922");
      for (let s = 10923; s < 16384; s++) us.state.assignSlot(us.state.myself, s);
      await waitFor(
        async () =>
          String(await a.c.call("CLUSTER", "INFO")).includes("cluster_known_nodes:3") &&
          us.state.nodes.size === 3 &&
          [...us.state.nodes.values()].every((n) => !n.inHandshake && n.numSlots > 0),
        "the cluster to form",
        20000,
      );
      b.c.disconnect();
      await b.stop();
      await waitFor(() => us.state.nodes.get(b.id)!.failed, "b to be FAIL in our table", 20000);
      await waitFor(
        async () => (await nodesOf(a.c)).get(b.id)![2]!.includes("fail"),
        "a to see b failing",
        20000,
      );
    } finally {
      await us.bus.close();
      a.c.disconnect();
      await a.stop();
    }
  },
);
