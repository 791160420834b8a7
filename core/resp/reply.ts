/**
 * Reply values. A command handler returns one of these and never touches a socket; the client
 * encodes it for the protocol version the connection speaks (RESP2 or RESP3).
 *
 * - `string`: a bulk string (binary string, see `core/bytes.ts`)
 * - `number` (an integer) or `bigint`: an integer reply
 * - `null`: the null bulk string (`$-1` in RESP2, `_` in RESP3)
 * - `Reply[]`: an array
 * - the classes below for everything else
 *
 * @module
 */

import { fastClasses } from "../fast_class.ts";

/** Any reply a command can return. */
export type Reply =
  | string
  | number
  | bigint
  | null
  | Reply[]
  | SimpleString
  | ErrorReply
  | DoubleReply
  | BoolReply
  | MapReply
  | SetReply
  | PushReply
  | VerbatimReply
  | BigNumberReply
  | RawReply
  | BulkBytes
  | NullArray
  | NoReply;

/** `+text`: a status reply. */
export class SimpleString {
  /**
   * Wraps a status text.
   *
   * @param value the status text (no CR or LF)
   */
  constructor(readonly value: string) {}
}

/**
 * `-CODE message`: an error reply. Thrown or returned by handlers. Not an `Error`: capturing a
 * stack trace would cost more than the command (about 6 µs), and an error reply is an answer,
 * not a fault.
 */
export class ErrorReply {
  /** Already counted in the error stats (a script passing on the error of a command it ran). */
  noStats = false;

  /**

   * Wraps an error line.

   *

   * @param message the whole line, code first, e.g. `ERR syntax error`

   */
  constructor(readonly message: string) {}
  /** The error code: the first word of the message (`ERR`, `WRONGTYPE`, ...). */
  get code(): string {
    const sp = this.message.indexOf(" ");
    return sp < 0 ? this.message : this.message.slice(0, sp);
  }
}

/** A double: `,1.5` in RESP3, a bulk string formatted like `%.17g` in RESP2. */
export class DoubleReply {
  /**
   * Wraps a double.
   *
   * @param value the double
   * @param text its text when not `%.17g` (GEOPOS's human `%.17Lf` form)
   */
  constructor(readonly value: number, readonly text?: string) {}
}

/** A boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2. */
export class BoolReply {
  /**
   * Wraps a boolean.
   *
   * @param value the boolean
   */
  constructor(readonly value: boolean) {}
}

/** A map: `%n` in RESP3, a flat array of 2n items in RESP2. */
export class MapReply {
  /**
   * Wraps map entries.
   *
   * @param entries keys and values, alternating
   */
  constructor(readonly entries: Reply[]) {}
}

/** A set: `~n` in RESP3, an array in RESP2. */
export class SetReply {
  /**
   * Wraps set members.
   *
   * @param items the members
   */
  constructor(readonly items: Reply[]) {}
}

/** An out-of-band push: `>n` in RESP3, an array in RESP2. */
export class PushReply {
  /**
   * Wraps a push message.
   *
   * @param items the message parts
   */
  constructor(readonly items: Reply[]) {}
}

/** Verbatim text: `=n\r\ntxt:...` in RESP3, a bulk string in RESP2. */
export class VerbatimReply {
  /**
   * Wraps verbatim text.
   *
   * @param text the text
   * @param format three-letter format, `txt` or `mkd`
   */
  constructor(readonly text: string, readonly format = "txt") {}
}

/** A big number: `(digits` in RESP3, a bulk string in RESP2 (a script's `{big_number=...}`). */
export class BigNumberReply {
  /**
   * Wraps a big number.
   *
   * @param digits the number's text
   */
  constructor(readonly digits: string) {}
}

/** A reply already encoded for the client's protocol (a script's result), written as is. */
export class RawReply {
  /**
   * Wraps encoded bytes.
   *
   * @param bytes the RESP bytes, or a binary string of them (cheaper to make when short)
   */
  constructor(readonly bytes: Uint8Array | string) {}
}

/**
 * A bulk string given as bytes: a value too long for a JS string (core/types/big_string.ts).
 * The bytes are read when the reply is encoded.
 */
export class BulkBytes {
  /**
   * Wraps the bytes of a bulk string.
   *
   * @param bytes the string's bytes
   */
  constructor(readonly bytes: Uint8Array) {}
}

/** The null array: `*-1` in RESP2, `_` in RESP3. */
export class NullArray {
  /** Brand, so the type is not structurally empty. */
  readonly kind = "null-array";
}

/** No reply at all (the command answered out of band, or blocked the client). */
export class NoReply {
  /** Brand, so the type is not structurally empty. */
  readonly kind = "no-reply";
}

/** Shared reply values. */
export const R = {
  ok: new SimpleString("OK"),
  queued: new SimpleString("QUEUED"),
  pong: new SimpleString("PONG"),
  nullArray: new NullArray(),
  none: new NoReply(),
  emptyArray: [] as Reply[],
} as const;

/** Error texts exactly as Redis words them. */
export const E = {
  syntax: "ERR syntax error",
  wrongType: "WRONGTYPE Operation against a key holding the wrong kind of value",
  notInteger: "ERR value is not an integer or out of range",
  notFloat: "ERR value is not a valid float",
  noSuchKey: "ERR no such key",
  overflow: "ERR increment or decrement would overflow",
  outOfRange: "ERR index out of range",
  dbIndex: "ERR DB index is out of range",
  invalidExpire: (cmd: string) => `ERR invalid expire time in '${cmd}' command`,
  wrongArgs: (cmd: string) => `ERR wrong number of arguments for '${cmd}' command`,
} as const;

/** Throws the error reply `message`; handlers use it to bail out of argument parsing. */
export function fail(message: string): never {
  throw new ErrorReply(message);
}

/** The reply of a HELP subcommand: one status line per text line. */
export function helpReply(lines: string[]): Reply {
  return lines.map((l) => new SimpleString(l));
}

// The reply path tests these with instanceof for every command (see core/fast_class.ts).
fastClasses([
  SimpleString,
  ErrorReply,
  DoubleReply,
  BoolReply,
  MapReply,
  SetReply,
  PushReply,
  VerbatimReply,
  BigNumberReply,
  RawReply,
  BulkBytes,
  NullArray,
  NoReply,
]);
