/**
 * The incremental request parser: RESP multibulk (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) and inline
 * commands (`GET k\r\n`, as telnet and `redis-cli` pipes send them). Bytes arrive in chunks split
 * at any point; the parser keeps its position inside a frame between chunks, so a 500 MB argument
 * is copied once, not re-scanned on every read. The parser reads straight from the caller's chunk
 * and keeps its own copy only of a frame split across reads; {@linkcode RequestParser.trim} gives
 * that storage back once it is no longer needed.
 *
 * @module
 */

import { bytesToStr } from "../bytes.ts";
import {
  BIG_ARG_MARK,
  BigString,
  BYTES_MIN,
  MAX_STRING_LENGTH,
  setBigArg,
} from "../types/big_string.ts";
import { dropIdleBuffers, giveBuffer, takeBuffer } from "./arg_buffers.ts";
import { commandName, RECENT_MAX, RecentStrings } from "./recent_strings.ts";
import { splitArgs } from "./split_args.ts";

export { splitArgs };

/**
 * Arguments of at least this many bytes make a command large: checked against the heap's room
 * before it runs, where smaller ones are only checked once per batch of commands.
 */
export const LARGE_COMMAND = 64 * 1024;
/** Largest inline request or length line Redis accepts before a newline (64 KiB). */
const INLINE_MAX = 64 * 1024;
/** Arguments at least this long are read straight into their own buffer. */
const BIG_ARG = 32 * 1024;
const INT_MAX = 2147483647;
/** Memory an argument costs beyond its bytes (a JS string header), for the query buffer limit. */
const ARG_OVERHEAD = 32;
const EMPTY = new Uint8Array(0);
/** Storage kept for partial frames is trimmed back to this when it is bigger than needed. */
const KEEP_SMALL = 4096;
/** The argument vector between frames: a frame replaces it before pushing anything. */
const NO_ARGS: string[] = [];
/**
 * A frame's argv is allocated for its announced count up to this many arguments (Redis's own
 * cap), so a client announcing millions holds no more until they arrive. (An empty array grown
 * by push takes room for 17 at the first one: most of a short command's garbage.)
 */
const ARGV_PREALLOC = 1024;

/** Recently parsed short arguments, shared by every parser (see core/resp/recent_strings.ts). */
const recent = new RecentStrings(256);

/** Raised for a malformed request; the message is Redis's, sent before closing the connection. */
export class ProtocolError extends Error {}

/** Server-wide limits, read on every frame so CONFIG SET takes effect at once. */
export interface ParserLimits {
  /** `proto-max-bulk-len`: largest bulk argument. */
  maxBulkLen: number;
}

/** Parses requests from a byte stream into argument vectors of binary strings. */
export class RequestParser {
  private buf: Uint8Array = EMPTY;
  private pos = 0;
  private end = 0;
  /** Storage the parser owns for bytes that must outlive the caller's chunk. */
  private own: Uint8Array = EMPTY;
  // State of a multibulk frame in progress.
  private argc = 0;
  private argv: string[] = NO_ARGS;
  /** How many arguments of the frame in progress are in argv. */
  private argi = 0;
  private bulkLen = -1;
  private argBytes = 0;
  // A big argument being filled in place.
  private big: Uint8Array | null = null;
  private bigFill = 0;
  /** Arguments of the frame in progress too long for a string. */
  private bigs = 0;

  /** True until the client authenticates when a password is required (tighter limits). */
  authRequired = false;
  /**
   * Set when the command {@linkcode next} returned holds an argument kept as bytes (see
   * core/types/big_string.ts), always with {@linkcode lastLarge}; the caller clears it.
   */
  lastBig = false;
  /**
   * Set when the command {@linkcode next} returned brings at least {@linkcode LARGE_COMMAND}
   * bytes of arguments (always with {@linkcode lastBig}): the memory gate checks it against the
   * heap's room (core/memory/oom.ts). The caller clears it.
   */
  lastLarge = false;

  /** @param limits the server's limits (shared, live) */
  constructor(private readonly limits: ParserLimits) {}

  /** Bytes received and not yet turned into a command (the query buffer, for limits and INFO). */
  get pending(): number {
    return this.end - this.pos + this.bigFill + this.argBytes;
  }

  /** Bytes received and not parsed yet (Redis's `qbuf`: parsed arguments have left it). */
  get unparsed(): number {
    return this.end - this.pos + this.bigFill;
  }

  /** Bytes of the arguments of the frame in progress parsed so far (Redis's `argv_len_sum`). */
  get argsPending(): number {
    // A big argument counts its CRLF too: 2 bytes off, of 32 KiB at least.
    return this.argBytes - ARG_OVERHEAD * this.argi;
  }

  /**
   * Bytes of storage the parser holds (for memory accounting): its copy of partial frames and
   * the buffer of a big argument being received, whether filled yet or not (all of it: a spare
   * buffer may be bigger than the argument, see core/resp/arg_buffers.ts).
   */
  get capacity(): number {
    return this.own.length + (this.big?.buffer.byteLength ?? 0);
  }

  /**
   * Bytes the parser holds (for memory accounting): its storage, the arguments of a frame in
   * progress, and during a read the unparsed bytes still in the caller's chunk.
   */
  get memory(): number {
    const borrowed = this.buf !== this.own ? this.end - this.pos : 0;
    return this.capacity + this.argBytes + borrowed;
  }

  /**
   * Gives back storage no longer needed, as Redis trims an idle client's query buffer in its
   * cron: all of it when nothing is pending, else what exceeds twice the pending bytes. Call it
   * between reads, never during one (after {@linkcode release}). Spare big-argument buffers
   * unused for 2 s are dropped too.
   *
   * @returns bytes no longer held
   */
  trim(): number {
    // Not counted as this parser's: the spares are the server's.
    dropIdleBuffers();
    const before = this.own.length;
    if (before === 0 || this.buf !== this.own && this.pos !== this.end) return 0;
    const have = this.end - this.pos;
    if (have === 0) {
      this.own = EMPTY;
      this.buf = EMPTY;
      this.pos = this.end = 0;
    } else if (before > KEEP_SMALL && before > 2 * have) {
      const dst = new Uint8Array(Math.max(have, KEEP_SMALL));
      dst.set(this.buf.subarray(this.pos, this.end));
      this.own = this.buf = dst;
      this.pos = 0;
      this.end = have;
    }
    return before - this.own.length;
  }

  /**
   * Where the next read may go instead of the transport's own buffer: the unfilled rest of a big
   * argument being received (undefined otherwise). A read into it, then fed as usual, lands in
   * the argument's final buffer without being copied there, as Redis reads a big argument
   * straight into its string.
   */
  readTarget(): Uint8Array | undefined {
    const big = this.big;
    if (big === null || this.pos !== this.end) return undefined;
    return big.subarray(this.bigFill);
  }

  /**
   * Adds received bytes: the first `length` of `chunk`. The chunk may be reused by the caller
   * after {@linkcode release}.
   */
  feed(chunk: Uint8Array, length: number = chunk.length): void {
    if (this.big !== null) {
      if (
        chunk.buffer === this.big.buffer &&
        chunk.byteOffset === this.big.byteOffset + this.bigFill
      ) {
        // Read in place through readTarget(): the bytes are already where they belong.
        this.bigFill += length;
        return;
      }
      const need = this.big.length - this.bigFill;
      const n = Math.min(need, length);
      this.big.set(chunk.subarray(0, n), this.bigFill);
      this.bigFill += n;
      if (n === length) return;
      chunk = chunk.subarray(n, length);
      length -= n;
    }
    if (this.pos === this.end) {
      // Nothing pending: parse straight from the caller's chunk, no copy.
      this.buf = chunk;
      this.pos = 0;
      this.end = length;
      return;
    }
    this.keep(length === chunk.length ? chunk : chunk.subarray(0, length));
  }

  /** Copies unparsed bytes out of a borrowed chunk, so the caller may reuse its read buffer. */
  release(): void {
    if (this.pos === this.end) {
      this.buf = EMPTY;
      this.pos = this.end = 0;
      // A burst may have grown the storage: give it back once it is empty.
      if (this.own.length > 1024 * 1024) this.own = EMPTY;
      return;
    }
    if (this.buf !== this.own) this.keep(EMPTY);
  }

  /**
   * Moves the unparsed bytes (plus `extra`) into the parser's own storage, reusing it whenever
   * it is big enough: typed-array allocations are costly, and a pipelining client would
   * otherwise cause one per read.
   */
  private keep(extra: Uint8Array): void {
    const have = this.end - this.pos;
    const need = have + extra.length;
    let dst = this.own;
    if (this.buf === dst && this.end + extra.length <= dst.length) {
      dst.set(extra, this.end);
      this.end += extra.length;
      return;
    }
    if (need > dst.length) {
      dst = new Uint8Array(Math.max(need * 2, 4096));
      dst.set(this.buf.subarray(this.pos, this.end));
    } else if (this.buf === dst) {
      dst.copyWithin(0, this.pos, this.end);
    } else {
      dst.set(this.buf.subarray(this.pos, this.end));
    }
    dst.set(extra, have);
    this.own = dst;
    this.buf = dst;
    this.pos = 0;
    this.end = need;
  }

  /**
   * The next complete command, or undefined when more bytes are needed. Throws
   * {@linkcode ProtocolError} for malformed input. Empty commands (`*0`, blank lines) are skipped.
   */
  next(): string[] | undefined {
    for (;;) {
      if (this.argc === 0) {
        if (this.pos >= this.end) return undefined;
        if (this.buf[this.pos] !== 42) {
          const argv = this.inline();
          if (argv === undefined) return undefined;
          if (argv.length > 0) return argv;
          continue;
        }
        let n = this.fastCount();
        if (n < 0) {
          const line = this.line("Protocol error: too big mbulk count string");
          if (line < 0) return undefined;
          const len = this.parseLen(this.pos + 1, line);
          if (len === undefined || len > INT_MAX) {
            throw new ProtocolError("Protocol error: invalid multibulk length");
          }
          n = len;
          this.pos = line + 2;
        }
        if (n > 10 && this.authRequired) {
          throw new ProtocolError("Protocol error: unauthenticated multibulk length");
        }
        if (n <= 0) continue;
        this.argc = n;
        this.argv = new Array(n <= ARGV_PREALLOC ? n : ARGV_PREALLOC);
        this.argi = 0;
        this.argBytes = 0;
      }
      if (!this.bulks()) return undefined;
      const argv = this.argv;
      if (this.argBytes >= LARGE_COMMAND || this.bigs !== 0) {
        this.lastLarge = true;
        if (this.bigs !== 0) {
          this.bigs = 0;
          this.lastBig = true;
        }
      }
      this.argv = NO_ARGS;
      this.argi = 0;
      this.argc = 0;
      this.argBytes = 0;
      return argv;
    }
  }

  /** Reads bulk arguments of the current frame; true once all are in. */
  private bulks(): boolean {
    if (this.big === null && this.bulkLen < 0 && this.smallBulks()) return true;
    while (this.argi < this.argc) {
      if (this.big !== null) {
        if (this.bigFill < this.big.length) return false;
        const n = this.big.length - 2;
        if (n > MAX_STRING_LENGTH || (n >= BYTES_MIN && this.argi >= 2)) {
          this.pushBig(this.ownBytes(this.big, n));
        } else {
          this.argv[this.argi++] = bytesToStr(this.big, 0, n);
          giveBuffer(this.big);
        }
        this.argBytes += this.big.length + ARG_OVERHEAD;
        this.big = null;
        this.bigFill = 0;
        this.bulkLen = -1;
        continue;
      }
      if (this.bulkLen < 0 && this.fastBulkHeader()) {
        // Header parsed by the fast path: `$<digits>\r\n`, the common case.
      } else if (this.bulkLen < 0) {
        const line = this.line("Protocol error: too big bulk count string");
        if (line < 0) return false;
        const first = this.buf[this.pos]!;
        if (first !== 36) {
          throw new ProtocolError(
            `Protocol error: expected '$', got '${String.fromCharCode(first)}'`,
          );
        }
        const n = this.parseLen(this.pos + 1, line);
        if (n === undefined || n < 0 || n > this.limits.maxBulkLen) {
          throw new ProtocolError("Protocol error: invalid bulk length");
        }
        if (n > 16384 && this.authRequired) {
          throw new ProtocolError("Protocol error: unauthenticated bulk length");
        }
        this.pos = line + 2;
        this.bulkLen = n;
        if (n >= BIG_ARG && this.end - this.pos < n + 2) {
          // Read the rest of this argument straight into a buffer of its final size.
          this.big = takeBuffer(n + 2);
          const have = this.end - this.pos;
          this.big.set(this.buf.subarray(this.pos, this.end));
          this.bigFill = have;
          this.pos = this.end;
          continue;
        }
      }
      const len = this.bulkLen;
      if (this.end - this.pos < len + 2) return false;
      if (len > MAX_STRING_LENGTH || (len >= BYTES_MIN && this.argi >= 2)) {
        this.pushBig(this.buf.slice(this.pos, this.pos + len));
      } else {
        const arg = this.argi === 0
          ? (len <= 16
            ? commandName(this.buf, this.pos, len)
            : bytesToStr(this.buf, this.pos, this.pos + len))
          : len <= RECENT_MAX && len > 0
          ? recent.get(this.buf, this.pos, len)
          : bytesToStr(this.buf, this.pos, this.pos + len);
        this.argv[this.argi++] = arg;
      }
      this.argBytes += len + ARG_OVERHEAD;
      this.pos += len + 2;
      this.bulkLen = -1;
    }
    return true;
  }

  /**
   * The common case of {@linkcode bulks}, with the position and counts in locals: arguments
   * whose `$<len>\r\n` header is well formed (as fastBulkHeader takes it) and whose bytes are
   * all in the buffer. Stops at the first other one (left to the careful path, which starts at
   * its header); true once the frame's arguments are all in.
   */
  private smallBulks(): boolean {
    const buf = this.buf;
    const end = this.end;
    const argc = this.argc;
    const argv = this.argv;
    // fastBulkHeader's limit: under BIG_ARG (and BYTES_MIN: those arguments are kept as bytes),
    // the proto-max-bulk-len and unauthenticated caps.
    const max = Math.min(
      BIG_ARG - 1,
      BYTES_MIN - 1,
      this.limits.maxBulkLen,
      this.authRequired ? 16384 : INT_MAX,
    );
    let pos = this.pos;
    let argi = this.argi;
    let bytes = this.argBytes;
    while (argi < argc) {
      if (buf[pos] !== 36) break;
      const first = pos + 1;
      let i = first;
      let n = 0;
      let c = 0;
      while (i < end && (c = buf[i]!) >= 48 && c <= 57) {
        n = n * 10 + (c - 48);
        i++;
      }
      const digits = i - first;
      if (
        digits === 0 || digits > 9 || (digits > 1 && buf[first] === 48) || c !== 13 ||
        n > max || i + 4 + n > end || buf[i + 1] !== 10
      ) {
        break;
      }
      const at = i + 2;
      argv[argi] = argi === 0
        ? (n <= 16 ? commandName(buf, at, n) : bytesToStr(buf, at, at + n))
        : n <= RECENT_MAX && n > 0
        ? recent.get(buf, at, n)
        : bytesToStr(buf, at, at + n);
      argi++;
      bytes += n + ARG_OVERHEAD;
      pos = at + n + 2;
    }
    this.pos = pos;
    this.argi = argi;
    this.argBytes = bytes;
    return argi === argc;
  }

  /**
   * The first `n` bytes of a big argument's buffer, owned by the argument from now on: the buffer
   * itself when it is all its own, else a copy (the spare it came from goes back).
   */
  private ownBytes(buf: Uint8Array, n: number): Uint8Array {
    if (buf.byteOffset === 0 && buf.length === buf.buffer.byteLength) return buf.subarray(0, n);
    const copy = buf.slice(0, n);
    giveBuffer(buf);
    return copy;
  }

  /** Adds an argument kept as bytes: a mark in argv, the bytes beside it (see big_string.ts). */
  private pushBig(bytes: Uint8Array): void {
    setBigArg(this.argv, this.argi, new BigString(bytes));
    this.argv[this.argi++] = BIG_ARG_MARK;
    this.bigs++;
  }

  /**
   * Parses a well-formed `*<count>\r\n` header (1 to 7 digits, no sign, no leading zero) at
   * `pos`, which holds the `*`, and moves past it; -1 leaves anything else to the careful path.
   */
  private fastCount(): number {
    const buf = this.buf;
    const end = this.end;
    const first = this.pos + 1;
    let i = first;
    let n = 0;
    let c = 0;
    while (i < end && (c = buf[i]!) >= 48 && c <= 57) {
      n = n * 10 + (c - 48);
      i++;
    }
    const digits = i - first;
    if (
      digits === 0 || digits > 7 || buf[first] === 48 || i + 1 >= end || c !== 13 ||
      buf[i + 1] !== 10
    ) {
      return -1;
    }
    this.pos = i + 2;
    return n;
  }

  /**
   * Parses a well-formed `$<len>\r\n` header in one pass over its bytes. Anything unusual
   * (a sign, a leading zero, a big length, an incomplete line) is left to the careful path.
   */
  private fastBulkHeader(): boolean {
    const buf = this.buf;
    const end = this.end;
    let i = this.pos;
    if (buf[i] !== 36) return false;
    i++;
    const first = i;
    let n = 0;
    let c = 0;
    while (i < end && (c = buf[i]!) >= 48 && c <= 57) {
      n = n * 10 + (c - 48);
      i++;
    }
    const digits = i - first;
    if (
      digits === 0 || digits > 9 || (digits > 1 && buf[first] === 48) || i + 1 >= end ||
      c !== 13 || buf[i + 1] !== 10 || n >= BIG_ARG || n > this.limits.maxBulkLen ||
      (n > 16384 && this.authRequired)
    ) {
      return false;
    }
    this.pos = i + 2;
    this.bulkLen = n;
    return true;
  }

  /** Index of the `\r` ending the line at `pos` (with its `\n` present), or -1 if incomplete. */
  private line(tooBig: string): number {
    const buf = this.buf;
    const end = this.end;
    for (let i = this.pos; i < end; i++) {
      if (buf[i] === 13) {
        if (i + 1 >= end) return -1;
        return i;
      }
    }
    if (end - this.pos > INLINE_MAX) throw new ProtocolError(tooBig);
    return -1;
  }

  /** Parses the decimal number in `[from, to)` as `string2ll` would. */
  private parseLen(from: number, to: number): number | undefined {
    const buf = this.buf;
    if (to <= from || to - from > 20) return undefined;
    let i = from;
    let neg = false;
    if (buf[i] === 45) {
      neg = true;
      i++;
      if (i === to) return undefined;
    }
    if (buf[i] === 48) return to - i === 1 && !neg ? 0 : undefined;
    let n = 0;
    for (; i < to; i++) {
      const c = buf[i]! - 48;
      if (c < 0 || c > 9) return undefined;
      n = n * 10 + c;
    }
    return neg ? -n : n;
  }

  /** Parses one inline command line; undefined when the line is incomplete. */
  private inline(): string[] | undefined {
    const buf = this.buf;
    let nl = -1;
    for (let i = this.pos; i < this.end; i++) {
      const c = buf[i];
      if (c === 10) {
        nl = i;
        break;
      }
      // Redis looks for the newline with strchr, which stops at a NUL: the line never ends.
      if (c === 0) break;
    }
    if (nl < 0) {
      if (this.end - this.pos > INLINE_MAX) {
        throw new ProtocolError("Protocol error: too big inline request");
      }
      return undefined;
    }
    let lineEnd = nl;
    if (lineEnd > this.pos && buf[lineEnd - 1] === 13) lineEnd--;
    const text = bytesToStr(buf, this.pos, lineEnd);
    this.pos = nl + 1;
    const args = splitArgs(text);
    if (args === undefined) throw new ProtocolError("Protocol error: unbalanced quotes in request");
    return args;
  }
}
