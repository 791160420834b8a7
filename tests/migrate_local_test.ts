/**
 * MIGRATE against a target this test plays itself (a socket that answers when told, or never),
 * inside MULTI and scripts, and its COMMAND INFO / GETKEYS beside redis-server's.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeCommand, RawConn } from "./helpers.ts";
import { compareWithRedis } from "./redis_compare.ts";
import { client, field, freePort, HOST, infoText, redeno, waitFor } from "./replication_helpers.ts";
import { createServer, ManualClock } from "../mod.ts";
import { missing } from "./redis_tools.ts";

/** A target that records what it receives and replies only what the test writes. */
async function fakeTarget(): Promise<{
  port: number;
  received(): string;
  reply(text: string): void;
  connections(): number;
  /** Closes the connections accepted so far, as a restarted target would. */
  drop(): void;
  /** True once the connection made `i`-th was closed by the other side. */
  ended(i: number): boolean;
  close(): Promise<void>;
}> {
  const ended = new Set<net.Socket>();
  const sockets: net.Socket[] = [];
  let data = "";
  const srv = net.createServer((s) => {
    sockets.push(s);
    s.setEncoding("latin1");
    s.on("data", (d: string) => (data += d));
    s.on("error", () => {});
    s.on("close", () => ended.add(s));
  });
  await new Promise<void>((r) => srv.listen(0, HOST, r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    received: () => data,
    reply: (text) => sockets[sockets.length - 1]!.write(text),
    connections: () => sockets.length,
    drop: () => {
      for (const s of sockets) s.destroy();
    },
    ended: (i) => ended.has(sockets[i]!),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => srv.close(r));
    },
  };
}

const errorText = (e: Error) => e.message;

test("MIGRATE sends SELECT only when the database changes, and RESTORE with the payload", async () => {
  const src = await redeno();
  const target = await fakeTarget();
  const a = client(src.port);
  try {
    await a.set("k", "v");
    const dump = (await a.dumpBuffer("k")).toString("latin1");
    const first = a.call("MIGRATE", HOST, String(target.port), "k", "5", "5000", "COPY", "REPLACE");
    const restore = `*5\r\n$7\r\nRESTORE\r\n$1\r\nk\r\n$1\r\n0\r\n$${dump.length}\r\n${dump}\r\n` +
      "$7\r\nREPLACE\r\n";
    const want = "*2\r\n$6\r\nSELECT\r\n$1\r\n5\r\n" + restore;
    await waitFor(() => target.received().length >= want.length, "the RESTORE");
    assert.equal(target.received(), want);
    target.reply("+OK\r\n+OK\r\n");
    assert.equal(await first, "OK");
    // Same database on the cached connection: no SELECT; AUTH first when asked for.
    const second = a.call(
      "MIGRATE",
      HOST,
      String(target.port),
      "k",
      "5",
      "5000",
      "COPY",
      "AUTH",
      "pw",
      "REPLACE",
    );
    const auth = "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n";
    await waitFor(
      () => target.received().length >= want.length + auth.length + restore.length,
      "the second",
    );
    assert.equal(target.received().slice(want.length), auth + restore);
    target.reply("+OK\r\n+OK\r\n");
    assert.equal(await second, "OK");
    assert.equal(target.connections(), 1);
  } finally {
    a.disconnect();
    await src.s.close();
    await target.close();
  }
});

test("a key written while MIGRATE waits for the target is kept; the others are deleted", async () => {
  const src = await redeno();
  const target = await fakeTarget();
  const a = client(src.port);
  const b = client(src.port);
  try {
    await a.mset("k1", "v1", "k2", "v2");
    const pending = a.call(
      "MIGRATE",
      HOST,
      String(target.port),
      "",
      "0",
      "5000",
      "KEYS",
      "k1",
      "k2",
    );
    await waitFor(() => target.received().includes("$2\r\nk2"), "the RESTOREs");
    // Other clients run meanwhile (Redis would block them all).
    await b.set("k2", "changed");
    target.reply("+OK\r\n+OK\r\n+OK\r\n");
    assert.equal(await pending, "OK");
    assert.equal(await b.exists("k1"), 0);
    assert.equal(await b.get("k2"), "changed");
  } finally {
    a.disconnect();
    b.disconnect();
    await src.s.close();
    await target.close();
  }
});

test("MIGRATE to a target that never answers fails after its timeout and drops the connection", async () => {
  const src = await redeno();
  const target = await fakeTarget();
  const a = client(src.port);
  try {
    await a.set("k", "v");
    const e = await a.call("MIGRATE", HOST, String(target.port), "k", "0", "200").catch(errorText);
    assert.equal(e, "IOERR error or timeout reading to target instance");
    assert.equal(await a.get("k"), "v");
    assert.equal(field(infoText(src.s, "stats"), "migrate_cached_sockets"), "0");
    // A closed port: Redis sees the failure when writing (after one retry).
    const closed = await freePort();
    const e2 = await a.call("MIGRATE", HOST, String(closed), "k", "0", "1000").catch(errorText);
    assert.equal(e2, "IOERR error or timeout writing to target instance");
    const e3 = await a.call("MIGRATE", "nohost.invalid", "1", "k", "0", "1000").catch(errorText);
    assert.equal(e3, "IOERR error or timeout connecting to the client");
    assert.equal(await a.get("k"), "v");
  } finally {
    a.disconnect();
    await src.s.close();
    await target.close();
  }
});

test("MIGRATE inside MULTI or a script is refused; NOKEY still answers there", async () => {
  const src = await redeno();
  const c = await RawConn.connect(src.port);
  try {
    c.command("SET", "k", "v");
    assert.equal(await c.read(5), "+OK\r\n");
    c.command("MULTI");
    c.command("MIGRATE", HOST, "1", "k", "0", "100");
    c.command("MIGRATE", HOST, "1", "nokey", "0", "100");
    c.command("EXEC");
    const refused = "-ERR MIGRATE cannot run inside MULTI/EXEC or scripts on this server\r\n";
    const want = `+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n${refused}+NOKEY\r\n`;
    assert.equal(await c.read(want.length), want);
    c.command("EVAL", `return redis.pcall('MIGRATE', '${HOST}', '1', 'k', '0', '100')`, "0");
    assert.equal(await c.read(refused.length), refused);
    c.command("GET", "k");
    assert.equal(await c.read(7), "$1\r\nv\r\n");
  } finally {
    c.close();
    await src.s.close();
  }
});

test("COMMAND INFO, GETKEYS and GETKEYSANDFLAGS of MIGRATE as redis-server's", {
  skip: missing("redis-server"),
}, async () => {
  const cases: string[][] = [["COMMAND", "INFO", "migrate"]];
  for (
    const rest of [
      ["h", "1", "k", "0", "5"],
      ["h", "1", "", "0", "5", "KEYS", "a", "b"],
      ["h", "1", "k", "0", "5", "KEYS", "a", "b"],
      ["h", "1", "", "0", "5", "KEYS"],
      ["h", "1", "", "0", "5", "AUTH", "KEYS", "KEYS", "a"],
      ["h", "1", "", "0", "5", "AUTH2", "u", "p", "COPY", "keys", "x"],
      ["h", "KEYS", "", "0", "5", "a"],
    ]
  ) {
    cases.push(["COMMAND", "GETKEYS", "MIGRATE", ...rest]);
    cases.push(["COMMAND", "GETKEYSANDFLAGS", "MIGRATE", ...rest]);
  }
  await compareWithRedis(cases, false);
  await compareWithRedis(cases, true);
});

test("ACL checks MIGRATE's keys (the key argument or the KEYS list) as redis-server does", {
  skip: missing("redis-server"),
}, async () => {
  const dry = (...rest: string[]) => ["ACL", "DRYRUN", "u", ...rest];
  const cases: string[][] = [[
    "ACL",
    "SETUSER",
    "u",
    "on",
    "nopass",
    "+@all",
    "%R~read*",
    "%W~write*",
    "%RW~rw*",
  ]];
  for (const key of ["rw", "read", "write"]) {
    cases.push(dry("MIGRATE", "h", "1", key, "0", "500"));
    cases.push(dry("MIGRATE", "h", "1", "", "0", "500", "KEYS", "rw", key));
    cases.push(dry("MIGRATE", "h", "1", "", "0", "500", "AUTH", "KEYS", "KEYS", key));
    cases.push(dry("MIGRATE", "h", "1", "", "0", "500", "AUTH2", "KEYS", "123", "KEYS", key));
  }
  // Arguments that do not fit a key spec: no keys for ACL, the command fails on its own.
  cases.push(dry("EVAL", "", "-1", "read"));
  cases.push(dry("MIGRATE", "h", "1", "read", "0", "500", "KEYS", "write"));
  await compareWithRedis(cases, false);
});

test("a cached connection idle for more than 10 s is closed; a dropped one is made again", async () => {
  const clock = new ManualClock();
  const s = createServer({ clock, config: { hz: "100" } });
  const { port } = await s.listen({ port: 0, hostname: HOST });
  const target = await fakeTarget();
  const a = client(port);
  const cached = () => field(infoText(s, "stats"), "migrate_cached_sockets");
  try {
    await a.set("k", "v");
    const m = () => a.call("MIGRATE", HOST, String(target.port), "k", "0", "5000", "COPY");
    let pending = m();
    await waitFor(() => target.received().includes("RESTORE"), "the first RESTORE");
    target.reply("+OK\r\n+OK\r\n");
    assert.equal(await pending, "OK");
    // The target went away: the next MIGRATE connects again (and selects again).
    target.drop();
    await waitFor(() => target.ended(0), "the drop");
    const before = target.received().length;
    pending = m();
    await waitFor(() => target.connections() === 2 && target.received().length > before, "again");
    assert.ok(target.received().slice(before).startsWith("*2\r\n$6\r\nSELECT\r\n"));
    target.reply("+OK\r\n+OK\r\n");
    assert.equal(await pending, "OK");
    assert.equal(cached(), "1");
    clock.advance(10_001);
    await waitFor(() => cached() === "0", "the idle connection to close");
    await waitFor(() => target.ended(1), "the target to see it closed");
  } finally {
    a.disconnect();
    await s.close();
    await target.close();
  }
});

test("the AOF gets a DEL of the keys the target took, not of one it refused", async () => {
  const dir = mkdtempSync(join(tmpdir(), "redeno-migrate-"));
  const s = createServer({ config: { appendonly: "yes", dir, appendfsync: "always" } });
  s.loadData();
  const { port } = await s.listen({ port: 0, hostname: HOST });
  const target = await fakeTarget();
  const a = client(port);
  try {
    await a.mset("k1", "v1", "k2", "v2", "k3", "v3");
    const pending = a.call(
      "MIGRATE",
      HOST,
      String(target.port),
      "",
      "0",
      "5000",
      "KEYS",
      "k1",
      "k2",
      "k3",
    )
      .catch((e: Error) => e.message);
    await waitFor(() => target.received().includes("$2\r\nk3"), "the RESTOREs");
    target.reply("+OK\r\n+OK\r\n-BUSYKEY Target key name already exists.\r\n+OK\r\n");
    assert.equal(
      await pending,
      "ERR Target instance replied with error: BUSYKEY Target key name already exists.",
    );
    assert.deepEqual(await a.keys("*"), ["k2"]);
    const aof = readFileSync(join(dir, "appendonlydir", "appendonly.aof.1.incr.aof"), "latin1");
    assert.equal(
      aof,
      encodeCommand(["SELECT", "0"]) + encodeCommand(["mset", "k1", "v1", "k2", "v2", "k3", "v3"]) +
        encodeCommand(["DEL", "k1", "k3"]),
    );
  } finally {
    a.disconnect();
    await s.close();
    await target.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
