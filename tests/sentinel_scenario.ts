/**
 * The kill -9 scenario of the sentinel tests and of bench/failover.ts: a master with two
 * replicas under three real sentinels, an ioredis client in sentinel mode writing throughout
 * (`INCR`, then `WAIT 1 200`: a write counts as acknowledged when WAIT answered at least 1),
 * SIGKILL of the master, and what happened: the new master, how long until the first write
 * succeeded on it, and whether an acknowledged write was lost.
 *
 * A lost acknowledged write shows as an INCR value acknowledged twice (the counter on the new
 * master was behind it, so later INCRs handed the same value out again) or as a final counter
 * below an acknowledged value.
 *
 * @module
 */

import { Redis } from "ioredis";
import { HOST, waitFor } from "./replication_helpers.ts";
import {
  infoOf,
  MASTER_NAME,
  type Proc,
  type SentinelSettings,
  startNode,
  startSentinels,
  waitForNewMaster,
} from "./sentinel_helpers.ts";

/** What one kill -9 failover did. */
export interface FailoverRun {
  oldMaster: Proc;
  replicas: Proc[];
  sentinels: Proc[];
  newMasterPort: number;
  /** Milliseconds from the kill to the first INCR the new master answered. */
  failoverMs: number;
  /** Writes WAIT acknowledged. */
  acked: number;
  /** Acknowledged INCR values handed out twice, and acknowledged values above the final counter. */
  lost: number[];
  /**
   * Acknowledged writes whose WAIT was answered by another server than their INCR (ioredis
   * resends a command left unanswered by a dead connection to the new master, where WAIT counts
   * from offset 0 on a new connection): the acknowledgement says nothing about that write.
   */
  crossAcks: number[];
  /** The counter on the new master at the end. */
  finalCounter: number;
  /** What each replica reported just before the kill and at the end (for the report). */
  before: Array<Map<string, string>>;
}

/**
 * Runs the scenario once.
 *
 * @param kinds the master's and the replicas' kind
 * @param settings the sentinels' settings
 * @param writeMs how long to write before the kill and after the failover
 * @returns what happened; the processes are left running (stopAll() ends them)
 */
export async function killMasterScenario(
  kinds: { master: "redeno" | "redis"; replicas: Array<"redeno" | "redis"> },
  settings: SentinelSettings = {},
  writeMs = 1500,
): Promise<FailoverRun> {
  const oldMaster = await startNode(kinds.master);
  const replicas = await Promise.all(
    kinds.replicas.map((k) => startNode(k, { replicaOf: oldMaster.port })),
  );
  await waitFor(
    async () => {
      const info = await infoOf(oldMaster.port);
      return Number(info.get("connected_slaves")) === replicas.length &&
        [...info.entries()].filter(([k, v]) => /^slave\d+$/.test(k) && v.includes("online"))
            .length === replicas.length;
    },
    "the replicas to be online",
    20000,
  );
  const sentinels = await startSentinels(oldMaster.port, {
    ...settings,
    replicas: replicas.length,
  });
  const c = new Redis({
    sentinels: sentinels.map((s) => ({ host: HOST, port: s.port })),
    name: MASTER_NAME,
    // Keep trying through the failover (each try asks the sentinels again).
    maxRetriesPerRequest: null,
    sentinelRetryStrategy: () => 100,
    retryStrategy: () => 100,
  });
  c.on("error", () => {});
  const ackedValues = new Set<number>();
  const lost: number[] = [];
  let acked = 0;
  const crossAcks: number[] = [];
  const peer = () => (c as unknown as { stream?: { remotePort?: number } }).stream?.remotePort;
  let killedAt = 0;
  /** When the kill completed: a write sent after it can only be answered by the new master. */
  let deadAt = 0;
  let firstWriteAfter = 0;
  let writing = true;
  const writer = (async () => {
    while (writing) {
      try {
        const sentAt = Date.now();
        const v = await c.incr("counter");
        if (deadAt !== 0 && sentAt >= deadAt && firstWriteAfter === 0) firstWriteAfter = Date.now();
        const incrPeer = peer();
        const n = await c.wait(1, 200);
        if (n >= 1) {
          acked++;
          if (peer() !== incrPeer) crossAcks.push(v);
          if (ackedValues.has(v)) lost.push(v);
          ackedValues.add(v);
        }
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  })();
  try {
    await new Promise((r) => setTimeout(r, writeMs));
    const before = await Promise.all(replicas.map((r) => infoOf(r.port)));
    killedAt = Date.now();
    await oldMaster.kill("SIGKILL");
    deadAt = Date.now();
    const newMasterPort = await waitForNewMaster(sentinels, oldMaster.port);
    await waitFor(() => firstWriteAfter !== 0, "a write on the new master", 30000);
    await new Promise((r) => setTimeout(r, writeMs));
    writing = false;
    await writer;
    const finalCounter = Number(await c.get("counter"));
    for (const v of ackedValues) if (v > finalCounter) lost.push(v);
    return {
      oldMaster,
      replicas,
      sentinels,
      newMasterPort,
      failoverMs: firstWriteAfter - killedAt,
      acked,
      crossAcks,
      lost,
      finalCounter,
      before,
    };
  } finally {
    writing = false;
    await writer;
    c.disconnect();
  }
}
