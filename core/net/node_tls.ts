/**
 * The TLS adapter (`node:tls`), on both runtimes: `Deno.listenTls` cannot ask for or verify a
 * client certificate (Redis's default, `tls-auth-clients yes`) nor limit protocol versions, while
 * Deno's `node:tls` can; on Deno, deno_listener.ts serves the settings `Deno.listenTls` can, and
 * the replica side always connects with `node:tls`. Connections are NodeTransports, so a TLS
 * client is read and paused like a plain one.
 *
 * What each runtime honours: Node (OpenSSL) every setting; Deno (rustls underneath) the
 * certificates, client verification and protocol versions, but not the cipher lists, the server's
 * cipher preference, session settings or DH parameters (README, Known limits).
 *
 * @module
 */

import { constants } from "node:crypto";
import * as tls from "node:tls";
import type {
  ConnectFn,
  ConnectionHandler,
  ConnectOptions,
  Listener,
  ListenFn,
  ListenOptions,
  TlsServerSettings,
  TlsSettings,
  Transport,
} from "./transport.ts";
import { NodeTransport } from "./node_listener.ts";

/** The runtime's default TLS 1.3 suites and TLS 1.2 list, for a config that sets only one. */
function defaultCiphers(): { suites: string; list: string } {
  const all = (tls.DEFAULT_CIPHERS ?? "").split(":");
  return {
    suites: all.filter((c) => c.startsWith("TLS_")).join(":"),
    list: all.filter((c) => !c.startsWith("TLS_")).join(":"),
  };
}

/** Options common to both ends. */
function contextOptions(s: TlsSettings): tls.SecureContextOptions {
  const o: tls.SecureContextOptions = {
    cert: s.cert,
    key: s.key,
    minVersion: s.minVersion,
    maxVersion: s.maxVersion,
  };
  if (s.ca.length > 0) o.ca = s.ca;
  if (s.ciphers !== undefined || s.ciphersuites !== undefined) {
    // Node takes one string: TLS 1.3 suites (TLS_*) and the TLS 1.2 list together.
    const d = defaultCiphers();
    o.ciphers = [s.ciphersuites ?? d.suites, s.ciphers ?? d.list].filter(Boolean).join(":");
  }
  return o;
}

function serverOptions(s: TlsServerSettings): tls.TlsOptions {
  const o: tls.TlsOptions = {
    ...contextOptions(s),
    honorCipherOrder: s.preferServerCiphers,
    requestCert: s.clientAuth !== "no",
    rejectUnauthorized: s.clientAuth === "yes",
  };
  if (s.sessionTimeout > 0) o.sessionTimeout = s.sessionTimeout;
  else o.secureOptions = constants.SSL_OP_NO_TICKET;
  if (s.dhparam !== undefined) o.dhparam = s.dhparam;
  return o;
}

/**
 * Checks that the runtime takes `settings` (Node refuses an unknown cipher, a bad DH file...).
 *
 * @throws Error with the runtime's reason
 */
export function checkTls(settings: TlsServerSettings): void {
  tls.createSecureContext(serverOptions(settings));
}

/** Listens with TLS on `options` (`options.tls` is required). */
export const tlsListen: ListenFn = (
  options: ListenOptions,
  accept: (t: Transport) => ConnectionHandler,
): Promise<Listener> => {
  if (options.tls === undefined) return Promise.reject(new TypeError("TLS settings missing"));
  let mode = options.tls.clientAuth;
  const server = tls.createServer(serverOptions(options.tls), (socket) => {
    // `optional`: a client may send no certificate, but one it sends must verify.
    if (mode === "optional" && !socket.authorized && hasPeerCertificate(socket)) {
      socket.destroy();
      return;
    }
    const t = new NodeTransport(socket);
    t.attach(accept(t));
  });
  // A failed handshake (no or bad client certificate, wrong protocol) only drops that socket.
  server.on("tlsClientError", (_e, socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: options.port, host: options.hostname, backlog: 511 }, () => {
      server.off("error", reject);
      const a = server.address() as { port: number; address: string };
      resolve({
        port: a.port,
        hostname: a.address,
        close: () => new Promise<void>((res) => server.close(() => res())),
        setTls(settings: TlsServerSettings): boolean {
          const o = serverOptions(settings);
          server.setSecureContext(o);
          // Read per connection by tls.Server (setSecureContext leaves them as they were).
          const s = server as unknown as { requestCert: boolean; rejectUnauthorized: boolean };
          s.requestCert = o.requestCert === true;
          s.rejectUnauthorized = o.rejectUnauthorized === true;
          mode = settings.clientAuth;
          return true;
        },
      });
    });
  });
};

function hasPeerCertificate(socket: tls.TLSSocket): boolean {
  const peer = socket.getPeerCertificate();
  return peer !== null && peer !== undefined && Object.keys(peer).length > 0;
}

/**
 * Connects with TLS (`options.tls` is required). As Redis's replica side, the master's
 * certificate is verified against the configured authorities but its name is not checked.
 */
export const tlsConnect: ConnectFn = (options: ConnectOptions) =>
  new Promise((resolve, reject) => {
    if (options.tls === undefined) return reject(new TypeError("TLS settings missing"));
    const socket = tls.connect({
      ...contextOptions(options.tls),
      host: options.hostname,
      port: options.port,
      rejectUnauthorized: options.tls.ca.length > 0,
      checkServerIdentity: () => undefined,
    });
    socket.once("error", reject);
    socket.once("secureConnect", () => {
      socket.off("error", reject);
      resolve(new NodeTransport(socket));
    });
  });
