import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { createClient, RESP_TYPES } from "redis";
import Redlock, { ExecutionError, Lock, ResourceLockedError } from "redlock";
import { redisCli, startServer } from "./helpers.ts";
import { missing } from "./redis_tools.ts";

const sha1 = (s: string) => createHash("sha1").update(s).digest("hex");

/** Calls and failed calls of each command in INFO commandstats. */
async function commandStats(io: Redis): Promise<Map<string, { calls: number; failed: number }>> {
  const out = new Map<string, { calls: number; failed: number }>();
  for (const line of (await io.info("commandstats")).split("\r\n")) {
    const m = /^cmdstat_([^:]+):calls=(\d+),.*failed_calls=(\d+)/.exec(line);
    if (m) out.set(m[1]!, { calls: Number(m[2]), failed: Number(m[3]) });
  }
  return out;
}

const JSON_SCRIPT = `
local doc = cjson.decode(ARGV[1])
doc.total = 0
for _, v in ipairs(doc.items) do doc.total = doc.total + v end
doc.key = KEYS[1]
doc.seen = redis.call('INCR', KEYS[1])
return cjson.encode(doc)
`;

test("an ioredis defineCommand script with cjson survives the EVALSHA cache and SCRIPT FLUSH", async () => {
  const { port, close } = await startServer();
  const io = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
  const admin = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
  await io.connect();
  await admin.connect();
  try {
    io.defineCommand("sumItems", { numberOfKeys: 1, lua: JSON_SCRIPT });
    const call = (key: string, json: string): Promise<string> =>
      (io as unknown as Record<string, (k: string, a: string) => Promise<string>>)
        .sumItems!(key, json);
    const sumItems = (key: string, doc: unknown) => call(key, JSON.stringify(doc));
    const sha = sha1(JSON_SCRIPT);
    assert.deepEqual(await admin.script("EXISTS", sha), [0]);

    // First call on this connection: ioredis 5+ sends EVAL (older versions tried EVALSHA first).
    const first = JSON.parse(await sumItems("doc:1", { name: "a", items: [1, 2, 3.5] }));
    assert.deepEqual(first, { name: "a", items: [1, 2, 3.5], total: 6.5, key: "doc:1", seen: 1 });
    assert.deepEqual(await admin.script("EXISTS", sha, "0".repeat(40)), [1, 0]);
    let stats = await commandStats(admin);
    assert.equal(stats.get("eval")?.calls, 1);
    assert.equal(stats.get("evalsha"), undefined);

    // Second call: EVALSHA hits the cache.
    const second = JSON.parse(await sumItems("doc:1", { name: "b", items: [10, -4] }));
    assert.deepEqual(second, { name: "b", items: [10, -4], total: 6, key: "doc:1", seen: 2 });
    stats = await commandStats(admin);
    assert.deepEqual(stats.get("evalsha"), { calls: 1, failed: 0 });
    assert.equal(stats.get("eval")?.calls, 1);

    // After SCRIPT FLUSH: EVALSHA gets NOSCRIPT and ioredis falls back to EVAL.
    assert.equal(await admin.script("FLUSH"), "OK");
    assert.deepEqual(await admin.script("EXISTS", sha), [0]);
    // Lua cannot tell an empty array from an empty object: cjson encodes `[]` back as `{}`.
    const third = JSON.parse(await sumItems("doc:2", { items: [], nested: { a: [true] } }));
    assert.deepEqual(third, { items: {}, nested: { a: [true] }, total: 0, key: "doc:2", seen: 1 });
    stats = await commandStats(admin);
    assert.deepEqual(stats.get("evalsha"), { calls: 2, failed: 1 });
    assert.deepEqual(stats.get("eval"), { calls: 2, failed: 0 });
    assert.deepEqual(await admin.script("EXISTS", sha), [1]);
    assert.equal(await admin.get("doc:1"), "2");

    // cjson errors reach the client as script errors.
    await assert.rejects(call("doc:3", "not json"), (e: Error) => {
      assert.match(e.message, /^ERR user_script:\d+: Expected value but found invalid token/);
      return true;
    });
  } finally {
    io.disconnect();
    admin.disconnect();
    await close();
  }
});

test("redlock acquires, extends and releases single and multi-resource locks", async () => {
  const { port, close } = await startServer();
  const io = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
  const plain = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
  await io.connect();
  await plain.connect();
  try {
    const redlock = new Redlock([io], { retryCount: 0 });
    let lock = await redlock.acquire(["res:a"], 10_000);
    assert.equal(await plain.get("res:a"), lock.value);
    let ttl = await plain.pttl("res:a");
    assert.ok(ttl > 5_000 && ttl <= 10_000, `pttl ${ttl}`);

    lock = await lock.extend(60_000);
    ttl = await plain.pttl("res:a");
    assert.ok(ttl > 30_000 && ttl <= 60_000, `pttl after extend ${ttl}`);
    assert.equal(await plain.get("res:a"), lock.value);

    const multi = await redlock.acquire(["res:m1", "res:m2"], 20_000);
    for (const key of ["res:m1", "res:m2"]) {
      assert.equal(await plain.get(key), multi.value);
      const t = await plain.pttl(key);
      assert.ok(t > 10_000 && t <= 20_000, `pttl ${key} ${t}`);
    }
    // A multi-resource lock overlapping a held one fails as a whole and leaves nothing behind.
    await assert.rejects(redlock.acquire(["res:free", "res:m2"], 5_000), ExecutionError);
    assert.equal(await plain.exists("res:free"), 0);
    assert.equal(await plain.get("res:m2"), multi.value);

    const released = await lock.release();
    assert.equal(released.attempts.length, 1);
    assert.equal((await released.attempts[0]!).votesFor.size, 1);
    assert.equal(await plain.exists("res:a"), 0);
    await multi.release();
    assert.equal(await plain.exists("res:m1", "res:m2"), 0);
    assert.deepEqual(await plain.keys("*"), []);

    // using(): the lock is held inside the routine and gone after it.
    const inside = await redlock.using(["res:u"], 5_000, async (signal) => {
      assert.equal(signal.aborted, false);
      return await plain.get("res:u");
    });
    assert.equal(typeof inside, "string");
    assert.equal(inside!.length, 32);
    assert.equal(await plain.exists("res:u"), 0);
  } finally {
    io.disconnect();
    plain.disconnect();
    await close();
  }
});

test("two redlock instances contend: exactly one wins, the other gets it after release", async () => {
  const { port, close } = await startServer();
  const ioA = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
  const ioB = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
  const plain = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
  await Promise.all([ioA.connect(), ioB.connect(), plain.connect()]);
  try {
    const a = new Redlock([ioA], { retryCount: 0 });
    const b = new Redlock([ioB], { retryCount: 0 });
    const results = await Promise.allSettled([
      a.acquire(["res:shared"], 30_000),
      b.acquire(["res:shared"], 30_000),
    ]);
    const won = results.filter((r): r is PromiseFulfilledResult<Lock> => r.status === "fulfilled");
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    assert.equal(won.length, 1);
    assert.equal(lost.length, 1);
    const winner = won[0]!.value;
    const error = lost[0]!.reason;
    assert.ok(error instanceof ExecutionError, String(error));
    assert.equal(error.attempts.length, 1);
    const vote = [...(await error.attempts[0]!).votesAgainst.values()];
    assert.equal(vote.length, 1);
    assert.ok(vote[0] instanceof ResourceLockedError, String(vote[0]));
    // The loser's clean-up (the release script with its own value) left the winner's lock alone.
    assert.equal(await plain.get("res:shared"), winner.value);
    const ttl = await plain.pttl("res:shared");
    assert.ok(ttl > 15_000 && ttl <= 30_000, `pttl ${ttl}`);

    const loser = winner.redlock === a ? b : a;
    await assert.rejects(loser.acquire(["res:shared"], 30_000), ExecutionError);
    await winner.release();
    assert.equal(await plain.exists("res:shared"), 0);
    const second = await loser.acquire(["res:shared"], 30_000);
    assert.equal(await plain.get("res:shared"), second.value);
    assert.notEqual(second.value, winner.value);
    // The first holder cannot extend a lock it no longer holds: a still-valid Lock with its old
    // value runs the extend script, which refuses (the value differs) and changes nothing.
    const stale = new Lock(winner.redlock, ["res:shared"], winner.value, [], Date.now() + 30_000);
    await assert.rejects(stale.extend(60_000), (e: unknown) => {
      assert.ok(e instanceof ExecutionError, String(e));
      return true;
    });
    assert.equal(await plain.get("res:shared"), second.value);
    const kept = await plain.pttl("res:shared");
    assert.ok(kept > 15_000 && kept <= 30_000, `pttl after refused extend ${kept}`);
    await second.release();
    assert.equal(await plain.exists("res:shared"), 0);
  } finally {
    ioA.disconnect();
    ioB.disconnect();
    plain.disconnect();
    await close();
  }
});

test("20 ioredis clients increment a counter with WATCH/MULTI/EXEC retries", async () => {
  const { port, close } = await startServer();
  const clients = Array.from(
    { length: 20 },
    () => new Redis({ port, host: "127.0.0.1", lazyConnect: true }),
  );
  await Promise.all(clients.map((c) => c.connect()));
  try {
    await clients[0]!.set("counter", "0");
    let successes = 0;
    const worker = async (c: Redis) => {
      for (let i = 0; i < 25; i++) {
        for (;;) {
          assert.equal(await c.watch("counter"), "OK");
          const value = Number(await c.get("counter"));
          const result = await c.multi().set("counter", String(value + 1)).exec();
          if (result === null) continue;
          assert.deepEqual(result, [[null, "OK"]]);
          successes++;
          break;
        }
      }
    };
    await Promise.all(clients.map(worker));
    assert.equal(successes, 500);
    assert.equal(await clients[0]!.get("counter"), "500");
  } finally {
    for (const c of clients) c.disconnect();
    await close();
  }
});

const LIBRARY = `#!lua name=mylib
local function incr(keys, args)
  return redis.call('INCRBY', keys[1], args[1])
end
redis.register_function('myincr', incr)
redis.register_function{
  function_name = 'myget',
  callback = function(keys) return redis.call('GET', keys[1]) end,
  flags = { 'no-writes' },
  description = 'reads a key',
}
`;

test("node-redis runs EVAL, loads a library and calls it with FCALL", async () => {
  const { port, close } = await startServer();
  const nr = createClient({ socket: { port, host: "127.0.0.1" } });
  const nr3 = createClient({ socket: { port, host: "127.0.0.1" }, RESP: 3 });
  await nr.connect();
  await nr3.connect();
  try {
    assert.deepEqual(
      await nr.eval("return {KEYS[1], ARGV[1], redis.call('INCRBY', KEYS[1], ARGV[1])}", {
        keys: ["n"],
        arguments: ["5"],
      }),
      ["n", "5", 5],
    );
    const sha = await nr.scriptLoad("return redis.call('GET', KEYS[1])");
    assert.equal(await nr.evalSha(sha, { keys: ["n"] }), "5");
    assert.equal(await nr.evalShaRo(sha, { keys: ["n"] }), "5");

    assert.equal(await nr.functionLoad(LIBRARY), "mylib");
    await assert.rejects(nr.functionLoad(LIBRARY), /^\[?.*Library 'mylib' already exists/);
    assert.equal(await nr.functionLoad(LIBRARY, { REPLACE: true }), "mylib");
    assert.equal(await nr.fCall("myincr", { keys: ["f"], arguments: ["3"] }), 3);
    assert.equal(await nr.sendCommand(["FCALL", "MYINCR", "1", "f", "2"]), 5);
    assert.equal(await nr.fCallRo("myget", { keys: ["f"] }), "5");
    await assert.rejects(
      nr.fCallRo("myincr", { keys: ["f"], arguments: ["1"] }),
      /Can not execute a script with write flag using \*_ro command/,
    );
    await assert.rejects(nr.fCall("nosuch", { keys: [] }), /Function not found/);

    const byName = <T extends { name: unknown }>(xs: T[]) =>
      [...xs].sort((x, y) => String(x.name).localeCompare(String(y.name)));
    const listed = await nr.functionList();
    assert.equal(listed.length, 1);
    assert.equal(listed[0]!.library_name, "mylib");
    assert.equal(listed[0]!.engine, "LUA");
    assert.deepEqual(byName(listed[0]!.functions), [
      { name: "myget", description: "reads a key", flags: ["no-writes"] },
      { name: "myincr", description: null, flags: [] },
    ]);
    const withCode = await nr.functionListWithCode({ LIBRARYNAME: "my*" });
    assert.equal(withCode.length, 1);
    assert.equal(withCode[0]!.library_code, LIBRARY);
    assert.deepEqual(await nr.functionList({ LIBRARYNAME: "other*" }), []);

    // RESP3: FUNCTION LIST is an array of maps, flags a set.
    const raw = await nr3.sendCommand(["FUNCTION", "LIST"]) as Array<Record<string, unknown>>;
    assert.equal(raw.length, 1);
    assert.deepEqual(Object.keys(raw[0]!), ["library_name", "engine", "functions"]);
    const fns = raw[0]!.functions as Array<{ name: string; flags: unknown }>;
    assert.deepEqual(
      byName(fns).map((f) => [f.name, [...(f.flags as Iterable<string>)]]),
      [["myget", ["no-writes"]], ["myincr", []]],
    );
    assert.equal(await nr3.fCall("myincr", { keys: ["f"], arguments: ["1"] }), 6);

    // DUMP / RESTORE round trip through a binary-safe client.
    const payload = await nr.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }).functionDump();
    assert.ok(Buffer.isBuffer(payload));
    assert.equal(await nr.functionFlush(), "OK");
    await assert.rejects(nr.fCall("myincr", { keys: ["f"], arguments: ["1"] }), /not found/);
    assert.equal(await nr.functionRestore(payload), "OK");
    assert.equal(await nr.fCall("myincr", { keys: ["f"], arguments: ["1"] }), 7);
    assert.equal(await nr.functionDelete("mylib"), "OK");
    assert.deepEqual(await nr.functionList(), []);
  } finally {
    await nr.quit();
    await nr3.quit();
    await close();
  }
});

test("redis-cli --eval runs a script file with keys and args split by a comma", {
  skip: missing("redis-cli"),
}, async () => {
  const { port, close } = await startServer();
  const dir = mkdtempSync(join(tmpdir(), "redeno-eval-"));
  try {
    const file = join(dir, "script.lua");
    writeFileSync(
      file,
      "redis.call('SET', KEYS[1], ARGV[1])\n" +
        "return {#KEYS, #ARGV, KEYS[1], KEYS[2], ARGV[1], ARGV[2], redis.call('GET', KEYS[1])}\n",
    );
    const ok = await redisCli(port, ["--eval", file, "k1", "k2", ",", "a1", "a2"]);
    assert.equal(ok.code, 0);
    assert.equal(ok.stdout, "2\n2\nk1\nk2\na1\na2\na1\n");
    const get = await redisCli(port, ["GET", "k1"]);
    assert.equal(get.stdout, "a1\n");

    // No comma: every word is a key.
    const keys = join(dir, "keys.lua");
    writeFileSync(keys, "return {#KEYS, #ARGV, KEYS[1], KEYS[2]}\n");
    const keysOnly = await redisCli(port, ["--eval", keys, "x", "y"]);
    assert.equal(keysOnly.stdout, "2\n0\nx\ny\n");

    const bad = join(dir, "bad.lua");
    writeFileSync(bad, "return redis.call('nosuch')\n");
    const err = await redisCli(port, ["--eval", bad]);
    assert.match(
      err.stdout,
      /^ERR Unknown Redis command called from script script: [0-9a-f]{40}, on @user_script:1\./,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await close();
  }
});
