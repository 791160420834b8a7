/**
 * The memory figures as Redis 7.0 reports them: INFO memory, MEMORY STATS and MEMORY DOCTOR.
 * `used_memory` and its parts are redeno's accounting (core/memory/usage.ts); the `allocator_*`
 * figures are the JavaScript engine's (heap and external buffers, used and reserved), and
 * `used_memory_rss` the process's resident set.
 *
 * @module
 */

import { compat } from "../core/compat.ts";
import { getHeapSpaceStatistics, getHeapStatistics } from "node:v8";
import { memory, systemMemory } from "../core/proc.ts";
import type { Server } from "../core/server.ts";
import type { MemoryFigures } from "../core/memory/usage.ts";
import { scriptingMemoryFields } from "../scripting/info.ts";
import { DoubleReply, MapReply, type Reply } from "../core/resp/reply.ts";

type Fields = Array<[string, string | number]>;

/** `1.23M` style sizes, as Redis's bytesToHuman. */
export function humanBytes(n: number): string {
  if (n < 1024) return `${n}B`;
  const units = ["K", "M", "G", "T", "P"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(2)}${units[i]}`;
}

/** Everything INFO memory and MEMORY STATS derive from the figures. */
function derived(s: Server, f: MemoryFigures) {
  const proc = memory();
  const overhead = f.used - f.dataset + f.dbs.reduce((n, d) => n + d[2] + d[3], 0);
  const dataset = Math.max(0, f.used - overhead);
  const net = Math.max(1, f.used - f.startup);
  const peak = Math.max(s.memory.peak, f.used);
  return {
    proc,
    overhead,
    dataset,
    datasetPerc: (dataset * 100) / net,
    peak,
    peakPerc: (f.used * 100) / Math.max(1, peak),
    bytesPerKey: f.keys === 0 ? 0 : Math.floor(net / f.keys),
  };
}

/** Ratio with two decimals, 0 when the divisor is 0. */
function ratio(a: number, b: number): string {
  return b === 0 ? "0.00" : (a / b).toFixed(2);
}

/** INFO memory, with Redis 7.0's fields in Redis's order. */
export function memorySection(s: Server): Fields {
  const f = s.memory.figures();
  const d = derived(s, f);
  const p = d.proc;
  const system = systemMemory();
  const maxmemory = s.config.num("maxmemory");
  const replication = f.replicationBacklog + f.replicaBuffers;
  return [
    ["used_memory", f.used],
    ["used_memory_human", humanBytes(f.used)],
    ["used_memory_rss", p.rss],
    ["used_memory_rss_human", humanBytes(p.rss)],
    ["used_memory_peak", d.peak],
    ["used_memory_peak_human", humanBytes(d.peak)],
    ["used_memory_peak_perc", `${d.peakPerc.toFixed(2)}%`],
    ["used_memory_overhead", d.overhead],
    ["used_memory_startup", f.startup],
    ["used_memory_dataset", d.dataset],
    ["used_memory_dataset_perc", `${d.datasetPerc.toFixed(2)}%`],
    ["allocator_allocated", p.used],
    ["allocator_active", p.active],
    ["allocator_resident", p.rss],
    ["total_system_memory", system],
    ["total_system_memory_human", humanBytes(system)],
    ...scriptingMemoryFields(s),
    ["maxmemory", maxmemory],
    ["maxmemory_human", humanBytes(maxmemory)],
    ["maxmemory_policy", s.config.str("maxmemory-policy")],
    ["allocator_frag_ratio", ratio(p.active, p.used)],
    ["allocator_frag_bytes", p.active - p.used],
    ["allocator_rss_ratio", ratio(p.rss, p.active)],
    ["allocator_rss_bytes", p.rss - p.active],
    ["rss_overhead_ratio", "1.00"],
    ["rss_overhead_bytes", 0],
    ["mem_fragmentation_ratio", ratio(p.rss, f.used)],
    ["mem_fragmentation_bytes", p.rss - f.used],
    ["mem_not_counted_for_evict", f.notCountedForEvict],
    ["mem_replication_backlog", f.replicationBacklog],
    ["mem_total_replication_buffers", replication],
    ["mem_clients_slaves", f.replicaBuffers],
    ["mem_clients_normal", f.clientsNormal],
    ["mem_cluster_links", f.clusterLinks],
    ["mem_aof_buffer", f.aofBuffer],
    // One of the values Redis reports (libc, jemalloc-*): the runtime's buffers come from libc
    // malloc, and clients (Redis's own suite) take jemalloc-only paths on "jemalloc" alone.
    ["mem_allocator", "libc"],
    // Redis 7.4: the old table of a database dict being rehashed. redeno's key tables grow at
    // once (core/keyspace/dense_map.ts), never halfway between two tables, so there is none.
    ["mem_overhead_db_hashtable_rehashing", 0],
    ["active_defrag_running", 0],
    ["lazyfree_pending_objects", 0],
    ["lazyfreed_objects", s.stats.lazyfreedObjects],
  ];
}

/** MEMORY STATS: Redis 7.4's map (7.0's when reporting 7.0.x), one entry per database with keys. */
export function memoryStats(s: Server): Reply {
  const f = s.memory.figures();
  const d = derived(s, f);
  const p = d.proc;
  const out: unknown[] = [
    "peak.allocated",
    d.peak,
    "total.allocated",
    f.used,
    "startup.allocated",
    f.startup,
    "replication.backlog",
    f.replicationBacklog,
    "clients.slaves",
    f.replicaBuffers,
    "clients.normal",
    f.clientsNormal,
    "cluster.links",
    f.clusterLinks,
    "aof.buffer",
    f.aofBuffer,
    "lua.caches",
    f.luaCaches,
    "functions.caches",
    f.functionsCaches,
  ];
  const v74 = compat(s.config).v74;
  for (const [id, , main, expires] of f.dbs) {
    out.push(
      `db.${id}`,
      new MapReply([
        "overhead.hashtable.main",
        main,
        "overhead.hashtable.expires",
        expires,
        // Redis 7.4 dropped the slot-to-keys figure (its cluster keyspace is split per slot).
        ...(v74 ? [] : ["overhead.hashtable.slot-to-keys", 0]),
      ]),
    );
  }
  if (v74) {
    // Redis 7.4 counts its dicts' bucket arrays apart; here each key's entry cost above holds
    // its share of the table, and a JS Map rehashes at once, never incrementally: all zero.
    out.push("overhead.db.hashtable.lut", 0, "overhead.db.hashtable.rehashing", 0);
  }
  out.push("overhead.total", d.overhead);
  if (v74) out.push("db.dict.rehashing.count", 0);
  out.push(
    "keys.count",
    f.keys,
    "keys.bytes-per-key",
    d.bytesPerKey,
    "dataset.bytes",
    d.dataset,
    "dataset.percentage",
    new DoubleReply(d.datasetPerc),
    "peak.percentage",
    new DoubleReply(d.peakPerc),
    "allocator.allocated",
    p.used,
    "allocator.active",
    p.active,
    "allocator.resident",
    p.rss,
    // jemalloc's muzzy pages (Redis 7.4): no such pages here.
    ...(v74 ? ["allocator.muzzy", 0] : []),
    "allocator-fragmentation.ratio",
    new DoubleReply(p.used === 0 ? 0 : p.active / p.used),
    "allocator-fragmentation.bytes",
    p.active - p.used,
    "allocator-rss.ratio",
    new DoubleReply(p.active === 0 ? 0 : p.rss / p.active),
    "allocator-rss.bytes",
    p.rss - p.active,
    "rss-overhead.ratio",
    new DoubleReply(1),
    "rss-overhead.bytes",
    0,
    "fragmentation",
    new DoubleReply(f.used === 0 ? 0 : p.rss / f.used),
    "fragmentation.bytes",
    p.rss - f.used,
  );
  return new MapReply(out as Reply[]);
}

/**
 * MEMORY DOCTOR: Redis's report, with the checks that mean something here (an empty instance,
 * a peak far above current use, big client or replica buffers, a high RSS-to-used ratio).
 */
export function doctorReport(s: Server): string {
  const f = s.memory.figures();
  const d = derived(s, f);
  if (f.used < 5 * 1024 * 1024) {
    return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.";
  }
  const issues: string[] = [];
  if (d.peak / f.used > 1.5) {
    issues.push(
      " * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n",
    );
  }
  const rssRatio = d.proc.rss / f.used;
  if (rssRatio > 1.4) {
    issues.push(
      ` * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to the JavaScript runtime's own memory (code, garbage not yet collected) beside the data: the ratio is ${
        rssRatio.toFixed(2)
      }.\n\n`,
    );
  }
  const clients = s.clients.size;
  if (clients > 0 && f.clientsNormal / clients > 200 * 1024) {
    issues.push(
      " * Big client buffers: The clients output buffers are in general too big. If you see that your clients output buffers are using a big percentage of the memory, consider tuning client-output-buffer-limit in order to avoid a memory usage explosion (redis.conf).\n\n",
    );
  }
  if (f.replicaBuffers > 10 * 1024 * 1024) {
    issues.push(
      " * Big replica buffers: The replica output buffers are in general too big. If your replicas output buffers are using a big percentage of the memory, consider tuning client-output-buffer-limit.\n\n",
    );
  }
  if (issues.length === 0) {
    return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.";
  }
  return "Sam, I detected a few issues in this Redis instance memory implants:\n\n" +
    issues.join("") +
    "I'm here to keep you safe, Sam. I want to help you.\n";
}

/** MEMORY MALLOC-STATS: the JavaScript engine's heap spaces (Redis prints jemalloc's report). */
export function mallocStats(): string {
  const lines = ["___ Begin V8 heap statistics ___"];
  try {
    const h = getHeapStatistics();
    for (const [k, v] of Object.entries(h)) lines.push(`${k}: ${v}`);
    for (const sp of getHeapSpaceStatistics()) {
      lines.push(
        `${sp.space_name}: size=${sp.space_size} used=${sp.space_used_size} ` +
          `available=${sp.space_available_size} physical=${sp.physical_space_size}`,
      );
    }
  } catch {
    lines.push("unavailable");
  }
  lines.push("--- End V8 heap statistics ---");
  return lines.join("\n") + "\n";
}
