/**
 * GROUP.JOIN across a cluster (issue 21): three redeno masters with a stock redis-server replica
 * each, made by `redis-cli --cluster create`; 1000 rooms spread over the masters, 50 ioredis
 * `Cluster` clients joining at once. Every room ends exact (never over capacity, the members the
 * joins admitted), and its notifications arrive as sharded messages on its own shard only: an
 * `SSUBSCRIBE` client on each master and on each replica sees every event of that shard's rooms
 * in order, plain and pattern subscribers see none, and no plain PUBLISH crosses the bus. Then
 * node-redis `createCluster` over three redeno masters: GROUP.JOIN on each, and `sSubscribe` to the
 * group channels lands on each group's master.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { Cluster, type Redis } from "ioredis";
import { createCluster as nodeRedisCluster } from "redis";
import { keyHashSlot, slotChannel } from "../mod.ts";
import { client, waitFor } from "./replication_helpers.ts";
import { missing } from "./redis_tools.ts";
import {
  createCluster,
  type NodeLine,
  nodeLines,
  redenoNode,
  stockClusterNode,
} from "./cluster_bus_helpers.ts";

/**
 * cluster-node-timeout (ms): long, so that a machine slowed by other tests never fails a master
 * over (a stock replica promoted would not know GROUP.JOIN) nor drops a link with the sharded
 * messages on it; nothing here waits for a failure to be detected.
 */
const NODE_TIMEOUT = "15000";
const ROOMS = 1000;
const CLIENTS = 50;
/** Rooms each client tries to join: its own twenty (every room is tried) and random others. */
const TRIES = 100;

/** Room names of the three channel rules: plain, with a hash tag, and with a `}` but no tag. */
function roomName(i: number): string {
  if (i % 10 === 0) return `{floor${i % 7}}:room:${i}`;
  if (i % 10 === 1) return `room}${i}`;
  return `room:${i}`;
}

function capacityOf(i: number): number {
  return 1 + (i % 4);
}

/** The rooms client `c` tries, in a random order. */
function roomsOf(c: number): number[] {
  const mine = new Set<number>();
  for (let i = c; i < ROOMS; i += CLIENTS) mine.add(i);
  while (mine.size < TRIES) mine.add(Math.floor(Math.random() * ROOMS));
  const list = [...mine];
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list;
}

/** The shard (index of its master in `masters`) that serves `slot`. */
function shardOf(masters: NodeLine[], slot: number): number {
  const i = masters.findIndex((m) => m.slots.some(([lo, hi]) => slot >= lo && slot <= hi));
  assert.notEqual(i, -1, `no master serves slot ${slot}`);
  return i;
}

/** Which messages a subscriber connection received, by kind. */
interface Listener {
  conn: Redis;
  /** Sharded messages by channel. */
  sharded: Map<string, string[]>;
  /** Plain and pattern messages, as `channel message`. */
  plain: string[];
}

function listen(port: number): Listener {
  const l: Listener = { conn: client(port), sharded: new Map(), plain: [] };
  l.conn.on("smessage", (ch: string, m: string) => {
    let list = l.sharded.get(ch);
    if (list === undefined) l.sharded.set(ch, list = []);
    list.push(m);
  });
  l.conn.on("message", (ch: string, m: string) => l.plain.push(`${ch} ${m}`));
  l.conn.on("pmessage", (_p: string, ch: string, m: string) => l.plain.push(`${ch} ${m}`));
  return l;
}

function count(l: Listener): number {
  let n = 0;
  for (const list of l.sharded.values()) n += list.length;
  return n;
}

test(
  "1000 rooms over 3 redeno masters: 50 Cluster clients join, every room exact, events on their shard only",
  { skip: missing("redis-server", "redis-cli") },
  async () => {
    const masters = [];
    for (let i = 0; i < 3; i++) {
      masters.push(await redenoNode({ "cluster-node-timeout": NODE_TIMEOUT }));
    }
    const stock: { port: number; stop(): Promise<void> }[] = [];
    const clients: Cluster[] = [];
    const listeners: Listener[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        stock.push(await stockClusterNode(NODE_TIMEOUT));
      }
      await createCluster([...masters, ...stock].map((n) => n.port), 1);
      const lines = await nodeLines(masters[0]!.port);
      const masterLines = masters.map((m) => lines.find((l) => l.port === m.port)!);
      const replicaLines = masterLines.map((m) => lines.find((l) => l.master === m.id)!);
      assert.ok(masterLines.every((m) => m.flags.includes("master") && m.slots.length > 0));
      assert.ok(replicaLines.every((r) => r !== undefined && stock.some((s) => s.port === r.port)));

      const names = Array.from({ length: ROOMS }, (_, i) => roomName(i));
      const shard = names.map((n) => shardOf(masterLines, keyHashSlot(n)));
      for (let s = 0; s < 3; s++) {
        assert.ok(shard.filter((x) => x === s).length > 100, `rooms on shard ${s}`);
      }

      // On every node of a shard: one connection SSUBSCRIBEd to the channels of the shard's rooms
      // (one command per slot, as SSUBSCRIBE wants), one SUBSCRIBEd and PSUBSCRIBEd to catch any
      // plain message.
      const shardListeners: Listener[][] = [[], [], []];
      const plainListeners: Listener[] = [];
      for (let s = 0; s < 3; s++) {
        const bySlot = new Map<number, string[]>();
        for (let i = 0; i < ROOMS; i++) {
          if (shard[i] !== s) continue;
          const ch = slotChannel("__group__:", names[i]!);
          const slot = keyHashSlot(ch);
          assert.equal(slot, keyHashSlot(names[i]!));
          bySlot.set(slot, [...(bySlot.get(slot) ?? []), ch]);
        }
        for (const port of [masterLines[s]!.port, replicaLines[s]!.port]) {
          const l = listen(port);
          listeners.push(l);
          shardListeners[s]!.push(l);
          await Promise.all([...bySlot.values()].map((chs) => l.conn.call("SSUBSCRIBE", ...chs)));
          const p = listen(port);
          listeners.push(p);
          plainListeners.push(p);
          await p.conn.subscribe(...names.map((n) => `__group__:${n}`), "end");
          await p.conn.psubscribe("__group__*");
        }
      }
      // A room's channel belongs to its shard: another master answers MOVED.
      const away = names.findIndex((_, i) => shard[i] !== 0);
      await assert.rejects(
        listeners[0]!.conn.call("SSUBSCRIBE", slotChannel("__group__:", names[away]!)),
        /MOVED/,
      );

      const admin = ioCluster(masters[0]!.port);
      clients.push(admin);
      await Promise.all(names.map((n, i) => admin.call("GROUP.CREATE", n, String(capacityOf(i)))));

      for (let c = 0; c < CLIENTS; c++) {
        clients.push(ioCluster(masters[c % 3]!.port));
      }
      // Every client joins its rooms at once; a join is admitted (its size) or FULL.
      const admitted = names.map(() => new Map<string, number>());
      const refused = names.map(() => 0);
      await Promise.all(
        clients.slice(1).map((cl, c) =>
          Promise.all(
            roomsOf(c).map(async (i) => {
              try {
                const size = await cl.call("GROUP.JOIN", names[i]!, `user${c}`) as number;
                admitted[i]!.set(`user${c}`, size);
              } catch (e) {
                assert.match(String(e), new RegExp(`FULL group '${escape(names[i]!)}' is full`));
                refused[i]!++;
              }
            }),
          )
        ),
      );

      let joins = 0;
      for (let i = 0; i < ROOMS; i++) {
        const room = admitted[i]!;
        const tried = room.size + refused[i]!;
        assert.equal(room.size, Math.min(capacityOf(i), tried), `room ${names[i]}`);
        assert.deepEqual(
          [...room.values()].sort((a, b) => a - b),
          Array.from({ length: room.size }, (_, k) => k + 1),
          `each admission in ${names[i]} got the next size`,
        );
        joins += room.size;
      }
      await Promise.all(names.map(async (n, i) => {
        const members = (await admin.call("GROUP.MEMBERS", n) as string[]).sort();
        assert.deepEqual(members, [...admitted[i]!.keys()].sort(), `members of ${n}`);
      }));

      // The events: each shard's subscribers, master and replica, get its rooms' joins in order.
      const expected = [0, 0, 0];
      for (let i = 0; i < ROOMS; i++) expected[shard[i]!]! += admitted[i]!.size;
      assert.equal(expected[0]! + expected[1]! + expected[2]!, joins);
      for (let s = 0; s < 3; s++) {
        for (const l of shardListeners[s]!) {
          await waitFor(() => count(l) >= expected[s]!, `the events of shard ${s}`, 20000).catch(
            (e: Error) => {
              const where = l === shardListeners[s]![0] ? "master" : "replica";
              throw new Error(`${e.message} (${where}: ${count(l)} of ${expected[s]})`);
            },
          );
          assert.equal(count(l), expected[s]);
        }
      }
      for (let i = 0; i < ROOMS; i++) {
        const ch = slotChannel("__group__:", names[i]!);
        const want = [...admitted[i]!].sort((a, b) => a[1] - b[1]).map(([m, k]) =>
          `join ${m} ${k}`
        );
        for (let s = 0; s < 3; s++) {
          for (const l of shardListeners[s]!) {
            assert.deepEqual(l.sharded.get(ch) ?? [], s === shard[i] ? want : [], `${ch} on ${s}`);
          }
        }
      }
      // No plain message was published anywhere, and none crossed the bus: a PUBLISH now is the
      // first one every plain subscriber sees.
      for (const m of masterLines) {
        const c = client(m.port);
        const info = String(await c.call("CLUSTER", "INFO"));
        c.disconnect();
        assert.doesNotMatch(info, /cluster_stats_messages_publish_sent/);
        const sent = Number(/cluster_stats_messages_publishshard_sent:(\d+)/.exec(info)?.[1]);
        assert.ok(sent >= expected[masterLines.indexOf(m)]!, `PUBLISHSHARD sent: ${sent}`);
      }
      await admin.publish("end", "end");
      for (const p of plainListeners) {
        await waitFor(() => p.plain.length !== 0, "the end message");
        assert.deepEqual(p.plain, ["end end"]);
      }
    } finally {
      for (const c of clients) c.disconnect();
      for (const l of listeners) l.conn.disconnect();
      for (const m of masters) {
        await m.server.close();
        rmSync(m.dir, { recursive: true, force: true });
      }
      for (const s of stock) await s.stop();
    }
  },
);

test(
  "node-redis createCluster: GROUP.JOIN on every master, the events through sSubscribe on each group's shard",
  { skip: missing("redis-cli") },
  async () => {
    const masters = [];
    for (let i = 0; i < 3; i++) {
      masters.push(await redenoNode({ "cluster-node-timeout": NODE_TIMEOUT }));
    }
    const cl = nodeRedisCluster({
      rootNodes: [{ socket: { host: "127.0.0.1", port: masters[1]!.port } }],
    });
    cl.on("error", () => {}); // a connection the test's end closes
    try {
      await createCluster(masters.map((m) => m.port), 0);
      const lines = await nodeLines(masters[0]!.port);
      const masterLines = masters.map((m) => lines.find((l) => l.port === m.port)!);
      await cl.connect();
      const names = Array.from({ length: 30 }, (_, i) => roomName(i));
      const shard = names.map((n) => shardOf(masterLines, keyHashSlot(n)));
      assert.deepEqual(new Set(shard).size, 3, "rooms on every master");
      const heard = new Map<string, string[]>();
      for (const n of names) {
        const ch = slotChannel("__group__:", n);
        assert.equal(await cl.sendCommand(n, true, ["GROUP.CHANNEL", n]), ch);
        await cl.sSubscribe(ch, (message, channel) => {
          heard.set(channel, [...(heard.get(channel) ?? []), message]);
        });
      }
      const join = (n: string, m: string) => cl.sendCommand(n, false, ["GROUP.JOIN", n, m]);
      for (const n of names) {
        assert.equal(await cl.sendCommand(n, false, ["GROUP.CREATE", n, "2"]), "OK");
        assert.equal(await join(n, "alice"), 1);
        assert.equal(await join(n, "bob"), 2);
        await assert.rejects(join(n, "carol"), new RegExp(`FULL group '${escape(n)}' is full`));
        assert.equal(await cl.sendCommand(n, false, ["GROUP.LEAVE", n, "alice"]), 1);
      }
      await waitFor(
        () => names.every((n) => heard.get(slotChannel("__group__:", n))?.length === 3),
        "every group's events",
      );
      for (const [i, n] of names.entries()) {
        const ch = slotChannel("__group__:", n);
        assert.deepEqual(heard.get(ch), ["join alice 1", "join bob 2", "leave alice 1"]);
        // The subscription is on the master that serves the group, and only there.
        for (const [s, m] of masters.entries()) {
          const c = client(m.port);
          const [, subs] = await c.call("PUBSUB", "SHARDNUMSUB", ch) as [string, number];
          c.disconnect();
          assert.equal(subs, s === shard[i] ? 1 : 0, `${ch} on master ${s}`);
        }
      }
    } finally {
      cl.destroy();
      for (const m of masters) {
        await m.server.close();
        rmSync(m.dir, { recursive: true, force: true });
      }
    }
  },
);

/**
 * An ioredis Cluster client. Its slot refreshes get 10 s, not 1 s: the nodes run in this process,
 * beside 50 clients, on a machine that other tests may load. A refresh that fails anyway is only
 * logged (the client retries it); the commands' own errors reach their promises.
 */
function ioCluster(port: number): Cluster {
  const c = new Cluster([{ host: "127.0.0.1", port }], { slotsRefreshTimeout: 10000 });
  c.on("error", (e: Error) => console.log(`ioredis Cluster: ${e.message}`));
  return c;
}

/** `s` with the characters a regular expression gives a meaning escaped. */
function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
