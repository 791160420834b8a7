/**
 * A blocked command is counted when it is unblocked, as Redis 7.2 does (7.0 counted it when it
 * blocked): INFO commandstats' calls and the slow log show nothing for a BLPOP still waiting,
 * then one call and one entry once it is served or times out. Beside the 7.4.1 reference build
 * when it is present, and asserted directly.
 */
import assert from "node:assert/strict";
import { RawConn } from "./helpers.ts";
import { pipeline, replyEnd } from "./redis_compare.ts";
import { transcriptTests } from "./reference_redis.ts";

/** BLPOP's commandstats calls and how many slow log entries name BLPOP. */
async function stats(c: RawConn): Promise<string> {
  const [info, slow] = await pipeline(c, [["INFO", "commandstats"], ["SLOWLOG", "GET"]]);
  const calls = /cmdstat_blpop:calls=(\d+)/.exec(info!)?.[1] ?? "none";
  return `calls=${calls} slowlog=${slow!.split("$5\r\nBLPOP\r\n").length - 1}`;
}

async function waitBlocked(c: RawConn, n: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const [info] = await pipeline(c, [["INFO", "clients"]]);
    if (info!.includes(`\r\nblocked_clients:${n}\r\n`)) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`not ${n} blocked clients`);
}

async function reply(c: RawConn): Promise<string> {
  for (let i = 0; i < 600; i++) {
    const end = replyEnd(c.pending, 0);
    if (end > 0) return c.read(end);
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error("no reply");
}

async function transcript(port: number): Promise<string[]> {
  const ctl = await RawConn.connect(port);
  const rd = await RawConn.connect(port);
  try {
    await pipeline(ctl, [
      ["CONFIG", "SET", "slowlog-log-slower-than", "0"],
      ["SLOWLOG", "RESET"],
      ["CONFIG", "RESETSTAT"],
    ]);
    const out: string[] = [];
    rd.command("BLPOP", "mylist", "0");
    await waitBlocked(ctl, 1);
    out.push(await stats(ctl));
    await pipeline(ctl, [["LPUSH", "mylist", "1"]]);
    out.push(await reply(rd));
    out.push(await stats(ctl));
    rd.command("BLPOP", "mylist", "0.01");
    out.push(await reply(rd));
    out.push(await stats(ctl));
    return out;
  } finally {
    ctl.close();
    rd.close();
  }
}

const WANT = [
  "calls=none slowlog=0",
  "*2\r\n$6\r\nmylist\r\n$1\r\n1\r\n",
  "calls=1 slowlog=1",
  "*-1\r\n",
  "calls=2 slowlog=2",
];

transcriptTests("a blocked BLPOP is counted and slow-logged when unblocked", transcript, WANT);
