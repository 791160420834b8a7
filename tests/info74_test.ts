/**
 * INFO's Redis 7.2/7.4 fields: which ones redeno gives (in 7.4.1's order, in the sections both
 * have) and which it leaves out and why; the values of the counted ones driven by the same
 * scenario on redeno (asserted directly) and on the 7.4.1 reference (compared, when present).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { RawConn, startServer } from "./helpers.ts";
import { pipeline } from "./redis_compare.ts";
import { REFERENCE_74, startReference, transcriptTests } from "./reference_redis.ts";
import { field, fieldNames, waitFor } from "./replication_helpers.ts";

const NO_REF = REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false;

/** Fields of Redis 7.4.1's sections that redeno leaves out, and why. */
const LEFT_OUT: Record<string, string> = {
  allocator_muzzy: "jemalloc's muzzy pages: redeno has no jemalloc",
  total_net_repl_input_bytes: "not counted apart from total_net_input_bytes yet",
  total_net_repl_output_bytes: "not counted apart from total_net_output_bytes yet",
  instantaneous_input_kbps: "no byte-rate sampling yet",
  instantaneous_output_kbps: "no byte-rate sampling yet",
  instantaneous_input_repl_kbps: "no byte-rate sampling yet",
  instantaneous_output_repl_kbps: "no byte-rate sampling yet",
  expired_stale_perc: "the active expiry cycle keeps no running estimate yet",
  expire_cycle_cpu_milliseconds: "the active expiry cycle's time is not summed yet",
  slave_expires_tracked_keys: "writable replicas' own TTL keys are not tracked apart",
  active_defrag_hits: "no active defragmentation (the runtime's allocator)",
  active_defrag_misses: "no active defragmentation",
  active_defrag_key_hits: "no active defragmentation",
  active_defrag_key_misses: "no active defragmentation",
  total_active_defrag_time: "no active defragmentation",
  current_active_defrag_time: "no active defragmentation",
  dump_payload_sanitizations: "RESTORE payloads are always checked whole, not counted",
  io_threaded_reads_processed: "no I/O threads",
  io_threaded_writes_processed: "no I/O threads",
  reply_buffer_shrinks: "replies are not kept in Redis's resizable per-client buffer",
  reply_buffer_expands: "replies are not kept in Redis's resizable per-client buffer",
  eventloop_cycles: "the event loop is the runtime's: its cycles are not observable",
  eventloop_duration_sum: "the event loop is the runtime's",
  eventloop_duration_cmd_sum: "the event loop is the runtime's",
  instantaneous_eventloop_cycles_per_sec: "the event loop is the runtime's",
  instantaneous_eventloop_duration_usec: "the event loop is the runtime's",
};

/** The Redis 7.2/7.4 fields redeno gives, by section. */
const ADDED: Record<string, string[]> = {
  server: ["listener0"],
  clients: [
    "pubsub_clients",
    "watching_clients",
    "total_watched_keys",
    "total_blocking_keys",
    "total_blocking_keys_on_nokey",
  ],
  memory: ["mem_overhead_db_hashtable_rehashing"],
  stats: [
    "expired_subkeys",
    "expired_time_cap_reached_count",
    "evicted_scripts",
    "client_query_buffer_limit_disconnections",
    "client_output_buffer_limit_disconnections",
    "acl_access_denied_auth",
    "acl_access_denied_cmd",
    "acl_access_denied_key",
    "acl_access_denied_channel",
  ],
};

async function info(port: number, section: string): Promise<string> {
  const c = await RawConn.connect(port);
  try {
    const [raw] = await pipeline(c, [["INFO", section]]);
    return raw!;
  } finally {
    c.close();
  }
}

test("INFO gives Redis 7.4's new fields in the sections redeno has", async () => {
  const ours = await startServer();
  try {
    for (const [section, names] of Object.entries(ADDED)) {
      const have = fieldNames(await info(ours.port, section));
      for (const name of names) assert.ok(have.includes(name), `${name} in INFO ${section}`);
    }
  } finally {
    await ours.close();
  }
});

test("INFO's fields in 7.4.1's order: each of its fields given or listed as left out", {
  skip: NO_REF,
}, async () => {
  const ref = await startReference();
  const ours = await startServer();
  try {
    for (const section of ["server", "clients", "memory", "stats"]) {
      const want = fieldNames(await info(ref.port, section));
      const got = fieldNames(await info(ours.port, section)).filter((n) =>
        !n.startsWith("redeno_")
      );
      assert.deepEqual(got, want.filter((n) => !(n in LEFT_OUT)), `fields of INFO ${section}`);
    }
  } finally {
    ref.stop();
    await ours.close();
  }
});

/** The values a scenario gives, by field. */
type Figures = Record<string, string | undefined>;

const CLIENT_FIELDS = ADDED.clients!;

/**
 * Subscribers, watchers and blocked readers on `port`, the clients section read at each step;
 * then the ACL and limit counters the scenario drives.
 */
async function scenario(port: number): Promise<Figures[]> {
  const open: Redis[] = [];
  const conn = () => {
    const c = new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: 0 });
    open.push(c);
    return c;
  };
  const admin = conn();
  const read = async (section: string, names: string[]): Promise<Figures> => {
    const text = (await admin.info(section)) as string;
    return Object.fromEntries(names.map((n) => [n, field(text, n)]));
  };
  try {
    const steps: Figures[] = [await read("clients", CLIENT_FIELDS)];
    await conn().subscribe("ch");
    await conn().psubscribe("p*");
    const shard = conn();
    await shard.call("SSUBSCRIBE", "sh");
    const w1 = conn();
    await w1.watch("k1", "k2");
    await conn().watch("k1");
    await admin.xgroup("CREATE", "s", "g", "$", "MKSTREAM");
    conn().blpop("l1", "l2", "k1", 0).catch(() => {});
    conn().call("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">").catch(() => {});
    conn().call("XREAD", "BLOCK", "0", "STREAMS", "s", "$").catch(() => {});
    await waitFor(
      async () => field((await admin.info("clients")) as string, "blocked_clients") === "3",
      "three blocked clients",
    );
    steps.push(await read("clients", CLIENT_FIELDS));
    // A write to a watched key drops the watches of the clients watching it.
    await admin.set("k1", "v");
    await w1.unwatch();
    await shard.call("SUNSUBSCRIBE");
    steps.push(await read("clients", CLIENT_FIELDS));

    // ACL refusals: a command, a key, a channel, a password; CONFIG RESETSTAT keeps them.
    await admin.call("ACL", "SETUSER", "u", "on", ">pw", "~a*", "&c*", "+get", "+publish");
    const u = conn();
    await u.call("AUTH", "u", "pw");
    for (const cmd of [["SET", "a", "1"], ["GET", "b"], ["PUBLISH", "d", "m"], ["GET", "a"]]) {
      await u.call(cmd[0]!, ...cmd.slice(1)).catch(() => {});
    }
    await admin.call("AUTH", "u", "wrong").catch(() => {});
    await admin.call("CONFIG", "RESETSTAT");
    // The limits: a client whose reply passes its hard output limit, one whose query does.
    await admin.set("big", "x".repeat(100_000));
    await admin.call("CONFIG", "SET", "client-output-buffer-limit", "normal 20000 0 0");
    const greedy = await RawConn.connect(port);
    greedy.command("GET", "big");
    assert.ok(await greedy.waitClosed(), "the output buffer limit closes the client");
    await admin.call("CONFIG", "SET", "client-query-buffer-limit", "1mb");
    const long = await RawConn.connect(port);
    long.send(`*2\r\n$3\r\nSET\r\n$3000000\r\n${"y".repeat(1_100_000)}`);
    assert.ok(await long.waitClosed(), "the query buffer limit closes the client");
    // Fields expired at once count as expired subkeys.
    await admin.hset("h", "a", "1", "b", "2", "c", "3");
    await admin.call("HPEXPIREAT", "h", "1", "FIELDS", "2", "a", "b");
    steps.push(await read("stats", ADDED.stats!.filter((n) => n !== "evicted_scripts")));
    return steps;
  } finally {
    for (const c of open) c.disconnect();
  }
}

const EXPECTED: Figures[] = [
  {
    pubsub_clients: "0",
    watching_clients: "0",
    total_watched_keys: "0",
    total_blocking_keys: "0",
    total_blocking_keys_on_nokey: "0",
  },
  {
    pubsub_clients: "3",
    watching_clients: "2",
    total_watched_keys: "2",
    total_blocking_keys: "4",
    total_blocking_keys_on_nokey: "1",
  },
  {
    pubsub_clients: "2",
    watching_clients: "0",
    total_watched_keys: "0",
    total_blocking_keys: "4",
    total_blocking_keys_on_nokey: "1",
  },
  {
    expired_subkeys: "2",
    expired_time_cap_reached_count: "0",
    client_query_buffer_limit_disconnections: "1",
    client_output_buffer_limit_disconnections: "1",
    acl_access_denied_auth: "1",
    acl_access_denied_cmd: "1",
    acl_access_denied_key: "1",
    acl_access_denied_channel: "1",
  },
];

transcriptTests(
  "INFO's 7.4 client and stats figures follow pub/sub, WATCH, blocking, ACL and limits",
  scenario,
  EXPECTED,
);

test("INFO server's listener line names the bound address and port", async () => {
  const ours = await startServer();
  try {
    const text = await info(ours.port, "server");
    assert.equal(field(text, "listener0"), `name=tcp,bind=127.0.0.1,port=${ours.port}`);
    if (REFERENCE_74 !== undefined) {
      const ref = await startReference();
      try {
        const theirs = field(await info(ref.port, "server"), "listener0");
        assert.equal(theirs, `name=tcp,bind=127.0.0.1,port=${ref.port}`);
      } finally {
        ref.stop();
      }
    }
  } finally {
    await ours.close();
  }
});
