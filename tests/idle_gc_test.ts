/**
 * The command line's idle collection: after the heap grew, a quiet second brings one full
 * collection, and a busy one does not.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import * as net from "node:net";
import { getHeapSpaceStatistics, getHeapStatistics } from "node:v8";
import { createServer } from "../mod.ts";
import { startIdleGc } from "../core/memory/idle_gc.ts";
import { releaseMemory } from "../core/memory/release.ts";
import { existsSync } from "node:fs";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("a quiet second after the heap grew brings one full collection", async () => {
  const s = createServer();
  const gc = startIdleGc(s);
  s.cron();
  // 80 MB of values: the heap grew well past the threshold (a quarter, at least 8 MB).
  for (let i = 0; i < 80_000; i++) {
    s.dispatch(["SET", `k${i}`, Buffer.alloc(1000, i).toString("latin1")]);
  }
  // Busy: more than a handful of commands in the window, so no collection.
  for (let i = 0; i < 100; i++) s.dispatch(["PING"]);
  await sleep(1100);
  s.cron();
  assert.equal(gc.collections, 0);
  await sleep(1100);
  s.cron();
  assert.equal(gc.collections, 1);
  assert.ok(getHeapStatistics().used_heap_size > 80_000_000, "live data stays");
  // Quiet again, but the heap has not grown since: no second collection.
  await sleep(1100);
  s.cron();
  assert.equal(gc.collections, 1);
  await s.close();
});

// Bounded: 4,500 connections on a heavily loaded machine once stalled a run for 20 minutes.
test(
  "a quiet second after much was released brings a collection: a flushed dataset, closed connections",
  {
    timeout: 180_000,
  },
  async () => {
    const s = createServer();
    const gc = startIdleGc(s);
    for (let i = 0; i < 60_000; i++) {
      s.dispatch(["SET", `k${i}`, Buffer.alloc(1000, i).toString("latin1")]);
    }
    // Whether this growth is collected depends on what the earlier test left (V8 may have collected
    // while filling): settle first.
    await sleep(1100);
    s.cron();
    await sleep(1100);
    s.cron();
    const settled = gc.collections;
    const live = getHeapStatistics().used_heap_size;
    // FLUSHALL lets 60 MB go; nothing allocates afterwards to start a collection.
    s.dispatch(["FLUSHALL"]);
    s.cron(); // the dataset's high point is read at ticks
    await sleep(1100);
    s.cron();
    await sleep(1100);
    s.cron();
    assert.equal(gc.collections, settled + 1, "the release was collected");
    assert.ok(getHeapStatistics().used_heap_size < live - 40_000_000, "the values' memory is free");

    // 4,500 connections at about 8 KB each, closed: released as well.
    const { port } = await s.listen({ port: 0, hostname: "127.0.0.1" });
    const own = s.clients.size; // dispatch's own session
    const sockets: net.Socket[] = [];
    try {
      for (let b = 0; b < 4500; b += 500) {
        await Promise.all(Array.from({ length: 500 }, () =>
          new Promise<void>((resolve, reject) => {
            const c = net.connect(port, "127.0.0.1", () => c.write("PING\r\n"));
            c.once("data", () => resolve());
            c.once("error", reject);
            sockets.push(c);
          })));
      }
    } catch (e) {
      for (const c of sockets) c.destroy();
      await s.close();
      if ((e as NodeJS.ErrnoException).code === "EMFILE") return; // too few descriptors here
      throw e;
    }
    await sleep(1100);
    s.cron();
    await sleep(1100);
    s.cron();
    const before = gc.collections;
    for (const c of sockets) c.destroy();
    for (let i = 0; i < 100 && s.clients.size > own; i++) await sleep(50);
    assert.equal(s.clients.size, own);
    await sleep(1100);
    s.cron();
    await sleep(1100);
    s.cron();
    assert.equal(gc.collections, before + 1, "the closed connections were collected");
    await s.close();
  },
);

test("releaseMemory (MEMORY PURGE) collects, and on Deno on glibc trims the C allocator", () => {
  const deno = (globalThis as { Deno?: { build: { os: string } } }).Deno;
  const glibc = existsSync("/etc/ld.so.cache") && !existsSync("/etc/alpine-release");
  const { collected, trimmed } = releaseMemory();
  assert.equal(collected, true);
  assert.equal(trimmed, deno !== undefined && deno.build.os === "linux" && glibc);
  const s = createServer();
  assert.equal((s.dispatch(["MEMORY", "PURGE"]) as { value: string }).value, "OK");
  void s.close();
});

test("a longer quiet spell gives the young generation back once V8 sees the allocation stop", async () => {
  const youngBytes = () =>
    getHeapSpaceStatistics().find((s) => s.space_name === "new_space")!.physical_space_size;
  const s = createServer();
  const gc = startIdleGc(s);
  // Small values that stay: their survival makes V8 grow the young generation to its cap.
  for (let i = 0; i < 300_000; i++) s.dispatch(["SET", `young:${i}`, `v${i}`]);
  const grown = youngBytes();
  assert.ok(grown > 4 * 1024 * 1024, `the load grew the young generation (${grown} bytes)`);
  const before = gc.collections;
  for (let i = 0; i < 9 && youngBytes() > 2 * 1024 * 1024; i++) {
    await sleep(1000);
    s.cron();
  }
  assert.ok(
    youngBytes() <= 2 * 1024 * 1024,
    `young generation ${youngBytes()} bytes after the quiet`,
  );
  assert.ok(gc.collections > before);
  assert.equal(s.dispatch(["GET", "young:299999"]), "v299999");
  await s.close();
});
