/**
 * Opening a server's listening sockets, plain or TLS, on each address of `bind`, and opening
 * them again on a new port (CONFIG SET port, tls-port) or with new settings.
 *
 * @module
 */

import type {
  ConnectionHandler,
  Listener,
  ListenFn,
  TlsServerSettings,
  Transport,
} from "./net/transport.ts";
import { holdReplies, releaseReplies } from "./client.ts";
import type { Server } from "./server.ts";

/** Why CONFIG SET port or tls-port is refused, in Redis's words. */
export const LISTEN_FAILED = "Unable to listen on this port. Check server logs.";

/**
 * Pauses (ms) before each further bind while a socket just closed may still hold the port (see
 * listenAgain): soon, as Deno frees it on the next turn of the event loop, and briefly in all
 * (under 40 ms), since every reply waits meanwhile (see Reopenings).
 */
const PAUSES_MS = [0, 1, 2, 5, 10, 20];

/**
 * Listens on `port` at each of `hosts` (a `-` before an address makes it optional, as in `bind`);
 * with port 0 the first bound port is used for the other addresses.
 *
 * @returns the listeners, at least one
 * @throws the error of an address that is not optional (those opened are closed), or when none
 */
export async function listenAll(
  listen: ListenFn,
  at: { port: number; hosts: string[]; tls?: TlsServerSettings },
  accept: (t: Transport) => ConnectionHandler,
): Promise<Listener[]> {
  const opened: Listener[] = [];
  for (const raw of at.hosts) {
    const optional = raw.startsWith("-");
    const hostname = anyAddress(optional ? raw.slice(1) : raw);
    const port = opened[0]?.port ?? at.port;
    try {
      opened.push(await listen({ port, hostname, ...(at.tls ? { tls: at.tls } : {}) }, accept));
    } catch (e) {
      if (optional) continue;
      for (const l of opened) void l.close();
      throw e;
    }
  }
  if (opened.length === 0) throw new Error("No address to listen on");
  return opened;
}

/** `*` and `::*` of `bind`: every IPv4 and every IPv6 address, as Redis reads them. */
function anyAddress(host: string): string {
  return host === "*" ? "0.0.0.0" : host === "::*" ? "::" : host;
}

/**
 * `open`, tried again a few times: a port a listener of ours just gave up can still be held for
 * a moment (Deno frees a closed listener's socket on a later turn of the event loop).
 *
 * @returns what `open` returned
 * @throws the last error
 */
export async function listenAgain(open: () => Promise<Listener[]>): Promise<Listener[]> {
  for (const pause of PAUSES_MS) {
    try {
      return await open();
    } catch (e) {
      // Only a port in use may come free; a bad address stays bad.
      if (!addressInUse(e)) throw e;
      await new Promise((r) => setTimeout(r, pause));
    }
  }
  return await open();
}

/** The error of a bind to an address in use, on Deno (AddrInUse) or Node (EADDRINUSE). */
function addressInUse(e: unknown): boolean {
  return (e as { code?: unknown })?.code === "EADDRINUSE" || (e as Error)?.name === "AddrInUse";
}

/**
 * Reopenings of listeners, one after another. Every client's replies wait while one runs, as
 * Redis binds a port before it answers the CONFIG SET that moved it: a client that reconnects at
 * once finds the new listener.
 */
export class Reopenings {
  private tail: Promise<void> = Promise.resolve();

  /** @param server the server whose replies wait */
  constructor(private readonly server: Server) {}

  /**
   * Runs `job` after the reopenings before it.
   *
   * @returns the end of `job`, rejected with its error
   */
  run(job: () => Promise<void>): Promise<void> {
    holdReplies(this.server);
    const done = this.tail.then(job);
    this.tail = done.catch(() => {}).finally(() => releaseReplies(this.server));
    return done;
  }
}
