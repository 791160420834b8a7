/**
 * Side by side with a real redis-server: the counter, range, bit and bitfield commands must
 * answer byte for byte what Redis 7.0 answers, in RESP2 and RESP3. Skipped when `redis-server`
 * is not installed.
 */
import { test } from "node:test";
import { compareWithRedis, prng, script } from "./redis_compare.ts";
import { missing } from "./redis_tools.ts";

/** Words that stand for long values in the case scripts below. */
const LONG_WORDS = { LONG1: "x".repeat(100) + "\x01\x02", LONG2: "\xaa".repeat(67) };
const cases = (text: string) => script(text, LONG_WORDS);

const COUNTER_CASES = cases(`
INCR n ; INCR n ; DECR n ; INCRBY n 17179869184 ; DECRBY n 17179869185 ; SET n 9223372036854775807
INCR n ; INCRBY n 0 ; SET n -9223372036854775808 ; DECR n ; DECRBY n -9223372036854775808
INCRBY n 9223372036854775807 ; SET n 9007199254740993 ; INCR n ; GET n ; SET n " 1" ; INCR n
SET n 01 ; INCR n ; SET n -0 ; INCR n ; INCRBY n 1.5 ; INCRBY m 99999999999999999999 ; SET f 1
INCRBYFLOAT f -1.1 ; INCRBYFLOAT g 0.1 ; INCRBYFLOAT g 0.2 ; SET h 3000
INCRBYFLOAT h 0.00000000000000001 ; INCRBYFLOAT h 0.000003814697265625 ; INCRBYFLOAT i 1e400
INCRBYFLOAT j 0x1.8p3 ; INCRBYFLOAT j 1e-4950 ; INCRBYFLOAT j 1e-5000 ; INCRBYFLOAT j +inf
INCRBYFLOAT j nan ; INCRBYFLOAT j " 1" ; INCRBYFLOAT j 1. ; INCRBYFLOAT j .5e1
INCRBYFLOAT k 0.024390243902439025 ; INCRBYFLOAT k -0.024390243902439025 ; INCRBYFLOAT l -1e-20
INCRBYFLOAT l 123456789.123456789123 ; INCRBYFLOAT l 1e20 ; SET o 1.5e3 ; INCRBYFLOAT o 1
SET p abc ; INCRBYFLOAT p 1 ; INCRBYFLOAT q 1e ; INCRBYFLOAT q 1.7976931348623157e308
INCRBYFLOAT q 1e4932 ; INCRBYFLOAT q 1.2e4932 ; INCRBYFLOAT r 0.1 ; INCRBYFLOAT r 0.7
INCRBYFLOAT r -0.8
`);

test(
  "counter commands answer like redis-server byte for byte",
  { skip: missing("redis-server") },
  async () => {
    await compareWithRedis(COUNTER_CASES, false);
  },
);

function randomFloatText(rand: () => number): string {
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * 10)).join("");
  const sign = rand() < 0.4 ? "-" : "";
  const int = digits(Math.floor(rand() * 12));
  const frac = digits(Math.floor(rand() * 22));
  const exp = rand() < 0.2 ? `e${Math.floor(rand() * 40) - 20}` : "";
  const body = frac === "" ? (int === "" ? "0" : int) : `${int}.${frac}`;
  return sign + body + exp;
}

test(
  "INCRBYFLOAT matches redis-server on random operands",
  { skip: missing("redis-server") },
  async () => {
    const rand = prng(20240607);
    const cases: string[][] = [];
    for (let i = 0; i < 400; i++) {
      const key = `f${i % 37}`;
      if (rand() < 0.3) cases.push(["SET", key, randomFloatText(rand)]);
      cases.push(["INCRBYFLOAT", key, randomFloatText(rand)]);
    }
    await compareWithRedis(cases, false);
  },
);

const RANGE_CASES = cases(`
SET s "Hello World" ; GETRANGE s 0 3 ; GETRANGE s -3 -1 ; GETRANGE s 5 3 ; GETRANGE s -1 -5
GETRANGE s 0 -100 ; GETRANGE s -100 100 ; GETRANGE s 0 9223372036854775807
GETRANGE s -9223372036854775808 -1 ; GETRANGE s -9007199254740993 -9007199254740994
GETRANGE s x 1 ; GETRANGE none 0 1 ; SUBSTR s 1 2 ; SET e "" ; GETRANGE e 0 -1 ; SETRANGE r 5 ab
GET r ; SETRANGE r 1 XYZ ; GET r ; SETRANGE r 0 "" ; SETRANGE nr 3 "" ; EXISTS nr
SETRANGE r -1 a ; SETRANGE r 536870911 ab ; SETRANGE r 9223372036854775807 a ; SETRANGE r 1.5 a
GET r ; SETRANGE r 20 "\x00\xff" ; GET r ; STRLEN r ; SET ka ohmytext ; SET kb mynewtext
LCS ka kb ; LCS ka kb LEN ; LCS ka kb IDX ; LCS ka kb IDX WITHMATCHLEN
LCS ka kb IDX MINMATCHLEN 4 WITHMATCHLEN ; LCS ka kb LEN IDX ; LCS ka kb MINMATCHLEN
LCS ka kb MINMATCHLEN x ; LCS ka kb FOO ; LCS ka missing ; LCS missing missing IDX
LCS ka kb idx minmatchlen -5 ; SET x1 GTAAGCTAGCTAGCGTATTAGCCCGTA
SET x2 CGTTAGCATGCAGCGTGACATTTAGGCA ; LCS x1 x2 ; LCS x1 x2 IDX WITHMATCHLEN
LCS x2 x1 IDX MINMATCHLEN 2
`);

// Arguments Redis 7.2 checks before the key (a missing key, a range before a bad unit) are in
// tests/bits_74_test.ts, beside the 7.4.1 reference.
const BIT_CASES = cases(`
SETBIT b 7 1 ; SETBIT b 7 1 ; SETBIT b 100 0 ; GET b ; GETBIT b 7 ; GETBIT b 6 ; GETBIT b 100000
GETBIT nb 0 ; SETBIT b -1 1 ; SETBIT b 1 2 ; SETBIT b 1 -1 ; SETBIT b x 1 ; SETBIT b 4294967296 1
SETBIT b 4294967295 x ; GETBIT b 4294967296 ; SET c foobar ; BITCOUNT c ; BITCOUNT c 0 0
BITCOUNT c 1 1 ; BITCOUNT c 1 1 BYTE ; BITCOUNT c 5 30 BIT ; BITCOUNT c -5 -1 bit
BITCOUNT c -1 -5 ; BITCOUNT c 0 1 nope ; BITCOUNT c 0
BITCOUNT c 0 1 BIT x ; BITCOUNT c a 1 ; BITCOUNT c 100 200 ; BITCOUNT e2
SET e2 "" ; BITCOUNT e2 0 -1 ; BITPOS e2 0 ; BITPOS e2 1 ; SET p "\xff\xf0\x00" ; BITPOS p 0
BITPOS p 1 ; BITPOS p 1 2 ; BITPOS p 0 0 0 ; BITPOS p 0 0 ; BITPOS p 0 1 -1 ; BITPOS p 1 3 7 BIT
BITPOS p 0 3 7 BIT ; BITPOS p 0 2 11 bit ; BITPOS p 1 -3 -1 BIT ; BITPOS p 0 -3 -1 BIT
BITPOS p 2 ; BITPOS p 1 0 0 WORD ; BITPOS p 1 0 0 BIT x ; BITPOS none 0
BITPOS p x ; SET ones "\xff\xff" ; BITPOS ones 0 ; BITPOS ones 0 0 ; BITPOS ones 0 0 -1
BITPOS ones 0 3 12 BIT ; BITPOS ones 0 5 2 BIT ; SET a1 "\x0f\xf0abc" ; SET a2 "\xff\x0f"
BITOP AND d a1 a2 ; GET d ; BITOP or d a1 a2 missing ; GET d ; BITOP XOR d a1 a2 ; GET d
BITOP NOT d a1 ; GET d ; BITOP NOT d a1 a2 ; BITOP NAND d a1 ; BITOP AND d missing missing2
EXISTS d ; BITOP AND d missing ; SET long1 LONG1 ; SET long2 LONG2 ; BITOP AND d long1 long2
GET d ; BITOP OR d long1 long2 ; GET d ; BITOP XOR d long1 long2 a1 ; GET d ; BITOP NOT d long1
GET d
`);

const BITFIELD_CASES = cases(`
BITFIELD f SET i8 0 -100 GET i8 0 GET u8 0 ; BITFIELD f INCRBY i8 0 -100
BITFIELD f OVERFLOW SAT INCRBY i8 0 -100 ; BITFIELD f OVERFLOW FAIL INCRBY i8 0 -100 GET i8 0
BITFIELD f SET u8 #1 255 INCRBY u8 #1 10 GET u8 8 ; BITFIELD f OVERFLOW SAT SET u8 0 -1 GET u8 0
BITFIELD f OVERFLOW FAIL SET u8 0 -1 ; BITFIELD f SET u8 0 -1
BITFIELD f SET i64 3 -9223372036854775808 GET i64 3 INCRBY i64 3 -1
BITFIELD f OVERFLOW sat INCRBY i64 3 -1 SET u63 5 9223372036854775807 GET u63 5
BITFIELD f INCRBY u63 5 1 GET u1 5 GET i1 5 GET i5 100 ; BITFIELD f GET u64 0
BITFIELD f GET i65 0 ; BITFIELD f GET x8 0 ; BITFIELD f GET I8 0 ; BITFIELD f GET i0 0
BITFIELD f GET i8 -1 ; BITFIELD f GET i8 ; BITFIELD f SET i8 0 ; BITFIELD f OVERFLOW OOPS
BITFIELD f OVERFLOW ; BITFIELD f BAD i8 0 ; BITFIELD f SET i8 0 x ; BITFIELD f GET i8 #x
BITFIELD f GET i8 #-1 ; BITFIELD f ; BITFIELD f OVERFLOW WRAP ; BITFIELD nf GET i8 0 ; EXISTS nf
BITFIELD nf OVERFLOW FAIL INCRBY u2 100 10 ; GET nf ; BITFIELD_RO f GET i8 0 GET u4 #3
BITFIELD_RO f SET i8 0 1 ; BITFIELD_RO f GET i8 0 BAD ; BITFIELD f SET u3 #1000 5 ; STRLEN f
BITFIELD f GET i8 #67108864 ; BITFIELD f GET i8 #536870911 ; BITFIELD f GET u1 4294967295
BITFIELD f GET u1 4294967296 ; BITFIELD f SET i3 1 100 SET u7 10 300 OVERFLOW SAT SET i3 1 100
BITFIELD f SET i3 1 -100 OVERFLOW SAT SET i3 1 -100 GET i3 1 ; GET f
`);

test(
  "range commands answer like redis-server byte for byte (RESP2)",
  { skip: missing("redis-server") },
  async () => {
    await compareWithRedis(RANGE_CASES, false);
  },
);

test(
  "range commands answer like redis-server byte for byte (RESP3)",
  { skip: missing("redis-server") },
  async () => {
    await compareWithRedis(RANGE_CASES, true);
  },
);

test(
  "bit commands answer like redis-server byte for byte",
  { skip: missing("redis-server") },
  async () => {
    await compareWithRedis(BIT_CASES, false);
  },
);

test(
  "BITFIELD answers like redis-server byte for byte",
  { skip: missing("redis-server") },
  async () => {
    await compareWithRedis(BITFIELD_CASES, false);
  },
);

function randomBitCase(rand: () => number): string[] {
  const int = (lo: number, hi: number) => String(lo + Math.floor(rand() * (hi - lo + 1)));
  const key = `b${Math.floor(rand() * 4)}`;
  const unit = rand() < 0.5 ? [] : [rand() < 0.5 ? "BIT" : "BYTE"];
  const type = () => (rand() < 0.5 ? "i" : "u") + int(1, 63);
  switch (Math.floor(rand() * 9)) {
    case 0:
      return ["SETBIT", key, int(0, 200), int(0, 1)];
    case 1:
      return ["BITCOUNT", key, int(-30, 30), int(-30, 30), ...unit];
    case 2:
      return [
        "BITPOS",
        key,
        int(0, 1),
        ...[int(-30, 30), int(-30, 30), ...unit].slice(0, Math.floor(rand() * 4)),
      ];
    case 3:
      return [
        "BITOP",
        ["AND", "OR", "XOR"][Math.floor(rand() * 3)]!,
        `b${Math.floor(rand() * 4)}`,
        key,
        "b0",
        "b3",
      ];
    case 4:
      return ["GETRANGE", key, int(-20, 20), int(-20, 20)];
    case 5:
      return [
        "SETRANGE",
        key,
        int(0, 20),
        String.fromCharCode(Math.floor(rand() * 256)).repeat(Number(int(1, 5))),
      ];
    case 6:
      return [
        "LCS",
        key,
        `b${Math.floor(rand() * 4)}`,
        ...(rand() < 0.5 ? ["IDX", "WITHMATCHLEN"] : []),
      ];
    case 7:
      return [
        "BITFIELD",
        key,
        "OVERFLOW",
        ["WRAP", "SAT", "FAIL"][Math.floor(rand() * 3)]!,
        "INCRBY",
        type(),
        int(0, 150),
        int(-1e6, 1e6),
        "GET",
        type(),
        int(0, 150),
      ];
    default:
      return [
        "BITFIELD",
        key,
        "SET",
        type(),
        int(0, 150),
        int(-1e12, 1e12),
        "GET",
        "i64",
        int(0, 100),
      ];
  }
}

test(
  "bit, range and bitfield commands match redis-server on random sequences",
  { skip: missing("redis-server") },
  async () => {
    const rand = prng(7);
    const cases: string[][] = [];
    for (let i = 0; i < 1500; i++) cases.push(randomBitCase(rand));
    await compareWithRedis(cases, false);
  },
);
