import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { createServer, ErrorReply, MapReply, SimpleString, type VerbatimReply } from "../mod.ts";
import { RawConn, redisCli, startServer } from "./helpers.ts";
import { missing } from "./redis_tools.ts";
import { scratchDir } from "./scratch.ts";

test("CONFIG SET validates like Redis and CONFIG GET reads back, with globs", () => {
  const server = createServer();
  const s = server.session();
  assert.deepEqual(s.call("CONFIG", "SET", "maxmemory", "10mb"), new SimpleString("OK"));
  assert.deepEqual(s.call("CONFIG", "GET", "maxmemory"), new MapReply(["maxmemory", "10485760"]));
  assert.deepEqual(
    s.call("CONFIG", "SET", "maxmemory", "ten"),
    new ErrorReply(
      "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value",
    ),
  );
  assert.deepEqual(
    s.call("CONFIG", "SET", "nosuch", "1"),
    new ErrorReply("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"),
  );
  assert.deepEqual(
    s.call("CONFIG", "SET", "databases", "4"),
    new ErrorReply(
      "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config",
    ),
  );
  // All or nothing: a bad pair leaves the good one unapplied.
  s.call("CONFIG", "SET", "hz", "20", "maxmemory-policy", "bogus");
  assert.deepEqual(s.call("CONFIG", "GET", "hz"), new MapReply(["hz", "10"]));
  const got = s.call("CONFIG", "GET", "slowlog-*") as MapReply;
  assert.deepEqual(got.entries.filter((_, i) => i % 2 === 0).sort(), [
    "slowlog-log-slower-than",
    "slowlog-max-len",
  ]);
  s.call("CONFIG", "SET", "save", "900 1 300 10");
  assert.deepEqual(s.call("CONFIG", "GET", "save"), new MapReply(["save", "900 1 300 10"]));
});

test("CONFIG REWRITE keeps comments and rewrites changed directives", () => {
  const dir = scratchDir("redeno-conf-");
  const file = join(dir, "redis.conf");
  writeFileSync(file, "# my settings\nhz 10\nmaxmemory 1mb\n");
  const server = createServer({ configFile: file, config: { hz: 10 } });
  const s = server.session();
  s.call("CONFIG", "SET", "hz", "25", "slowlog-max-len", "64");
  assert.deepEqual(s.call("CONFIG", "REWRITE"), new SimpleString("OK"));
  const text = readFileSync(file, "utf8");
  assert.match(text, /^# my settings\nhz 25\n/);
  assert.match(text, /slowlog-max-len 64/);
  assert.deepEqual(
    createServer().dispatch(["CONFIG", "REWRITE"]),
    new ErrorReply("ERR The server is running without a config file"),
  );
});

test("INFO has the sections and fields clients parse", () => {
  const server = createServer();
  server.dispatch(["SET", "a", "1"]);
  const text = (server.dispatch(["INFO"]) as VerbatimReply).text;
  for (
    const f of [
      "redis_version:7.4.1",
      "loading:0",
      "role:master",
      "connected_clients:",
      "db0:keys=1,expires=0",
    ]
  ) {
    assert.ok(text.includes(f), `missing ${f}`);
  }
  assert.ok(!text.includes("# Commandstats"));
  const stats = (server.dispatch(["INFO", "commandstats"]) as VerbatimReply).text;
  assert.match(stats, /^# Commandstats\r\ncmdstat_set:calls=1,/m);
  assert.ok(!stats.includes("# Server"));
});

test("COMMAND INFO, COUNT, DOCS and GETKEYS come from the registry", () => {
  const server = createServer();
  const s = server.session();
  const info = s.call("COMMAND", "INFO", "get", "nosuch") as unknown[];
  assert.equal((info[0] as unknown[])[0], "get");
  assert.equal((info[0] as unknown[])[1], 2);
  assert.equal(info[1], null);
  assert.ok((s.call("COMMAND", "COUNT") as number) > 40);
  assert.deepEqual(s.call("COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"), ["a", "b"]);
  assert.deepEqual(
    s.call("COMMAND", "GETKEYS", "PING", "x"),
    new ErrorReply("ERR The command has no key arguments"),
  );
  assert.deepEqual(
    s.call("COMMAND", "GETKEYS", "PING"),
    new ErrorReply("ERR wrong number of arguments for 'command|getkeys' command"),
  );
  // No keys given: fine for a command whose keys are optional (EVAL), refused for others.
  assert.deepEqual(s.call("COMMAND", "GETKEYS", "EVAL", "return 1", "0"), []);
  assert.deepEqual(
    s.call("COMMAND", "GETKEYS", "ZUNIONSTORE", "dst", "0", "a"),
    new ErrorReply("ERR Invalid arguments specified for command"),
  );
  const docs = s.call("COMMAND", "DOCS", "set") as MapReply;
  assert.equal(docs.entries[0], "set");
  const body = (docs.entries[1] as MapReply).entries;
  assert.equal(body[body.indexOf("group") + 1], "string");
  const args = body[body.indexOf("arguments") + 1] as MapReply[];
  assert.deepEqual(args.slice(0, 2).map((a) => a.entries[1]), ["key", "value"]);
});

test("SLOWLOG records commands over the threshold with their arguments", () => {
  const server = createServer({ config: { "slowlog-log-slower-than": 0 } });
  const s = server.session();
  s.call("SLOWLOG", "RESET");
  s.call("SET", "a", "b");
  const entries = s.call("SLOWLOG", "GET") as unknown[][];
  assert.deepEqual(entries[0]![3], ["SET", "a", "b"]);
  assert.equal(s.call("SLOWLOG", "LEN"), 3); // RESET, SET and GET, as Redis counts them
});

test("DEBUG is refused unless enabled, and DEBUG OBJECT reports the encoding", () => {
  const denied = createServer().dispatch(["DEBUG", "OBJECT", "k"]);
  assert.ok(
    denied instanceof ErrorReply && denied.message.startsWith("ERR DEBUG command not allowed"),
  );
  const server = createServer({ config: { "enable-debug-command": "yes" } });
  server.dispatch(["SET", "n", "12345"]);
  const obj = server.dispatch(["DEBUG", "OBJECT", "n"]) as SimpleString;
  assert.match(obj.value, /encoding:int/);
});

test("CLIENT LIST, SETNAME, ID and KILL with filters over real sockets", {
  skip: missing("redis-cli"),
}, async () => {
  const { port, close } = await startServer();
  const a = await RawConn.connect(port);
  const b = await RawConn.connect(port);
  try {
    a.command("CLIENT", "SETNAME", "alpha");
    assert.equal(await a.expect("+OK\r\n"), "+OK\r\n");
    a.command("CLIENT", "SETNAME", "has space");
    const bad = "-ERR Client names cannot contain spaces, newlines or special characters.\r\n";
    assert.equal(await a.expect(bad), bad);
    const list = await redisCli(port, ["CLIENT", "LIST"]);
    assert.match(list.stdout, /name=alpha .*cmd=client\|setname/);
    a.command("CLIENT", "ID");
    const idLine = await a.read(3);
    assert.equal(idLine[0], ":");
    const killed = await redisCli(port, ["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"]);
    assert.equal(killed.stdout.trim(), "2");
    assert.equal(await a.waitClosed(), true);
    assert.equal(await b.waitClosed(), true);
  } finally {
    a.close();
    b.close();
    await close();
  }
});

test("ioredis and node-redis (RESP2 and RESP3) connect and run commands", async () => {
  const { port, close } = await startServer();
  const io = new Redis({ port, host: "127.0.0.1" });
  const nr2 = createClient({ socket: { port, host: "127.0.0.1" } });
  const nr3 = createClient({ socket: { port, host: "127.0.0.1" }, RESP: 3 });
  try {
    await nr2.connect();
    await nr3.connect();
    assert.equal(await io.set("x", "1"), "OK");
    assert.equal(await nr2.get("x"), "1");
    assert.equal(await nr3.get("x"), "1");
    assert.equal(await nr3.set("y", "2"), "OK");
    assert.equal(await io.get("y"), "2");
    assert.deepEqual(await nr2.mGet(["x", "y", "z"]), ["1", "2", null]);
    const info = await io.info("server");
    assert.match(info, /redis_version:7\.4\.1/);
  } finally {
    io.disconnect();
    await nr2.quit();
    await nr3.quit();
    await close();
  }
});

test("MONITOR echoes executed commands with Redis's quoting, but not admin ones", async () => {
  const { port, close } = await startServer();
  const mon = await RawConn.connect(port);
  const c = await RawConn.connect(port);
  try {
    mon.command("MONITOR");
    assert.equal(await mon.expect("+OK\r\n"), "+OK\r\n");
    c.command("SET", "a b", 'x"y\n');
    c.command("CONFIG", "GET", "port");
    c.command("GET", "a b");
    await c.read(5);
    await new Promise((r) => setTimeout(r, 50));
    const lines = mon.pending.split("\r\n").filter(Boolean);
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^\+\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "SET" "a b" "x\\"y\\n"$/);
    assert.match(lines[1]!, /"GET" "a b"$/);
  } finally {
    mon.close();
    c.close();
    await close();
  }
});
