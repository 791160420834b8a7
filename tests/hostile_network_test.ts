/**
 * Protected mode (issue 15): with no password for the default user, a connection from anywhere
 * but the loopback interface gets Redis's DENIED text and is closed. The test binds the
 * machine's own non-loopback address (and only it) and connects from it; without such an
 * address it is skipped.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { networkInterfaces } from "node:os";
import { createServer } from "../mod.ts";
import { PROTECTED_MODE_DENIED } from "../core/protected.ts";
import { field, infoText } from "./replication_helpers.ts";

/** The first IPv4 address of this machine that is not loopback. */
function ownAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return undefined;
}

const OWN = ownAddress();

/** Connects from `host` to `host:port`; resolves with all it received once the server closed. */
function talk(
  host: string,
  port: number,
  send: string,
): Promise<{ data: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    let data = "";
    const s = net.connect({ host, port, localAddress: host }, () => s.write(send));
    s.setEncoding("latin1");
    s.on("data", (d: string) => {
      data += d;
      // An answered PING on an open connection: done, the server did not close it.
      if (data.endsWith("+PONG\r\n")) {
        s.destroy();
        resolve({ data, closed: false });
      }
    });
    s.on("close", () => resolve({ data, closed: true }));
    s.on("error", reject);
  });
}

test("protected mode refuses non-loopback clients while the default user has no password", {
  skip: OWN === undefined ? "no non-loopback IPv4 address" : false,
}, async () => {
  const server = createServer();
  const { port } = await server.listen({ port: 0, hostname: OWN! });
  try {
    const r = await talk(OWN!, port, "PING\r\n");
    assert.equal(r.data, PROTECTED_MODE_DENIED);
    assert.ok(r.data.startsWith("-DENIED Redis is running in protected mode"));
    assert.equal(r.closed, true);
    assert.equal(field(infoText(server, "stats"), "rejected_connections"), "1");
    assert.equal(field(infoText(server, "stats"), "total_connections_received"), "0");
  } finally {
    await server.close();
  }
});

test("with a password, or protected-mode no, non-loopback clients are served", {
  skip: OWN === undefined ? "no non-loopback IPv4 address" : false,
}, async () => {
  const configs: Array<Record<string, string>> = [{ requirepass: "pw" }, {
    "protected-mode": "no",
  }];
  for (const config of configs) {
    const server = createServer({ config });
    const { port } = await server.listen({ port: 0, hostname: OWN! });
    try {
      const auth = "requirepass" in config ? "AUTH pw\r\n" : "";
      const r = await talk(OWN!, port, `${auth}PING\r\n`);
      assert.equal(r.data, `${auth ? "+OK\r\n" : ""}+PONG\r\n`);
    } finally {
      await server.close();
    }
  }
});

test("CONFIG SET protected-mode no from the loopback interface lets them in", {
  skip: OWN === undefined ? "no non-loopback IPv4 address" : false,
}, async () => {
  const server = createServer();
  const { port } = await server.listen({ port: 0, hostname: OWN! });
  try {
    assert.equal((await talk(OWN!, port, "PING\r\n")).closed, true);
    server.dispatch(["CONFIG", "SET", "protected-mode", "no"]);
    assert.equal((await talk(OWN!, port, "PING\r\n")).data, "+PONG\r\n");
  } finally {
    await server.close();
  }
});
