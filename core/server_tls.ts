/**
 * The TLS side of the server's network front: the listeners of `tls-port` (beside the plain
 * ones, on the same addresses), and the settings a replica connects to its master with. As Redis:
 * CONFIG SET of a TLS file or option rebuilds the settings (refused, values restored, when they do
 * not load) and connections accepted from then on use them; CONFIG SET tls-port moves the TLS
 * listener; `tls-auth-clients` is read for each new connection.
 *
 * @module
 */

import { ConfigError } from "./config_types.ts";
import { LISTEN_FAILED, listenAgain, listenAll, Reopenings } from "./listen_all.ts";
import { checkTls } from "./net/node_tls.ts";
import { type TlsAdapter, tlsAdapter } from "./net/runtime.ts";
import type { ConnectionHandler, Listener, TlsSettings, Transport } from "./net/transport.ts";
import type { Server } from "./server.ts";
import { StartError } from "./server_types.ts";
import { TLS_CONTEXT_DIRECTIVES } from "./tls_defs.ts";
import { TLS_UPDATE_FAILED, type TlsEnds, tlsSettings, tlsWanted } from "./tls_settings.ts";

/** The TLS side could not start: its message is the whole report (Redis's wording). */
export class TlsStartError extends StartError {}

/** TLS listeners and settings for one server. */
export class ServerTls {
  private listeners: Listener[] = [];
  private ends: TlsEnds | undefined;
  /** The addresses the server listens on (set by the first listen). */
  private hosts: string[] = [];
  private accept: ((t: Transport) => ConnectionHandler) | undefined;
  /** The port the TLS listeners are bound to (0: none). */
  private bound = 0;
  /** The TLS adapter, loaded by the first listen (reopenings then bind without waiting). */
  private adapter: TlsAdapter | undefined;
  private readonly reopenings: Reopenings;

  /** The addresses and port the TLS listeners are open on, or undefined when there are none. */
  get listening(): { hosts: string[]; port: number } | undefined {
    return this.listeners.length === 0 ? undefined : { hosts: this.hosts, port: this.bound };
  }

  /** @param server the server whose config and log this uses */
  constructor(private readonly server: Server) {
    this.reopenings = new Reopenings(server);
    const config = server.config;
    config.onApply(TLS_CONTEXT_DIRECTIVES, () => {
      if (tlsWanted(config)) this.configure();
    });
    config.onApply(["tls-port"], () => this.movePort());
    config.onChange((name) => {
      if (name !== "tls-auth-clients" || this.ends === undefined) return;
      this.ends.server.clientAuth = config.str(name) as TlsEnds["server"]["clientAuth"];
      this.serve(this.ends.server);
    });
  }

  /**
   * The settings a replica connects to its master with (`tls-replication yes`).
   *
   * @throws ConfigError when the TLS directives do not load
   */
  clientSettings(): TlsSettings {
    return (this.ends ?? this.configure()).client;
  }

  /**
   * Opens the TLS listeners on `port` on each of `hosts` (a `-` before an address makes it
   * optional, as in `bind`), when `port` is not undefined; checks the TLS settings whenever the
   * config asks for TLS.
   *
   * @returns the bound port and address, if a listener opened
   */
  async listen(
    port: number | undefined,
    hosts: string[],
    accept: (t: Transport) => ConnectionHandler,
  ): Promise<{ port: number; hostname: string } | undefined> {
    this.hosts = hosts;
    this.accept = accept;
    this.adapter = await tlsAdapter(this.server.netAdapterName);
    if (port === undefined && !tlsWanted(this.server.config)) return undefined;
    try {
      this.configure();
    } catch {
      throw new TlsStartError("Failed to configure TLS. Check logs for more info.");
    }
    if (port === undefined) return undefined;
    try {
      await this.open(port);
    } catch (e) {
      throw new TlsStartError(`Failed listening on port ${port} (TLS), aborting: ${e}`);
    }
    return { port: this.bound, hostname: this.listeners[0]!.hostname };
  }

  /** Rebuilds the settings from the config and gives them to the listeners. */
  private configure(): TlsEnds {
    const ends = tlsSettings(this.server.config, (m) => this.server.log("warning", m));
    try {
      checkTls(ends.server);
    } catch (e) {
      this.server.log("warning", `Failed to configure TLS: ${(e as Error)?.message ?? e}`);
      throw new ConfigError(TLS_UPDATE_FAILED);
    }
    this.ends = ends;
    this.serve(ends.server);
    return ends;
  }

  /** Gives the listeners new settings; those that cannot serve them are opened again. */
  private serve(settings: TlsEnds["server"]): void {
    if (this.listeners.every((l) => l.setTls?.(settings) !== false)) return;
    this.reopen(this.bound);
  }

  /**
   * Closes the listeners and opens new ones on `port` (0: none) with the current settings, after
   * any reopening in progress (see Reopenings).
   */
  private reopen(port: number): void {
    // A failure is logged by relisten(); the listeners stay closed, as Redis's do.
    this.relisten(port).catch(() => {});
  }

  /**
   * Closes the listeners and opens new ones on `port` (0: none), after any reopening in progress;
   * rejects with a ConfigError (and logs why) when the port cannot be bound.
   */
  private relisten(port: number): Promise<void> {
    return this.reopenings.run(async () => {
      // Stops accepting at once; clients of the old listeners stay connected.
      void this.close();
      if (port === 0) return;
      try {
        await listenAgain(() => this.open(port));
      } catch (e) {
        this.server.log("warning", `Failed listening on port ${port} (TLS): ${e}`);
        throw new ConfigError(LISTEN_FAILED);
      }
    });
  }

  private async open(port: number): Promise<Listener[]> {
    const listen = this.adapter!.listenFor(this.ends!.server);
    const at = { port, hosts: this.hosts, tls: this.ends!.server };
    const opened = await listenAll(listen, at, (t) => this.accept!(t));
    // The server began closing meanwhile (a CONFIG SET just before): these never serve.
    if (this.server.isClosing) {
      for (const l of opened) void l.close();
      return [];
    }
    this.listeners = opened;
    this.bound = this.listeners[0]!.port;
    if (this.server.config.num("tls-port") !== this.bound) {
      this.server.config.set("tls-port", this.bound);
    }
    return this.listeners;
  }

  /**
   * CONFIG SET tls-port: the settings are checked now (refused if they do not load); the old
   * listeners close and the new ones open, as Redis moves them. Refused (ConfigError) when the
   * port cannot be bound.
   */
  private movePort(): Promise<void> | undefined {
    if (this.accept === undefined) return undefined;
    const port = this.server.config.num("tls-port");
    if (port === this.bound) return undefined;
    // From the files as they are now (Redis would keep a context built before, if any).
    if (port !== 0) this.configure();
    return this.relisten(port);
  }

  /**
   * CONFIG SET bind: the TLS listeners, if any, close and open again on `hosts` (none when
   * empty).
   *
   * @throws what the listen threw
   */
  async moveTo(hosts: string[]): Promise<void> {
    this.hosts = hosts;
    const port = this.server.config.num("tls-port");
    if (this.accept === undefined || this.ends === undefined || port === 0) return;
    void this.close();
    if (hosts.length !== 0) await listenAgain(() => this.open(port));
  }

  /** Stops accepting TLS connections; resolves once the listeners' connections are gone. */
  async close(): Promise<void> {
    const closing = this.listeners.map((l) => l.close());
    this.listeners = [];
    this.bound = 0;
    await Promise.all(closing);
  }
}
