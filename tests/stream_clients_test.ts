/**
 * Streams driven by real clients, the done-when scenario of the streams issue: a producer and
 * three consumers of one group process 10k messages with XREADGROUP BLOCK and XACK; one consumer
 * crashes holding entries it read and never acknowledged, and another consumer claims them
 * (ioredis: XAUTOCLAIM; node-redis, which speaks RESP3: XPENDING IDLE and XCLAIM). Nothing may be
 * lost, nothing delivered again once acknowledged, and the group must end with nothing pending.
 * Each library also runs the scenario against a stock redis-server when one is installed: the
 * control that proves the checks themselves.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { startServer } from "./helpers.ts";
import { startRedis } from "./redis_compare.ts";
import { missing } from "./redis_tools.ts";

const HOST = "127.0.0.1";
const STREAM = "jobs";
const GROUP = "workers";
const TOTAL = 10_000;
/** XADDs the producer pipelines at once before yielding to the consumers. */
const BATCH = 250;
const COUNT = 20;
const BLOCK_MS = 50;
/** How long the crashed consumer's entries must have been idle before they are claimed. */
const MIN_IDLE = 100;
/** The consumer that crashes mid-way; the one that claims what it left. */
const CRASHER = "c3";
const CLAIMER = "c1";
const CONSUMERS = ["c1", "c2", CRASHER];

/** A message as a consumer sees it: the entry ID and the producer's counter. */
interface Message {
  id: string;
  n: number;
}

/** The group as XPENDING and XINFO describe it at the end. */
interface GroupState {
  pending: number;
  entriesRead: number | null;
  lag: number | null;
  lastDelivered: string;
  /** Pending entries by consumer name. */
  consumers: Record<string, number>;
}

/** One connection of a client library, reduced to what the scenario does. */
interface Conn {
  /** XADD STREAM * n <i> for i in [from, to), pipelined; the IDs in order. */
  produce(from: number, to: number): Promise<string[]>;
  /** XREADGROUP GROUP GROUP consumer COUNT COUNT BLOCK BLOCK_MS STREAMS STREAM >. */
  read(consumer: string): Promise<Message[]>;
  /** XACK; how many the server acknowledged. */
  ack(ids: string[]): Promise<number>;
  /** Takes over for `consumer` the entries `crashed` left, idle for MIN_IDLE ms at least. */
  claim(consumer: string, crashed: string): Promise<Message[]>;
  state(): Promise<GroupState>;
  /** Drops the connection on the spot, as a dying process would. */
  crash(): void;
  close(): Promise<void>;
}

/** A client library: how to connect, and how its claim step is done. */
interface Library {
  name: string;
  claimWith: string;
  connect(port: number): Promise<Conn>;
}

function message(id: string, fields: Record<string, string> | string[]): Message {
  const n = Array.isArray(fields) ? fields[fields.indexOf("n") + 1] : fields.n;
  return { id, n: Number(n) };
}

/** Flat `name value` pairs (ioredis's XINFO replies) as a record. */
function pairs(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}

const ioredis: Library = {
  name: "ioredis",
  claimWith: "XAUTOCLAIM",
  async connect(port) {
    const io = new Redis({ port, host: HOST, lazyConnect: true, maxRetriesPerRequest: 0 });
    io.on("error", () => {});
    await io.connect();
    type Entries = Array<[string, string[]]>;
    return {
      async produce(from, to) {
        const pipe = io.pipeline();
        for (let i = from; i < to; i++) pipe.xadd(STREAM, "*", "n", String(i));
        const replies = (await pipe.exec()) ?? [];
        return replies.map(([err, id]) => {
          if (err) throw err;
          return id as string;
        });
      },
      async read(consumer) {
        const reply = (await io.xreadgroup(
          ...["GROUP", GROUP, consumer, "COUNT", COUNT, "BLOCK", BLOCK_MS] as const,
          ...["STREAMS", STREAM, ">"] as const,
        )) as Array<[string, Entries]> | null;
        return (reply?.[0]?.[1] ?? []).map(([id, fields]) => message(id, fields));
      },
      ack: (ids) => io.xack(STREAM, GROUP, ...ids),
      async claim(consumer) {
        const out: Message[] = [];
        let cursor = "0-0";
        do {
          const reply = await io.xautoclaim(
            STREAM,
            GROUP,
            consumer,
            MIN_IDLE,
            cursor,
            "COUNT",
            100,
          );
          const [next, entries] = reply as [string, Entries, string[]];
          out.push(...entries.map(([id, fields]) => message(id, fields)));
          cursor = next;
        } while (cursor !== "0-0");
        return out;
      },
      async state() {
        const [pending] = (await io.xpending(STREAM, GROUP)) as [number];
        const [group] = ((await io.xinfo("GROUPS", STREAM)) as unknown[][]).map(pairs);
        const consumers: Record<string, number> = {};
        for (const c of ((await io.xinfo("CONSUMERS", STREAM, GROUP)) as unknown[][]).map(pairs)) {
          consumers[String(c.name)] = Number(c.pending);
        }
        return {
          pending,
          entriesRead: group!["entries-read"] as number | null,
          lag: group!.lag as number | null,
          lastDelivered: String(group!["last-delivered-id"]),
          consumers,
        };
      },
      crash: () => io.disconnect(),
      close: async () => {
        if (io.status === "ready") await io.quit();
      },
    };
  },
};

const nodeRedis: Library = {
  name: "node-redis",
  claimWith: "XPENDING IDLE + XCLAIM",
  async connect(port) {
    const nr = createClient({ socket: { port, host: HOST, reconnectStrategy: false } });
    nr.on("error", () => {});
    await nr.connect();
    return {
      produce(from, to) {
        const adds: Array<Promise<string>> = [];
        for (let i = from; i < to; i++) adds.push(nr.xAdd(STREAM, "*", { n: String(i) }));
        return Promise.all(adds);
      },
      async read(consumer) {
        const reply = await nr.xReadGroup(GROUP, consumer, { key: STREAM, id: ">" }, {
          COUNT,
          BLOCK: BLOCK_MS,
        });
        const streams = (reply ?? []) as Array<
          { messages: Array<{ id: string; message: Record<string, string> }> }
        >;
        return (streams[0]?.messages ?? []).map((m) => message(m.id, m.message));
      },
      ack: (ids) => nr.xAck(STREAM, GROUP, ids),
      async claim(consumer, crashed) {
        const left = await nr.xPendingRange(STREAM, GROUP, "-", "+", 1000, {
          IDLE: MIN_IDLE,
          consumer: crashed,
        });
        if (left.length === 0) return [];
        const ids = left.map((p) => p.id);
        const claimed = await nr.xClaim(STREAM, GROUP, consumer, MIN_IDLE, ids);
        return claimed.flatMap((m) => (m === null ? [] : [message(m.id, m.message)]));
      },
      async state() {
        const summary = await nr.xPending(STREAM, GROUP);
        const [group] = (await nr.xInfoGroups(STREAM)) as unknown as Array<
          Record<string, unknown>
        >;
        const consumers: Record<string, number> = {};
        const list = (await nr.xInfoConsumers(STREAM, GROUP)) as unknown as Array<
          Record<string, unknown>
        >;
        for (const c of list) consumers[String(c.name)] = Number(c.pending);
        return {
          pending: summary.pending,
          entriesRead: group!["entries-read"] as number | null,
          lag: group!.lag as number | null,
          lastDelivered: String(group!["last-delivered-id"]),
          consumers,
        };
      },
      crash: () => nr.destroy(),
      close: async () => {
        if (nr.isOpen) await nr.close();
      },
    };
  },
};

/** What every consumer saw and did, checked as it happens and at the end. */
class Ledger {
  /** Entry ID -> the producer's counter, as XADD answered. */
  readonly produced = new Map<string, number>();
  /** Entry ID -> the rank of its acknowledgement among all confirmed ones. */
  readonly acked = new Map<string, number>();
  ackSeq = 0;
  /** Entry IDs and which consumers got them, by `>` reads and by claims. */
  readonly read = new Map<string, string>();
  readonly claimed = new Set<string>();
  /** Entries acknowledged per consumer, from XACK's replies. */
  readonly ackedBy: Record<string, number> = Object.fromEntries(CONSUMERS.map((c) => [c, 0]));
  /** What the crashed consumer read and never acknowledged. */
  readonly orphans = new Set<string>();
  crashedAt = 0;
  recovered = false;
  readonly problems: string[] = [];

  /**
   * Records entries a consumer got. `seq` is the acknowledgement rank when its request was sent:
   * an entry whose ack was confirmed by then must never come back.
   */
  deliver(consumer: string, messages: Message[], seq: number, how: "read" | "claim"): void {
    for (const { id, n } of messages) {
      if (this.produced.has(id) && this.produced.get(id) !== n) {
        this.problems.push(`${id} carries n=${n}, produced as ${this.produced.get(id)}`);
      }
      const ackRank = this.acked.get(id);
      if (ackRank !== undefined && ackRank <= seq) {
        this.problems.push(`${id} delivered to ${consumer} by ${how} after its ack`);
      }
      if (how === "claim") this.claimed.add(id);
      else if (this.read.has(id)) {
        this.problems.push(`${id} read by ${consumer} after ${this.read.get(id)} read it`);
      } else this.read.set(id, consumer);
    }
  }

  /** Acknowledges what `consumer` processed and records it. */
  async ack(conn: Conn, consumer: string, messages: Message[]): Promise<void> {
    if (messages.length === 0) return;
    const ids = messages.map((m) => m.id);
    this.ackedBy[consumer]! += await conn.ack(ids);
    for (const id of ids) if (!this.acked.has(id)) this.acked.set(id, ++this.ackSeq);
  }
}

async function consume(conn: Conn, name: string, ledger: Ledger, deadline: number) {
  while (ledger.acked.size < TOTAL) {
    if (Date.now() > deadline) throw new Error(`${name}: timed out, ${ledger.acked.size} acked`);
    if (name === CLAIMER && ledger.crashedAt > 0 && !ledger.recovered) {
      if (Date.now() - ledger.crashedAt >= MIN_IDLE) {
        const seq = ledger.ackSeq;
        const claimed = await conn.claim(name, CRASHER);
        ledger.deliver(name, claimed, seq, "claim");
        await ledger.ack(conn, name, claimed);
        ledger.recovered = [...ledger.orphans].every((id) => ledger.acked.has(id));
      }
    }
    const seq = ledger.ackSeq;
    const got = await conn.read(name);
    ledger.deliver(name, got, seq, "read");
    if (got.length === 0) continue;
    // The crash comes mid-way: once half the messages are out and this consumer acked some.
    if (name === CRASHER && ledger.produced.size >= TOTAL / 2 && ledger.ackedBy[name]! > 0) {
      for (const m of got) ledger.orphans.add(m.id);
      conn.crash();
      ledger.crashedAt = Date.now();
      return;
    }
    await ledger.ack(conn, name, got);
  }
}

async function produce(conn: Conn, ledger: Ledger): Promise<string> {
  let last = "";
  for (let i = 0; i < TOTAL; i += BATCH) {
    const ids = await conn.produce(i, Math.min(TOTAL, i + BATCH));
    ids.forEach((id, k) => ledger.produced.set(id, i + k));
    last = ids[ids.length - 1]!;
    // Let the consumers drain a little: reads then block and get woken by the next XADDs.
    await sleep(1);
  }
  return last;
}

async function scenario(lib: Library, port: number): Promise<void> {
  const admin = await lib.connect(port);
  const io = new Redis({ port, host: HOST });
  const conns: Conn[] = [];
  try {
    assert.equal(await io.xgroup("CREATE", STREAM, GROUP, "$", "MKSTREAM"), "OK");
    for (const _ of CONSUMERS) conns.push(await lib.connect(port));
    const ledger = new Ledger();
    const deadline = Date.now() + 30_000;
    const [last] = await Promise.all([
      produce(admin, ledger),
      ...CONSUMERS.map((name, i) => consume(conns[i]!, name, ledger, deadline)),
    ]);

    assert.deepEqual(ledger.problems, []);
    // The crash happened mid-way, leaving entries behind, and they were all claimed.
    assert.ok(ledger.crashedAt > 0, `${CRASHER} got nothing after half the messages were out`);
    assert.ok(ledger.orphans.size > 0);
    assert.ok(ledger.recovered);
    for (const id of ledger.orphans) assert.ok(ledger.claimed.has(id), `${id} was not claimed`);
    if (lib.name === "node-redis") assert.deepEqual(ledger.claimed, ledger.orphans);
    // None lost: every produced entry was delivered and acknowledged.
    assert.equal(ledger.produced.size, TOTAL);
    assert.equal(ledger.acked.size, TOTAL);
    for (const id of ledger.produced.keys()) {
      assert.ok(ledger.read.has(id) || ledger.claimed.has(id), `${id} was never delivered`);
    }
    // Each entry acknowledged once: XACK's counts add up to the total, every consumer did work.
    const counts = Object.values(ledger.ackedBy);
    assert.equal(counts.reduce((a, b) => a + b, 0), TOTAL, JSON.stringify(ledger.ackedBy));
    for (const c of CONSUMERS) assert.ok(ledger.ackedBy[c]! > 0, `${c} acknowledged nothing`);

    assert.deepEqual(await admin.state(), {
      pending: 0,
      entriesRead: TOTAL,
      lag: 0,
      lastDelivered: last,
      consumers: { c1: 0, c2: 0, c3: 0 },
    });
    assert.equal(await io.xlen(STREAM), TOTAL);
  } finally {
    for (const c of conns) await c.close();
    await admin.close();
    io.disconnect();
  }
}

for (const lib of [ioredis, nodeRedis]) {
  test(`${lib.name}: 3 consumers, 10k messages, a crash, ${lib.claimWith} (redeno)`, async () => {
    const { port, close } = await startServer();
    try {
      await scenario(lib, port);
    } finally {
      await close();
    }
  });

  test(`${lib.name}: the same scenario against redis-server (control)`, {
    skip: missing("redis-server"),
  }, async () => {
    const redis = await startRedis();
    try {
      await scenario(lib, redis.port);
    } finally {
      redis.stop();
    }
  });
}
