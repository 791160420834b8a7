/**
 * The reply encoder: replies are appended to one growable buffer per connection and flushed with
 * one socket write per batch of commands. A connection's buffer starts empty, grows to what its
 * batches need and is trimmed back by {@linkcode ReplyWriter.shrink} (the server's client cron), so
 * idle connections hold no reply memory.
 *
 * @module
 */

import { formatDouble, formatDouble72, writeStr } from "../bytes.ts";
import { giveBuffer, takeBuffer } from "./arg_buffers.ts";
import {
  BigNumberReply,
  BoolReply,
  BulkBytes,
  DoubleReply,
  ErrorReply,
  MapReply,
  NoReply,
  NullArray,
  PushReply,
  R,
  RawReply,
  type Reply,
  SetReply,
  SimpleString,
  VerbatimReply,
} from "./reply.ts";

const OK_BYTES = new Uint8Array([43, 79, 75, 13, 10]);
const EMPTY = new Uint8Array(0);
/** The smallest buffer allocated when an empty writer grows. */
const MIN_SIZE = 256;
/** A buffer grown past this by one batch is not kept for the next (see take()). */
const KEEP_MAX = 1024 * 1024;
/**
 * A connection's bulk string at least this long is encoded into a part of its own (header,
 * bytes, CRLF) instead of the buffer, and handed to the socket as it is: the buffer does not
 * grow (doubling and copying what it holds, past KEEP_MAX anew for every batch) to take a batch
 * of big values. Measured with redis-benchmark -c 10 -P 8 on Deno: 1 MiB GETs cost 1075-1500 us
 * of server CPU each before, 675-775 after; 100 KiB GETs cost more as parts (45-60 us against
 * 35-40: a write per part, and no buffer reused), hence the floor.
 *
 * A part's buffer is taken from the spares big arguments use (core/resp/arg_buffers.ts) and
 * given back once the socket has sent it, when the sink can tell (`writeLent`): a fresh buffer of
 * a megabyte is fresh memory, which the kernel faults in page by page as the reply is copied in
 * (GET of 1 MiB values on Node: ~230 page faults per request).
 */
const PART_MIN = 256 * 1024;
/** The parts whose buffers came from takeBuffer (see PART_MIN). */
const spareParts = new WeakSet<Uint8Array>();

/** Where {@linkcode ReplyWriter.flushTo} hands its bytes (a Transport). */
export interface ReplySink {
  /** Takes `bytes`, which it owns from now on. */
  write(bytes: Uint8Array): void;
  /** Takes `bytes`; true when it is done with them already (see Transport.tryWrite). */
  tryWrite?(bytes: Uint8Array): boolean;
  /** A view of `buf`'s first `n` bytes for tryWrite (see Transport.viewOf). */
  viewOf?(buf: Uint8Array, n: number): Uint8Array;
  /** Takes `bytes` and calls `release` once done with them (see Transport.writeLent). */
  writeLent?(bytes: Uint8Array, release: () => void): void;
}

/** A growable byte buffer that encodes RESP replies. */
export class ReplyWriter {
  buf: Uint8Array;
  pos = 0;
  /** The other buffer of the pair used by lend(); made on the first lend. */
  private spare: Uint8Array | undefined;
  /** The largest batch since the last shrink(): what the buffers need to hold. */
  private peak = 0;
  /** Encoded bytes before those of the buffer (see PART_MIN), in order; connections only. */
  private parts: Uint8Array[] | undefined;
  /** Bytes in `parts`. */
  private partsLength = 0;
  /**
   * The view of `buf` written last (by {@linkcode writeThrough} or {@linkcode lend}), and the
   * buffer it views (EMPTY when none); `spareView` is the one lend() made of `spare`.
   */
  private view: Uint8Array = EMPTY;
  private viewOf: Uint8Array = EMPTY;
  private spareView: Uint8Array = EMPTY;
  /**
   * What the server behaves as (core/compat.ts): doubles are written as Redis 7.2+ writes them
   * (the shortest text that reads back) when `v72`, else as 7.0's `%.17g`. Unset: 7.2's.
   */
  compat: { readonly v72: boolean } | undefined;

  /**
   * @param size initial capacity in bytes; 0 allocates nothing until the first write (a
   * connection's writer), and take() then returns to that size after a huge batch
   */
  constructor(private readonly size = 16 * 1024) {
    this.buf = size > 0 ? new Uint8Array(size) : EMPTY;
  }

  /** Bytes written since the last {@linkcode take} (or {@linkcode flushTo}). */
  get length(): number {
    return this.partsLength + this.pos;
  }

  /**
   * Hands everything written to `write`, in order: the parts of big bulk strings as they are,
   * the buffer through {@linkcode lend} (`lend` true), else through the sink's `tryWrite` when it
   * has one (see {@linkcode writeThrough}), else {@linkcode take}.
   *
   * @param sink receives each byte array, which it owns (a lent one until the next lend)
   * @param lend lend the buffer instead of copying it
   */
  flushTo(sink: ReplySink, lend: boolean): void {
    const parts = this.parts;
    if (parts !== undefined) {
      this.parts = undefined;
      this.partsLength = 0;
      for (let i = 0; i < parts.length; i++) {
        const part = parts[i]!;
        if (sink.writeLent !== undefined && spareParts.has(part)) {
          sink.writeLent(part, () => giveBuffer(part));
        } else sink.write(part);
      }
      if (this.pos === 0) return;
    }
    if (lend) sink.write(this.lend());
    else if (sink.tryWrite !== undefined) this.writeThrough(sink);
    else sink.write(this.take());
  }

  /**
   * Writes a view of the buffer through `sink.tryWrite`: when the sink is done with it at once
   * (the kernel took it all), the buffer is kept for the next batch, nothing copied or
   * allocated; otherwise the sink keeps it and the next batch gets a new one.
   */
  private writeThrough(sink: ReplySink): void {
    const pos = this.pos;
    if (pos > this.peak) this.peak = pos;
    this.pos = 0;
    const buf = this.buf;
    // The view of the last batch serves again when this one is as long (replies of one shape):
    // the sink was done with it, and a typed array costs more to make than a GET's parse.
    let view = this.view;
    if (this.viewOf !== buf || view.length !== pos) {
      view = this.view = sink.viewOf !== undefined ? sink.viewOf(buf, pos) : buf.subarray(0, pos);
      this.viewOf = buf;
    }
    const done = sink.tryWrite!(view);
    if (done && buf.length <= KEEP_MAX) return;
    // The buffer goes (the sink keeps it, or a huge batch grew it): so does its view.
    this.view = this.viewOf = EMPTY;
    if (buf.length > KEEP_MAX) this.buf = this.size > 0 ? new Uint8Array(this.size) : EMPTY;
    else this.buf = new Uint8Array(buf.length);
  }

  /**
   * A bulk string of `len` bytes as a part of its own, after what the buffer holds (see
   * PART_MIN): its header, then the bytes `fill` writes at the offset it is given, then CRLF.
   */
  private bulkPart(len: number, fill: (part: Uint8Array, at: number) => void): void {
    const parts = (this.parts ??= []);
    if (this.pos > 0) {
      parts.push(this.buf.slice(0, this.pos));
      this.partsLength += this.pos;
      if (this.pos > this.peak) this.peak = this.pos;
      this.pos = 0;
    }
    const head = `$${len}\r\n`;
    const part = takeBuffer(head.length + len + 2);
    spareParts.add(part);
    const p = writeStr(part, 0, head);
    fill(part, p);
    part[p + len] = 13;
    part[p + len + 1] = 10;
    parts.push(part);
    this.partsLength += part.length;
  }

  /** Bytes of buffer held, the pair's spare included (for memory accounting). */
  get capacity(): number {
    return this.buf.length + (this.spare?.length ?? 0);
  }

  /** The largest batch since the last {@linkcode shrink} (CLIENT LIST's `rbp`). */
  get recentPeak(): number {
    return Math.max(this.peak, this.pos);
  }

  /** Returns a copy of the written bytes and empties the buffer. */
  take(): Uint8Array {
    if (this.pos > this.peak) this.peak = this.pos;
    if (this.buf.length > KEEP_MAX) {
      // A buffer this big is not kept anyway: hand it over instead of copying it.
      const out = this.buf.subarray(0, this.pos);
      this.pos = 0;
      this.buf = this.size > 0 ? new Uint8Array(this.size) : EMPTY;
      return out;
    }
    const out = this.buf.slice(0, this.pos);
    this.pos = 0;
    return out;
  }

  /**
   * Returns a view of the written bytes without copying and switches to the other buffer of a
   * pair. The view stays valid until the next lend(): the caller guarantees the bytes are sent by
   * then (allocating a typed array costs ~0.4 µs on Deno, more than a whole GET). The same view
   * may be returned again two lends later, when its buffer's batch is as long.
   */
  lend(): Uint8Array {
    const buf = this.buf;
    const pos = this.pos;
    // The view lent two batches ago, of this same buffer, serves again when as long.
    let view = this.view;
    if (this.viewOf !== buf || view.length !== pos) view = buf.subarray(0, pos);
    if (pos > this.peak) this.peak = pos;
    const next = this.spare ?? new Uint8Array(buf.length > KEEP_MAX ? MIN_SIZE : buf.length);
    // The views swap with their buffers.
    this.view = this.spareView;
    this.viewOf = this.spare === undefined ? EMPTY : this.spare;
    // A buffer a huge batch grew is not kept as the spare: it goes once its write is done.
    if (buf.length > KEEP_MAX) {
      this.spare = undefined;
      this.spareView = EMPTY;
    } else {
      this.spare = buf;
      this.spareView = view;
    }
    this.buf = next;
    this.pos = 0;
    return view;
  }

  /**
   * Trims the buffers to what recent batches needed, as Redis resizes a client's reply buffer in
   * its cron: with `idle`, both are dropped (the next reply allocates again); otherwise a buffer
   * more than twice the largest batch since the last call is reallocated to fit it. Does nothing
   * while unsent replies are in the buffer. A buffer lent to a write in progress is only
   * forgotten, never written to, so the write stays intact. Writers made with a fixed size
   * (persistence, replication) keep their buffers.
   *
   * @param idle true when the connection has been idle (no command for a while)
   * @returns bytes no longer held
   */
  shrink(idle: boolean): number {
    if (this.pos !== 0 || this.size > 0) return 0;
    const before = this.capacity;
    this.view = this.viewOf = this.spareView = EMPTY;
    if (idle) {
      this.buf = EMPTY;
      this.spare = undefined;
    } else {
      let fit = MIN_SIZE;
      while (fit < this.peak) fit *= 2;
      if (this.buf.length > 2 * fit) this.buf = new Uint8Array(fit);
      if (this.spare !== undefined && this.spare.length > 2 * fit) this.spare = undefined;
    }
    this.peak = 0;
    return before - this.capacity;
  }

  /** Drops everything written after `mark` (used to discard a reply). */
  truncate(mark: number): void {
    // Parts are made only by connections' writers, which are never truncated.
    if (mark < this.partsLength) throw new RangeError("Cannot truncate into a written part");
    this.pos = mark - this.partsLength;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = Math.max(this.buf.length * 2, MIN_SIZE);
    while (size < this.pos + n) size *= 2;
    // One huge write (a big string) into a buffer holding less gets what it needs and a little
    // more, not up to twice that; writes of that size piling up still double the buffer.
    if (n > KEEP_MAX && this.pos < n) size = Math.min(size, this.pos + n + KEEP_MAX);
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  private crlf(): void {
    this.buf[this.pos++] = 13;
    this.buf[this.pos++] = 10;
  }

  /** Appends raw bytes. */
  raw(bytes: Uint8Array): void {
    const n = bytes.length;
    this.ensure(n);
    const b = this.buf;
    if (n <= 16) {
      for (let i = 0; i < n; i++) b[this.pos + i] = bytes[i]!;
    } else {
      b.set(bytes, this.pos);
    }
    this.pos += n;
  }

  /** Appends a binary string verbatim. */
  rawStr(s: string): void {
    const n = s.length;
    this.ensure(n);
    if (n > 64) {
      this.pos += writeStr(this.buf, this.pos, s);
      return;
    }
    // Short strings (a script's reply) by hand: Deno's Buffer#latin1Write is JavaScript that
    // allocates per call (asciiToBytes, ~0.4 us a call in the EVALSHA profile).
    const b = this.buf;
    const p = this.pos;
    for (let i = 0; i < n; i++) b[p + i] = s.charCodeAt(i);
    this.pos = p + n;
  }

  private int(n: number): void {
    // Integers are written digit by digit: no string is allocated for the common small counts.
    const b = this.buf;
    if (n < 0) {
      b[this.pos++] = 45;
      n = -n;
    }
    if (n < 10) {
      b[this.pos++] = 48 + n;
      return;
    }
    if (n >= 1e15) {
      const s = String(n);
      this.pos += writeStr(b, this.pos, s);
      return;
    }
    let digits = 2;
    for (let t = 100; t <= n && digits < 15; t *= 10) digits++;
    let p = this.pos + digits;
    this.pos = p;
    // Below 2^31 the division is an integer one (`| 0`), cheaper than Math.floor of a double.
    while (n >= 0x80000000) {
      const q = Math.floor(n / 10);
      b[--p] = 48 + (n - q * 10);
      n = q;
    }
    while (n >= 10) {
      const q = (n / 10) | 0;
      b[--p] = 48 + (n - q * 10);
      n = q;
    }
    b[--p] = 48 + n;
  }

  /** `<prefix><n>\r\n` — a length or integer header. */
  header(prefix: number, n: number): void {
    this.ensure(24);
    this.buf[this.pos++] = prefix;
    this.int(n);
    this.crlf();
  }

  /** A bulk string reply. */
  bulk(s: string): void {
    const len = s.length;
    if (len >= PART_MIN && this.size === 0) {
      return this.bulkPart(len, (part, at) => writeStr(part, at, s));
    }
    this.ensure(len + 24);
    this.buf[this.pos++] = 36;
    this.int(len);
    this.crlf();
    this.pos += writeStr(this.buf, this.pos, s);
    this.crlf();
  }

  /** A bulk string reply given as bytes. */
  bulkBytes(bytes: Uint8Array): void {
    if (bytes.length >= PART_MIN && this.size === 0) {
      return this.bulkPart(bytes.length, (part, at) => part.set(bytes, at));
    }
    this.header(36, bytes.length);
    this.raw(bytes);
    this.ensure(2);
    this.crlf();
  }

  /** A status reply (`+text`). */
  simple(s: string): void {
    this.ensure(s.length + 3);
    this.buf[this.pos++] = 43;
    this.pos += writeStr(this.buf, this.pos, s);
    this.crlf();
  }

  /** An error reply; CR and LF in the message become spaces as Redis does. */
  error(message: string): void {
    const clean = /[\r\n]/.test(message) ? message.replace(/[\r\n]+/g, " ") : message;
    this.ensure(clean.length + 3);
    this.buf[this.pos++] = 45;
    this.pos += writeStr(this.buf, this.pos, clean);
    this.crlf();
  }

  /** An integer reply. */
  integer(n: number | bigint): void {
    if (typeof n === "bigint" || !Number.isSafeInteger(n)) {
      this.simpleLine(58, String(typeof n === "number" ? Math.trunc(n) : n));
      return;
    }
    this.header(58, n);
  }

  private simpleLine(prefix: number, s: string): void {
    this.ensure(s.length + 3);
    this.buf[this.pos++] = prefix;
    this.pos += writeStr(this.buf, this.pos, s);
    this.crlf();
  }

  /** The null reply for the protocol: `$-1` (RESP2) or `_` (RESP3). */
  nil(resp: number): void {
    if (resp === 3) this.rawStr("_\r\n");
    else this.rawStr("$-1\r\n");
  }

  /** An array header for `n` items. */
  arrayHeader(n: number): void {
    this.header(42, n);
  }

  /** Encodes any reply for protocol version `resp`. */
  reply(r: Reply, resp: number): void {
    switch (typeof r) {
      case "string":
        return this.bulk(r);
      case "number":
        return this.integer(r);
      case "bigint":
        return this.integer(r);
      case "object":
        break;
      default:
        throw new TypeError(`Unknown reply: ${typeof r}`);
    }
    if (r === null) return this.nil(resp);
    if (r === R.ok) return this.raw(OK_BYTES);
    if (Array.isArray(r)) {
      this.header(42, r.length);
      for (let i = 0; i < r.length; i++) this.reply(r[i]!, resp);
      return;
    }
    if (r instanceof SimpleString) return this.simple(r.value);
    if (r instanceof ErrorReply) return this.error(r.message);
    if (r instanceof MapReply) {
      const n = r.entries.length;
      this.header(resp === 3 ? 37 : 42, resp === 3 ? n / 2 : n);
      for (let i = 0; i < n; i++) this.reply(r.entries[i]!, resp);
      return;
    }
    if (r instanceof SetReply) {
      this.header(resp === 3 ? 126 : 42, r.items.length);
      for (const item of r.items) this.reply(item, resp);
      return;
    }
    if (r instanceof DoubleReply) {
      const text = r.text ??
        (this.compat === undefined || this.compat.v72
          ? formatDouble72(r.value)
          : formatDouble(r.value));
      if (resp === 3) return this.simpleLine(44, text);
      return this.bulk(text);
    }
    if (r instanceof BoolReply) {
      if (resp === 3) return this.rawStr(r.value ? "#t\r\n" : "#f\r\n");
      return this.header(58, r.value ? 1 : 0);
    }
    if (r instanceof PushReply) {
      this.header(resp === 3 ? 62 : 42, r.items.length);
      for (const item of r.items) this.reply(item, resp);
      return;
    }
    if (r instanceof VerbatimReply) {
      if (resp !== 3) return this.bulk(r.text);
      this.header(61, r.text.length + 4);
      this.rawStr(r.format + ":");
      this.rawStr(r.text);
      this.ensure(2); // the text may end exactly at the end of the buffer
      this.crlf();
      return;
    }
    if (r instanceof RawReply) {
      return typeof r.bytes === "string" ? this.rawStr(r.bytes) : this.raw(r.bytes);
    }
    if (r instanceof BulkBytes) return this.bulkBytes(r.bytes);
    if (r instanceof BigNumberReply) {
      if (resp === 3) return this.simpleLine(40, r.digits);
      return this.bulk(r.digits);
    }
    if (r instanceof NullArray) {
      if (resp === 3) this.rawStr("_\r\n");
      else this.rawStr("*-1\r\n");
      return;
    }
    if (r instanceof NoReply) return;
    throw new TypeError("Unknown reply object");
  }
}
