/**
 * Routing in cluster mode over real sockets: ioredis `Cluster` on one node serving every slot
 * (no redirection), and two masters plus a replica whose slot tables come from nodes.conf files
 * (MOVED, ASK/ASKING, TRYAGAIN, READONLY on the replica, MIGRATE of an open slot). The bus is not
 * involved: the nodes know each other from their nodes.conf alone.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Cluster, Redis } from "ioredis";
import { randomNodeId } from "../cluster/node.ts";
import { keyHashSlot } from "../cluster/slots.ts";
import { clusterPort, startRedenoCluster, waitClusterOk } from "./cluster_state_helpers.ts";
import { waitFor } from "./replication_helpers.ts";
import { scratchDir } from "./scratch.ts";

const HOST = "127.0.0.1";

function client(port: number): Redis {
  return new Redis({ port, host: HOST, maxRetriesPerRequest: 0, lazyConnect: true });
}

async function reply(c: Redis, ...argv: string[]): Promise<unknown> {
  try {
    return await c.call(argv[0]!, ...argv.slice(1));
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}

test("ioredis Cluster reads and writes every slot of a node serving them all", async () => {
  // A lone node knows no address of its own (the bus learns it): announce one for the clients.
  const node = await startRedenoCluster({ "cluster-announce-ip": HOST });
  const admin = client(node.port);
  const cl = new Cluster([{ host: HOST, port: node.port }], { lazyConnect: true });
  try {
    await admin.connect();
    assert.match(await admin.info("server"), /redis_mode:cluster/);
    assert.deepEqual(((await admin.call("HELLO", "2")) as string[]).slice(8, 10), [
      "mode",
      "cluster",
    ]);
    assert.equal(await admin.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383"), "OK");
    await waitClusterOk(node.port);
    await cl.connect();
    const slots = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      await cl.set(`key:${i}`, String(i));
      slots.add(keyHashSlot(`key:${i}`));
    }
    assert.ok(slots.size > 1500, "the keys cover many slots");
    for (let i = 0; i < 2000; i += 97) assert.equal(await cl.get(`key:${i}`), String(i));
    // Keys sharing a hash tag: pipeline, MULTI, Lua, multi-key commands.
    const piped = await cl.pipeline().set("{room}a", "1").incr("{room}b").get("{room}a").exec();
    assert.deepEqual(piped?.map(([, v]) => v), ["OK", 1, "1"]);
    const tx = await cl.multi().incr("{room}b").mget("{room}a", "{room}b").exec();
    assert.deepEqual(tx?.map(([, v]) => v), [2, ["1", "2"]]);
    assert.equal(await cl.eval("return redis.call('incr', KEYS[1])", 1, "{room}b"), 3);
    await assert.rejects(cl.mget("a", "b"), /CROSSSLOT/);
    // Plugins' commands route by their key specs.
    assert.equal(await cl.call("GROUP.CREATE", "lobby", "10"), "OK");
    assert.equal(await cl.call("GROUP.JOIN", "lobby", "alice"), 1);
    assert.equal(await cl.call("GROUP.JOIN", "lobby", "bob"), 2);
    // Sharded pub/sub on the channel's slot (ioredis 6's Cluster does not emit smessage events:
    // the subscriber is a plain connection to the slot's node).
    const sub = new Redis({ host: HOST, port: node.port });
    const got = new Promise<string>((resolve) =>
      sub.on("smessage", (_ch: string, m: string) => resolve(m))
    );
    await sub.ssubscribe("news");
    assert.equal(await cl.spublish("news", "hello"), 1);
    assert.equal(await got, "hello");
    sub.disconnect();
    // The slot index follows the keyspace.
    const slot = keyHashSlot("key:7");
    const inSlot = (await admin.call("CLUSTER", "GETKEYSINSLOT", String(slot), "100")) as string[];
    assert.ok(inSlot.includes("key:7"));
    assert.equal(await admin.call("CLUSTER", "COUNTKEYSINSLOT", String(slot)), inSlot.length);
    await admin.del("key:7");
    assert.equal(await admin.call("CLUSTER", "COUNTKEYSINSLOT", String(slot)), inSlot.length - 1);
    let total = 0;
    for (let s = 0; s < 16384; s += 1) {
      total += (await admin.call("CLUSTER", "COUNTKEYSINSLOT", String(s))) as number;
    }
    assert.equal(total, await admin.dbsize());
  } finally {
    cl.disconnect();
    admin.disconnect();
    await node.stop();
  }
});

interface Layout {
  ids: string[];
  ports: number[];
}

/** nodes.conf of node `me`: A serves 0-8191, B 8192-16383, C replicates A. */
function nodesConf(l: Layout, me: number): string {
  const [a, b, c] = l.ids as [string, string, string];
  const addr = (i: number) => `${HOST}:${l.ports[i]}@${l.ports[i]! + 10000}`;
  const flag = (i: number, f: string) => (i === me ? `myself,${f}` : f);
  return [
    `${a} ${addr(0)} ${flag(0, "master")} - 0 0 1 connected 0-8191`,
    `${b} ${addr(1)} ${flag(1, "master")} - 0 0 2 connected 8192-16383`,
    `${c} ${addr(2)} ${flag(2, "slave")} ${a} 0 0 1 connected`,
    "vars currentEpoch 2 lastVoteEpoch 0",
    "",
  ].join("\n");
}

test("MOVED, ASK, ASKING, TRYAGAIN and READONLY between nodes whose tables come from nodes.conf", async () => {
  const layout: Layout = { ids: [randomNodeId(), randomNodeId(), randomNodeId()], ports: [] };
  for (let i = 0; i < 3; i++) layout.ports.push(await clusterPort());
  const root = scratchDir("redeno-cluster-routing-");
  const nodes = [];
  for (let i = 0; i < 3; i++) {
    const dir = join(root, String(i));
    mkdirSync(dir);
    writeFileSync(join(dir, "nodes.conf"), nodesConf(layout, i));
    nodes.push(await startRedenoCluster({ port: String(layout.ports[i]) }, dir, layout.ports[i]));
  }
  const [a, b, c] = nodes.map((n) => client(n.port)) as [Redis, Redis, Redis];
  const [idA, idB] = layout.ids as [string, string];
  const cl = new Cluster([{ host: HOST, port: layout.ports[0]! }], { lazyConnect: true });
  try {
    for (const x of [a, b, c]) await x.connect();
    assert.equal(await a.call("CLUSTER", "MYID"), idA);
    for (const n of nodes) await waitClusterOk(n.port);
    // "foo" hashes to 12182 (B), "bar" to 5061 (A).
    assert.equal(await reply(a, "GET", "foo"), `error: MOVED 12182 ${HOST}:${layout.ports[1]}`);
    assert.equal(await reply(b, "SET", "foo", "1"), "OK");
    assert.equal(await reply(b, "GET", "bar"), `error: MOVED 5061 ${HOST}:${layout.ports[0]}`);
    // Inside MULTI a redirection aborts the transaction.
    assert.equal(await reply(a, "MULTI"), "OK");
    assert.match(String(await reply(a, "SET", "foo", "2")), /MOVED 12182/);
    assert.match(String(await reply(a, "EXEC")), /EXECABORT/);
    // A cluster client follows MOVED to every slot's owner.
    await cl.connect();
    for (let i = 0; i < 300; i++) await cl.set(`k${i}`, String(i));
    for (let i = 0; i < 300; i += 7) assert.equal(await cl.get(`k${i}`), String(i));
    const sizes = [await a.dbsize(), await b.dbsize()];
    assert.equal(sizes[0]! + sizes[1]!, 301, "every key lives on its slot's owner only");
    assert.ok(sizes[0]! > 100 && sizes[1]! > 100);

    // Slot 5061 ("bar", "{bar}x") moves from A to B.
    await a.set("bar", "here");
    assert.equal(await a.call("CLUSTER", "SETSLOT", "5061", "MIGRATING", idB), "OK");
    assert.equal(await b.call("CLUSTER", "SETSLOT", "5061", "IMPORTING", idA), "OK");
    assert.equal(await reply(a, "GET", "bar"), "here", "a key still here is served");
    assert.equal(await reply(a, "GET", "{bar}x"), `error: ASK 5061 ${HOST}:${layout.ports[1]}`);
    assert.equal(
      await reply(a, "MGET", "bar", "{bar}x"),
      "error: TRYAGAIN Multiple keys request during rehashing of slot",
    );
    assert.equal(await reply(b, "GET", "{bar}x"), `error: MOVED 5061 ${HOST}:${layout.ports[0]}`);
    assert.equal(await reply(b, "ASKING"), "OK");
    assert.equal(await reply(b, "GET", "{bar}x"), null);
    assert.equal(
      await reply(b, "GET", "{bar}x"),
      `error: MOVED 5061 ${HOST}:${layout.ports[0]}`,
      "ASKING is one command",
    );
    assert.equal(await reply(b, "ASKING"), "OK");
    assert.equal(
      await reply(b, "MSET", "{bar}x", "1", "{bar}y", "2"),
      "error: TRYAGAIN Multiple keys request during rehashing of slot",
    );
    assert.equal(await reply(b, "ASKING"), "OK");
    assert.equal(await reply(b, "SET", "{bar}x", "new"), "OK");
    // MIGRATE works on the open slot; then both sides close it.
    assert.equal(
      await reply(a, "MIGRATE", HOST, String(layout.ports[1]), "bar", "0", "5000"),
      "OK",
    );
    assert.equal(await reply(a, "CLUSTER", "COUNTKEYSINSLOT", "5061"), 0);
    assert.equal(await reply(b, "CLUSTER", "COUNTKEYSINSLOT", "5061"), 2);
    assert.equal(await reply(b, "CLUSTER", "SETSLOT", "5061", "NODE", idB), "OK");
    assert.equal(await reply(a, "CLUSTER", "SETSLOT", "5061", "NODE", idB), "OK");
    assert.equal(await reply(b, "GET", "bar"), "here");
    assert.equal(await reply(a, "GET", "bar"), `error: MOVED 5061 ${HOST}:${layout.ports[1]}`);
    // B's config epoch (2) already is the greatest: closing the import keeps it (Redis's STILL).
    assert.match(
      String(await reply(b, "CLUSTER", "NODES")),
      new RegExp(`${idB} .*myself,master - 0 0 2 connected 5061 8192-16383`),
    );

    // C replicates A (started from its nodes.conf); READONLY lets it serve A's slots.
    const onMaster = await a.dbsize();
    await waitFor(async () => (await c.dbsize()) === onMaster, "C to sync from A");
    assert.equal(
      await reply(c, "GET", "k1"),
      `error: MOVED ${keyHashSlot("k1")} ${HOST}:${layout.ports[await slotOwner(a, "k1")]}`,
    );
    assert.equal(await reply(c, "READONLY"), "OK");
    // CLIENT LIST's `r`: a READONLY client (Redis's CLIENT_READONLY), gone after READWRITE.
    assert.match(String(await reply(c, "CLIENT", "INFO")), / flags=r /);
    const onA = (await a.keys("k*"))[0]!;
    assert.equal(await reply(c, "GET", onA), await a.get(onA));
    assert.match(String(await reply(c, "SET", onA, "x")), /^error: MOVED /);
    // A script that declares no no-writes flag is a write: MOVED, as Redis (legacy test 16).
    const writer = "#!lua\nreturn redis.call('del', KEYS[1])";
    assert.match(String(await reply(c, "EVAL", writer, "1", onA)), /^error: MOVED /);
    const reader = "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])";
    assert.equal(await reply(c, "EVAL", reader, "1", onA), await a.get(onA));
    assert.match(
      String(await reply(c, "GET", "foo")),
      /^error: MOVED 12182 /,
      "B's slots are not C's master's",
    );
    assert.equal(await reply(c, "READWRITE"), "OK");
    assert.match(String(await reply(c, "CLIENT", "INFO")), / flags=N /);
    assert.match(String(await reply(c, "GET", onA)), /^error: MOVED /);
  } finally {
    cl.disconnect();
    for (const x of [a, b, c]) x.disconnect();
    for (const n of nodes) await n.stop();
  }
});

/** Index of the node (0: A, 1: B) serving `key`, as A sees it. */
async function slotOwner(a: Redis, key: string): Promise<number> {
  return (await a.call("CLUSTER", "KEYSLOT", key) as number) < 8192 ? 0 : 1;
}

test("CLUSTER REPLICATE makes an empty master replicate another; CLUSTER RESET turns it back", async () => {
  const ids = [randomNodeId(), randomNodeId()];
  const ports = [await clusterPort(), await clusterPort()];
  const root = scratchDir("redeno-cluster-replicate-");
  const nodes = [];
  for (let i = 0; i < 2; i++) {
    const dir = join(root, String(i));
    mkdirSync(dir);
    const line = (j: number, slots: string) =>
      `${ids[j]} ${HOST}:${ports[j]}@${ports[j]! + 10000} ${j === i ? "myself," : ""}master - 0 0 ${
        j + 1
      } connected${slots}`;
    writeFileSync(
      join(dir, "nodes.conf"),
      `${line(0, " 0-16383")}\n${line(1, "")}\nvars currentEpoch 2 lastVoteEpoch 0\n`,
    );
    nodes.push(await startRedenoCluster({}, dir, ports[i]));
  }
  const [a, b] = nodes.map((n) => client(n.port)) as [Redis, Redis];
  try {
    await a.connect();
    await b.connect();
    await waitClusterOk(ports[0]!);
    await a.set("k", "v");
    assert.equal(
      await reply(a, "CLUSTER", "REPLICATE", ids[1]!),
      "error: ERR To set a master the node must be empty and without assigned slots.",
    );
    assert.equal(await reply(b, "CLUSTER", "REPLICATE", ids[0]!), "OK");
    await waitFor(async () => (await b.dbsize()) === 1, "B to sync from A");
    assert.match(String(await b.info("replication")), /role:slave\r\nmaster_host:127\.0\.0\.1\r\n/);
    assert.match(String(await b.call("CLUSTER", "NODES")), new RegExp(`myself,slave ${ids[0]} `));
    assert.equal(
      await reply(b, "GET", "k"),
      `error: MOVED ${keyHashSlot("k")} ${HOST}:${ports[0]}`,
    );
    assert.equal(await reply(b, "READONLY"), "OK");
    assert.equal(await reply(b, "GET", "k"), "v");
    assert.equal(await reply(b, "CLUSTER", "RESET"), "OK");
    assert.equal(await b.dbsize(), 0);
    assert.match(String(await b.info("replication")), /role:master/);
    assert.equal(
      String(await b.call("CLUSTER", "NODES")).trim().split("\n").length,
      1,
      "a reset node knows only itself",
    );
  } finally {
    a.disconnect();
    b.disconnect();
    for (const n of nodes) await n.stop();
  }
});
