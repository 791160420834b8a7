/**
 * CONFIG SET port and bind with real sockets, as Redis 7.0 does them: a port or an address that
 * cannot be bound is refused and the old values stay (the old listener keeps accepting); a new
 * port moves the listener (the old one closes, its clients stay connected). The same exchange
 * runs against redis-server when it is installed and must read the same.
 *
 * @module
 */

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { RawConn, startServer } from "./helpers.ts";
import { freePort, HOST, stockRedis } from "./replication_helpers.ts";
import { missing } from "./redis_tools.ts";
import { type Certs, makeCerts, tlsCli, tlsServer } from "./tls_helpers.ts";

/** A port held by a listener that is not the server's. */
async function holdPort(): Promise<{ port: number; release(): Promise<void> }> {
  const srv = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => srv.listen(0, HOST, r));
  const port = (srv.address() as net.AddressInfo).port;
  return { port, release: () => new Promise((r) => srv.close(() => r())) };
}

function bulk(s: string): string {
  return `$${s.length}\r\n${s}\r\n`;
}

/** PING on a new connection to `port`. */
async function pingNew(port: number): Promise<string> {
  const c = await RawConn.connect(port);
  try {
    c.command("PING");
    return await c.expect("+PONG\r\n");
  } finally {
    c.close();
  }
}

const PORT_FAILED =
  "-ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs.\r\n";
const BIND_FAILED =
  "-ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to specified addresses.\r\n";

/**
 * The exchange on a server listening on `port` at 127.0.0.1: refused port, refused address,
 * then a move to a free port. Returns what the first connection read, in order.
 */
async function exchange(port: number): Promise<string[]> {
  const busy = await holdPort();
  const c = await RawConn.connect(port);
  const seen: string[] = [];
  try {
    // Pipelined: the commands behind the CONFIG SET see the old value.
    c.command("CONFIG", "SET", "port", String(busy.port));
    c.command("CONFIG", "GET", "port");
    c.command("PING");
    seen.push(await c.expect(PORT_FAILED));
    seen.push(await c.expect(`*2\r\n${bulk("port")}${bulk(String(port))}`));
    seen.push(await c.expect("+PONG\r\n"));
    assert.equal(await pingNew(port), "+PONG\r\n", "the old listener keeps accepting");

    c.command("CONFIG", "SET", "bind", "999.999.999.999");
    c.command("CONFIG", "GET", "bind");
    seen.push(await c.expect(BIND_FAILED));
    seen.push(await c.expect(`*2\r\n${bulk("bind")}${bulk(HOST)}`));
    assert.equal(await pingNew(port), "+PONG\r\n", "bound to the old address again");

    // An optional address that cannot be bound is left out, as Redis leaves it.
    c.command("CONFIG", "SET", "bind", `${HOST} -10.255.255.254`);
    seen.push(await c.expect("+OK\r\n"));
    assert.equal(await pingNew(port), "+PONG\r\n");

    const next = await freePort();
    c.command("CONFIG", "SET", "port", String(next));
    c.command("PING");
    seen.push(await c.expect("+OK\r\n+PONG\r\n"));
    assert.equal(await pingNew(next), "+PONG\r\n", "the new port accepts at once");
    await assert.rejects(RawConn.connect(port), /ECONNREFUSED/, "the old port is closed");
    c.command("CONFIG", "GET", "port");
    seen.push(await c.expect(`*2\r\n${bulk("port")}${bulk(String(next))}`));
    assert.equal(c.pending, "");
    return seen;
  } finally {
    c.close();
    await busy.release();
  }
}

test("CONFIG SET port and bind: refused with the old values kept, or moved", async () => {
  const { port, close } = await startServer();
  try {
    const seen = await exchange(port);
    assert.equal(seen.length, 8);
  } finally {
    await close();
  }
});

test("CONFIG SET port and bind read the same as redis-server", {
  skip: missing("redis-server"),
}, async () => {
  const redis = await stockRedis();
  const ours = await startServer();
  try {
    // The port numbers differ: each transcript names its own server's first port.
    const theirs = (await exchange(redis.port)).map((s) => s.replaceAll(String(redis.port), "P"));
    const mine = (await exchange(ours.port)).map((s) => s.replaceAll(String(ours.port), "P"));
    assert.deepEqual(mine.slice(0, 7), theirs.slice(0, 7));
  } finally {
    await ours.close();
    await redis.stop();
  }
});

test("CONFIG SET bind and port together: a refused address restores both", async () => {
  const { port, close } = await startServer();
  const c = await RawConn.connect(port);
  try {
    const next = await freePort();
    c.command("CONFIG", "SET", "port", String(next), "bind", "999.999.999.999");
    await c.expect(BIND_FAILED);
    c.command("CONFIG", "GET", "port");
    await c.expect(`*2\r\n${bulk("port")}${bulk(String(port))}`);
    assert.equal(await pingNew(port), "+PONG\r\n");
    await assert.rejects(RawConn.connect(next), /ECONNREFUSED/);
  } finally {
    c.close();
    await close();
  }
});

const tlsSkip = missing("openssl", "redis-cli");
let certs: Certs | undefined;
before(() => {
  if (!tlsSkip) certs = makeCerts();
});
after(() => certs?.remove());

test("CONFIG SET tls-port to a busy port is refused and TLS keeps its port", {
  skip: tlsSkip,
}, async () => {
  const { server, port, tlsPort } = await tlsServer(certs!);
  const busy = await holdPort();
  const c = await RawConn.connect(port);
  try {
    c.command("CONFIG", "SET", "tls-port", String(busy.port));
    c.command("CONFIG", "GET", "tls-port");
    const refused = PORT_FAILED.replace("'port'", "'tls-port'");
    assert.equal(await c.expect(refused), refused);
    const value = `*2\r\n${bulk("tls-port")}${bulk(String(tlsPort))}`;
    assert.equal(await c.expect(value), value);
    assert.equal((await tlsCli(certs!, tlsPort, ["PING"])).stdout, "PONG\n");
  } finally {
    c.close();
    await busy.release();
    await server.close();
  }
});
