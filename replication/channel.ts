/**
 * The async channel of one replica link: a byte queue that propagation appends to and returns
 * from at once, drained by a single writer task that hands bytes to the socket only while the
 * socket's own queue is short (it waits for the kernel to take what it has: backpressure).
 *
 * No write command ever waits on a replica. A replica that does not keep up makes its queue
 * grow; past `client-output-buffer-limit replica <hard> <soft> <seconds>` (over `hard`, or over
 * `soft` for longer than `seconds`) the channel reports the overflow and the link is closed, as
 * Redis does; the replica then reconnects and resynchronises, partially when the backlog still
 * holds what it misses.
 *
 * @module
 */

import type { Transport } from "../core/net/transport.ts";

/** Output buffer limits of the replica class (bytes, bytes, seconds; 0 disables). */
export interface ChannelLimits {
  hard: number;
  soft: number;
  seconds: number;
}

/**
 * Bytes the socket may hold unsent before the writer waits. Waiting for an empty socket queue
 * also lets an adapter that reads only between writes (Deno's) take the replica's ACKs.
 */
const HIGH_WATER = 0;
/** Largest single write the writer hands the socket. */
const MAX_WRITE = 1024 * 1024;
/** How often (ms) a waiting writer looks at the socket again. */
const POLL_MS = 1;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A bounded byte queue in front of a replica's socket, drained by one writer task. */
export class Channel {
  /** Stream bytes and payload sources, in sending order. */
  private readonly items: Array<Uint8Array | AsyncIterable<Uint8Array>> = [];
  /** Stream bytes queued here, not yet handed to the socket. */
  private queued = 0;
  private wake: (() => void) | undefined;
  private closed = false;
  /** When the buffer went over the soft limit (ms), 0 while under it. */
  private softSince = 0;

  /**
   * @param transport the replica's socket
   * @param limits the current limits (read at each check, so CONFIG SET applies at once)
   * @param overflow called once when a limit is passed, with the reason to log
   * @param now the server clock (ms), for the soft limit's duration
   */
  constructor(
    private readonly transport: Transport,
    private readonly limits: () => ChannelLimits,
    private readonly overflow: (reason: string) => void,
    private readonly now: () => number,
  ) {
    void this.run();
  }

  /** Bytes waiting to be sent: queued here plus unsent in the socket (the output buffer). */
  get pending(): number {
    return this.queued + this.transport.pendingBytes;
  }

  /**
   * Queues stream bytes (never blocks); checks the limits. With nothing queued and the socket
   * drained, the bytes go to the socket at once: a reply written after them (see state.ts)
   * cannot overtake them.
   */
  push(bytes: Uint8Array): void {
    if (this.closed || bytes.length === 0) return;
    // The writer is parked (wake set) only with nothing queued.
    if (this.wake !== undefined && this.transport.pendingBytes <= HIGH_WATER) {
      this.transport.write(bytes);
      return;
    }
    this.items.push(bytes);
    this.queued += bytes.length;
    this.check(this.now());
    this.notify();
  }

  /**
   * Queues a payload produced asynchronously (the RDB of a full sync): the writer sends its
   * chunks, then what was queued after it. Its bytes do not count against the limits, as the
   * RDB does not in Redis.
   */
  pushSource(source: AsyncIterable<Uint8Array>): void {
    if (this.closed) return;
    this.items.push(source);
    this.notify();
  }

  /**
   * Checks the output buffer limits at `now` (ms); on a breach reports it and closes.
   *
   * @returns true when the channel was closed for it
   */
  check(now: number): boolean {
    if (this.closed) return false;
    const { hard, soft, seconds } = this.limits();
    const used = this.pending;
    let reason: string | undefined;
    if (hard > 0 && used >= hard) reason = "hard";
    else if (soft > 0 && used >= soft) {
      if (this.softSince === 0) this.softSince = now;
      else if (now - this.softSince > seconds * 1000) reason = "soft";
    } else {
      this.softSince = 0;
    }
    if (reason === undefined) return false;
    this.close();
    this.overflow(`${reason} limit reached with ${used} bytes pending`);
    return true;
  }

  /** Stops the writer and drops what is queued. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.items.length = 0;
    this.queued = 0;
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    if (w === undefined) return;
    this.wake = undefined;
    w();
  }

  /** The writer task: one write at a time, each after the socket's queue drained enough. */
  private async run(): Promise<void> {
    while (!this.closed) {
      const head = this.items[0];
      if (head === undefined) {
        await new Promise<void>((r) => (this.wake = r));
        continue;
      }
      if (head instanceof Uint8Array) {
        await this.send(this.takeBytes());
        continue;
      }
      this.items.shift();
      try {
        for await (const chunk of head) {
          if (this.closed) break;
          await this.send(chunk);
        }
      } catch {
        // The payload failed (its producer logged why): the replica must start over.
        this.close();
        this.overflow("payload failed");
      }
    }
  }

  /** Removes the leading run of stream bytes (up to MAX_WRITE) as one array. */
  private takeBytes(): Uint8Array {
    const items = this.items;
    let n = 0;
    let k = 0;
    while (k < items.length) {
      const it = items[k];
      if (!(it instanceof Uint8Array) || (k > 0 && n + it.length > MAX_WRITE)) break;
      n += it.length;
      k++;
    }
    const parts = items.splice(0, k) as Uint8Array[];
    this.queued -= n;
    if (parts.length === 1) return parts[0]!;
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /** Hands `bytes` to the socket once its queue is under the high-water mark. */
  private async send(bytes: Uint8Array): Promise<void> {
    while (!this.closed && this.transport.pendingBytes > HIGH_WATER) await sleep(POLL_MS);
    if (!this.closed) this.transport.write(bytes);
  }
}
