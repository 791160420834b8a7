/**
 * How fast the testing helper gives a usable server: the time from calling `startTestServer()`
 * to a real socket client's PONG, then `close()`. Prints the median, minimum and maximum of
 * `--runs` starts (20 by default), and apart from them the first start in the process (which
 * pays for JIT warm-up and the runtime's first connection once per test run).
 *
 * Run: `deno run -A bench/testing_start.ts` or `node --import tsx bench/testing_start.ts`.
 *
 * @module
 */

import process from "node:process";
import { startTestServer } from "../testing.ts";
import { Conn } from "./conn.ts";

const runsArg = process.argv.indexOf("--runs");
const runs = runsArg >= 0 ? Number(process.argv[runsArg + 1]) : 20;

/** Milliseconds from startTestServer() to PONG on a new connection. */
async function startToPong(): Promise<number> {
  const t0 = performance.now();
  const redis = await startTestServer();
  const conn = await Conn.open(redis.port);
  const pong = await conn.send("PING");
  const ms = performance.now() - t0;
  if (pong !== "PONG") throw new Error(`Unexpected reply: ${pong}`);
  conn.close();
  await redis.close();
  return ms;
}

const first = await startToPong();
const times: number[] = [];
for (let i = 0; i < runs; i++) times.push(await startToPong());
times.sort((a, b) => a - b);
const median = times.length % 2
  ? times[(times.length - 1) / 2]!
  : (times[times.length / 2 - 1]! + times[times.length / 2]!) / 2;
const runtime = "Deno" in globalThis ? "deno" : `node ${process.version}`;
console.log(
  `startTestServer to PONG on ${runtime}, ${runs} runs: median ${median.toFixed(2)} ms, ` +
    `min ${times[0]!.toFixed(2)} ms, max ${times.at(-1)!.toFixed(2)} ms ` +
    `(first start in the process: ${first.toFixed(2)} ms)`,
);
