/**
 * The Deno network adapter (`Deno.listen`), measured here to cost 15-20% less CPU per request
 * than Deno's `node:net` layer. Each connection has one read loop and one writer task; the read
 * loop reads on while output is being written, until the unsent output passes OUTPUT_READ_LIMIT
 * (or memory runs short): then it waits for the output to drain, so a client that never reads
 * stops being read.
 *
 * Memory: a pending `read` holds its buffer for as long as the peer stays silent (it cannot be
 * taken back), so each connection reads into a buffer sized to what it sends: 1 KiB at first,
 * doubled up to 64 KiB each time a read fills it, and fitted back after 16 reads that needed less
 * than a quarter of it. 10,000 idle connections thus hold 10 MiB of read buffers, not 640 MiB; a
 * client that goes idle right after a burst of big requests keeps its bigger buffer until it
 * sends again. (Smaller buffers plus a shared pool for the reads after a full one cost a second
 * read and a copy per big request: +10 µs per 20 KB SET.)
 *
 * @module
 */

import type {
  ConnectFn,
  Connection,
  ConnectionHandler,
  ConnectOptions,
  Listener,
  ListenFn,
  ListenOptions,
  TlsServerSettings,
  Transport,
} from "./transport.ts";
import { OUTPUT_READ_LIMIT } from "./transport.ts";
import { heapExhausted } from "../heap.ts";

/** A connection's own read buffer: what ordinary commands need. */
const READ_MIN = 1024;
/** A connection that keeps filling its buffer gets a bigger one, up to this. */
const READ_MAX = 64 * 1024;
/** Queued writes shorter than this are joined into one write; longer ones go as they are. */
const CONCAT_MAX = 64 * 1024;
/** Reads after which a connection's buffer is fitted to the largest of them. */
const READ_WINDOW = 16;

function addr(a: Deno.Addr): string {
  return a.transport === "tcp" ? `${a.hostname}:${a.port}` : "?:0";
}

class DenoTransport implements Connection {
  private handler: ConnectionHandler | undefined;
  private queue: Uint8Array[] = [];
  private queued = 0;
  /** Bytes ever queued, and ever taken by the socket (see writeLent). */
  private queuedTotal = 0;
  private sentTotal = 0;
  /** Buffers lent by writeLent, with the queuedTotal at which each ends, in order. */
  private lent: Array<{ end: number; release: () => void }> = [];
  /** The write in progress, if any: one writer at a time keeps bytes in order. */
  private flushing: Promise<void> | undefined;
  /** True while the read loop runs the handler: its output is flushed by the read loop. */
  private inHandler = false;
  /** The buffer reads go to (see the module doc). */
  private readBuf: Uint8Array = new Uint8Array(READ_MIN);
  private closing = false;
  private closed = false;
  readonly remoteAddress: string;
  readonly localAddress: string;
  /**
   * With no write in progress, what a handler writes now is sent (or queued behind nothing)
   * before the next lend can be asked for: the next one comes only once this write is done.
   */
  get sendsBeforeNextData(): boolean {
    return this.flushing === undefined;
  }

  constructor(private readonly conn: Deno.TcpConn | Deno.TlsConn) {
    // A TLS connection has no setNoDelay of its own (Deno sets TCP_NODELAY on accepted sockets).
    if ("setNoDelay" in conn) conn.setNoDelay(true);
    this.remoteAddress = addr(conn.remoteAddr);
    this.localAddress = addr(conn.localAddr);
  }

  get pendingBytes(): number {
    return this.queued;
  }

  get readBufferSize(): number {
    return this.readBuf.length;
  }

  attach(handler: ConnectionHandler): void {
    this.handler = handler;
    this.readLoop();
  }

  private async readLoop(): Promise<void> {
    let reads = 0;
    let peak = 0;
    try {
      while (!this.closed) {
        // The rest of a big argument is read straight into its own buffer.
        const target = this.handler?.readTarget?.();
        const buf = target ?? this.readBuf;
        const n = await this.conn.read(buf);
        if (n === null) break;
        this.inHandler = true;
        const h = this.handler;
        if (h?.onRead !== undefined) h.onRead(buf, n);
        else h?.onData(buf.subarray(0, n));
        this.inHandler = false;
        if (target !== undefined) {
          // Not a read of the connection's own buffer: nothing to learn for its size.
        } else if (n === buf.length && n < READ_MAX) {
          // More bytes are most likely waiting: they, and the next batches, go in one read.
          this.readBuf = new Uint8Array(n * 2);
          reads = peak = 0;
        } else if (buf.length > READ_MIN) {
          if (n > peak) peak = n;
          if (++reads === READ_WINDOW) {
            // Batches got smaller: fit the buffer to them (it is what an idle wait holds).
            let fit = READ_MIN;
            while (fit < 2 * peak) fit *= 2;
            if (fit < buf.length) this.readBuf = new Uint8Array(fit);
            reads = peak = 0;
          }
        }
        if (this.queue.length > 0 || this.flushing) {
          const sent = this.flush();
          // Read on while the replies go out, unless too much waits (see OUTPUT_READ_LIMIT).
          if (this.closing || this.queued > OUTPUT_READ_LIMIT || heapExhausted()) await sent;
        }
        if (this.closing && !this.closed && this.flushing === undefined) this.destroy();
      }
    } catch {
      // Reset by peer or closed locally: either way the connection is gone.
    }
    this.finish();
  }

  write(bytes: Uint8Array): void {
    if (this.closed || this.closing) return;
    this.queue.push(bytes);
    this.queued += bytes.length;
    this.queuedTotal += bytes.length;
    // Output produced outside our own read handler (pub/sub pushes) is sent by a writer task.
    if (!this.inHandler && !this.flushing) void this.flush();
  }

  /**
   * Writes `bytes` and calls `release` once the socket has taken all of them (never when the
   * connection closes first: a write in flight may still hold them).
   */
  writeLent(bytes: Uint8Array, release: () => void): void {
    if (this.closed || this.closing) return;
    this.lent.push({ end: this.queuedTotal + bytes.length, release });
    this.write(bytes);
  }

  /** Counts `n` bytes taken by the socket and releases the lent buffers now sent. */
  private sent(n: number): void {
    this.sentTotal += n;
    const lent = this.lent;
    while (lent.length > 0 && lent[0]!.end <= this.sentTotal) lent.shift()!.release();
  }

  /**
   * Writes everything queued, one write at a time; settles once the queue is empty (never
   * rejects: a failed write destroys the connection). One queued chunk, the usual case (a
   * batch's replies), is handed to the socket with one continuation; more go through drain().
   * (The async drain with its finally and catch cost ~0.1 µs more per request at -P 16 than this,
   * measured on a bare Deno server answering PONGs.)
   */
  private flush(): Promise<void> {
    if (this.flushing !== undefined) return this.flushing;
    if (this.queue.length === 1 && !this.closed) {
      const chunk = this.queue.pop()!;
      let written: Promise<number>;
      try {
        written = this.conn.write(chunk);
      } catch (e) {
        // As a rejection: an op that fails before it starts (a closed resource) may throw.
        written = Promise.reject(e);
      }
      this.flushing = written.then((n) => this.wrote(chunk, n), this.failed);
    } else {
      this.flushing = this.drain().then(this.drained, this.failed);
    }
    return this.flushing;
  }

  /** After a write of `chunk` took `n` bytes: the rest, and what came meanwhile, go next. */
  private wrote(chunk: Uint8Array, n: number): Promise<void> | void {
    this.queued -= n;
    this.sent(n);
    if (n < chunk.length) this.queue.unshift(chunk.subarray(n));
    return this.drained();
  }

  private readonly drained = (): Promise<void> | void => {
    this.flushing = undefined;
    // Bytes queued after the writer's last look at the queue (the read loop runs on while
    // writes are in flight) get a writer of their own.
    if (this.queue.length > 0 && !this.closed) return this.flush();
    if (this.closing) this.destroy();
  };

  private readonly failed = (): void => {
    this.flushing = undefined;
    this.destroy();
  };

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.closed) {
      // Small writes in a row are joined into one; a big one (a big value's reply, see
      // ReplyWriter's parts) goes out as it is, without being copied.
      const q = this.queue;
      let n = 0;
      while (n < q.length && q[n]!.length < CONCAT_MAX) n++;
      let chunk: Uint8Array;
      if (n === q.length && n > 1) {
        chunk = concat(q);
        this.queue = [];
      } else if (n > 1) {
        chunk = concat(q.slice(0, n));
        this.queue = q.slice(n);
      } else {
        chunk = q.shift()!;
      }
      let rest = chunk;
      while (rest.length > 0) {
        const n = await this.conn.write(rest);
        rest = rest.subarray(n);
        this.sent(n);
      }
      this.queued -= chunk.length;
    }
    if (this.closing) this.destroy();
  }

  end(): void {
    if (this.closed) return;
    this.closing = true;
    if (!this.flushing && !this.inHandler && this.queue.length === 0) this.destroy();
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.close();
    } catch {
      // Already closed by the peer.
    }
    this.finish();
  }

  private finish(): void {
    if (!this.closed) {
      this.closed = true;
      try {
        this.conn.close();
      } catch {
        // Already closed.
      }
    }
    const h = this.handler;
    this.handler = undefined;
    h?.onClose();
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Accepts the connections of `listener` until it closes. */
async function acceptLoop(
  listener: Deno.TcpListener | Deno.TlsListener,
  accept: (t: Transport) => ConnectionHandler,
  isOpen: () => boolean,
): Promise<void> {
  try {
    for await (const conn of listener) {
      const t = new DenoTransport(conn);
      t.attach(accept(t));
    }
  } catch (e) {
    if (isOpen()) console.error(`Accept loop failed: ${e}`);
  }
}

function closeQuietly(listener: Deno.TcpListener | Deno.TlsListener): void {
  try {
    listener.close();
  } catch {
    // Already closed.
  }
}

/** Listens on `options` with `Deno.listen`. */
export const denoListen: ListenFn = (
  options: ListenOptions,
  accept: (t: Transport) => ConnectionHandler,
): Promise<Listener> => {
  const listener = Deno.listen({ port: options.port, hostname: options.hostname });
  return Promise.resolve(serving(listener, accept));
};

/** Accepts connections from `listener` until the returned Listener is closed. */
function serving(
  listener: Deno.TcpListener | Deno.TlsListener,
  accept: (t: Transport) => ConnectionHandler,
): Listener {
  const a = listener.addr as Deno.NetAddr;
  let open = true;
  void acceptLoop(listener, accept, () => open);
  return {
    port: a.port,
    hostname: a.hostname,
    close: () => {
      open = false;
      closeQuietly(listener);
      return Promise.resolve();
    },
  };
}

/**
 * Whether `Deno.listenTls` can serve `settings`: it cannot ask for client certificates nor limit
 * the protocol versions (rustls speaks TLS 1.2 and 1.3, Redis's default), so it serves only
 * `tls-auth-clients no` with the default protocols. It costs 15-25% less server CPU per request
 * than Deno's `node:tls` (bench/tls.ts, `-P 16`).
 */
export function denoTlsServes(settings: TlsServerSettings): boolean {
  return settings.clientAuth === "no" && settings.minVersion === "TLSv1.2" &&
    settings.maxVersion === "TLSv1.3";
}

/** True for the error of a bind to a port in use. */
export function isAddrInUse(e: unknown): boolean {
  return e instanceof Deno.errors.AddrInUse;
}

/**
 * Listens with `Deno.listenTls` (see denoTlsServes). It cannot swap its certificate: new settings
 * with another certificate are refused, and the caller opens a new listener in its place (the
 * port is closed for the instant between the two: Deno frees it only after the next turn of the
 * event loop, and `reusePort` is unstable).
 */
export const denoListenTls: ListenFn = (
  options: ListenOptions,
  accept: (t: Transport) => ConnectionHandler,
): Promise<Listener> => {
  const tls = options.tls;
  if (tls === undefined || !denoTlsServes(tls)) {
    return Promise.reject(new TypeError("Deno.listenTls cannot serve these TLS settings"));
  }
  let listener: Deno.TlsListener;
  try {
    listener = Deno.listenTls({
      port: options.port,
      hostname: options.hostname,
      cert: tls.cert,
      key: tls.key,
    });
  } catch (e) {
    return Promise.reject(e);
  }
  return Promise.resolve({
    ...serving(listener, accept),
    setTls: (s: TlsServerSettings): boolean =>
      denoTlsServes(s) && s.cert === tls.cert && s.key === tls.key,
  });
};

/** Connects to `options` with `Deno.connect`. */
export const denoConnect: ConnectFn = async (options: ConnectOptions): Promise<Connection> => {
  const conn = await Deno.connect({ port: options.port, hostname: options.hostname });
  return new DenoTransport(conn);
};
