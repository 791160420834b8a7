/**
 * A master hands a write to its replicas' sockets before the client can see the write's reply,
 * as redis-server does (it writes to replicas before clients in one beforeSleep). Otherwise a
 * master killed between the two loses a write its client saw succeed; under sentinel, the
 * client's next `WAIT`, resent to the promoted replica, then even counts it as replicated.
 *
 * The master runs as its own process. A raw replica (PSYNC on a socket) records the stream; a
 * client sends INCR and stops the master (SIGSTOP) the moment the reply arrives: whatever the
 * master had not written by then never reaches the replica while it is stopped.
 *
 * @module
 */

import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import process from "node:process";
import { HOST } from "./replication_helpers.ts";
import { missing } from "./redis_tools.ts";
import { type Proc, startNode, stopAll } from "./sentinel_helpers.ts";

after(stopAll);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, HOST, () => resolve(s));
    s.once("error", reject);
  });
}

/** How many of `rounds` INCR replies the client saw before the replica had the INCR. */
async function repliesBeforeStream(node: Proc, rounds: number): Promise<number> {
  const replica = await connect(node.port);
  const client = await connect(node.port);
  let stream = "";
  replica.setEncoding("latin1").on("data", (d: string) => (stream += d));
  // Each reply is one line; the master is stopped as the `stopAt`th arrives.
  let replies = 0;
  let stopAt = 0;
  client.setEncoding("latin1").on("data", (d: string) => {
    replies += d.split("\r\n").length - 1;
    if (replies === stopAt) node.signal("SIGSTOP");
  });
  const until = async (cond: () => boolean, what: string) => {
    for (let i = 0; i < 500 && !cond(); i++) await sleep(10);
    assert.ok(cond(), what);
  };
  try {
    replica.write("REPLCONF listening-port 1\r\n");
    // redis-server refuses a PSYNC that arrives while a reply is pending.
    await until(() => stream.includes("+OK"), "REPLCONF answered");
    replica.write("PSYNC ? -1\r\n");
    client.write("SET synced 1\r\n");
    await until(() => stream.includes("synced") && replies === 1, "the raw replica's stream");
    let early = 0;
    for (let i = 0; i < rounds; i++) {
      const key = `order:${i}:end`;
      stopAt = replies + 1;
      client.write(`INCR ${key}\r\n`);
      await until(() => replies === stopAt, "the reply");
      // Bytes the master wrote before it stopped reach the replica's socket meanwhile.
      await sleep(20);
      if (!stream.includes(key)) early++;
      node.signal("SIGCONT");
    }
    return early;
  } finally {
    node.signal("SIGCONT");
    replica.destroy();
    client.destroy();
  }
}

for (const kind of ["redeno", "redis"] as const) {
  test(`${kind}: no client sees a write's reply before the replicas' sockets got the write`, {
    skip: process.platform !== "linux"
      ? "needs SIGSTOP"
      : kind === "redis" && missing("redis-server"),
  }, async () => {
    const node = await startNode(kind);
    try {
      assert.equal(await repliesBeforeStream(node, 100), 0);
    } finally {
      await node.kill();
    }
  });
}
