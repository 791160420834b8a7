/**
 * A cursor over a listpack's elements that allocates nothing unless asked for a string: stream
 * nodes are mostly small integers (flags, ID deltas, counts), and a stream of a million entries
 * is checked when loaded and decoded again when built, so the walk must be cheap.
 *
 * It checks what listpack.ts's listpackEntries checks (Redis's deep lpValidateIntegrity): header
 * size, element bounds, back lengths, terminator, and the element count at the end.
 *
 * @module
 */

import { bytesToStr, parseI64 } from "../bytes.ts";
import { RdbFormatError } from "./strings.ts";

const HEADER = 6;
const EOF = 0xff;
const COUNT_UNKNOWN = 65535;

function bad(why: string): never {
  throw new RdbFormatError(`Listpack integrity check failed: ${why}`);
}

/** Bytes of the back length of an element of `l` bytes (lpEncodeBacklen). */
function backlenSize(l: number): number {
  return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

/** Walks the elements of one listpack. */
export class ListpackCursor {
  private p = HEADER;
  private readonly last: number;
  private readonly declared: number;
  private seen = 0;
  /** Whether the current element is a string (else an integer). */
  private isString = false;
  /** The current integer, or the current string's start and length. */
  private value: number | bigint = 0;
  private start = 0;
  private len = 0;

  /**
   * @param lp the listpack
   * @throws {RdbFormatError} when its header or terminator is wrong
   */
  constructor(private readonly lp: Uint8Array) {
    const size = lp.length;
    if (size < HEADER + 1) bad("too short");
    if ((lp[0]! | (lp[1]! << 8) | (lp[2]! << 16)) + lp[3]! * 16777216 !== size) {
      bad("size mismatch");
    }
    if (lp[size - 1] !== EOF) bad("no terminator");
    this.last = size - 1;
    this.declared = lp[4]! | (lp[5]! << 8);
  }

  /** Whether elements remain. */
  get more(): boolean {
    return this.p < this.last;
  }

  /**
   * Moves to the next element.
   *
   * @throws {RdbFormatError} when there is none or it is malformed
   */
  next(): void {
    const lp = this.lp;
    const p = this.p;
    const last = this.last;
    if (p >= last) bad("element missing");
    const c = lp[p]!;
    let head = 1;
    let len = 0;
    this.isString = false;
    if (c < 0x80) {
      this.value = c;
    } else if (c < 0xc0) {
      len = c & 0x3f;
      this.isString = true;
    } else if (c < 0xe0) {
      head = 2;
      if (p + 1 >= last) bad("entry out of range");
      const u = ((c & 0x1f) << 8) | lp[p + 1]!;
      this.value = u >= 4096 ? u - 8192 : u;
    } else if (c < 0xf0) {
      head = 2;
      if (p + 1 >= last) bad("entry out of range");
      len = ((c & 0x0f) << 8) | lp[p + 1]!;
      this.isString = true;
    } else if (c === 0xf0) {
      head = 5;
      if (p + 4 >= last) bad("entry out of range");
      len = (lp[p + 1]! | (lp[p + 2]! << 8) | (lp[p + 3]! << 16)) + lp[p + 4]! * 16777216;
      this.isString = true;
    } else if (c <= 0xf4) {
      const width = c === 0xf1 ? 2 : c === 0xf2 ? 3 : c === 0xf3 ? 4 : 8;
      head = 1 + width;
      if (p + width >= last) bad("entry out of range");
      this.value = intAt(lp, p + 1, width);
    } else {
      bad("bad encoding");
    }
    const size = head + len;
    const back = backlenSize(size);
    if (p + size + back > last) bad("entry out of range");
    let decoded = 0;
    for (let i = 0; i < back; i++) {
      const byte = lp[p + size + i]!;
      if ((i === 0) !== (byte < 128)) bad("bad back length");
      decoded = decoded * 128 + (byte & 127);
    }
    if (decoded !== size) bad("bad back length");
    this.start = p + head;
    this.len = len;
    this.p = p + size + back;
    this.seen++;
  }

  /**
   * The current element as an integer, as lpGetIntegerIfValid reads it: a string counts when it
   * is the canonical text of an int64.
   *
   * @throws {RdbFormatError} when it is not one
   */
  integer(): number | bigint {
    if (!this.isString) return this.value;
    const v = this.len <= 20 ? parseI64(this.text()) : undefined;
    return v === undefined ? bad("integer expected") : v;
  }

  /** The current element as a binary string (an integer as its decimal text). */
  text(): string {
    if (!this.isString) return String(this.value);
    return bytesToStr(this.lp, this.start, this.start + this.len);
  }

  /**
   * Checks that the walk ended at the terminator with the count the header declares.
   *
   * @throws {RdbFormatError} otherwise
   */
  finish(): void {
    if (this.p !== this.last) bad("elements left");
    if (this.declared !== COUNT_UNKNOWN && this.declared !== this.seen) bad("count mismatch");
  }
}

/** A little-endian two's complement integer of `width` bytes at `p`. */
function intAt(b: Uint8Array, p: number, width: number): number | bigint {
  if (width === 8) {
    const lo = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
    const hi = b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24);
    const n = hi * 4294967296 + lo;
    return Number.isSafeInteger(n) ? n : (BigInt(hi) << 32n) | BigInt(lo);
  }
  let u = 0;
  for (let i = width - 1; i >= 0; i--) u = u * 256 + b[p + i]!;
  const half = 2 ** (8 * width - 1);
  return u >= half ? u - 2 * half : u;
}
