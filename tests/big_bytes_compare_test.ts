/**
 * Side by side with a real redis-server: string values of at least BYTES_MIN bytes, which SET and
 * its family keep as bytes (core/types/big_string.ts), answer every reader byte for byte as
 * Redis does: GET and friends, ranges, bits, counters, LCS, SORT's patterns, OBJECT ENCODING,
 * scripts, COPY/RENAME, and the commands that take such an argument as a string (MSET, HSET,
 * RPUSH...). Skipped when `redis-server` is not installed.
 */
import { test } from "node:test";
import { BYTES_MIN } from "../core/types/big_string.ts";
import { compareWithRedis } from "./redis_compare.ts";
import { missing } from "./redis_tools.ts";

/** Every byte value, repeated to `n` bytes, starting at `from`. */
function binary(n: number, from: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode((from + i * 7) & 255);
  return s;
}

const A = binary(BYTES_MIN + 1000, 3);
const B = "x".repeat(100 * 1024) + binary(300, 9);
/** At the threshold exactly. */
const C = binary(BYTES_MIN, 200);
const DIGITS = "1".repeat(BYTES_MIN + 5);

const CASES: string[][] = [
  ["SET", "a", A],
  ["GET", "a"],
  ["STRLEN", "a"],
  ["TYPE", "a"],
  ["OBJECT", "ENCODING", "a"],
  ["GETRANGE", "a", "0", "10"],
  ["GETRANGE", "a", "100", String(BYTES_MIN + 500)],
  ["SUBSTR", "a", "-50", "-1"],
  ["GETBIT", "a", "13"],
  ["BITCOUNT", "a"],
  ["BITPOS", "a", "1"],
  ["BITFIELD_RO", "a", "GET", "u8", "16"],
  ["INCR", "a"],
  ["DECRBY", "a", "3"],
  ["INCRBYFLOAT", "a", "1.5"],
  ["SET", "n", DIGITS],
  ["INCR", "n"],
  ["INCRBYFLOAT", "n", "1"],
  ["APPEND", "a", "tail"],
  ["GET", "a"],
  ["APPEND", "a", B],
  ["STRLEN", "a"],
  ["GETRANGE", "a", String(BYTES_MIN - 5), String(BYTES_MIN + 1200)],
  ["SETRANGE", "a", "5", "hello"],
  ["GETRANGE", "a", "0", "20"],
  ["SETRANGE", "c", "10", B],
  ["GET", "c"],
  ["SETRANGE", "c", "3", C],
  ["GET", "c"],
  ["SETBIT", "a", "7", "1"],
  ["SETBIT", "a", String(8 * (BYTES_MIN + 90000)), "1"],
  ["STRLEN", "a"],
  ["BITOP", "AND", "d", "a", "c"],
  ["GET", "d"],
  ["MGET", "a", "c", "nokey", "d"],
  ["SET", "e", C],
  ["GET", "e"],
  ["GETSET", "e", A],
  ["GET", "e"],
  ["SET", "e", B, "GET"],
  ["SET", "e", C, "XX", "GET"],
  ["SET", "e", A, "NX", "GET"],
  ["GET", "e"],
  ["SETNX", "e", B],
  ["SETNX", "f", B],
  ["GET", "f"],
  ["SETEX", "g", "1000", A],
  ["TTL", "g"],
  ["GET", "g"],
  ["PSETEX", "g", "1000000", B],
  ["TTL", "g"],
  ["GET", "g"],
  ["SET", "g", C, "KEEPTTL"],
  ["TTL", "g"],
  ["SET", "g", A, "EX", "100"],
  ["TTL", "g"],
  ["GETEX", "g", "PERSIST"],
  ["TTL", "g"],
  ["GETEX", "g", "EX", "50"],
  ["TTL", "g"],
  ["GETDEL", "g"],
  ["EXISTS", "g"],
  ["LCS", "e", "f", "LEN"],
  ["SET", "l1", "abc" + C],
  ["SET", "l2", "zbc" + C.slice(0, 100)],
  ["LCS", "l1", "l2", "LEN"],
  ["COPY", "e", "e2"],
  ["GET", "e2"],
  ["APPEND", "e2", "more"],
  ["STRLEN", "e"],
  ["STRLEN", "e2"],
  ["RENAME", "e2", "e3"],
  ["GET", "e3"],
  ["RPUSH", "ids", "1", "2", "3"],
  ["SET", "w_1", "3" + C],
  ["SET", "w_2", "2"],
  ["SET", "w_3", "1"],
  ["SORT", "ids", "BY", "nosort", "GET", "w_*"],
  ["SORT", "ids", "BY", "w_*", "ALPHA", "GET", "#"],
  ["EVAL", "return redis.call('GET', KEYS[1])", "1", "f"],
  ["EVAL", "return #redis.call('GET', KEYS[1])", "1", "f"],
  ["EVAL", "return redis.call('STRLEN', KEYS[1])", "1", "f"],
  ["MSET", "m1", A, "m2", B],
  ["MGET", "m1", "m2"],
  ["MSETNX", "m3", C, "m1", A],
  ["HSET", "h", "f", A, "g", C],
  ["HGET", "h", "f"],
  ["HMGET", "h", "f", "g"],
  ["RPUSH", "list", A, B],
  ["LRANGE", "list", "0", "-1"],
  ["SADD", "s", C],
  ["SISMEMBER", "s", C],
  ["ECHO", A],
  ["LPUSH", "a", C],
  ["HSET", "a", "f", C],
  ["SET", "k", "v", A],
  ["FOO", "bar", A],
  ["GETSET", "h", A],
  ["APPEND", "h", A],
  ["SETRANGE", "h", "0", A],
  ["MULTI"],
  ["SET", "t", A],
  ["GET", "t"],
  ["SETRANGE", "t", "0", "zz"],
  ["GET", "t"],
  ["APPEND", "t", C],
  ["GET", "t"],
  ["EXEC"],
  ["GET", "t"],
  ["SET", "p", B],
  ["GET", "p"],
  ["SETRANGE", "p", "0", "changed"],
  ["GET", "p"],
];

test(
  "values kept as bytes answer every reader like redis-server byte for byte",
  { skip: missing("redis-server") },
  async () => {
    await compareWithRedis(CASES, false);
  },
);

test(
  "values kept as bytes in RESP3 like redis-server",
  { skip: missing("redis-server") },
  async () => {
    await compareWithRedis(CASES.slice(0, 30), true);
  },
);
