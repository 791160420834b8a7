/**
 * A plugin that only calls the keyspace API (no dirty counter, no effects, no events of its own)
 * still writes safely: its changes count for save points, trip WATCH, raise the events the API
 * implies, survive an AOF restart under `appendfsync always`, and reach a redeno replica and a
 * stock redis-server replica.
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, ManualClock, NullArray, type Server, SimpleString } from "../mod.ts";
import { replication } from "../replication/mod.ts";
import { keyspacePlugin } from "./fixtures/keyspace_plugin.ts";
import { recordEffects, recordEvents, startProcess } from "./helpers.ts";
import {
  client,
  dataset,
  field,
  freePort,
  HOST,
  infoText,
  stockRedis,
  waitFor,
} from "./replication_helpers.ts";
import { missing } from "./redis_tools.ts";

const T0 = 1_700_000_000_000;

function plain(r: unknown): unknown {
  return r instanceof SimpleString ? r.value : r;
}

/** The plugin's writes, each with the reply it must give. */
const WRITES: Array<[string[], unknown]> = [
  [["KS.SET", "s", "v1"], "OK"],
  [["KS.HSET", "h", "f1", "a"], 1],
  [["KS.HSET", "h", "f2", "b"], 1],
  [["KS.RPUSH", "l", "x", "y", "z"], 3],
  [["KS.SET", "gone", "soon"], "OK"],
  [["KS.DEL", "gone"], 1],
  [["KS.PEXPIRE", "h", "3600000"], 1],
  [["KS.SET", "t", "ttl"], "OK"],
  [["KS.PEXPIRE", "t", "7200000"], 1],
  [["KS.RPUSH", "e", "1"], 1],
  [["KS.LPOPALL", "e"], 1],
];

test("keyspace API writes count in dirty and rdb_changes_since_last_save, one per key changed", () => {
  // SAVE below writes dump.rdb: into a directory of its own, not the working directory.
  const dir = mkdtempSync(join(tmpdir(), "redeno-plugin-save-"));
  const server = createServer({ plugins: [keyspacePlugin()], config: { dir } });
  const changes = () =>
    Number(field(infoText(server, "persistence"), "rdb_changes_since_last_save"));
  assert.equal(changes(), 0);
  assert.equal(plain(server.dispatch(["KS.SET", "a", "1"])), "OK");
  assert.equal(changes(), 1);
  server.dispatch(["KS.HSET", "h", "f", "v"]);
  assert.equal(changes(), 2);
  server.dispatch(["KS.DEL", "nothing"]);
  assert.equal(changes(), 2, "a command that changed nothing counts nothing");
  assert.equal(plain(server.dispatch(["SAVE"])), "OK");
  assert.equal(changes(), 0);
  rmSync(dir, { recursive: true, force: true });
});

test("keyspace API writes trip WATCH", () => {
  const server = createServer({ plugins: [keyspacePlugin()] });
  const watcher = server.session();
  const writer = server.session();
  for (const [cmd, key] of [["KS.SET", "k"], ["KS.HSET", "h"], ["KS.PEXPIRE", "k"]] as const) {
    watcher.call("WATCH", key);
    const args = cmd === "KS.HSET" ? [key, "f", "v"] : cmd === "KS.PEXPIRE" ? [key, "1000"] : [
      key,
      "v",
    ];
    writer.call(cmd, ...args);
    watcher.call("MULTI");
    watcher.call("GET", "other");
    assert.ok(watcher.call("EXEC") instanceof NullArray, `${cmd} aborts a transaction on ${key}`);
  }
  watcher.call("WATCH", "k");
  writer.call("KS.DEL", "k");
  watcher.call("MULTI");
  assert.ok(watcher.call("EXEC") instanceof NullArray, "KS.DEL aborts it too");
  watcher.call("WATCH", "k");
  writer.call("KS.SET", "unwatched", "v");
  watcher.call("MULTI");
  watcher.call("GET", "unwatched");
  assert.deepEqual(watcher.call("EXEC"), ["v"], "a write to another key does not");
});

test("keyspace API writes raise the events the API implies, once, and not over the plugin's own", () => {
  const server = createServer({ plugins: [keyspacePlugin()], clock: new ManualClock(T0) });
  const events = recordEvents(server);
  for (const [argv] of WRITES) server.dispatch(argv);
  server.dispatch(["KS.PERSIST", "t"]);
  server.dispatch(["KS.HSETEV", "h", "f3", "c"]);
  assert.deepEqual(events, [
    "set:s",
    "set:gone",
    "del:gone",
    "expire:h",
    "set:t",
    "expire:t",
    "del:e",
    "persist:t",
    "hset:h",
  ]);
});

test("keyspace API writes propagate as each key's new value, wrapped in MULTI/EXEC in EXEC and scripts", () => {
  const server = createServer({ plugins: [keyspacePlugin()], clock: new ManualClock(T0) });
  const effects = recordEffects(server);
  const shape = (e: string[]) =>
    e[0] === "RESTORE" ? ["RESTORE", e[1]!, e[2]!, "<payload>", ...e.slice(4)] : e;
  for (const [argv, reply] of WRITES) assert.deepEqual(plain(server.dispatch(argv)), reply);
  assert.deepEqual(effects.map(shape), [
    ["SET", "s", "v1"],
    ["RESTORE", "h", "0", "<payload>", "REPLACE", "ABSTTL"],
    ["RESTORE", "h", "0", "<payload>", "REPLACE", "ABSTTL"],
    ["RESTORE", "l", "0", "<payload>", "REPLACE", "ABSTTL"],
    ["SET", "gone", "soon"],
    ["DEL", "gone"],
    ["RESTORE", "h", String(T0 + 3600000), "<payload>", "REPLACE", "ABSTTL"],
    ["SET", "t", "ttl"],
    ["SET", "t", "ttl", "PXAT", String(T0 + 7200000)],
    ["RESTORE", "e", "0", "<payload>", "REPLACE", "ABSTTL"],
    ["DEL", "e"],
  ]);
  assert.equal(server.dispatch(["EXISTS", "e"]), 0, "an aggregate left empty is deleted");
  effects.length = 0;
  const s = server.session();
  s.call("MULTI");
  s.call("KS.SET", "m1", "a");
  s.call("KS.SET", "m2", "b");
  s.call("EXEC");
  server.dispatch(["EVAL", "redis.call('ks.set', 'e1', 'x'); redis.call('ks.del', 's')", "0"]);
  assert.deepEqual(effects, [
    ["MULTI"],
    ["SET", "m1", "a"],
    ["SET", "m2", "b"],
    ["EXEC"],
    ["MULTI"],
    ["SET", "e1", "x"],
    ["DEL", "s"],
    ["EXEC"],
  ]);
});

test("a plugin's precise effect is trusted for the keys it names; other keys still go out", () => {
  const server = createServer({
    commands: [{
      name: "ks.pair",
      arity: 3,
      flags: ["write"],
      keys: { first: 1, last: 2, step: 1 },
      execute(client, argv) {
        client.db.set(argv[1]!, "1");
        client.db.set(argv[2]!, "2");
        client.server.replicate(client.db.id, ["SET", argv[1]!, "1"]);
        return 2;
      },
    }],
  });
  const effects = recordEffects(server);
  server.dispatch(["KS.PAIR", "a", "b"]);
  assert.deepEqual(effects, [["MULTI"], ["SET", "a", "1"], ["SET", "b", "2"], ["EXEC"]]);
});

test("plugin code writing outside any command (a timer) is counted and propagated after its job", async () => {
  const server = createServer({ plugins: [keyspacePlugin()] });
  const effects = recordEffects(server);
  const dirty = server.dirty;
  await new Promise<void>((resolve) =>
    setTimeout(() => {
      server.dbs[0]!.set("from-timer", "1");
      server.dbs[0]!.delete("from-timer");
      server.dbs[2]!.set("other-db", "2");
      resolve();
    }, 1)
  );
  await Promise.resolve();
  assert.deepEqual(effects, [["MULTI"], ["DEL", "from-timer"], ["SET", "other-db", "2"], [
    "EXEC",
  ]]);
  assert.equal(server.dirty - dirty, 2);
  // Untracked core work (here a test's setup) counts and propagates nothing.
  server.untracked(() => server.dbs[0]!.set("setup", "x"));
  await Promise.resolve();
  assert.equal(effects.length, 4);
});

// ---- real processes: an AOF restart, a redeno replica, a stock redis-server replica ----------

function pluginServerCommand(args: string[]): [string, string[]] {
  const fixture = "tests/fixtures/plugin_server.ts";
  return (globalThis as { Deno?: unknown }).Deno !== undefined
    ? ["node_modules/deno/deno", ["run", "-A", fixture, ...args]]
    : [process.execPath, ["--import", "tsx", fixture, ...args]];
}

async function startPluginServer(port: number, dir: string, extra: string[]) {
  const [cmd, args] = pluginServerCommand([String(port), dir, ...extra]);
  const proc = await startProcess(cmd, args, "Ready to accept connections");
  return { kill: () => proc.kill("SIGKILL") };
}

async function writeAll(port: number): Promise<void> {
  const c = client(port);
  try {
    for (const [argv, reply] of WRITES) assert.deepEqual(await c.call(...argv as [string]), reply);
  } finally {
    c.disconnect();
  }
}

test("keyspace API writes survive a SIGKILL and an AOF restart with appendfsync always", async () => {
  const dir = mkdtempSync(join(tmpdir(), "redeno-plugin-aof-"));
  const aof = ["appendonly", "yes", "appendfsync", "always"];
  try {
    const port = await freePort();
    const first = await startPluginServer(port, dir, aof);
    let expected: string[];
    try {
      await writeAll(port);
      expected = await dataset(port);
    } finally {
      await first.kill();
    }
    assert.ok(expected.length >= 4, expected.join("\n"));
    const port2 = await freePort();
    const second = await startPluginServer(port2, dir, aof);
    try {
      assert.deepEqual(await dataset(port2), expected);
      const c = client(port2);
      const ttl = await c.pttl("t");
      c.disconnect();
      assert.ok(ttl > 7000000 && ttl <= 7200000, `the TTL survives (${ttl})`);
    } finally {
      await second.kill();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(
  "keyspace API writes reach a redeno replica and a stock redis-server replica",
  { skip: missing("redis-server") },
  async () => {
    const master: Server = createServer({ plugins: [keyspacePlugin(), replication()] });
    const { port } = await master.listen({ port: 0, hostname: HOST });
    const replica = createServer({ plugins: [replication()] });
    const r = await replica.listen({ port: 0, hostname: HOST });
    const stock = await stockRedis(["--replicaof", HOST, String(port)]);
    try {
      replica.dispatch(["REPLICAOF", HOST, String(port)]);
      await waitFor(
        () => field(infoText(master, "replication"), "connected_slaves") === "2",
        "both replicas to connect",
      );
      await writeAll(port);
      const c = client(port);
      try {
        assert.equal(await c.call("WAIT", "2", "5000"), 2);
      } finally {
        c.disconnect();
      }
      const want = await dataset(port);
      assert.ok(want.length >= 4, want.join("\n"));
      assert.deepEqual(await dataset(r.port), want, "the redeno replica");
      assert.deepEqual(await dataset(stock.port), want, "the stock redis-server replica");
    } finally {
      await stock.stop();
      await replica.close();
      await master.close();
    }
  },
);
