/**
 * BITCOUNT and BITPOS check their arguments before they read the key, as Redis 7.2 does (7.0
 * answered a missing key with 0 or -1 whatever followed): a syntax error, a bad integer or a bad
 * unit is an error for a missing key too, found in Redis's order (BITPOS: start, unit, end).
 * Asserted directly, and beside the 7.4.1 reference build when it is present.
 */
import { test } from "node:test";
import { startServer } from "./helpers.ts";
import { assertReplies, REFERENCE_74, startReference } from "./reference_redis.ts";

const NO_REF = REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false;
const SYNTAX = "-ERR syntax error\r\n";
const NOT_INT = "-ERR value is not an integer or out of range\r\n";
const WRONGTYPE = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

const CASES: Array<[string[], string]> = [
  [["BITCOUNT", "none"], ":0\r\n"],
  [["BITCOUNT", "none", "0"], SYNTAX],
  [["BITCOUNT", "none", "a", "b"], NOT_INT],
  [["BITCOUNT", "none", "0", "b"], NOT_INT],
  [["BITCOUNT", "none", "0", "1", "x"], SYNTAX],
  [["BITCOUNT", "none", "a", "1", "x"], NOT_INT],
  [["BITCOUNT", "none", "0", "1", "bit"], ":0\r\n"],
  [["BITCOUNT", "none", "0", "1", "byte", "x"], SYNTAX],
  [["BITPOS", "none", "0", "1", "hello", "hello2"], SYNTAX],
  [["BITPOS", "none", "0", "a", "b"], NOT_INT],
  [["BITPOS", "none", "0", "1", "a"], NOT_INT],
  [["BITPOS", "none", "0", "1", "a", "x"], SYNTAX],
  [["BITPOS", "none", "0", "1", "2", "x"], SYNTAX],
  [["BITPOS", "none", "1", "1", "2", "bit"], ":-1\r\n"],
  [["BITPOS", "none", "0", "1"], ":0\r\n"],
  [["BITPOS", "none", "2", "x"], "-ERR The bit argument must be 1 or 0.\r\n"],
  [["LPUSH", "list", "x"], ":1\r\n"],
  // Arguments first, then the type.
  [["BITCOUNT", "list", "0"], SYNTAX],
  [["BITCOUNT", "list", "0", "x"], NOT_INT],
  [["BITCOUNT", "list", "0", "1"], WRONGTYPE],
  [["BITPOS", "list", "1", "0", "1", "x"], SYNTAX],
  [["BITPOS", "list", "1", "0"], WRONGTYPE],
  [["SET", "k", "foobar"], "+OK\r\n"],
  [["BITCOUNT", "k", "1", "1", "BYTE"], ":6\r\n"],
  [["BITCOUNT", "k", "5", "30", "BIT"], ":17\r\n"],
  [["BITPOS", "k", "1", "2", "-1", "BYTE"], ":17\r\n"],
  [["BITPOS", "k", "0", "1", "x"], NOT_INT],
  // 7.0 answered 0: an empty negative range before the unit was looked at.
  [["BITCOUNT", "k", "-1", "-5", "nope"], SYNTAX],
  [["BITCOUNT", "k", "-1", "-5"], ":0\r\n"],
];

test("BITCOUNT and BITPOS check arguments before the key, as Redis 7.2", async () => {
  const ours = await startServer();
  try {
    await assertReplies(ours.port, CASES);
  } finally {
    await ours.close();
  }
});

test("BITCOUNT and BITPOS argument checks as the 7.4.1 reference build's", {
  skip: NO_REF,
}, async () => {
  const ref = await startReference();
  try {
    await assertReplies(ref.port, CASES);
  } finally {
    ref.stop();
  }
});
