/**
 * The CLUSTER subcommands on one node, and what cluster mode forbids, byte for byte against a
 * stock redis-server 7.0 started with `--cluster-enabled yes` (node ids and ports normalised).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RawConn } from "./helpers.ts";
import { pipeline } from "./redis_compare.ts";
import { missing } from "./redis_tools.ts";
import { REFERENCE_74, startReference } from "./reference_redis.ts";
import {
  type ClusterNodeProc,
  startRedenoCluster,
  startRedisCluster,
  waitClusterOk,
} from "./cluster_state_helpers.ts";

/** The stock server is 7.0.15: redeno answers as 7.0 does (HELP texts, doubles; core/compat.ts). */
const AS_70 = { "reported-redis-version": "7.0.15" };

async function myId(port: number): Promise<string> {
  const c = await RawConn.connect(port);
  const [r] = await pipeline(c, [["CLUSTER", "MYID"]]);
  c.close();
  return r!.split("\r\n")[1]!;
}

/** Replaces the node's id, ports and bus port with placeholders. */
function normaliser(id: string, port: number): (s: string) => string {
  return (s) =>
    s.replaceAll(id, "<id>")
      .replaceAll(`:${port}@${port + 10000}`, ":<port>@<cport>")
      .replaceAll(`:${port}\r\n`, ":<port>\r\n");
}

/** Runs `cases` (`$ID` stands for the node's own id) on both servers and compares replies. */
async function compare(
  nodes: [ClusterNodeProc, ClusterNodeProc],
  cases: string[][],
  resp3 = false,
): Promise<void> {
  const out: string[][] = [];
  for (const node of nodes) {
    const id = await myId(node.port);
    const c = await RawConn.connect(node.port);
    const norm = normaliser(id, node.port);
    const all = [
      ...(resp3 ? [["HELLO", "3"]] : []),
      ...cases.map((a) => a.map((x) => x.replace("$ID", id))),
    ];
    const replies = await pipeline(c, all);
    c.close();
    out.push(replies.slice(resp3 ? 1 : 0).map(norm));
  }
  const [want, got] = out;
  for (let i = 0; i < cases.length; i++) {
    assert.equal(
      JSON.stringify(got![i]),
      JSON.stringify(want![i]),
      `reply to ${JSON.stringify(cases[i])}`,
    );
  }
}

const BEFORE_SLOTS: string[][] = [
  ["CLUSTER", "INFO"],
  ["CLUSTER", "NODES"],
  ["CLUSTER", "SLOTS"],
  ["CLUSTER", "SHARDS"],
  ["CLUSTER", "LINKS"],
  ["SET", "foo", "bar"],
  ["GET", "foo"],
  ["MSET", "a", "1", "b", "2"],
  ["PING"],
  ["CLUSTER", "ADDSLOTS", "x"],
  ["CLUSTER", "ADDSLOTS", "16384"],
  ["CLUSTER", "ADDSLOTS", "-1"],
  ["CLUSTER", "ADDSLOTS", "5", "6", "5"],
  ["CLUSTER", "ADDSLOTS", "0", "1", "2"],
  ["CLUSTER", "ADDSLOTS", "1"],
  ["CLUSTER", "ADDSLOTSRANGE", "10", "5"],
  ["CLUSTER", "ADDSLOTSRANGE", "1", "2", "3"],
  ["CLUSTER", "ADDSLOTSRANGE", "3", "100", "50", "60"],
  ["CLUSTER", "ADDSLOTSRANGE", "3", "100", "200", "300"],
  ["CLUSTER", "DELSLOTS", "400"],
  ["CLUSTER", "DELSLOTS", "250"],
  ["CLUSTER", "DELSLOTSRANGE", "400", "500"],
  ["CLUSTER", "DELSLOTSRANGE", "260", "270"],
  ["CLUSTER", "NODES"],
  ["CLUSTER", "SLOTS"],
  ["CLUSTER", "SHARDS"],
  ["CLUSTER", "INFO"],
  ["CLUSTER", "DELSLOTSRANGE", "0", "100", "200", "249", "251", "259", "271", "300"],
  ["CLUSTER", "KEYSLOT", "foo"],
  ["CLUSTER", "KEYSLOT", "{user1000}.following"],
  ["CLUSTER", "KEYSLOT", "{}x"],
  ["CLUSTER", "KEYSLOT", "a{b"],
  ["CLUSTER", "KEYSLOT", "x{}{y}"],
  ["CLUSTER", "KEYSLOT", "\xff\x00binary"],
  ["CLUSTER", "KEYSLOT"],
  ["CLUSTER", "COUNTKEYSINSLOT", "x"],
  ["CLUSTER", "COUNTKEYSINSLOT", "-1"],
  ["CLUSTER", "COUNTKEYSINSLOT", "16384"],
  ["CLUSTER", "COUNTKEYSINSLOT", "0"],
  ["CLUSTER", "GETKEYSINSLOT", "0", "-1"],
  ["CLUSTER", "GETKEYSINSLOT", "x", "1"],
  ["CLUSTER", "GETKEYSINSLOT", "0", "10"],
  ["CLUSTER", "SETSLOT", "x", "STABLE"],
  ["CLUSTER", "SETSLOT", "5", "BAD"],
  ["CLUSTER", "SETSLOT", "5", "STABLE", "extra"],
  ["CLUSTER", "SETSLOT", "5", "MIGRATING", "$ID"],
  ["CLUSTER", "SETSLOT", "5", "IMPORTING", "nosuchnode"],
  ["CLUSTER", "SETSLOT", "5", "NODE", "nosuchnode"],
  ["CLUSTER", "SETSLOT", "5", "STABLE"],
  ["CLUSTER", "SETSLOT", "5", "NODE", "$ID"],
  ["CLUSTER", "SETSLOT", "5", "IMPORTING", "$ID"],
  ["CLUSTER", "SETSLOT", "5", "MIGRATING", "nosuchnode"],
  ["CLUSTER", "DELSLOTS", "5"],
  ["CLUSTER", "FORGET", "$ID"],
  ["CLUSTER", "FORGET", "nosuchnode"],
  ["CLUSTER", "REPLICATE", "$ID"],
  ["CLUSTER", "REPLICATE", "nosuchnode"],
  ["CLUSTER", "REPLICAS", "$ID"],
  ["CLUSTER", "SLAVES", "nosuchnode"],
  ["CLUSTER", "COUNT-FAILURE-REPORTS", "$ID"],
  ["CLUSTER", "COUNT-FAILURE-REPORTS", "x"],
  ["CLUSTER", "MEET", "1.2.3", "5000"],
  ["CLUSTER", "MEET", "127.0.0.1", "x"],
  ["CLUSTER", "MEET", "127.0.0.1", "5000", "y"],
  ["CLUSTER", "MEET", "127.0.0.1", "70000"],
  ["CLUSTER", "MEET", "a", "b", "c", "d"],
  ["CLUSTER", "FAILOVER"],
  ["CLUSTER", "FAILOVER", "bad"],
  ["CLUSTER", "FAILOVER", "force", "x"],
  ["CLUSTER", "RESET", "bad"],
  ["CLUSTER", "BUMPEPOCH"],
  ["CLUSTER", "BUMPEPOCH"],
  ["CLUSTER", "SET-CONFIG-EPOCH", "-1"],
  ["CLUSTER", "SET-CONFIG-EPOCH", "x"],
  ["CLUSTER", "SET-CONFIG-EPOCH", "9"],
  ["CLUSTER", "INFO"],
  ["CLUSTER", "MYID", "x"],
  ["CLUSTER", "NOSUCH"],
  ["CLUSTER", "HELP"],
  ["READONLY"],
  ["READWRITE"],
  ["ASKING"],
  ["SELECT", "1"],
  ["SELECT", "x"],
  ["SELECT", "0"],
  ["MOVE", "k", "1"],
  ["SWAPDB", "0", "1"],
  ["REPLICAOF", "127.0.0.1", "1"],
  ["SLAVEOF", "no", "one"],
  ["FAILOVER"],
  ["COPY", "a", "b", "DB", "1"],
  ["INFO", "cluster"],
  ["CLUSTER", "SAVECONFIG"],
  ["CLUSTER", "RESET", "SOFT"],
  ["CLUSTER", "INFO"],
];

test(
  "CLUSTER subcommands and cluster-mode refusals answer as redis-server 7.0 on a lone node",
  { skip: missing("redis-server") },
  async () => {
    const redis = await startRedisCluster();
    const ours = await startRedenoCluster(AS_70);
    try {
      await compare([redis, ours], BEFORE_SLOTS);
      await compare([redis, ours], [["CLUSTER", "SHARDS"], ["CLUSTER", "SLOTS"], [
        "CLUSTER",
        "LINKS",
      ]], true);
    } finally {
      await redis.stop();
      await ours.stop();
    }
  },
);

test(
  "A node serving every slot turns ok, routes keys and counts them per slot as redis-server does",
  { skip: missing("redis-server") },
  async () => {
    const redis = await startRedisCluster();
    const ours = await startRedenoCluster(AS_70);
    try {
      await compare([redis, ours], [["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]]);
      await waitClusterOk(redis.port);
      await waitClusterOk(ours.port);
      await compare([redis, ours], [
        ["CLUSTER", "INFO"],
        ["SET", "foo", "bar"],
        ["MSET", "{t}a", "1", "{t}b", "2", "{t}c", "3"],
        ["MSET", "a", "1", "b", "2"],
        ["MGET", "{t}a", "{t}b"],
        ["CLUSTER", "COUNTKEYSINSLOT", "12182"],
        ["CLUSTER", "COUNTKEYSINSLOT", "15891"],
        ["CLUSTER", "GETKEYSINSLOT", "12182", "5"],
        ["CLUSTER", "GETKEYSINSLOT", "15891", "0"],
        ["CLUSTER", "GETKEYSINSLOT", "15891", "10"],
        ["CLUSTER", "GETKEYSINSLOT", "15891", "2"],
        ["DEL", "{t}b"],
        ["CLUSTER", "COUNTKEYSINSLOT", "15891"],
        ["CLUSTER", "FLUSHSLOTS"],
        ["CLUSTER", "SETSLOT", "12182", "NODE", "$ID"],
        ["CLUSTER", "RESET"],
        ["CLUSTER", "REPLICATE", "$ID"],
        ["EVAL", "return redis.call('get', KEYS[1])", "1", "foo"],
        ["EVAL", "return 1", "2", "a", "b"],
        ["MULTI"],
        ["SET", "a", "1"],
        ["SET", "b", "1"],
        ["EXEC"],
        // Scripts: the keys they touch must be local, and in one slot unless they allow more.
        ["EVAL", "redis.call('set', 'a', '1'); return redis.call('set', 'b', '1')", "0"],
        ["EVAL", "#!lua\nreturn redis.call('set', 'a', '1')", "0"],
        ["EVAL", "#!lua\nredis.call('set', 'a', '1'); return redis.call('set', 'b', '1')", "0"],
        ["EVAL", "#!lua\nreturn redis.call('get', 'a')", "1", "b"],
        ["EVAL", "#!lua\nreturn redis.call('get', KEYS[1])", "1", "b"],
        [
          "EVAL",
          "#!lua flags=allow-cross-slot-keys\nredis.call('set', 'a', '1'); return redis.call('get', 'b')",
          "0",
        ],
        ["EVAL", "#!lua flags=no-cluster\nreturn 1", "0"],
        [
          "FUNCTION",
          "LOAD",
          "#!lua name=lib\nredis.register_function('f', function(k) return redis.call('get', k[1]) end)",
        ],
        ["FCALL", "f", "1", "foo"],
        ["FCALL", "f", "2", "foo", "bar"],
        ["FLUSHALL"],
        ["CLUSTER", "COUNTKEYSINSLOT", "12182"],
        ["SPUBLISH", "ch", "m"],
        ["CLUSTER", "DELSLOTS", "15495"],
        ["EVAL", "return redis.call('get', 'a')", "0"],
        ["EVAL", "return redis.call('get', 'foo')", "0"],
        ["CLUSTER", "FLUSHSLOTS"],
        ["SET", "foo", "bar"],
        ["EVAL", "return redis.call('get', 'foo')", "0"],
        ["EVAL", "return redis.call('ping')", "0"],
      ]);
      // nodes.conf as Redis writes it: the same lines, ids and ports aside.
      await compare([redis, ours], [["CLUSTER", "ADDSLOTSRANGE", "0", "100", "7000", "7001"], [
        "CLUSTER",
        "SAVECONFIG",
      ]]);
      const files = [redis, ours].map((n) => readFileSync(join(n.dir, "nodes.conf"), "latin1"));
      const ids = [await myId(redis.port), await myId(ours.port)];
      assert.equal(
        normaliser(ids[1]!, ours.port)(files[1]!),
        normaliser(ids[0]!, redis.port)(files[0]!),
      );
    } finally {
      await redis.stop();
      await ours.stop();
    }
  },
);

test(
  "A client blocked on a key whose slot stops being served is unblocked as redis-server does it",
  { skip: missing("redis-server") },
  async () => {
    const redis = await startRedisCluster();
    const ours = await startRedenoCluster(AS_70);
    try {
      const got: string[] = [];
      for (const node of [redis, ours]) {
        const admin = await RawConn.connect(node.port);
        await pipeline(admin, [["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]]);
        await waitClusterOk(node.port);
        const blocked = await RawConn.connect(node.port);
        blocked.command("BLPOP", "foo", "0");
        // The client is blocked once CLIENT LIST shows it so.
        for (let i = 0; i < 100; i++) {
          const [list] = await pipeline(admin, [["CLIENT", "LIST"]]);
          if (list!.includes("cmd=blpop")) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        await pipeline(admin, [["CLUSTER", "DELSLOTS", "12182"]]);
        const line = await blocked.read(1);
        let rest = "";
        for (let i = 0; i < 100 && !rest.endsWith("\r\n"); i++) rest += await blocked.read(1);
        got.push(line + rest);
        blocked.close();
        admin.close();
      }
      // Which check sees the change first depends on when Redis's cron runs: the cluster state
      // (down) or the slot (unassigned). Both are Redis's answers; each server gives one.
      const texts = [
        "-CLUSTERDOWN The cluster is down\r\n",
        "-CLUSTERDOWN Hash slot not served\r\n",
      ];
      assert.ok(texts.includes(got[0]!), `redis-server answered ${JSON.stringify(got[0])}`);
      assert.ok(texts.includes(got[1]!), `redeno answered ${JSON.stringify(got[1])}`);
    } finally {
      await redis.stop();
      await ours.stop();
    }
  },
);

test("CLUSTER HELP as Redis 7.4.1 words it, against the reference", {
  skip: REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false,
}, async () => {
  const ours = await startRedenoCluster();
  const ref = await startReference(["--cluster-enabled", "yes"]);
  try {
    const read = async (port: number) => {
      const c = await RawConn.connect(port);
      const [r] = await pipeline(c, [["CLUSTER", "HELP"]]);
      c.close();
      return r;
    };
    const theirs = await read(ref.port);
    assert.match(theirs!, /MYSHARDID\r\n/);
    assert.equal(await read(ours.port), theirs);
  } finally {
    ref.stop();
    await ours.stop();
  }
});
