/**
 * Bit commands on string values: SETBIT, GETBIT, BITCOUNT, BITPOS (both with the 7.0 BYTE | BIT
 * range unit) and BITOP.
 *
 * @module
 */

import { i64Arg } from "../core/args.ts";
import { bytesToStr, parseI64, writeStr } from "../core/bytes.ts";
import type { CommandSpec } from "../core/command.ts";
import { N } from "../core/notify.ts";
import { E, fail } from "../core/resp/reply.ts";
import { MAX_STRING_LENGTH } from "../core/types/big_string.ts";
import { readString, setBitBig, writeString } from "./string_big.ts";
import { bitOffsetArg, countBits, findBit, storeBitmap } from "./bitmap.ts";

/** SETBIT key offset value */
export const setbitCommand: CommandSpec = {
  name: "setbit",
  arity: 4,
  flags: ["write", "denyoom"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Sets or clears the bit at offset in the string value stored at key",
    since: "2.2.0",
    group: "bitmap",
    complexity: "O(1)",
    args: "key offset value",
  },
  execute(client, argv) {
    const key = argv[1]!;
    const offset = bitOffsetArg(client, argv[2]!);
    const on = parseI64(argv[3]!);
    if (on !== 0 && on !== 1) return fail("ERR bit is not an integer or out of range");
    const v = writeString(client, key);
    if (typeof v === "object" || Math.floor(offset / 8) >= MAX_STRING_LENGTH) {
      return setBitBig(client, key, v, offset, on);
    }
    const cur = v;
    const s = cur ?? "";
    const byte = Math.floor(offset / 8);
    const shift = 7 - (offset & 7);
    const old = byte < s.length ? s.charCodeAt(byte) : 0;
    const bit = (old >> shift) & 1;
    // Redis writes (and notifies) when the key is created or grown, or the bit flips.
    if (byte >= s.length || bit !== on) {
      const next = String.fromCharCode(on ? old | (1 << shift) : old & ~(1 << shift));
      const value = byte < s.length
        ? s.slice(0, byte) + next + s.slice(byte + 1)
        : s + "\0".repeat(byte - s.length) + next;
      storeBitmap(client, key, cur !== undefined, value);
      client.db.notify(N.string, "setbit", key);
      client.server.dirty++;
    }
    return bit;
  },
};

/** GETBIT key offset */
export const getbitCommand: CommandSpec = {
  name: "getbit",
  arity: 3,
  flags: ["readonly", "fast"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Returns the bit value at offset in the string value stored at key",
    since: "2.2.0",
    group: "bitmap",
    complexity: "O(1)",
    args: "key offset",
  },
  execute(client, argv) {
    const offset = bitOffsetArg(client, argv[2]!);
    const s = readString(client, argv[1]!);
    if (s === undefined) return 0;
    const byte = Math.floor(offset / 8);
    if (typeof s === "object") return (s.byteAt(byte) >> (7 - (offset & 7))) & 1;
    return byte < s.length ? (s.charCodeAt(byte) >> (7 - (offset & 7))) & 1 : 0;
  },
};

/** `BYTE` → false, `BIT` → true, anything else a syntax error. */
function unitIsBit(text: string): boolean {
  const u = text.toUpperCase();
  if (u === "BIT") return true;
  if (u === "BYTE") return false;
  return fail(E.syntax);
}

/**
 * Clamps a start/end pair (negative counts from the end) to `[0, total - 1]` as BITCOUNT and
 * BITPOS do; the pair may come back empty (start > end).
 */
function clampRange(start: number | bigint, end: number | bigint, total: number): [number, number] {
  let s = Number(start);
  let e = Number(end);
  if (s < 0) s += total;
  if (e < 0) e += total;
  if (s < 0) s = 0;
  if (e < 0) e = 0;
  if (e >= total) e = total - 1;
  return [s, e];
}

/** BITCOUNT key [start end [BYTE | BIT]] */
export const bitcountCommand: CommandSpec = {
  name: "bitcount",
  arity: -2,
  flags: ["readonly"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Count set bits in a string",
    since: "2.6.0",
    group: "bitmap",
    complexity: "O(N)",
    args: "key [start end [BYTE | BIT]]",
  },
  execute(client, argv) {
    // The range is parsed before the key is read, as Redis 7.2 does (7.0 answered 0 for a
    // missing key whatever followed).
    if (argv.length > 5 || argv.length === 3) return fail(E.syntax);
    const start = argv.length > 2 ? i64Arg(argv[2]!) : 0;
    const end = argv.length > 2 ? i64Arg(argv[3]!) : -1;
    const isBit = argv.length === 5 && unitIsBit(argv[4]!);
    const s = client.db.getString(argv[1]!);
    if (s === undefined) return 0;
    if (argv.length === 2) return s.length === 0 ? 0 : countBits(s, 0, s.length * 8 - 1);
    if (start < 0 && end < 0 && start > end) return 0;
    const [from, to] = clampRange(start, end, isBit ? s.length * 8 : s.length);
    if (from > to) return 0;
    return isBit ? countBits(s, from, to) : countBits(s, from * 8, to * 8 + 7);
  },
};

/** BITPOS key bit [start [end [BYTE | BIT]]] */
export const bitposCommand: CommandSpec = {
  name: "bitpos",
  arity: -3,
  flags: ["readonly"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Find first bit set or clear in a string",
    since: "2.8.7",
    group: "bitmap",
    complexity: "O(N)",
    args: "key bit [start [end [BYTE | BIT]]]",
  },
  execute(client, argv) {
    const bitArg = i64Arg(argv[2]!);
    if (bitArg !== 0 && bitArg !== 1) return fail("ERR The bit argument must be 1 or 0.");
    const bit = Number(bitArg);
    // The range is parsed before the key is read (Redis 7.2), in Redis's order: start, unit, end.
    const ranged = argv.length >= 4 && argv.length <= 6;
    if (!ranged && argv.length !== 3) return fail(E.syntax);
    const start = ranged ? i64Arg(argv[3]!) : 0;
    const isBit = argv.length === 6 && unitIsBit(argv[5]!);
    const endGiven = argv.length >= 5;
    const endArg = endGiven ? i64Arg(argv[4]!) : undefined;
    // A missing key is an endless run of zeros.
    const s = client.db.getString(argv[1]!);
    if (s === undefined) return bit ? -1 : 0;
    let from = 0;
    let to = s.length * 8 - 1;
    if (ranged) {
      const end = endArg ?? (isBit ? s.length * 8 + 7 : s.length - 1);
      const [a, b] = clampRange(start, end, isBit ? s.length * 8 : s.length);
      if (a > b) return -1;
      from = isBit ? a : a * 8;
      to = isBit ? b : b * 8 + 7;
    }
    if (from > to) return -1;
    const pos = findBit(s, from, to, bit);
    if (pos >= 0 || bit === 1) return pos;
    // Looking for a zero past an open-ended range finds the padding right after the string.
    return endGiven ? -1 : to + 1;
  },
};

type BitOp = "and" | "or" | "xor" | "not";

/** Applies `op` over the sources into a new string of the longest source's length. */
function bitop(op: BitOp, sources: string[], maxlen: number): string {
  // Word-sized work: buffers padded to a multiple of 4 bytes, viewed as 32-bit words.
  const words = Math.ceil(maxlen / 4);
  const out = new Uint8Array(words * 4);
  const out32 = new Uint32Array(out.buffer);
  writeStr(out, 0, sources[0]!);
  if (op === "not") {
    for (let i = 0; i < words; i++) out32[i] = ~out32[i]!;
    return bytesToStr(out, 0, maxlen);
  }
  const tmp = new Uint8Array(words * 4);
  const tmp32 = new Uint32Array(tmp.buffer);
  for (let k = 1; k < sources.length; k++) {
    const src = sources[k]!;
    tmp.fill(0);
    writeStr(tmp, 0, src);
    if (op === "and") { for (let i = 0; i < words; i++) out32[i]! &= tmp32[i]!; }
    else if (op === "or") { for (let i = 0; i < words; i++) out32[i]! |= tmp32[i]!; }
    else for (let i = 0; i < words; i++) out32[i]! ^= tmp32[i]!;
  }
  return bytesToStr(out, 0, maxlen);
}

/** BITOP AND | OR | XOR | NOT destkey key [key ...] */
export const bitopCommand: CommandSpec = {
  name: "bitop",
  arity: -4,
  flags: ["write", "denyoom"],
  keys: { first: 2, last: -1, step: 1 },
  docs: {
    summary: "Perform bitwise operations between strings",
    since: "2.6.0",
    group: "bitmap",
    complexity: "O(N)",
    args: "operation destkey key [key ...]",
  },
  execute(client, argv) {
    const op = argv[1]!.toLowerCase();
    if (op !== "and" && op !== "or" && op !== "xor" && op !== "not") return fail(E.syntax);
    if (op === "not" && argv.length !== 4) {
      return fail("ERR BITOP NOT must be called with a single source key.");
    }
    const db = client.db;
    const sources: string[] = [];
    let maxlen = 0;
    for (let i = 3; i < argv.length; i++) {
      const s = db.getString(argv[i]!) ?? "";
      sources.push(s);
      if (s.length > maxlen) maxlen = s.length;
    }
    const dest = argv[2]!;
    if (maxlen > 0) {
      db.set(dest, bitop(op, sources, maxlen));
      db.notify(N.string, "set", dest);
      client.server.dirty++;
    } else if (db.delete(dest)) {
      db.notify(N.generic, "del", dest);
      client.server.dirty++;
    }
    return maxlen;
  },
};

/** The bit commands. */
export const bitCommands: CommandSpec[] = [
  setbitCommand,
  getbitCommand,
  bitcountCommand,
  bitposCommand,
  bitopCommand,
];
