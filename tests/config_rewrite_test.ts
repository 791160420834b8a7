/**
 * CONFIG REWRITE and DEBUG CONFIG-REWRITE-FORCE-ALL write a file the server loads back to the
 * same configuration; `save ""` is written when the command line's save points were the
 * default; `shutdown-on-sigint|sigterm` take SHUTDOWN's flags as Redis 7.0 does.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, ErrorReply, type Server, SimpleString } from "../mod.ts";
import { parseConfigLines } from "../core/cli.ts";
import { stockRedis } from "./replication_helpers.ts";
import { missing } from "./redis_tools.ts";
import { Redis } from "ioredis";

/** What CONFIG GET * answers, as pairs. */
function configOf(server: Server): Map<string, string> {
  return new Map(server.config.match(["*"]));
}

/** A simple reply's text, or an error's. */
function text(r: unknown): string {
  if (r instanceof ErrorReply) return r.message;
  assert.ok(r instanceof SimpleString, String(r));
  return r.value;
}

/** A server started from the file at `path`, as main.ts starts one. */
function fromFile(path: string): Server {
  const parsed = parseConfigLines(readFileSync(path, "utf8").split("\n"));
  assert.equal(parsed.error, undefined, parsed.error);
  return createServer({ config: parsed.config, configFile: path });
}

test("DEBUG CONFIG-REWRITE-FORCE-ALL writes every directive, and the file loads back the same", () => {
  const dir = mkdtempSync(join(tmpdir(), "redeno-rewrite-"));
  try {
    const path = join(dir, "redis.conf");
    writeFileSync(path, "enable-debug-command yes\nmaxmemory 1mb\n");
    const first = fromFile(path);
    first.dispatch(["CONFIG", "SET", "shutdown-on-sigint", "now nosave"]);
    assert.equal(text(first.dispatch(["DEBUG", "CONFIG-REWRITE-FORCE-ALL"])), "OK");
    const file = readFileSync(path, "utf8");
    // Defaults are written too (not replicaof, which has no line when not a replica).
    assert.match(file, /^hz 10$/m);
    assert.doesNotMatch(file, /^replicaof/m);
    const again = fromFile(path);
    assert.deepEqual(configOf(again), configOf(first));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CONFIG REWRITE writes save "" when the save points were the server\'s default', () => {
  const dir = mkdtempSync(join(tmpdir(), "redeno-rewrite-"));
  try {
    const path = join(dir, "redis.conf");
    writeFileSync(path, "port 0\n");
    const server = fromFile(path);
    server.config.setDefault("save", ["3600", "1", "300", "100", "60", "10000"]);
    server.dispatch(["CONFIG", "REWRITE"]);
    assert.doesNotMatch(readFileSync(path, "utf8"), /^save/m, "the default is left out");
    server.dispatch(["CONFIG", "SET", "save", ""]);
    server.dispatch(["CONFIG", "REWRITE"]);
    assert.match(readFileSync(path, "utf8"), /^save ""$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** CONFIG SET shutdown-on-sigint for each value, then CONFIG GET: what each answered. */
const SIGINT_VALUES = [
  "nosave force now",
  "force now save",
  "save nosave",
  "foo",
  "default now",
  "default",
  "NOW Force",
  "",
];

async function sigintReplies(set: (v: string) => Promise<string>, get: () => Promise<string>) {
  const out: string[] = [];
  for (const v of SIGINT_VALUES) out.push(`${await set(v)} -> ${await get()}`);
  return out;
}

function local(server: Server) {
  return sigintReplies(
    (v) => Promise.resolve(text(server.dispatch(["CONFIG", "SET", "shutdown-on-sigint", v]))),
    () => Promise.resolve(configOf(server).get("shutdown-on-sigint")!),
  );
}

test("shutdown-on-sigint takes SHUTDOWN's flags, in Redis's order and with its errors", async () => {
  const got = await local(createServer());
  assert.deepEqual(got.slice(0, 4), [
    "OK -> nosave now force",
    "OK -> save now force",
    "ERR CONFIG SET failed (possibly related to argument 'shutdown-on-sigint') - shutdown options SAVE and NOSAVE can't be used simultaneously -> save now force",
    "ERR CONFIG SET failed (possibly related to argument 'shutdown-on-sigint') - argument(s) must be one of the following: default, save, nosave, now, force -> save now force",
  ]);
  assert.deepEqual(got.slice(4), [
    "OK -> now",
    "OK -> default",
    "OK -> now force",
    "ERR CONFIG SET failed (possibly related to argument 'shutdown-on-sigint') - argument(s) must be one of the following: default, save, nosave, now, force -> now force",
  ]);
});

test("shutdown-on-sigint reads the same as redis-server's", {
  skip: missing("redis-server"),
}, async () => {
  const redis = await stockRedis();
  const c = new Redis({ port: redis.port, host: "127.0.0.1", maxRetriesPerRequest: 0 });
  try {
    const theirs = await sigintReplies(
      (v) =>
        c.config("SET", "shutdown-on-sigint", v).then(String, (e) => `ERR ${e.message.slice(4)}`),
      async () => ((await c.config("GET", "shutdown-on-sigint")) as string[])[1]!,
    );
    assert.deepEqual(await local(createServer()), theirs);
  } finally {
    c.disconnect();
    await redis.stop();
  }
});
