/**
 * WAITAOF numlocal numreplicas timeout (Redis 7.2): its arguments, errors and replies (MULTI and
 * scripts answer at once) asserted directly and side by side with the 7.4.1 reference; the local
 * count following the AOF's syncs under each appendfsync policy; replicas counted by the FACK of
 * their ACKs: a redeno replica, a 7.4.1 reference replica of redeno and a redeno replica of the
 * reference, and a 7.0.15 replica, which sends no FACK and so never counts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RawConn, startServer } from "./helpers.ts";
import { pipeline } from "./redis_compare.ts";
import { compareWithReference, REFERENCE_74, startReference } from "./reference_redis.ts";
import { client, HOST, redeno, stockRedis, waitFor } from "./replication_helpers.ts";
import { missing } from "./redis_tools.ts";
import { replication } from "../replication/mod.ts";

const NO_REF = REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false;

const RANGE = "-ERR value is out of range, value must between 0 and 1\r\n";
const POSITIVE = "-ERR value is out of range, must be positive\r\n";
const NO_AOF = "-ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.\r\n";
const NONE = "*2\r\n:0\r\n:0\r\n";
const LOCAL = "*2\r\n:1\r\n:0\r\n";

/** Each case: a command and its raw RESP2 reply, on a master without replicas. */
const CASES: Array<[string, string]> = [
  ["WAITAOF 1 0 0", NO_AOF],
  ["WAITAOF 0 0 0", NONE],
  ["WAITAOF 2 0 0", RANGE],
  ["WAITAOF -1 0 0", RANGE],
  ["WAITAOF x 0 0", "-ERR value is not an integer or out of range\r\n"],
  ["WAITAOF 0 -1 0", POSITIVE],
  ["WAITAOF 0 x 0", POSITIVE],
  ["WAITAOF 0 0 -1", "-ERR timeout is negative\r\n"],
  ["WAITAOF 0 0 x", "-ERR timeout is not an integer or out of range\r\n"],
  ["WAITAOF 0 0", "-ERR wrong number of arguments for 'waitaof' command\r\n"],
  ["SET k v", "+OK\r\n"],
  // Times out with what was synced: nothing, no AOF and no replica.
  ["WAITAOF 0 1 10", NONE],
  // Where it cannot block, it answers at once.
  ["MULTI", "+OK\r\n"],
  ["WAITAOF 0 1 0", "+QUEUED\r\n"],
  ["EXEC", `*1\r\n${NONE}`],
  ["EVAL return\u0020redis.call('waitaof',0,1,0) 0", NONE],
  ["CONFIG SET appendonly yes", "+OK\r\n"],
  // Nothing written since: synced as far as this client is concerned.
  ["WAITAOF 1 0 0", LOCAL],
  // A write waits for the first rewrite and then for the sync that covers it, per policy.
  ["SET k v", "+OK\r\n"],
  ["WAITAOF 1 0 0", LOCAL],
  ["CONFIG SET appendfsync always", "+OK\r\n"],
  ["SET k v", "+OK\r\n"],
  ["WAITAOF 1 0 0", LOCAL],
  ["CONFIG SET appendfsync no", "+OK\r\n"],
  ["SET k v", "+OK\r\n"],
  ["WAITAOF 1 0 300", NONE],
  ["CONFIG SET appendfsync everysec", "+OK\r\n"],
  ["WAITAOF 1 0 0", LOCAL],
  ["SET k v", "+OK\r\n"],
  ["WAITAOF 1 0 0", LOCAL],
  ["CONFIG SET appendonly no", "+OK\r\n"],
  ["WAITAOF 0 0 0", NONE],
  ["WAITAOF 1 0 0", NO_AOF],
];

const split = (line: string) => line.split(" ").map((a) => a.replaceAll("\u0020", " "));
const argv = (line: string) =>
  line.startsWith("EVAL ") ? ["EVAL", "return redis.call('waitaof',0,1,0)", "0"] : split(line);

test("WAITAOF answers Redis 7.4.1's replies, the local count following the AOF's syncs", async () => {
  const dir = mkdtempSync(join(tmpdir(), "redeno-waitaof-"));
  const ours = await startServer({ plugins: [replication()], config: { dir } });
  const c = await RawConn.connect(ours.port);
  try {
    const got = await pipeline(c, CASES.map(([cmd]) => argv(cmd)));
    CASES.forEach(([cmd, want], i) => assert.equal(got[i], want, `${cmd} (${i})`));
  } finally {
    c.close();
    await ours.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the same commands side by side with the 7.4.1 reference", { skip: NO_REF }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "redeno-waitaof-"));
  try {
    await compareWithReference(CASES.map(([cmd]) => argv(cmd)), false, {
      server: { plugins: [replication()], config: { dir } },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A temporary directory for a server's AOF, removed by `done`. */
function tempDir(): { dir: string; done(): void } {
  const dir = mkdtempSync(join(tmpdir(), "redeno-waitaof-"));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

async function linkUp(port: number): Promise<void> {
  const c = client(port);
  try {
    await waitFor(async () => /master_link_status:up/.test(await c.info("replication")), "sync");
  } finally {
    c.disconnect();
  }
}

/** WAITAOF on a fresh connection to `master` after a write, with a timeout of `ms`. */
async function writeThenWaitaof(
  master: number,
  numlocal: number,
  numreplicas: number,
  ms: number,
): Promise<unknown> {
  const c = client(master);
  try {
    await c.set("k", "v");
    return await c.call("WAITAOF", String(numlocal), String(numreplicas), String(ms));
  } finally {
    c.disconnect();
  }
}

test("a redeno replica counts for WAITAOF once its AOF synced, and refuses WAITAOF itself", async () => {
  const [a, b] = [tempDir(), tempDir()];
  const m = await redeno({ dir: a.dir, appendonly: "yes" });
  const r = await redeno({ dir: b.dir, appendonly: "yes", replicaof: `${HOST} ${m.port}` });
  const plain = await redeno({ replicaof: `${HOST} ${m.port}` });
  try {
    await linkUp(r.port);
    await linkUp(plain.port);
    const c = client(m.port);
    try {
      await c.set("k", "v");
      assert.deepEqual(await c.call("WAITAOF", "1", "1", "5000"), [1, 1]);
      // Both replicas acknowledged the write; only the one with an AOF counts for WAITAOF.
      assert.equal(await c.call("WAIT", "2", "5000"), 2);
      assert.deepEqual(await c.call("WAITAOF", "0", "2", "100"), [1, 1]);
    } finally {
      c.disconnect();
    }
    const rc = client(r.port);
    try {
      await assert.rejects(
        rc.call("WAITAOF", "0", "0", "0"),
        /^ReplyError: ERR WAITAOF cannot be used with replica instances\. Please also note that writes to replicas are just local and are not propagated\.$/,
      );
    } finally {
      rc.disconnect();
    }
  } finally {
    await plain.s.close();
    await r.s.close();
    await m.s.close();
    a.done();
    b.done();
  }
});

test("a 7.4.1 reference replica of redeno acknowledges its AOF", { skip: NO_REF }, async () => {
  const a = tempDir();
  const m = await redeno({ dir: a.dir, appendonly: "yes" });
  const ref = await startReference(["--appendonly", "yes", "--replicaof", HOST, String(m.port)]);
  try {
    await linkUp(ref.port);
    assert.deepEqual(await writeThenWaitaof(m.port, 1, 1, 5000), [1, 1]);
  } finally {
    ref.stop();
    await m.s.close();
    a.done();
  }
});

test("a redeno replica of the 7.4.1 reference acknowledges its AOF", { skip: NO_REF }, async () => {
  const b = tempDir();
  const ref = await startReference(["--appendonly", "yes"]);
  const r = await redeno({ dir: b.dir, appendonly: "yes", replicaof: `${HOST} ${ref.port}` });
  try {
    await linkUp(r.port);
    assert.deepEqual(await writeThenWaitaof(ref.port, 1, 1, 5000), [1, 1]);
  } finally {
    await r.s.close();
    ref.stop();
    b.done();
  }
});

test("a 7.0.15 replica sends no FACK: WAIT counts it, WAITAOF does not", {
  skip: missing("redis-server"),
}, async () => {
  const m = await redeno();
  const stock = await stockRedis(["--appendonly", "yes", "--replicaof", HOST, String(m.port)]);
  try {
    await linkUp(stock.port);
    assert.deepEqual(await writeThenWaitaof(m.port, 0, 1, 300), [0, 0]);
    const c = client(m.port);
    try {
      await c.set("k", "w");
      assert.equal(await c.call("WAIT", "1", "5000"), 1);
    } finally {
      c.disconnect();
    }
  } finally {
    await stock.stop();
    await m.s.close();
  }
});

/** `master_repl_offset` of INFO replication on `port`. */
async function replOffset(port: number): Promise<number> {
  const c = client(port);
  try {
    return Number(/master_repl_offset:(\d+)/.exec(await c.info("replication"))![1]);
  } finally {
    c.disconnect();
  }
}

/** Two writes and a script of two writes (MULTI, SET, SET, EXEC), then the offset. */
async function offsetAfterWrites(port: number): Promise<number> {
  const c = client(port);
  try {
    await c.set("a", "1");
    await c.set("b", "1");
    await c.call("EVAL", "redis.call('set', 'x', 1) redis.call('set', 'y', 1)", "0");
  } finally {
    c.disconnect();
  }
  return await replOffset(port);
}

test("without replicas, the offset counts one per write effect while the AOF is on", async () => {
  const a = tempDir();
  const on = await redeno({ dir: a.dir, appendonly: "yes" });
  const off = await redeno();
  try {
    assert.equal(await offsetAfterWrites(on.port), 6);
    // With neither a backlog nor an AOF, nothing counts.
    assert.equal(await offsetAfterWrites(off.port), 0);
  } finally {
    await on.s.close();
    await off.s.close();
    a.done();
  }
});

test("the same offsets on the 7.4.1 reference", { skip: NO_REF }, async () => {
  const on = await startReference(["--appendonly", "yes"]);
  const off = await startReference();
  try {
    assert.equal(await offsetAfterWrites(on.port), 6);
    assert.equal(await offsetAfterWrites(off.port), 0);
  } finally {
    on.stop();
    off.stop();
  }
});
