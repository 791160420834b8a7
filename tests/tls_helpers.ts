/**
 * Helpers of the TLS tests: certificates made with openssl in a temp directory (a CA, a server
 * certificate for 127.0.0.1 and localhost, a second one to reload, a client certificate, and a
 * certificate of another CA), servers listening with TLS, and redis-cli over TLS.
 *
 * @module
 */

import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as tls from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "../mod.ts";
import { replication } from "../replication/mod.ts";

/** Paths of the generated files. */
export interface Certs {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  /** A second server certificate of the same CA (CN Server-two), to reload. */
  server2Cert: string;
  server2Key: string;
  /** The server key encrypted with the passphrase `secret`. */
  serverKeyEncrypted: string;
  clientCert: string;
  clientKey: string;
  /** An X.509 v1 certificate of the CA, without extensions (Redis's tests' `redis.crt`). */
  v1Cert: string;
  /** A self-signed certificate no configured CA signed. */
  otherCert: string;
  otherKey: string;
  remove(): void;
}

function openssl(args: string[]): void {
  execFileSync("openssl", args, { stdio: "ignore" });
}

/** Makes a CA and certificates signed by it (RSA 2048, as Redis's gen-test-certs.sh). */
export function makeCerts(): Certs {
  const dir = mkdtempSync(join(tmpdir(), "redeno-tls-"));
  const p = (name: string) => join(dir, name);
  openssl(["genrsa", "-out", p("ca.key"), "2048"]);
  openssl([
    ...["req", "-x509", "-new", "-nodes", "-sha256", "-days", "30", "-key", p("ca.key")],
    ...["-subj", "/O=redeno test/CN=Certificate Authority", "-out", p("ca.crt")],
  ]);
  const sign = (name: string, cn: string, ext: string | undefined) => {
    openssl(["genrsa", "-out", p(`${name}.key`), "2048"]);
    openssl([
      "req",
      "-new",
      "-key",
      p(`${name}.key`),
      "-subj",
      `/O=redeno test/CN=${cn}`,
      "-out",
      p(`${name}.csr`),
    ]);
    if (ext !== undefined) writeFileSync(p(`${name}.ext`), ext);
    openssl([
      ...["x509", "-req", "-sha256", "-days", "30", "-in", p(`${name}.csr`)],
      ...["-CA", p("ca.crt"), "-CAkey", p("ca.key"), "-CAcreateserial"],
      ...(ext !== undefined ? ["-extfile", p(`${name}.ext`)] : []),
      ...["-out", p(`${name}.crt`)],
    ]);
  };
  const serverExt = "keyUsage=digitalSignature,keyEncipherment\n" +
    "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
  sign("server", "Server-only", serverExt);
  sign("server2", "Server-two", serverExt);
  sign(
    "client",
    "Client-only",
    "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n",
  );
  sign("v1", "Generic-cert", undefined);
  openssl([
    ...["pkey", "-in", p("server.key"), "-aes256", "-passout", "pass:secret"],
    ...["-out", p("server-enc.key")],
  ]);
  openssl([
    ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=other"],
    ...["-keyout", p("other.key"), "-out", p("other.crt")],
  ]);
  return {
    dir,
    ca: p("ca.crt"),
    serverCert: p("server.crt"),
    serverKey: p("server.key"),
    server2Cert: p("server2.crt"),
    server2Key: p("server2.key"),
    serverKeyEncrypted: p("server-enc.key"),
    clientCert: p("client.crt"),
    clientKey: p("client.key"),
    v1Cert: p("v1.crt"),
    otherCert: p("other.crt"),
    otherKey: p("other.key"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The TLS directives of a server with `certs` (mutual TLS unless `tls-auth-clients` says). */
export function tlsConfig(certs: Certs, more: Record<string, string> = {}): Record<string, string> {
  return {
    "tls-cert-file": certs.serverCert,
    "tls-key-file": certs.serverKey,
    "tls-ca-cert-file": certs.ca,
    ...more,
  };
}

/** A redeno server (with replication) listening on free plain and TLS ports of 127.0.0.1. */
export async function tlsServer(
  certs: Certs,
  more: Record<string, string> = {},
): Promise<{ server: Server; port: number; tlsPort: number }> {
  const server = createServer({ plugins: [replication()], config: tlsConfig(certs, more) });
  const a = await server.listen({ port: 0, hostname: "127.0.0.1", tlsPort: 0 });
  return { server, port: a.port, tlsPort: a.tlsPort! };
}

/** Which certificate redis-cli presents: the client one, another CA's, or none. */
export type Presented = "client" | "other" | "none";

/** Runs `redis-cli --tls` against `port`. */
export function tlsCli(
  certs: Certs,
  port: number,
  args: string[],
  presented: Presented = "client",
): Promise<{ stdout: string; stderr: string; code: number }> {
  const who = presented === "client"
    ? ["--cert", certs.clientCert, "--key", certs.clientKey]
    : presented === "other"
    ? ["--cert", certs.otherCert, "--key", certs.otherKey]
    : [];
  return new Promise((resolve, reject) => {
    const p = spawn("redis-cli", [
      "--tls",
      "--cacert",
      certs.ca,
      ...who,
      "-p",
      String(port),
      ...args,
    ], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    p.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    p.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    p.on("error", reject);
    p.on("close", (code) => resolve({ stdout, stderr, code: code ?? -1 }));
  });
}

/** The CN of the certificate a TLS server on `port` presents (the client sends `certs`' client one). */
export function peerCommonName(certs: Certs, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({
      host: "127.0.0.1",
      port,
      ca: readFileSync(certs.ca),
      cert: readFileSync(certs.clientCert),
      key: readFileSync(certs.clientKey),
    }, () => {
      const cn = s.getPeerCertificate().subject?.CN;
      s.destroy();
      resolve(String(cn));
    });
    s.once("error", reject);
  });
}
