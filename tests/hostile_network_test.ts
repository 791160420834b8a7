/**
 * Protected mode and rename-command (issue 15). With no password for the default user, a
 * connection from anywhere but the loopback interface gets Redis's DENIED text and is closed:
 * the tests bind the machine's own non-loopback address (and only it) and connect from it;
 * without such an address they are skipped. `rename-command` in a config file starts main.ts.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "../mod.ts";
import { PROTECTED_MODE_DENIED } from "../core/protected.ts";
import { redisCli } from "./helpers.ts";
import { field, freePort, infoText, waitFor } from "./replication_helpers.ts";
import { missing } from "./redis_tools.ts";

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

test("rename-command in the config file hides CONFIG and disables FLUSHALL, as redis-server", {
  skip: missing("redis-cli"),
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "redeno-rename-"));
  const port = await freePort();
  const conf = join(dir, "redis.conf");
  writeFileSync(
    conf,
    `port ${port}\nbind 127.0.0.1\nsave ""\nrename-command CONFIG xyz\nrename-command FLUSHALL ""\n`,
  );
  const child = spawn("node_modules/.bin/tsx", ["main.ts", conf], { stdio: "pipe" });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  const exited = new Promise<number>((r) => child.on("close", (code) => r(code ?? -1)));
  try {
    // tsx compiles the whole server on a cold start, then the heap launcher starts it again: slow
    // on a loaded machine.
    await waitFor(() => out.includes("Ready to accept connections"), "main.ts to start", 60000);
    const cli = async (...args: string[]) => (await redisCli(port, args)).stdout.trim();
    assert.match(await cli("CONFIG", "GET", "port"), /^ERR unknown command 'CONFIG'/);
    assert.equal(await cli("XYZ", "GET", "port"), `port\n${port}`);
    assert.match(await cli("FLUSHALL"), /^ERR unknown command 'FLUSHALL'/);
    // Only the lookup name changes: COMMAND INFO of the new name shows the original.
    assert.match(await cli("COMMAND", "INFO", "xyz"), /^config\n-2\n/);
    await cli("SHUTDOWN", "NOSAVE");
    assert.equal(await exited, 0);
  } finally {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});
