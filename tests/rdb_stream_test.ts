/**
 * Streams in RDB and AOF form against a real redis-server 7.0: streams built there are DUMPed,
 * decoded with readStream, re-encoded with writeStream and RESTOREd, and must show the same
 * XINFO STREAM FULL and XRANGE (and the same bytes when Redis's own layout is reproducible: a
 * stream built by XADD alone); the AOF rewrite commands replayed there must rebuild the same
 * stream. Each image also goes through a StreamValue (streamFromImage, streamToImage) and must
 * come back the same. Corrupt payloads must be refused by both. Skipped when `redis-server` is
 * missing.
 */
import { test } from "node:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import assert from "node:assert/strict";
import { sealPayload } from "../core/rdb/payload.ts";
import { ListpackBuilder } from "../core/rdb/listpack.ts";
import { readStream, STREAM_RDB_TYPE, writeStream } from "../core/rdb/stream.ts";
import { RdbFormatError, RdbReader, RdbWriter } from "../core/rdb/strings.ts";
import { streamCommands } from "../core/persistence/aof_stream.ts";
import { streamFromImage, streamToImage } from "../core/types/stream.ts";
import type { StreamImage } from "../core/types/stream_image.ts";
import { RawConn } from "./helpers.ts";
import { pipeline, prng, startRedis } from "./redis_compare.ts";
import { missing } from "./redis_tools.ts";

const skip = missing("redis-server");

/** A Redis connection with its server. */
interface Redis {
  c: RawConn;
  stop(): void;
}

async function redis(config: string[] = []): Promise<Redis> {
  const r = await startRedis([
    ...["--sanitize-dump-payload", "yes", "--appendonly", "yes", "--aof-use-rdb-preamble", "no"],
    ...config,
  ]);
  const c = await RawConn.connect(r.port);
  return { c, stop: () => (c.close(), r.stop()) };
}

/** Runs commands, asserting none failed; returns the raw replies. */
async function run(r: Redis, cmds: string[][]): Promise<string[]> {
  const replies = await pipeline(r.c, cmds);
  replies.forEach((x, i) => assert.ok(!x.startsWith("-"), `${cmds[i]!.join(" ")}: ${x}`));
  return replies;
}

function bulk(raw: string): string {
  const eol = raw.indexOf("\r\n");
  return raw.slice(eol + 2, eol + 2 + Number(raw.slice(1, eol)));
}

const bytes = (s: string) => new Uint8Array(Buffer.from(s, "latin1"));
const text = (b: Uint8Array) => Buffer.from(b).toString("latin1");

/** Decodes a DUMP payload's stream, checking that it takes the whole body. */
function decode(payload: Uint8Array): StreamImage {
  const r = new RdbReader(payload, payload.length - 10);
  const image = readStream(r, r.byte());
  assert.equal(r.pos, r.end, "bytes left after the stream");
  return image;
}

interface Shape {
  compress: boolean;
  nodeMaxEntries: number;
  nodeMaxBytes: number;
}

function encode(image: StreamImage, shape: Shape): Uint8Array {
  const w = new RdbWriter();
  w.byte(STREAM_RDB_TYPE.v2);
  writeStream(w, image, shape);
  return sealPayload(w);
}

/** XINFO STREAM FULL (RESP2 bytes), with consumer seen-times and node counts masked if asked. */
async function info(r: Redis, key: string, mask: { seen?: boolean; nodes?: boolean } = {}) {
  const [full, range] = await run(r, [["XINFO", "STREAM", key, "FULL"], ["XRANGE", key, "-", "+"]]);
  let s = full! + range!;
  if (mask.seen) s = s.replace(/(\$9\r\nseen-time\r\n):\d+/g, "$1:T");
  if (mask.nodes) s = s.replace(/(\$1[56]\r\nradix-tree-(?:keys|nodes)\r\n):\d+/g, "$1:N");
  return s;
}

/** The commands of Redis's own AOF rewrite (BGREWRITEAOF, no RDB preamble), by key. */
async function rewrite(r: Redis): Promise<Map<string, string[][]>> {
  // Redis writes a first base at startup: wait for any rewrite in progress.
  const idle = async () => {
    for (;;) {
      const [raw] = await run(r, [["INFO", "persistence"]]);
      if (/aof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0/.test(raw!)) return;
      await new Promise((done) => setTimeout(done, 10));
    }
  };
  await idle();
  await run(r, [["BGREWRITEAOF"]]);
  await idle();
  const [dir] = await run(r, [["CONFIG", "GET", "dir"]]);
  const path = join(dir!.split("\r\n")[4]!, "appendonlydir"); // *2 $3 dir $n <dir>
  const manifest = readFileSync(join(path, "appendonly.aof.manifest"), "latin1");
  const base = /^file (\S+) seq \d+ type b$/m.exec(manifest)![1]!;
  const aof = readFileSync(join(path, base), "latin1");
  const byKey = new Map<string, string[][]>();
  let p = 0;
  /** The next line's text after its type character. */
  const line = () => {
    const eol = aof.indexOf("\r\n", p);
    const head = aof.slice(p + 1, eol);
    p = eol + 2;
    return head;
  };
  while (p < aof.length) {
    const argv: string[] = [];
    for (let n = Number(line()); n > 0; n--) {
      const len = Number(line());
      argv.push(aof.slice(p, p + len));
      p += len + 2;
    }
    const key = argv[0] === "XGROUP" ? argv[2]! : argv[1]!;
    if (!byKey.has(key)) byKey.set(key, []);
    byKey.get(key)!.push(argv);
  }
  return byKey;
}

/**
 * DUMPs `key` from Redis, decodes it, re-encodes it and RESTOREs it, and compares the copy with
 * the original (`same`: the re-encoding must be byte-identical); compares the AOF commands with
 * Redis's own rewrite and replays them. XCLAIM FORCE does not recreate a pending entry whose
 * entry was deleted, so Redis's AOF loses those: the replay is compared only without them.
 */
async function check(r: Redis, key: string, shape: Shape, same: boolean): Promise<StreamImage> {
  const [dump] = await run(r, [["DUMP", key]]);
  const payload = bytes(bulk(dump!));
  const image = decode(payload);
  const ours = encode(image, shape);
  if (same) assert.equal(text(ours), text(payload), `${key}: payload differs from Redis's`);
  const limits = { maxEntries: shape.nodeMaxEntries, maxBytes: shape.nodeMaxBytes };
  const value = streamFromImage(image, limits);
  assert.equal(text(encode(streamToImage(value), shape)), text(ours), `${key}: via StreamValue`);
  await run(r, [["DEL", `${key}:copy`, `${key}:aof`], ["RESTORE", `${key}:copy`, "0", text(ours)]]);
  const want = await info(r, key, { nodes: !same });
  assert.equal(await info(r, `${key}:copy`, { nodes: !same }), want, `${key}: RESTOREd copy`);
  assert.deepEqual([...streamCommands(key, image)], (await rewrite(r)).get(key), `${key}: AOF`);
  const ids = new Set([...image.entries].map((e) => `${e.id.ms}-${e.id.seq}`));
  if (image.groups.some((g) => g.pending.some((p) => !ids.has(`${p.id.ms}-${p.id.seq}`)))) {
    return image;
  }
  await run(r, [...streamCommands(`${key}:aof`, image)]);
  assert.equal(
    await info(r, `${key}:aof`, { seen: true, nodes: !same }),
    await info(r, key, { seen: true, nodes: !same }),
    `${key}: AOF rebuild`,
  );
  return image;
}

const DEFAULT: Shape = { compress: true, nodeMaxEntries: 100, nodeMaxBytes: 4096 };

/** Sets the node shape and compression on Redis too. */
async function shape(r: Redis, s: Shape): Promise<void> {
  await run(r, [
    ["CONFIG", "SET", "stream-node-max-entries", String(s.nodeMaxEntries)],
    ["CONFIG", "SET", "stream-node-max-bytes", String(s.nodeMaxBytes)],
    ["CONFIG", "SET", "rdbcompression", s.compress ? "yes" : "no"],
  ]);
}

const xadd = (key: string, id: string, ...fv: string[]) => ["XADD", key, id, ...fv];

test("XADD-built streams re-encode byte for byte as Redis", { skip }, async () => {
  const r = await redis();
  try {
    const big = "x".repeat(5000);
    const cmds = [
      ...Array.from({ length: 250 }, (_, i) => xadd("flat", "*", "temp", String(i), "unit", "c")),
      xadd("mixed", "1-1", "a", "1", "b", "2"),
      xadd("mixed", "1-2", "a", "-5", "b", "12345678901234567890"),
      xadd("mixed", "2-0", "b", "007", "a", ""),
      xadd("mixed", "3-0", "123", "-9223372036854775808", "9223372036854775807", "x"),
      xadd("mixed", "4-0", "bin\x00\xff", "\r\n", "long", "y".repeat(100)),
      xadd("mixed", "5-0", "a", big, "b", "z".repeat(70) + "abc".repeat(300)),
      xadd("mixed", "6-0", "a", "1", "b", "2"),
      xadd("ids", "1-1", "f", "v"),
      xadd("ids", "5-10", "f", "v"),
      xadd("ids", "6-0", "f", "v"),
      xadd("ids", "9223372036854775808-0", "f", "v"),
      xadd("ids", "18446744073709551615-1", "f", "v"),
      xadd("ids", "18446744073709551615-18446744073709551615", "f", "v"),
    ];
    for (const compress of [true, false]) {
      await run(r, [["FLUSHALL"]]);
      await shape(r, { ...DEFAULT, compress });
      await run(r, cmds);
      for (const key of ["flat", "mixed", "ids"]) {
        await check(r, key, { ...DEFAULT, compress }, true);
      }
    }
    const ids = decode(bytes(bulk((await run(r, [["DUMP", "ids"]]))[0]!)));
    assert.deepEqual([...ids.entries].map((e) => `${e.id.ms}-${e.id.seq}`), [
      "1-1",
      "5-10",
      "6-0",
      "9223372036854775808-0",
      "18446744073709551615-1",
      "18446744073709551615-18446744073709551615",
    ]);
  } finally {
    r.stop();
  }
});

test("random XADD streams split into nodes as Redis splits them", { skip }, async () => {
  const r = await redis();
  const rnd = prng(7);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  try {
    for (let round = 0; round < 24; round++) {
      const s: Shape = {
        compress: rnd() < 0.5,
        nodeMaxEntries: pick([0, 1, 2, 5, 100, 200]),
        nodeMaxBytes: pick([0, 1, 60, 200, 1000, 4096]),
      };
      await run(r, [["FLUSHALL"]]);
      await shape(r, s);
      const cmds: string[][] = [];
      const n = 1 + Math.floor(rnd() * 400);
      let ms = 1n;
      for (let i = 0; i < n; i++) {
        const fv: string[] = [];
        const fields = pick([["a"], ["a", "b"], ["b", "a"], ["1", "x"]]);
        for (const f of fields) {
          fv.push(f, pick(["", "1", "-1", "300", "70000", "v".repeat(Math.floor(rnd() * 90))]));
        }
        const step = pick([0n, 0n, 1n, 7n, 1n << 40n]);
        ms += step;
        const seq = step !== 0n && rnd() < 0.5 ? String(Math.floor(rnd() * 1e6)) : "*";
        cmds.push(xadd("s", `${ms}-${seq}`, ...fv));
      }
      await run(r, cmds);
      const image = await check(r, "s", s, true);
      assert.equal(image.length, n);
    }
  } finally {
    r.stop();
  }
});

test("the node size counts the live count as Redis encodes it (1 byte to 127, then 2)", {
  skip,
}, async () => {
  const r = await redis();
  try {
    // 128 entries of 10-11 bytes fill about 1300 bytes: every limit near there is tried once.
    for (let max = 1280; max <= 1330; max++) {
      const s: Shape = { compress: false, nodeMaxEntries: 0, nodeMaxBytes: max };
      await shape(r, s);
      await run(r, Array.from({ length: 300 }, (_, i) => xadd(`s${max}`, `${i + 1}-0`, "a", "1")));
      const [dump] = await run(r, [["DUMP", `s${max}`]]);
      const payload = bytes(bulk(dump!));
      assert.equal(text(encode(decode(payload), s)), text(payload), `limit ${max}`);
    }
  } finally {
    r.stop();
  }
});

test("deletes, trims and consumer groups survive RDB and AOF", { skip }, async () => {
  const r = await redis();
  try {
    const s: Shape = { compress: true, nodeMaxEntries: 4, nodeMaxBytes: 4096 };
    await shape(r, s);
    const cmds: string[][] = [];
    for (let i = 1; i <= 30; i++) cmds.push(xadd("s", `${i}-0`, "f", String(i), "g", `v${i}`));
    cmds.push(
      ["XDEL", "s", "2-0", "3-0", "9-0", "30-0"],
      ["XTRIM", "s", "MAXLEN", "25"],
      ["XGROUP", "CREATE", "s", "g1", "0"],
      ["XGROUP", "CREATE", "s", "123", "$"],
      ["XGROUP", "CREATE", "s", "a-group-name-that-is-long-long-long-long", "7-0"],
      ["XGROUP", "CREATE", "s", "lagging", "0", "ENTRIESREAD", "3"],
      ["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "5", "STREAMS", "s", ">"],
      ["XREADGROUP", "GROUP", "g1", "bob", "COUNT", "3", "STREAMS", "s", ">"],
      ["XREADGROUP", "GROUP", "g1", "alice", "STREAMS", "s", "0"],
      ["XCLAIM", "s", "g1", "carol", "0", "11-0", "RETRYCOUNT", "9", "TIME", "1700000000000"],
      ["XACK", "s", "g1", "12-0"],
      ["XREADGROUP", "GROUP", "a-group-name-that-is-long-long-long-long", "7", "STREAMS", "s", ">"],
      ["XGROUP", "CREATECONSUMER", "s", "g1", "dave"],
      ["XGROUP", "CREATECONSUMER", "s", "123", "nobody"],
    );
    await run(r, cmds);
    const image = await check(r, "s", s, false);
    assert.equal(image.length, 25);
    assert.deepEqual(image.groups.map((g) => g.name), [
      "123",
      "a-group-name-that-is-long-long-long-long",
      "g1",
      "lagging",
    ]);
    assert.equal(image.groups[1]!.pending.length, 21); // 8-0 and 10-0 to 29-0
    const g1 = image.groups[2]!;
    assert.deepEqual(g1.consumers.map((c) => c.name), ["alice", "bob", "carol", "dave"]);
    const pel = g1.pending.map((p) => `${p.id.ms}:${p.consumer}:${p.deliveryCount}`);
    assert.deepEqual(pel, [
      "4:alice:2",
      "5:alice:2",
      "6:alice:2",
      "7:alice:2",
      "8:alice:2",
      "10:bob:1",
      "11:carol:9",
    ]);
    assert.equal(g1.pending[6]!.deliveryTime, 1700000000000);
    assert.equal(image.groups[3]!.entriesRead, 3n);
    // Pending entries whose entries are gone.
    await run(r, [["XDEL", "s", "5-0", "10-0"]]);
    assert.equal((await check(r, "s", s, false)).length, 23);
  } finally {
    r.stop();
  }
});

test("empty streams, with and without groups, survive RDB and AOF", { skip }, async () => {
  const r = await redis();
  try {
    await run(r, [
      ["XGROUP", "CREATE", "made", "g", "$", "MKSTREAM"],
      ["XGROUP", "CREATECONSUMER", "made", "g", "c"],
      xadd("emptied", "5-5", "f", "v"),
      xadd("emptied", "7-0", "f", "v"),
      ["XGROUP", "CREATE", "emptied", "g", "0"],
      ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "emptied", ">"],
      ["XDEL", "emptied", "5-5", "7-0"],
      xadd("trimmed", "1-0", "f", "v"),
      ["XADD", "trimmed", "MAXLEN", "0", "2-0", "f", "v"],
    ]);
    for (const key of ["made", "emptied", "trimmed"]) {
      const image = await check(r, key, DEFAULT, true);
      assert.equal(image.length, 0);
      assert.deepEqual([...image.entries], []);
    }
    const emptied = decode(bytes(bulk((await run(r, [["DUMP", "emptied"]]))[0]!)));
    assert.deepEqual(emptied.maxDeletedId, { ms: 7n, seq: 0n });
    assert.equal(emptied.groups[0]!.pending.length, 2);
  } finally {
    r.stop();
  }
});

test("AOF commands of a stream are Redis's rewriteStreamObject ones", () => {
  const id = (ms: bigint, seq = 0n) => ({ ms, seq });
  const image: StreamImage = {
    entries: [],
    length: 0,
    lastId: id(9n, 1n),
    firstId: id(0n),
    maxDeletedId: id(9n, 1n),
    entriesAdded: 3n,
    groups: [{
      name: "g",
      lastId: id(9n, 1n),
      entriesRead: -1n,
      pending: [{ id: id(4n), deliveryTime: 1234, deliveryCount: 2, consumer: "b" }],
      consumers: [{ name: "a", seenTime: 1 }, { name: "b", seenTime: 2 }],
    }],
  };
  assert.deepEqual([...streamCommands("k", image)], [
    ["XADD", "k", "MAXLEN", "0", "0-1", "x", "y"],
    ["XSETID", "k", "9-1", "ENTRIESADDED", "3", "MAXDELETEDID", "9-1"],
    ["XGROUP", "CREATE", "k", "g", "9-1", "ENTRIESREAD", "-1"],
    ["XGROUP", "CREATECONSUMER", "k", "g", "a"],
    ["XCLAIM", "k", "g", "b", "0", "4-0", "TIME", "1234", "RETRYCOUNT", "2", "JUSTID", "FORCE"],
  ]);
});

/** A node listpack from its elements. */
function node(...elements: (string | number)[]): Uint8Array {
  const b = new ListpackBuilder();
  for (const e of elements) b.append(String(e));
  return b.finish();
}

/** A raw 16-byte ID. */
function raw(ms: number, seq = 0): Uint8Array {
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, BigInt(ms));
  v.setBigUint64(8, BigInt(seq));
  return out;
}

/** A time in 8 little-endian bytes. */
function ms(t: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt(t), true);
  return out;
}

/** Three entries 1-0, 2-0, 3-0 (field f, values a b c) in one node keyed 1-0. */
const NODE_ELEMENTS = [3, 0, 1, "f", 0, 2, 0, 0, "a", 4, 2, 1, 0, "b", 4, 0, 2, 0, 1, "f", "c", 6];
const NODE = node(...NODE_ELEMENTS);

/** A copy of `b` with byte `i` set to `v`. */
function patch(b: Uint8Array, i: number, v: number): Uint8Array {
  const out = b.slice();
  out[i] = v;
  return out;
}

/**
 * A stream payload: one node (or `nodes`), length 3, last ID 3-0, (v2, v3: first 1-0, no
 * deletions, 3 added), then `groups` as written by the callback.
 */
function payload(
  type: number,
  groups: (w: RdbWriter) => void,
  nodes: [Uint8Array, Uint8Array][] = [[raw(1), NODE]],
): Uint8Array {
  const w = new RdbWriter();
  w.byte(type);
  w.length(nodes.length);
  for (const [key, lp] of nodes) {
    w.length(key.length);
    w.bytes(key);
    w.length(lp.length);
    w.bytes(lp);
  }
  w.length(3);
  w.length(3);
  w.length(0);
  if (type !== STREAM_RDB_TYPE.v1) { for (const n of [1, 0, 0, 0, 3]) w.length(n); }
  groups(w);
  return sealPayload(w);
}

/**
 * Groups at each position a type-15 estimate distinguishes, each with a pending entry owned by
 * consumer `c`; `entriesRead` for types 19 and 21, `active` for 21.
 */
function groups(w: RdbWriter, entriesRead?: number[], active = false): void {
  const at = [[0, 0], [1, 0], [2, 0], [3, 0], [4, 0]];
  w.length(at.length);
  at.forEach(([m, s], i) => {
    w.string(`g${i}`);
    w.length(m!);
    w.length(s!);
    const read = entriesRead?.[i];
    if (read !== undefined && read >= 0) w.length(read);
    else if (read !== undefined) w.bytes(new Uint8Array([0x81, ...Array(8).fill(0xff)]));
    w.length(1);
    w.bytes(raw(2));
    w.bytes(ms(1700000000000 + i));
    w.length(i + 1);
    w.length(1);
    w.string("c");
    w.bytes(ms(1600000000000));
    if (active) w.bytes(ms(1650000000000));
    w.length(1);
    w.bytes(raw(2));
  });
}

test("type 15 streams load with Redis's estimated counters", { skip }, async () => {
  const r = await redis();
  try {
    const p = payload(STREAM_RDB_TYPE.v1, (w) => groups(w));
    const image = decode(p);
    assert.equal(image.entriesAdded, 3n);
    assert.deepEqual(image.groups.map((g) => g.entriesRead), [0n, 1n, -1n, 3n, -1n]);
    await run(r, [
      ["RESTORE", "v1", "0", text(p)],
      ["RESTORE", "ours", "0", text(encode(image, DEFAULT))],
    ]);
    assert.equal(await info(r, "ours"), await info(r, "v1"));
  } finally {
    r.stop();
  }
});

test("type 21 streams (Redis 7.2) load with their consumers' active time", () => {
  const read = [0, 1, 2, 3, -1];
  const v2 = decode(payload(STREAM_RDB_TYPE.v2, (w) => groups(w, read)));
  const v3 = decode(payload(STREAM_RDB_TYPE.v3, (w) => groups(w, read, true)));
  assert.equal(v3.groups[4]!.entriesRead, -1n);
  assert.equal(v3.groups[1]!.consumers[0]!.seenTime, 1600000000000);
  assert.equal(v3.groups[1]!.consumers[0]!.activeTime, 1650000000000);
  // Older types have no active time: it is the seen time, as Redis 7.2 loads them.
  assert.equal(v2.groups[1]!.consumers[0]!.activeTime, 1600000000000);
  for (const g of v3.groups) for (const c of g.consumers) c.activeTime = c.seenTime;
  assert.deepEqual(v3, v2);
});

test("corrupt stream payloads are refused, as Redis refuses them", { skip }, async () => {
  const r = await redis();
  const noGroups = (w: RdbWriter) => w.length(0);
  /** One group `g` at 1-0 whose PEL holds 2-0, then its consumers written by `consumers`. */
  const group = (consumers: (w: RdbWriter) => void) => (w: RdbWriter) => {
    w.length(1);
    w.string("g");
    for (const n of [1, 0, 1, 1]) w.length(n);
    w.bytes(raw(2));
    w.bytes(ms(1));
    w.length(1);
    consumers(w);
  };
  const good = payload(STREAM_RDB_TYPE.v2, (w) => groups(w, [0, 1, 2, 3, 4]));
  const cut = new RdbWriter();
  cut.bytes(good.subarray(0, good.length - 30));
  const cases: Record<string, Uint8Array> = {
    "empty listpack": payload(19, noGroups, [[raw(1), node()]]),
    "bad master terminator": payload(19, noGroups, [[
      raw(1),
      node(1, 0, 1, "f", 1, 2, 0, 0, "a", 4),
    ]]),
    "bad lp-count": payload(19, noGroups, [[raw(1), node(1, 0, 1, "f", 0, 2, 0, 0, "a", 5)]]),
    "short node key": payload(19, noGroups, [[raw(1).subarray(0, 15), NODE]]),
    "consumer PEL entry not in the group PEL": payload(
      19,
      group((w) => {
        w.length(1);
        w.string("c");
        w.bytes(ms(1));
        w.length(1);
        w.bytes(raw(3));
      }),
    ),
    "PEL entry without consumer": payload(19, group((w) => w.length(0))),
    "truncated": sealPayload(cut),
    "listpack size mismatch": payload(19, noGroups, [[raw(1), patch(NODE, 0, NODE[0]! + 1)]]),
    "bad back length": payload(19, noGroups, [[raw(1), patch(NODE, 7, 2)]]),
    "element after the last entry": payload(19, noGroups, [[raw(1), node(...NODE_ELEMENTS, 0)]]),
  };
  try {
    for (const [what, p] of Object.entries(cases)) {
      assert.throws(() => decode(p), RdbFormatError, what);
      const [reply] = await pipeline(r.c, [["RESTORE", "k", "0", text(p)]]);
      assert.match(reply!, /^-ERR Bad data format/, what);
    }
  } finally {
    r.stop();
  }
});

test("streams Redis would load inconsistent are refused", () => {
  const noGroups = (w: RdbWriter) => w.length(0);
  const two = node(2, 0, 1, "f", 0, 2, 0, 0, "a", 4, 2, 1, 0, "b", 4);
  const unordered = node(3, 0, 1, "f", 0, 2, 0, 0, "a", 4, 2, 2, 0, "b", 4, 2, 1, 0, "c", 4);
  const cases: [string, Uint8Array, RegExp][] = [
    ["length above the entries", payload(19, noGroups, [[raw(1), two]]), /length inconsistent/],
    ["last ID below the last entry", payload(19, noGroups, [[raw(2), NODE]]), /last ID below/],
    ["node keys out of order", payload(19, noGroups, [[raw(5), two], [raw(1), NODE]]), /keys out/],
    ["nodes overlapping", payload(19, noGroups, [[raw(1), NODE], [raw(2), two]]), /out of order/],
    ["entries out of order", payload(19, noGroups, [[raw(1), unordered]]), /out of order/],
  ];
  for (const [what, p, message] of cases) {
    assert.throws(
      () => decode(p),
      (e) => e instanceof RdbFormatError && message.test(e.message),
      what,
    );
  }
});
