/**
 * Picks the network adapter for the runtime we run on. The adapter modules are loaded lazily so
 * that neither runtime loads the other's code.
 *
 * @module
 */

import type { ConnectFn, ListenFn, TlsServerSettings } from "./transport.ts";

/** The running JS runtime. */
export const runtimeName: "deno" | "node" =
  typeof (globalThis as { Deno?: { listen?: unknown } }).Deno?.listen === "function"
    ? "deno"
    : "node";

/**
 * The listen and connect functions of this runtime. `adapter` forces one: `"node"` uses
 * `node:net` (which Deno also provides), `"deno"` uses `Deno.listen`.
 */
export async function netAdapter(
  adapter?: "deno" | "node",
): Promise<{ listen: ListenFn; connect: ConnectFn }> {
  if ((adapter ?? runtimeName) === "deno" && runtimeName === "deno") {
    const m = await import("./deno_listener.ts");
    return { listen: m.denoListen, connect: m.denoConnect };
  }
  const m = await import("./node_listener.ts");
  return { listen: m.nodeListen, connect: m.nodeConnect };
}

/** The TLS side of a runtime. */
export interface TlsAdapter {
  /** The listen function for `settings` (chosen anew for each settings). */
  listenFor(settings: TlsServerSettings): ListenFn;
  /** Connects with TLS (replication). */
  connect: ConnectFn;
}

/**
 * The TLS listen and connect functions: on Deno, `Deno.listenTls` for the settings it can serve
 * (no client certificates, the default protocols, a certificate rustls takes: deno_listener.ts)
 * unless `adapter` is `"node"`; else `node:tls`, on both runtimes (node_tls.ts).
 */
export async function tlsAdapter(adapter?: "deno" | "node"): Promise<TlsAdapter> {
  const m = await import("./node_tls.ts");
  const d = (adapter ?? runtimeName) === "deno" && runtimeName === "deno"
    ? await import("./deno_listener.ts")
    : undefined;
  // Deno.listenTls refuses some certificates node:tls takes (X.509 v1): those go there.
  const denoFirst: ListenFn | undefined = d &&
    ((options, accept) =>
      d.denoListenTls(options, accept).catch((e) =>
        d.isAddrInUse(e) ? Promise.reject(e) : m.tlsListen(options, accept)
      ));
  return {
    listenFor: (settings) =>
      denoFirst !== undefined && d!.denoTlsServes(settings) ? denoFirst : m.tlsListen,
    connect: m.tlsConnect,
  };
}
