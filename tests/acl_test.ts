/**
 * ACL users through real clients (ioredis, node-redis, redis-cli): users with key, channel and
 * command rules get Redis's allow and deny replies; AUTH, HELLO AUTH and requirepass; a deleted
 * user's connections are dropped, and so are subscribers whose channels are revoked; EXEC and
 * scripts check again; the default user's clients never pass through the ACL gate.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { RawConn, redisCli, startServer } from "./helpers.ts";
import { missing } from "./redis_tools.ts";
import { CF } from "../core/client.ts";

// Redis 7.2's texts (tests/acl_compare_test.ts has 7.0's, beside Debian's redis-server).
const NOPERM_KEY = "NOPERM No permissions to access a key";
const NOPERM_CHANNEL = "NOPERM No permissions to access a channel";
const WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled.";

async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected an error reply");
}

test("a user with key, channel and command rules gets Redis's allow and deny replies (ioredis)", async () => {
  const s = await startServer();
  const admin = new Redis(s.port, "127.0.0.1");
  const app = new Redis(s.port, "127.0.0.1", { lazyConnect: true });
  try {
    await admin.call(
      "ACL",
      "SETUSER",
      "app",
      "on",
      ">s3cret",
      "~app:*",
      "%R~shared:*",
      "&news.*",
      "+@read",
      "+set",
      "+publish",
      "+acl|whoami",
      "-keys",
    );
    await app.connect();
    assert.equal(await app.call("AUTH", "app", "s3cret"), "OK");
    assert.equal(await app.call("ACL", "WHOAMI"), "app");
    assert.equal(await app.set("app:1", "v"), "OK");
    assert.equal(await app.get("app:1"), "v");
    assert.equal(await app.get("shared:x"), null);
    assert.equal(await errorOf(app.set("shared:x", "v")), NOPERM_KEY);
    assert.equal(await errorOf(app.get("other")), NOPERM_KEY);
    assert.equal(
      await errorOf(app.del("app:1")),
      "NOPERM User app has no permissions to run the 'del' command",
    );
    assert.equal(
      await errorOf(app.call("KEYS", "*")),
      "NOPERM User app has no permissions to run the 'keys' command",
    );
    assert.equal(await app.publish("news.sport", "goal"), 0);
    assert.equal(await errorOf(app.publish("weather", "rain")), NOPERM_CHANNEL);
    // The refusals are in the log, newest first.
    const log = (await admin.call("ACL", "LOG", "2")) as unknown[][];
    assert.deepEqual(log.map((e) => [e[3], e[5], e[7], e[9]]), [
      ["channel", "toplevel", "weather", "app"],
      ["command", "toplevel", "keys", "app"],
    ]);
    assert.equal(await errorOf(app.call("AUTH", "app", "wrong")), WRONGPASS);
  } finally {
    app.disconnect();
    admin.disconnect();
    await s.close();
  }
});

test("node-redis connects with a username and password, HELLO 3 AUTH included", async () => {
  const s = await startServer({ config: { requirepass: "top" } });
  const admin = createClient({ socket: { port: s.port, host: "127.0.0.1" }, password: "top" });
  await admin.connect();
  try {
    await admin.sendCommand([
      "ACL",
      "SETUSER",
      "reader",
      "on",
      ">pw",
      "~*",
      "+@read",
      "+acl|whoami",
    ]);
    const reader = createClient({
      socket: { port: s.port, host: "127.0.0.1" },
      username: "reader",
      password: "pw",
      RESP: 3,
    });
    await reader.connect();
    try {
      assert.equal(await reader.sendCommand(["ACL", "WHOAMI"]), "reader");
      assert.equal(await reader.get("k"), null);
      assert.match(await errorOf(reader.set("k", "v")), /no permissions to run the 'set' command/);
    } finally {
      await reader.quit();
    }
    const bad = createClient({
      socket: { port: s.port, host: "127.0.0.1", reconnectStrategy: false },
      username: "reader",
      password: "nope",
    });
    bad.on("error", () => {});
    assert.equal(await errorOf(bad.connect()), WRONGPASS);
  } finally {
    await admin.quit();
    await s.close();
  }
});

test("requirepass is the default user's password; CONFIG SET requirepass changes it", async () => {
  const s = await startServer({ config: { requirepass: "one" } });
  const c = await RawConn.connect(s.port);
  try {
    c.command("GET", "k");
    await c.expect("-NOAUTH Authentication required.\r\n");
    c.command("AUTH", "two");
    await c.expect(`-${WRONGPASS}\r\n`);
    c.command("AUTH", "default", "one");
    await c.expect("+OK\r\n");
    c.command("ACL", "GETUSER", "default");
    const digest = "7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed";
    await c.expect(
      `*12\r\n$5\r\nflags\r\n*1\r\n$2\r\non\r\n$9\r\npasswords\r\n*1\r\n$64\r\n${digest}\r\n` +
        "$8\r\ncommands\r\n$5\r\n+@all\r\n$4\r\nkeys\r\n$2\r\n~*\r\n$8\r\nchannels\r\n$2\r\n&*\r\n" +
        "$9\r\nselectors\r\n*0\r\n",
    );
    c.command("CONFIG", "SET", "requirepass", "");
    await c.expect("+OK\r\n");
    c.command("ACL", "LIST");
    await c.expect("*1\r\n$34\r\nuser default on nopass ~* &* +@all\r\n");
    c.command("AUTH", "x");
    await c.expect(
      "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n",
    );
  } finally {
    c.close();
    await s.close();
  }
});

test("a user deleted while connected is dropped; other users' clients stay", async () => {
  const s = await startServer();
  const admin = new Redis(s.port, "127.0.0.1");
  try {
    await admin.call("ACL", "SETUSER", "temp", "on", "nopass", "~*", "+@all");
    const victim = await RawConn.connect(s.port);
    const other = await RawConn.connect(s.port);
    victim.command("AUTH", "temp", "x");
    await victim.expect("+OK\r\n");
    assert.equal(await admin.call("ACL", "DELUSER", "temp", "nobody"), 1);
    assert.ok(await victim.waitClosed(), "the deleted user's client is closed");
    other.command("PING");
    await other.expect("+PONG\r\n");
    other.close();
    // CLIENT KILL USER closes a user's connections; an unknown user is an error.
    await admin.call("ACL", "SETUSER", "kill", "on", "nopass", "+@all");
    const killed = await RawConn.connect(s.port);
    killed.command("AUTH", "kill", "x");
    await killed.expect("+OK\r\n");
    assert.equal(await admin.call("CLIENT", "KILL", "USER", "kill"), 1);
    assert.ok(await killed.waitClosed());
    await assert.rejects(admin.call("CLIENT", "KILL", "USER", "temp"), /No such user 'temp'/);
    // A client deleting its own user gets the reply, then the connection closes.
    await admin.call("ACL", "SETUSER", "self", "on", "nopass", "~*", "+@all");
    const self = await RawConn.connect(s.port);
    self.command("AUTH", "self", "x");
    self.command("ACL", "DELUSER", "self");
    await self.expect("+OK\r\n:1\r\n");
    assert.ok(await self.waitClosed());
  } finally {
    admin.disconnect();
    await s.close();
  }
});

test("a subscriber whose channel is revoked by ACL SETUSER is dropped", async () => {
  const s = await startServer();
  const admin = new Redis(s.port, "127.0.0.1");
  try {
    await admin.call("ACL", "SETUSER", "sub", "on", "nopass", "+@all", "&a", "&b");
    const keep = await RawConn.connect(s.port);
    const drop = await RawConn.connect(s.port);
    for (const [c, ch] of [[keep, "a"], [drop, "b"]] as const) {
      c.command("AUTH", "sub", "x");
      c.command("SUBSCRIBE", ch);
      await c.expect(`+OK\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\n${ch}\r\n:1\r\n`);
    }
    // A pattern must be one of the user's channel patterns, literally.
    const pattern = await RawConn.connect(s.port);
    pattern.command("AUTH", "sub", "x");
    pattern.command("PSUBSCRIBE", "b*");
    await pattern.expect(`+OK\r\n-${NOPERM_CHANNEL}\r\n`);
    pattern.close();
    await admin.call("ACL", "SETUSER", "sub", "resetchannels", "&a");
    assert.ok(await drop.waitClosed(), "the subscriber of b is closed");
    keep.command("PING");
    await keep.expect("*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    keep.close();
  } finally {
    admin.disconnect();
    await s.close();
  }
});

test("%R~ and %W~ patterns and selectors decide per key what a command may do", async () => {
  const s = await startServer();
  const admin = new Redis(s.port, "127.0.0.1");
  const c = new Redis(s.port, "127.0.0.1");
  try {
    await admin.call(
      "ACL",
      "SETUSER",
      "rw",
      "on",
      "nopass",
      "+@all",
      "%R~r:*",
      "%W~w:*",
      "(~sel:* +get)",
    );
    await c.call("AUTH", "rw", "x");
    assert.equal(await c.get("r:1"), null);
    assert.equal(await errorOf(c.set("r:1", "v")), NOPERM_KEY);
    assert.equal(await c.set("w:1", "v"), "OK");
    assert.equal(await errorOf(c.get("w:1")), NOPERM_KEY);
    // SET ... GET reads the key too; LMOVE reads and writes its source, writes its destination;
    // EXISTS only looks at keys, which any pattern allows.
    assert.equal(await errorOf(c.set("w:1", "v", "GET")), NOPERM_KEY);
    assert.equal(await errorOf(c.lmove("w:1", "w:2", "LEFT", "RIGHT")), NOPERM_KEY);
    assert.equal(await c.exists("r:1", "w:1"), 1);
    assert.equal(await c.get("sel:1"), null);
    assert.equal(await errorOf(c.set("sel:1", "v")), NOPERM_KEY);
    assert.equal(
      await admin.call("ACL", "DRYRUN", "rw", "SET", "sel:1", "v"),
      "User rw has no permissions to access the 'sel:1' key",
    );
    assert.equal(await admin.call("ACL", "DRYRUN", "rw", "GET", "sel:1"), "OK");
  } finally {
    c.disconnect();
    admin.disconnect();
    await s.close();
  }
});

test("MULTI refuses at queue time, EXEC checks again, scripts check redis.call", async () => {
  const s = await startServer();
  const admin = new Redis(s.port, "127.0.0.1");
  const c = new Redis(s.port, "127.0.0.1");
  try {
    await admin.call("ACL", "SETUSER", "tx", "on", "nopass", "+@all", "~t:*");
    await c.call("AUTH", "tx", "x");
    const raw = await RawConn.connect(s.port);
    raw.send("AUTH tx x\r\nMULTI\r\nSET t:1 a\r\nGET other\r\nEXEC\r\n");
    await raw.expect(
      `+OK\r\n+OK\r\n+QUEUED\r\n-${NOPERM_KEY}\r\n` +
        "-EXECABORT Transaction discarded because of previous errors.\r\n",
    );
    raw.close();
    // Queued while allowed, refused by EXEC once the rules changed.
    const tx = await RawConn.connect(s.port);
    tx.send("AUTH tx x\r\nMULTI\r\nSET t:1 a\r\nGET t:1\r\n");
    await tx.expect("+OK\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n");
    await admin.call("ACL", "SETUSER", "tx", "-get");
    tx.send("EXEC\r\n");
    await tx.expect(
      "*2\r\n+OK\r\n-NOPERM ACLs rules changed between the moment the transaction was " +
        "accumulated and the EXEC call. This command is no longer allowed for the following " +
        "reason: no permission to execute the command or subcommand\r\n",
    );
    tx.close();
    assert.match(
      await errorOf(c.eval("return redis.call('set', 'other', 1)", 0)),
      /^ERR ACL failure in script: No permissions to access a key script:/,
    );
    assert.deepEqual(
      await c.eval(
        "return {redis.acl_check_cmd('set','t:1','v'), redis.acl_check_cmd('get','t:1')}",
        0,
      ),
      [1, null],
    );
    const log = (await admin.call("ACL", "LOG", "2")) as unknown[][];
    assert.deepEqual(log.map((e) => [e[3], e[5], e[7]]), [
      ["key", "lua", "other"],
      ["command", "multi", "get"],
    ]);
    assert.deepEqual((log as unknown[][]).length, 2);
    assert.deepEqual(((await admin.call("ACL", "LOG")) as unknown[][]).map((e) => e[7]), [
      "other",
      "get",
      "other",
    ]);
  } finally {
    c.disconnect();
    admin.disconnect();
    await s.close();
  }
});

test("clients of the default user never pass through the ACL gate", async () => {
  const s = await startServer();
  const admin = new Redis(s.port, "127.0.0.1");
  try {
    await admin.ping();
    const flags = () => [...s.server.clients.values()].map((c) => c.flags & CF.restricted);
    assert.deepEqual(flags(), [0]);
    await admin.call("ACL", "SETUSER", "default", "-debug");
    assert.deepEqual(flags(), [CF.restricted]);
    await admin.call("ACL", "SETUSER", "default", "+@all");
    assert.deepEqual(flags(), [0]);
  } finally {
    admin.disconnect();
    await s.close();
  }
});

test("redis-cli authenticates with --user and --pass", { skip: missing("redis-cli") }, async () => {
  const s = await startServer();
  try {
    await redisCli(s.port, ["ACL", "SETUSER", "cli", "on", ">pw", "+acl|whoami", "+ping"]);
    const ok = await redisCli(s.port, [
      "--user",
      "cli",
      "--pass",
      "pw",
      "--no-auth-warning",
      "ACL",
      "WHOAMI",
    ]);
    assert.equal(ok.stdout, "cli\n");
    const denied = await redisCli(s.port, [
      "--user",
      "cli",
      "--pass",
      "pw",
      "--no-auth-warning",
      "GET",
      "k",
    ]);
    assert.equal(
      denied.stdout.trim(),
      "NOPERM User cli has no permissions to run the 'get' command",
    );
    const wrong = await redisCli(s.port, [
      "--user",
      "cli",
      "--pass",
      "no",
      "--no-auth-warning",
      "PING",
    ]);
    assert.match(wrong.stderr + wrong.stdout, /AUTH failed: WRONGPASS/);
  } finally {
    await s.close();
  }
});
