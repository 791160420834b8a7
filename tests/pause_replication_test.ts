/**
 * CLIENT PAUSE and replication: a paused replica reads its master's stream without applying it;
 * a paused master sends no GETACK for WAIT (the replication offset holds still) until the pause
 * ends.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { RawConn } from "./helpers.ts";
import { replyEnd } from "./redis_compare.ts";
import { field, HOST, infoText, redeno, waitFor } from "./replication_helpers.ts";

test("a paused replica reads its master's stream without applying it, then catches up", async () => {
  const m = await redeno();
  const r = await redeno();
  try {
    r.s.dispatch(["REPLICAOF", HOST, String(m.port)]);
    await waitFor(() => field(infoText(r.s, "replication"), "master_link_status") === "up", "link");
    m.s.dispatch(["SET", "foo", "bar"]);
    const offset = () => field(infoText(m.s, "replication"), "master_repl_offset");
    await waitFor(
      () => field(infoText(r.s, "replication"), "slave_repl_offset") === offset(),
      "the replica to apply",
    );
    const applied = field(infoText(r.s, "replication"), "slave_repl_offset");
    r.s.dispatch(["CLIENT", "PAUSE", "100000", "WRITE"]);
    m.s.dispatch(["SET", "foo2", "bar2"]);
    await waitFor(
      () => field(infoText(r.s, "replication"), "slave_read_repl_offset") === offset(),
      "the replica to read",
    );
    assert.equal(field(infoText(r.s, "replication"), "slave_repl_offset"), applied);
    assert.equal(r.s.dispatch(["GET", "foo2"]), null);
    r.s.dispatch(["CLIENT", "UNPAUSE"]);
    await waitFor(
      () => field(infoText(r.s, "replication"), "slave_repl_offset") === offset(),
      "the replica to catch up",
    );
    assert.equal(r.s.dispatch(["GET", "foo2"]), "bar2");
  } finally {
    await r.s.close();
    await m.s.close();
  }
});

test("a paused master sends WAIT's GETACK only once the pause ends", async () => {
  const m = await redeno();
  const r = await redeno();
  try {
    r.s.dispatch(["REPLICAOF", HOST, String(m.port)]);
    await waitFor(() => field(infoText(m.s, "replication"), "connected_slaves") === "1", "link");
    const offset = () => field(infoText(m.s, "replication"), "master_repl_offset");
    const c = await RawConn.connect(m.port);
    c.command("SET", "k", "v");
    await waitFor(() => c.pending === "+OK\r\n", "SET");
    await c.read(5);
    m.s.dispatch(["CLIENT", "PAUSE", "100000", "WRITE"]);
    const before = offset();
    // WAIT is no write: it runs and blocks, but asks no replica for an ACK while paused.
    c.command("WAIT", "1", "0");
    await waitFor(() => m.s.blocking.count === 1, "WAIT to block");
    // A later PING on another connection, then its reply: the GETACK had its turn by then.
    const d = await RawConn.connect(m.port);
    d.command("PING");
    await d.read(7);
    d.close();
    assert.equal(offset(), before);
    m.s.dispatch(["CLIENT", "UNPAUSE"]);
    await waitFor(() => replyEnd(c.pending, 0) > 0, "WAIT to answer");
    assert.equal(await c.read(4), ":1\r\n");
    assert.notEqual(offset(), before);
    c.close();
  } finally {
    await r.s.close();
    await m.s.close();
  }
});
