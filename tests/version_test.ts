/**
 * The Redis version redeno reports: 7.4.1 by default in INFO, HELLO, LOLWUT and the RDB's
 * `redis-ver`, and whatever `reported-redis-version` says for clients that gate features on it;
 * beside the 7.4.1 reference build when it is present.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { createServer, ErrorReply } from "../mod.ts";
import { RawConn, startServer } from "./helpers.ts";
import { pipeline } from "./redis_compare.ts";
import { serverIn, tempDir, text } from "./rdb_helpers.ts";
import { REFERENCE_74, startReference } from "./reference_redis.ts";

const NO_REF = REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false;

/** HELLO 3's `version` entry, as RESP bytes. */
const helloVersion = (v: string) => `$7\r\nversion\r\n$${v.length}\r\n${v}\r\n`;

/** The replies of INFO server's version line, HELLO 3 and LOLWUT on a fresh connection. */
async function versionReplies(port: number): Promise<string[]> {
  const c = await RawConn.connect(port);
  try {
    const [info, hello, lolwut] = await pipeline(c, [["INFO", "server"], ["HELLO", "3"], [
      "LOLWUT",
    ]]);
    return [/redis_version:[^\r]*/.exec(info!)![0], hello!, lolwut!];
  } finally {
    c.close();
  }
}

test("INFO, HELLO and LOLWUT report Redis 7.4.1 by default", async () => {
  const ours = await startServer();
  try {
    const [info, hello, lolwut] = await versionReplies(ours.port);
    assert.equal(info, "redis_version:7.4.1");
    assert.ok(hello!.includes(helloVersion("7.4.1")), hello);
    assert.equal(lolwut, "=21\r\ntxt:Redis ver. 7.4.1\n\r\n");
    const c = await RawConn.connect(ours.port);
    assert.deepEqual(await pipeline(c, [["CONFIG", "GET", "reported-redis-version"]]), [
      "*2\r\n$22\r\nreported-redis-version\r\n$5\r\n7.4.1\r\n",
    ]);
    c.close();
  } finally {
    await ours.close();
  }
});

test("reported-redis-version changes what ioredis, node-redis and HELLO see", async () => {
  const ours = await startServer({ config: { "reported-redis-version": "7.0.15" } });
  const io = new Redis(ours.port, "127.0.0.1", { lazyConnect: true });
  const nr = createClient({ socket: { port: ours.port, host: "127.0.0.1" } });
  try {
    await io.connect();
    await nr.connect();
    assert.match(await io.info("server"), /^redis_version:7\.0\.15\r$/m);
    assert.match(await nr.info("server"), /^redis_version:7\.0\.15\r$/m);
    assert.equal(await io.call("LOLWUT"), "Redis ver. 7.0.15\n");
    // Changed at run time, the next reply already says so.
    assert.equal(await io.config("SET", "reported-redis-version", "7.2.4"), "OK");
    assert.match(await nr.info("server"), /^redis_version:7\.2\.4\r$/m);
    const [, hello] = await versionReplies(ours.port);
    assert.ok(hello!.includes(helloVersion("7.2.4")), hello);
    // LOLWUT draws the art of the version reported, as that Redis would.
    await io.config("SET", "reported-redis-version", "6.2.14");
    assert.match(
      String(await io.call("LOLWUT")),
      /8 bit game developers[^]*Redis ver\. 6\.2\.14\n$/,
    );
  } finally {
    io.disconnect();
    await nr.quit();
    await ours.close();
  }
});

test("reported-redis-version takes major.minor.patch only", () => {
  const server = createServer();
  for (const bad of ["7.4", "7.4.1-rc1", "v7.4.1", "", "7..1"]) {
    assert.deepEqual(
      server.dispatch(["CONFIG", "SET", "reported-redis-version", bad]),
      new ErrorReply(
        "ERR CONFIG SET failed (possibly related to argument 'reported-redis-version') - " +
          "argument must be a version: major.minor.patch",
      ),
    );
  }
  assert.equal(server.config.str("reported-redis-version"), "7.4.1");
  assert.throws(
    () => createServer({ config: { "reported-redis-version": "seven" } }),
    /argument must be a version: major\.minor\.patch/,
  );
});

test("an RDB file names the reported version in redis-ver", () => {
  const dir = tempDir();
  try {
    for (const version of ["7.4.1", "7.0.15"]) {
      const { server } = serverIn(dir, { config: { "reported-redis-version": version } });
      server.dispatch(["SET", "k", "v"]);
      assert.equal(text(server.dispatch(["SAVE"])), "OK");
      const head = Buffer.from(readFileSync(join(dir, "dump.rdb"))).toString("latin1", 0, 40);
      // AUX opcode, "redis-ver" and the version, each a length-prefixed string.
      assert.ok(
        head.startsWith(
          `REDIS0010\xfa\x09redis-ver${String.fromCharCode(version.length)}${version}`,
        ),
        JSON.stringify(head),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the version replies match the 7.4.1 reference build's", { skip: NO_REF }, async () => {
  const ref = await startReference();
  const ours = await startServer();
  try {
    const theirs = await versionReplies(ref.port);
    const mine = await versionReplies(ours.port);
    // HELLO's `id` differs (connection ids): compared up to it.
    const upToId = (hello: string) => hello.slice(0, hello.indexOf("$2\r\nid\r\n"));
    assert.deepEqual(
      [mine[0], upToId(mine[1]!), mine[2]],
      [theirs[0], upToId(theirs[1]!), theirs[2]],
    );
  } finally {
    ref.stop();
    await ours.close();
  }
});
