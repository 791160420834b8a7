/**
 * String range commands: GETRANGE (and its older name SUBSTR), SETRANGE, and LCS, the longest
 * common subsequence of two strings.
 *
 * @module
 */

import { i64Arg } from "../core/args.ts";
import { bytesToStr } from "../core/bytes.ts";
import { CF, type Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import { N } from "../core/notify.ts";
import { E, fail, MapReply, type Reply } from "../core/resp/reply.ts";
import {
  BIG_ERROR,
  bigArg,
  type BigString,
  MAX_STRING_LENGTH,
  stringOf,
} from "../core/types/big_string.ts";
import { typeName } from "../core/keyspace/database.ts";
import { rangeReply, readString, replicateParts, setRangeBig, writeString } from "./string_big.ts";

const TOO_BIG = BIG_ERROR;

/**
 * Redis's checkStringLength: throws when `size + append` bytes would pass proto-max-bulk-len
 * (our master is not limited).
 *
 * @param client the client
 * @param size the offset or current length
 * @param append the bytes added
 */
export function checkStringLength(client: Client, size: number, append: number): void {
  if ((client.flags & CF.master) !== 0) return;
  if (size + append > client.server.parserLimits.maxBulkLen) fail(TOO_BIG);
}

/** GETRANGE/SUBSTR: bytes `start..end` (inclusive, negative from the end) of the string. */
function getrange(client: Client, argv: string[]): Reply {
  const start = i64Arg(argv[2]!);
  const end = i64Arg(argv[3]!);
  const s = readString(client, argv[1]!);
  if (s === undefined) return "";
  // Compared before any conversion: two huge negative indexes stay exact as bigints.
  if (start < 0 && end < 0 && start > end) return "";
  const len = s.length;
  let from = Number(start);
  let to = Number(end);
  if (from < 0) from += len;
  if (to < 0) to += len;
  if (from < 0) from = 0;
  if (to < 0) to = 0;
  if (to >= len) to = len - 1;
  if (from > to || len === 0) return "";
  return typeof s === "string" ? s.slice(from, to + 1) : rangeReply(client, s, from, to + 1);
}

const RANGE_COMPLEXITY =
  "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.";

/** GETRANGE key start end */
export const getrangeCommand: CommandSpec = {
  name: "getrange",
  arity: 4,
  flags: ["readonly"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Get a substring of the string stored at a key",
    since: "2.4.0",
    group: "string",
    complexity: RANGE_COMPLEXITY,
    args: "key start end",
  },
  execute: getrange,
};

/** SUBSTR key start end (deprecated alias of GETRANGE, kept as its own command as in 7.0) */
export const substrCommand: CommandSpec = {
  name: "substr",
  arity: 4,
  flags: ["readonly"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Get a substring of the string stored at a key",
    since: "1.0.0",
    group: "string",
    complexity: RANGE_COMPLEXITY,
    args: "key start end",
  },
  execute: getrange,
};

/** SETRANGE key offset value */
export const setrangeCommand: CommandSpec = {
  name: "setrange",
  arity: 4,
  flags: ["write", "denyoom"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Overwrite part of a string at key starting at the specified offset",
    since: "2.2.0",
    group: "string",
    complexity:
      "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.",
    args: "key offset value",
  },
  bigArg: 3,
  bigArgBytes: true,
  execute(client, argv) {
    const key = argv[1]!;
    const big = bigArg(argv, 3);
    const value = big ?? argv[3]!;
    const offsetArg = i64Arg(argv[2]!);
    if (offsetArg < 0) return fail("ERR offset is out of range");
    const offset = Number(offsetArg);
    const db = client.db;
    const cur = writeString(client, key);
    if (value.length === 0) return cur?.length ?? 0;
    checkStringLength(client, offset, value.length);
    if (
      typeof cur === "object" || typeof value === "object" ||
      offset + value.length > MAX_STRING_LENGTH
    ) {
      const next = setRangeBig(cur, offset, value);
      if (cur === undefined) db.set(key, next);
      else {
        db.replace(key, next);
        db.touch(key);
      }
      db.notify(N.string, "setrange", key);
      client.server.dirty++;
      if (big !== undefined) {
        replicateParts(
          client,
          big.bytes,
          (text, at) => ["SETRANGE", key, String(offset + at), text],
        );
      }
      return next.length;
    }
    const old = cur ?? "";
    const head = old.length >= offset
      ? old.slice(0, offset)
      : old + "\0".repeat(offset - old.length);
    const next = head + value + old.slice(offset + value.length);
    if (cur === undefined) {
      db.set(key, next);
    } else {
      db.replace(key, next);
      db.touch(key);
    }
    db.notify(N.string, "setrange", key);
    client.server.dirty++;
    return next.length;
  },
};

/** Options of LCS. */
interface LcsOptions {
  len: boolean;
  idx: boolean;
  withMatchLen: boolean;
  minMatchLen: number;
}

function parseLcsOptions(argv: string[]): LcsOptions {
  const o: LcsOptions = { len: false, idx: false, withMatchLen: false, minMatchLen: 0 };
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j]!.toUpperCase();
    if (opt === "IDX") o.idx = true;
    else if (opt === "LEN") o.len = true;
    else if (opt === "WITHMATCHLEN") o.withMatchLen = true;
    else if (opt === "MINMATCHLEN" && j + 1 < argv.length) {
      const n = i64Arg(argv[++j]!);
      o.minMatchLen = n < 0 ? 0 : Number(n);
    } else return fail(E.syntax);
  }
  if (o.len && o.idx) {
    return fail("ERR If you want both the length and indexes, please just use IDX.");
  }
  return o;
}

/** The dynamic-programming table: `t[j + (blen+1)*i]` = LCS length of a[0..i) and b[0..j). */
function lcsTable(client: Client, a: string, b: string): Uint32Array {
  const cells = (a.length + 1) * (b.length + 1);
  if (cells * 4 > client.server.parserLimits.maxBulkLen) {
    return fail("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
  }
  let t: Uint32Array;
  try {
    t = new Uint32Array(cells);
  } catch {
    return fail("ERR Insufficient memory, failed allocating transient memory for LCS");
  }
  const w = b.length + 1;
  for (let i = 1; i <= a.length; i++) {
    const ca = a.charCodeAt(i - 1);
    const row = i * w;
    const prev = row - w;
    for (let j = 1; j <= b.length; j++) {
      if (ca === b.charCodeAt(j - 1)) t[row + j] = t[prev + j - 1]! + 1;
      else {
        const up = t[prev + j]!;
        const left = t[row + j - 1]!;
        t[row + j] = up > left ? up : left;
      }
    }
  }
  return t;
}

/** LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN] */
export const lcsCommand: CommandSpec = {
  name: "lcs",
  arity: -3,
  flags: ["readonly"],
  keys: { first: 1, last: 2, step: 1 },
  docs: {
    summary: "Find longest common substring",
    since: "7.0.0",
    group: "string",
    complexity: "O(N*M) where N and M are the lengths of s1 and s2, respectively",
    args: "key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]",
  },
  execute(client, argv) {
    const db = client.db;
    const va = db.get(argv[1]!);
    const vb = db.get(argv[2]!);
    if (
      (va !== undefined && typeName(va) !== "string") ||
      (vb !== undefined && typeName(vb) !== "string")
    ) {
      return fail("ERR The specified keys must contain string values");
    }
    const a = va === undefined ? "" : typeof va === "string" ? va : stringOf(va as BigString);
    const b = vb === undefined ? "" : typeof vb === "string" ? vb : stringOf(vb as BigString);
    const opts = parseLcsOptions(argv);
    const t = lcsTable(client, a, b);
    const w = b.length + 1;
    const total = t[a.length * w + b.length]!;
    if (opts.len) return total;
    // Walk back from the end, collecting the LCS bytes and the matching ranges as Redis does.
    const out = new Uint8Array(total);
    const matches: Reply[] = [];
    let idx = total;
    let i = a.length;
    let j = b.length;
    let aStart = a.length; // a.length means "no range open"
    let aEnd = 0;
    let bStart = 0;
    let bEnd = 0;
    while (i > 0 && j > 0) {
      let emit = false;
      if (a.charCodeAt(i - 1) === b.charCodeAt(j - 1)) {
        out[idx - 1] = a.charCodeAt(i - 1);
        if (aStart === a.length) {
          aStart = aEnd = i - 1;
          bStart = bEnd = j - 1;
        } else if (aStart === i && bStart === j) {
          aStart--;
          bStart--;
        } else emit = true;
        if (aStart === 0 || bStart === 0) emit = true;
        idx--;
        i--;
        j--;
      } else {
        if (t[(i - 1) * w + j]! > t[i * w + j - 1]!) i--;
        else j--;
        if (aStart !== a.length) emit = true;
      }
      if (emit) {
        const matchLen = aEnd - aStart + 1;
        if (opts.idx && (opts.minMatchLen === 0 || matchLen >= opts.minMatchLen)) {
          const m: Reply[] = [[aStart, aEnd], [bStart, bEnd]];
          if (opts.withMatchLen) m.push(matchLen);
          matches.push(m);
        }
        aStart = a.length;
      }
    }
    if (opts.idx) return new MapReply(["matches", matches, "len", total]);
    return bytesToStr(out);
  },
};

/** The string range commands. */
export const stringRangeCommands: CommandSpec[] = [
  getrangeCommand,
  substrCommand,
  setrangeCommand,
  lcsCommand,
];
