/**
 * SORT and SORT_RO: sort a list, set or sorted set numerically or by bytes, optionally by
 * weights read from other keys (`BY weight_*`, `BY obj_*->field`), fetch other keys per element
 * (`GET #`, `GET data_*`), take a `LIMIT` window, and (SORT only) `STORE` the result as a list.
 *
 * @module
 */

import { CF, type Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import type { Database } from "../core/keyspace/database.ts";
import { BigString, stringOf } from "../core/types/big_string.ts";
import { N } from "../core/notify.ts";
import { E, fail, type Reply } from "../core/resp/reply.ts";
import { parseI64 } from "../core/bytes.ts";
import { unrestrictedKeyAccess } from "../core/acl/check.ts";
import { READ } from "../core/acl/key_access.ts";
import type { HashValue } from "../core/types/hash.ts";
import { ListValue } from "../core/types/list.ts";
import type { SetValue } from "../core/types/set.ts";
import type { ZSet } from "../core/types/zset.ts";

const NOT_DOUBLE = "ERR One or more scores can't be converted into double";

/** The parsed options of one SORT call. */
interface SortOptions {
  desc: boolean;
  alpha: boolean;
  limitStart: number;
  limitCount: number;
  /** The BY pattern, when it has a `*`; undefined to sort the elements themselves. */
  by: string | undefined;
  /** BY without `*`: keep the native order. */
  dontSort: boolean;
  gets: string[];
  store: string | undefined;
}

/** The text C sees in a binary string: everything before the first NUL byte. */
function cString(s: string): string {
  const nul = s.indexOf("\0");
  return nul < 0 ? s : s.slice(0, nul);
}

/** A LIMIT argument: any int64, clamped later to the size of the input. */
function limitArg(s: string): number {
  const v = parseI64(s);
  return v === undefined ? fail(E.notInteger) : Number(v);
}

/**
 * True when the client's user may read every key: BY and GET patterns name keys no ACL check
 * sees, so Redis refuses them to users without `~*` or `%R~*` (in a selector allowing the SORT).
 */
function readsEveryKey(client: Client, argv: string[]): boolean {
  if ((client.flags & CF.restricted) === 0) return true;
  const cmd = client.server.command(argv[0]!);
  return cmd !== undefined && unrestrictedKeyAccess(client.user, cmd, argv, READ);
}

function parseSort(argv: string[], readonly: boolean, client: Client): SortOptions {
  const o: SortOptions = {
    desc: false,
    alpha: false,
    limitStart: 0,
    limitCount: -1,
    by: undefined,
    dontSort: false,
    gets: [],
    store: undefined,
  };
  for (let j = 2; j < argv.length; j++) {
    const left = argv.length - j - 1;
    const opt = argv[j]!.toLowerCase();
    if (opt === "asc") o.desc = false;
    else if (opt === "desc") o.desc = true;
    else if (opt === "alpha") o.alpha = true;
    else if (opt === "limit" && left >= 2) {
      o.limitStart = limitArg(argv[j + 1]!);
      o.limitCount = limitArg(argv[j + 2]!);
      j += 2;
    } else if (!readonly && opt === "store" && left >= 1) {
      o.store = argv[++j]!;
    } else if (opt === "by" && left >= 1) {
      // A pattern without `*` names no weight keys: nothing to sort by.
      const by = argv[++j]!;
      o.dontSort = !cString(by).includes("*");
      if (!o.dontSort && !readsEveryKey(client, argv)) {
        return fail("ERR BY option of SORT denied due to insufficient ACL permissions.");
      }
      o.by = by;
    } else if (opt === "get" && left >= 1) {
      if (!readsEveryKey(client, argv)) {
        return fail("ERR GET option of SORT denied due to insufficient ACL permissions.");
      }
      o.gets.push(argv[++j]!);
    } else return fail(E.syntax);
  }
  return o;
}

/**
 * The value a SORT pattern names for one element, as Redis's `lookupKeyByPattern` finds it:
 * `#` is the element itself; otherwise the first `*` is replaced by the element, and a `->field`
 * after it reads a hash field instead of a string. Null when there is no `*`, no such key, or
 * the key has the other type.
 */
function lookupByPattern(db: Database, pattern: string, element: string): string | null {
  if (pattern.charCodeAt(0) === 35 && (pattern.length === 1 || pattern.charCodeAt(1) === 0)) {
    return element;
  }
  // Redis searches the pattern as a C string: `*` and `->` count only before a NUL byte.
  const limit = cString(pattern).length;
  const star = pattern.indexOf("*");
  if (star < 0 || star >= limit) return null;
  const arrow = pattern.indexOf("->", star + 1);
  const hasField = arrow >= 0 && arrow + 2 < limit;
  const key = pattern.slice(0, star) + element +
    pattern.slice(star + 1, hasField ? arrow : pattern.length);
  const v = db.get(key);
  if (v === undefined) return null;
  if (hasField) {
    return typeof v !== "string" && v.type === "hash"
      ? (v as HashValue).get(pattern.slice(arrow + 2)) ?? null
      : null;
  }
  return typeof v === "string" ? v : v instanceof BigString && v.fitsString ? stringOf(v) : null;
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const HEX = /^([+-]?)0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)(?:[pP]([+-]?\d+))?$/;
const INFINITE = /^[+-]?inf(?:inity)?$/i;
const DBL_MIN = 2.2250738585072014e-308;

/** `mant * 2^exp` correctly rounded, and whether C's strtod would set ERANGE for it. */
function scaleBinary(mant: bigint, exp: number): { value: number; range: boolean } {
  if (mant === 0n) return { value: 0, range: false };
  const bits = mant.toString(2).length;
  if (bits + exp > 1025) return { value: Infinity, range: true };
  // Significant bits a double keeps at this magnitude: 53, fewer among the subnormals.
  const keep = Math.min(53, bits + exp + 1074);
  if (keep <= 0) return { value: 0, range: true };
  let inexact = false;
  if (bits > keep) {
    const drop = BigInt(bits - keep);
    const rem = mant & ((1n << drop) - 1n);
    const half = 1n << (drop - 1n);
    mant >>= drop;
    if (rem > half || (rem === half && (mant & 1n) === 1n)) mant++;
    inexact = rem !== 0n;
    exp += bits - keep;
  }
  // The product is exact: scale in two steps so no intermediate power under- or overflows.
  const value = exp > 0 ? Number(mant) * 2 ** exp : Number(mant) * 2 ** (exp + 200) * 2 ** -200;
  return { value, range: !Number.isFinite(value) || (inexact && value < DBL_MIN) };
}

/**
 * A weight as SORT reads it with C's `strtod`: leading white space, decimal or hex notation,
 * `inf`; the text ends at a NUL byte and may be empty (0). NaN when it is not a number, is NaN,
 * or is out of the double range (ERANGE), which SORT reports as an error.
 */
function sortScore(s: string): number {
  const text = cString(s).replace(/^[ \t\n\v\f\r]+/, "");
  // Empty text converts to 0; text of white space only converts nothing.
  if (text.length === 0) return s.length === 0 || s.charCodeAt(0) === 0 ? 0 : NaN;
  if (DECIMAL.test(text)) {
    const v = Number(text);
    if (!Number.isFinite(v)) return NaN;
    // An underflow to zero or a subnormal (never exact for decimal text of sane length).
    const e = text.search(/[eE]/);
    if (Math.abs(v) < DBL_MIN && /[1-9]/.test(e < 0 ? text : text.slice(0, e))) return NaN;
    return v;
  }
  if (INFINITE.test(text)) return text.charCodeAt(0) === 45 ? -Infinity : Infinity;
  const hex = HEX.exec(text);
  if (hex === null || hex[2]!.length + hex[3]!.length === 0) return NaN;
  const frac = hex[3]!;
  const r = scaleBinary(BigInt("0x" + hex[2]! + frac), Number(hex[4] ?? 0) - 4 * frac.length);
  if (r.range) return NaN;
  return hex[1] === "-" ? -r.value : r.value;
}

/** One element being sorted, with its weight (numeric sort) or comparison text (ALPHA BY). */
interface SortItem {
  element: string;
  score: number;
  cmp: string | null;
}

/** Byte order, shorter first on a common prefix (Redis's compareStringObjects). */
function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** C-locale strcoll: byte order of the texts up to their first NUL byte. */
function compareCStrings(a: string, b: string): number {
  return compareBytes(cString(a), cString(b));
}

/** The comparison sortCompare() makes for these options. */
function comparator(o: SortOptions): (a: SortItem, b: SortItem) => number {
  const sign = o.desc ? -1 : 1;
  // ALPHA uses strcoll when the result goes to the client, a binary compare when it is stored.
  const text = o.store !== undefined ? compareBytes : compareCStrings;
  if (!o.alpha) {
    return (a, b) =>
      sign * (a.score > b.score ? 1 : a.score < b.score ? -1 : compareBytes(a.element, b.element));
  }
  if (o.by === undefined) return (a, b) => sign * text(a.element, b.element);
  return (a, b) => {
    // A missing weight sorts first.
    if (a.cmp === null || b.cmp === null) {
      return sign * (a.cmp === b.cmp ? 0 : a.cmp === null ? -1 : 1);
    }
    return sign * text(a.cmp, b.cmp);
  };
}

/** The elements of the value to sort, already windowed when the native order is kept. */
interface Loaded {
  elements: string[];
  start: number;
  end: number;
}

/**
 * Loads the elements. With `dontSort`, lists and sorted sets are read in their own order
 * (reversed by DESC) and only the LIMIT window is read; sets come in iteration order.
 */
function load(value: ListValue | SetValue | ZSet, o: SortOptions): Loaded {
  const len = value.type === "list" ? (value as ListValue).length : (value as SetValue).size;
  let start = Math.min(Math.max(o.limitStart, 0), len);
  const count = Math.min(Math.max(o.limitCount, -1), len);
  let end = count < 0 ? len - 1 : start + count - 1;
  if (start >= len) {
    start = len - 1;
    end = len - 2;
  }
  if (end >= len) end = len - 1;
  if (value.type === "set") return { elements: (value as SetValue).members(), start, end };
  if (value.type === "list") {
    const list = value as ListValue;
    if (!o.dontSort) return { elements: list.toArray(), start, end };
    if (end < start) return { elements: [], start: 0, end: -1 };
    const elements = o.desc
      ? list.range(len - 1 - end, len - 1 - start).reverse()
      : list.range(start, end);
    return { elements, start: 0, end: end - start };
  }
  const zset = value as ZSet;
  if (!o.dontSort) return { elements: zset.members(), start, end };
  const elements: string[] = [];
  const c = zset.list.at(o.desc ? len - start : start + 1);
  for (let n = end - start + 1; n > 0 && c.valid; n--) {
    elements.push(c.member);
    if (o.desc) c.prev();
    else c.next();
  }
  return { elements, start: 0, end: end - start };
}

/** Sorts `items` in place; false when a weight is not a valid double. */
function sortItems(db: Database, items: SortItem[], o: SortOptions): boolean {
  let valid = true;
  for (const item of items) {
    const by = o.by === undefined ? item.element : lookupByPattern(db, o.by, item.element);
    if (by === null) continue;
    if (o.alpha) {
      if (o.by !== undefined) item.cmp = by;
    } else {
      item.score = sortScore(by);
      if (Number.isNaN(item.score)) valid = false;
    }
  }
  // The reply is an error then: no need to sort.
  if (valid) items.sort(comparator(o));
  return valid;
}

function sortGeneric(client: Client, argv: string[], readonly: boolean): Reply {
  const o = parseSort(argv, readonly, client);
  const db = client.db;
  const value = db.get(argv[1]!) ?? new ListValue();
  if (
    typeof value === "string" ||
    (value.type !== "list" && value.type !== "set" && value.type !== "zset")
  ) return fail(E.wrongType);
  // Replicas and AOF must see the same stored order, and so must a script's later commands: a
  // set is sorted even with BY <constant> when stored or read by a script.
  if (
    o.dontSort && value.type === "set" &&
    (o.store !== undefined || (client.flags & CF.script) !== 0)
  ) {
    o.dontSort = false;
    o.alpha = true;
    o.by = undefined;
  }
  const { elements, start, end } = load(value as ListValue | SetValue | ZSet, o);
  const items: SortItem[] = elements.map((element) => ({ element, score: 0, cmp: null }));
  if (!o.dontSort && !sortItems(db, items, o)) return fail(NOT_DOUBLE);

  const out: (string | null)[] = [];
  for (let j = start; j <= end; j++) {
    const element = items[j]!.element;
    if (o.gets.length === 0) out.push(element);
    for (const pattern of o.gets) out.push(lookupByPattern(db, pattern, element));
  }
  if (o.store === undefined) return out;

  const dest = o.store;
  const server = client.server;
  if (out.length !== 0) {
    db.set(dest, ListValue.from(out.map((v) => v ?? "")));
    db.notify(N.list, "sortstore", dest);
    server.dirty += out.length;
  } else if (db.delete(dest)) {
    db.notify(N.generic, "del", dest);
    server.dirty++;
  }
  return out.length;
}

/**
 * Key positions of SORT as Redis's `sortGetKeys` finds them: the sorted key, and the argument
 * after the last STORE (options with arguments are skipped, so `GET store` names no key).
 */
function sortKeys(argv: string[]): number[] {
  let store = 0;
  for (let i = 2; i < argv.length; i++) {
    const opt = argv[i]!.toLowerCase();
    if (opt === "limit") i += 2;
    else if (opt === "get" || opt === "by") i += 1;
    else if (opt === "store" && i + 1 < argv.length) store = i + 1;
  }
  return store === 0 ? [1] : [1, store];
}

const SORT_ARGS =
  "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC] [ALPHA]";
const COMPLEXITY =
  "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).";

/** SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC | DESC] [ALPHA] [STORE destination] */
export const sortCommand: CommandSpec = {
  name: "sort",
  arity: -2,
  flags: ["write", "denyoom"],
  keys: { first: 1, last: 1, step: 1 },
  getKeys: sortKeys,
  keyFlags: (_argv, pos) => pos === 1 ? ["RO", "access"] : ["OW", "update"],
  acl: ["set", "sortedset", "list", "dangerous"],
  docs: {
    summary: "Sort the elements in a list, set or sorted set",
    since: "1.0.0",
    group: "generic",
    complexity: COMPLEXITY,
    args: `${SORT_ARGS} [STORE destination]`,
  },
  execute: (client, argv) => sortGeneric(client, argv, false),
};

/** SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC | DESC] [ALPHA] */
export const sortRoCommand: CommandSpec = {
  name: "sort_ro",
  arity: -2,
  flags: ["readonly"],
  keys: { first: 1, last: 1, step: 1 },
  getKeys: () => [1],
  keyFlags: () => ["RO", "access"],
  acl: ["set", "sortedset", "list", "dangerous"],
  docs: {
    summary: "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
    since: "7.0.0",
    group: "generic",
    complexity: COMPLEXITY,
    args: SORT_ARGS,
  },
  execute: (client, argv) => sortGeneric(client, argv, true),
};

/** The sort commands. */
export const sortCommands: CommandSpec[] = [sortCommand, sortRoCommand];
