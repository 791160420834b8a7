import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "redis";
import { createServer, SimpleString } from "../mod.ts";
import type { Server } from "../mod.ts";
import { errorText, startServer } from "./helpers.ts";

/** Adds keys straight into a database, as no write: only the command under test counts. */
function fill(server: Server, db: number, n: number): void {
  server.untracked(() => {
    for (let i = 0; i < n; i++) server.dbs[db]!.add(`k${i}`, "v");
  });
}

test("FLUSHDB empties the selected database, counts dirty per key and always propagates", () => {
  const server = createServer();
  const prop: Array<[number, string[]]> = [];
  server.on("propagate", (db, argv) => prop.push([db, argv]));
  fill(server, 0, 3);
  fill(server, 1, 2);
  const dirty = server.dirty;
  assert.deepEqual(server.dispatch(["FLUSHDB"]), new SimpleString("OK"));
  assert.equal(server.dirty - dirty, 3);
  assert.equal(server.dbs[0]!.size, 0);
  assert.equal(server.dbs[1]!.size, 2);
  server.dispatch(["FLUSHDB", "async"]);
  assert.deepEqual(prop, [[0, ["FLUSHDB"]], [0, ["FLUSHDB", "async"]]], "even when empty");
  assert.equal(errorText(server.dispatch(["FLUSHDB", "foo"])), "ERR syntax error");
  assert.equal(errorText(server.dispatch(["FLUSHDB", "ASYNC", "SYNC"])), "ERR syntax error");
});

test("FLUSHALL empties every database and counts dirty per key removed", () => {
  const server = createServer();
  const prop: string[][] = [];
  server.on("propagate", (_db, argv) => prop.push(argv));
  fill(server, 0, 3);
  fill(server, 5, 4);
  const dirty = server.dirty;
  server.dispatch(["FLUSHALL", "SYNC"]);
  assert.equal(server.dirty - dirty, 7);
  assert.ok(server.dbs.every((db) => db.size === 0));
  server.dispatch(["FLUSHALL"]);
  assert.deepEqual(prop, [["FLUSHALL", "SYNC"], ["FLUSHALL"]]);
  assert.equal(errorText(server.dispatch(["FLUSHALL", "foo"])), "ERR syntax error");
});

test("SWAPDB exchanges contents and TTLs while clients stay on their index", async () => {
  const { server, port, close } = await startServer();
  const a = createClient({ socket: { port, host: "127.0.0.1" } });
  const b = createClient({ socket: { port, host: "127.0.0.1" }, database: 1 });
  await a.connect();
  await b.connect();
  try {
    await a.set("only0", "x", { EX: 100 });
    await b.set("only1", "y");
    assert.equal(await a.swapDb(0, 1), "OK");
    assert.equal(await a.get("only1"), "y");
    assert.equal(await b.get("only0"), "x");
    assert.ok((await b.ttl("only0")) > 90);
    assert.equal(await a.dbSize(), 1);
    assert.equal(await a.swapDb(2, 2), "OK");
    assert.equal(server.dbs[0]!.size, 1);
    await assert.rejects(a.sendCommand(["SWAPDB", "x", "1"]), /ERR invalid first DB index/);
    await assert.rejects(a.sendCommand(["SWAPDB", "0", "x"]), /ERR invalid second DB index/);
    await assert.rejects(
      a.sendCommand(["SWAPDB", "0", "99999999999"]),
      /ERR invalid second DB index/,
    );
    await assert.rejects(a.sendCommand(["SWAPDB", "0", "16"]), /ERR DB index is out of range/);
    await assert.rejects(a.sendCommand(["SWAPDB", "-1", "0"]), /ERR DB index is out of range/);
  } finally {
    await a.quit();
    await b.quit();
    await close();
  }
});

test("DBSIZE counts the keys of the selected database only", () => {
  const server = createServer();
  fill(server, 0, 4);
  fill(server, 2, 1);
  assert.equal(server.dispatch(["DBSIZE"]), 4);
  server.dispatch(["SELECT", "2"]);
  assert.equal(server.dispatch(["DBSIZE"]), 1);
});
