/**
 * Replication over TLS with a stock redis-server 7.0.15 both ways, mutual TLS on both sides: a
 * redis-server replica with `tls-replication yes` follows a redeno master through its TLS port,
 * and a redeno replica with `tls-replication yes` follows a redis-server master through its TLS
 * port. Skipped without openssl or redis-server.
 *
 * @module
 */

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Redis } from "ioredis";
import { SimpleString } from "../mod.ts";
import { missing } from "./redis_tools.ts";
import {
  client,
  dataset,
  field,
  freePort,
  HOST,
  infoText,
  remoteInfo,
  stockRedis,
  waitFor,
} from "./replication_helpers.ts";
import { type Certs, makeCerts, tlsCli, tlsConfig, tlsServer } from "./tls_helpers.ts";

const skip = missing("openssl", "redis-server", "redis-cli");
let certs: Certs;
before(() => {
  if (!skip) certs = makeCerts();
});
after(() => certs?.remove());

/** Writes of several types, one value big enough to span many TLS records. */
async function writeSome(c: Redis, tag: string): Promise<void> {
  await c.set(`${tag}:s`, "v");
  await c.hset(`${tag}:h`, "f1", "1", "f2", "2");
  await c.rpush(`${tag}:l`, "a", "b", "c");
  await c.zadd(`${tag}:z`, 1, "one", 2, "two");
  await c.set(`${tag}:big`, "x".repeat(1 << 20));
  for (let i = 0; i < 200; i++) await c.incr(`${tag}:n`);
}

function flags(config: Record<string, string>): string[] {
  return Object.entries(config).flatMap(([k, v]) => [`--${k}`, v]);
}

test("a stock redis-server replica follows a redeno master over TLS", { skip }, async () => {
  const m = await tlsServer(certs);
  const mc = client(m.port);
  await writeSome(mc, "before");
  const replicaTls = await freePort();
  const redis = await stockRedis([
    ...flags(tlsConfig(certs)),
    ...["--tls-port", String(replicaTls), "--tls-replication", "yes"],
    ...["--replicaof", HOST, String(m.tlsPort)],
  ]);
  try {
    await waitFor(
      async () => field(await remoteInfo(redis.port, "replication"), "master_link_status") === "up",
      "redis-server to sync over TLS",
    );
    await writeSome(mc, "after");
    assert.equal(await mc.call("WAIT", "1", "5000"), 1);
    assert.deepEqual(await dataset(redis.port), await dataset(m.port));
    // The replica announced its TLS port, as Redis does with tls-replication.
    assert.match(
      infoText(m.server, "replication"),
      new RegExp(`slave0:ip=${HOST},port=${replicaTls},`),
    );
    // It came in through the TLS port: the only connection there is the replica's.
    const list = String((await mc.call("CLIENT", "LIST", "TYPE", "replica")) as string);
    assert.match(list, new RegExp(`laddr=${HOST}:${m.tlsPort} `));
    assert.equal((await tlsCli(certs, replicaTls, ["GET", "after:s"])).stdout, "v\n");
  } finally {
    mc.disconnect();
    await redis.stop();
    await m.server.close();
  }
});

test("a redeno replica follows a stock redis-server master over TLS", { skip }, async () => {
  const masterTls = await freePort();
  const master = await stockRedis([...flags(tlsConfig(certs)), "--tls-port", String(masterTls)]);
  const mc = client(master.port);
  await writeSome(mc, "before");
  const r = await tlsServer(certs, { "tls-replication": "yes", replicaof: `${HOST} ${masterTls}` });
  try {
    await waitFor(
      () => field(infoText(r.server, "replication"), "master_link_status") === "up",
      "redeno to sync over TLS",
    );
    await writeSome(mc, "after");
    assert.equal(await mc.call("WAIT", "1", "5000"), 1);
    assert.deepEqual(await dataset(r.port), await dataset(master.port));
    const mi = await remoteInfo(master.port, "replication");
    assert.match(mi, new RegExp(`slave0:ip=${HOST},port=${r.tlsPort},state=online`));
    // The link is TLS: the master counts it among the clients of its TLS port.
    const list = String(await mc.call("CLIENT", "LIST", "TYPE", "replica"));
    assert.match(list, new RegExp(`laddr=${HOST}:${masterTls} `));
  } finally {
    mc.disconnect();
    await r.server.close();
    await master.stop();
  }
});

test("a replica presents tls-client-cert-file to its master when set", { skip }, async () => {
  const masterTls = await freePort();
  const master = await stockRedis([...flags(tlsConfig(certs)), "--tls-port", String(masterTls)]);
  // Its own certificate is one the master does not trust: only the client one gets it in.
  const r = await tlsServer(certs, {
    "tls-cert-file": certs.otherCert,
    "tls-key-file": certs.otherKey,
    "tls-client-cert-file": certs.clientCert,
    "tls-client-key-file": certs.clientKey,
    "tls-replication": "yes",
    replicaof: `${HOST} ${masterTls}`,
  });
  try {
    await waitFor(
      () => field(infoText(r.server, "replication"), "master_link_status") === "up",
      "redeno to sync with its client certificate",
    );
  } finally {
    await r.server.close();
    await master.stop();
  }
});

test("CONFIG SET tls-replication yes takes a replica's link to TLS", { skip }, async () => {
  const masterTls = await freePort();
  const master = await stockRedis([...flags(tlsConfig(certs)), "--tls-port", String(masterTls)]);
  const r = await tlsServer(certs, { replicaof: `${HOST} ${masterTls}` });
  try {
    // Plain bytes to a TLS port: the link cannot come up until the replica speaks TLS.
    assert.ok(
      r.server.dispatch(["CONFIG", "SET", "tls-replication", "yes"]) instanceof SimpleString,
    );
    await waitFor(
      () => field(infoText(r.server, "replication"), "master_link_status") === "up",
      "redeno to sync once tls-replication is on",
      20000,
    );
  } finally {
    await r.server.close();
    await master.stop();
  }
});
