/**
 * Hash field TTLs across replication with the Redis 7.4.1 reference build, both ways: the full
 * sync carries them (RDB types 24/25), and the stream carries HPEXPIREAT and the HDELs of
 * expired fields. Skipped when the reference build is absent.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { client, HOST, redeno, waitFor } from "./replication_helpers.ts";
import { REFERENCE_74, startReference } from "./reference_redis.ts";

const skip = REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false;
const FAR = "4000000000000";

async function linkUp(port: number): Promise<void> {
  const c = client(port);
  try {
    await waitFor(async () => /master_link_status:up/.test(await c.info("replication")), "sync");
  } finally {
    c.disconnect();
  }
}

/** Writes on `master`, then waits until `replica` shows the same field times and fields. */
async function exercise(master: number, replica: number): Promise<void> {
  const m = client(master);
  const r = client(replica);
  try {
    // Before the sync: carried by the RDB.
    await m.call("HPEXPIREAT", "pre", FAR, "FIELDS", "1", "x");
    await linkUp(replica);
    await m.hset("h", "a", "1", "b", "2", "c", "3");
    await m.call("HPEXPIREAT", "h", FAR, "FIELDS", "2", "a", "b");
    await m.call("HPEXPIRE", "h", "0", "FIELDS", "1", "c");
    await m.call("HPEXPIRE", "h", "1", "FIELDS", "1", "b");
    // Read until the master expires b lazily (bounded by waitFor): its HDEL reaches the replica.
    await waitFor(async () => (await m.hget("h", "b")) === null, "b expired on the master");
    await m.set("marker", "1");
    await waitFor(async () => (await r.get("marker")) === "1", "replication");
    assert.deepEqual(await r.call("HPEXPIRETIME", "h", "FIELDS", "3", "a", "b", "c"), [
      4000000000000,
      -2,
      -2,
    ]);
    assert.deepEqual(await r.call("HPEXPIRETIME", "pre", "FIELDS", "1", "x"), [4000000000000]);
    assert.deepEqual(await r.hgetall("h"), { a: "1" });
  } finally {
    m.disconnect();
    r.disconnect();
  }
}

test("a 7.4.1 replica of redeno gets field TTLs and expired fields' HDELs", { skip }, async () => {
  const { s, port } = await redeno();
  s.dispatch(["HSET", "pre", "x", "1"]);
  const ref = await startReference(["--replicaof", HOST, String(port)]);
  try {
    await exercise(port, ref.port);
  } finally {
    ref.stop();
    await s.close();
  }
});

test(
  "redeno as a replica of 7.4.1 gets field TTLs and expired fields' HDELs",
  { skip },
  async () => {
    const ref = await startReference();
    const { s, port } = await redeno();
    try {
      const m = client(ref.port);
      await m.hset("pre", "x", "1");
      m.disconnect();
      s.dispatch(["REPLICAOF", HOST, String(ref.port)]);
      await exercise(ref.port, port);
    } finally {
      await s.close();
      ref.stop();
    }
  },
);
