/**
 * SAVE, BGSAVE and their state: BGSAVE while clients keep writing (latency, and the file holds
 * the data as of BGSAVE), save points, LASTSAVE, INFO persistence, BGSAVE's refusals and
 * scheduling, MISCONF after a failed background save, the final save at shutdown, FLUSHALL.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ErrorReply, ManualClock } from "../mod.ts";
import { rdbOf } from "../core/persistence/rdb_file.ts";
import { RawConn } from "./helpers.ts";
import { pipeline } from "./redis_compare.ts";
import { serverIn, tempDir, text, waitFor } from "./rdb_helpers.ts";

test("BGSAVE keeps serving while clients write, and the file holds the data as of BGSAVE", async () => {
  const dir = tempDir();
  const { server, lines } = serverIn(dir);
  const db = server.dbs[0]!;
  const N = 800_000;
  for (let i = 0; i < N; i++) db.dict.set(`k:${i}`, `v0-${i}`, 0);
  for (let i = 0; i < 200; i++) server.dispatch(["RPUSH", `l:${i}`, "a", "b", "c"]);
  const { port } = await server.listen({ port: 0, hostname: "127.0.0.1" });
  const writer = await RawConn.connect(port);
  const pinger = await RawConn.connect(port);
  try {
    const [started] = await pipeline(writer, [["BGSAVE"]]);
    assert.equal(started, "+Background saving started\r\n");
    const t0 = performance.now();
    const inProgress = () => rdbOf(server).job !== undefined;
    let worst = 0;
    let pings = 0;
    let round = 0;
    // The writer changes what the save has not reached yet (and what it has), adds and deletes.
    const writes = (async () => {
      while (inProgress()) {
        const r = round++;
        const batch: string[][] = [];
        for (let j = 0; j < 50; j++) {
          const i = (r * 50 + j) * 7919 % N;
          batch.push(["SET", `k:${i}`, `v1-${i}`], ["RPUSH", `l:${(r + j) % 200}`, "new"]);
        }
        batch.push(["SET", `new:${r}`, "x"], ["DEL", `k:${r}`]);
        await pipeline(writer, batch);
      }
    })();
    while (inProgress()) {
      const t = performance.now();
      await pipeline(pinger, [["PING"]]);
      worst = Math.max(worst, performance.now() - t);
      pings++;
    }
    const duration = performance.now() - t0;
    await writes;
    assert.ok(round > 3, `the writer got ${round} batches in during the save`);
    assert.ok(pings > 5, `${pings} pings answered during a ${duration.toFixed(0)} ms save`);
    assert.ok(
      worst < duration / 2,
      `worst PING ${worst.toFixed(1)} ms during a ${duration.toFixed(0)} ms save`,
    );
    assert.ok(lines.some((l) => l.includes("Background saving terminated with success")));
    assert.match(text(server.dispatch(["INFO", "persistence"])), /rdb_last_bgsave_status:ok/);
    const { server: loaded } = serverIn(dir);
    rdbOf(loaded).loadOnStart();
    const ldb = loaded.dbs[0]!;
    assert.equal(ldb.size, N + 200, "exactly the keys present at BGSAVE time");
    for (let i = 0; i < N; i += 997) assert.equal(ldb.dict.get(`k:${i}`), `v0-${i}`);
    assert.equal(ldb.dict.get("k:0"), "v0-0", "a key deleted after BGSAVE is in the file");
    assert.equal(ldb.dict.get("new:0"), undefined, "a key added after BGSAVE is not");
    for (let i = 0; i < 200; i++) assert.equal(loaded.dispatch(["LLEN", `l:${i}`]), 3);
  } finally {
    writer.close();
    pinger.close();
    await server.close();
    rmSync(dir, { recursive: true });
  }
});

test("save points start a BGSAVE once enough changes and seconds went by", async () => {
  const dir = tempDir();
  const clock = new ManualClock(1_700_000_000_000);
  const { server, lines } = serverIn(dir, { clock, config: { save: "10 2 100 1" } });
  const before = server.dispatch(["LASTSAVE"]);
  assert.equal(before, 1_700_000_000);
  server.dispatch(["SET", "a", "1"]);
  clock.advance(11_000);
  server.cron();
  assert.equal(rdbOf(server).job, undefined, "1 change is not enough for `10 2`");
  server.dispatch(["SET", "b", "2"]);
  server.cron();
  assert.notEqual(rdbOf(server).job, undefined, "2 changes in more than 10 seconds");
  assert.ok(lines.some((l) => l.includes("2 changes in 10 seconds. Saving...")));
  await waitFor(() => rdbOf(server).job === undefined, "the background save");
  assert.equal(server.dispatch(["LASTSAVE"]), 1_700_000_011);
  assert.match(text(server.dispatch(["INFO", "persistence"])), /rdb_changes_since_last_save:0\r\n/);
  assert.ok(existsSync(join(dir, "dump.rdb")));
  server.cron();
  assert.equal(rdbOf(server).job, undefined, "no change since: no save");
  rmSync(dir, { recursive: true });
});

test("SAVE, LASTSAVE and INFO persistence fields as Redis 7.0 names them", async () => {
  const dir = tempDir();
  const clock = new ManualClock(1_700_000_000_000);
  const { server } = serverIn(dir, { clock });
  server.dispatch(["SET", "a", "1"]);
  server.dispatch(["SET", "b", "2"]);
  let info = text(server.dispatch(["INFO", "persistence"]));
  assert.match(info, /rdb_changes_since_last_save:2\r\n/);
  assert.match(info, /rdb_saves:0\r\n/);
  clock.advance(5000);
  assert.equal(text(server.dispatch(["SAVE"])), "OK");
  assert.equal(server.dispatch(["LASTSAVE"]), 1_700_000_005);
  info = text(server.dispatch(["INFO", "persistence"]));
  const names = info.split("\r\n").filter((l) => l.includes(":")).map((l) => l.split(":")[0]!);
  const rdbNames = names.slice(0, names.indexOf("rdb_last_load_keys_loaded") + 1);
  assert.deepEqual(rdbNames, [
    "loading",
    "async_loading",
    "current_cow_peak",
    "current_cow_size",
    "current_cow_size_age",
    "current_fork_perc",
    "current_save_keys_processed",
    "current_save_keys_total",
    "rdb_changes_since_last_save",
    "rdb_bgsave_in_progress",
    "rdb_last_save_time",
    "rdb_last_bgsave_status",
    "rdb_last_bgsave_time_sec",
    "rdb_current_bgsave_time_sec",
    "rdb_saves",
    "rdb_last_cow_size",
    "rdb_last_load_keys_expired",
    "rdb_last_load_keys_loaded",
  ]);
  assert.match(info, /rdb_changes_since_last_save:0\r\n/);
  assert.match(info, /rdb_last_save_time:1700000005\r\n/);
  assert.match(info, /rdb_saves:1\r\n/);
  assert.match(info, /rdb_last_bgsave_time_sec:-1\r\n/);
  assert.equal(text(server.dispatch(["BGSAVE"])), "Background saving started");
  info = text(server.dispatch(["INFO", "persistence"]));
  assert.match(info, /rdb_bgsave_in_progress:1\r\n/);
  assert.match(info, /rdb_current_bgsave_time_sec:0\r\n/);
  assert.match(info, /current_save_keys_total:2\r\n/);
  await waitFor(() => rdbOf(server).job === undefined, "the background save");
  info = text(server.dispatch(["INFO", "persistence"]));
  assert.match(info, /rdb_bgsave_in_progress:0\r\n/);
  assert.match(info, /rdb_last_bgsave_time_sec:0\r\n/);
  assert.match(info, /rdb_saves:2\r\n/);
  rmSync(dir, { recursive: true });
});

test("BGSAVE and SAVE refuse to run beside a background save; SCHEDULE and EXEC defer", async () => {
  const dir = tempDir();
  const { server } = serverIn(dir);
  const d = (...argv: string[]) => server.dispatch(argv);
  assert.equal((d("BGSAVE", "now") as ErrorReply).message, "ERR syntax error");
  assert.equal(text(d("BGSAVE")), "Background saving started");
  assert.equal((d("BGSAVE") as ErrorReply).message, "ERR Background save already in progress");
  assert.equal(
    (d("BGSAVE", "SCHEDULE") as ErrorReply).message,
    "ERR Background save already in progress",
  );
  assert.equal((d("SAVE") as ErrorReply).message, "ERR Background save already in progress");
  await waitFor(() => rdbOf(server).job === undefined, "the background save");
  d("MULTI");
  d("BGSAVE");
  assert.deepEqual((d("EXEC") as unknown[]).map(text), ["Background saving scheduled"]);
  assert.equal(rdbOf(server).scheduled, true);
  server.cron();
  assert.notEqual(rdbOf(server).job, undefined, "the scheduled save starts on the next tick");
  await waitFor(() => rdbOf(server).job === undefined, "the scheduled save");
  rmSync(dir, { recursive: true });
});

test("BGSAVE waits for an AOF rewrite: an error, or with SCHEDULE a save once it ends", async () => {
  const dir = tempDir();
  const { server } = serverIn(dir, { config: { appendonly: "yes" } });
  server.loadData();
  const db = server.dbs[0]!;
  for (let i = 0; i < 200_000; i++) db.dict.set(`k:${i}`, `v${i}`, 0);
  const d = (...argv: string[]) => server.dispatch(argv);
  assert.equal(text(d("BGREWRITEAOF")), "Background append only file rewriting started");
  assert.equal(
    (d("BGSAVE") as ErrorReply).message,
    "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
  );
  assert.equal(text(d("BGSAVE", "SCHEDULE")), "Background saving scheduled");
  await waitFor(() => {
    server.cron();
    return rdbOf(server).job !== undefined;
  }, "the scheduled save to start after the rewrite");
  await waitFor(() => rdbOf(server).job === undefined, "the scheduled save");
  assert.equal(rdbOf(server).scheduled, false);
  assert.ok(existsSync(join(dir, "dump.rdb")));
  await server.close();
  rmSync(dir, { recursive: true });
});

test("a failed BGSAVE turns on MISCONF for writes and PING until a save succeeds", async () => {
  const dir = tempDir();
  const sub = join(dir, "data");
  mkdirSync(sub);
  const { server, lines } = serverIn(sub, { config: { save: "3600 1" } });
  const d = (...argv: string[]) => server.dispatch(argv);
  d("SET", "a", "1");
  rmSync(sub, { recursive: true });
  assert.equal(text(d("BGSAVE")), "Background saving started");
  await waitFor(() => rdbOf(server).job === undefined, "the background save");
  assert.ok(lines.some((l) => /Failed opening the temp RDB file temp-bg-\d+\.rdb/.test(l)));
  assert.ok(lines.some((l) => l.includes("Background saving error")));
  assert.match(text(d("INFO", "persistence")), /rdb_last_bgsave_status:err\r\n/);
  const misconf =
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";
  assert.equal((d("SET", "b", "2") as ErrorReply).message, misconf);
  assert.equal((d("PING") as ErrorReply).message, misconf);
  assert.equal(d("GET", "a"), "1", "reads still work");
  d("MULTI");
  assert.equal((d("INCR", "a") as ErrorReply).message, misconf);
  assert.match((d("EXEC") as ErrorReply).message, /^EXECABORT/);
  assert.equal((d("SAVE") as ErrorReply).message, "ERR");
  d("CONFIG", "SET", "stop-writes-on-bgsave-error", "no");
  assert.equal(text(d("SET", "b", "2")), "OK", "the gate follows the directive");
  d("CONFIG", "SET", "stop-writes-on-bgsave-error", "yes");
  assert.ok(d("SET", "b", "2") instanceof ErrorReply);
  mkdirSync(sub);
  assert.equal(text(d("SAVE")), "OK");
  assert.equal(text(d("SET", "b", "2")), "OK", "a successful save lifts MISCONF");
  assert.match(text(d("INFO", "persistence")), /rdb_last_bgsave_status:ok\r\n/);
  rmSync(dir, { recursive: true });
});

test("the final save on shutdown: with save points, SHUTDOWN SAVE, not with NOSAVE", async () => {
  const dir = tempDir();
  const path = join(dir, "dump.rdb");
  const a = serverIn(dir, { config: { save: "3600 1" } }).server;
  a.dispatch(["SET", "k", "saved at close"]);
  await a.close();
  const check = serverIn(dir).server;
  rdbOf(check).loadOnStart();
  assert.equal(check.dispatch(["GET", "k"]), "saved at close");
  rmSync(path);
  const b = serverIn(dir, { config: { save: "3600 1" } }).server;
  b.dispatch(["SET", "k", "v"]);
  b.dispatch(["SHUTDOWN", "NOSAVE"]);
  await b.close();
  assert.equal(existsSync(path), false, "NOSAVE");
  const c = serverIn(dir).server;
  c.dispatch(["SET", "k", "v"]);
  c.dispatch(["SHUTDOWN", "SAVE"]);
  await c.close();
  assert.equal(existsSync(path), true, "SAVE without save points");
  rmSync(dir, { recursive: true });
});

test("SHUTDOWN is refused when its save fails, unless FORCE", async () => {
  const dir = tempDir();
  const sub = join(dir, "gone");
  mkdirSync(sub);
  const { server, lines } = serverIn(sub, { config: { save: "3600 1" } });
  rmSync(sub, { recursive: true });
  const reply = server.dispatch(["SHUTDOWN"]);
  assert.equal((reply as ErrorReply).message, "ERR Errors trying to SHUTDOWN. Check logs.");
  assert.equal(server.isClosing, false);
  assert.ok(lines.some((l) => l.includes("Error trying to save the DB, can't exit.")));
  server.dispatch(["SHUTDOWN", "FORCE"]);
  assert.equal(server.isClosing, true);
  await server.close();
  rmSync(dir, { recursive: true });
});

test("FLUSHALL with save points saves the empty dataset and resets the change count", () => {
  const dir = tempDir();
  const { server } = serverIn(dir, { config: { save: "3600 1" } });
  server.dispatch(["SET", "k", "v"]);
  server.dispatch(["FLUSHALL"]);
  assert.match(text(server.dispatch(["INFO", "persistence"])), /rdb_changes_since_last_save:0/);
  const check = serverIn(dir).server;
  assert.equal(rdbOf(check).loadOnStart(), true);
  assert.equal(check.dbs[0]!.size, 0);
  rmSync(dir, { recursive: true });
});
