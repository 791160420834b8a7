/**
 * Stream reads as Redis 7.2 changed them: a blocked XREADGROUP woken by its key's deletion, a
 * type change, a flush, a rename or its group's destruction runs again and fails as a new call
 * (NOGROUP, WRONGTYPE; 7.0 answered UNBLOCKED ...); a read of a consumer's history is not a
 * change (`rdb_changes_since_last_save`); the `Unbalanced` errors name the command in lower case;
 * XSETID refuses an ID below the greatest deleted one; XADD `<ms>-*` past the last sequence of
 * that millisecond is "equal or smaller" (7.0: "Elements are too large").
 * Asserted directly, and byte for byte beside the 7.4.1 reference build when it is present.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RawConn, startServer } from "./helpers.ts";
import { pipeline, replyEnd } from "./redis_compare.ts";
import { assertReplies, REFERENCE_74, startReference, transcriptTests } from "./reference_redis.ts";

const NO_REF = REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false;

/** Reads one whole reply. */
async function reply(c: RawConn): Promise<string> {
  for (let i = 0; i < 600; i++) {
    const end = replyEnd(c.pending, 0);
    if (end > 0) return c.read(end);
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`No reply, have ${JSON.stringify(c.pending)}`);
}

/** Waits until the server reports `n` blocked clients. */
async function blocked(ctl: RawConn, n: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const [info] = await pipeline(ctl, [["INFO", "clients"]]);
    if (info!.includes(`\r\nblocked_clients:${n}\r\n`)) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`not ${n} blocked clients`);
}

const READ = ["XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", "t", ">", ">"];

/** What ends each wait of READ (blocked on s and t), after `s` and `t` are fresh with group g. */
const WAKERS: string[][][] = [
  [["XGROUP", "DESTROY", "t", "g"]],
  [["DEL", "s"]],
  [["SET", "t", "x"]],
  [["FLUSHALL"]],
  [["RENAME", "s", "s2"]],
  [["MULTI"], ["DEL", "s"], ["SADD", "s", "m"], ["EXEC"]],
  [["XADD", "t", "1-1", "f", "v"]],
];

/** The transcript of the scenario: each woken reply, then the stats and the change counter. */
async function transcript(port: number): Promise<string[]> {
  const r = await RawConn.connect(port);
  const w = await RawConn.connect(port);
  try {
    await pipeline(w, [["FLUSHALL"], ["CONFIG", "RESETSTAT"]]);
    const out: string[] = [];
    for (const waker of WAKERS) {
      await pipeline(w, [
        ["DEL", "s", "t", "s2"],
        ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"],
        ["XGROUP", "CREATE", "t", "g", "$", "MKSTREAM"],
      ]);
      r.command(...READ);
      await blocked(w, 1);
      await pipeline(w, waker);
      out.push(await reply(r));
    }
    const [errors, stats] = await pipeline(w, [["INFO", "errorstats"], ["INFO", "commandstats"]]);
    out.push(errors!, /cmdstat_xreadgroup:calls=\d+/.exec(stats!)![0]);
    out.push(/failed_calls=\d+/.exec(stats!.slice(stats!.indexOf("cmdstat_xreadgroup")))![0]);
    // A read of alice's history (t has 1-1 pending for her) changes nothing that counts.
    const changes = async () =>
      /rdb_changes_since_last_save:(\d+)/.exec(
        (await pipeline(w, [["INFO", "persistence"]]))[0]!,
      )![1];
    const before = await changes();
    out.push(...await pipeline(w, [["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "t", "0"]]));
    out.push(before === await changes() ? "unchanged" : "changed");
    out.push(
      ...await pipeline(w, [
        ["XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "t"],
        ["XREAD", "COUNT", "1", "STREAMS", "t"],
        ["XREAD", "STREAMS", "STREAMS", "t", "0"],
      ]),
    );
    return out;
  } finally {
    r.close();
    w.close();
  }
}

const nogroup = (key: string) =>
  `-NOGROUP No such key '${key}' or consumer group 'g' in XREADGROUP with GROUP option\r\n`;
const WRONGTYPE = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

/** Redis 7.4.1's transcript. */
const WANT = [
  nogroup("t"),
  nogroup("s"),
  WRONGTYPE,
  nogroup("s"),
  nogroup("s"),
  WRONGTYPE,
  "*1\r\n*2\r\n$1\r\nt\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n",
  "$70\r\n# Errorstats\r\nerrorstat_NOGROUP:count=4\r\nerrorstat_WRONGTYPE:count=2\r\n\r\n",
  "cmdstat_xreadgroup:calls=7",
  "failed_calls=6",
  "*1\r\n*2\r\n$1\r\nt\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n",
  "unchanged",
  "-ERR Unbalanced 'xreadgroup' list of streams: for each stream key an ID or '>' must be specified.\r\n",
  "-ERR Unbalanced 'xread' list of streams: for each stream key an ID or '$' must be specified.\r\n",
  "-ERR Unbalanced 'xread' list of streams: for each stream key an ID or '$' must be specified.\r\n",
];

transcriptTests(
  "woken XREADGROUPs fail as new calls; history reads are no change; 7.2's error texts",
  transcript,
  WANT,
);

const SETID = "-ERR The ID specified in XSETID is smaller than current max_deleted_entry_id\r\n";

/** XSETID and XADD IDs, with Redis 7.4.1's replies. */
const ID_CASES: Array<[string[], string]> = [
  [["XADD", "x", "1-1", "a", "1"], "$3\r\n1-1\r\n"],
  [["XADD", "x", "1-2", "b", "2"], "$3\r\n1-2\r\n"],
  [["XADD", "x", "1-3", "c", "3"], "$3\r\n1-3\r\n"],
  [["XDEL", "x", "1-2", "1-3"], ":2\r\n"],
  [["XSETID", "x", "1-2"], SETID],
  [["XSETID", "x", "1-1"], SETID],
  [["XSETID", "x", "1-3"], "+OK\r\n"],
  [
    ["XSETID", "x", "1-2", "MAXDELETEDID", "1-3"],
    "-ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id\r\n",
  ],
  [["XSETID", "x", "1-4", "MAXDELETEDID", "1-2"], "+OK\r\n"],
  [["XADD", "y", "1-18446744073709551615", "f", "v"], "$22\r\n1-18446744073709551615\r\n"],
  [
    ["XADD", "y", "1-*", "f", "v"],
    "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n",
  ],
  [["XADD", "y", "2-*", "f", "v"], "$3\r\n2-0\r\n"],
];

test("XSETID and XADD IDs as Redis 7.2 checks them", async () => {
  const ours = await startServer();
  try {
    await assertReplies(ours.port, ID_CASES);
  } finally {
    await ours.close();
  }
});

test("XSETID and XADD IDs as the 7.4.1 reference build", { skip: NO_REF }, async () => {
  const ref = await startReference();
  try {
    await assertReplies(ref.port, ID_CASES);
  } finally {
    ref.stop();
  }
});
