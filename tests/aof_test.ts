/**
 * The append only file: what is appended and when (before the reply), loading at start
 * (truncated tails, incomplete transactions, legacy single files), BGREWRITEAOF under writes,
 * turning the AOF on at runtime, interoperability with a real redis-server 7.0, and a crash
 * test (SIGKILL) showing that no acknowledged write is lost or applied twice.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createServer,
  ErrorReply,
  ManualClock,
  type Reply,
  type Server,
  SimpleString,
  type VerbatimReply,
} from "../mod.ts";
import { Redis } from "ioredis";
import { DATASET_LUA, encodeCommand, RawConn, redisCli, startProcess } from "./helpers.ts";
import { missing } from "./redis_tools.ts";

type Config = Record<string, string | number | boolean>;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "redeno-aof-"));
}

/** A server on `dir` with the AOF on (appendfsync always), its data loaded. */
function open(dir: string, config: Config = {}, logs?: string[]): Server {
  const server = createServer({
    config: { appendonly: "yes", dir, appendfsync: "always", ...config },
    ...(logs ? { log: (line: string) => logs.push(line) } : {}),
  });
  server.loadData();
  return server;
}

/** The text of a status reply. */
function status(r: Reply): string {
  assert.ok(r instanceof SimpleString, `a status reply, not ${String(r)}`);
  return r.value;
}

function aofFiles(dir: string): string[] {
  return readdirSync(join(dir, "appendonlydir")).sort();
}

function aofText(dir: string, name: string): string {
  return readFileSync(join(dir, "appendonlydir", name), "latin1");
}

/** RESP of a command, as it appears in the file. */
function resp(...argv: string[]): string {
  return encodeCommand(argv);
}

async function waitFor(cond: () => boolean, what: string, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function info(server: Server, field: string): string {
  const text = (server.dispatch(["INFO", "persistence"]) as VerbatimReply).text;
  const m = new RegExp(`^${field}:(.*)\\r$`, "m").exec(text);
  assert.ok(m, `INFO has ${field}`);
  return m[1]!;
}

/** Every key of every database with its type, value and TTL presence (see DATASET_LUA). */
function dataset(server: Server): string[] {
  return server.dispatch(["EVAL", DATASET_LUA, "0"]) as string[];
}

/** A few values of every type, with TTLs, in two databases, a transaction and a function. */
function writeVariety(server: Server): void {
  const d = (...argv: string[]) => server.dispatch(argv);
  d("SET", "str", "v\r\n\x00\xff");
  d("SET", "ttl", "x", "EX", "1000");
  d("RPUSH", "list", ...Array.from({ length: 100 }, (_, i) => `e${i}`));
  d("SADD", "ints", "1", "2", "3");
  d("SADD", "set", "a", "b", "c");
  d("ZADD", "zset", "1.5", "a", "-inf", "b", "3", "c");
  d("HSET", "hash", "f1", "v1", "f2", "v2");
  d("PEXPIRE", "hash", "500000");
  d("MULTI");
  d("INCR", "counter");
  d("INCRBY", "counter", "41");
  d("EXEC");
  d(
    "EVAL",
    "redis.call('SET', 'fromlua', ARGV[1]); return redis.call('INCR', 'counter')",
    "0",
    "l",
  );
  d("FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('one', function() return 1 end)");
  d("SELECT", "5");
  d("SET", "in5", "five");
  d("SELECT", "0");
}

test("writes are appended as their effects, with SELECT when the database changes", async () => {
  const dir = tempDir();
  const server = createServer({
    config: { appendonly: "yes", dir, appendfsync: "always" },
    clock: new ManualClock(1_000_000),
  });
  server.loadData();
  const d = (...argv: string[]) => server.dispatch(argv);
  d("SET", "k", "v", "EX", "10");
  d("SET", "n", "1");
  d("SELECT", "1");
  d("MULTI");
  d("INCR", "n");
  d("EXPIRE", "n", "5");
  d("EXEC");
  d("GET", "nothing");
  assert.deepEqual(aofFiles(dir), [
    "appendonly.aof.1.base.rdb",
    "appendonly.aof.1.incr.aof",
    "appendonly.aof.manifest",
  ]);
  assert.equal(
    aofText(dir, "appendonly.aof.manifest"),
    "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
  );
  assert.equal(
    aofText(dir, "appendonly.aof.1.incr.aof"),
    resp("SELECT", "0") + resp("SET", "k", "v", "PXAT", "1010000") + resp("SET", "n", "1") +
      resp("SELECT", "1") + resp("MULTI") + resp("INCR", "n") +
      resp("PEXPIREAT", "n", "1005000") + resp("EXEC"),
  );
  assert.equal(info(server, "aof_enabled"), "1");
  assert.equal(
    Number(info(server, "aof_current_size")),
    statSync(join(dir, "appendonlydir", "appendonly.aof.1.base.rdb")).size +
      statSync(join(dir, "appendonlydir", "appendonly.aof.1.incr.aof")).size,
  );
  await server.close();
  rmSync(dir, { recursive: true });
});

for (const preamble of ["yes", "no"]) {
  const base = preamble === "yes" ? "rdb" : "aof";
  test(`a restarted server has all its data back, after a rewrite too (${base} base)`, async () => {
    const dir = tempDir();
    const cfg = { "aof-use-rdb-preamble": preamble };
    const a = open(dir, cfg);
    writeVariety(a);
    const before = dataset(a);
    assert.ok(before.length >= 10);
    await a.close();
    const b = open(dir, cfg);
    assert.deepEqual(dataset(b), before);
    assert.equal(b.dispatch(["FCALL", "one", "0"]), 1);
    // A rewrite makes a new base of everything; the writes after it go to the new incr file.
    assert.equal(
      status(b.dispatch(["BGREWRITEAOF"])),
      "Background append only file rewriting started",
    );
    await waitFor(() => info(b, "aof_rewrite_in_progress") === "0", "the rewrite");
    assert.equal(info(b, "aof_last_bgrewrite_status"), "ok");
    assert.equal(info(b, "aof_rewrites"), "1");
    b.dispatch(["RPUSH", "list", "after"]);
    const after = dataset(b);
    assert.deepEqual(aofFiles(dir), [
      `appendonly.aof.2.base.${base}`,
      "appendonly.aof.2.incr.aof",
      "appendonly.aof.manifest",
    ]);
    const baseText = aofText(dir, `appendonly.aof.2.base.${base}`);
    if (base === "aof") assert.match(baseText, /FUNCTION\r\n\$4\r\nLOAD/);
    else assert.ok(baseText.startsWith("REDIS0010"));
    await b.close();
    const c = open(dir, cfg);
    assert.deepEqual(dataset(c), after);
    assert.equal(c.dispatch(["FCALL", "one", "0"]), 1);
    await c.close();
    rmSync(dir, { recursive: true });
  });
}

test("appendfsync always: a reply leaves only once its effects are in the file", async () => {
  const dir = tempDir();
  const server = open(dir);
  const { port } = await server.listen({ port: 0, hostname: "127.0.0.1" });
  const incr = join(dir, "appendonlydir", "appendonly.aof.1.incr.aof");
  // Every socket write records what the file holds at that moment.
  const seen: Array<{ id: number; file: string }> = [];
  server.on("clientCreated", (client) => {
    const t = client.transport;
    if (t === null) return;
    const write = t.write.bind(t);
    t.write = (bytes: Uint8Array) => {
      seen.push({ id: client.id, file: readFileSync(incr, "latin1") });
      return write(bytes);
    };
  });
  const waiter = await RawConn.connect(port);
  const writer = await RawConn.connect(port);
  waiter.command("BLPOP", "q", "0");
  await waitFor(() => server.blocking.count === 1, "BLPOP to block");
  const waiterId = Math.min(
    ...[...server.clients.values()].filter((c) => c.transport).map((c) => c.id),
  );
  writer.send(resp("SET", "k", "v") + resp("RPUSH", "q", "job"));
  const served = "*2\r\n$1\r\nq\r\n$3\r\njob\r\n";
  assert.equal(await waiter.read(served.length), served);
  assert.equal(await writer.read("+OK\r\n:1\r\n".length), "+OK\r\n:1\r\n");
  // The waiter was served inside the pusher's batch: its reply left before the pusher's, and
  // the push and its pop were already in the file.
  const first = seen.find((s) => s.id === waiterId);
  assert.ok(first, "the waiter got a write");
  const [, afterPush] = first.file.split(resp("RPUSH", "q", "job"));
  assert.ok(afterPush !== undefined, "the push was in the file");
  assert.match(afterPush, /POP/, "and the pop");
  assert.ok(seen.every((s) => s.file.includes(resp("SET", "k", "v"))));
  // A script past busy-reply-threshold runs in slices; its reply comes after its effects too.
  server.config.set("busy-reply-threshold", 10);
  const slow =
    "local t0 = redis.call('TIME'); repeat for i = 1, 1000 do end local t = redis.call('TIME') " +
    "until (t[1] - t0[1]) * 1000000 + t[2] - t0[2] > 60000; " +
    "redis.call('SET', 'fromscript', '1'); return 1";
  waiter.command("EVAL", slow, "0");
  assert.equal(await waiter.read(4), ":1\r\n");
  const last = seen.filter((s) => s.id === waiterId).at(-1)!;
  assert.ok(
    last.file.includes(resp("SET", "fromscript", "1")),
    "the script's write was in the file",
  );
  waiter.close();
  writer.close();
  await server.close();
  rmSync(dir, { recursive: true });
});

test("a truncated tail loads up to the last complete command, with Redis's warning", async () => {
  const dir = tempDir();
  const a = open(dir);
  a.dispatch(["SET", "a", "1"]);
  a.dispatch(["SET", "b", "2"]);
  await a.close();
  const incr = join(dir, "appendonlydir", "appendonly.aof.1.incr.aof");
  const good = statSync(incr).size;
  appendFileSync(incr, "*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1\r\n");
  // aof-load-truncated no: the server refuses to start.
  const refused: string[] = [];
  assert.throws(() => open(dir, { "aof-load-truncated": "no" }, refused));
  assert.ok(refused.some((l) => l.includes("Unexpected end of file reading the append only file")));
  const logs: string[] = [];
  const b = open(dir, {}, logs);
  assert.equal(b.dispatch(["GET", "b"]), "2");
  assert.equal(b.dispatch(["EXISTS", "c"]), 0);
  assert.ok(
    logs.some((l) =>
      l.includes("!!! Warning: short read while loading the AOF file appendonly.aof.1.incr.aof!!!")
    ),
  );
  assert.ok(
    logs.some((l) =>
      l.includes(`!!! Truncating the AOF appendonly.aof.1.incr.aof at offset ${good} !!!`)
    ),
  );
  assert.equal(statSync(incr).size, good, "the partial command was cut off");
  // Appending goes on from the cut: the next start sees a clean file.
  b.dispatch(["SET", "c", "3"]);
  await b.close();
  // A transaction without its EXEC is reverted.
  appendFileSync(incr, resp("MULTI") + resp("SET", "d", "4"));
  const logs2: string[] = [];
  const c = open(dir, {}, logs2);
  assert.equal(c.dispatch(["GET", "c"]), "3");
  assert.equal(c.dispatch(["EXISTS", "d"]), 0);
  assert.ok(logs2.some((l) => l.includes("Revert incomplete MULTI/EXEC transaction in AOF file")));
  await c.close();
  rmSync(dir, { recursive: true });
});

test("a legacy appendonly.aof is moved into the AOF directory and loaded", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "appendonly.aof"), resp("SELECT", "0") + resp("SET", "old", "yes"));
  const logs: string[] = [];
  const server = open(dir, {}, logs);
  assert.equal(server.dispatch(["GET", "old"]), "yes");
  assert.equal(existsSync(join(dir, "appendonly.aof")), false);
  assert.deepEqual(aofFiles(dir), [
    "appendonly.aof",
    "appendonly.aof.1.incr.aof",
    "appendonly.aof.manifest",
  ]);
  assert.equal(
    aofText(dir, "appendonly.aof.manifest"),
    "file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
  );
  assert.ok(logs.some((l) => l.includes("Successfully migrated an old-style AOF file")));
  await server.close();
  rmSync(dir, { recursive: true });
});

test("a legacy AOF with an RDB preamble loads the preamble, then its command tail", async () => {
  const dir = tempDir();
  const saver = createServer({ config: { dir } });
  saver.dispatch(["SET", "x", "from-rdb"]);
  saver.dispatch(["RPUSH", "l", "a"]);
  assert.equal(status(saver.dispatch(["SAVE"])), "OK");
  const rdb = readFileSync(join(dir, "dump.rdb"));
  writeFileSync(
    join(dir, "appendonly.aof"),
    Buffer.concat([rdb, Buffer.from(resp("RPUSH", "l", "b") + resp("SET", "tail", "1"), "latin1")]),
  );
  rmSync(join(dir, "dump.rdb"));
  const logs: string[] = [];
  const server = open(dir, {}, logs);
  assert.equal(server.dispatch(["GET", "x"]), "from-rdb");
  assert.deepEqual(server.dispatch(["LRANGE", "l", "0", "-1"]), ["a", "b"]);
  assert.equal(server.dispatch(["GET", "tail"]), "1");
  assert.ok(logs.some((l) => l.includes("Reading RDB preamble from AOF file...")));
  assert.ok(logs.some((l) => l.includes("Reading the remaining AOF tail...")));
  await server.close();
  rmSync(dir, { recursive: true });
});

test("rewrites wait for EXEC or a BGSAVE to end, and start by themselves on growth", async () => {
  const dir = tempDir();
  const logs: string[] = [];
  const server = open(dir, {
    "auto-aof-rewrite-min-size": "1000",
    "auto-aof-rewrite-percentage": "100",
  }, logs);
  const s = server.session();
  s.call("MULTI");
  s.call("BGREWRITEAOF");
  assert.deepEqual((s.call("EXEC") as SimpleString[]).map(status), [
    "Background append only file rewriting scheduled",
  ]);
  assert.equal(info(server, "aof_rewrite_scheduled"), "1");
  server.cron();
  assert.equal(info(server, "aof_rewrite_in_progress"), "1", "the cron started it");
  await waitFor(() => info(server, "aof_rewrite_in_progress") === "0", "the rewrite");
  assert.equal(info(server, "aof_rewrites"), "1");
  // A BGSAVE holds the snapshot: the rewrite is scheduled behind it.
  assert.equal(status(server.dispatch(["BGSAVE"])), "Background saving started");
  assert.equal(
    status(server.dispatch(["BGREWRITEAOF"])),
    "Background append only file rewriting scheduled",
  );
  await waitFor(() => {
    server.cron();
    return info(server, "aof_rewrites") === "2";
  }, "the scheduled rewrite");
  await waitFor(() => info(server, "aof_rewrite_in_progress") === "0", "the rewrite");
  // More than auto-aof-rewrite-min-size and twice the base: the cron rewrites on its own.
  for (let i = 0; i < 100; i++) server.dispatch(["SET", `k${i}`, "x".repeat(50)]);
  server.cron();
  assert.ok(logs.some((l) => /Starting automatic rewriting of AOF on \d+% growth/.test(l)));
  await waitFor(() => info(server, "aof_rewrite_in_progress") === "0", "the rewrite");
  assert.equal(info(server, "aof_rewrites"), "3");
  await server.close();
  rmSync(dir, { recursive: true });
});

test("a broken manifest stops the start with Redis's report", () => {
  const dir = tempDir();
  mkdirSync(join(dir, "appendonlydir"));
  writeFileSync(join(dir, "appendonlydir", "appendonly.aof.manifest"), "file x seq 1\n");
  const logs: string[] = [];
  assert.throws(() => open(dir, {}, logs));
  assert.ok(logs.some((l) => l.includes("*** FATAL AOF MANIFEST FILE ERROR ***")));
  assert.ok(logs.some((l) => l.includes("Invalid AOF manifest file format")));
  rmSync(dir, { recursive: true });
});

test("BGREWRITEAOF while clients write keeps every write, and refuses a second one", async () => {
  const dir = tempDir();
  const cfg = { "aof-use-rdb-preamble": "no" };
  const server = open(dir, cfg);
  const d = (...argv: string[]) => server.dispatch(argv);
  for (let i = 0; i < 300; i++) {
    d("RPUSH", `l${i}`, ...Array.from({ length: 200 }, (_, j) => `item-${j}`));
    d("HSET", `h${i}`, ...Array.from({ length: 40 }, (_, j) => [`f${j}`, `v${j}`]).flat());
    d("SET", `s${i}`, `value-${i}`);
  }
  const { port } = await server.listen({ port: 0, hostname: "127.0.0.1" });
  const c = await RawConn.connect(port);
  const started = "+Background append only file rewriting started\r\n";
  const busy = "-ERR Background append only file rewriting already in progress\r\n";
  // Writes during the rewrite touch keys the snapshot has not written yet (copy-on-write); the
  // first ones run in the same batch as BGREWRITEAOF, before any slice of the rewrite.
  const write = (n: number) => {
    const i = n % 300;
    return encodeCommand(["RPUSH", `l${299 - i}`, `new-${n}`]) +
      encodeCommand(["HSET", `h${299 - i}`, "f0", `w${n}`]) +
      encodeCommand(["DEL", `s${299 - i}`]) + encodeCommand(["INCR", "during"]);
  };
  c.send(encodeCommand(["BGREWRITEAOF"]) + encodeCommand(["BGREWRITEAOF"]) + write(0));
  assert.equal(await c.read(started.length), started);
  assert.equal(await c.read(busy.length), busy);
  let writes = 1;
  while (info(server, "aof_rewrite_in_progress") === "1") {
    c.send(write(writes++));
    await c.read(c.pending.length === 0 ? 0 : c.pending.length);
    await new Promise((r) => setImmediate(r));
  }
  c.command("PING");
  await waitFor(() => c.pending.endsWith("+PONG\r\n"), "the pipeline");
  assert.ok(writes > 0, "writes overlapped the rewrite");
  assert.equal(info(server, "aof_last_bgrewrite_status"), "ok");
  const before = dataset(server);
  c.close();
  await server.close();
  assert.deepEqual(aofFiles(dir), [
    "appendonly.aof.2.base.aof",
    "appendonly.aof.2.incr.aof",
    "appendonly.aof.manifest",
  ]);
  const again = open(dir, cfg);
  assert.deepEqual(dataset(again), before);
  await again.close();
  rmSync(dir, { recursive: true });
});

test("CONFIG SET appendonly yes at runtime writes a base by a rewrite, then appends", async () => {
  const dir = tempDir();
  const server = createServer({
    config: { dir, appendfsync: "always", "aof-use-rdb-preamble": "no" },
  });
  server.loadData();
  const d = (...argv: string[]) => server.dispatch(argv);
  d("SET", "before", "1");
  assert.equal(info(server, "aof_enabled"), "0");
  assert.equal(status(d("CONFIG", "SET", "appendonly", "yes")), "OK");
  assert.equal(info(server, "aof_enabled"), "1");
  d("SET", "during", "2");
  await waitFor(() => info(server, "aof_rewrite_in_progress") === "0", "the rewrite");
  d("SET", "after", "3");
  assert.deepEqual(aofFiles(dir), [
    "appendonly.aof.1.base.aof",
    "appendonly.aof.1.incr.aof",
    "appendonly.aof.manifest",
  ]);
  assert.ok(aofText(dir, "appendonly.aof.1.base.aof").includes(resp("SET", "before", "1")));
  assert.equal(
    aofText(dir, "appendonly.aof.1.incr.aof"),
    resp("SELECT", "0") + resp("SET", "during", "2") + resp("SET", "after", "3"),
  );
  d("CONFIG", "SET", "appendonly", "no");
  d("SET", "unlogged", "4");
  assert.equal(info(server, "aof_enabled"), "0");
  await server.close();
  const again = open(dir);
  assert.deepEqual(again.dispatch(["MGET", "before", "during", "after", "unlogged"]), [
    "1",
    "2",
    "3",
    null,
  ]);
  await again.close();
  rmSync(dir, { recursive: true });
});

test("a failed write refuses writes with MISCONF until the AOF is reopened", async () => {
  const dir = tempDir();
  const aofDir = join(dir, "appendonlydir");
  mkdirSync(aofDir);
  writeFileSync(
    join(aofDir, "appendonly.aof.manifest"),
    "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
  );
  writeFileSync(join(aofDir, "appendonly.aof.1.base.aof"), "");
  symlinkSync("/dev/full", join(aofDir, "appendonly.aof.1.incr.aof"));
  const server = open(dir, { appendfsync: "everysec" }, []);
  server.dispatch(["SET", "k", "v"]);
  assert.equal(info(server, "aof_last_write_status"), "err");
  const r = server.dispatch(["SET", "k2", "v"]);
  assert.ok(r instanceof ErrorReply);
  assert.equal(r.message, "MISCONF Errors writing to the AOF file: No space left on device");
  assert.equal(server.dispatch(["GET", "k"]), "v", "reads still work");
  // Turning the AOF off and on makes a new base and incremental file: writes work again.
  server.dispatch(["CONFIG", "SET", "appendonly", "no"]);
  server.dispatch(["CONFIG", "SET", "appendonly", "yes"]);
  await waitFor(() => info(server, "aof_rewrite_in_progress") === "0", "the rewrite");
  assert.equal(status(server.dispatch(["SET", "k3", "v"])), "OK");
  assert.equal(info(server, "aof_last_write_status"), "ok");
  await server.close();
  rmSync(dir, { recursive: true });
});

// ---- a real redis-server 7.0 -------------------------------------------------------------------

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

async function startRedis(dir: string, port: number, preamble: string) {
  return await startProcess("redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--appendonly",
    "yes",
    "--aof-use-rdb-preamble",
    preamble,
    "--save",
    "",
  ], "Ready to accept connections");
}

/** The dataset of a real server, as dataset() reads it (bytes kept exact). */
async function redisDataset(port: number): Promise<string[]> {
  const client = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
  await client.connect();
  try {
    const rows = (await client.callBuffer("EVAL", DATASET_LUA, "0")) as Buffer[];
    return rows.map((b) => b.toString("latin1"));
  } finally {
    client.disconnect();
  }
}

for (const preamble of ["no", "yes"]) {
  const base = preamble === "yes" ? "rdb" : "aof";
  test(`a real redis-server 7.0 loads redeno's AOF, and redeno loads Redis's (${base} base)`, {
    skip: missing("redis-server", "redis-cli"),
  }, async () => {
    // redeno → Redis (with a rewrite, so both a base and an incremental file hold data).
    const ours = tempDir();
    const cfg = { "aof-use-rdb-preamble": preamble };
    const a = open(ours, cfg);
    writeVariety(a);
    a.dispatch(["BGREWRITEAOF"]);
    await waitFor(() => info(a, "aof_rewrite_in_progress") === "0", "the rewrite");
    a.dispatch(["RPUSH", "list", "after-rewrite"]);
    a.dispatch(["SELECT", "5"]);
    a.dispatch(["INCR", "in5-counter"]);
    const expected = dataset(a);
    await a.close();
    const port = await freePort();
    const redis = await startRedis(ours, port, preamble);
    try {
      assert.deepEqual(await redisDataset(port), expected);
      assert.equal((await redisCli(port, ["FCALL", "one", "0"])).stdout.trim(), "1");
    } finally {
      await redis.kill();
    }
    // Redis → redeno: Redis writes its own files (base by BGREWRITEAOF, then an incr file).
    const theirs = tempDir();
    const port2 = await freePort();
    const redis2 = await startRedis(theirs, port2, preamble);
    let fromRedis: string[];
    try {
      const cli = (...args: string[]) => redisCli(port2, args);
      await cli("SET", "str", "v");
      await cli("SET", "ttl", "x", "EX", "1000");
      await cli("RPUSH", "list", "a", "b", "c");
      await cli("SADD", "set", "1", "x");
      await cli("ZADD", "zset", "2.5", "m", "+inf", "n");
      await cli("HSET", "hash", "f", "v");
      await cli("BGREWRITEAOF");
      await waitFor(
        () => existsSync(join(theirs, "appendonlydir", `appendonly.aof.2.base.${base}`)),
        "Redis's rewrite",
      );
      await cli("EVAL", "redis.call('INCR', 'c'); redis.call('INCR', 'c')", "0");
      await cli("-n", "3", "SET", "db3", "three");
      await cli(
        "FUNCTION",
        "LOAD",
        "#!lua name=rlib\nredis.register_function('two', function() return 2 end)",
      );
      fromRedis = await redisDataset(port2);
    } finally {
      await redis2.kill();
    }
    const b = open(theirs, cfg);
    assert.deepEqual(dataset(b), fromRedis);
    assert.equal(b.dispatch(["FCALL", "two", "0"]), 2);
    await b.close();
    rmSync(ours, { recursive: true });
    rmSync(theirs, { recursive: true });
  });
}

// ---- crash test ----------------------------------------------------------------------------------

/** One client doing INCR and RPUSH one at a time, recording what was sent and acknowledged. */
class Worker {
  sentIncr = 0;
  ackedIncr = 0;
  /** When each INCR was acknowledged (ms). */
  incrAckedAt: number[] = [];
  acked: string[] = [];
  /** When each RPUSH item was acknowledged (ms). */
  ackedAt = new Map<string, number>();
  inFlight: string | undefined;
  private n = 0;
  private buf = "";
  private pending: ((line: string | undefined) => void) | undefined;
  private readonly socket: net.Socket;
  stopped = false;

  constructor(readonly id: number, port: number) {
    this.socket = net.connect({ port, host: "127.0.0.1" });
    this.socket.setEncoding("latin1");
    this.socket.on("data", (d: string) => {
      this.buf += d;
      const i = this.buf.indexOf("\r\n");
      if (i >= 0 && this.pending) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        const p = this.pending;
        this.pending = undefined;
        p(line);
      }
    });
    this.socket.on("error", () => {
      this.stopped = true;
    });
    this.socket.on("close", () => {
      this.stopped = true;
      const p = this.pending;
      this.pending = undefined;
      p?.(undefined);
    });
  }

  private call(argv: string[]): Promise<string | undefined> {
    return new Promise((resolve) => {
      this.pending = resolve;
      this.socket.write(Buffer.from(encodeCommand(argv), "latin1"));
    });
  }

  async run(): Promise<void> {
    while (!this.stopped) {
      this.sentIncr++;
      const r1 = await this.call(["INCR", "counter"]);
      if (r1 === undefined || this.stopped) return;
      assert.match(r1, /^:\d+$/);
      this.ackedIncr++;
      this.incrAckedAt.push(Date.now());
      const item = `${this.id}:${this.n++}`;
      this.inFlight = item;
      const r2 = await this.call(["RPUSH", "list", item]);
      if (r2 === undefined || this.stopped) return;
      assert.match(r2, /^:\d+$/);
      this.acked.push(item);
      this.ackedAt.set(item, Date.now());
      this.inFlight = undefined;
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

function serverCommand(args: string[]): [string, string[]] {
  const deno = (globalThis as { Deno?: unknown }).Deno !== undefined;
  return deno
    ? ["node_modules/deno/deno", ["run", "-A", "main.ts", ...args]]
    : [process.execPath, ["--import", "tsx", "main.ts", ...args]];
}

// `always`: nothing acknowledged may be lost. `everysec`: a write is postponed while a background
// fsync runs (up to 2 s, as Redis does), so what was acknowledged in the last ~2 s may be lost, but
// nothing older, nothing twice, nothing never sent.
for (const policy of ["always", "everysec"]) {
  const title = policy === "always"
    ? "crash test (always): SIGKILL under 20 writing clients loses no acknowledged write"
    : "crash test (everysec): SIGKILL under 20 writing clients loses at most ~2 s of writes";
  test(title, async () => {
    const dir = tempDir();
    const port = await freePort();
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir];
    const [cmd, cmdArgs] = serverCommand([...args, "--appendonly", "yes", "--appendfsync", policy]);
    const first = await startProcess(cmd, cmdArgs, "Ready to accept connections");
    const workers = Array.from({ length: 20 }, (_, i) => new Worker(i, port));
    const runs = workers.map((w) => w.run());
    // Kill at a random moment once the clients are well under way.
    const ackedNow = () => workers.reduce((n, w) => n + w.ackedIncr, 0);
    await waitFor(() => ackedNow() >= 500, "writes to be acknowledged", 20000);
    await new Promise((r) => setTimeout(r, Math.random() * 500));
    const killedAt = Date.now();
    await first.kill("SIGKILL");
    // Acknowledged before this instant, a write must survive.
    const mustKeep = policy === "always" ? Infinity : killedAt - 2500;
    await Promise.all(runs);
    for (const w of workers) w.close();
    const acked = workers.reduce((n, w) => n + w.ackedIncr, 0);
    const sent = workers.reduce((n, w) => n + w.sentIncr, 0);
    assert.ok(acked >= 500, `the clients got replies before the kill (${acked})`);

    const port2 = await freePort();
    const [cmd2, cmdArgs2] = serverCommand([
      "--port",
      String(port2),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--appendonly",
      "yes",
    ]);
    const second = await startProcess(cmd2, cmdArgs2, "Ready to accept connections");
    try {
      const counter = Number((await redisCli(port2, ["GET", "counter"])).stdout.trim());
      const kept = workers.reduce(
        (n, w) => n + w.incrAckedAt.filter((t) => t <= mustKeep).length,
        0,
      );
      assert.ok(
        counter >= kept,
        `counter ${counter} >= acknowledged and due ${kept} (of ${acked})`,
      );
      assert.ok(counter <= sent, `counter ${counter} <= sent ${sent}`);
      const list = (await redisCli(port2, ["LRANGE", "list", "0", "-1"])).stdout.trim().split("\n")
        .filter((l) => l !== "");
      assert.equal(new Set(list).size, list.length, "no element twice");
      const allowed = new Set(
        workers.flatMap((w) => [...w.acked, ...(w.inFlight ? [w.inFlight] : [])]),
      );
      for (const item of list) assert.ok(allowed.has(item), `${item} was sent`);
      const present = new Set(list);
      for (const w of workers) {
        for (const item of w.acked) {
          if (w.ackedAt.get(item)! > mustKeep) continue;
          assert.ok(present.has(item), `acknowledged ${item} is there`);
        }
      }
    } finally {
      await second.kill();
    }
    rmSync(dir, { recursive: true });
  });
}
