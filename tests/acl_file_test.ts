/**
 * Users from files: ACL SAVE writes an aclfile that redis-server 7.0 loads with the same users,
 * ACL LOAD reads one back (clients stay under the new user of their user's name), a bad file
 * changes nothing, and `user` directives of a config file create users when redeno starts
 * (refused beside an `aclfile`, as Redis does).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { spawnSync } from "node:child_process";
import { Redis } from "ioredis";
import { RawConn, startProcess, startServer } from "./helpers.ts";
import { freePort, stockRedis } from "./replication_helpers.ts";
import { missing } from "./redis_tools.ts";

const RULES = [
  ["alice", "on", ">pw1", "#" + "ab".repeat(32), "~app:*", "%R~ro:*", "&news", "+@read", "-keys"],
  ["bob", "off", "nopass", "allkeys", "allchannels", "+@all", "-@dangerous", "(+get ~sel:*)"],
  ["carol", "on", ">x", "resetchannels", "-@all", "+config|get", "+select|0"],
];

function serverCommand(args: string[]): [string, string[]] {
  const deno = (globalThis as { Deno?: unknown }).Deno !== undefined;
  return deno
    ? ["node_modules/deno/deno", ["run", "-A", "main.ts", ...args]]
    : [process.execPath, ["--import", "tsx", "main.ts", ...args]];
}

test("ACL SAVE writes a file redis-server loads with the same users", {
  skip: missing("redis-server"),
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "redeno-aclfile-"));
  const file = join(dir, "users.acl");
  writeFileSync(file, "");
  const s = await startServer({ config: { aclfile: file } });
  const c = new Redis(s.port, "127.0.0.1");
  try {
    for (const r of RULES) assert.equal(await c.call("ACL", "SETUSER", ...r), "OK");
    assert.equal(await c.call("ACL", "SAVE"), "OK");
    const ours = (await c.call("ACL", "LIST")) as string[];
    assert.equal(readFileSync(file, "latin1"), ours.map((l) => l + "\n").join(""));
    const redis = await stockRedis(["--aclfile", file]);
    const r = new Redis(redis.port, "127.0.0.1");
    try {
      const theirs = (await r.call("ACL", "LIST")) as string[];
      // Redis writes single commands in its hash table's order: compare the words as sets.
      const words = (lines: string[]) => lines.map((l) => l.split(" ").sort().join(" "));
      assert.deepEqual(words(theirs), words(ours));
      assert.equal(await r.call("AUTH", "alice", "pw1"), "OK");
    } finally {
      r.disconnect();
      await redis.stop();
    }
  } finally {
    c.disconnect();
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("ACL LOAD replaces the users, keeps their clients, and refuses a bad file whole", async () => {
  const dir = mkdtempSync(join(tmpdir(), "redeno-aclfile-"));
  const file = join(dir, "users.acl");
  writeFileSync(file, "user default on nopass ~* &* +@all\nuser dave on >pw ~* +@all\n");
  const s = await startServer({ config: { aclfile: file } });
  const admin = new Redis(s.port, "127.0.0.1");
  try {
    assert.deepEqual(await admin.call("ACL", "USERS"), ["dave", "default"]);
    const dave = await RawConn.connect(s.port);
    dave.command("AUTH", "dave", "pw");
    await dave.expect("+OK\r\n");
    writeFileSync(file, "user dave on >pw ~* +@all\nuser erin on nopass\nbogus line\n");
    await assert.rejects(
      admin.call("ACL", "LOAD"),
      {
        message: `ERR ${file}:3 should start with user keyword followed by the username. ` +
          "WARNING: ACL errors detected, no change to the previously active ACL rules was performed",
      },
    );
    assert.deepEqual(await admin.call("ACL", "USERS"), ["dave", "default"]);
    writeFileSync(file, "user dave on >pw ~* +@all\nuser erin on nopass +@all\n");
    assert.equal(await admin.call("ACL", "LOAD"), "OK");
    // No default user in the file: it is `on nopass ~* &* +@all` again.
    assert.deepEqual(await admin.call("ACL", "LIST"), [
      "user dave on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~* resetchannels +@all",
      "user default on nopass ~* &* +@all",
      "user erin on nopass resetchannels +@all",
    ]);
    // Redis 7.4: a client whose user the file still has stays, under the new user
    // (tests/acl_load74_test.ts covers the users dropped).
    dave.command("ACL", "WHOAMI");
    await dave.expect("$4\r\ndave\r\n");
    assert.equal(await admin.ping(), "PONG");
  } finally {
    admin.disconnect();
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("user directives of the config file create users at startup", async () => {
  const dir = mkdtempSync(join(tmpdir(), "redeno-users-"));
  const conf = join(dir, "redis.conf");
  const port = await freePort();
  writeFileSync(
    conf,
    [
      `port ${port}`,
      "bind 127.0.0.1",
      'save ""',
      `dir ${dir}`,
      // Redefining the default user resets it first (hence sanitize-payload), as in Redis.
      "user default on nopass sanitize-payload ~* &* +@all -flushall",
      "user frank on >pw ~f:* +get",
    ].join("\n") + "\n",
  );
  const [cmd, args] = serverCommand([conf]);
  const p = await startProcess(cmd, args, "Ready to accept connections");
  const c = new Redis(port, "127.0.0.1");
  try {
    assert.deepEqual(await c.call("ACL", "LIST"), [
      // Redefining the default user resets it first (hence sanitize-payload), as in Redis.
      "user default on nopass sanitize-payload ~* &* +@all -flushall",
      "user frank on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~f:* resetchannels -@all +get",
    ]);
    await assert.rejects(
      c.flushall(),
      /NOPERM User default has no permissions to run the 'flushall'/,
    );
  } finally {
    c.disconnect();
    await p.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  // Users in the config file and an aclfile together: refused at startup.
  const [cmd2, args2] = serverCommand([
    "--port",
    "0",
    "--aclfile",
    join(dir, "x.acl"),
    "--user",
    "gina",
    "on",
  ]);
  const run = spawnSync(cmd2, args2, { encoding: "utf8", timeout: 20000 });
  assert.notEqual(run.status, 0);
  assert.match(run.stderr, /users defined in redis\.conf and at the same setting an ACL file/);
});

test("CONFIG REWRITE writes the users in place of the user lines", async () => {
  const dir = mkdtempSync(join(tmpdir(), "redeno-rewrite-"));
  const conf = join(dir, "redis.conf");
  writeFileSync(conf, "# users\nuser old on nopass\nuser older off\nhz 10\n");
  const s = await startServer({ configFile: conf });
  const c = new Redis(s.port, "127.0.0.1");
  try {
    await c.call("ACL", "SETUSER", "hank", "on", ">pw", "~h:*", "+get");
    assert.equal(await c.call("CONFIG", "REWRITE"), "OK");
    assert.equal(
      readFileSync(conf, "latin1"),
      "# users\nuser default on nopass ~* &* +@all\n" +
        "user hank on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~h:* " +
        "resetchannels -@all +get\nhz 10\n# Generated by CONFIG REWRITE\n" +
        `port ${s.port}\n`,
    );
  } finally {
    c.disconnect();
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
