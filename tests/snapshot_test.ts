/**
 * The background-save snapshot: a point-in-time view of every database that commands keep
 * changing underneath (copy-on-write of aggregates, references for strings).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "../mod.ts";
import { Snapshot } from "../core/keyspace/snapshot.ts";
import type { ListValue } from "../core/types/list.ts";
import type { HashValue } from "../core/types/hash.ts";

test("a snapshot keeps values, aggregates and TTLs as they were while commands change them", () => {
  const server = createServer();
  const d = (...argv: string[]) => server.dispatch(argv);
  d("SET", "s", "old");
  d("RPUSH", "l", "a", "b");
  d("HSET", "h", "f", "1");
  d("SET", "t", "v", "PX", "100000");
  const snap = new Snapshot(server.dbs);
  d("SET", "s", "new");
  d("RPUSH", "l", "c");
  d("HSET", "h", "g", "2");
  d("DEL", "t");
  d("SET", "added", "x");
  const db0 = snap.dbs[0]!;
  const at = (k: string) => db0.values[db0.keys.indexOf(k)]!;
  assert.equal(at("s"), "old");
  assert.deepEqual((at("l") as ListValue).toArray(), ["a", "b"], "the list as it was");
  assert.equal(d("LLEN", "l"), 3, "the live list changed");
  assert.equal((at("h") as HashValue).size, 1);
  assert.equal(at("t"), "v");
  assert.ok(db0.expires.has("t"));
  assert.equal(db0.keys.includes("added"), false);
  assert.equal(snap.size, 4);
  snap.release();
  assert.equal(server.dbs[0]!.beforeWrite, undefined, "released: writes cost nothing");
});

test("an aggregate already written by the saver is not copied again", () => {
  const server = createServer();
  server.dispatch(["RPUSH", "l", "a"]);
  const snap = new Snapshot(server.dbs);
  const db0 = snap.dbs[0]!;
  const i = db0.keys.indexOf("l");
  const before = db0.values[i];
  snap.written(0, i);
  server.dispatch(["RPUSH", "l", "b"]);
  assert.equal(db0.values[i], before, "the saver's entry is left alone once written");
  snap.release();
});
