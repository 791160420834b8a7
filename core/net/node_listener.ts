/**
 * The Node.js network adapter (`node:net`). A client that does not read its replies is read on
 * until its unsent output passes OUTPUT_READ_LIMIT (or memory runs short), then paused until the
 * output drains.
 *
 * @module
 */

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

/** A `node:net` (or `node:tls`) socket as a Transport. */
export class NodeTransport implements Connection {
  /** Node may deliver more data while a write is still queued. */
  readonly sendsBeforeNextData = false;
  private handler: ConnectionHandler | undefined;
  private closed = false;

  constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Uint8Array) => this.handler?.onData(chunk));
    socket.on("drain", () => socket.resume());
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      if (this.closed) return;
      this.closed = true;
      this.handler?.onClose();
    });
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
    if (this.socket.destroyed) return;
    const s = this.socket;
    if (!s.write(bytes) && (s.writableLength > OUTPUT_READ_LIMIT || heapExhausted())) s.pause();
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

/** Listens on `options` with `node:net`. */
export const nodeListen: ListenFn = (
  options: ListenOptions,
  accept: (t: Transport) => ConnectionHandler,
): Promise<Listener> => {
  const server = net.createServer({ noDelay: true }, (socket) => {
    const t = new NodeTransport(socket);
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
      resolve(new NodeTransport(socket));
    });
  });
