/**
 * The connections MIGRATE keeps to its targets, after Redis's `migrate_cached_sockets`: one per
 * `host:port` as written in the command, reused by the next MIGRATE to the same target, closed
 * when idle for more than 10 seconds (checked by the server tick) or after an I/O error. The
 * number open is INFO's `migrate_cached_sockets`.
 *
 * Redis talks to the target with blocking reads and writes while the whole server waits; here
 * the exchange is asynchronous, and the MIGRATEs to one target run one after the other (their
 * requests and replies would interleave on the shared connection otherwise).
 *
 * @module
 */

import { bytesToStr } from "./bytes.ts";
import { netAdapter } from "./net/runtime.ts";
import type { Connection } from "./net/transport.ts";
import type { Server } from "./server.ts";

/** Redis's MIGRATE_SOCKET_CACHE_TTL: an idle connection is closed past this many ms. */
const IDLE_MS = 10_000;
/** Redis's MIGRATE_SOCKET_CACHE_ITEMS: past this many connections, one is dropped. */
const MAX_LINKS = 64;

/** What reading a reply line gave: the line, or why there is none. */
export type LineResult = string | "timeout" | "closed";

/** One connection to a MIGRATE target. */
export class MigrateLink {
  /** The database last selected on the target (-1: unknown, SELECT again). */
  lastDb = -1;
  /** When it was last used (server clock, ms). */
  lastUse: number;
  /** The peer closed or the connection failed. */
  closed = false;
  private pending = "";
  private waiter: ((r: LineResult) => void) | undefined;

  /**
   * @param conn the connection, not yet attached
   * @param now the server time
   */
  constructor(private readonly conn: Connection, now: number) {
    this.lastUse = now;
    conn.attach({
      onData: (chunk) => {
        this.pending += bytesToStr(chunk);
        this.wake();
      },
      onClose: () => {
        this.closed = true;
        this.wake();
      },
    });
  }

  /** Bytes written and not yet taken by the kernel. */
  get unsent(): number {
    return this.conn.pendingBytes;
  }

  /** Sends `bytes` (never blocks). */
  write(bytes: Uint8Array): void {
    this.conn.write(bytes);
  }

  /**
   * The next reply line without its CRLF, as Redis's `connSyncReadLine` reads one; `timeout`
   * when none came within `timeoutMs`, `closed` when the connection ended first.
   */
  readLine(timeoutMs: number): Promise<LineResult> {
    const line = this.takeLine();
    if (line !== undefined) return Promise.resolve(line);
    if (this.closed) return Promise.resolve("closed");
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve("timeout");
      }, timeoutMs);
      this.waiter = (r) => {
        clearTimeout(timer);
        resolve(r);
      };
    });
  }

  /** Closes the connection now. */
  destroy(): void {
    this.closed = true;
    this.conn.destroy();
    this.wake();
  }

  private takeLine(): string | undefined {
    const eol = this.pending.indexOf("\n");
    if (eol < 0) return undefined;
    const line = this.pending.slice(0, eol).replace(/\r$/, "");
    this.pending = this.pending.slice(eol + 1);
    return line;
  }

  private wake(): void {
    const w = this.waiter;
    if (w === undefined) return;
    const line = this.takeLine();
    if (line !== undefined) {
      this.waiter = undefined;
      w(line);
    } else if (this.closed) {
      this.waiter = undefined;
      w("closed");
    }
  }
}

/** The MIGRATE connections of one server. */
export class MigrateLinks {
  private readonly links = new Map<string, MigrateLink>();
  /** The tail of the operations queued per target. */
  private readonly queues = new Map<string, Promise<unknown>>();

  /** @param server the server that migrates */
  constructor(private readonly server: Server) {
    server.on("cron", () => this.closeIdle());
    server.on("shutdown", () => {
      for (const name of [...this.links.keys()]) this.close(name);
    });
  }

  /** Connections open (INFO `migrate_cached_sockets`). */
  get size(): number {
    return this.links.size;
  }

  /** Runs `fn` after the operations queued before it for the target `name`. */
  exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(name) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.queues.set(name, tail);
    void tail.then(() => {
      if (this.queues.get(name) === tail) this.queues.delete(name);
    });
    return run;
  }

  /**
   * The cached connection to `host:port`, or a new one: undefined when connecting failed or
   * took more than `timeoutMs`, `refused` when the target refused it (Redis sees that only
   * when it writes: its non-blocking connect reports the socket writable).
   */
  async get(
    host: string,
    port: string,
    timeoutMs: number,
  ): Promise<MigrateLink | "refused" | undefined> {
    const name = `${host}:${port}`;
    const cached = this.links.get(name);
    if (cached !== undefined && !cached.closed) {
      cached.lastUse = this.server.time;
      return cached;
    }
    if (cached !== undefined) this.close(name);
    if (this.links.size >= MAX_LINKS) {
      // Redis drops one at random; the oldest is as good a choice.
      this.close(this.links.keys().next().value!);
    }
    // The port is read as C's atoi reads it: leading digits, 0 when none.
    const conn = await connectWithin(this.server, host, parseInt(port, 10) || 0, timeoutMs);
    if (conn === undefined || conn === "refused") return conn;
    const link = new MigrateLink(conn, this.server.time);
    this.links.set(name, link);
    return link;
  }

  /** Closes and forgets the connection to `name` (`host:port`), if any. */
  close(name: string): void {
    const link = this.links.get(name);
    if (link === undefined) return;
    this.links.delete(name);
    link.destroy();
  }

  private closeIdle(): void {
    const limit = this.server.time - IDLE_MS;
    for (const [name, link] of this.links) if (link.lastUse < limit) this.close(name);
  }
}

/** True for the error of a connection the peer refused (Deno's and Node's). */
function isRefused(e: unknown): boolean {
  const err = e as { code?: unknown; name?: unknown } | undefined;
  return err?.code === "ECONNREFUSED" || err?.name === "ConnectionRefused";
}

/**
 * Connects to `host:port`, giving up after `timeoutMs` (a late connection is closed):
 * `refused` when the peer refused, undefined on any other failure.
 */
async function connectWithin(
  server: Server,
  host: string,
  port: number,
  timeoutMs: number,
): Promise<Connection | "refused" | undefined> {
  // Port 0 and ports past 65535 cannot be connected to: Redis's connect is refused.
  if (port <= 0 || port > 65535) return "refused";
  const connecting = netAdapter(server.netAdapterName).then((net) =>
    net.connect({ hostname: host, port })
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  const failed = connecting.then(
    (c) => c as Connection | "refused" | undefined,
    (e) => isRefused(e) ? "refused" as const : undefined,
  );
  const conn = await Promise.race([failed, timedOut]);
  clearTimeout(timer);
  if (conn === undefined) void connecting.then((c) => c.destroy(), () => undefined);
  return conn;
}

const perServer = new WeakMap<Server, MigrateLinks>();

/** The MIGRATE connections of `server` (made on first use). */
export function migrateLinksOf(server: Server): MigrateLinks {
  let links = perServer.get(server);
  if (links === undefined) perServer.set(server, links = new MigrateLinks(server));
  return links;
}

/** The number of MIGRATE connections `server` holds open, without making its cache. */
export function migrateLinkCount(server: Server): number {
  return perServer.get(server)?.size ?? 0;
}
