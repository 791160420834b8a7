/**
 * BITFIELD and BITFIELD_RO: signed and unsigned integers of 1 to 64 bits (unsigned up to 63)
 * at any bit offset of a string, with GET, SET, INCRBY and the WRAP | SAT | FAIL overflow
 * policies.
 *
 * @module
 */

import { bitfieldWrites } from "../core/acl/key_access.ts";
import { i64Arg } from "../core/args.ts";
import { bytesToStr, parseI64, strToBytes } from "../core/bytes.ts";
import type { Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import { N } from "../core/notify.ts";
import { E, fail, type Reply } from "../core/resp/reply.ts";
import { bitmapForWrite, bitOffsetArg, storeBitmap } from "./bitmap.ts";

type Overflow = "wrap" | "sat" | "fail";

/** One parsed sub-operation. */
interface FieldOp {
  op: "get" | "set" | "incrby";
  signed: boolean;
  bits: number;
  offset: number;
  /** SET value or INCRBY increment. */
  value: bigint;
  overflow: Overflow;
}

const TYPE_ERR =
  "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

/** Parses `i<bits>` (1-64) or `u<bits>` (1-63); the prefix is lowercase only, as in Redis. */
function parseType(text: string): { signed: boolean; bits: number } {
  const signed = text[0] === "i";
  if (!signed && text[0] !== "u") return fail(TYPE_ERR);
  const bits = parseI64(text.slice(1));
  if (bits === undefined || bits < 1 || bits > (signed ? 64 : 63)) return fail(TYPE_ERR);
  return { signed, bits: Number(bits) };
}

/** Parses the sub-operations; returns them with the highest bit a write reaches (-1: none). */
function parseOps(client: Client, argv: string[]): { ops: FieldOp[]; highest: number } {
  const ops: FieldOp[] = [];
  let overflow: Overflow = "wrap";
  let highest = -1;
  for (let j = 2; j < argv.length; j++) {
    const left = argv.length - j - 1;
    const sub = argv[j]!.toLowerCase();
    if (sub === "overflow" && left >= 1) {
      const kind = argv[++j]!.toLowerCase();
      if (kind !== "wrap" && kind !== "sat" && kind !== "fail") {
        return fail("ERR Invalid OVERFLOW type specified");
      }
      overflow = kind;
      continue;
    }
    if (!((sub === "get" && left >= 2) || ((sub === "set" || sub === "incrby") && left >= 3))) {
      return fail(E.syntax);
    }
    const { signed, bits } = parseType(argv[j + 1]!);
    const offset = bitOffsetArg(client, argv[j + 2]!, bits);
    let value = 0n;
    if (sub !== "get") {
      highest = Math.max(highest, offset + bits - 1);
      value = BigInt(i64Arg(argv[j + 3]!));
    }
    ops.push({ op: sub as FieldOp["op"], signed, bits, offset, value, overflow });
    j += sub === "get" ? 2 : 3;
  }
  return { ops, highest };
}

/** Reads `bits` bits at bit `offset` as an unsigned integer (missing bytes read as zero). */
function getBits(buf: Uint8Array, offset: number, bits: number): bigint {
  const first = Math.floor(offset / 8);
  const last = Math.floor((offset + bits - 1) / 8);
  let acc = 0n;
  for (let i = first; i <= last; i++) acc = (acc << 8n) | BigInt(buf[i] ?? 0);
  const tail = BigInt((last + 1) * 8 - offset - bits);
  return (acc >> tail) & ((1n << BigInt(bits)) - 1n);
}

/** Writes the low `bits` bits of `value` at bit `offset`; the buffer is long enough. */
function setBits(buf: Uint8Array, offset: number, bits: number, value: bigint): void {
  const first = Math.floor(offset / 8);
  const last = Math.floor((offset + bits - 1) / 8);
  let acc = 0n;
  for (let i = first; i <= last; i++) acc = (acc << 8n) | BigInt(buf[i]!);
  const tail = BigInt((last + 1) * 8 - offset - bits);
  const mask = ((1n << BigInt(bits)) - 1n) << tail;
  acc = (acc & ~mask) | ((BigInt.asUintN(bits, value) << tail) & mask);
  for (let i = last; i >= first; i--) {
    buf[i] = Number(acc & 0xffn);
    acc >>= 8n;
  }
}

/** The value read at a field: sign-extended for signed types. */
function readField(buf: Uint8Array, op: FieldOp): bigint {
  const u = getBits(buf, op.offset, op.bits);
  return op.signed ? BigInt.asIntN(op.bits, u) : u;
}

/**
 * The value a SET or INCRBY stores, or undefined when it overflows under FAIL. Unsigned SET
 * looks at the value as a uint64 first, so a negative value saturates to the maximum, exactly
 * like Redis.
 */
function newValue(op: FieldOp, old: bigint): bigint | undefined {
  const bits = BigInt(op.bits);
  const max = op.signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  const min = op.signed ? -max - 1n : 0n;
  let v = op.op === "incrby" ? old + op.value : op.value;
  if (!op.signed && op.op === "set") v = BigInt.asUintN(64, v);
  if (v >= min && v <= max) return v;
  if (op.overflow === "fail") return undefined;
  if (op.overflow === "sat") return v > max ? max : min;
  return op.signed ? BigInt.asIntN(op.bits, v) : BigInt.asUintN(op.bits, v);
}

/** A bigint reply as a number when it is safe. */
function intReply(v: bigint): number | bigint {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
}

function bitfield(client: Client, argv: string[], readonly: boolean): Reply {
  const key = argv[1]!;
  const { ops, highest } = parseOps(client, argv);
  const db = client.db;
  if (highest < 0) {
    // Only GETs: each reads the (at most 9) bytes it spans; missing bytes read as zeros.
    const s = db.getString(key) ?? "";
    return ops.map((op) => {
      const first = Math.floor(op.offset / 8);
      const window = strToBytes(s.slice(first, first + 9));
      return intReply(readField(window, { ...op, offset: op.offset - first * 8 }));
    });
  }
  if (readonly) return fail("ERR BITFIELD_RO only supports the GET subcommand");
  const cur = bitmapForWrite(client, key);
  const old = cur ?? "";
  const need = Math.floor(highest / 8) + 1;
  // Creating or growing the string counts as a change for every write, as in Redis.
  const grown = cur === undefined || need > old.length;
  const buf = new Uint8Array(Math.max(need, old.length));
  buf.set(strToBytes(old));
  let changes = 0;
  const out: Reply[] = [];
  for (const op of ops) {
    const before = readField(buf, op);
    if (op.op === "get") {
      out.push(intReply(before));
      continue;
    }
    const after = newValue(op, before);
    if (after === undefined) {
      out.push(null);
      continue;
    }
    setBits(buf, op.offset, op.bits, after);
    out.push(intReply(op.op === "set" ? before : after));
    if (grown || after !== before) changes++;
  }
  // Even with no change the key is created or zero-padded, as Redis does.
  if (grown || changes > 0) storeBitmap(client, key, cur !== undefined, bytesToStr(buf));
  if (changes > 0) {
    db.notify(N.string, "setbit", key);
    client.server.dirty += changes;
  }
  return out;
}

const FIELD_ARGS =
  "key [GET encoding offset | [OVERFLOW WRAP | SAT | FAIL] SET encoding offset value | [OVERFLOW WRAP | SAT | FAIL] INCRBY encoding offset increment] ...";

/** BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset increment] [OVERFLOW WRAP | SAT | FAIL] ... */
export const bitfieldCommand: CommandSpec = {
  name: "bitfield",
  arity: -2,
  flags: ["write", "denyoom"],
  keys: { first: 1, last: 1, step: 1 },
  keyFlags: (argv) => bitfieldWrites(argv) ? ["RW", "access", "update"] : ["RO", "access"],
  docs: {
    summary: "Perform arbitrary bitfield integer operations on strings",
    since: "3.2.0",
    group: "bitmap",
    complexity: "O(1) for each subcommand specified",
    args: FIELD_ARGS,
  },
  execute: (client, argv) => bitfield(client, argv, false),
};

/** BITFIELD_RO key [GET type offset ...] */
export const bitfieldRoCommand: CommandSpec = {
  name: "bitfield_ro",
  arity: -2,
  flags: ["readonly", "fast"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary:
      "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
    since: "6.0.0",
    group: "bitmap",
    complexity: "O(1) for each subcommand specified",
    args: "key [GET encoding offset [GET encoding offset ...]]",
  },
  execute: (client, argv) => bitfield(client, argv, true),
};

/** BITFIELD and BITFIELD_RO. */
export const bitfieldCommands: CommandSpec[] = [bitfieldCommand, bitfieldRoCommand];
