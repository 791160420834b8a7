/**
 * Replication: redeno master and replica with each other and with a stock redis-server 7.0
 * (full sync both ways, the stream of every write type, MULTI and script effects, expiry as DEL),
 * partial resync after a killed link and after a promotion, WAIT, ROLE, INFO replication, the
 * write gates, and a replica that stops reading being cut off at its output buffer limit. The
 * groups plugin's effects on replicas are in replication_groups_test.ts.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { setImmediate } from "node:timers";
import type { Redis } from "ioredis";
import { createServer, ErrorReply, R, type Server, SimpleString } from "../mod.ts";
import { replication } from "../replication/mod.ts";
import { Backlog } from "../replication/backlog.ts";
import { RawConn } from "./helpers.ts";
import {
  client,
  dataset,
  field,
  fieldNames,
  HOST,
  infoText,
  redeno,
  remoteInfo,
  stockRedis,
  waitFor,
} from "./replication_helpers.ts";
import { missing } from "./redis_tools.ts";

/** Writes of every type, in two databases, with TTLs, MULTI, a script and a few rewrites. */
async function writeEverything(c: Redis, tag: string): Promise<void> {
  await c.set(`s:${tag}`, "value\x00\xff");
  await c.set(`ttl:${tag}`, "x", "EX", 1000);
  await c.incrby(`n:${tag}`, 5);
  await c.append(`s:${tag}`, "+more");
  await c.rpush(`l:${tag}`, "a", "b", "c", "d");
  await c.lpop(`l:${tag}`);
  await c.hset(`h:${tag}`, "f1", "v1", "f2", "v2");
  await c.hincrby(`h:${tag}`, "n", 3);
  await c.sadd(`set:${tag}`, "1", "2", "3", "x");
  await c.spop(`set:${tag}`);
  await c.zadd(`z:${tag}`, 1.5, "a", 2, "b", 3, "c");
  await c.zincrby(`z:${tag}`, 10, "a");
  await c.expire(`l:${tag}`, 500);
  await c.multi().set(`m1:${tag}`, "1").incr(`m2:${tag}`).lpush(`ml:${tag}`, "q").exec();
  await c.eval(
    "redis.call('SET', KEYS[1], ARGV[1]); redis.call('SADD', KEYS[2], ARGV[1]); return 1",
    2,
    `e1:${tag}`,
    `e2:${tag}`,
    "from-script",
  );
  await c.select(4);
  await c.set(`db4:${tag}`, "four");
  await c.hset(`db4h:${tag}`, "k", "v");
  await c.select(0);
  await c.set(`del:${tag}`, "gone");
  await c.del(`del:${tag}`);
}

test("a redeno replica loads the master's data, follows writes of every type, WAIT 1 returns 1", async () => {
  // No PING in the stream meanwhile: the offsets compared below stay put.
  const m = await redeno({ "repl-ping-replica-period": "3600" });
  const r = await redeno();
  const mc = client(m.port);
  const rc = client(r.port);
  try {
    await writeEverything(mc, "before");
    assert.equal(await rc.call("REPLICAOF", HOST, String(m.port)), "OK");
    await waitFor(() => field(infoText(r.s, "replication"), "master_link_status") === "up", "sync");
    await writeEverything(mc, "after");
    assert.equal(await mc.call("WAIT", "1", "2000"), 1);
    assert.deepEqual(await dataset(r.port), await dataset(m.port));
    assert.ok((await dataset(m.port)).some((l) => l.startsWith("4:db4:after:string:four")));
    // The replica refuses writes from ordinary clients.
    await assert.rejects(
      rc.set("x", "1"),
      /^ReplyError: READONLY You can't write against a read only replica\.$/,
    );
    await assert.rejects(rc.call("WAIT", "0", "0"), /WAIT cannot be used with replica instances/);
    // ROLE on both sides.
    const offset = Number(field(infoText(m.s, "replication"), "master_repl_offset"));
    assert.deepEqual(await rc.call("ROLE"), ["slave", HOST, m.port, "connected", offset]);
    await waitFor(async () => {
      const role = (await mc.call("ROLE")) as [string, number, string[][]];
      return role[2][0]?.[2] === String(offset);
    }, "the replica's ACK in ROLE");
    assert.deepEqual(await mc.call("ROLE"), [
      "master",
      offset,
      [[HOST, String(r.port), String(offset)]],
    ]);
    const mi = infoText(m.s, "replication");
    assert.equal(field(mi, "role"), "master");
    assert.equal(field(mi, "connected_slaves"), "1");
    assert.equal(
      field(mi, "slave0"),
      `ip=${HOST},port=${r.port},state=online,offset=${offset},lag=0`,
    );
    assert.equal(field(mi, "repl_backlog_active"), "1");
    assert.equal(field(mi, "repl_backlog_histlen"), String(offset));
    const ri = infoText(r.s, "replication");
    assert.equal(field(ri, "master_replid"), field(mi, "master_replid"));
    assert.equal(field(ri, "slave_repl_offset"), String(offset));
    assert.equal(field(ri, "master_sync_in_progress"), "0");
    assert.equal(field(infoText(m.s, "stats"), "sync_full"), "1");
  } finally {
    mc.disconnect();
    rc.disconnect();
    await r.s.close();
    await m.s.close();
  }
});

test("a stock redis-server completes a full sync from redeno and follows its writes", {
  skip: missing("redis-server"),
}, async () => {
  const m = await redeno();
  const mc = client(m.port);
  await writeEverything(mc, "before");
  const redis = await stockRedis(["--replicaof", HOST, String(m.port)]);
  try {
    await waitFor(
      async () => field(await remoteInfo(redis.port, "replication"), "master_link_status") === "up",
      "redis-server to sync",
    );
    await writeEverything(mc, "after");
    assert.equal(await mc.call("WAIT", "1", "2000"), 1);
    assert.deepEqual(await dataset(redis.port), await dataset(m.port));
    const ri = await remoteInfo(redis.port, "replication");
    assert.equal(field(ri, "master_replid"), field(infoText(m.s, "replication"), "master_replid"));
  } finally {
    mc.disconnect();
    await redis.stop();
    await m.s.close();
  }
});

test("redeno follows a stock redis-server master and answers ROLE and INFO like a Redis replica", {
  skip: missing("redis-server"),
}, async () => {
  const master = await stockRedis();
  const twin = await stockRedis(["--replicaof", HOST, String(master.port)]);
  const mc = client(master.port);
  const r = await redeno({ replicaof: `${HOST} ${master.port}` });
  try {
    await writeEverything(mc, "before");
    await mc.set("short", "lived", "PX", 200);
    await waitFor(() => field(infoText(r.s, "replication"), "master_link_status") === "up", "sync");
    await writeEverything(mc, "after");
    // The master expires the key and replicates a DEL; the replica never expires keys itself.
    await waitFor(async () => (await mc.exists("short")) === 0, "the master's expiry");
    assert.equal(await mc.call("WAIT", "2", "2000"), 2);
    const expected = await dataset(master.port);
    assert.deepEqual(await dataset(r.port), expected);
    assert.ok(!expected.some((l) => l.includes(":short:")));
    // Both replicas applied the whole stream (the GETACK of WAIT included).
    await waitFor(async () => {
      const end = field(await remoteInfo(master.port, "replication"), "master_repl_offset");
      return field(infoText(r.s, "replication"), "slave_repl_offset") === end &&
        field(await remoteInfo(twin.port, "replication"), "slave_repl_offset") === end;
    }, "both replicas to apply everything");
    const mine = infoText(r.s, "replication");
    const theirs = await remoteInfo(twin.port, "replication");
    assert.deepEqual(fieldNames(mine), fieldNames(theirs));
    for (const f of ["role", "master_host", "master_port", "master_link_status", "master_replid"]) {
      assert.equal(field(mine, f), field(theirs, f), f);
    }
    assert.equal(field(mine, "slave_repl_offset"), field(theirs, "slave_repl_offset"));
    const rc = client(r.port);
    try {
      const role = (await rc.call("ROLE")) as unknown[];
      assert.deepEqual(role.slice(0, 4), ["slave", HOST, master.port, "connected"]);
      assert.equal(role[4], Number(field(mine, "slave_repl_offset")));
    } finally {
      rc.disconnect();
    }
  } finally {
    mc.disconnect();
    await r.s.close();
    await twin.stop();
    await master.stop();
  }
});

test("killing the replication link under write load ends in a partial resync", async () => {
  // The replica reconnects within a second (replicationCron): the backlog must hold that long.
  const m = await redeno({ "repl-backlog-size": "64mb" });
  const r = await redeno({ replicaof: `${HOST} ${m.port}` });
  const mc = client(m.port);
  let stop = false;
  let n = 0;
  let load: Promise<void> = Promise.resolve();
  try {
    await waitFor(() => field(infoText(r.s, "replication"), "master_link_status") === "up", "sync");
    load = (async () => {
      while (!stop) {
        const p = mc.pipeline();
        for (let i = 0; i < 50; i++) p.incr("counter").rpush("log", String(n++));
        await p.exec();
      }
    })();
    await new Promise((res) => setTimeout(res, 200));
    assert.equal(m.s.dispatch(["CLIENT", "KILL", "TYPE", "replica"]), 1);
    await waitFor(
      () => field(infoText(m.s, "stats"), "sync_partial_ok") === "1",
      "the partial resync",
    );
    await new Promise((res) => setTimeout(res, 200));
    stop = true;
    await load;
    assert.equal(await mc.call("WAIT", "1", "3000"), 1);
    assert.deepEqual(await dataset(r.port), await dataset(m.port));
    const stats = infoText(m.s, "stats");
    assert.equal(field(stats, "sync_full"), "1");
    assert.equal(field(stats, "sync_partial_err"), "0");
  } finally {
    stop = true;
    await load.catch(() => {});
    mc.disconnect();
    await r.s.close();
    await m.s.close();
  }
});

test("a promoted replica keeps serving and its sibling continues from it partially", async () => {
  const m = await redeno();
  const a = await redeno({ replicaof: `${HOST} ${m.port}` });
  const b = await redeno({ replicaof: `${HOST} ${m.port}` });
  const mc = client(m.port);
  const ac = client(a.port);
  try {
    const up = (s: Server) => field(infoText(s, "replication"), "master_link_status") === "up";
    await waitFor(() => up(a.s) && up(b.s), "both replicas");
    await writeEverything(mc, "x");
    assert.equal(await mc.call("WAIT", "2", "2000"), 2);
    // Both hold the whole stream (the GETACK of WAIT included) before the promotion.
    const offset = (s: Server, name: string) => field(infoText(s, "replication"), name);
    await waitFor(
      () =>
        offset(a.s, "slave_repl_offset") === offset(m.s, "master_repl_offset") &&
        offset(b.s, "slave_repl_offset") === offset(m.s, "master_repl_offset"),
      "both replicas to apply everything",
    );
    const oldId = field(infoText(m.s, "replication"), "master_replid");
    assert.equal(await ac.call("REPLICAOF", "NO", "ONE"), "OK");
    const ai = infoText(a.s, "replication");
    assert.equal(field(ai, "role"), "master");
    assert.equal(field(ai, "master_replid2"), oldId);
    assert.notEqual(field(ai, "master_replid"), oldId);
    await ac.set("written-on-a", "1");
    b.s.dispatch(["REPLICAOF", HOST, String(a.port)]);
    await waitFor(() => up(b.s), "the sibling to attach");
    assert.equal(await ac.call("WAIT", "1", "2000"), 1);
    assert.equal(field(infoText(a.s, "stats"), "sync_partial_ok"), "1");
    assert.equal(field(infoText(a.s, "stats"), "sync_full"), "0");
    assert.deepEqual(await dataset(b.port), await dataset(a.port));
    assert.equal(field(infoText(b.s, "replication"), "master_replid"), field(ai, "master_replid"));
  } finally {
    mc.disconnect();
    ac.disconnect();
    await b.s.close();
    await a.s.close();
    await m.s.close();
  }
});

test("a replica that stops reading is cut off at the output buffer limit; writes never wait", async () => {
  const m = await redeno({ "client-output-buffer-limit": "replica 1mb 0 0" });
  const fake = await RawConn.connect(m.port);
  try {
    fake.command("PSYNC", "?", "-1");
    await waitFor(() => fake.pending.includes("\r\n$"), "the RDB header");
    fake.socket.pause();
    const big = "v".repeat(256 * 1024);
    // One write per event-loop turn: the channel's writer runs in between and fills the socket.
    // Each write is answered synchronously (dispatch cannot wait on a socket), so 16 MB of writes
    // complete while the replica reads nothing. (No timing assertion: it would flake under load.)
    for (let i = 0; i < 64; i++) {
      assert.deepEqual(m.s.dispatch(["SET", `k${i}`, big]), R.ok);
      await new Promise((res) => setImmediate(res));
    }
    await waitFor(
      () => field(infoText(m.s, "replication"), "connected_slaves") === "0",
      "the replica to be dropped",
    );
    fake.socket.resume();
    assert.ok(await fake.waitClosed());
    assert.equal(m.s.dispatch(["DBSIZE"]), 64);
  } finally {
    fake.close();
    await m.s.close();
  }
});

test("REPLCONF, PSYNC and WAIT answer as Redis does", async () => {
  const m = await redeno();
  const s = m.s;
  try {
    assert.equal(s.dispatch(["WAIT", "1", "0"]), 0);
    assert.deepEqual(
      s.dispatch(["WAIT", "x", "0"]),
      new ErrorReply("ERR value is not an integer or out of range"),
    );
    assert.deepEqual(s.dispatch(["WAIT", "0", "-1"]), new ErrorReply("ERR timeout is negative"));
    assert.deepEqual(
      s.dispatch(["REPLCONF", "listening-port"]),
      new ErrorReply("ERR syntax error"),
    );
    assert.deepEqual(
      s.dispatch(["REPLCONF", "foo", "bar"]),
      new ErrorReply("ERR Unrecognized REPLCONF option: foo"),
    );
    assert.deepEqual(
      s.dispatch(["REPLCONF", "listening-port", "1", "capa", "eof"]),
      new SimpleString("OK"),
    );
    assert.deepEqual(
      s.dispatch(["REPLICAOF", HOST, "70000"]),
      new ErrorReply("ERR Invalid master port"),
    );
    assert.deepEqual(s.dispatch(["ROLE"]), ["master", 0, []]);
    const conn = await RawConn.connect(m.port);
    try {
      conn.command("REPLCONF", "capa", "eof", "capa", "psync2");
      assert.equal(await conn.expect("+OK\r\n"), "+OK\r\n");
      conn.command("PSYNC", "?", "-1");
      const line = await conn.read(56);
      const id = field(infoText(s, "replication"), "master_replid");
      assert.equal(line, `+FULLRESYNC ${id} 0\r\n`);
      assert.equal(await conn.read(5), "$EOF:");
      const stats = infoText(s, "stats");
      assert.equal(field(stats, "sync_full"), "1");
      assert.equal(field(stats, "sync_partial_err"), "0");
    } finally {
      conn.close();
    }
  } finally {
    await s.close();
  }
});

test("the backlog keeps the newest bytes across wrap-arounds and resizes", () => {
  const b = new Backlog(100, 1);
  let stream = "";
  let seed = 7;
  for (let i = 0; i < 200; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const n = seed % 150;
    const chunk = String.fromCharCode(...Array.from({ length: n }, (_, k) => (i + k) & 0xff));
    b.append(Uint8Array.from(chunk, (c) => c.charCodeAt(0)));
    stream += chunk;
    if (i === 120) b.resize(64);
    const first = stream.length - b.histlen + 1;
    assert.equal(b.firstOffset, first);
    assert.ok(b.covers(first) && b.covers(stream.length + 1) && !b.covers(first - 1));
    const from = first + (seed % (b.histlen + 1));
    const got = String.fromCharCode(...b.from(from));
    assert.equal(got, stream.slice(from - 1));
  }
  assert.equal(b.histlen, 64);
});

test("replicas refuse with MASTERDOWN while the link is down; NOREPLICAS without good replicas", async () => {
  const down = await redeno({ replicaof: `${HOST} 1`, "replica-serve-stale-data": "no" });
  try {
    assert.deepEqual(
      down.s.dispatch(["GET", "k"]),
      new ErrorReply(
        "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
      ),
    );
    const info = infoText(down.s, "replication");
    assert.equal(field(info, "master_link_status"), "down");
    assert.equal(field(info, "slave_repl_offset"), "1");
    assert.equal(field(info, "master_link_down_since_seconds"), "-1");
    const role = down.s.dispatch(["ROLE"]) as unknown[];
    assert.deepEqual([role[0], role[1], role[2], role[4]], ["slave", HOST, 1, -1]);
    assert.equal(down.s.dispatch(["REPLICAOF", "NO", "ONE"]) instanceof SimpleString, true);
    assert.equal(down.s.dispatch(["SET", "k", "v"]) instanceof SimpleString, true);
  } finally {
    await down.s.close();
  }
  const m = await redeno({ "min-replicas-to-write": "1" });
  try {
    assert.deepEqual(
      m.s.dispatch(["SET", "k", "v"]),
      new ErrorReply("NOREPLICAS Not enough good replicas to write."),
    );
    assert.equal(field(infoText(m.s, "replication"), "min_slaves_good_slaves"), "0");
    assert.equal(m.s.dispatch(["GET", "k"]), null);
  } finally {
    await m.s.close();
  }
});

test("a replica whose missing bytes left the backlog gets a full sync", async () => {
  const m = await redeno({ "repl-backlog-size": "16kb" });
  const r = await redeno({ replicaof: `${HOST} ${m.port}` });
  try {
    const up = () => field(infoText(r.s, "replication"), "master_link_status") === "up";
    await waitFor(up, "sync");
    // The replica goes away and the master writes more than its backlog holds meanwhile.
    r.s.dispatch(["REPLICAOF", HOST, "1"]);
    await waitFor(() => field(infoText(m.s, "replication"), "connected_slaves") === "0", "drop");
    for (let i = 0; i < 100; i++) m.s.dispatch(["SET", `k${i}`, "x".repeat(1000)]);
    r.s.dispatch(["REPLICAOF", HOST, String(m.port)]);
    await waitFor(up, "resync");
    const stats = infoText(m.s, "stats");
    assert.equal(field(stats, "sync_full"), "2");
    assert.equal(field(stats, "sync_partial_err"), "1");
    assert.equal(r.s.dispatch(["DBSIZE"]), 100);
  } finally {
    await r.s.close();
    await m.s.close();
  }
});

/** One connection to a scripted master: reads exact byte counts, sends latin1 text. */
class Peer {
  private buf = "";
  private wake: () => void = () => {};
  constructor(readonly socket: net.Socket) {
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => {
      this.buf += d;
      this.wake();
    });
    socket.on("error", () => {});
  }
  async read(n: number): Promise<string> {
    while (this.buf.length < n) await new Promise<void>((r) => (this.wake = r));
    const out = this.buf.slice(0, n);
    this.buf = this.buf.slice(n);
    return out;
  }
  send(text: string): void {
    this.socket.write(Buffer.from(text, "latin1"));
  }
}

/** A scripted master: accepts replica links and hands each one to `serve`. */
async function fakeMaster(serve: (peer: Peer) => Promise<void>) {
  const conns: net.Socket[] = [];
  const srv = net.createServer((socket) => {
    conns.push(socket);
    void serve(new Peer(socket)).catch(() => socket.destroy());
  });
  await new Promise<void>((r) => srv.listen(0, HOST, r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    close: async () => {
      for (const c of conns) c.destroy();
      await new Promise((r) => srv.close(r));
    },
  };
}

test("the replica's handshake, and a link lost inside MULTI resumes at the MULTI", async () => {
  const id = "a".repeat(40);
  const multi = "*1\r\n$5\r\nMULTI\r\n";
  const set = "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n";
  const exec = "*1\r\n$4\r\nEXEC\r\n";
  let links = 0;
  let dropped: () => void = () => {};
  const lost = new Promise<void>((r) => (dropped = r));
  const mismatches: string[] = [];
  const master = await fakeMaster(async (c) => {
    const link = ++links;
    const expect = async (cmd: string[], reply: string) => {
      const want = `*${cmd.length}\r\n` + cmd.map((a) => `$${a.length}\r\n${a}\r\n`).join("");
      const got = await c.read(want.length);
      if (got !== want) {
        mismatches.push(`${JSON.stringify(got)} instead of ${JSON.stringify(want)}`);
      }
      c.send(reply);
    };
    await expect(["PING"], "+PONG\r\n");
    await expect(["REPLCONF", "listening-port", String(replicaPort)], "+OK\r\n");
    await expect(["REPLCONF", "capa", "eof", "capa", "psync2"], "+OK\r\n");
    if (link === 1) {
      // A master turned replica offers its own history (replicationCacheMasterUsingMyself).
      await expect(["PSYNC", ownId, "1"], `\n+FULLRESYNC ${id} 0\r\n`);
      // An empty RDB image (version 10, checksum disabled), then half a transaction.
      const rdb = "REDIS0010\xff" + "\0".repeat(8);
      c.send(`$${rdb.length}\r\n${rdb}${multi}${set}`);
      await lost;
      c.socket.destroy();
    } else {
      await expect(["PSYNC", id, "1"], `+CONTINUE ${id}\r\n${multi}${set}${exec}`);
    }
  });
  let replicaPort = 0;
  let ownId = "";
  const r = createServer({ plugins: [replication()] });
  replicaPort = (await r.listen({ port: 0, hostname: HOST })).port;
  try {
    const info = () => infoText(r, "replication");
    ownId = field(info(), "master_replid")!;
    r.dispatch(["REPLICAOF", HOST, String(master.port)]);
    await waitFor(
      () => field(info(), "slave_read_repl_offset") === String((multi + set).length),
      "half a MULTI",
    );
    assert.equal(field(info(), "slave_repl_offset"), "0");
    assert.equal(r.dispatch(["GET", "a"]), null);
    dropped();
    await waitFor(() => r.dispatch(["GET", "a"]) === "1", "the transaction after PSYNC");
    assert.equal(field(info(), "slave_repl_offset"), String((multi + set + exec).length));
    assert.equal(links, 2);
    assert.deepEqual(mismatches, []);
  } finally {
    await r.close();
    await master.close();
  }
});

test("WAIT asks replicas for an ACK with GETACK and times out with the count reached", async () => {
  const m = await redeno();
  const fake = await RawConn.connect(m.port);
  const c = await RawConn.connect(m.port);
  try {
    fake.command("REPLCONF", "listening-port", "1234");
    await fake.expect("+OK\r\n");
    fake.command("PSYNC", "?", "-1");
    await waitFor(
      () => field(infoText(m.s, "replication"), "slave0")?.includes("online") === true,
      "online",
    );
    c.command("SET", "k", "v");
    assert.equal(await c.expect("+OK\r\n"), "+OK\r\n");
    const started = Date.now();
    c.command("WAIT", "1", "300");
    assert.equal(await c.read(4, 3000), ":0\r\n");
    assert.ok(Date.now() - started >= 290);
    const getack = "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n";
    await waitFor(() => fake.pending.includes(getack), "GETACK in the stream");
    // The stream: SELECT, the SET, then GETACK; an ACK up to the SET satisfies the next WAIT.
    const stream = fake.pending.slice(fake.pending.indexOf("*2\r\n$6\r\nSELECT"));
    const setEnd = stream.indexOf(getack);
    fake.command("REPLCONF", "ACK", String(setEnd));
    c.command("WAIT", "1", "0");
    assert.equal(await c.read(4, 3000), ":1\r\n");
    assert.equal(
      field(infoText(m.s, "replication"), "slave0"),
      `ip=${HOST},port=1234,state=online,offset=${setEnd},lag=0`,
    );
  } finally {
    c.close();
    fake.close();
    await m.s.close();
  }
});
