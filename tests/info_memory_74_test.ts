/**
 * INFO keyspace and MEMORY STATS as Redis 7.4 shapes them: `subexpiry` (hashes with field TTLs)
 * on each database line; MEMORY STATS without 7.0's `overhead.hashtable.slot-to-keys`, with the
 * lookup-table, rehashing and `allocator.muzzy` figures. The field names and their order beside
 * the 7.4.1 reference build and, reporting 7.0.15, beside Debian's redis-server (the figures
 * themselves are each server's own).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RawConn, startServer } from "./helpers.ts";
import { as7015, pipeline, startRedis } from "./redis_compare.ts";
import { REFERENCE_74, startReference } from "./reference_redis.ts";
import { missing } from "./redis_tools.ts";

const NO_REF = REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false;

/** INFO keyspace's lines and MEMORY STATS's names (with db.N's) after a few writes. */
async function shape(port: number, hashTtls: boolean): Promise<[string, string[]]> {
  const c = await RawConn.connect(port);
  try {
    await pipeline(c, [
      ["SET", "a", "1"],
      ["SET", "b", "2", "EX", "100"],
      ["HSET", "h", "f", "v", "g", "w"],
      ["HSET", "h2", "f", "v"],
      ["SELECT", "3"],
      ["SET", "c", "3"],
      ["SELECT", "0"],
    ]);
    if (hashTtls) {
      await pipeline(c, [
        ["HEXPIRE", "h", "100", "FIELDS", "2", "f", "g"],
        ["HEXPIRE", "h2", "100", "FIELDS", "1", "f"],
        ["HPERSIST", "h2", "FIELDS", "1", "f"],
      ]);
    }
    const [info, stats] = await pipeline(c, [["INFO", "keyspace"], ["MEMORY", "STATS"]]);
    // A bulk string of a name, then its value: names are the bulk strings not after a name.
    const names = [...stats!.matchAll(/\$\d+\r\n([a-z][a-z0-9.\-]*)\r\n/g)].map((m) => m[1]!);
    return [info!.slice(info!.indexOf("# Keyspace")), names];
  } finally {
    c.close();
  }
}

// h2's TTL went by HPERSIST: Redis still counts it (until its active expiry passes by).
const KEYSPACE_74 = "# Keyspace\r\ndb0:keys=4,expires=1,avg_ttl=T,subexpiry=2\r\n" +
  "db3:keys=1,expires=0,avg_ttl=T,subexpiry=0\r\n\r\n";

/** avg_ttl is an estimate each server's cron refines: not compared. */
const avgTtl = (s: string) => s.replace(/avg_ttl=\d+,/g, "avg_ttl=T,");

test("INFO keyspace counts hashes with field TTLs (subexpiry), as Redis 7.4", async () => {
  const ours = await startServer();
  try {
    const [info] = await shape(ours.port, true);
    assert.equal(avgTtl(info), KEYSPACE_74);
  } finally {
    await ours.close();
  }
});

test("INFO keyspace and MEMORY STATS's names beside the 7.4.1 reference", {
  skip: NO_REF,
}, async () => {
  const ref = await startReference();
  const ours = await startServer();
  try {
    const [refInfo, refNames] = await shape(ref.port, true);
    const [info, names] = await shape(ours.port, true);
    assert.equal(avgTtl(refInfo), KEYSPACE_74);
    assert.equal(avgTtl(info), avgTtl(refInfo));
    assert.deepEqual(names, refNames);
    assert.ok(
      names.includes("allocator.muzzy") && !names.includes("overhead.hashtable.slot-to-keys"),
    );
  } finally {
    ref.stop();
    await ours.close();
  }
});

test("reporting 7.0.15: INFO keyspace and MEMORY STATS's names as Debian's redis-server", {
  skip: missing("redis-server"),
}, async () => {
  const redis = await startRedis();
  const ours = await startServer(as7015());
  try {
    const [refInfo, refNames] = await shape(redis.port, false);
    const [info, names] = await shape(ours.port, false);
    assert.equal(avgTtl(info), avgTtl(refInfo));
    assert.doesNotMatch(info, /subexpiry/);
    assert.deepEqual(names, refNames);
  } finally {
    redis.stop();
    await ours.close();
  }
});
