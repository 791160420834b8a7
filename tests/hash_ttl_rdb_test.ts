/**
 * Hashes with field TTLs in RDB files and DUMP payloads: Redis 7.4's types 25 (listpackex) and
 * 24 (hashtable with field TTLs) written and read by redeno, and exchanged with the 7.4.1
 * reference build both ways when it is present; the AOF rewrite keeps field TTLs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { createServer, type Server } from "../mod.ts";
import { RawConn } from "./helpers.ts";
import { pipeline } from "./redis_compare.ts";
import { serverIn, tempDir } from "./rdb_helpers.ts";
import { rdbOf } from "../core/persistence/rdb_file.ts";
import { REFERENCE_74, startReference } from "./reference_redis.ts";

const NO_REF = REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false;
const FAR = "4000000000000";

/** Writes a small (listpackex) and a big (hashtable) hash with some field TTLs. */
const WRITES: string[][] = [
  ["HSET", "small", "a", "1", "b", "2", "c", "3"],
  ["HPEXPIREAT", "small", FAR, "FIELDS", "1", "b"],
  ["HPEXPIREAT", "small", "4000000000500", "FIELDS", "1", "a"],
  ["HSET", "big", ...Array.from({ length: 600 }, (_, i) => [`f${i}`, `v${i}`]).flat()],
  ["HPEXPIREAT", "big", FAR, "FIELDS", "2", "f1", "f2"],
  ["HSET", "plain", "x", "y"],
  ["HSET", "persisted", "x", "y"],
  ["HPEXPIREAT", "persisted", FAR, "FIELDS", "1", "x"],
  ["HPERSIST", "persisted", "FIELDS", "1", "x"],
];

/** What every server must answer about the dataset above. */
const CHECKS: Array<[string[], string]> = [
  [
    ["HGETALL", "small"],
    "*6\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nc\r\n$1\r\n3\r\n",
  ],
  [
    ["HPEXPIRETIME", "small", "FIELDS", "3", "a", "b", "c"],
    "*3\r\n:4000000000500\r\n:4000000000000\r\n:-1\r\n",
  ],
  [["OBJECT", "ENCODING", "small"], "$10\r\nlistpackex\r\n"],
  [
    ["HPEXPIRETIME", "big", "FIELDS", "3", "f1", "f2", "f3"],
    "*3\r\n:4000000000000\r\n:4000000000000\r\n:-1\r\n",
  ],
  [["HLEN", "big"], ":600\r\n"],
  [["OBJECT", "ENCODING", "big"], "$9\r\nhashtable\r\n"],
  [["OBJECT", "ENCODING", "plain"], "$8\r\nlistpack\r\n"],
  [["OBJECT", "ENCODING", "persisted"], "$10\r\nlistpackex\r\n"],
  [["HPEXPIRETIME", "persisted", "FIELDS", "1", "x"], "*1\r\n:-1\r\n"],
];

/**
 * Asserts CHECKS on the server at `port`; `rebuilt` when the data was replayed from commands (a
 * hash whose last TTL went is then a plain listpack again, as in Redis 7.4).
 */
async function check(port: number, rebuilt = false): Promise<void> {
  const c = await RawConn.connect(port);
  const checks = CHECKS.map(([cmd, want]): [string[], string] =>
    rebuilt && cmd.join(" ") === "OBJECT ENCODING persisted"
      ? [cmd, "$8\r\nlistpack\r\n"]
      : [cmd, want]
  );
  try {
    const got = await pipeline(c, checks.map(([cmd]) => cmd));
    checks.forEach(([cmd, want], i) => assert.equal(got[i], want, cmd.join(" ")));
  } finally {
    c.close();
  }
}

async function write(port: number, cmds: string[][]): Promise<string[]> {
  const c = await RawConn.connect(port);
  try {
    return await pipeline(c, cmds);
  } finally {
    c.close();
  }
}

/** Starts `server` on a free port, loading its dump first (as main.ts does). */
async function listen(server: Server): Promise<number> {
  if (!server.config.bool("appendonly")) rdbOf(server).loadOnStart();
  server.loadData();
  return (await server.listen({ port: 0, hostname: "127.0.0.1" })).port;
}

test("redeno saves and loads hashes with field TTLs (types 24 and 25)", async () => {
  const dir = tempDir();
  const a = serverIn(dir).server;
  let b: Server | undefined;
  try {
    await write(await listen(a), [...WRITES, ["SAVE"]]);
    await a.close();
    b = serverIn(dir).server;
    await check(await listen(b));
  } finally {
    await b?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("DUMP of a hash with field TTLs carries RDB 12 and RESTOREs with its TTLs", () => {
  const server = createServer();
  for (const cmd of WRITES) server.dispatch(cmd);
  const payload = server.dispatch(["DUMP", "small"]) as string;
  const n = payload.length;
  assert.equal(payload.charCodeAt(n - 10) | (payload.charCodeAt(n - 9) << 8), 12);
  assert.equal(payload.charCodeAt(0), 25);
  server.dispatch(["RESTORE", "copy", "0", payload]);
  assert.deepEqual(server.dispatch(["HPEXPIRETIME", "copy", "FIELDS", "2", "a", "c"]), [
    4000000000500,
    -1,
  ]);
  const plain = server.dispatch(["DUMP", "plain"]) as string;
  assert.equal(plain.charCodeAt(plain.length - 10), 10);
});

for (const preamble of ["yes", "no"]) {
  test(`the AOF rewrite keeps field TTLs (aof-use-rdb-preamble ${preamble})`, async () => {
    const dir = tempDir();
    const opts = { config: { appendonly: "yes", "aof-use-rdb-preamble": preamble } };
    const a = serverIn(dir, opts).server;
    let b: Server | undefined;
    try {
      const port = await listen(a);
      await write(port, WRITES);
      await write(port, [["BGREWRITEAOF"]]);
      // Bounded wait for the rewrite to finish.
      for (let i = 0; i < 500; i++) {
        const [info] = await write(port, [["INFO", "persistence"]]);
        if (/aof_rewrite_in_progress:0/.test(info!) && /aof_rewrite_scheduled:0/.test(info!)) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      await a.close();
      b = serverIn(dir, opts).server;
      await check(await listen(b), preamble === "no");
    } finally {
      await b?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("the 7.4.1 reference loads redeno's SAVE, and redeno loads the reference's", {
  skip: NO_REF,
}, async () => {
  const dir = tempDir();
  const ours = serverIn(dir).server;
  let ref = undefined as Awaited<ReturnType<typeof startReference>> | undefined;
  let back: Server | undefined;
  try {
    await write(await listen(ours), [...WRITES, ["SAVE"]]);
    await ours.close();
    ref = await startReference(["--dir", dir]);
    await check(ref.port);
    // The reverse: the reference's own SAVE (RDB 12) into a fresh redeno.
    await write(ref.port, [["DEL", "small", "big", "plain", "persisted"], ...WRITES, ["SAVE"]]);
    back = serverIn(dir).server;
    await check(await listen(back));
  } finally {
    await back?.close();
    ref?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("DUMP and RESTORE between redeno and the 7.4.1 reference keep field TTLs", {
  skip: NO_REF,
}, async () => {
  const ref = await startReference();
  const ours = createServer();
  const port = await listen(ours);
  try {
    await write(ref.port, WRITES);
    for (const key of ["small", "big"]) {
      const [payload] = await write(ref.port, [["DUMP", key]]);
      const body = payload!.slice(payload!.indexOf("\r\n") + 2, -2);
      assert.equal(text(ours.dispatch(["RESTORE", key, "0", body])), "OK");
    }
    await write(port, WRITES.slice(5));
    await check(port);
    const cmds: string[][] = [];
    for (const key of ["small", "big"]) {
      cmds.push(["DEL", key], ["RESTORE", key, "0", ours.dispatch(["DUMP", key]) as string]);
    }
    const replies = await write(ref.port, cmds);
    assert.deepEqual(replies, [":1\r\n", "+OK\r\n", ":1\r\n", "+OK\r\n"]);
    await check(ref.port);
  } finally {
    ref.stop();
    await ours.close();
  }
});

function text(reply: unknown): string {
  return typeof reply === "object" && reply !== null && "value" in reply
    ? String((reply as { value: unknown }).value)
    : String(reply);
}
