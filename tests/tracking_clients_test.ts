/**
 * Client-side caching with the clients people use: node-redis's `clientSideCache` over RESP3
 * (hits, misses, invalidation by another client's write, by FLUSHALL, by expiry) and ioredis in
 * RESP2 with `CLIENT TRACKING on REDIRECT` to a second connection subscribed to
 * `__redis__:invalidate`.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { BasicClientSideCache, createClient } from "redis";
import { Redis } from "ioredis";
import { startServer } from "./helpers.ts";
import { field, infoText, waitFor } from "./replication_helpers.ts";

/** Calls of `cmd` the server ran (INFO commandstats). */
function calls(s: { server: Parameters<typeof infoText>[0] }, cmd: string): number {
  const line = infoText(s.server, "commandstats").match(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`));
  return line ? Number(line[1]) : 0;
}

test("node-redis clientSideCache: miss, hit, and invalidation by another client's write", async () => {
  const s = await startServer();
  const cache = new BasicClientSideCache({ ttl: 0, maxEntries: 0 });
  const cached = createClient({
    url: `redis://127.0.0.1:${s.port}`,
    RESP: 3,
    clientSideCache: cache,
  });
  const other = createClient({ url: `redis://127.0.0.1:${s.port}` });
  await cached.connect();
  await other.connect();
  try {
    await other.set("k", "1");
    assert.equal(await cached.get("k"), "1");
    assert.equal(await cached.get("k"), "1");
    assert.equal(cache.stats().missCount, 1);
    assert.equal(cache.stats().hitCount, 1);
    assert.equal(calls(s, "get"), 1, "the second GET was served from the cache");
    assert.equal(field(infoText(s.server, "stats"), "tracking_total_keys"), "1");
    assert.equal(field(infoText(s.server, "clients"), "tracking_clients"), "1");

    await other.set("k", "2");
    await waitFor(() => cache.size() === 0, "the invalidation of k");
    assert.equal(await cached.get("k"), "2");
    assert.equal(cache.stats().missCount, 2);
    assert.equal(calls(s, "get"), 2);
  } finally {
    await cached.quit();
    await other.quit();
    await s.close();
  }
});

test("node-redis clientSideCache: FLUSHALL and expiry empty the cache", async () => {
  const s = await startServer();
  const cache = new BasicClientSideCache({ ttl: 0, maxEntries: 0 });
  const cached = createClient({
    url: `redis://127.0.0.1:${s.port}`,
    RESP: 3,
    clientSideCache: cache,
  });
  const other = createClient({ url: `redis://127.0.0.1:${s.port}` });
  await cached.connect();
  await other.connect();
  try {
    await other.mSet({ a: "1", b: "2" });
    assert.equal(await cached.get("a"), "1");
    assert.equal(await cached.get("b"), "2");
    assert.equal(cache.size(), 2);
    await other.flushAll();
    await waitFor(() => cache.size() === 0, "the null invalidation of FLUSHALL");
    assert.equal(await cached.get("a"), null);

    await other.set("e", "v", { PX: 30 });
    assert.equal(await cached.get("e"), "v");
    const hits = cache.stats().hitCount;
    assert.equal(await cached.get("e"), "v");
    assert.equal(cache.stats().hitCount, hits + 1);
    // The active expiry cycle deletes e: its invalidation reaches the cache (a's null stays).
    const size = cache.size();
    await waitFor(() => cache.size() === size - 1, "the invalidation of e by expiry");
    assert.equal(await cached.get("e"), null);
  } finally {
    await cached.quit();
    await other.quit();
    await s.close();
  }
});

test("ioredis RESP2: CLIENT TRACKING REDIRECT to a connection subscribed to __redis__:invalidate", async () => {
  const s = await startServer();
  // ioredis 6 speaks RESP3 unless told otherwise: RESP2 is the case REDIRECT exists for.
  const opts = { host: "127.0.0.1", port: s.port, protocol: 2 as const };
  const sub = new Redis(opts);
  const reader = new Redis(opts);
  const writer = new Redis(opts);
  const got: Array<unknown> = [];
  try {
    const subId = await sub.client("ID");
    await sub.subscribe("__redis__:invalidate");
    sub.on("messageBuffer", (_channel: Buffer, message: unknown) => got.push(message));
    assert.equal(await reader.client("TRACKING", "on", "REDIRECT", String(subId)), "OK");
    assert.equal(await reader.client("GETREDIR"), subId);
    await writer.set("k", "1");
    assert.equal(await reader.get("k"), "1");
    await writer.set("k", "2");
    await waitFor(() => got.length === 1, "the invalidation of k");
    assert.deepEqual(got[0], [Buffer.from("k")]);
    // Once invalidated, k is no longer tracked: another write says nothing until it is read.
    await writer.set("k", "3");
    assert.equal(await reader.get("k"), "3");
    await writer.flushall();
    await waitFor(() => got.length === 2, "the null invalidation of FLUSHALL");
    assert.equal(got[1], null);
    const list = await writer.client("LIST") as string;
    assert.match(list, new RegExp(`flags=t .*redir=${subId} `));
  } finally {
    sub.disconnect();
    reader.disconnect();
    writer.disconnect();
    await s.close();
  }
});
