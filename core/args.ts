/**
 * Argument parsing helpers shared by command handlers: typed conversions that throw Redis's
 * exact error replies, and a cursor for option lists (`[NX | XX] [EX seconds]`).
 *
 * @module
 */

import { parseFloatStrict, parseI64, parseInteger } from "./bytes.ts";
import { E, fail } from "./resp/reply.ts";

/** An int64 argument as a number (ERR value is not an integer or out of range). */
export function intArg(s: string, error: string = E.notInteger): number {
  const n = parseInteger(s);
  return n === undefined ? fail(error) : n;
}

/** An int64 argument, exact (bigint when past 2^53). */
export function i64Arg(s: string, error: string = E.notInteger): number | bigint {
  const n = parseI64(s);
  return n === undefined ? fail(error) : n;
}

/**
 * A 32-bit signed integer argument, checked as Redis's `getIntFromObjectOrReply` does: text that
 * is not an int64 fails with `error` (or the usual text), an int64 outside the int32 range with
 * `error` (or Redis's "value is out of range" text).
 */
export function i32Arg(s: string, error?: string): number {
  const n = parseInteger(s);
  if (n === undefined) return fail(error ?? E.notInteger);
  if (n < -2147483648 || n > 2147483647) {
    return fail(
      error ?? "ERR value is out of range, value must between -2147483648 and 2147483647",
    );
  }
  return n;
}

/** A non-negative integer argument with its own error text. */
export function posIntArg(s: string, error: string): number {
  const n = parseInteger(s);
  return n === undefined || n < 0 ? fail(error) : n;
}

/** A double argument (ERR value is not a valid float); NaN is refused. */
export function floatArg(s: string, error: string = E.notFloat): number {
  const n = parseFloatStrict(s);
  return n === undefined ? fail(error) : n;
}

/** A cursor over argv from a position, for commands with option lists. */
export class ArgCursor {
  /**
   * Starts reading `argv` at `pos`.
   *
   * @param argv the whole argument vector
   * @param pos index of the first argument to read
   */
  constructor(readonly argv: string[], public pos: number) {}

  /** True when every argument was read. */
  get done(): boolean {
    return this.pos >= this.argv.length;
  }

  /** Arguments left. */
  get left(): number {
    return this.argv.length - this.pos;
  }

  /** The next argument uppercased, without consuming it (empty string at the end). */
  peekUpper(): string {
    return this.pos < this.argv.length ? this.argv[this.pos]!.toUpperCase() : "";
  }

  /** The next argument uppercased; ERR syntax error at the end. */
  nextUpper(): string {
    return this.next().toUpperCase();
  }

  /** The next argument; ERR syntax error at the end. */
  next(): string {
    if (this.pos >= this.argv.length) fail(E.syntax);
    return this.argv[this.pos++]!;
  }

  /** The next argument as an integer; ERR syntax error at the end. */
  int(error: string = E.notInteger): number {
    return intArg(this.next(), error);
  }

  /** The next argument as a double. */
  float(error: string = E.notFloat): number {
    return floatArg(this.next(), error);
  }
}
