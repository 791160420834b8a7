/**
 * CLIENT PAUSE and CLIENT UNPAUSE beside redis-server 7.0.15: which commands wait, that they
 * wait (postponed, their pipelined input kept in order) rather than fail, EXEC and scripts, the
 * dataset held still (no expiry, logical or active), pauses that extend but never shorten, a pause
 * given inside MULTI, and a paused replica that reads its master's stream without applying it.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, SimpleString } from "../mod.ts";
import { ManualClock } from "../core/clock.ts";
import { PauseType } from "../core/pause.ts";
import { RawConn, startServer } from "./helpers.ts";
import { compareWithRedis, pipeline, replyEnd, startRedis } from "./redis_compare.ts";
import { missing } from "./redis_tools.ts";
import { client, field, HOST, infoText, redeno, waitFor } from "./replication_helpers.ts";

const skip = missing("redis-server");

/** A server under test: redis-server or redeno, on a port. */
interface Target {
  port: number;
  stop(): Promise<void>;
}

async function both(): Promise<{ redis: Target; ours: Target }> {
  const r = await startRedis();
  const o = await startServer();
  return {
    redis: { port: r.port, stop: () => Promise.resolve(r.stop()) },
    ours: { port: o.port, stop: () => o.close() },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The next whole reply on `c` (raw bytes). */
async function readReply(c: RawConn): Promise<string> {
  for (let i = 0; i < 1000; i++) {
    const end = replyEnd(c.pending, 0);
    if (end > 0) return c.read(end);
    await sleep(5);
  }
  throw new Error(`No reply, have ${JSON.stringify(c.pending)}`);
}

/** One command on `c`, its raw reply. */
async function cmd(c: RawConn, ...argv: string[]): Promise<string> {
  return (await pipeline(c, [argv]))[0]!;
}

async function infoField(ctl: RawConn, section: string, name: string): Promise<string> {
  const text = await cmd(ctl, "INFO", section);
  return new RegExp(`\\r\\n${name}:([^\\r]*)`).exec(text)?.[1] ?? "";
}

/**
 * Sends `argv` on `c` while a pause is in effect: postponed when blocked_clients rose before any
 * reply came. Then unpauses, and returns its reply too.
 */
async function probeOn(
  c: RawConn,
  ctl: RawConn,
  argv: string[],
): Promise<{ postponed: boolean; reply: string }> {
  c.command(...argv);
  let postponed = false;
  for (let i = 0; i < 1000; i++) {
    if (replyEnd(c.pending, 0) > 0) break;
    if (await infoField(ctl, "clients", "blocked_clients") === "1") {
      postponed = true;
      break;
    }
    await sleep(5);
  }
  await cmd(ctl, "CLIENT", "UNPAUSE");
  return { postponed, reply: await readReply(c) };
}

/** probeOn() on a fresh connection. */
async function probe(port: number, ctl: RawConn, argv: string[]) {
  const c = await RawConn.connect(port);
  try {
    return await probeOn(c, ctl, argv);
  } finally {
    c.close();
  }
}

const NO_WRITES = "#!lua flags=no-writes\nreturn 1";

/** Each command, and whether CLIENT PAUSE WRITE holds it (Redis 7.0.15's rule). */
const WRITE_RULE: Array<[string[], boolean]> = [
  [["SET", "k", "v"], true],
  [["GET", "k"], false],
  [["PING"], false],
  [["INFO", "server"], false],
  [["PUBLISH", "ch", "m"], true],
  [["PFCOUNT", "hll"], true],
  [["EVAL", "return 1", "0"], true],
  [["EVAL", "#!lua\nreturn 1", "0"], true],
  [["EVAL", NO_WRITES, "0"], false],
  [["EVAL_RO", "return 1", "0"], false],
  [["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"], true],
  [["FCALL", "w", "0"], true],
  [["FCALL", "r", "0"], false],
  [["FCALL_RO", "r", "0"], false],
  [["FCALL", "nosuchfunction", "0"], true],
];

const LIB = "#!lua name=lib\n" +
  "redis.register_function('w', function() return 'w' end)\n" +
  "redis.register_function{function_name='r', callback=function() return 'r' end, " +
  "flags={'no-writes'}}";

test("CLIENT PAUSE WRITE holds writes and may-replicate commands, as redis-server", {
  skip,
}, async () => {
  const { redis, ours } = await both();
  try {
    for (const t of [redis, ours]) {
      const ctl = await RawConn.connect(t.port);
      await cmd(ctl, "FUNCTION", "LOAD", LIB);
      for (const [argv, held] of WRITE_RULE) {
        assert.equal(await cmd(ctl, "CLIENT", "PAUSE", "100000", "WRITE"), "+OK\r\n");
        const { postponed } = await probe(t.port, ctl, argv);
        assert.equal(postponed, held, `${argv[0]} ${argv[1] ?? ""} on port ${t.port}`);
      }
      ctl.close();
    }
  } finally {
    await redis.stop();
    await ours.stop();
  }
});

test("a postponed client keeps its pipeline in order and shows flag b, as redis-server", {
  skip,
}, async () => {
  const { redis, ours } = await both();
  try {
    const seen: string[][] = [];
    for (const t of [redis, ours]) {
      const ctl = await RawConn.connect(t.port);
      const a = await RawConn.connect(t.port);
      const out: string[] = [];
      await cmd(ctl, "CLIENT", "PAUSE", "100000", "WRITE");
      // A read, then a write that waits, then commands pipelined behind it.
      a.send(
        "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n" +
          "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n",
      );
      out.push(await readReply(a));
      await waitFor(async () => await infoField(ctl, "clients", "blocked_clients") === "1", "b");
      const list = await cmd(ctl, "CLIENT", "LIST");
      const line = list.split("\n").find((l) => l.includes("id=") && !l.includes("client|list"))!;
      out.push(/flags=(\S+)/.exec(line)![1]!, /cmd=(\S+)/.exec(line)![1]!);
      // Another client still reads while `a` waits; the key is not written yet.
      out.push(await cmd(ctl, "GET", "k"));
      assert.equal(a.pending, "");
      out.push(await cmd(ctl, "CLIENT", "UNPAUSE"));
      for (let i = 0; i < 3; i++) out.push(await readReply(a));
      out.push(await infoField(ctl, "clients", "blocked_clients"));
      seen.push(out);
      a.close();
      ctl.close();
    }
    assert.deepEqual(seen[1], seen[0]);
    assert.deepEqual(seen[1], [
      "$-1\r\n",
      "b",
      "set",
      "$-1\r\n",
      "+OK\r\n",
      "+OK\r\n",
      "$1\r\nv\r\n",
      ":1\r\n",
      "0",
    ]);
  } finally {
    await redis.stop();
    await ours.stop();
  }
});

test("EXEC waits when a write is queued; a write sent in MULTI waits; reads pass", {
  skip,
}, async () => {
  const { redis, ours } = await both();
  try {
    const seen: unknown[][] = [];
    for (const t of [redis, ours]) {
      const ctl = await RawConn.connect(t.port);
      const a = await RawConn.connect(t.port);
      const out: unknown[] = [];
      // Queued before the pause: EXEC waits for it to end.
      out.push(...await pipeline(a, [["MULTI"], ["SET", "x", "1"]]));
      await cmd(ctl, "CLIENT", "PAUSE", "100000", "WRITE");
      out.push(await probeOn(a, ctl, ["EXEC"]));
      // Reads and a read-only script in MULTI run.
      await cmd(ctl, "CLIENT", "PAUSE", "100000", "WRITE");
      out.push(await pipeline(a, [["MULTI"], ["GET", "x"], ["EVAL", NO_WRITES, "0"], ["EXEC"]]));
      out.push(await infoField(ctl, "clients", "blocked_clients"));
      // A write sent inside MULTI waits to be queued (Redis 7.0 checks before queueing).
      out.push(await cmd(a, "MULTI"));
      out.push(await probeOn(a, ctl, ["SET", "y", "2"]));
      out.push(await cmd(a, "EXEC"));
      seen.push(out);
      a.close();
      ctl.close();
    }
    assert.deepEqual(seen[1], seen[0]);
    assert.deepEqual(seen[1], [
      "+OK\r\n",
      "+QUEUED\r\n",
      { postponed: true, reply: "*1\r\n+OK\r\n" },
      ["+OK\r\n", "+QUEUED\r\n", "+QUEUED\r\n", "*2\r\n$1\r\n1\r\n:1\r\n"],
      "0",
      "+OK\r\n",
      { postponed: true, reply: "+QUEUED\r\n" },
      "*1\r\n+OK\r\n",
    ]);
  } finally {
    await redis.stop();
    await ours.stop();
  }
});

test("CLIENT PAUSE errors, COMMAND INFO flags and read-only scripts match redis-server", {
  skip,
}, async () => {
  await compareWithRedis([
    ["CLIENT", "PAUSE", "abc"],
    ["CLIENT", "PAUSE", "-1"],
    ["CLIENT", "PAUSE", "10", "foo"],
    ["CLIENT", "PAUSE", "abc", "foo"],
    ["CLIENT", "PAUSE", "10", "write", "extra"],
    ["CLIENT", "PAUSE"],
    ["CLIENT", "UNPAUSE", "x"],
    ["CLIENT", "PAUSE", "0", "WRITE"],
    ["SET", "k", "v"],
    ["CLIENT", "PAUSE", "9223372036854775807", "WRITE"],
    ["SET", "k", "v"],
    ["CLIENT", "UNPAUSE"],
    ["COMMAND", "INFO", "publish", "client|pause", "client|unpause"],
    ["EVAL_RO", "return redis.call('pfcount','h')", "0"],
    ["EVAL", "#!lua flags=no-writes\nreturn redis.call('publish','ch','m')", "0"],
    ["EVAL", "return redis.call('publish','ch','m')", "0"],
  ], false);
});

test("COMMAND INFO flags of the may-replicate commands match redis-server (the flag hidden)", {
  skip,
}, async () => {
  const { redis, ours } = await both();
  try {
    const flags = async (port: number) => {
      const c = client(port);
      const info = await c.call(
        "COMMAND",
        "INFO",
        "pfcount",
        "eval",
        "evalsha",
        "fcall",
      ) as unknown[][];
      c.disconnect();
      return info.map((e) => e.slice(0, 3));
    };
    const want = await flags(redis.port);
    assert.deepEqual(await flags(ours.port), want);
    assert.deepEqual(want[0], ["pfcount", -2, ["readonly"]]);
  } finally {
    await redis.stop();
    await ours.stop();
  }
});

test("expired keys stay while paused (reads see them gone), then expire, as redis-server", {
  skip,
}, async () => {
  const { redis, ours } = await both();
  try {
    const seen: string[][] = [];
    for (const t of [redis, ours]) {
      const c = await RawConn.connect(t.port);
      const before = await infoField(c, "stats", "expired_keys");
      await pipeline(c, [["MULTI"], ["SET", "a", "1", "PX", "10"], ["SET", "b", "1", "PX", "10"]]);
      await pipeline(c, [["CLIENT", "PAUSE", "100000", "WRITE"], ["EXEC"]]);
      await waitFor(async () => await cmd(c, "GET", "a") === "$-1\r\n", "a to expire logically");
      const out = [
        await cmd(c, "GET", "b"),
        await cmd(c, "EXISTS", "a", "b"),
        await cmd(c, "DBSIZE"),
        String(Number(await infoField(c, "stats", "expired_keys")) - Number(before)),
        await cmd(c, "CLIENT", "UNPAUSE"),
        await cmd(c, "GET", "a"),
        await cmd(c, "GET", "b"),
        String(Number(await infoField(c, "stats", "expired_keys")) - Number(before)),
      ];
      seen.push(out);
      c.close();
    }
    assert.deepEqual(seen[1], seen[0]);
    assert.deepEqual(seen[1], [
      "$-1\r\n",
      ":0\r\n",
      ":2\r\n",
      "0",
      "+OK\r\n",
      "$-1\r\n",
      "$-1\r\n",
      "2",
    ]);
  } finally {
    await redis.stop();
    await ours.stop();
  }
});

test("a pause given inside MULTI starts after EXEC; the client's next write waits", {
  skip,
}, async () => {
  const { redis, ours } = await both();
  try {
    const seen: unknown[][] = [];
    for (const t of [redis, ours]) {
      const c = await RawConn.connect(t.port);
      const out: unknown[] = [];
      out.push(
        await pipeline(c, [
          ["MULTI"],
          ["SET", "f1", "1"],
          ["CLIENT", "PAUSE", "100000", "WRITE"],
          ["SET", "f2", "1"],
          ["EXEC"],
        ]),
      );
      const ctl = await RawConn.connect(t.port);
      out.push(await probeOn(c, ctl, ["SET", "f3", "1"]));
      out.push(await cmd(ctl, "MGET", "f1", "f2", "f3"));
      ctl.close();
      c.close();
      seen.push(out);
    }
    assert.deepEqual(seen[1], seen[0]);
    assert.deepEqual(seen[1]![1], { postponed: true, reply: "+OK\r\n" });
  } finally {
    await redis.stop();
    await ours.stop();
  }
});

test("a longer pause extends, a shorter one or a laxer type never shortens; ALL holds everything", async () => {
  const clock = new ManualClock(1_700_000_000_000);
  const server = createServer({ clock });
  const { port } = await server.listen({ port: 0, hostname: HOST });
  try {
    const s = server.session();
    assert.deepEqual(s.call("CLIENT", "PAUSE", "1000", "WRITE"), new SimpleString("OK"));
    s.call("CLIENT", "PAUSE", "10", "WRITE");
    assert.equal(server.pause.end, clock.now() + 1000);
    s.call("CLIENT", "PAUSE", "10", "ALL");
    assert.equal(server.pause.type, PauseType.All);
    assert.equal(server.pause.end, clock.now() + 1000);
    s.call("CLIENT", "PAUSE", "5000", "WRITE");
    assert.equal(server.pause.type, PauseType.All);
    assert.equal(server.pause.end, clock.now() + 5000);
    // Under ALL even CLIENT UNPAUSE from a connection waits (in-process sessions never pause).
    const c = await RawConn.connect(port);
    c.command("CLIENT", "UNPAUSE");
    c.command("PING");
    await waitFor(() => server.pause.count === 1, "the connection to wait");
    assert.equal(c.pending, "");
    clock.advance(5001);
    server.tick();
    assert.equal(server.pause.active, false);
    assert.equal(await c.read(12), "+OK\r\n+PONG\r\n");
    c.close();
  } finally {
    await server.close();
  }
});

test("active expiry and lazy expiry hold during a pause (manual clock), resume after it", async () => {
  const clock = new ManualClock(1_700_000_000_000);
  const server = createServer({ clock });
  try {
    const s = server.session();
    s.call("SET", "k", "v", "PX", "100");
    s.call("CLIENT", "PAUSE", "100000", "WRITE");
    clock.advance(200);
    server.cron();
    assert.equal(s.call("GET", "k"), null);
    assert.equal(s.call("RANDOMKEY"), "k");
    assert.equal(server.dbs[0]!.dict.size, 1);
    assert.equal(field(infoText(server, "stats"), "expired_keys"), "0");
    s.call("CLIENT", "UNPAUSE");
    server.cron();
    assert.equal(server.dbs[0]!.dict.size, 0);
    assert.equal(field(infoText(server, "stats"), "expired_keys"), "1");
  } finally {
    await server.close();
  }
});

test("a postponed client that disconnects is forgotten; UNPAUSE after it is harmless", async () => {
  const { s, port } = await redeno();
  try {
    s.dispatch(["CLIENT", "PAUSE", "100000", "WRITE"]);
    const c = await RawConn.connect(port);
    c.command("SET", "k", "v");
    await waitFor(() => s.pause.count === 1, "SET to wait");
    c.close();
    await waitFor(() => s.pause.count === 0, "the client to go");
    s.dispatch(["CLIENT", "UNPAUSE"]);
    assert.equal(s.dispatch(["GET", "k"]), null);
    // ioredis: a write waits, then resolves once unpaused.
    const io = client(port);
    s.dispatch(["CLIENT", "PAUSE", "100000", "WRITE"]);
    const pending = io.set("k", "v");
    await waitFor(() => s.pause.count === 1, "ioredis SET to wait");
    s.dispatch(["CLIENT", "UNPAUSE"]);
    assert.equal(await pending, "OK");
    io.disconnect();
  } finally {
    await s.close();
  }
});

test("a pause ends by itself: the postponed client then runs, as redis-server", {
  skip,
}, async () => {
  const { redis, ours } = await both();
  try {
    for (const t of [redis, ours]) {
      const ctl = await RawConn.connect(t.port);
      const c = await RawConn.connect(t.port);
      await cmd(ctl, "CLIENT", "PAUSE", "300", "WRITE");
      c.command("SET", "k", "v");
      // Seen waiting (unless the pause already ended on a slow machine), then served.
      await waitFor(
        async () => c.pending !== "" || await infoField(ctl, "clients", "blocked_clients") === "1",
        "SET to wait",
      );
      assert.equal(await readReply(c), "+OK\r\n");
      assert.equal(await infoField(ctl, "clients", "blocked_clients"), "0");
      c.close();
      ctl.close();
    }
  } finally {
    await redis.stop();
    await ours.stop();
  }
});
