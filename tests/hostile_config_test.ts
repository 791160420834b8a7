/**
 * Hostile clients against the server's own files and debug hooks (issue 15): `CONFIG SET dir` and
 * `dbfilename` are protected configs, `dbfilename` is a plain file name, DEBUG is refused unless
 * enabled; each compared byte for byte with redis-server 7.0.15 under the same settings.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, ErrorReply, type SimpleString } from "../mod.ts";
import { RawConn, startServer } from "./helpers.ts";
import { as7015, pipeline, startRedis } from "./redis_compare.ts";
import { missing } from "./redis_tools.ts";

/** Sends `cases` to redis-server and to redeno, both started with `config`; compares replies. */
async function sideBySide(config: Record<string, string>, cases: string[][]): Promise<string[]> {
  const redis = await startRedis(Object.entries(config).flatMap(([k, v]) => [`--${k}`, v]));
  const ours = await startServer(as7015({ config }));
  const a = await RawConn.connect(redis.port);
  const b = await RawConn.connect(ours.port);
  try {
    const want = await pipeline(a, cases);
    const got = await pipeline(b, cases);
    for (let i = 0; i < cases.length; i++) {
      assert.equal(got[i], want[i], `reply to ${JSON.stringify(cases[i])}`);
    }
    return got;
  } finally {
    a.close();
    b.close();
    redis.stop();
    await ours.close();
  }
}

const DEBUG_DENIED =
  '-ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n';

test("CONFIG SET dir and dbfilename are refused by default, as redis-server refuses them", {
  skip: missing("redis-server"),
}, async () => {
  const got = await sideBySide({}, [
    ["CONFIG", "SET", "dir", "/tmp"],
    ["CONFIG", "SET", "dbfilename", "../escape.txt"],
    ["CONFIG", "SET", "dbfilename", "plain.rdb"],
    ["CONFIG", "SET", "appendfilename", "x.aof"],
    ["CONFIG", "SET", "maxmemory", "10mb", "dir", "/tmp"],
    ["CONFIG", "GET", "maxmemory"],
    ["CONFIG", "GET", "enable-protected-configs"],
    ["CONFIG", "SET", "enable-protected-configs", "yes"],
  ]);
  assert.equal(
    got[0],
    "-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config\r\n",
  );
});

test("with enable-protected-configs yes, dbfilename must still be a plain file name", {
  skip: missing("redis-server"),
}, async () => {
  const got = await sideBySide({ "enable-protected-configs": "yes" }, [
    ["CONFIG", "SET", "dbfilename", "../escape.txt"],
    ["CONFIG", "SET", "dbfilename", "a\\b"],
    ["CONFIG", "SET", "dbfilename", "/etc/passwd"],
    ["CONFIG", "SET", "dbfilename", "ok.rdb"],
    ["CONFIG", "SET", "dbfilename", ""],
    ["CONFIG", "GET", "dbfilename"],
  ]);
  assert.equal(
    got[0],
    "-ERR CONFIG SET failed (possibly related to argument 'dbfilename') - dbfilename can't be a path, just a filename\r\n",
  );
});

test("enable-protected-configs local admits loopback clients", {
  skip: missing("redis-server"),
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "redeno-protected-"));
  try {
    await sideBySide({ "enable-protected-configs": "local" }, [
      ["CONFIG", "SET", "dir", dir],
      ["CONFIG", "SET", "dbfilename", "mine.rdb"],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("SAVE cannot be steered outside dir", async () => {
  const dir = mkdtempSync(join(tmpdir(), "redeno-protected-"));
  const { port, close } = await startServer({ config: { dir, "enable-protected-configs": "yes" } });
  const c = await RawConn.connect(port);
  try {
    c.command("SET", "k", "attacker bytes");
    c.command("CONFIG", "SET", "dbfilename", "../escape.txt");
    c.command("SAVE");
    const want = "+OK\r\n" +
      "-ERR CONFIG SET failed (possibly related to argument 'dbfilename') - dbfilename can't be a path, just a filename\r\n" +
      "+OK\r\n";
    assert.equal(await c.read(want.length), want);
    assert.equal(existsSync(join(dir, "..", "escape.txt")), false);
    assert.equal(existsSync(join(dir, "dump.rdb")), true);
  } finally {
    c.close();
    await close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a path-like dbfilename or appendfilename is refused at startup too", () => {
  assert.throws(
    () => createServer({ config: { dbfilename: "../x.rdb" } }),
    /dbfilename can't be a path, just a filename/,
  );
  assert.throws(
    () => createServer({ config: { appendfilename: "a/x.aof" } }),
    /appendfilename can't be a path, just a filename/,
  );
});

test("DEBUG is refused by default, before AUTH and at MULTI queueing time, as redis-server", {
  skip: missing("redis-server"),
}, async () => {
  const got = await sideBySide({ requirepass: "pw" }, [
    ["DEBUG", "SLEEP", "0"],
    ["AUTH", "pw"],
    ["DEBUG", "SLEEP", "0"],
    ["MULTI"],
    ["DEBUG", "SLEEP", "0"],
    ["EXEC"],
    ["DEBUG"],
  ]);
  assert.equal(got[0], DEBUG_DENIED);
});

test("DEBUG with enable-debug-command local runs for loopback clients", {
  skip: missing("redis-server"),
}, async () => {
  await sideBySide({ "enable-debug-command": "local" }, [
    ["DEBUG", "SLEEP", "0"],
    ["DEBUG", "SET-ACTIVE-EXPIRE", "1"],
  ]);
});

test("in-process clients of an embedding program count as local", () => {
  const denied = createServer().dispatch(["DEBUG", "SLEEP", "0"]);
  assert.ok(denied instanceof ErrorReply);
  assert.equal(denied.message, DEBUG_DENIED.slice(1, -2));
  const local = createServer({ config: { "enable-debug-command": "local" } });
  assert.equal((local.dispatch(["DEBUG", "SLEEP", "0"]) as SimpleString).value, "OK");
  const cfg = createServer({ config: { "enable-protected-configs": "local" } });
  assert.equal(
    (cfg.dispatch(["CONFIG", "SET", "dbfilename", "x.rdb"]) as SimpleString).value,
    "OK",
  );
  const script = local.dispatch(["EVAL", "return redis.pcall('DEBUG', 'SLEEP', '0')", "0"]);
  assert.ok(script instanceof ErrorReply, "DEBUG is not callable from scripts");
});

const MODULE_DENIED =
  '-ERR MODULE command not allowed. If the enable-module-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n';

test("MODULE LOAD/LOADEX/UNLOAD are refused by default; LIST and HELP are not, as redis-server", {
  skip: missing("redis-server"),
}, async () => {
  const got = await sideBySide({}, [
    ["MODULE", "LOAD", "/tmp/evil.so"],
    ["MODULE", "LOADEX", "/tmp/evil.so"],
    ["MODULE", "UNLOAD", "x"],
    ["MODULE", "LIST"],
    ["MODULE", "HELP"],
    ["MODULE", "FOO"],
    ["MODULE"],
  ]);
  assert.equal(got[0], MODULE_DENIED);
});

test("with enable-module-command yes a module fails to load, as one that cannot load in Redis", {
  skip: missing("redis-server"),
}, async () => {
  await sideBySide({ "enable-module-command": "yes" }, [
    ["MODULE", "LOAD", "/nonexistent.so"],
    ["MODULE", "UNLOAD", "x"],
    ["MODULE", "LIST"],
  ]);
});
