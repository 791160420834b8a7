/**
 * String values kept as bytes. Redis accepts strings up to `proto-max-bulk-len` (512 MB by
 * default); V8 caps a string at 2^29 - 24 characters, 24 bytes short of that. A value past the
 * cap is a {@linkcode BigString}: its bytes in a Uint8Array, off the JavaScript heap, with TYPE
 * `string` and OBJECT ENCODING `raw`.
 *
 * Big values shorter than the cap may be one too: a request argument of at least
 * {@linkcode BYTES_MIN} bytes arrives as bytes, and SET and its family store those bytes as they
 * are (no decoding to a string on the way in, none to bytes on the way out: for 1 MiB values on
 * Deno that decoding was ~460 us of a SET's CPU and the JS encoding loop ~3 ms of a GET's for a
 * binary value; on Node, latin1Slice and the GC of the strings were most of a SET). So a string
 * value is either a binary string (any length up to the cap) or a BigString (usually at least
 * BYTES_MIN bytes, always for values past the cap): every reader of string values accepts both.
 * Code that needs a JS string of a BigString short enough gets one from
 * {@linkcode smallString} / {@linkcode stringOf}; only values past the cap answer
 * {@linkcode BIG_ERROR} there.
 *
 * A request argument of at least BYTES_MIN bytes (from the third argument on) is not a string in
 * argv: the parser puts {@linkcode BIG_ARG_MARK} in its place and records the bytes beside the
 * argv array ({@linkcode bigArg} finds them); the client flags the command (`CF.bigArgs`), and a
 * gate ({@linkcode bigArgGate}) turns every such argument the command does not take as bytes
 * into a string (a command's spec names the one position it takes as bytes, `bigArg`, and
 * `bigArgBytes` when it takes one shorter than the cap too), answering {@linkcode BIG_ERROR}
 * for one past the cap. Every other command sees strings only, and the hot path of small
 * requests pays nothing: a command is flagged only when an argument is this long. MULTI keeps
 * the same argv array, so a queued command still finds its bytes.
 *
 * The bytes of an argument are owned by that argument alone (the parser hands over the buffer it
 * read them into, or a copy), so a command may keep them as the value it stores.
 *
 * @module
 */

import { bytesToStr, writeStr } from "../bytes.ts";
import type { Client } from "../client.ts";
import type { Command } from "../command.ts";
import type { Database, TypedValue, Value } from "../keyspace/database.ts";
import { giveBuffer } from "../resp/arg_buffers.ts";
import { ErrorReply, fail } from "../resp/reply.ts";
import { fastClasses } from "../fast_class.ts";

/**
 * Arguments at least this long (from the third on) arrive as bytes, and SET and its family store
 * them so. Below it, decoding to a string costs less than a typed array per value (the string
 * is also smaller in memory); above it the decode and encode dominate a request (profiles of
 * 100 KiB and 1 MiB SET/GET, see bench/bigvalues.ts).
 */
export const BYTES_MIN = 32 * 1024;

/** V8's String::kMaxLength on 64-bit machines (Node and Deno): 2^29 - 24 characters. */
export const MAX_STRING_LENGTH = (1 << 29) - 24;

/** The answer of a command that cannot take or return a string this long (Redis's wording). */
export const BIG_ERROR = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

/**
 * Bytes per command when a big string is written out as commands (propagated, or in a rewritten
 * AOF): a SET of the first part, then APPENDs, each an ordinary string.
 */
export const PART_BYTES = 64 << 20;

/** Growth beyond the needed size when a big string is extended (Redis's sds adds 1 MB). */
const GROW_SLACK = 1 << 20;

/** Bytes of a big string beyond its buffer (the object, the typed array, the ArrayBuffer). */
const OVERHEAD = 160;

/**
 * A string value held as bytes in a growable buffer: one longer than
 * {@linkcode MAX_STRING_LENGTH}, or a big one stored from a request's bytes.
 */
export class BigString implements TypedValue {
  /** What TYPE reports: it is a string to every client. */
  readonly type = "string";
  /** The buffer; bytes `[0, length)` are the value, the rest is room to grow. */
  private buf: Uint8Array;
  /** The value's length in bytes. */
  length: number;

  /**
   * Wraps bytes (owned by the value from now on).
   *
   * @param bytes the value's bytes
   */
  constructor(bytes: Uint8Array) {
    this.buf = bytes;
    this.length = bytes.length;
  }

  /**
   * A big string holding `s` followed by `size - s.length` zero bytes.
   *
   * @param s the first bytes (a binary string)
   * @param size the length of the value
   * @returns the value
   */
  static fromString(s: string, size: number): BigString {
    const bytes = new Uint8Array(size);
    writeStr(bytes, 0, s);
    return new BigString(bytes);
  }

  /** OBJECT ENCODING: a string this long is `raw` in Redis. */
  encoding(): string {
    return "raw";
  }

  /** A copy (COPY, a background save preserving the value before a write). */
  clone(): BigString {
    return new BigString(this.buf.slice(0, this.length));
  }

  /** Bytes held (MEMORY USAGE, used_memory). */
  memoryUsage(): number {
    return this.buf.length + OVERHEAD;
  }

  /** The value's bytes as a view: valid until the value next changes. */
  get bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  /** True when the whole value fits a JavaScript string. */
  get fitsString(): boolean {
    return this.length <= MAX_STRING_LENGTH;
  }

  /** Bytes `[from, to)` as a binary string (the caller keeps the range under the JS limit). */
  slice(from: number, to: number): string {
    return bytesToStr(this.buf, from, to);
  }

  /** The byte at `i` (0 past the end). */
  byteAt(i: number): number {
    return i < this.length ? this.buf[i]! : 0;
  }

  /** Makes the value `size` bytes long at least, zero-filling what it adds. */
  grow(size: number): void {
    if (size <= this.length) return;
    if (size > this.buf.length) {
      const next = new Uint8Array(size + GROW_SLACK);
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
    } else {
      this.buf.fill(0, this.length, size);
    }
    this.length = size;
  }

  /** Writes binary string `s` at `offset`, growing the value as needed. */
  write(offset: number, s: string): void {
    this.grow(offset + s.length);
    writeStr(this.buf, offset, s);
  }

  /** Writes `bytes` at `offset`, growing the value as needed. */
  writeBytes(offset: number, bytes: Uint8Array): void {
    this.grow(offset + bytes.length);
    this.buf.set(bytes, offset);
  }

  /**
   * Hands the buffer over (to the parsers' spares): the value must not be used after this.
   *
   * @returns the buffer
   */
  release(): Uint8Array {
    const buf = this.buf;
    this.buf = new Uint8Array(0);
    this.length = 0;
    return buf;
  }

  /** Sets byte `i` (inside the value). */
  setByte(i: number, b: number): void {
    this.buf[i] = b;
  }
}

// `instanceof BigString` runs on every SET over a key and every GET of another type.
fastClasses([BigString]);

/** True when `v` is a big string. */
export function isBig(v: Value | undefined): v is BigString {
  return v instanceof BigString;
}

/**
 * The string at a key as a string command reads it: a binary string (a BigString's bytes
 * decoded), undefined when absent; a value past the string cap answers {@linkcode BIG_ERROR},
 * any other type WRONGTYPE (`wrongType`).
 *
 * @param v the value
 * @param wrongType the error for another type
 * @returns the string or undefined
 */
export function smallString(v: Value | undefined, wrongType: string): string | undefined {
  if (v === undefined || typeof v === "string") return v;
  return v instanceof BigString ? stringOf(v) : fail(wrongType);
}

/**
 * A big string's bytes as a binary string; {@linkcode BIG_ERROR} past the cap.
 *
 * @param v the value
 * @returns the string
 */
export function stringOf(v: BigString): string {
  return v.fitsString ? v.slice(0, v.length) : fail(BIG_ERROR);
}

/**
 * Gives the buffer of a big value a SET just replaced back to the parsers' spares, as Redis frees
 * the old value at once: without it every big SET reads into fresh memory, and the page faults
 * and the GC of the dropped buffers cost more than the decoding saved (1 MiB SETs on Deno:
 * op_read 25% and GC 20% of the CPU). Only when nothing else can hold the bytes: no snapshot is
 * being written (a background save or sync keeps replaced values), and the caller sends no
 * reply reading them (a socket client's writer copies a reply's bytes when the command ends).
 *
 * @param db the database the value was in
 * @param old the value replaced
 */
export function recycle(db: Database, old: Value | undefined): void {
  if (old instanceof BigString && db.beforeWrite === undefined) giveBuffer(old.release());
}

/**
 * What the parser puts in argv in place of an argument too long for a string. A client may send
 * these bytes too: only {@linkcode bigArg} tells a real big argument.
 */
export const BIG_ARG_MARK = "\0<argument longer than a string can be>\0";

/** Big arguments by argv array, then by position. */
const bigArgs = new WeakMap<string[], Map<number, BigString>>();

/**
 * Records the bytes of a big argument at `argv[index]` (the parser does it).
 *
 * @param argv the argument vector (holding {@linkcode BIG_ARG_MARK} at `index`)
 * @param index the position
 * @param value the argument's bytes
 */
export function setBigArg(argv: string[], index: number, value: BigString): void {
  let m = bigArgs.get(argv);
  if (m === undefined) bigArgs.set(argv, m = new Map());
  m.set(index, value);
}

/**
 * The big argument at `argv[index]`, or undefined when that argument is an ordinary string.
 *
 * @param argv the argument vector
 * @param index the position
 * @returns the bytes of the argument, when big
 */
export function bigArg(argv: string[], index: number): BigString | undefined {
  return argv[index] === BIG_ARG_MARK ? bigArgs.get(argv)?.get(index) : undefined;
}

/**
 * Positions of the big arguments of `argv` (empty for an ordinary command).
 *
 * @param argv the argument vector
 * @returns the positions
 */
export function bigArgPositions(argv: string[]): number[] {
  const m = bigArgs.get(argv);
  return m === undefined ? [] : [...m.keys()];
}

/**
 * An argument as the slow log and MONITOR show it: a big one as its first bytes and how many
 * more there are (what the slow log prints for any long argument).
 *
 * @param argv the argument vector
 * @param index the position
 * @param keep bytes shown
 * @returns the text
 */
export function describeArg(argv: string[], index: number, keep = 128): string {
  const big = bigArg(argv, index);
  if (big === undefined) return argv[index]!;
  return `${big.slice(0, keep)}... (${big.length - keep} more bytes)`;
}

/**
 * The gate of commands with a big argument (run only for clients flagged `CF.bigArgs`): an
 * argument the command does not take as bytes becomes a string (its buffer goes back to the
 * parsers' spares), or answers {@linkcode BIG_ERROR} when past the string cap. A command takes
 * bytes at its spec's `bigArg` position: past the cap always, shorter ones with `bigArgBytes`.
 *
 * @param _client the client
 * @param cmd the command
 * @param argv its arguments
 * @returns the error, or undefined to let the command run
 */
export function bigArgGate(_client: Client, cmd: Command, argv: string[]): ErrorReply | undefined {
  const m = bigArgs.get(argv);
  if (m === undefined) return undefined;
  const allowed = cmd.spec.bigArg;
  const bytes = cmd.spec.bigArgBytes === true;
  for (const [i, big] of m) {
    if (i === allowed && (bytes || !big.fitsString)) continue;
    if (!big.fitsString) return new ErrorReply(BIG_ERROR);
    argv[i] = big.slice(0, big.length);
    m.delete(i);
    giveBuffer(big.release());
  }
  return undefined;
}
