/**
 * Streams between redeno and a stock redis-server 7.0: RDB files both ways (redeno's SAVE loaded
 * by redis-server and checked by redis-check-rdb, Redis's SAVE loaded by redeno at start), DUMP
 * and RESTORE both ways, and a stock replica of a redeno master following stream writes (full
 * sync, then XADD with auto IDs, XREADGROUP blocking or not, XACK, XCLAIM, XAUTOCLAIM, XTRIM ~).
 * Each comparison reads every stream the same way on both servers (XINFO STREAM [FULL], XRANGE,
 * XREVRANGE, XINFO GROUPS and CONSUMERS, XPENDING) in RESP2 and RESP3. Skipped without
 * redis-server.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { MapReply, type Reply } from "../mod.ts";
import { decodeResp } from "../core/resp/decode.ts";
import { rdbOf } from "../core/persistence/rdb_file.ts";
import { replication } from "../replication/mod.ts";
import { RawConn } from "./helpers.ts";
import { pipeline, startRedis } from "./redis_compare.ts";
import { serverIn, tempDir, text } from "./rdb_helpers.ts";
import { missing } from "./redis_tools.ts";

const skip = missing("redis-server", "redis-check-rdb");
const HOST = "127.0.0.1";

/** A server under test, on 127.0.0.1. */
interface Peer {
  port: number;
  close(): Promise<void>;
}

/**
 * redeno with the replication plugin, saving into `dir` and loading `dir/dump.rdb` at start when
 * there is one (as main.ts does); a temporary directory of its own without `dir`. A replica's
 * full sync starts at once (Redis waits 5 s for more replicas by default).
 */
async function redeno(dir?: string): Promise<Peer> {
  const own = dir ?? tempDir();
  // Reporting (and so answering as) the 7.0.15 it is compared with: XINFO without 7.2's times.
  const config = { "repl-diskless-sync-delay": "0", "reported-redis-version": "7.0.15" };
  const { server } = serverIn(own, { plugins: [replication()], config });
  rdbOf(server).loadOnStart();
  const { port } = await server.listen({ port: 0, hostname: HOST });
  return {
    port,
    close: async () => {
      await server.close();
      if (dir === undefined) rmSync(own, { recursive: true, force: true });
    },
  };
}

/** A stock redis-server, loading `dir/dump.rdb` at start when `dir` is given. */
async function redis(dir?: string, extra: string[] = []): Promise<Peer> {
  const r = await startRedis([
    ...(dir ? ["--dir", dir, "--dbfilename", "dump.rdb"] : []),
    ...extra,
  ]);
  return { port: r.port, close: () => Promise.resolve(r.stop()) };
}

/** Sends the commands pipelined; fails on the first error reply. Returns the decoded replies. */
async function run(port: number, commands: string[][]): Promise<Reply[]> {
  const c = await RawConn.connect(port);
  try {
    const raw = await pipeline(c, commands);
    raw.forEach((r, i) => assert.ok(!r.startsWith("-"), `${commands[i]!.join(" ")}: ${r}`));
    return raw.map(decode);
  } finally {
    c.close();
  }
}

function decode(raw: string): Reply {
  return decodeResp(Buffer.from(raw, "latin1"));
}

const id = (i: number): string => `${1000 + i}-${i % 3}`;

/**
 * Streams in many shapes: deleted entries, integers and binary strings in the listpacks, field
 * sets that change (new master entries), values big enough to fill nodes by bytes, groups with
 * pending entries of deleted entries, NOACK, claims with set times, consumers without pending,
 * unknown entries-read, empty streams with a last ID, XSETID, auto IDs, another database.
 */
function streamWrites(): string[][] {
  const many = Array.from({ length: 40 }, (_, i) => [`k${i}`, String(i * 7)]).flat();
  const big: string[][] = [];
  for (let i = 1; i <= 1200; i++) {
    const fields = i % 97 === 0
      ? ["other", `o${i}`, "extra", String(-i)]
      : ["f", `v${i}`, "n", String(i * 1000)];
    if (i % 250 === 0) fields.push("long", "x".repeat(3000));
    big.push(["XADD", "s:big", id(i), ...fields]);
  }
  const acks = Array.from({ length: 250 }, (_, i) => i + 1).filter((i) => i % 7 !== 0).map(id);
  return [
    ["XADD", "s:basic", "1-1", "name", "alice", "n", "1"],
    ["XADD", "s:basic", "1-2", "name", "bob", "n", "2"],
    ["XADD", "s:basic", "2-0", "other", "field"],
    ["XADD", "s:basic", "5-0", "name", "\x00\xff\r\n", "n", "-42"],
    ["XADD", "s:basic", "6-0", "max", "9223372036854775807", "huge", "12345678901234567890"],
    ["XADD", "s:basic", "6-1", "lead", "007", "neg", "-0", "min", "-9223372036854775808"],
    ["XADD", "s:basic", "7-0", "name", "carol", "n", "3"],
    ["XADD", "s:basic", "8-0", ...many],
    ["XADD", "s:basic", "9-0", "", ""],
    ["XDEL", "s:basic", "2-0"],
    ["XGROUP", "CREATE", "s:basic", "g1", "0"],
    ["XGROUP", "CREATE", "s:basic", "g2", "$"],
    ["XGROUP", "CREATE", "s:basic", "g3", "1-1", "ENTRIESREAD", "1"],
    ["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "2", "STREAMS", "s:basic", ">"],
    ["XREADGROUP", "GROUP", "g1", "bob", "COUNT", "1", "STREAMS", "s:basic", ">"],
    ["XREADGROUP", "GROUP", "g1", "dave", "COUNT", "2", "STREAMS", "s:basic", ">"],
    ["XACK", "s:basic", "g1", "1-1"],
    ["XGROUP", "CREATECONSUMER", "s:basic", "g1", "idle-one"],
    ["XCLAIM", "s:basic", "g1", "carol", "0", "1-2", "TIME", "1700000000000", "RETRYCOUNT", "5"],
    ["XREADGROUP", "GROUP", "g3", "x", "NOACK", "STREAMS", "s:basic", ">"],
    ["XDEL", "s:basic", "6-0"],
    ["XREADGROUP", "GROUP", "g1", "dave", "STREAMS", "s:basic", "0"],
    ...big,
    ["XDEL", "s:big", id(10), id(500), id(501), id(1199)],
    ["XGROUP", "CREATE", "s:big", "g1", "0"],
    ["XREADGROUP", "GROUP", "g1", "a", "COUNT", "300", "STREAMS", "s:big", ">"],
    ["XREADGROUP", "GROUP", "g1", "b", "COUNT", "200", "STREAMS", "s:big", ">"],
    ["XACK", "s:big", "g1", ...acks],
    ["XGROUP", "CREATE", "s:big", "g2", id(600)],
    ["XTRIM", "s:big", "MINID", id(20)],
    ["XADD", "s:empty", "5-5", "a", "1"],
    ["XGROUP", "CREATE", "s:empty", "g", "$"],
    ["XDEL", "s:empty", "5-5"],
    ["XADD", "s:zero", "1-0", "a", "1"],
    ["XADD", "s:zero", "2-0", "b", "2"],
    ["XTRIM", "s:zero", "MAXLEN", "0"],
    ["XADD", "s:setid", "3-0", "a", "1"],
    ["XSETID", "s:setid", "100-5", "ENTRIESADDED", "50", "MAXDELETEDID", "90-0"],
    ["XGROUP", "CREATE", "s:setid", "g", "0", "ENTRIESREAD", "49"],
    ["XADD", "s:auto", "*", "a", "1"],
    ["XADD", "s:auto", "*", "b", "2"],
    ["XADD", "s:auto", "MAXLEN", "1", "*", "c", "3"],
    ["SELECT", "3"],
    ["XADD", "s:db3", "1-1", "\x00k", "\xff\xfe"],
    ["XGROUP", "CREATE", "s:db3", "g", "0"],
    ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s:db3", ">"],
    ["SELECT", "0"],
  ];
}

/** Stream keys of each database the writes above touch. */
const DATABASES = ["0", "3"];

/** `name` of a flat `name value ...` array or of a RESP3 map. */
function field(reply: Reply, name: string): Reply {
  const flat = reply instanceof MapReply ? reply.entries : reply as Reply[];
  return flat[flat.indexOf(name) + 1]!;
}

/**
 * A copy of `reply` where the values of `names` in any name/value array or map are replaced:
 * the fields two servers cannot agree on by nature.
 */
function blank(reply: Reply, names: Set<string>): Reply {
  if (reply instanceof MapReply) return new MapReply(blankPairs(reply.entries, names));
  if (!Array.isArray(reply)) return reply;
  const named = reply.length % 2 === 0 &&
    reply.every((v, i) => i % 2 === 1 || typeof v === "string");
  return named ? blankPairs(reply, names) : reply.map((r) => blank(r, names));
}

function blankPairs(flat: Reply[], names: Set<string>): Reply[] {
  return flat.map((
    v,
    i,
  ) => (i % 2 === 1 && names.has(flat[i - 1] as string) ? "*" : blank(v, names)));
}

/**
 * Every stream of the databases read the same way, in RESP2 then RESP3, by `proto|db|key|command`.
 * Everything is compared, the radix tree's size included (redeno splits nodes as Redis does and
 * keeps the node boundaries of a dump), but idle times: they depend on when the question is
 * asked. Reading a `replica`, the consumers' seen-time is its own (set when it applies the
 * stream), and so are the groups' read counters: Redis 7.0 propagates a XREADGROUP without NOACK
 * as XCLAIMs with LASTID, without the counter, and the replica estimates it, behind a Redis
 * master as behind redeno.
 */
async function describe(port: number, replica: boolean): Promise<Map<string, Reply>> {
  const names = new Set(["idle"]);
  if (replica) { for (const n of ["seen-time", "entries-read", "lag"]) names.add(n); }
  const c = await RawConn.connect(port);
  const out = new Map<string, Reply>();
  try {
    for (const proto of ["2", "3"]) {
      await pipeline(c, [["HELLO", proto]]);
      for (const db of DATABASES) {
        const [, keys] = (await pipeline(c, [["SELECT", db], ["KEYS", "*"]])).map(decode);
        for (const key of (keys as string[]).sort()) {
          const reads = [
            ["TYPE", key],
            ["OBJECT", "ENCODING", key],
            ["XLEN", key],
            ["XRANGE", key, "-", "+"],
            ["XREVRANGE", key, "+", "-", "COUNT", "3"],
            ["XINFO", "STREAM", key],
            ["XINFO", "STREAM", key, "FULL", "COUNT", "0"],
            ["XINFO", "GROUPS", key],
          ];
          const replies = (await pipeline(c, reads)).map(decode);
          const groups = replies[reads.length - 1] as Reply[];
          for (const g of groups) {
            const name = field(g, "name") as string;
            reads.push(["XPENDING", key, name], ["XPENDING", key, name, "-", "+", "1000"]);
            reads.push(["XINFO", "CONSUMERS", key, name]);
          }
          replies.push(...(await pipeline(c, reads.slice(replies.length))).map(decode));
          reads.forEach((cmd, i) => {
            let r = replies[i]!;
            // XPENDING's extended form: [id, consumer, idle ms, deliveries] per entry.
            if (cmd[0] === "XPENDING" && cmd.length > 3) {
              r = (r as Reply[][]).map((e) => [e[0]!, e[1]!, "*", e[3]!]);
            }
            out.set([proto, db, key, cmd.join(" ")].join("|"), blank(r, names));
          });
        }
      }
    }
  } finally {
    c.close();
  }
  return out;
}

/** Asserts both servers describe the same streams; returns how many keys there were. */
async function assertSameStreams(ours: number, theirs: number, replica = false): Promise<number> {
  const a = await describe(ours, replica);
  const b = await describe(theirs, replica);
  const streams = (m: Map<string, Reply>) => [
    ...new Set([...m.keys()].map((k) => k.split("|").slice(1, 3).join("|"))),
  ];
  assert.deepEqual(streams(a), streams(b), "the same streams (db|key) on both");
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [k, v] of b) assert.deepEqual(a.get(k), v, k);
  return streams(a).length;
}

/** The keys of the writes above: 6 in database 0, 1 in database 3. */
const KEYS = 7;

test("redeno's SAVE of streams passes redis-check-rdb and redis-server loads the same streams", {
  skip,
}, async () => {
  const dir = tempDir();
  const ours = await redeno(dir);
  let theirs: Peer | undefined;
  try {
    await run(ours.port, [...streamWrites(), ["SAVE"]]);
    const check = spawnSync("redis-check-rdb", [join(dir, "dump.rdb")], { encoding: "latin1" });
    assert.match(check.stdout, /RDB looks OK/, check.stdout);
    theirs = await redis(dir);
    assert.equal(await assertSameStreams(ours.port, theirs.port), KEYS);
  } finally {
    await theirs?.close();
    await ours.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("redeno loads streams from redis-server's SAVE at start", { skip }, async () => {
  const dir = tempDir();
  const theirs = await redis(dir);
  let ours: Peer | undefined;
  try {
    await run(theirs.port, [...streamWrites(), ["SAVE"]]);
    ours = await redeno(dir);
    const [info] = await run(ours.port, [["INFO", "persistence"]]);
    assert.match(String(info), new RegExp(`rdb_last_load_keys_loaded:${KEYS}\r\n`));
    assert.equal(await assertSameStreams(ours.port, theirs.port), KEYS);
  } finally {
    await ours?.close();
    await theirs.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** DUMPs every stream of `from` and RESTOREs it under the same name and database on `to`. */
async function copyByDump(from: number, to: number): Promise<void> {
  for (const db of DATABASES) {
    const [, keys] = await run(from, [["SELECT", db], ["KEYS", "*"]]);
    for (const key of keys as string[]) {
      const [, payload] = await run(from, [["SELECT", db], ["DUMP", key]]);
      const [, ok] = await run(to, [["SELECT", db], ["RESTORE", key, "0", payload as string]]);
      assert.equal(text(ok), "OK");
    }
  }
}

test("DUMP on redeno RESTOREs on redis-server, and the reverse, to the same streams", {
  skip,
}, async () => {
  const peers: Peer[] = [];
  try {
    const [ours, theirs, ourCopy, theirCopy] = [
      await redeno(),
      await redis(),
      await redeno(),
      await redis(),
    ];
    peers.push(ours, theirs, ourCopy, theirCopy);
    await run(ours.port, streamWrites());
    await run(theirs.port, streamWrites());
    await copyByDump(ours.port, theirCopy.port);
    await copyByDump(theirs.port, ourCopy.port);
    assert.equal(await assertSameStreams(ours.port, theirCopy.port), KEYS);
    assert.equal(await assertSameStreams(ourCopy.port, theirs.port), KEYS);
  } finally {
    for (const p of peers) await p.close();
  }
});

async function waitFor(cond: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

type Entries = Array<[string, string[]]>;

/** Stream writes on a master with a replica attached; every one must reach the replica as is. */
async function liveWrites(port: number): Promise<void> {
  const io = new Redis({ port, host: HOST });
  const blocked = new Redis({ port, host: HOST });
  try {
    const ids: string[] = [];
    for (let i = 0; i < 400; i++) {
      const maxlen = i % 50 === 49 ? ["MAXLEN", "~", "300"] : [];
      const fields = ["i", String(i), "p", "x".repeat(i % 40)];
      ids.push((await io.call("XADD", "live", ...maxlen, "*", ...fields)) as string);
    }
    await io.xgroup("CREATE", "live", "g", "0");
    await io.xgroup("CREATE", "live", "h", "$");
    const read = async (...args: Array<string | number>) => {
      const loose = io as unknown as { xreadgroup(...a: typeof args): Promise<unknown> };
      const r = (await loose.xreadgroup(...args)) as Array<[string, Entries]> | null;
      return (r?.[0]?.[1] ?? []).map(([entryId]) => entryId);
    };
    const a = await read("GROUP", "g", "a", "COUNT", 50, "STREAMS", "live", ">");
    await read("GROUP", "g", "b", "COUNT", 10, "NOACK", "STREAMS", "live", ">");
    const c = await read("GROUP", "g", "c", "COUNT", 30, "STREAMS", "live", ">");
    assert.equal(a.length + c.length, 80);
    assert.equal(await io.xack("live", "g", ...a.slice(0, 20)), 20);
    await io.xclaim("live", "g", "d", 0, a[30]!, a[31]!, "RETRYCOUNT", 7);
    await io.xclaim("live", "g", "d", 0, a[32]!, "IDLE", 5000, "JUSTID");
    await io.xclaim("live", "g", "e", 0, c[0]!, "TIME", 1_700_000_000_000, "FORCE");
    await io.xautoclaim("live", "g", "f", 0, "0-0", "COUNT", 5);
    await io.xdel("live", c[5]!, ids[399]!);
    // A blocked read served by a later XADD propagates like a plain one.
    const wait = ["GROUP", "h", "waiter", "BLOCK", 5000, "STREAMS", "live", ">"] as const;
    const served = blocked.xreadgroup(...wait);
    await waitFor(
      async () => ((await io.info("clients")).match(/blocked_clients:1/) !== null),
      "the blocked read",
    );
    await io.xadd("live", "*", "late", "1");
    assert.equal(((await served) as Array<[string, Entries]>)[0]![1].length, 1);
    await io.call("XTRIM", "live", "MAXLEN", "~", "150");
    await io.call("XTRIM", "live", "MINID", "~", ids[300]!);
    await io.xgroup("CREATECONSUMER", "live", "g", "newbie");
    await io.xgroup("DELCONSUMER", "live", "g", "b");
    await io.xgroup("SETID", "live", "h", ids[350]!, "ENTRIESREAD", "351");
    // Streams that came with the full sync change too.
    await io.xadd("s:basic", "*", "after", "sync");
    await read("GROUP", "g2", "late", "STREAMS", "s:basic", ">");
    await io.xack("s:basic", "g1", "1-2");
    await io.xtrim("s:big", "MAXLEN", 1000);
  } finally {
    io.disconnect();
    blocked.disconnect();
  }
}

test("a stock redis-server replica of redeno follows stream writes: XINFO STREAM FULL agrees", {
  skip,
}, async () => {
  const master = await redeno();
  let replica: Peer | undefined;
  try {
    await run(master.port, streamWrites());
    replica = await redis(undefined, ["--replicaof", HOST, String(master.port)]);
    const r = new Redis({ port: replica.port, host: HOST });
    try {
      await waitFor(async () => /master_link_status:up/.test(await r.info("replication")), "sync");
    } finally {
      r.disconnect();
    }
    await liveWrites(master.port);
    const [acked] = await run(master.port, [["WAIT", "1", "5000"]]);
    assert.equal(acked, 1);
    assert.equal(await assertSameStreams(master.port, replica.port, true), KEYS + 1);
    // Read counters that came with the full sync or with XGROUP SETID ENTRIESREAD agree.
    for (const key of ["live", "s:big", "s:setid", "s:empty"]) {
      const [mine] = await run(master.port, [["XINFO", "GROUPS", key]]);
      const [theirs] = await run(replica.port, [["XINFO", "GROUPS", key]]);
      const h = (r: Reply) =>
        (r as Reply[]).filter((g) => key !== "live" || field(g, "name") === "h");
      assert.deepEqual(h(mine!), h(theirs!), key);
    }
  } finally {
    await replica?.close();
    await master.close();
  }
});
