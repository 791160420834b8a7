/**
 * CLIENT LIST's buffer and memory fields as Redis 7.0 computes them: `qbuf`, `argv-mem`,
 * `multi-mem`, `obl`, `oll`, `omem` read the same as redis-server's for the same traffic, and
 * `tot-mem` counts queued MULTI commands, watched keys and subscriptions, so that
 * `maxmemory-clients` evicts a client for them.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { RawConn, startServer } from "./helpers.ts";
import { stockRedis, waitFor } from "./replication_helpers.ts";
import { missing } from "./redis_tools.ts";

/** Reads one reply line, CRLF included. */
async function line(c: RawConn): Promise<string> {
  let s = "";
  while (!s.endsWith("\r\n")) s += await c.read(1);
  return s;
}

/** CLIENT LIST (or INFO) as text. */
async function bulk(c: RawConn, ...argv: string[]): Promise<string> {
  c.command(...argv);
  const head = await line(c);
  assert.match(head, /^\$\d+\r\n$/);
  return (await c.read(Number(head.slice(1, -2)) + 2)).slice(0, -2);
}

/** The fields of the client named `name` in CLIENT LIST. */
async function fieldsOf(c: RawConn, name: string): Promise<Map<string, string>> {
  const list = await bulk(c, "CLIENT", "LIST");
  const entry = list.split("\n").find((l) => l.includes(` name=${name} `));
  assert.ok(entry, `no client named ${name} in ${list}`);
  return new Map(entry.split(" ").map((kv) => kv.split("=", 2) as [string, string]));
}

const COMPARED = ["qbuf", "argv-mem", "multi-mem", "obl", "oll", "omem", "multi", "flags"];

/** The compared fields for three clients: in MULTI, mid-frame, and CLIENT INFO's own. */
async function scenario(port: number): Promise<Record<string, string>> {
  const admin = await RawConn.connect(port);
  const tx = await RawConn.connect(port);
  const half = await RawConn.connect(port);
  try {
    tx.command("CLIENT", "SETNAME", "tx");
    tx.command("MULTI");
    tx.command("SET", "k", "x".repeat(100));
    tx.command("SET", "k", "y".repeat(100));
    const queued = "+OK\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n";
    assert.equal(await tx.expect(queued), queued);
    half.command("CLIENT", "SETNAME", "half");
    assert.equal(await half.expect("+OK\r\n"), "+OK\r\n");
    // A frame cut inside its third argument: SET and k parsed, 3 bytes of the value waiting.
    half.send("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nabc");
    let mid = await fieldsOf(admin, "half");
    await waitFor(async () => (mid = await fieldsOf(admin, "half")).get("qbuf") !== "0", "qbuf");
    const txf = await fieldsOf(admin, "tx");
    const own = (await bulk(admin, "CLIENT", "INFO")).trim().split(" ");
    const out: Record<string, string> = {};
    for (const f of COMPARED) {
      out[`tx.${f}`] = txf.get(f)!;
      out[`half.${f}`] = mid.get(f)!;
      out[`own.${f}`] = own.find((kv) => kv.startsWith(`${f}=`))!.slice(f.length + 1);
    }
    return out;
  } finally {
    admin.close();
    tx.close();
    half.close();
  }
}

test("qbuf, argv-mem and multi-mem are Redis's for a queued MULTI and a cut frame", async () => {
  const { port, close } = await startServer();
  try {
    const got = await scenario(port);
    // Two SETs of 100 bytes: (3 + 1 + 100) bytes and 3 pointers of 8 each.
    assert.equal(got["tx.multi-mem"], "256");
    assert.equal(got["tx.multi"], "2");
    assert.equal(got["half.qbuf"], "3");
    assert.equal(got["half.argv-mem"], "4");
    assert.equal(got["own.qbuf"], "26");
    assert.equal(got["own.argv-mem"], "10");
    assert.equal(got["own.obl"], "0");
    assert.equal(got["own.omem"], "0");
  } finally {
    await close();
  }
});

test("the fields read the same as redis-server's", { skip: missing("redis-server") }, async () => {
  const redis = await stockRedis();
  const ours = await startServer();
  try {
    assert.deepEqual(await scenario(ours.port), await scenario(redis.port));
  } finally {
    await ours.close();
    await redis.stop();
  }
});

test("tot-mem counts watched keys, subscriptions and queued commands", async () => {
  const { port, close } = await startServer();
  const admin = await RawConn.connect(port);
  const c = await RawConn.connect(port);
  const totMem = async () => Number((await fieldsOf(admin, "c")).get("tot-mem"));
  try {
    c.command("CLIENT", "SETNAME", "c");
    assert.equal(await c.expect("+OK\r\n"), "+OK\r\n");
    const start = await totMem();
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
    c.command("WATCH", ...keys);
    assert.equal(await c.expect("+OK\r\n"), "+OK\r\n");
    const watching = await totMem();
    assert.ok(watching >= start + 100 * 40, `${start} -> ${watching}`);
    c.command("MULTI");
    c.command("SET", "k", "v".repeat(10000));
    assert.equal(await c.expect("+OK\r\n+QUEUED\r\n"), "+OK\r\n+QUEUED\r\n");
    const queued = await totMem();
    assert.ok(queued >= watching + 10000, `${watching} -> ${queued}`);
    c.command("DISCARD");
    c.command("UNWATCH");
    c.command("SUBSCRIBE", ...keys);
    await c.expect("+OK\r\n+OK\r\n");
    await waitFor(async () => (await totMem()) >= start + 100 * 40, "subscriptions counted");
  } finally {
    admin.close();
    c.close();
    await close();
  }
});

test("maxmemory-clients evicts a client for the commands it queued in MULTI", async () => {
  const { port, close } = await startServer({ config: { "maxmemory-clients": "200000" } });
  const c = await RawConn.connect(port);
  try {
    c.command("MULTI");
    assert.equal(await c.expect("+OK\r\n"), "+OK\r\n");
    // Five values of 50,000 bytes pass the limit once queued: the connection is closed.
    for (let i = 0; i < 5 && !c.closed; i++) c.command("SET", `k${i}`, "v".repeat(50000));
    assert.ok(await c.waitClosed(), "the client was not evicted");
  } finally {
    c.close();
    await close();
  }
});
