/**
 * CLIENT TRACKING of scripts as Redis 7.2 does it: a script's caller is remembered for the keys
 * its read commands read (not, as in 7.0, every key the script declares); a script that reads
 * nothing, and a read-only script's own line, track nothing. Byte for byte beside the 7.4.1
 * reference build when it is present, and asserted directly.
 */
import { RawConn } from "./helpers.ts";
import { pipeline } from "./redis_compare.ts";
import { transcriptTests } from "./reference_redis.ts";

/** The scripts the tracking client runs (two keys declared), each followed by a write of all. */
const SCRIPTS: string[][] = [
  ["EVAL", "redis.call('set', 'k3', 'bar')", "2", "k1", "k2"],
  ["EVAL", "return redis.call('get', 'k2')", "2", "k1", "k2"],
  ["EVAL_RO", "return redis.call('ping')", "2", "k1", "k2"],
  ["EVAL_RO", "return redis.call('mget', 'k1', 'k3')", "2", "k1", "k2"],
  ["FCALL_RO", "rd", "2", "k1", "k2"],
];
const LIB = "#!lua name=trk\n" +
  "redis.register_function{function_name='rd', callback=function(keys) " +
  "return redis.call('strlen', keys[2]) end, flags={'no-writes'}}";

/** What the tracking client receives: each script's reply, the pushes its write caused, PONG. */
async function transcript(port: number): Promise<string[]> {
  const a = await RawConn.connect(port);
  const b = await RawConn.connect(port);
  try {
    await pipeline(a, [["HELLO", "3"], ["CLIENT", "TRACKING", "on"]]);
    await pipeline(b, [["FUNCTION", "LOAD", "REPLACE", LIB]]);
    const out: string[] = [];
    for (const script of SCRIPTS) {
      const [reply] = await pipeline(a, [script]);
      await pipeline(b, [["MSET", "k1", "1", "k2", "2", "k3", "3"]]);
      // The write's pushes reach `a` before the reply to its next command.
      a.command("PING");
      for (let i = 0; i < 200 && !a.pending.endsWith("+PONG\r\n"); i++) {
        await new Promise((r) => setTimeout(r, 5));
      }
      out.push(reply!, await a.read(a.pending.length));
    }
    return out;
  } finally {
    a.close();
    b.close();
  }
}

const push = (...keys: string[]) =>
  `>2\r\n$10\r\ninvalidate\r\n*${keys.length}\r\n${keys.map((k) => `$2\r\n${k}\r\n`).join("")}`;

/** Redis 7.4.1's transcript. */
const WANT = [
  "_\r\n",
  "+PONG\r\n",
  "$1\r\n2\r\n",
  push("k2") + "+PONG\r\n",
  "+PONG\r\n",
  "+PONG\r\n",
  "*2\r\n$1\r\n1\r\n$1\r\n3\r\n",
  push("k1") + push("k3") + "+PONG\r\n",
  ":1\r\n",
  push("k2") + "+PONG\r\n",
];

transcriptTests(
  "a script's caller tracks the keys its reads read, not the keys it declares",
  transcript,
  WANT,
);
