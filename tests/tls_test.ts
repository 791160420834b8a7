/**
 * TLS on the runtime running the test: redis-cli, ioredis and node-redis over TLS, the plain and
 * TLS ports side by side, mutual TLS (`tls-auth-clients yes|optional|no`), CONFIG SET of the
 * certificates and of `tls-port`, and the directives' defaults and errors beside redis-server's.
 * Certificates are made with openssl in a temp directory; without openssl the tests are skipped.
 *
 * @module
 */

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { createServer, ErrorReply, type Server, SimpleString } from "../mod.ts";
import { redisCli, startProcess } from "./helpers.ts";
import { missing } from "./redis_tools.ts";
import { freePort, stockRedis, waitFor } from "./replication_helpers.ts";
import {
  type Certs,
  makeCerts,
  peerCommonName,
  tlsCli,
  tlsConfig,
  tlsServer,
} from "./tls_helpers.ts";

const skip = missing("openssl", "redis-cli");
let certs: Certs;
before(() => {
  if (!skip) certs = makeCerts();
});
after(() => certs?.remove());

test(
  "redis-cli --tls PINGs the TLS port while the plain port answers beside it",
  { skip },
  async () => {
    const { server, port, tlsPort } = await tlsServer(certs);
    try {
      assert.notEqual(port, tlsPort);
      assert.equal((await tlsCli(certs, tlsPort, ["PING"])).stdout, "PONG\n");
      assert.equal((await tlsCli(certs, tlsPort, ["SET", "k", "over tls"])).stdout, "OK\n");
      assert.equal((await redisCli(port, ["GET", "k"])).stdout, "over tls\n");
      // Plain text on the TLS port is not a command.
      assert.notEqual((await redisCli(tlsPort, ["PING"])).stdout, "PONG\n");
      assert.equal(server.config.num("tls-port"), tlsPort);
    } finally {
      await server.close();
    }
  },
);

for (const auth of ["yes", "no"]) {
  test(`ioredis and node-redis work over TLS (tls-auth-clients ${auth})`, { skip }, async () => {
    const { server, tlsPort } = await tlsServer(certs, { "tls-auth-clients": auth });
    const ca = readFileSync(certs.ca);
    const tlsOptions = auth === "no"
      ? { ca }
      : { ca, cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) };
    const io = new Redis({
      host: "127.0.0.1",
      port: tlsPort,
      tls: tlsOptions,
      maxRetriesPerRequest: 0,
    });
    const nr = createClient({
      socket: { host: "127.0.0.1", port: tlsPort, tls: true, ...tlsOptions },
    });
    try {
      await nr.connect();
      assert.equal(await io.set("a", "1"), "OK");
      assert.equal(await nr.get("a"), "1");
      // A big value crosses many TLS records both ways.
      const big = "x".repeat(3 * 1024 * 1024);
      await nr.set("big", big);
      assert.equal(await io.get("big"), big);
      const pipe = io.pipeline();
      for (let i = 0; i < 1000; i++) pipe.incr("n");
      const replies = await pipe.exec();
      assert.deepEqual(replies!.at(-1), [null, 1000]);
      // Pub/sub pushes go out of band, on the same transport.
      const sub = nr.duplicate();
      await sub.connect();
      const got = new Promise<string>((done) => void sub.subscribe("ch", (m) => done(m)));
      await waitFor(async () => (await io.publish("ch", "hi")) === 1, "the subscription");
      assert.equal(await got, "hi");
      await sub.quit();
    } finally {
      io.disconnect();
      await nr.quit();
      await server.close();
    }
  });
}

test(
  "tls-auth-clients yes refuses a client without a certificate or with another CA's",
  { skip },
  async () => {
    const { server, tlsPort } = await tlsServer(certs);
    try {
      assert.equal((await tlsCli(certs, tlsPort, ["PING"], "client")).stdout, "PONG\n");
      assert.equal((await tlsCli(certs, tlsPort, ["PING"], "none")).stdout, "");
      assert.equal((await tlsCli(certs, tlsPort, ["PING"], "other")).stdout, "");
      // ioredis without a certificate never gets a reply.
      const io = new Redis({
        host: "127.0.0.1",
        port: tlsPort,
        tls: { ca: readFileSync(certs.ca) },
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      io.on("error", () => {});
      await assert.rejects(io.ping());
      io.disconnect();
      assert.equal(server.clients.size, 0);
    } finally {
      await server.close();
    }
  },
);

for (const auth of ["yes", "no"]) {
  test(
    `a failed handshake leaves the TLS port serving (tls-auth-clients ${auth})`,
    { skip },
    async () => {
      const { server, tlsPort } = await tlsServer(certs, { "tls-auth-clients": auth });
      try {
        // Plain text, and a client that trusts another CA: neither becomes a client.
        assert.notEqual((await redisCli(tlsPort, ["PING"])).stdout, "PONG\n");
        const wrongCa = await tlsCliWithCa(certs.otherCert, tlsPort);
        assert.match(wrongCa.stderr, /certificate verify failed|Could not negotiate/);
        assert.equal((await tlsCli(certs, tlsPort, ["PING"])).stdout, "PONG\n");
        assert.equal(server.clients.size, 0);
      } finally {
        await server.close();
      }
    },
  );
}

test("tls-auth-clients optional takes no certificate but refuses a bad one; no asks for none", {
  skip,
}, async () => {
  const { server, tlsPort } = await tlsServer(certs, { "tls-auth-clients": "optional" });
  try {
    assert.equal((await tlsCli(certs, tlsPort, ["PING"], "none")).stdout, "PONG\n");
    assert.equal((await tlsCli(certs, tlsPort, ["PING"], "client")).stdout, "PONG\n");
    assert.equal((await tlsCli(certs, tlsPort, ["PING"], "other")).stdout, "");
    // Read for each new connection, as Redis.
    assert.equal(configSet(server, "tls-auth-clients", "yes"), "OK");
    assert.equal((await tlsCli(certs, tlsPort, ["PING"], "none")).stdout, "");
    // On Deno `no` is served by Deno.listenTls: the port is reopened in place, just after.
    assert.equal(configSet(server, "tls-auth-clients", "no"), "OK");
    await waitFor(
      async () => (await tlsCli(certs, tlsPort, ["PING"], "none")).stdout === "PONG\n",
      "a client without a certificate to be served",
    );
    assert.equal(configSet(server, "tls-auth-clients", "yes"), "OK");
    await waitFor(async () => {
      const r = await tlsCli(certs, tlsPort, ["PING"], "none");
      return r.stdout === "" && !r.stderr.includes("Connection refused");
    }, "a client without a certificate to be refused");
    assert.equal((await tlsCli(certs, tlsPort, ["PING"], "client")).stdout, "PONG\n");
  } finally {
    await server.close();
  }
});

for (const auth of ["yes", "no"]) {
  test(`CONFIG SET of the certificate serves new connections with it (tls-auth-clients ${auth})`, {
    skip,
  }, async () => {
    const { server, tlsPort } = await tlsServer(certs, { "tls-auth-clients": auth });
    try {
      const io = new Redis({
        host: "127.0.0.1",
        port: tlsPort,
        tls: {
          ca: readFileSync(certs.ca),
          cert: readFileSync(certs.clientCert),
          key: readFileSync(certs.clientKey),
        },
      });
      assert.equal(await io.ping(), "PONG");
      assert.equal(await peerCommonName(certs, tlsPort), "Server-only");
      const set = ["tls-cert-file", certs.server2Cert, "tls-key-file", certs.server2Key];
      assert.equal(configSet(server, ...set), "OK");
      // Node swaps the context in place; Deno.listenTls (Deno, `no`) is reopened just after.
      await waitFor(async () => {
        try {
          return await peerCommonName(certs, tlsPort) === "Server-two";
        } catch {
          return false;
        }
      }, "the new certificate");
      // The connection made before goes on.
      assert.equal(await io.ping(), "PONG");
      io.disconnect();
    } finally {
      await server.close();
    }
  });
}

test("a TLS setting that does not load is refused with Redis's error and changes nothing", {
  skip: skip || missing("redis-server"),
}, async () => {
  const stock = await stockRedis([
    "--tls-port",
    String(await freePort()),
    ...flags(tlsConfig(certs)),
  ]);
  const { server, port, tlsPort } = await tlsServer(certs);
  try {
    const cases = [
      ["tls-key-file", certs.server2Key],
      ["tls-cert-file", `${certs.dir}/absent.crt`],
      ["tls-protocols", "TLSv1.2 SSLv3"],
      ["tls-ciphers", "NO-SUCH-CIPHER"],
      ["tls-ca-cert-file", certs.serverKey],
    ];
    for (const [name, value] of cases) {
      const ours = await redisCli(port, ["CONFIG", "SET", name!, value!]);
      const theirs = await redisCli(stock.port, ["CONFIG", "SET", name!, value!]);
      if (name === "tls-ciphers" && (globalThis as { Deno?: unknown }).Deno !== undefined) {
        // Deno's TLS does not take cipher lists (README, Known limits): nothing to refuse.
        assert.equal(configSet(server, name, ""), "OK");
        continue;
      }
      assert.equal(ours.stdout, theirs.stdout, name);
      assert.match(ours.stdout, /Unable to update TLS configuration/);
    }
    assert.equal(server.config.str("tls-key-file"), certs.serverKey);
    assert.equal((await tlsCli(certs, tlsPort, ["PING"])).stdout, "PONG\n");
  } finally {
    await server.close();
    await stock.stop();
  }
});

test("CONFIG GET tls-* gives redis-server's defaults", {
  skip: missing("redis-server", "redis-cli"),
}, async () => {
  const stock = await stockRedis();
  const server = createServer();
  const { port } = await server.listen({ port: 0, hostname: "127.0.0.1" });
  try {
    const get = async (p: number) => {
      const lines = (await redisCli(p, ["CONFIG", "GET", "tls-*"])).stdout.split("\n");
      return new Map(lines.flatMap((v, i) => (i % 2 === 0 && v !== "" ? [[v, lines[i + 1]]] : [])));
    };
    const theirs = await get(stock.port);
    assert.ok(theirs.size >= 19);
    assert.deepEqual(await get(port), theirs);
  } finally {
    await server.close();
    await stock.stop();
  }
});

test("an encrypted key loads with tls-key-file-pass", { skip }, async () => {
  const { server, tlsPort } = await tlsServer(certs, {
    "tls-key-file": certs.serverKeyEncrypted,
    "tls-key-file-pass": "secret",
  });
  try {
    assert.equal((await tlsCli(certs, tlsPort, ["PING"])).stdout, "PONG\n");
    assert.match(
      configSet(server, "tls-key-file-pass", "wrong"),
      /Unable to update TLS configuration/,
    );
  } finally {
    await server.close();
  }
  const bad = createServer({
    config: tlsConfig(certs, { "tls-key-file": certs.serverKeyEncrypted }),
  });
  await assert.rejects(
    bad.listen({ port: 0, hostname: "127.0.0.1", tlsPort: 0 }),
    /Failed to configure TLS/,
  );
  await bad.close();
});

for (const auth of ["yes", "no"]) {
  test(`an X.509 v1 certificate serves (tls-auth-clients ${auth})`, { skip }, async () => {
    const v1Key = certs.v1Cert.replace(/\.crt$/, ".key");
    const { server, tlsPort } = await tlsServer(certs, {
      "tls-cert-file": certs.v1Cert,
      "tls-key-file": v1Key,
      "tls-auth-clients": auth,
    });
    try {
      assert.equal((await tlsCli(certs, tlsPort, ["PING"])).stdout, "PONG\n");
    } finally {
      await server.close();
    }
  });
}

test(
  "tls-ca-cert-dir gives the authorities client certificates are checked against",
  { skip },
  async () => {
    const caDir = join(certs.dir, "cadir");
    mkdirSync(caDir);
    copyFileSync(certs.ca, join(caDir, "ca.pem"));
    const { server, tlsPort } = await tlsServer(certs, {
      "tls-ca-cert-file": "",
      "tls-ca-cert-dir": caDir,
    });
    try {
      assert.equal((await tlsCli(certs, tlsPort, ["PING"], "client")).stdout, "PONG\n");
      assert.equal((await tlsCli(certs, tlsPort, ["PING"], "other")).stdout, "");
      // Neither a file nor a directory of authorities: mutual TLS cannot be configured.
      assert.match(configSet(server, "tls-ca-cert-dir", ""), /Unable to update TLS configuration/);
    } finally {
      await server.close();
    }
  },
);

test("with port 0 only TLS listens; CONFIG SET tls-port moves it", { skip }, async () => {
  const server = createServer({ config: tlsConfig(certs, { port: "0" }) });
  const first = await freePort();
  const a = await server.listen({ hostname: "127.0.0.1", tlsPort: first });
  try {
    assert.equal(a.port, 0);
    assert.equal(a.tlsPort, first);
    assert.match(
      (await tlsCli(certs, first, ["INFO", "server"])).stdout,
      new RegExp(`tcp_port:${first}\r`),
    );
    assert.equal((await tlsCli(certs, first, ["PING"])).stdout, "PONG\n");
    const next = await freePort();
    assert.equal(configSet(server, "tls-port", String(next)), "OK");
    await waitFor(
      async () => (await tlsCli(certs, next, ["PING"])).stdout === "PONG\n",
      "the new TLS port",
    );
    assert.match((await tlsCli(certs, first, ["PING"])).stderr, /Connection refused/);
  } finally {
    await server.close();
  }
});

test(
  "CONFIG SET moves a port between TCP and TLS, as Redis's tls unit does",
  { skip },
  async () => {
    const { server, port, tlsPort } = await tlsServer(certs);
    const io = (p: number, tls: boolean) =>
      new Redis({
        host: "127.0.0.1",
        port: p,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        ...(tls
          ? {
            tls: {
              ca: readFileSync(certs.ca),
              cert: readFileSync(certs.clientCert),
              key: readFileSync(certs.clientKey),
            },
          }
          : {}),
      });
    try {
      // One connection moves both ports, as the Tcl test does.
      let c = io(tlsPort, true);
      await c.config("SET", "tls-port", "0");
      await c.config("SET", "port", String(tlsPort));
      c.disconnect();
      await waitFor(
        async () => (await redisCli(tlsPort, ["PING"])).stdout === "PONG\n",
        "TCP there",
      );
      assert.match((await redisCli(port, ["PING"])).stderr, /Connection refused/);
      c = io(tlsPort, false);
      await c.config("SET", "port", "0");
      await c.config("SET", "tls-port", String(tlsPort));
      c.disconnect();
      await waitFor(
        async () => (await tlsCli(certs, tlsPort, ["PING"])).stdout === "PONG\n",
        "TLS",
      );
      assert.match(
        (await tlsCli(certs, tlsPort, ["INFO", "server"])).stdout,
        new RegExp(`tcp_port:${tlsPort}\r`),
      );
    } finally {
      await server.close();
    }
  },
);

test(
  "main.ts with port 0 serves TLS only, from a config file, and refuses to start without a key",
  {
    skip,
  },
  async () => {
    const tlsPort = await freePort();
    const conf = join(certs.dir, "redis.conf");
    const directives = { ...tlsConfig(certs), port: "0", "tls-port": String(tlsPort), save: '""' };
    writeFileSync(conf, Object.entries(directives).map(([k, v]) => `${k} ${v}`).join("\n") + "\n");
    const main = await startProcess("node_modules/.bin/tsx", ["main.ts", conf], "Ready to accept");
    try {
      assert.match(main.output(), /Ready to accept connections tls/);
      assert.doesNotMatch(main.output(), /Ready to accept connections tcp/);
      assert.equal((await tlsCli(certs, tlsPort, ["PING"])).stdout, "PONG\n");
      await tlsCli(certs, tlsPort, ["SHUTDOWN", "NOSAVE"]);
    } finally {
      await main.kill("SIGKILL");
    }
    const bad = spawnSync("node_modules/.bin/tsx", [
      ...["main.ts", "--port", "0", "--tls-port", String(tlsPort)],
      ...["--tls-cert-file", certs.serverCert, "--tls-ca-cert-file", certs.ca],
    ], { encoding: "utf8" });
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /No tls-key-file configured!/);
    assert.match(bad.stdout, /# Failed to configure TLS. Check logs for more info.\n/);
  },
);

/** CONFIG SET on `server`: "OK" or the error's text. */
function configSet(server: Server, ...args: string[]): string {
  const r: unknown = server.dispatch(["CONFIG", "SET", ...args]);
  if (r instanceof SimpleString) return r.value;
  assert.ok(r instanceof ErrorReply, String(r));
  return r.message;
}

/** redis-cli --tls trusting only `ca` (no client certificate). */
function tlsCliWithCa(ca: string, port: number) {
  return new Promise<{ stdout: string; stderr: string }>((resolve) => {
    const p = spawn("redis-cli", ["--tls", "--cacert", ca, "-p", String(port), "PING"]);
    let stdout = "";
    let stderr = "";
    p.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    p.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    p.on("close", () => resolve({ stdout, stderr }));
  });
}

function flags(config: Record<string, string>): string[] {
  return Object.entries(config).flatMap(([k, v]) => [`--${k}`, v]);
}
