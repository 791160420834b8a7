/**
 * Replication as an ACL user: a replica authenticates with `AUTH masteruser masterauth`, and a
 * master lets a user with only the replication commands sync. Both ways with a stock
 * redis-server 7.0; skipped without it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { missing } from "./redis_tools.ts";
import {
  client,
  field,
  HOST,
  infoText,
  redeno,
  stockRedis,
  waitFor,
} from "./replication_helpers.ts";

const REPL_RULES = ["on", ">replpw", "-@all", "+psync", "+replconf", "+ping"];

test("a stock replica syncs from redeno as a user allowed only PSYNC, REPLCONF and PING", {
  skip: missing("redis-server"),
}, async () => {
  const m = await redeno({ requirepass: "adminpw" });
  const admin = new Redis({ port: m.port, host: HOST, password: "adminpw" });
  await admin.call("ACL", "SETUSER", "repl", ...REPL_RULES);
  await admin.set("k", "v");
  const r = await stockRedis([
    "--replicaof",
    HOST,
    String(m.port),
    "--masteruser",
    "repl",
    "--masterauth",
    "replpw",
  ]);
  const rc = client(r.port);
  try {
    await waitFor(async () => (await rc.get("k")) === "v", "the stock replica to sync");
    await admin.set("k2", "v2");
    await waitFor(async () => (await rc.get("k2")) === "v2", "the write to reach the replica");
    // The replication user can do nothing else.
    const log = (await admin.call("ACL", "LOG")) as unknown[][];
    assert.deepEqual(log, []);
  } finally {
    rc.disconnect();
    admin.disconnect();
    await r.stop();
    await m.s.close();
  }
});

test("redeno syncs from a stock master with masteruser and masterauth", {
  skip: missing("redis-server"),
}, async () => {
  const master = await stockRedis(["--requirepass", "adminpw"]);
  const mc = new Redis({ port: master.port, host: HOST, password: "adminpw" });
  await mc.call("ACL", "SETUSER", "repl", ...REPL_RULES);
  await mc.set("k", "v");
  const r = await redeno({
    masteruser: "repl",
    masterauth: "replpw",
    replicaof: `${HOST} ${master.port}`,
  });
  try {
    await waitFor(
      () => field(infoText(r.s, "replication"), "master_link_status") === "up",
      "the link to come up",
    );
    assert.equal(r.s.dispatch(["GET", "k"]), "v");
    // A wrong password keeps the link down, with the master's answer in the log.
    await mc.call("ACL", "SETUSER", "repl", "resetpass", ">other");
    await mc.call("CLIENT", "KILL", "TYPE", "replica");
    await waitFor(
      () => field(infoText(r.s, "replication"), "master_link_status") === "down",
      "the link to go down",
    );
  } finally {
    mc.disconnect();
    await r.s.close();
    await master.stop();
  }
});
