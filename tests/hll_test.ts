import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createServer, SimpleString } from "../mod.ts";
import { hllHash, patIndex, patLen } from "../core/hll_hash.ts";
import { errorText, startServer } from "./helpers.ts";

/** MurmurHash64A with BigInt arithmetic, straight from its definition, to check the fast one. */
function murmurReference(s: string): bigint {
  const m = 0xc6a4a7935bd1e995n;
  const mask = (1n << 64n) - 1n;
  let h = (0xadc83b19n ^ (BigInt(s.length) * m)) & mask;
  const end = s.length - (s.length & 7);
  for (let i = 0; i < end; i += 8) {
    let k = 0n;
    for (let j = 7; j >= 0; j--) k = (k << 8n) | BigInt(s.charCodeAt(i + j));
    k = (k * m) & mask;
    k ^= k >> 47n;
    k = (k * m) & mask;
    h = ((h ^ k) * m) & mask;
  }
  const tail = s.length & 7;
  if (tail !== 0) {
    for (let j = tail - 1; j >= 0; j--) h ^= BigInt(s.charCodeAt(end + j)) << BigInt(8 * j);
    h = (h * m) & mask;
  }
  h ^= h >> 47n;
  h = (h * m) & mask;
  return h ^ (h >> 47n);
}

test("MurmurHash64A equals the 64-bit definition for every length", () => {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const random = (len: number): string => {
    let s = "";
    for (let j = 0; j < len; j++) s += String.fromCharCode(Math.floor(rnd() * 256));
    return s;
  };
  for (let n = 0; n < 3000; n++) {
    const s = random(n % 211);
    assert.equal(hllHash(s), murmurReference(s), JSON.stringify(s));
  }
  // Past 64 bytes the copy into the hash's memory changes method; past 32 KiB the hash goes by
  // chunks. Lengths around both, with every byte value.
  for (const len of [63, 64, 65, 66, 127, 32767, 32768, 32769, 32775, 65536, 65543, 100003]) {
    const s = random(len);
    assert.equal(hllHash(s), murmurReference(s), `length ${len}`);
  }
  assert.equal(hllHash("a"), 0x53d2470a9b43b1a7n);
});

test("patLen gives Redis's register index and run length of the hash, at every short length", () => {
  let seed = 11;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let n = 0; n < 2000; n++) {
    let s = "";
    for (let j = 0; j < n % 80; j++) s += String.fromCharCode(Math.floor(rnd() * 256));
    const h = murmurReference(s);
    let rest = (h >> 14n) | (1n << 50n);
    let count = 1;
    while ((rest & 1n) === 0n) {
      rest >>= 1n;
      count++;
    }
    assert.equal(patLen(s), count, JSON.stringify(s));
    assert.equal(patIndex, Number(h & 0x3fffn), JSON.stringify(s));
  }
});

test("PFADD creates a sparse HLL with a stale cached count and reports register changes", () => {
  const server = createServer();
  assert.equal(server.dispatch(["PFADD", "h"]), 1);
  assert.equal(
    server.dispatch(["GET", "h"]),
    "HYLL\x01" + "\x00".repeat(10) + "\x80\x7f\xff",
  );
  assert.equal(server.dispatch(["PFCOUNT", "h"]), 0);
  assert.equal(server.dispatch(["GET", "h"]), "HYLL\x01" + "\x00".repeat(11) + "\x7f\xff");
  assert.equal(server.dispatch(["PFADD", "h", "a", "b", "c"]), 1);
  assert.equal(server.dispatch(["PFADD", "h", "a", "b", "c"]), 0);
  assert.equal(server.dispatch(["PFCOUNT", "h"]), 3);
  assert.deepEqual(server.dispatch(["PFDEBUG", "ENCODING", "h"]), new SimpleString("sparse"));
});

test("PFADD, PFMERGE and a PFCOUNT that refreshes the cache propagate; others do not", () => {
  const server = createServer({ config: { "notify-keyspace-events": "KEAn" } });
  const prop: string[][] = [];
  const events: string[] = [];
  server.on("propagate", (_db, argv) => prop.push(argv));
  server.on("keyspaceEvent", (_db, _type, event, key) => events.push(`${event}:${key}`));
  server.dispatch(["PFADD", "a", "x", "y"]);
  server.dispatch(["PFADD", "a", "x"]);
  server.dispatch(["PFCOUNT", "a"]);
  server.dispatch(["PFCOUNT", "a"]);
  server.dispatch(["PFCOUNT", "a", "nokey"]);
  server.dispatch(["PFMERGE", "m", "a"]);
  server.dispatch(["PFDEBUG", "TODENSE", "m"]);
  server.dispatch(["PFDEBUG", "TODENSE", "m"]);
  assert.deepEqual(prop, [
    ["PFADD", "a", "x", "y"],
    ["PFCOUNT", "a"],
    ["PFMERGE", "m", "a"],
    ["PFDEBUG", "TODENSE", "m"],
  ]);
  assert.deepEqual(events.filter((e) => !e.startsWith("keymiss")), [
    "new:a",
    "pfadd:a",
    "new:m",
    "pfadd:m",
  ]);
});

test("PFADD keeps the key's TTL and PFMERGE unions the sources", () => {
  const server = createServer();
  server.dispatch(["PFADD", "a", "1", "2", "3"]);
  server.dispatch(["EXPIRE", "a", "100"]);
  server.dispatch(["PFADD", "a", "4"]);
  assert.equal(server.dispatch(["TTL", "a"]), 100);
  server.dispatch(["PFADD", "b", "3", "4", "5"]);
  assert.deepEqual(server.dispatch(["PFMERGE", "u", "a", "b"]), new SimpleString("OK"));
  assert.equal(server.dispatch(["PFCOUNT", "u"]), 5);
  assert.equal(server.dispatch(["PFCOUNT", "a", "b"]), 5);
});

test("a HyperLogLog is promoted to dense past hll-sparse-max-bytes, counting the same", () => {
  const server = createServer();
  const dense = createServer();
  dense.dispatch(["PFADD", "h"]);
  dense.dispatch(["PFDEBUG", "TODENSE", "h"]);
  for (let n = 0; n < 20000; n += 100) {
    const els = Array.from({ length: 100 }, (_, i) => `el-${n + i}`);
    server.dispatch(["PFADD", "h", ...els]);
    dense.dispatch(["PFADD", "h", ...els]);
    const card = server.dispatch(["PFCOUNT", "h"]) as number;
    assert.ok(Math.abs(card - n - 100) < (card / 100) * 5, `count ${card} for ${n + 100}`);
    const enc = (server.dispatch(["PFDEBUG", "ENCODING", "h"]) as SimpleString).value;
    if (n < 900) {
      assert.equal(enc, "sparse");
      assert.equal(dense.dispatch(["PFCOUNT", "h"]), card, "sparse and dense agree");
    } else if (n > 10000) assert.equal(enc, "dense");
  }
  assert.equal((server.dispatch(["GET", "h"]) as string).length, 12304);
  assert.equal((server.dispatch(["PFDEBUG", "GETREG", "h"]) as number[]).length, 16384);
});

test("PFDEBUG DECODE lists the sparse opcodes; errors use Redis's texts", () => {
  const server = createServer();
  server.dispatch(["PFADD", "h", "a"]);
  assert.equal(server.dispatch(["PFDEBUG", "DECODE", "h"]), "Z:12711 v:2,1 Z:3672");
  server.dispatch(["SET", "s", "not an hll at all"]);
  server.dispatch(["LPUSH", "l", "x"]);
  const err = (argv: string[]) => errorText(server.dispatch(argv));
  assert.equal(err(["PFADD", "s", "a"]), "WRONGTYPE Key is not a valid HyperLogLog string value.");
  assert.equal(
    err(["PFCOUNT", "h", "s"]),
    "WRONGTYPE Key is not a valid HyperLogLog string value.",
  );
  assert.equal(
    err(["PFMERGE", "l", "h"]),
    "WRONGTYPE Operation against a key holding the wrong kind of value",
  );
  assert.equal(err(["PFDEBUG", "ENCODING", "nokey"]), "ERR The specified key does not exist");
  assert.equal(err(["PFDEBUG", "Nope", "h"]), "ERR Unknown PFDEBUG subcommand 'Nope'");
  server.dispatch(["PFDEBUG", "TODENSE", "h"]);
  assert.equal(err(["PFDEBUG", "DECODE", "h"]), "ERR HLL encoding is not sparse");
  server.dispatch(["PFADD", "c", "a", "b", "c"]);
  server.dispatch(["APPEND", "c", "hello"]);
  assert.equal(err(["PFCOUNT", "c"]), "INVALIDOBJ Corrupted HLL object detected");
  assert.equal(err(["PFMERGE", "d", "c"]), "INVALIDOBJ Corrupted HLL object detected");
  server.dispatch(["SETRANGE", "c", "4", "\x00"]);
  assert.equal(err(["PFCOUNT", "c"]), "WRONGTYPE Key is not a valid HyperLogLog string value.");
});

test("PFSELFTEST passes", () => {
  const server = createServer();
  assert.deepEqual(server.dispatch(["PFSELFTEST"]), new SimpleString("OK"));
});

test("ioredis counts the union of several HyperLogLogs within 2%", async () => {
  const { port, close } = await startServer();
  const r = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
  await r.connect();
  try {
    for (let i = 0; i < 30; i++) {
      const els = Array.from({ length: 1000 }, (_, j) => `${i % 3}:${i}-${j}`);
      assert.ok((await r.pfadd(`h${i % 3}`, ...els)) === 1);
    }
    const card = await r.pfcount("h0", "h1", "h2");
    assert.ok(Math.abs(card - 30000) < 600, `count ${card}`);
    assert.equal(await r.pfmerge("all", "h0", "h1", "h2"), "OK");
    assert.equal(await r.pfcount("all"), card);
    assert.equal(await r.type("all"), "string");
  } finally {
    r.disconnect();
    await close();
  }
});
