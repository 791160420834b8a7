/**
 * What Redis's cluster test suites need of a node besides the cluster itself: DEBUG CLUSTERLINK
 * KILL and DEBUG DROP-CLUSTER-PACKET-FILTER on two redeno nodes, and a node whose bus port is
 * taken refusing to start (Redis exits; the suites' harnesses then try another port).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { join } from "node:path";
import { createServer } from "../mod.ts";
import { cluster } from "../cluster/mod.ts";
import { clusterBus } from "../cluster/bus/plugin.ts";
import { replication } from "../replication/mod.ts";
import { clusterNodes, redenoNode } from "./cluster_bus_helpers.ts";
import { client, waitFor } from "./replication_helpers.ts";
import { scratchDir } from "./scratch.ts";

async function meshOfTwo() {
  const a = await redenoNode();
  const b = await redenoNode();
  for (const n of [a, b]) n.server.config.set("enable-debug-command", "yes");
  const ca = client(a.port);
  const cb = client(b.port);
  const idB = String(await cb.call("CLUSTER", "MYID"));
  cb.disconnect();
  const cportB = String(b.server.config.num("cluster-port"));
  await ca.call("CLUSTER", "MEET", "127.0.0.1", String(b.port), cportB);
  const connected = async () =>
    (await clusterNodes(a.port)).some((f) => f[0] === idB && f[7] === "connected");
  await waitFor(connected, "A sees B connected");
  const stop = async () => {
    ca.disconnect();
    await a.server.close();
    await b.server.close();
  };
  return { a, b, ca, idB, connected, stop };
}

test("DEBUG CLUSTERLINK KILL closes the links with a node, which the cron then reopens", async () => {
  const { ca, idB, stop } = await meshOfTwo();
  try {
    const links = async () => ((await ca.call("CLUSTER", "LINKS")) as unknown[]).length;
    await waitFor(async () => (await links()) === 2, "an outbound and an inbound link");
    await assert.rejects(
      ca.call("DEBUG", "CLUSTERLINK", "KILL", "all", "f".repeat(40)),
      { message: `ERR Unknown node ${"f".repeat(40)}` },
    );
    await assert.rejects(ca.call("DEBUG", "CLUSTERLINK", "KILL", "up", idB), {
      message: "ERR Unknown direction up",
    });
    assert.equal(await ca.call("DEBUG", "CLUSTERLINK", "KILL", "ALL", idB), "OK");
    assert.ok((await links()) < 2);
    await waitFor(async () => (await links()) === 2, "both links back");
  } finally {
    await stop();
  }
});

test("DEBUG DROP-CLUSTER-PACKET-FILTER 2 drops MEETs: no handshake completes until -1", async () => {
  const a = await redenoNode();
  const b = await redenoNode();
  b.server.config.set("enable-debug-command", "yes");
  const ca = client(a.port);
  const cb = client(b.port);
  try {
    const cportB = String(b.server.config.num("cluster-port"));
    const known = async (port: number) => (await clusterNodes(port)).length;
    assert.equal(await cb.call("DEBUG", "DROP-CLUSTER-PACKET-FILTER", "2"), "OK");
    await ca.call("CLUSTER", "MEET", "127.0.0.1", String(b.port), cportB);
    assert.equal(await known(a.port), 2); // the handshake node
    // Unanswered, the handshake node is dropped after the node timeout (2 s).
    await waitFor(async () => (await known(a.port)) === 1, "A drops the handshake", 20000);
    assert.equal(await known(b.port), 1);
    assert.equal(await cb.call("DEBUG", "DROP-CLUSTER-PACKET-FILTER", "-1"), "OK");
    await ca.call("CLUSTER", "MEET", "127.0.0.1", String(b.port), cportB);
    await waitFor(async () => (await known(b.port)) === 2, "B learns A", 20000);
  } finally {
    ca.disconnect();
    cb.disconnect();
    await a.server.close();
    await b.server.close();
  }
});

test("DEBUG CLUSTERLINK outside cluster mode is refused with Redis's text", async () => {
  const server = createServer({ config: { "enable-debug-command": "yes" } });
  const { port } = await server.listen({ port: 0, hostname: "127.0.0.1" });
  const c = client(port);
  try {
    await assert.rejects(c.call("DEBUG", "CLUSTERLINK", "KILL", "all", "x"), {
      message: "ERR Debug option only available for cluster mode enabled setup!",
    });
  } finally {
    c.disconnect();
    await server.close();
  }
});

test("a node whose cluster bus port is taken does not start, as Redis", async () => {
  const holder = net.createServer();
  await new Promise<void>((r) => holder.listen(0, "127.0.0.1", r));
  const busPort = (holder.address() as net.AddressInfo).port;
  const dir = scratchDir("redeno-cluster-");
  const server = createServer({
    plugins: [replication(), cluster(), clusterBus()],
    config: {
      "cluster-enabled": "yes",
      "cluster-config-file": join(dir, "nodes.conf"),
      "cluster-port": String(busPort),
      bind: "127.0.0.1",
      dir,
    },
  });
  try {
    await assert.rejects(server.listen({ port: 0, hostname: "127.0.0.1" }), {
      message: `Failed listening on port ${busPort} (cluster), aborting.`,
    });
  } finally {
    await server.close();
    await new Promise((r) => holder.close(r));
  }
});

test("DEBUG POPULATE writes prefix:n = value:n (padded or cut to size), in no slot check", async () => {
  const n = await redenoNode();
  n.server.config.set("enable-debug-command", "yes");
  const c = client(n.port);
  try {
    assert.equal(await c.call("DEBUG", "POPULATE", "2"), "OK");
    assert.equal(await c.call("DEBUG", "POPULATE", "3", "k", "10"), "OK");
    assert.equal(await c.call("DEBUG", "POPULATE", "2", "p", "3"), "OK");
    assert.equal(await c.call("DBSIZE"), 7);
    // No slot is served here: read through the server, not a command that checks slots.
    const slot = String(await c.call("CLUSTER", "KEYSLOT", "k:1"));
    assert.equal(await c.call("CLUSTER", "COUNTKEYSINSLOT", slot), 1);
    const db = n.server.dbs[0]!;
    assert.equal(db.peek("key:1"), "value:1");
    assert.equal(db.peek("k:1"), "value:1\0\0\0");
    assert.equal(db.peek("p:1"), "val");
    for (const bad of ["-1", "x"]) {
      await assert.rejects(c.call("DEBUG", "POPULATE", bad), {
        message: "ERR value is out of range, must be positive",
      });
    }
  } finally {
    c.disconnect();
    await n.server.close();
  }
});
