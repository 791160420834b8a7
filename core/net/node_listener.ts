/**
 * The Node.js network adapter (`node:net`). A client that does not read its replies is read on
 * until its unsent output passes OUTPUT_READ_LIMIT (or memory runs short), then paused until the
 * output drains.
 *
 * Plain TCP sockets are read as `net.Socket`'s `onread` option reads (see {@linkcode NodeNetTransport}):
 * into one buffer shared by every connection, or straight into the big argument being received,
 * instead of a new 64 KiB buffer per read pushed through a Readable stream; and a batch of
 * replies the kernel takes at once leaves the client's reply buffer free for the next batch,
 * instead of being copied for the socket to keep.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import * as net from "node:net";
import type {
  ConnectFn,
  Connection,
  ConnectionHandler,
  ConnectOptions,
  Listener,
  ListenFn,
  ListenOptions,
  Transport,
} from "./transport.ts";
import { OUTPUT_READ_LIMIT } from "./transport.ts";
import { heapExhausted } from "../heap.ts";

function addr(host: string | undefined, port: number | undefined): string {
  const h = host?.startsWith("::ffff:") ? host.slice(7) : host ?? "?";
  return `${h}:${port ?? 0}`;
}

/**
 * The read buffer of every plain connection (Node's own is 64 KiB, allocated anew per read).
 * Reads happen one at a time on the event loop and onData is done with its chunk when it
 * returns (ConnectionHandler), so one buffer serves them all.
 */
const READ_BUF = new Uint8Array(64 * 1024);

/**
 * The private slots through which `net.Socket` reads into a caller's buffer: what its `onread`
 * option sets (`buffer`, `callback`), which `net.Server` has no way to pass to the sockets it
 * accepts. Found by name on a socket (Node 20+ and Deno's node:net have them); null when they
 * are not there, and sockets are then read through their `data` event.
 */
interface UserReadSlots {
  buffer: symbol;
  callback: symbol;
  generator: symbol;
}

type Handle = { useUserBuffer?: (buf: Uint8Array) => void };
let slots: UserReadSlots | null | undefined;

function userReadSlots(socket: net.Socket): UserReadSlots | null {
  if (slots !== undefined) return slots;
  const own = Object.getOwnPropertySymbols(socket);
  const find = (name: string) => own.find((s) => s.description === name);
  const [buffer, callback, generator] = [find("kBuffer"), find("kBufferCb"), find("kBufferGen")];
  const handle = (socket as unknown as { _handle?: Handle })._handle;
  slots = buffer && callback && generator && typeof handle?.useUserBuffer === "function"
    ? { buffer, callback, generator }
    : null;
  return slots;
}

/** A `node:net` (or `node:tls`) socket as a Transport. */
export class NodeTransport implements Connection {
  /** Node may deliver more data while a write is still queued. */
  readonly sendsBeforeNextData = false;
  protected handler: ConnectionHandler | undefined;
  private closed = false;

  /**
   * @param socket the connected socket
   * @param readsInto read through `onread`'s slots (plain sockets) when Node has them
   */
  constructor(protected readonly socket: net.Socket, readsInto = false) {
    socket.setNoDelay(true);
    const s = readsInto ? userReadSlots(socket) : null;
    if (s === null || !this.readInto(s)) {
      socket.on("data", (chunk: Uint8Array) => this.handler?.onData(chunk));
    }
    socket.on("drain", () => socket.resume());
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      if (this.closed) return;
      this.closed = true;
      this.handler?.onClose();
    });
  }

  /**
   * Reads as `onread` does: Node calls `callback` with the bytes read into the current buffer
   * and asks `generator` for the next one: the big argument being received (readTarget), else
   * the shared buffer.
   *
   * @returns false when the socket has no handle to read with
   */
  private readInto(s: UserReadSlots): boolean {
    const socket = this.socket as unknown as Record<symbol, unknown> & { _handle: Handle | null };
    const handle = socket._handle;
    if (typeof handle?.useUserBuffer !== "function") return false;
    socket[s.buffer] = READ_BUF;
    socket[s.callback] = (n: number, buf: Uint8Array): void => {
      const h = this.handler;
      if (h === undefined) return;
      if (h.onRead !== undefined) h.onRead(buf, n);
      else h.onData(buf.subarray(0, n));
    };
    socket[s.generator] = (): Uint8Array => {
      const target = this.handler?.readTarget?.();
      // An empty buffer would fail the read (libuv: ENOBUFS, and Node destroys the socket).
      return target !== undefined && target.length !== 0 ? target : READ_BUF;
    };
    handle.useUserBuffer(READ_BUF);
    return true;
  }

  get remoteAddress(): string {
    return addr(this.socket.remoteAddress, this.socket.remotePort);
  }

  get localAddress(): string {
    return addr(this.socket.localAddress, this.socket.localPort);
  }

  get pendingBytes(): number {
    return this.socket.writableLength;
  }

  attach(handler: ConnectionHandler): void {
    this.handler = handler;
  }

  write(bytes: Uint8Array): void {
    this.send(bytes);
  }

  /** Writes `bytes` (`done` as the socket's write callback); pauses reading past the limit. */
  private send(bytes: Uint8Array, done?: (e?: Error | null) => void): void {
    if (this.socket.destroyed) return;
    const s = this.socket;
    if (!s.write(bytes, done) && (s.writableLength > OUTPUT_READ_LIMIT || heapExhausted())) {
      s.pause();
    }
  }

  /**
   * Writes `bytes` and calls `release` once the socket is done with them: the callback of a
   * write comes once it has been handed to the kernel, or with an error when the socket failed
   * or was destroyed before (then the bytes may still be held, and are not released).
   */
  writeLent(bytes: Uint8Array, release: () => void): void {
    this.send(bytes, (e) => {
      if (e == null) release();
    });
  }

  /**
   * Closes after the queued output, fully as Redis does (`close()`), not only our half: a client
   * still sending then gets a reset instead of having its bytes read and dropped.
   */
  end(): void {
    const s = this.socket;
    s.end(() => s.destroy());
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * A plain `node:net` socket: read into shared or given buffers (see {@linkcode NodeTransport}),
 * and written without a copy when the kernel takes the bytes at once.
 */
export class NodeNetTransport extends NodeTransport {
  /** @param socket the connected socket */
  constructor(socket: net.Socket) {
    super(socket, true);
  }

  /**
   * Writes `bytes`; true when the kernel took them all now. A net.Socket sends what it is given
   * at once when nothing is queued before it (libuv's try-write), and keeps a reference only to
   * what it queues: with nothing queued after the write, it holds none of `bytes`.
   */
  tryWrite(bytes: Uint8Array): boolean {
    this.write(bytes);
    return this.socket.writableLength === 0;
  }

  /**
   * A Buffer view: `socket.write` takes a Buffer as it is, and wraps any other Uint8Array in a
   * new one per write (a typed array made, and its `buffer` read, every reply batch).
   */
  viewOf(buf: Uint8Array, n: number): Uint8Array {
    return Buffer.from(buf.buffer, buf.byteOffset, n);
  }
}

/** Listens on `options` with `node:net`. */
export const nodeListen: ListenFn = (
  options: ListenOptions,
  accept: (t: Transport) => ConnectionHandler,
): Promise<Listener> => {
  const server = net.createServer({ noDelay: true }, (socket) => {
    const t = new NodeNetTransport(socket);
    t.attach(accept(t));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: options.port, host: options.hostname, backlog: 511 }, () => {
      server.off("error", reject);
      const a = server.address() as net.AddressInfo;
      resolve({
        port: a.port,
        hostname: a.address,
        close: () =>
          new Promise<void>((res) => {
            server.close(() => res());
          }),
      });
    });
  });
};

/** Connects to `options` with `node:net`. */
export const nodeConnect: ConnectFn = (options: ConnectOptions): Promise<Connection> =>
  new Promise((resolve, reject) => {
    const socket = net.connect({ port: options.port, host: options.hostname });
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(new NodeNetTransport(socket));
    });
  });
