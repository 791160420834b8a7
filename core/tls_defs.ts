/**
 * The TLS directives of Redis 7.0, with its defaults. core/tls_settings.ts turns them into the
 * certificates and options a TLS listener or a replica's link uses; core/server_tls.ts applies
 * them (CONFIG SET reconfigures, as Redis).
 *
 * @module
 */

import type { ConfigDef } from "./config_types.ts";
import { bool, choice, int, INT_MAX, str } from "./config_kinds.ts";

/** Directives whose change rebuilds the TLS context (Redis's applyTlsCfg). */
export const TLS_CONTEXT_DIRECTIVES: readonly string[] = [
  "tls-cert-file",
  "tls-key-file",
  "tls-key-file-pass",
  "tls-client-cert-file",
  "tls-client-key-file",
  "tls-client-key-file-pass",
  "tls-dh-params-file",
  "tls-ca-cert-file",
  "tls-ca-cert-dir",
  "tls-protocols",
  "tls-ciphers",
  "tls-ciphersuites",
  "tls-prefer-server-ciphers",
  "tls-session-caching",
  "tls-session-cache-timeout",
  "tls-replication",
];

/** Every TLS directive but `tls-cluster` (there is no cluster: config_defs.ts keeps it inert). */
export const TLS_DEFS: ConfigDef[] = [
  int("tls-port", 0, 0, 65535),
  // Read when a client connects, as Redis does: no context rebuild.
  choice("tls-auth-clients", "yes", ["no", "yes", "optional"]),
  ...TLS_CONTEXT_DIRECTIVES.filter((n) => !/^tls-(prefer|session|replication)/.test(n)).map((n) =>
    str(n, "")
  ),
  bool("tls-replication", false),
  bool("tls-prefer-server-ciphers", false),
  bool("tls-session-caching", true),
  // OpenSSL's server-side session cache cannot be sized from Node (sessions resume by ticket).
  int("tls-session-cache-size", 20 * 1024, 0, INT_MAX, { inert: true }),
  int("tls-session-cache-timeout", 300, 0, INT_MAX),
];
