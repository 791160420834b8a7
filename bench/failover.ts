/**
 * Failover under real redis-sentinel, redeno beside redis-server: a master and two replicas of
 * one kind, three sentinels (down-after-milliseconds 1000, failover-timeout 6000, quorum 2; hello
 * every 500 ms and INFO every second through SENTINEL DEBUG, for both kinds alike), an
 * ioredis client in sentinel mode writing `INCR` + `WAIT 1 200` throughout; the master is killed
 * with SIGKILL. Reported per kind: the failover time (from the kill to the first INCR the new
 * master answered), median over the runs, and the acknowledged writes lost (must be 0).
 *
 *     deno run -A bench/failover.ts [--runs 5] [--kinds redeno,redis]
 *
 * Each run starts fresh processes on free ports of 127.0.0.1 and stops them after. redeno runs
 * as main.ts on the runtime running this script.
 *
 * @module
 */

import process from "node:process";
import { median, table } from "./report.ts";
import { killMasterScenario } from "../tests/sentinel_scenario.ts";
import { stopAll } from "../tests/sentinel_helpers.ts";

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] ?? fallback : fallback;
}

const runs = Number(option("runs", "5"));
const SETTINGS = { downAfterMs: 1000, failoverTimeoutMs: 6000 };
const kinds = option("kinds", "redeno,redis").split(",") as Array<"redeno" | "redis">;
const rows: string[][] = [];
for (const kind of kinds) {
  const times: number[] = [];
  let lost = 0;
  let acked = 0;
  for (let i = 0; i < runs; i++) {
    try {
      const r = await killMasterScenario({ master: kind, replicas: [kind, kind] }, SETTINGS);
      const offsets = r.before.map((m, k) =>
        `${r.replicas[k]!.port}:${m.get("slave_repl_offset")}`
      );
      console.log(
        `${kind} run ${i + 1}: failover ${r.failoverMs} ms, new master ${r.newMasterPort}, ` +
          `acked ${r.acked} (WAIT answered by another server: ${
            JSON.stringify(r.crossAcks)
          }), final counter ${r.finalCounter}, lost ${JSON.stringify(r.lost)} ` +
          `(replica offsets a moment before the kill: ${offsets.join(" ")})`,
      );
      times.push(r.failoverMs);
      lost += r.lost.length;
      acked += r.acked;
    } finally {
      await stopAll();
    }
  }
  rows.push([kind, String(median(times)), times.join(" "), String(acked), String(lost)]);
}
console.log(
  table(["server", "failover ms (median)", "each run (ms)", "acked writes", "acked lost"], rows),
);
process.exit(0);
