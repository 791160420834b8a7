/**
 * Stream consumers' two times, as Redis 7.2 keeps them: `seen-time` (XINFO CONSUMERS `idle`) is
 * the last attempt to read or claim, `active-time` (`inactive`, -1 until the first) the last
 * read or claim that got something; XREADGROUP and XCLAIM create their consumer even when they
 * get nothing. A server reporting 7.0.15 answers as Redis 7.0 (one time, consumers created only
 * when served). Times under a manual clock; the shape beside the 7.4.1 reference.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, ManualClock, type Server } from "../mod.ts";
import { RawConn } from "./helpers.ts";
import { pipeline } from "./redis_compare.ts";
import { transcriptTests } from "./reference_redis.ts";

/** A reply as plain values: maps as their flat name/value lists (RESP2's shape). */
function plain(r: unknown): unknown {
  if (Array.isArray(r)) return r.map(plain);
  if (r !== null && typeof r === "object" && "entries" in r) {
    return (r.entries as unknown[]).map(plain);
  }
  return r;
}

function run(server: Server, ...lines: string[][]): unknown {
  let last: unknown;
  for (const argv of lines) last = server.dispatch(argv);
  return plain(last);
}

/** XINFO CONSUMERS as plain arrays (RESP2's flat name/value lists). */
const consumers = (server: Server) => run(server, ["XINFO", "CONSUMERS", "s", "g"]);

test("seen-time and active-time of a consumer, as Redis 7.2", () => {
  const clock = new ManualClock(1_000_000);
  const server = createServer({ clock });
  run(server, ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
  run(server, ["XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", ">"]);
  clock.advance(100);
  assert.deepEqual(consumers(server), [
    ["name", "alice", "pending", 0, "idle", 100, "inactive", -1],
  ]);
  run(server, ["XADD", "s", "1-1", "f", "v"]);
  run(server, ["XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", ">"]);
  clock.advance(40);
  // Nothing new: seen, not active.
  run(server, ["XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", ">"]);
  clock.advance(10);
  assert.deepEqual(consumers(server), [
    ["name", "alice", "pending", 1, "idle", 10, "inactive", 50],
  ]);
  // A claim of nothing creates its consumer; one that claims makes it active.
  run(server, ["XCLAIM", "s", "g", "bob", "0", "9-9"]);
  clock.advance(5);
  run(server, ["XAUTOCLAIM", "s", "g", "carol", "0", "0"]);
  clock.advance(5);
  assert.deepEqual(consumers(server), [
    ["name", "alice", "pending", 0, "idle", 20, "inactive", 60],
    ["name", "bob", "pending", 0, "idle", 10, "inactive", -1],
    ["name", "carol", "pending", 1, "idle", 5, "inactive", 5],
  ]);
  const full = run(server, ["XINFO", "STREAM", "s", "FULL"]) as unknown[];
  const groups = full[full.indexOf("groups") + 1] as unknown[][];
  const list = groups[0]![groups[0]!.indexOf("consumers") + 1] as unknown[][];
  assert.deepEqual(list.map((c) => c.slice(0, 6)), [
    ["name", "alice", "seen-time", 1_000_140, "active-time", 1_000_100],
    ["name", "bob", "seen-time", 1_000_150, "active-time", -1],
    ["name", "carol", "seen-time", 1_000_155, "active-time", 1_000_155],
  ]);
});

test("a server reporting 7.0.15 keeps one time and creates consumers only when served", () => {
  const clock = new ManualClock(1_000_000);
  const server = createServer({ clock, config: { "reported-redis-version": "7.0.15" } });
  run(server, ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
  run(server, ["XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", ">"]);
  run(server, ["XCLAIM", "s", "g", "bob", "0", "9-9"]);
  assert.deepEqual(consumers(server), []);
  run(server, ["XADD", "s", "1-1", "f", "v"]);
  run(server, ["XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", ">"]);
  clock.advance(30);
  assert.deepEqual(consumers(server), [["name", "alice", "pending", 1, "idle", 30]]);
  const full = run(server, ["XINFO", "STREAM", "s", "FULL"]) as unknown[];
  const groups = full[full.indexOf("groups") + 1] as unknown[][];
  const list = groups[0]![groups[0]!.indexOf("consumers") + 1] as unknown[][];
  assert.deepEqual(list[0]!.slice(0, 6), [
    "name",
    "alice",
    "seen-time",
    1_000_000,
    "pel-count",
    1,
  ]);
});

/**
 * What a server answers that does not depend on time: the consumers an empty XREADGROUP and an
 * empty XCLAIM leave, with `inactive` -1 (the rest of each reply with its numbers blanked).
 */
async function shape(port: number): Promise<string[]> {
  const c = await RawConn.connect(port);
  try {
    const got = await pipeline(c, [
      ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"],
      ["XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", ">"],
      ["XCLAIM", "s", "g", "bob", "0", "9-9"],
      ["XINFO", "CONSUMERS", "s", "g"],
      ["XINFO", "STREAM", "s", "FULL"],
    ]);
    // Times and idle durations vary from run to run: only their place is compared.
    return got.map((r) => r.replace(/(idle|seen-time)\r\n:\d+\r\n/g, "$1\r\n:T\r\n"));
  } finally {
    c.close();
  }
}

transcriptTests("XREADGROUP and XCLAIM leave their consumers, never active (7.2)", shape, [
  "+OK\r\n",
  "*-1\r\n",
  "*0\r\n",
  "*2\r\n" +
  "*8\r\n$4\r\nname\r\n$5\r\nalice\r\n$7\r\npending\r\n:0\r\n$4\r\nidle\r\n:T\r\n" +
  "$8\r\ninactive\r\n:-1\r\n" +
  "*8\r\n$4\r\nname\r\n$3\r\nbob\r\n$7\r\npending\r\n:0\r\n$4\r\nidle\r\n:T\r\n" +
  "$8\r\ninactive\r\n:-1\r\n",
  "*18\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n" +
  "$17\r\nlast-generated-id\r\n$3\r\n0-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n" +
  "$13\r\nentries-added\r\n:0\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n" +
  "$7\r\nentries\r\n*0\r\n$6\r\ngroups\r\n*1\r\n*14\r\n$4\r\nname\r\n$1\r\ng\r\n" +
  "$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n" +
  "$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n$9\r\nconsumers\r\n*2\r\n" +
  ["alice", "bob"].map((n) =>
    `*10\r\n$4\r\nname\r\n$${n.length}\r\n${n}\r\n$9\r\nseen-time\r\n:T\r\n` +
    "$11\r\nactive-time\r\n:-1\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n"
  ).join(""),
]);
