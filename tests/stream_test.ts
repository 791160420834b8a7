/**
 * Streams beyond their replies (those are compared with redis-server in
 * stream_compare_test.ts): the structure, blocking reads over real sockets, what every write
 * propagates (and that replaying it rebuilds the same stream and groups), keyspace events,
 * copies and the persistence image.
 *
 * @module
 */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createServer, ManualClock, type SimpleString } from "../mod.ts";
import type { Server, VerbatimReply } from "../mod.ts";
import { CF } from "../core/client.ts";
import { E, MapReply } from "../core/resp/reply.ts";
import { streamFromImage, streamToImage, type StreamValue } from "../core/types/stream.ts";
import { idKey, keyId, parseStreamId, parseU64, U64_MAX } from "../core/types/stream_id.ts";
import { RawConn, startServer } from "./helpers.ts";
import { replyEnd } from "./redis_compare.ts";

/** Runs commands in process and returns the last reply. */
function run(server: Server, ...lines: string[][]): unknown {
  let last: unknown;
  for (const argv of lines) last = server.dispatch(argv);
  return last;
}

/** The effects a server propagates, as they are handed to replicas and the AOF. */
function effectsOf(server: Server): string[][] {
  const seen: string[][] = [];
  server.on("propagate", (_db, argv) => seen.push(argv));
  return seen;
}

/** Reads one whole RESP reply from a raw connection. */
async function reply(c: RawConn, timeoutMs = 3000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const end = replyEnd(c.pending, 0);
    if (end > 0) return c.read(end);
    if (Date.now() > deadline) throw new Error(`No reply, have ${JSON.stringify(c.pending)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Waits until `n` clients are blocked. */
async function blocked(server: Server, n: number): Promise<void> {
  for (let i = 0; i < 400 && server.blocking.count !== n; i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(server.blocking.count, n);
}

test("IDs parse as Redis reads them and order as 16-byte keys across the whole range", () => {
  assert.equal(parseU64("18446744073709551615"), U64_MAX);
  assert.equal(parseU64("18446744073709551616"), undefined);
  assert.equal(parseU64("007"), 7);
  assert.equal(parseU64(" +5"), 5);
  assert.equal(parseU64("-1"), undefined, "a canonical negative is refused");
  assert.equal(parseU64("-01"), U64_MAX, "strtoull wraps what string2ll refused");
  assert.equal(parseU64("5 "), undefined);
  assert.deepEqual(parseStreamId("7", 9, true), { ms: 7, seq: 9, seqGiven: true });
  assert.deepEqual(parseStreamId("7-*", 0, true, true), { ms: 7, seq: 0, seqGiven: false });
  assert.equal(parseStreamId("-", 0, true), undefined);
  assert.deepEqual(parseStreamId("+", 0, false), { ms: U64_MAX, seq: U64_MAX, seqGiven: true });
  assert.deepEqual(parseStreamId("5\x00junk", 0, true), { ms: 5, seq: 0, seqGiven: true });
  const ids = [[0, 1], [1, 0], [4294967296, 2], [9007199254740991, 0], [2n ** 60n, 3], [
    U64_MAX,
    U64_MAX,
  ]] as const;
  const keys = ids.map(([ms, seq]) => idKey(ms, seq));
  assert.deepEqual([...keys].sort(), keys);
  for (let i = 0; i < ids.length; i++) {
    assert.deepEqual(keyId(keys[i]!), { ms: ids[i]![0], seq: ids[i]![1] });
  }
});

test("nodes split at stream-node-max-entries and at Redis's listpack size", () => {
  const server = createServer();
  run(server, ["CONFIG", "SET", "stream-node-max-entries", "10"]);
  for (let i = 1; i <= 35; i++) run(server, ["XADD", "s", `${i}-0`, "f", "v"]);
  const s = server.dbs[0]!.peek("s") as StreamValue;
  assert.deepEqual(s.nodes.map((n) => n.n), [10, 10, 10, 5]);
  run(server, ["CONFIG", "SET", "stream-node-max-bytes", "100"]);
  run(server, ["XADD", "s", "36-0", "f", "x".repeat(90)]);
  assert.equal(s.nodes.length, 5, "a value that would pass max-bytes opens a node");
  assert.equal(run(server, ["XTRIM", "s", "MAXLEN", "~", "20"]), 10, "~ drops whole nodes only");
  assert.equal(s.length, 26);
});

test("XDEL marks entries, keeps the first ID and the greatest deleted ID as Redis does", () => {
  const server = createServer();
  for (let i = 1; i <= 5; i++) run(server, ["XADD", "s", `${i}-0`, "f", String(i)]);
  assert.equal(run(server, ["XDEL", "s", "3-0", "9-9"]), 1);
  const s = server.dbs[0]!.peek("s") as StreamValue;
  assert.deepEqual([s.length, s.firstId, s.maxDeletedId], [4, { ms: 1, seq: 0 }, {
    ms: 3,
    seq: 0,
  }]);
  run(server, ["XDEL", "s", "1-0", "2-0"]);
  assert.deepEqual(s.firstId, { ms: 4, seq: 0 });
  assert.deepEqual(run(server, ["XRANGE", "s", "-", "+"]), [["4-0", ["f", "4"]], ["5-0", [
    "f",
    "5",
  ]]]);
  run(server, ["XDEL", "s", "4-0", "5-0"]);
  assert.deepEqual([s.length, s.nodes.length, s.firstId], [0, 0, { ms: 0, seq: 0 }]);
  assert.equal(run(server, ["EXISTS", "s"]), 1, "an emptied stream stays");
});

test("XADD propagates the generated ID and an approximate trim as its exact result", () => {
  const server = createServer({ clock: new ManualClock(5000) });
  const seen = effectsOf(server);
  run(server, ["CONFIG", "SET", "stream-node-max-entries", "2"]);
  run(server, ["XADD", "s", "*", "f", "v"], ["XADD", "s", "5000-*", "f", "v"]);
  run(server, ["XADD", "s", "6000", "f", "v"], ["XADD", "s", "7000-1", "f", "v"]);
  run(server, ["XADD", "s", "MAXLEN", "~", "1", "LIMIT", "5", "*", "f", "v"]);
  run(server, ["XADD", "s", "MINID", "~", "7000", "8000-*", "g", "w"]);
  run(server, ["XTRIM", "s", "MAXLEN", "=", "1"], ["XTRIM", "s", "MINID", "~", "0"]);
  assert.deepEqual(seen, [
    ["XADD", "s", "5000-0", "f", "v"],
    ["XADD", "s", "5000-1", "f", "v"],
    ["XADD", "s", "6000", "f", "v"],
    ["XADD", "s", "7000-1", "f", "v"],
    ["XADD", "s", "MAXLEN", "=", "1", "LIMIT", "5", "7000-2", "f", "v"],
    // Nothing could go (the node holds 8000-0): the threshold still becomes the first ID.
    ["XADD", "s", "MINID", "=", "7000-2", "8000-0", "g", "w"],
    ["XTRIM", "s", "MAXLEN", "=", "1"],
  ]);
});

test("XREADGROUP propagates an XCLAIM per delivery; NOACK the group's ID and new consumer", () => {
  const server = createServer({ clock: new ManualClock(1000) });
  run(server, ["XADD", "s", "1-0", "a", "1"], ["XADD", "s", "2-0", "b", "2"]);
  run(server, ["XGROUP", "CREATE", "s", "g", "0"]);
  const seen = effectsOf(server);
  run(server, ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"]);
  run(server, ["XADD", "s", "3-0", "c", "3"]);
  run(server, ["XREADGROUP", "GROUP", "g", "bob", "NOACK", "STREAMS", "s", ">"]);
  run(server, ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"]);
  const claim = (id: string, last: string) => [
    "XCLAIM",
    "s",
    "g",
    "alice",
    "0",
    id,
    "TIME",
    "1000",
    "RETRYCOUNT",
    "1",
    "FORCE",
    "JUSTID",
    "LASTID",
    last,
  ];
  assert.deepEqual(seen, [
    ["MULTI"],
    claim("1-0", "1-0"),
    claim("2-0", "2-0"),
    ["EXEC"],
    ["XADD", "s", "3-0", "c", "3"],
    ["MULTI"],
    ["XGROUP", "CREATECONSUMER", "s", "g", "bob"],
    ["XGROUP", "SETID", "s", "g", "3-0", "ENTRIESREAD", "3"],
    ["EXEC"],
  ], "reading history propagates nothing");
});

test("XCLAIM and XAUTOCLAIM propagate ownership; entries gone drop their pending record", () => {
  const server = createServer({ clock: new ManualClock(10_000) });
  for (let i = 1; i <= 4; i++) run(server, ["XADD", "s", `${i}-0`, "f", "v"]);
  run(server, ["XGROUP", "CREATE", "s", "g", "0"]);
  run(server, ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"]);
  run(server, ["XDEL", "s", "2-0"]);
  const seen = effectsOf(server);
  assert.deepEqual(run(server, ["XCLAIM", "s", "g", "bob", "0", "1", "2-0", "JUSTID"]), ["1-0"]);
  assert.deepEqual(seen.map((a) => [a[0], a[3], a[5], a[9]]), [
    ["MULTI", undefined, undefined, undefined],
    ["XCLAIM", "bob", "1", "1"],
    ["XCLAIM", "alice", "2-0", "1"],
    ["EXEC", undefined, undefined, undefined],
  ]);
  seen.length = 0;
  run(server, ["XDEL", "s", "4-0"]);
  seen.length = 0;
  const r = run(server, ["XAUTOCLAIM", "s", "g", "carol", "0", "0-0"]) as unknown[];
  assert.deepEqual(r[0], "0-0");
  assert.deepEqual(r[2], ["4-0"]);
  assert.deepEqual(seen.filter((a) => a[0] === "XCLAIM").map((a) => [a[3], a[5]]), [
    ["carol", "1-0"],
    ["carol", "3-0"],
    ["alice", "4-0"],
  ]);
  seen.length = 0;
  run(server, ["XCLAIM", "s", "g", "dave", "0", "9-9", "LASTID", "50-0"]);
  assert.deepEqual(seen, [["XGROUP", "SETID", "s", "g", "50-0", "ENTRIESREAD", "4"]]);
});

test("replaying what a random workload propagated rebuilds the same stream and groups", () => {
  const clock = new ManualClock(1_000_000);
  const master = createServer({ clock });
  const replica = createServer({ clock });
  const effects = effectsOf(master);
  const feed = replica.session();
  feed.client.flags |= CF.master; // applied as from a master: trimming limits are not enforced
  let seed = 7;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  run(master, ["CONFIG", "SET", "stream-node-max-entries", "4"]);
  run(replica, ["CONFIG", "SET", "stream-node-max-entries", "4"]);
  run(master, ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
  for (let i = 0; i < 800; i++) {
    clock.advance(rand(3));
    const c = ["c1", "c2", "c3"][rand(3)]!;
    const id = `${1_000_000 + rand(800)}-${rand(3)}`;
    const ops = [
      [
        "XADD",
        "s",
        ...(rand(5) === 0 ? ["MAXLEN", "~", String(20 + rand(20))] : []),
        "*",
        "f",
        String(i),
      ],
      ["XREADGROUP", "GROUP", "g", c, "COUNT", String(1 + rand(3)), "STREAMS", "s", ">"],
      ["XREADGROUP", "GROUP", "g", c, "NOACK", "COUNT", "1", "STREAMS", "s", ">"],
      ["XACK", "s", "g", id],
      ["XCLAIM", "s", "g", c, "0", id, "JUSTID"],
      ["XAUTOCLAIM", "s", "g", c, "0", "0", "COUNT", "2"],
      ["XDEL", "s", id],
      ["XTRIM", "s", "MINID", "~", id],
    ];
    run(master, ops[rand(ops.length)]!);
    for (const e of effects.splice(0)) feed.call(...e);
  }
  // Left aside: consumers created on the replica saw it at its own time, and Redis 7.0's
  // XCLAIM ... LASTID moves a group's last ID without its read counter (hence its lag).
  const aside = new Set(["seen-time", "entries-read", "lag"]);
  const full = (s: Server) => {
    const r = s.dispatch(["XINFO", "STREAM", "s", "FULL", "COUNT", "0"]);
    return JSON.stringify(r, (_k, v) => {
      if (!(v instanceof MapReply)) return v;
      const kept: unknown[] = [];
      for (let i = 0; i < v.entries.length; i += 2) {
        if (!aside.has(v.entries[i] as string)) kept.push(v.entries[i], v.entries[i + 1]);
      }
      return kept;
    });
  };
  const want = full(master);
  assert.ok(want.length > 1000 && /"pel-count",[1-9]/.test(want), want.slice(0, 3000));
  assert.equal(full(replica), want);
  assert.deepEqual(
    replica.dispatch(["XPENDING", "s", "g"]),
    master.dispatch(["XPENDING", "s", "g"]),
  );
});

test("keyspace events are the ones t_stream.c fires", () => {
  const server = createServer();
  const events: string[] = [];
  server.on("keyspaceEvent", (_db, _type, event, key) => events.push(`${event}:${key}`));
  run(
    server,
    ["XADD", "s", "MAXLEN", "1", "1-0", "f", "v"],
    ["XADD", "s", "MAXLEN", "1", "2-0", "f", "v"],
    ["XDEL", "s", "2-0", "3-0"],
    ["XGROUP", "CREATE", "s", "g", "0"],
    ["XADD", "s", "4-0", "f", "v"],
    ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"],
    ["XACK", "s", "g", "4-0"],
    ["XGROUP", "SETID", "s", "g", "0"],
    ["XGROUP", "CREATECONSUMER", "s", "g", "d"],
    ["XGROUP", "DELCONSUMER", "s", "g", "d"],
    ["XTRIM", "s", "MAXLEN", "0"],
    ["XSETID", "s", "9-9"],
    ["XGROUP", "DESTROY", "s", "g"],
    ["XGROUP", "CREATE", "t", "g", "$", "MKSTREAM"],
  );
  assert.deepEqual(events, [
    "xadd:s",
    "xadd:s",
    "xtrim:s",
    "xdel:s",
    "xgroup-create:s",
    "xadd:s",
    "xgroup-createconsumer:s",
    "xgroup-setid:s",
    "xgroup-createconsumer:s",
    "xgroup-delconsumer:s",
    "xtrim:s",
    "xsetid:s",
    "xgroup-destroy:s",
    "xgroup-create:t",
  ]);
});

test("COPY and snapshots get a deep copy: the original's entries and groups stay apart", () => {
  const server = createServer();
  run(server, ["XADD", "s", "1-0", "f", "v"], ["XGROUP", "CREATE", "s", "g", "0"]);
  run(server, ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"], ["COPY", "s", "t"]);
  run(server, ["XADD", "t", "2-0", "f", "w"], ["XACK", "t", "g", "1-0"]);
  run(server, ["XGROUP", "CREATECONSUMER", "t", "g", "other"]);
  assert.equal(run(server, ["XLEN", "s"]), 1);
  assert.deepEqual(run(server, ["XPENDING", "s", "g"]), [1, "1-0", "1-0", [["c", "1"]]]);
  assert.equal((run(server, ["XPENDING", "t", "g"]) as unknown[])[0], 0);
  assert.equal(run(server, ["XLEN", "t"]), 2);
  assert.equal((run(server, ["XINFO", "GROUPS", "s"]) as MapReply[])[0]!.entries[3], 1);
});

test("the persistence image round-trips entries, counters, groups and pending entries", () => {
  const server = createServer({ clock: new ManualClock(77_000) });
  for (let i = 1; i <= 250; i++) {
    run(server, [
      "XADD",
      "s",
      `${i}-${i % 3}`,
      ...(i % 4 === 0 ? ["a", "1", "b", "2"] : ["f", String(i)]),
    ]);
  }
  run(server, ["XDEL", "s", "7-1", "250-1"], ["XGROUP", "CREATE", "s", "g", "0"]);
  run(server, ["XREADGROUP", "GROUP", "g", "c1", "COUNT", "5", "STREAMS", "s", ">"]);
  run(server, ["XGROUP", "CREATECONSUMER", "s", "g", "idle"], ["XGROUP", "CREATE", "s", "h", "$"]);
  const s = server.dbs[0]!.peek("s") as StreamValue;
  const image = streamToImage(s);
  assert.equal([...image.entries].length, 248);
  assert.equal(image.entriesAdded, 250n);
  assert.deepEqual(image.maxDeletedId, { ms: 250n, seq: 1n });
  const back = streamFromImage(image);
  server.dbs[0]!.set("copy", back);
  const strip = (r: unknown) => JSON.stringify(r).replace(/radix-tree-nodes",\d+/, "");
  assert.equal(
    strip(run(server, ["XINFO", "STREAM", "copy", "FULL", "COUNT", "0"])),
    strip(run(server, ["XINFO", "STREAM", "s", "FULL", "COUNT", "0"])),
  );
});

test("blocked XREAD is served by XADD on its key only, in the order clients blocked", async () => {
  const { server, port, close } = await startServer();
  const a = await RawConn.connect(port);
  const b = await RawConn.connect(port);
  const w = await RawConn.connect(port);
  try {
    w.command("XADD", "s", "1-0", "old", "x");
    await reply(w);
    a.command("XREAD", "BLOCK", "0", "COUNT", "1", "STREAMS", "other", "s", "$", "$");
    await blocked(server, 1);
    b.command("XREAD", "BLOCK", "0", "STREAMS", "s", "0-0");
    assert.equal(
      await reply(b),
      "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$3\r\nold\r\n$1\r\nx\r\n",
      "served at once: there is an entry after 0-0",
    );
    w.command("XDEL", "s", "1-0");
    await reply(w);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(a.pending, "", "an XDEL wakes nobody");
    w.command("MULTI");
    w.command("XADD", "s", "2-0", "f", "1");
    w.command("XADD", "s", "3-0", "f", "2");
    w.command("EXEC");
    for (let i = 0; i < 4; i++) await reply(w);
    assert.equal(
      await reply(a),
      "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\n1\r\n",
    );
    b.command("XREAD", "BLOCK", "40", "STREAMS", "s", "$");
    assert.equal(await reply(b), "*-1\r\n", "the timeout answers a null array");
  } finally {
    a.close();
    b.close();
    w.close();
    await close();
  }
});

const NOGROUP =
  "-NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option\r\n";

test("blocked XREADGROUP: served with pending entries, failed when its key or group goes", async () => {
  const { server, port, close } = await startServer();
  const r = await RawConn.connect(port);
  const w = await RawConn.connect(port);
  try {
    w.command("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
    await reply(w);
    r.command("HELLO", "3");
    await reply(r);
    r.command("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">");
    await blocked(server, 1);
    w.command("XADD", "s", "5-0", "k", "v");
    await reply(w);
    assert.equal(
      await reply(r),
      "%1\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\nk\r\n$1\r\nv\r\n",
    );
    w.command("XPENDING", "s", "g");
    assert.match(await reply(w), /^\*4\r\n:1\r\n/);
    for (
      // Redis 7.2 runs the woken call again: the errors of a new call (7.0: UNBLOCKED ...).
      const [cmd, error] of [
        [["XGROUP", "DESTROY", "s", "g"], NOGROUP],
        [["DEL", "s"], NOGROUP],
        [["SET", "s", "x"], `-${E.wrongType}\r\n`],
        [["FLUSHALL"], NOGROUP],
      ] as const
    ) {
      w.command("DEL", "s");
      w.command("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
      await reply(w);
      await reply(w);
      r.command("XREADGROUP", "GROUP", "g", "bob", "BLOCK", "0", "STREAMS", "s", ">");
      await blocked(server, 1);
      w.command(...cmd);
      await reply(w);
      assert.equal(await reply(r), error, cmd.join(" "));
    }
    w.command("INFO", "errorstats");
    assert.match(await reply(w), /errorstat_NOGROUP:count=3\r\nerrorstat_WRONGTYPE:count=1\r\n/);
  } finally {
    r.close();
    w.close();
    await close();
  }
});

test("BLOCK does not block inside MULTI or scripts (null reply, as Redis 7.4)", async () => {
  const { server, port, close } = await startServer();
  const c = await RawConn.connect(port);
  try {
    for (const cmd of [["MULTI"], ["XREAD", "BLOCK", "0", "STREAMS", "s", "$"], ["EXEC"]]) {
      c.command(...cmd);
    }
    assert.equal(await reply(c), "+OK\r\n");
    assert.equal(await reply(c), "+QUEUED\r\n");
    assert.equal(await reply(c), "*1\r\n*-1\r\n");
    assert.equal(server.blocking.count, 0);
    // Redis 7.2: a script's BLOCK reads once (tests/script_blocking_test.ts has the rest).
    c.command("EVAL", "return redis.call('xread','BLOCK','0','STREAMS','s','$')", "0");
    assert.equal(await reply(c), "$-1\r\n");
    assert.equal(server.blocking.count, 0);
  } finally {
    c.close();
    await close();
  }
});

test("an AOF replays stream writes to the same state, approximate trims and groups included", async () => {
  const dir = mkdtempSync(join(tmpdir(), "redeno-stream-aof-"));
  const open = (entries: number) => {
    const server = createServer({
      config: { appendonly: "yes", dir, "stream-node-max-entries": entries },
    });
    server.loadData();
    return server;
  };
  try {
    const a = open(10);
    for (let i = 0; i < 100; i++) run(a, ["XADD", "s", "*", "f", "v"]);
    run(a, ["XADD", "s", "MAXLEN", "~", "55", "LIMIT", "30", "*", "f", "v"]);
    run(a, ["XTRIM", "s", "MINID", "~", "0"], ["XGROUP", "CREATE", "s", "g", "0"]);
    run(a, ["XREADGROUP", "GROUP", "g", "alice", "NOACK", "COUNT", "3", "STREAMS", "s", ">"]);
    run(a, ["XREADGROUP", "GROUP", "g", "bob", "COUNT", "2", "STREAMS", "s", ">"]);
    const want = [run(a, ["XLEN", "s"]), run(a, ["XPENDING", "s", "g"])];
    const groups = (server: Server) => (run(server, ["XINFO", "GROUPS", "s"]) as MapReply[])[0]!;
    assert.equal(want[0], 71);
    const before = groups(a).entries;
    assert.deepEqual(before.slice(8), ["entries-read", 35, "lag", 66]);
    await a.close();
    // Node sizes differ after the restart: the exact thresholds in the file must not care.
    const b = open(1);
    assert.deepEqual([run(b, ["XLEN", "s"]), run(b, ["XPENDING", "s", "g"])], want);
    // As with Redis 7.0.15 (checked with DEBUG LOADAOF): the XCLAIM ... LASTID of a read moves
    // the last ID, not the read counter, so only the NOACK read's XGROUP SETID counts.
    assert.deepEqual(groups(b).entries.slice(0, 8), before.slice(0, 8));
    assert.deepEqual(groups(b).entries.slice(8), ["entries-read", 33, "lag", 68]);
    await b.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("BGREWRITEAOF writes streams back as commands that rebuild them, groups and PEL included", async () => {
  const dir = mkdtempSync(join(tmpdir(), "redeno-stream-aofrw-"));
  const open = () => {
    const server = createServer({ config: { appendonly: "yes", dir } });
    server.loadData();
    return server;
  };
  // Everything XINFO STREAM FULL shows except times that move on their own.
  const full = (server: Server) =>
    JSON.stringify(run(server, ["XINFO", "STREAM", "s", "FULL"]), (_k, v) => {
      if (v instanceof MapReply) {
        const e = [...v.entries];
        for (const name of ["seen-time", "active-time"]) {
          const at = e.indexOf(name);
          if (at >= 0) e[at + 1] = 0;
        }
        return e;
      }
      // The delivery time of a pending entry ([id, consumer, time, count]).
      if (Array.isArray(v) && v.length === 4 && typeof v[2] === "number") return [v[0], v[1], v[3]];
      return v;
    });
  try {
    const a = open();
    for (let i = 0; i < 250; i++) run(a, ["XADD", "s", `${i + 1}-0`, "f", `v${i}`, "n", String(i)]);
    run(a, ["XADD", "s", "300-0", "other", "field"], ["XDEL", "s", "5-0", "6-0"]);
    run(a, ["XGROUP", "CREATE", "s", "g1", "0"], ["XGROUP", "CREATE", "s", "g2", "$"]);
    run(a, ["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "10", "STREAMS", "s", ">"]);
    run(a, ["XREADGROUP", "GROUP", "g1", "bob", "COUNT", "5", "STREAMS", "s", ">"]);
    run(a, ["XACK", "s", "g1", "1-0", "2-0"], ["XGROUP", "CREATECONSUMER", "s", "g2", "carol"]);
    run(a, ["XADD", "empty", "1-1", "f", "v"], ["XDEL", "empty", "1-1"]);
    const want = full(a);
    const emptyInfo = JSON.stringify(run(a, ["XINFO", "STREAM", "empty"]));
    assert.equal(
      (run(a, ["BGREWRITEAOF"]) as SimpleString).value,
      "Background append only file rewriting started",
    );
    const inProgress = () =>
      /aof_rewrite_in_progress:1/.test((run(a, ["INFO", "persistence"]) as VerbatimReply).text);
    const deadline = Date.now() + 10000;
    while (inProgress()) {
      assert.ok(Date.now() < deadline, "the rewrite ends");
      await new Promise((r) => setTimeout(r, 10));
    }
    await a.close();
    const b = open();
    assert.equal(full(b), want);
    assert.equal(JSON.stringify(run(b, ["XINFO", "STREAM", "empty"])), emptyInfo);
    await b.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("full nodes pack their values; a packed node that becomes the tail again takes appends", () => {
  const server = createServer({});
  run(
    server,
    ["CONFIG", "SET", "stream-node-max-entries", "2"],
    ["XADD", "s", "1-1", "f", "a", "g", "bb"],
    ["XADD", "s", "1-2", "f", "ccc", "other", ""],
    ["XADD", "s", "1-3", "f", "d", "g", "e"],
  );
  // The first node is full (packed); deleting the only entry of the second removes that node.
  assert.equal(run(server, ["XDEL", "s", "1-3"]), 1);
  run(
    server,
    ["CONFIG", "SET", "stream-node-max-entries", "10"],
    ["XADD", "s", "1-4", "f", "x", "g", "y"],
  );
  assert.deepEqual(run(server, ["XRANGE", "s", "-", "+"]), [
    ["1-1", ["f", "a", "g", "bb"]],
    ["1-2", ["f", "ccc", "other", ""]],
    ["1-4", ["f", "x", "g", "y"]],
  ]);
  assert.deepEqual(run(server, ["XREVRANGE", "s", "+", "-", "COUNT", "2"]), [
    ["1-4", ["f", "x", "g", "y"]],
    ["1-2", ["f", "ccc", "other", ""]],
  ]);
  const info = (run(server, ["XINFO", "STREAM", "s"]) as MapReply).entries;
  assert.equal(info[info.indexOf("radix-tree-keys") + 1], 1);
  assert.equal(info[info.indexOf("length") + 1], 3);
});
