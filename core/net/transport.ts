/**
 * The interface between the runtime-specific network adapters and the portable core. Only the
 * adapters (`deno_listener.ts`, `node_listener.ts`) touch `Deno.*` or `node:net`.
 *
 * @module
 */

/**
 * A connection is read on while its unsent output stays under this many bytes, as Redis reads a
 * client that does not read its replies (a pipeline written whole before any reply is read must
 * not stall); past it, or while memory is short (core/heap.ts), it is not read until its output
 * drains. Redis has no such line for normal clients (`client-output-buffer-limit normal 0 0 0`);
 * this one keeps a client that never reads from holding more than this.
 */
export const OUTPUT_READ_LIMIT = 64 * 1024 * 1024;

/** One accepted connection, as the core sees it. */
export interface Transport {
  /** `ip:port` of the peer. */
  readonly remoteAddress: string;
  /** `ip:port` of our end. */
  readonly localAddress: string;
  /** Queues bytes for sending; never blocks. The transport owns `bytes` from now on. */
  write(bytes: Uint8Array): void;
  /**
   * Like `write`, and tells whether the transport is done with `bytes` already: true when the
   * kernel took them all now, so the caller may write into them again; false when the transport
   * keeps them until they are sent. Absent when the transport cannot tell.
   */
  tryWrite?(bytes: Uint8Array): boolean;
  /**
   * A view of the first `n` bytes of `buf` of the kind `tryWrite` takes best (Node's sockets
   * wrap any other Uint8Array in a new Buffer per write). Absent: `buf.subarray(0, n)`.
   */
  viewOf?(buf: Uint8Array, n: number): Uint8Array;
  /**
   * Like `write`, and calls `release` once the transport is done with `bytes` (all of them sent),
   * so the caller may reuse them; never when the connection closes first. Absent when the
   * transport cannot tell.
   */
  writeLent?(bytes: Uint8Array, release: () => void): void;
  /**
   * True when the transport will finish sending whatever `write` is given now before it calls
   * `onData` again (read when writing). The client may then lend its reply buffer instead of
   * copying it.
   */
  readonly sendsBeforeNextData: boolean;
  /** Bytes queued and not yet accepted by the kernel. */
  readonly pendingBytes: number;
  /**
   * Bytes of read buffer this connection holds between reads (Deno reads into a buffer of the
   * connection's; Node allocates one per read and holds none). Absent means none.
   */
  readonly readBufferSize?: number;
  /** Closes the connection once queued bytes are sent. */
  end(): void;
  /** Closes the connection now, dropping queued bytes. */
  destroy(): void;
}

/** What the core attaches to a new connection. */
export interface ConnectionHandler {
  /** Bytes received; the chunk may be reused by the adapter once this returns. */
  onData(chunk: Uint8Array): void;
  /**
   * Bytes `[0, n)` of `buf` received: called instead of `onData` when present, which spares
   * the adapter a view of its read buffer per read (a typed array costs more to make than a
   * GET's parse on Node 20). `buf` may be reused by the adapter once this returns.
   */
  onRead?(buf: Uint8Array, n: number): void;
  /** The peer closed or the connection failed. */
  onClose(): void;
  /**
   * A buffer the next read may fill instead of the adapter's own (the rest of a big argument
   * being received); the bytes read into it are then passed to `onData` as a view of it. An
   * adapter that cannot read into a given buffer ignores this.
   */
  readTarget?(): Uint8Array | undefined;
}

/** A listening socket. */
export interface Listener {
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  /** The bound address. */
  readonly hostname: string;
  /** Stops accepting connections. */
  close(): Promise<void>;
  /**
   * A TLS listener: connections accepted from now on use these settings. False when this
   * listener cannot serve them (the caller then opens another in its place).
   */
  setTls?(settings: TlsServerSettings): boolean;
}

/** Where to listen. */
export interface ListenOptions {
  /** The port; 0 asks the system for a free one. */
  port: number;
  /** The address to bind (`127.0.0.1`, `0.0.0.0`...). */
  hostname: string;
  /** Listen with TLS (see core/tls_settings.ts); absent: plain TCP. */
  tls?: TlsServerSettings;
}

/** A TLS protocol version. */
export type TlsVersion = "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3";

/** What one end of a TLS connection presents and accepts (PEM text, read from the config). */
export interface TlsSettings {
  /** Our certificate (chain). */
  cert: string;
  /** Our private key, decrypted. */
  key: string;
  /** The authorities a peer's certificate must be signed by (none: the peer is not verified). */
  ca: string[];
  /** The oldest protocol version allowed. */
  minVersion: TlsVersion;
  /** The newest protocol version allowed. */
  maxVersion: TlsVersion;
  /** Cipher list for TLS 1.2 and older, OpenSSL's syntax; undefined: the runtime's default. */
  ciphers: string | undefined;
  /** TLS 1.3 cipher suites, `:`-separated; undefined: the runtime's default. */
  ciphersuites: string | undefined;
}

/** A TLS listener's settings. */
export interface TlsServerSettings extends TlsSettings {
  /** Client certificates: `no` not asked for, `yes` required, `optional` checked when sent. */
  clientAuth: "no" | "yes" | "optional";
  /** Our cipher order wins over the client's. */
  preferServerCiphers: boolean;
  /** Sessions resume (by ticket) for this many seconds; 0: no resumption. */
  sessionTimeout: number;
  /** Diffie-Hellman parameters (PEM); undefined: the runtime's choice. */
  dhparam: string | undefined;
}

/** A runtime's listen function. */
export type ListenFn = (
  options: ListenOptions,
  accept: (transport: Transport) => ConnectionHandler,
) => Promise<Listener>;

/** An outgoing connection (replication links). */
export interface Connection extends Transport {
  /** Sets the data and close handlers. */
  attach(handler: ConnectionHandler): void;
}

/** Where to connect. */
export interface ConnectOptions {
  /** The port. */
  port: number;
  /** The host name or address. */
  hostname: string;
  /** Connect with TLS: the peer's certificate is verified against `ca` (not its name). */
  tls?: TlsSettings;
}

/** A runtime's connect function. */
export type ConnectFn = (options: ConnectOptions) => Promise<Connection>;
