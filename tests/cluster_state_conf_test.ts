/**
 * nodes.conf: a node keeps its id, slots, epochs and peers across restarts; a file Redis wrote
 * (hostnames, replicas, fail flags, migrating and importing marks) loads and is written back
 * unchanged; a corrupted file stops the server with Redis's message.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { createServer } from "../mod.ts";
import { rdbOf } from "../core/persistence/rdb_file.ts";
import { cluster } from "../cluster/mod.ts";
import { randomNodeId } from "../cluster/node.ts";
import { clusterPort, startRedenoCluster, waitClusterOk } from "./cluster_state_helpers.ts";

test("a node restarted on its nodes.conf keeps its id, slots and epochs", async () => {
  const first = await startRedenoCluster();
  const c1 = new Redis({ port: first.port, host: "127.0.0.1" });
  const id = await c1.call("CLUSTER", "MYID");
  assert.equal(await c1.call("CLUSTER", "ADDSLOTSRANGE", "0", "99", "1000", "1000"), "OK");
  assert.equal(await c1.call("CLUSTER", "BUMPEPOCH"), "BUMPED 1");
  const nodes = await c1.call("CLUSTER", "NODES");
  c1.disconnect();
  await first.server.close();
  // Another port: myself's line follows the port the node listens on, as Redis's does.
  const second = await startRedenoCluster({}, first.dir);
  const c2 = new Redis({ port: second.port, host: "127.0.0.1" });
  try {
    assert.equal(await c2.call("CLUSTER", "MYID"), id);
    assert.equal(
      await c2.call("CLUSTER", "NODES"),
      String(nodes).replace(
        `:${first.port}@${first.port + 10000}`,
        `:${second.port}@${second.port + 10000}`,
      ),
    );
    assert.match(
      String(await c2.call("CLUSTER", "INFO")),
      /cluster_current_epoch:1\r\ncluster_my_epoch:1\r\n/,
    );
  } finally {
    c2.disconnect();
    await second.stop();
  }
});

test("a nodes.conf with peers, replicas and open slots loads and is written back as it was", async () => {
  const [a, b, c] = [randomNodeId(), randomNodeId(), randomNodeId()];
  const port = await clusterPort();
  const text = [
    `${a} 127.0.0.1:${port}@${
      port + 10000
    } myself,master - 0 0 3 connected 0-100 200 [50->-${b}] [150-<-${b}]`,
    `${b} 127.0.0.1:7001@17001,host-b master - 0 0 5 disconnected 101-199 201-16383`,
    `${c} 127.0.0.1:7002@17002 slave,fail ${b} 0 0 5 disconnected`,
    `${randomNodeId()} 127.0.0.1:7003@17003 master,fail? - 0 0 0 disconnected`,
    "vars currentEpoch 6 lastVoteEpoch 4",
    "",
  ].join("\n");
  const dir = mkdtempSync(join(tmpdir(), "redeno-cluster-conf-"));
  writeFileSync(join(dir, "nodes.conf"), text);
  const node = await startRedenoCluster({}, dir, port);
  const r = new Redis({ port, host: "127.0.0.1" });
  try {
    const lines = text.split("\n").slice(0, 4).join("\n") + "\n";
    assert.equal(await r.call("CLUSTER", "NODES"), lines);
    assert.deepEqual(await r.call("CLUSTER", "REPLICAS", b), [text.split("\n")[2]]);
    const info = String(await r.call("CLUSTER", "INFO"));
    assert.match(info, /cluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\n/);
    assert.match(info, /cluster_known_nodes:4\r\n/);
    assert.match(info, /cluster_current_epoch:6\r\ncluster_my_epoch:3\r\n/);
    assert.equal(await r.call("CLUSTER", "SAVECONFIG"), "OK");
    assert.equal(readFileSync(join(dir, "nodes.conf"), "latin1"), text);
    // Forgetting a node rewrites the file without it.
    assert.equal(await r.call("CLUSTER", "FORGET", c), "OK");
    await r.call("CLUSTER", "SAVECONFIG");
    assert.ok(!readFileSync(join(dir, "nodes.conf"), "latin1").includes(c));
  } finally {
    r.disconnect();
    await node.stop();
  }
});

test("a corrupted nodes.conf stops the server with Redis's message", () => {
  const dir = mkdtempSync(join(tmpdir(), "redeno-cluster-bad-"));
  try {
    for (
      const bad of [
        "garbage\n",
        `${randomNodeId()} 127.0.0.1:1@2 master - 0 0 0 connected\n`, // no myself
        `${randomNodeId()} 127.0.0.1:1@2 myself,master - 0 0 0 connected 99999\n`,
        `${randomNodeId()} 127.0.0.1:1@2 myself,master NOTANID 0 0 0 connected\n`,
        "vars currentEpoch\n",
      ]
    ) {
      writeFileSync(join(dir, "nodes.conf"), bad);
      assert.throws(
        () => createServer({ plugins: [cluster()], config: { "cluster-enabled": "yes", dir } }),
        /Unrecoverable error: corrupted cluster config file\./,
        bad,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("keys loaded for slots the node does not serve: it takes the unassigned ones", async () => {
  const first = await startRedenoCluster();
  const c1 = new Redis({ port: first.port, host: "127.0.0.1" });
  await c1.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383");
  await waitClusterOk(first.port);
  await c1.set("foo", "1"); // slot 12182
  await c1.set("bar", "2"); // slot 5061
  assert.equal(await c1.call("SAVE"), "OK");
  assert.equal(await c1.call("CLUSTER", "DELSLOTSRANGE", "0", "16383"), "OK");
  assert.equal(await c1.call("CLUSTER", "SAVECONFIG"), "OK");
  c1.disconnect();
  await first.server.close();
  const server = createServer({
    plugins: [cluster()],
    config: { "cluster-enabled": "yes", dir: first.dir },
  });
  rdbOf(server).loadOnStart();
  const { port } = await server.listen({ port: 0, hostname: "127.0.0.1" });
  const c2 = new Redis({ port, host: "127.0.0.1" });
  try {
    assert.match(
      String(await c2.call("CLUSTER", "NODES")),
      / myself,master - 0 0 0 connected 5061 12182\n$/,
    );
    assert.match(readFileSync(join(first.dir, "nodes.conf"), "latin1"), / connected 5061 12182\n/);
  } finally {
    c2.disconnect();
    await server.close();
    rmSync(first.dir, { recursive: true, force: true });
  }
});
