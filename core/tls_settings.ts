/**
 * The TLS directives made into what a listener and a replica's link use: certificates and keys
 * read and checked (a key that does not decrypt or does not match its certificate is refused, as
 * OpenSSL refuses it), authorities from `tls-ca-cert-file` and `tls-ca-cert-dir`, the protocol
 * range from `tls-protocols`. A failure is logged in Redis's words and thrown as Redis's
 * CONFIG SET error.
 *
 * @module
 */

import { createPrivateKey, X509Certificate } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "./config.ts";
import { ConfigError } from "./config_types.ts";
import type { TlsServerSettings, TlsSettings, TlsVersion } from "./net/transport.ts";

/** Where failures are logged (the server's log at `warning`). */
export type TlsWarn = (message: string) => void;

/** Both ends' settings: the listener's, and the one a replica connects to its master with. */
export interface TlsEnds {
  /** For TLS listeners. */
  server: TlsServerSettings;
  /** For outgoing connections (replication). */
  client: TlsSettings;
}

/** The error CONFIG SET gives when the TLS context cannot be rebuilt (Redis's text). */
export const TLS_UPDATE_FAILED = "Unable to update TLS configuration. Check server logs.";

/** True when the config asks for TLS: a TLS port or TLS replication (Redis: also tls-cluster). */
export function tlsWanted(config: Config): boolean {
  return config.num("tls-port") !== 0 || config.bool("tls-replication");
}

/**
 * Reads and checks the TLS settings of `config`.
 *
 * @param config the live config
 * @param warn where to log why it failed
 * @returns both ends' settings
 * @throws ConfigError with Redis's CONFIG SET text, after logging the reason
 */
export function tlsSettings(config: Config, warn: TlsWarn): TlsEnds {
  const s = (name: string): string | undefined => config.str(name) || undefined;
  const fail = (why: string): never => {
    warn(why);
    throw new ConfigError(TLS_UPDATE_FAILED);
  };
  const certFile = s("tls-cert-file") ?? fail("No tls-cert-file configured!");
  const keyFile = s("tls-key-file") ?? fail("No tls-key-file configured!");
  const caFile = s("tls-ca-cert-file");
  const caDir = s("tls-ca-cert-dir");
  if (
    (config.str("tls-auth-clients") !== "no" || config.bool("tls-replication")) &&
    caFile === undefined && caDir === undefined
  ) {
    fail(
      "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!",
    );
  }
  const versions = parseProtocols(s("tls-protocols")) ?? fail(
    "Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.",
  );
  let ca: string[];
  try {
    ca = [
      ...(caFile !== undefined ? certificates(readFileSync(caFile, "utf8")) : []),
      ...(caDir !== undefined ? certificatesOfDir(caDir) : []),
    ];
    if ((caFile !== undefined || caDir !== undefined) && ca.length === 0) {
      throw new Error("no certificate found");
    }
  } catch (e) {
    return fail(`Failed to configure CA certificate(s) file/directory: ${reason(e)}`);
  }
  const common = {
    ca,
    ...versions,
    ciphers: s("tls-ciphers"),
    ciphersuites: s("tls-ciphersuites"),
  };
  const pair = (cert: string, key: string, pass: string | undefined) => ({
    ...common,
    ...certifiedKey(cert, key, pass, fail),
  });
  const server: TlsServerSettings = {
    ...pair(certFile, keyFile, s("tls-key-file-pass")),
    clientAuth: config.str("tls-auth-clients") as TlsServerSettings["clientAuth"],
    preferServerCiphers: config.bool("tls-prefer-server-ciphers"),
    sessionTimeout: config.bool("tls-session-caching")
      ? Math.max(1, config.num("tls-session-cache-timeout"))
      : 0,
    dhparam: undefined,
  };
  const dh = s("tls-dh-params-file");
  if (dh !== undefined) {
    try {
      server.dhparam = readFileSync(dh, "utf8");
    } catch (e) {
      fail(`Failed to load ${dh}: ${reason(e)}`);
    }
  }
  // As Redis: the client certificate when both its files are set, else the server's.
  const clientCert = s("tls-client-cert-file");
  const clientKey = s("tls-client-key-file");
  const client = clientCert !== undefined && clientKey !== undefined
    ? pair(clientCert, clientKey, s("tls-client-key-file-pass"))
    : { ...common, cert: server.cert, key: server.key };
  return { server, client };
}

const VERSIONS: TlsVersion[] = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

/**
 * `tls-protocols` as the oldest and newest versions it names (Redis's default: TLSv1.2 and
 * TLSv1.3). A gap (`TLSv1 TLSv1.3`) allows the versions between: runtimes take a range.
 */
function parseProtocols(
  text: string | undefined,
): { minVersion: TlsVersion; maxVersion: TlsVersion } | undefined {
  if (text === undefined) return { minVersion: "TLSv1.2", maxVersion: "TLSv1.3" };
  const found = text.split(" ").map((w) =>
    VERSIONS.findIndex((v) => v.toLowerCase() === w.toLowerCase())
  );
  if (found.length === 0 || found.includes(-1)) return undefined;
  return { minVersion: VERSIONS[Math.min(...found)]!, maxVersion: VERSIONS[Math.max(...found)]! };
}

/** The certificate chain and decrypted key of one end. */
function certifiedKey(
  certFile: string,
  keyFile: string,
  pass: string | undefined,
  fail: (why: string) => never,
): { cert: string; key: string } {
  let cert: string;
  let x509: X509Certificate;
  try {
    cert = readFileSync(certFile, "utf8");
    x509 = new X509Certificate(cert);
  } catch (e) {
    return fail(`Failed to load certificate: ${certFile}: ${reason(e)}`);
  }
  try {
    const key = createPrivateKey({ key: readFileSync(keyFile), passphrase: pass ?? "" });
    if (!x509.checkPrivateKey(key)) throw new Error("key values mismatch");
    return { cert, key: key.export({ type: "pkcs8", format: "pem" }) as string };
  } catch (e) {
    return fail(`Failed to load private key: ${keyFile}: ${reason(e)}`);
  }
}

/** Each PEM certificate of a file, checked. */
function certificates(text: string): string[] {
  const out = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  for (const pem of out) new X509Certificate(pem);
  return out;
}

/** The certificates of every file of a directory (OpenSSL's hashed names or any other). */
function certificatesOfDir(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    out.push(...certificates(readFileSync(path, "utf8")));
  }
  return out;
}

function reason(e: unknown): string {
  return (e as Error)?.message ?? String(e);
}
