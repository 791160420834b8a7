/**
 * CLIENT LIST and CLIENT INFO: Redis 7.4's `watch` field (the keys a client watches), and the
 * fields in 7.4.1's order, compared with the reference build when it is present.
 * Also the flags letters of a MONITOR client and of a client whose watched key changed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RawConn, startServer } from "./helpers.ts";
import { pipeline, startRedis } from "./redis_compare.ts";
import { missing } from "./redis_tools.ts";
import { REFERENCE_74, startReference } from "./reference_redis.ts";

const NO_REF = REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false;

/** The `name=value` pairs of a CLIENT INFO reply. */
function pairs(raw: string): Array<[string, string]> {
  const text = raw.slice(raw.indexOf("\r\n") + 2).trim();
  return text.split(" ").map((kv) => {
    const i = kv.indexOf("=");
    return [kv.slice(0, i), kv.slice(i + 1)];
  });
}

/** `watch` after WATCH, a repeated WATCH, a write to a watched key, and UNWATCH; field names. */
async function watchRun(port: number): Promise<{ watch: string[]; names: string[] }> {
  const c = await RawConn.connect(port);
  const other = await RawConn.connect(port);
  try {
    const watch: string[] = [];
    const info = async () => {
      const [raw] = await pipeline(c, [["CLIENT", "INFO"]]);
      return pairs(raw!);
    };
    const seen = async () => watch.push((await info()).find(([k]) => k === "watch")![1]);
    await seen();
    await pipeline(c, [["WATCH", "a", "b"]]);
    await seen();
    await pipeline(c, [["WATCH", "b", "c"]]);
    await seen();
    await pipeline(other, [["SET", "c", "1"]]);
    await seen();
    await pipeline(c, [["WATCH", "x"], ["UNWATCH"]]);
    await seen();
    return { watch, names: (await info()).map(([k]) => k) };
  } finally {
    c.close();
    other.close();
  }
}

const WATCH = ["0", "2", "3", "0", "0"];

test("CLIENT INFO's watch counts the keys a client watches (Redis 7.4)", async () => {
  const ours = await startServer();
  try {
    const { watch, names } = await watchRun(ours.port);
    assert.deepEqual(watch, WATCH);
    assert.equal(names[names.indexOf("multi") + 1], "watch");
  } finally {
    await ours.close();
  }
});

test("CLIENT INFO's fields and watch side by side with the 7.4.1 reference", {
  skip: NO_REF,
}, async () => {
  const ref = await startReference();
  const ours = await startServer();
  try {
    const theirs = await watchRun(ref.port);
    const mine = await watchRun(ours.port);
    assert.deepEqual(theirs.watch, WATCH);
    assert.deepEqual(mine.names, theirs.names);
  } finally {
    ref.stop();
    await ours.close();
  }
});

/** The flags CLIENT LIST shows for a MONITOR client and for a client whose watched key changed. */
async function flagsRun(port: number): Promise<{ monitor: string; dirty: string }> {
  const mon = await RawConn.connect(port);
  const watcher = await RawConn.connect(port);
  const other = await RawConn.connect(port);
  try {
    const [monId, watcherId] = await Promise.all(
      [mon, watcher].map(async (c) => (await pipeline(c, [["CLIENT", "ID"]]))[0]!.slice(1).trim()),
    );
    await pipeline(mon, [["MONITOR"]]);
    await pipeline(watcher, [["WATCH", "k"]]);
    await pipeline(other, [["SET", "k", "1"]]);
    const [list] = await pipeline(other, [["CLIENT", "LIST"]]);
    const flagsOf = (id: string) =>
      / flags=(\S+) /.exec(list!.split("\n").find((l) => l.startsWith(`id=${id} `))!)![1]!;
    return { monitor: flagsOf(monId!), dirty: flagsOf(watcherId!) };
  } finally {
    mon.close();
    watcher.close();
    other.close();
  }
}

test("CLIENT LIST flags: O for a MONITOR client, d once a watched key changed", async () => {
  const ours = await startServer();
  try {
    assert.deepEqual(await flagsRun(ours.port), { monitor: "O", dirty: "d" });
  } finally {
    await ours.close();
  }
});

test(
  "CLIENT LIST flags O and d as redis-server shows them",
  { skip: missing("redis-server") },
  async () => {
    const redis = await startRedis();
    try {
      assert.deepEqual(await flagsRun(redis.port), { monitor: "O", dirty: "d" });
    } finally {
      redis.stop();
    }
  },
);

/** The field names of a CLIENT INFO line. */
async function fieldNames(port: number): Promise<string[]> {
  const c = await RawConn.connect(port);
  try {
    const [raw] = await pipeline(c, [["CLIENT", "INFO"]]);
    return pairs(raw!).map(([k]) => k);
  } finally {
    c.close();
  }
}

test("a server reporting 7.0.15 lists 7.0's fields: no watch, lib-name or lib-ver", async () => {
  const ours = await startServer({ config: { "reported-redis-version": "7.0.15" } });
  try {
    const names = await fieldNames(ours.port);
    for (const added of ["watch", "lib-name", "lib-ver"]) assert.ok(!names.includes(added), added);
    assert.equal(names.at(-1), "resp");
  } finally {
    await ours.close();
  }
});

test("CLIENT INFO's fields as redis-server 7.0.15's when reporting 7.0.15", {
  skip: missing("redis-server"),
}, async () => {
  const redis = await startRedis();
  const ours = await startServer({ config: { "reported-redis-version": "7.0.15" } });
  try {
    assert.deepEqual(await fieldNames(ours.port), await fieldNames(redis.port));
  } finally {
    redis.stop();
    await ours.close();
  }
});
