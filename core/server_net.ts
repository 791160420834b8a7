/**
 * The server's network front and lifecycle: listening sockets, accepting clients, the periodic
 * tick (active expiry, idle timeouts, client buffer trimming, plugin cron hooks) and orderly close.
 *
 * @module
 */

import { Client } from "./client.ts";
import { activeExpireCycle } from "./keyspace/expire_cycle.ts";
import { netAdapter } from "./net/runtime.ts";
import type { ConnectionHandler, Listener, ListenFn, Transport } from "./net/transport.ts";
import { PROTECTED_MODE_DENIED, protectedModeRefuses } from "./protected.ts";
import type { Server } from "./server.ts";
import { ServerTls } from "./server_tls.ts";
import { LISTEN_FAILED, listenAgain, listenAll, Reopenings } from "./listen_all.ts";
import { ConfigError } from "./config_types.ts";

/** Where `Server.listen` listens; what is not given comes from the config. */
export interface ServerListenOptions {
  /**
   * The plain TCP port; 0 asks the system for a free one. Without it, the `port` directive,
   * where 0 means no plain listener when a TLS port is given (as Redis), else a free port.
   */
  port?: number;
  /** The address to bind; without it, each address of the `bind` directive. */
  hostname?: string;
  /**
   * The TLS port, beside the plain one (0 asks for a free one); without it, the `tls-port`
   * directive (0: none). Certificates come from the `tls-*` directives (README, TLS).
   */
  tlsPort?: number;
}

/** Where the server listens. */
export interface ListenAddress {
  /** The plain TCP port (0 when only TLS listens). */
  port: number;
  /** The bound address. */
  hostname: string;
  /** The TLS port, when TLS listens. */
  tlsPort?: number;
}

/** One kind of listener: what INFO server's `listener<index>` line shows. */
export interface ListenerInfo {
  /** Redis's number of the connection type: 0 TCP, 2 TLS. */
  index: number;
  /** The connection type's name: `tcp` or `tls`. */
  name: string;
  /** The addresses of `bind` (or the one the first listen was given). */
  hosts: string[];
  /** The port the listeners are bound to. */
  port: number;
}

/** Why CONFIG SET bind is refused, in Redis's words. */
const BIND_FAILED = "Failed to bind to specified addresses.";

/** The addresses of a `bind` value. */
function bindAddresses(bind: string): string[] {
  return bind.split(" ").filter(Boolean);
}

/** A client that sent nothing for this long gives back its query and reply buffers (Redis: 2 s). */
const IDLE_TRIM_MS = 2000;
/** Clients visited per tick at least, as Redis's CLIENTS_CRON_MIN_ITERATIONS. */
const CLIENTS_PER_TICK_MIN = 5;

/** The handler of one accepted connection: one small object instead of a pair of closures. */
class ClientHandler implements ConnectionHandler {
  constructor(private readonly client: Client) {}
  onData(chunk: Uint8Array): void {
    this.client.onData(chunk);
  }
  onRead(buf: Uint8Array, n: number): void {
    this.client.onData(buf, n);
  }
  onClose(): void {
    this.client.onTransportClosed();
  }
  readTarget(): Uint8Array | undefined {
    return this.client.readTarget();
  }
}

/** Listeners, the tick timer and shutdown for one server. */
export class ServerNet {
  private readonly listeners: Listener[] = [];
  /** The TLS listeners and the replica side's TLS settings. */
  readonly tls: ServerTls;
  private cronTimer: ReturnType<typeof setInterval> | undefined;
  private closing: Promise<void> | undefined;
  /** Where the client buffer trimming resumes on the next tick. */
  private clientsCursor: Iterator<Client> | undefined;
  /** When the current round of client buffer trimming began (server time, ms). */
  private roundStart = -Infinity;

  /** The port the plain listeners are bound to (0: none). */
  private plainPort = 0;
  /** The addresses listened on (the first listen's, then `bind`'s). */
  private hosts: string[] = [];
  /** The connection handler of the first listen, for CONFIG SET port and bind. */
  private handler: ((t: Transport) => ConnectionHandler) | undefined;
  /** The listen function of the first listen (a move then binds without waiting). */
  private listenFn: ListenFn | undefined;
  private readonly reopenings: Reopenings;

  /**
   * The open listeners as INFO server's `listener<n>` lines describe them (Redis 7.2): the
   * connection type's number (0 TCP, 2 TLS), its name, the `bind` addresses and the port.
   */
  listening(): ListenerInfo[] {
    const out: ListenerInfo[] = [];
    if (this.listeners.length !== 0) {
      out.push({ index: 0, name: "tcp", hosts: this.hosts, port: this.plainPort });
    }
    const tls = this.tls.listening;
    if (tls !== undefined) out.push({ index: 2, name: "tls", ...tls });
    return out;
  }

  /** @param server the server this front serves */
  constructor(private readonly server: Server) {
    this.tls = new ServerTls(server);
    this.reopenings = new Reopenings(server);
    server.config.onApply(["port"], () => this.movePort());
    server.config.onApply(["bind"], () => this.rebind());
  }

  /**
   * CONFIG SET port: listeners open on the new port (0: none), then the old ones close; clients
   * of the old port stay connected. Refused (ConfigError) when the port cannot be bound.
   */
  private movePort(): Promise<void> | undefined {
    if (this.handler === undefined) return undefined;
    return this.reopenings.run(async () => {
      const port = this.server.config.num("port");
      if (port === this.plainPort) return;
      const opened = port === 0 ? [] : await this.openPlain(port, this.hosts);
      for (const l of this.listeners.splice(0, this.listeners.length, ...opened)) void l.close();
      this.plainPort = port;
    });
  }

  /**
   * CONFIG SET bind: every listener, plain and TLS, closes and opens again on the new
   * addresses (none for an empty `bind`, as Redis 7.0). Refused (ConfigError) when one that is
   * not optional cannot be bound.
   */
  private rebind(): Promise<void> | undefined {
    if (this.handler === undefined) return undefined;
    return this.reopenings.run(async () => {
      const hosts = bindAddresses(this.server.config.str("bind"));
      const old = this.hosts;
      if (hosts.join(" ") === old.join(" ")) return;
      try {
        await this.bindTo(hosts);
      } catch {
        this.server.log("warning", "Failed to bind");
        // Back on the old addresses now, so that a port moved in the same CONFIG SET moves
        // back on them.
        await this.bindTo(old).catch((e) => this.server.log("warning", `${e}`));
        throw new ConfigError(BIND_FAILED);
      }
    });
  }

  /**
   * Closes every listener and opens them again on `hosts`.
   *
   * @throws when one that is not optional cannot be bound (those opened are closed)
   */
  private async bindTo(hosts: string[]): Promise<void> {
    // The same port on other addresses may overlap the old ones (`*` and `127.0.0.1`).
    for (const l of this.listeners.splice(0)) void l.close();
    this.hosts = hosts;
    try {
      if (this.plainPort !== 0) this.listeners.push(...await this.openPlain(this.plainPort, hosts));
      await this.tls.moveTo(hosts);
    } catch (e) {
      for (const l of this.listeners.splice(0)) void l.close();
      throw e;
    }
  }

  /**
   * Plain listeners on `port` at `hosts` (none without an address).
   *
   * @throws ConfigError in Redis's words for CONFIG SET port
   */
  private async openPlain(port: number, hosts: string[]): Promise<Listener[]> {
    if (hosts.length === 0) return [];
    const listen = this.listenFn!;
    const accept = this.handler!;
    let opened: Listener[];
    try {
      opened = await listenAgain(() => listenAll(listen, { port, hosts }, accept));
    } catch (e) {
      this.server.log(
        "warning",
        `Could not create server TCP listening socket on port ${port}: ${e}`,
      );
      throw new ConfigError(LISTEN_FAILED);
    }
    // The server began closing meanwhile: these never serve.
    if (this.closing === undefined) return opened;
    for (const l of opened) void l.close();
    return [];
  }

  /** Accepts a connection from a transport (the adapters call this). */
  accept(transport: Transport): Client {
    const client = new Client(this.server, transport);
    const max = this.server.config.num("maxclients");
    this.server.clients.set(client.id, client);
    for (const h of this.server.hooks.clientCreated) h(client);
    client.onClose(() => {
      for (const h of this.server.hooks.clientClosed) h(client);
    });
    // Refused connections are not counted in total_connections_received, as in Redis.
    const refusal = this.server.clients.size > max
      ? "-ERR max number of clients reached\r\n"
      : protectedModeRefuses(client)
      ? PROTECTED_MODE_DENIED
      : undefined;
    if (refusal !== undefined) {
      transport.write(new TextEncoder().encode(refusal));
      this.server.stats.rejectedConnections++;
      client.close(true);
    } else {
      this.server.stats.connectionsReceived++;
    }
    return client;
  }

  /**
   * Starts listening: plain TCP and TLS, on the ports and addresses of `options` or the config.
   *
   * @returns the bound ports (the real ones when 0 was asked for) and address
   */
  async listen(options: ServerListenOptions = {}): Promise<ListenAddress> {
    const config = this.server.config;
    const { listen } = await netAdapter(this.server.netAdapterName);
    const port = options.port ?? config.num("port");
    const tlsPort = options.tlsPort ?? (config.num("tls-port") || undefined);
    const plain = options.port !== undefined || port !== 0 || tlsPort === undefined;
    const hosts = options.hostname !== undefined
      ? [options.hostname]
      : bindAddresses(config.str("bind"));
    const accept = (t: Transport) => new ClientHandler(this.accept(t));
    this.hosts = hosts;
    this.handler = accept;
    this.listenFn = listen;
    let first: Listener | undefined;
    if (plain) {
      this.listeners.push(...await listenAll(listen, { port, hosts }, accept));
      first = this.listeners[0]!;
      this.plainPort = first.port;
      if (config.num("port") !== first.port) config.set("port", first.port);
    }
    const tls = await this.tls.listen(tlsPort, hosts, accept);
    for (const h of this.server.hooks.listened) await h();
    this.startCron();
    const at = { port: first?.port ?? 0, hostname: first?.hostname ?? tls!.hostname };
    return tls ? { ...at, tlsPort: tls.port } : at;
  }

  /** Restarts the tick timer (after a change of `hz`), if it runs. */
  restartCron(): void {
    if (this.cronTimer !== undefined) this.startCron();
  }

  private startCron(): void {
    if (this.cronTimer !== undefined) clearInterval(this.cronTimer);
    const hz = this.server.config.num("hz");
    this.cronTimer = setInterval(() => this.cron(), Math.max(2, Math.floor(1000 / hz)));
  }

  /** One server tick: active expiry, idle client timeout, ops/sec sampling, plugin hooks. */
  cron(): void {
    const server = this.server;
    server.tick();
    if (
      server.activeExpireEnabled && !server.isReplica() && server.busy === undefined &&
      !server.pause.active
    ) {
      const hz = this.server.config.num("hz");
      const start = performance.now();
      const cycle = activeExpireCycle(server.dbs, {
        budgetMs: 250 / hz,
        effort: this.server.config.num("active-expire-effort"),
      });
      if (cycle.timedOut) server.stats.expireTimeCapReached++;
      server.latency.addIfNeeded("expire-cycle", performance.now() - start);
    }
    const timeout = this.server.config.num("timeout");
    if (timeout > 0) {
      const limit = server.time - timeout * 1000;
      for (const c of this.server.clients.values()) {
        if (c.lastInteraction < limit && (c.flags & (4 | 8 | 16 | 64 | 256)) === 0) c.close();
      }
    }
    this.trimClients();
    this.server.stats.sample(performance.now());
    for (const h of this.server.hooks.cron) h();
    server.endBatch();
  }

  /**
   * Trims the buffers of a share of the clients, so that each is visited about once a second
   * whatever `hz` is (Redis's clientsCron): idle ones give all their buffers back, busy ones keep
   * what their batches of the last second needed.
   */
  trimClients(): void {
    const clients = this.server.clients;
    const now = this.server.time;
    let cursor = this.clientsCursor;
    if (cursor === undefined) {
      // A new round at most once a second: a busy client's peak covers a second of batches.
      if (clients.size === 0 || now - this.roundStart < 1000) return;
      cursor = clients.values();
      this.roundStart = now;
    }
    const hz = this.server.config.num("hz");
    let n = Math.max(CLIENTS_PER_TICK_MIN, Math.ceil(clients.size / hz));
    const idleSince = now - IDLE_TRIM_MS;
    while (n-- > 0) {
      // A Map iterator also sees clients added after it began, and skips deleted ones.
      const r = cursor.next();
      if (r.done) {
        this.clientsCursor = undefined;
        return;
      }
      const c = r.value;
      // Redis's clientsCron: a soft limit held long enough closes a client that sends nothing.
      const pending = c.pendingOutput;
      if (pending !== 0 && this.server.outputLimits.check(c, pending)) continue;
      c.trimBuffers(c.lastInteraction <= idleSince);
    }
    this.clientsCursor = cursor;
  }

  /** Stops listening, runs shutdown hooks, and closes every client. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.cronTimer !== undefined) clearInterval(this.cronTimer);
      this.cronTimer = undefined;
      for (const h of this.server.hooks.shutdown) await h();
      // Node's server.close() waits for open connections: stop accepting, drop clients, then wait.
      const closing = Promise.all([...this.listeners.map((l) => l.close()), this.tls.close()]);
      this.listeners.length = 0;
      for (const c of [...this.server.clients.values()]) c.close();
      await closing;
    })();
    return this.closing;
  }

  /** True once {@linkcode close} has begun. */
  get isClosing(): boolean {
    return this.closing !== undefined;
  }
}
