/**
 * Secrets in MONITOR and SLOWLOG (issue 15): passwords given to AUTH, HELLO AUTH and CONFIG SET
 * of sensitive directives show as `(redacted)`, exactly where redis-server 7.0.15 shows it.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { type CommandSpec, createServer, R } from "../mod.ts";
import { RawConn, startServer } from "./helpers.ts";
import { pipeline, startRedis } from "./redis_compare.ts";
import { missing } from "./redis_tools.ts";

/** Commands with secrets, each sent on a connection of its own (HELLO changes the protocol). */
const CASES: string[][] = [
  ["AUTH", "hunter2"],
  ["AUTH", "default", "hunter2"],
  ["AUTH", "a", "b", "c"],
  ["HELLO", "3", "AUTH", "default", "hunter2"],
  ["HELLO", "3", "AUTH", "default", "hunter2", "SETNAME", "x"],
  ["HELLO", "2", "SETNAME", "x", "AUTH", "default", "hunter2"],
  ["HELLO", "2", "AUTH"],
  ["HELLO", "4", "AUTH", "default", "hunter2"],
  ["HELLO", "2", "FOO", "AUTH", "default", "hunter2"],
  ["CONFIG", "SET", "masterauth", "pw1", "requirepass", "", "maxmemory", "0"],
  ["CONFIG", "SET", "masteruser", "u1", "nosuch", "pw2"],
  ["CONFIG", "SET", "requirepass"],
  ["SET", "k", "not a secret"],
  ["ACL", "SETUSER", "bob", "on", ">secret", "~*", "+get"],
  ["ACL", "SETUSER", "bob", "nosuchrule"],
  // MIGRATE: no key exists (NOKEY) or the arguments fail, so no target is contacted.
  ["MIGRATE", "127.0.0.1", "1", "nokey", "0", "100", "AUTH", "hunter2"],
  ["MIGRATE", "127.0.0.1", "1", "", "0", "100", "COPY", "AUTH2", "user", "hunter2", "KEYS", "a"],
  ["MIGRATE", "127.0.0.1", "1", "", "0", "100", "AUTH", "hunter2", "BOGUS"],
  ["MIGRATE", "127.0.0.1", "1", "", "0", "100", "AUTH2", "user"],
  ["MIGRATE", "127.0.0.1", "1", "", "0", "100", "KEYS", "AUTH", "hunter2"],
  ["MIGRATE", "127.0.0.1", "1", "k", "0", "100", "AUTH", "hunter2", "KEYS", "a"],
  ["MIGRATE", "127.0.0.1", "1", "k", "x", "100", "AUTH2", "u", "hunter2"],
];

/** What MONITOR showed, without the time and the client's address. */
async function monitorLines(port: number, cases: string[][]): Promise<string[]> {
  const mon = await RawConn.connect(port);
  mon.command("MONITOR");
  assert.equal(await mon.read(5), "+OK\r\n");
  for (const c of cases) {
    const conn = await RawConn.connect(port);
    await pipeline(conn, [c]);
    conn.close();
  }
  const end = await RawConn.connect(port);
  await pipeline(end, [["ECHO", "end"]]);
  end.close();
  for (let i = 0; i < 200 && !mon.pending.includes('"end"\r\n'); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const text = await mon.read(mon.pending.length);
  mon.close();
  return text.split("\r\n").filter((l) => l !== "").map((l) =>
    l.replace(/^\+\d+\.\d+ \[\d+ [^\]]+\] /, "")
  );
}

/** The argument lists of SLOWLOG GET, oldest first, as raw RESP per entry's argv. */
async function slowlogArgs(port: number, cases: string[][]): Promise<string[]> {
  const c = await RawConn.connect(port);
  await pipeline(c, [["CONFIG", "SET", "slowlog-log-slower-than", "0"], ["SLOWLOG", "RESET"]]);
  for (const cmd of cases) {
    const conn = await RawConn.connect(port);
    await pipeline(conn, [cmd]);
    conn.close();
  }
  const [reply] = await pipeline(c, [["SLOWLOG", "GET", "100"]]);
  c.close();
  // Each entry: *6 id time usec *N args... addr name. Keep the args arrays.
  const out: string[] = [];
  const re = /\r\n:\d+\r\n:\d+\r\n:\d+\r\n\*(\d+)\r\n/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(reply!)) !== null) {
    let p = m.index + m[0].length;
    const args: string[] = [];
    for (let i = 0; i < Number(m[1]); i++) {
      const eol = reply!.indexOf("\r\n", p);
      const len = Number(reply!.slice(p + 1, eol));
      args.push(reply!.slice(eol + 2, eol + 2 + len));
      p = eol + 2 + len + 2;
    }
    out.push(args.join(" "));
  }
  return out.reverse();
}

test("MONITOR redacts passwords as redis-server does", {
  skip: missing("redis-server"),
}, async () => {
  const redis = await startRedis();
  const ours = await startServer();
  try {
    const want = await monitorLines(redis.port, CASES);
    const got = await monitorLines(ours.port, CASES);
    assert.deepEqual(got, want);
    assert.ok(got.includes('"AUTH" "(redacted)"'), got.join("\n"));
    assert.ok(!got.slice(0, 7).some((l) => l.includes("hunter2")));
  } finally {
    redis.stop();
    await ours.close();
  }
});

test("SLOWLOG redacts passwords as redis-server does", {
  skip: missing("redis-server"),
}, async () => {
  const redis = await startRedis();
  const ours = await startServer();
  try {
    const want = await slowlogArgs(redis.port, CASES);
    const got = await slowlogArgs(ours.port, CASES);
    assert.deepEqual(got, want);
    assert.ok(got.includes("CONFIG SET masterauth (redacted) requirepass (redacted) maxmemory 0"));
  } finally {
    redis.stop();
    await ours.close();
  }
});

test("a plugin's command opts in to redaction by marking its secret arguments", () => {
  const login: CommandSpec = {
    name: "app.login",
    arity: 3,
    flags: ["fast"],
    redact: () => [2],
    execute: () => R.ok,
  };
  const server = createServer({
    commands: [login],
    config: { "slowlog-log-slower-than": "0" },
  });
  server.dispatch(["APP.LOGIN", "alice", "s3cret"]);
  const entries = server.dispatch(["SLOWLOG", "GET", "1"]);
  assert.match(JSON.stringify(entries), /"APP\.LOGIN","alice","\(redacted\)"/);
  assert.doesNotMatch(JSON.stringify(entries), /s3cret/);
});
