/**
 * The input side of a replica's link to its master: bytes arrive in chunks split anywhere; the
 * handshake awaits whole lines, the RDB transfer awaits a byte count or an end mark, and the
 * command stream is cut into whole RESP commands with their exact byte length (offsets count
 * bytes of fully applied commands).
 *
 * @module
 */

import { bytesToStr } from "../core/bytes.ts";
import { RECENT_MAX, RecentStrings } from "../core/resp/recent_strings.ts";
import { BIG_ARG_MARK, BigString, MAX_STRING_LENGTH, setBigArg } from "../core/types/big_string.ts";

/** The link closed (or was cancelled) while a read waited. */
export class LinkClosedError extends Error {}

/** A protocol error in the master's stream. */
export class StreamError extends Error {}

/** Buffered input of one link. */
export class LinkReader {
  private buf = new Uint8Array(16 * 1024);
  private start = 0;
  private end = 0;
  private waiter: (() => void) | undefined;
  private closed = false;
  /** The value parsed by number(). */
  private num = 0;
  /** By length, the last command name decoded (see name()). */
  private readonly names: string[] = new Array<string>(17).fill("");
  /**
   * Short arguments recently decoded (see core/resp/recent_strings.ts): a stream repeats values
   * and keys as a client's requests do, and a repeated one costs no allocation, as on the master.
   */
  private readonly recent = new RecentStrings(256);
  /** The length in bytes of the command {@linkcode frame} returned last. */
  frameBytes = 0;
  /** Whether that command holds an argument too long for a string (see big_string.ts). */
  frameBig = false;

  /** Bytes buffered and not consumed. */
  get length(): number {
    return this.end - this.start;
  }

  /** Adds received bytes and wakes a waiting read. */
  feed(chunk: Uint8Array): void {
    if (this.end + chunk.length > this.buf.length) {
      const have = this.end - this.start;
      const need = have + chunk.length;
      if (need > this.buf.length || this.start === 0) {
        const next = new Uint8Array(Math.max(need, this.buf.length * 2));
        next.set(this.buf.subarray(this.start, this.end));
        this.buf = next;
      } else {
        this.buf.copyWithin(0, this.start, this.end);
      }
      this.start = 0;
      this.end = have;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
    this.wake();
  }

  /** Fails every pending and future read. */
  close(): void {
    this.closed = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private async more(): Promise<void> {
    if (this.closed) throw new LinkClosedError("Connection closed");
    await new Promise<void>((r) => (this.waiter = r));
    if (this.closed) throw new LinkClosedError("Connection closed");
  }

  /** The next line, without its `\r\n` (or `\n`). */
  async line(): Promise<string> {
    for (;;) {
      const nl = this.buf.subarray(this.start, this.end).indexOf(10);
      if (nl >= 0) {
        let stop = this.start + nl;
        if (stop > this.start && this.buf[stop - 1] === 13) stop--;
        const text = bytesToStr(this.buf, this.start, stop);
        this.start += nl + 1;
        return text;
      }
      await this.more();
    }
  }

  /** The next `n` bytes (a copy). */
  async exact(n: number, progress?: (have: number) => void): Promise<Uint8Array> {
    while (this.length < n) {
      progress?.(this.length);
      await this.more();
    }
    const out = this.buf.slice(this.start, this.start + n);
    this.start += n;
    return out;
  }

  /** The bytes before the next occurrence of `mark` (a copy); the mark is consumed too. */
  async untilMark(mark: Uint8Array, progress?: (have: number) => void): Promise<Uint8Array> {
    let from = 0;
    for (;;) {
      const at = this.find(mark, from);
      if (at >= 0) {
        const out = this.buf.slice(this.start, this.start + at);
        this.start += at + mark.length;
        return out;
      }
      from = Math.max(0, this.length - mark.length + 1);
      progress?.(this.length);
      await this.more();
    }
  }

  private find(mark: Uint8Array, from: number): number {
    const buf = this.buf;
    const first = mark[0]!;
    const last = this.end - mark.length;
    outer: for (let i = this.start + from; i <= last; i++) {
      if (buf[i] !== first) continue;
      for (let k = 1; k < mark.length; k++) if (buf[i + k] !== mark[k]) continue outer;
      return i - this.start;
    }
    return -1;
  }

  /**
   * The next complete command of the stream (its length in bytes in {@linkcode frameBytes}), or
   * undefined when more bytes are needed. Throws {@linkcode StreamError} for anything but a RESP
   * array of bulks.
   */
  frame(): string[] | undefined {
    const buf = this.buf;
    const end = this.end;
    let p = this.start;
    if (p >= end) return undefined;
    if (buf[p] !== 42) throw new StreamError(`Unexpected byte in the stream: ${buf[p]}`);
    p = this.number(p + 1);
    if (p < 0) return undefined;
    const argc = this.num;
    // Arguments are decoded as they are found: only the last command of a chunk may be cut, and
    // decoding it twice costs less than a second pass over every command.
    const argv = new Array<string>(argc);
    let big = false;
    for (let i = 0; i < argc; i++) {
      if (p >= end) return undefined;
      if (buf[p] !== 36) throw new StreamError("Expected a bulk string in the stream");
      p = this.number(p + 1);
      if (p < 0) return undefined;
      const len = this.num;
      if (p + len + 2 > end) return undefined;
      if (len > MAX_STRING_LENGTH) {
        // Longer than a string can be (a master's 512 MB SET): kept beside argv.
        setBigArg(argv, i, new BigString(buf.slice(p, p + len)));
        argv[i] = BIG_ARG_MARK;
        big = true;
      } else {
        argv[i] = i === 0
          ? (len <= 16 ? this.name(p, len) : bytesToStr(buf, p, p + len))
          : len <= RECENT_MAX && len > 0
          ? this.recent.get(buf, p, len)
          : bytesToStr(buf, p, p + len);
      }
      p += len + 2;
    }
    this.frameBytes = p - this.start;
    this.frameBig = big;
    this.start = p;
    return argv;
  }

  /**
   * The command name at `p`: the stream repeats a few names, so the last one seen for each
   * length is reused when the bytes match (no allocation).
   */
  private name(p: number, len: number): string {
    const buf = this.buf;
    const known = this.names[len]!;
    if (known.length === len) {
      let i = 0;
      while (i < len && buf[p + i] === known.charCodeAt(i)) i++;
      if (i === len) return known;
    }
    return (this.names[len] = bytesToStr(buf, p, p + len));
  }

  /**
   * Parses a decimal followed by CRLF at `p` into `num`: the position after the CRLF, or -1 when
   * the line is not complete yet.
   */
  private number(p: number): number {
    const buf = this.buf;
    let n = 0;
    let digits = 0;
    for (; p < this.end; p++) {
      const c = buf[p]!;
      if (c === 13) {
        if (p + 1 >= this.end) return -1;
        if (digits === 0 || buf[p + 1] !== 10) throw new StreamError("Bad length in the stream");
        this.num = n;
        return p + 2;
      }
      if (c < 48 || c > 57 || digits > 15) throw new StreamError("Bad length in the stream");
      n = n * 10 + c - 48;
      digits++;
    }
    return -1;
  }

  /** Puts back the frame of `bytes` just read (a command that must wait: CLIENT PAUSE). */
  unread(bytes: number): void {
    this.start -= bytes;
  }

  /** A copy of the `n` bytes before the read position (the commands just applied). */
  consumedTail(n: number): Uint8Array {
    return this.buf.slice(this.start - n, this.start);
  }
}
