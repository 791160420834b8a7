/**
 * List commands' argument checks as Redis 7.2 has them: LPOS RANK in -LONG_MAX..LONG_MAX; a
 * blocking pop's timeout read as `strtold` reads it (hexadecimal too) and refused when it would
 * overflow 64-bit milliseconds ("timeout is out of range"; 7.0 wrapped it to "negative");
 * `list-max-listpack-size` takes any int. Asserted directly, and beside the 7.4.1 reference
 * build when it is present.
 */
import { test } from "node:test";
import { startServer } from "./helpers.ts";
import { assertReplies, REFERENCE_74, startReference } from "./reference_redis.ts";

const NO_REF = REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false;
const OUT = "-ERR timeout is out of range\r\n";
const NEGATIVE = "-ERR timeout is negative\r\n";

const CASES: Array<[string[], string]> = [
  [["RPUSH", "mylist", "a", "b", "c", "1", "2", "3", "c", "c"], ":8\r\n"],
  [
    ["LPOS", "mylist", "c", "RANK", "-9223372036854775808"],
    "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n",
  ],
  [["LPOS", "mylist", "c", "RANK", "-9223372036854775807"], "$-1\r\n"],
  [["LPOS", "mylist", "c", "RANK", "9223372036854775807"], "$-1\r\n"],
  [
    ["LPOS", "mylist", "c", "RANK", "9223372036854775808"],
    "-ERR value is not an integer or out of range\r\n",
  ],
  [["LPOS", "mylist", "c", "RANK", "-2"], ":6\r\n"],
  [["BLPOP", "none", "0x7FFFFFFFFFFFFF"], OUT],
  [["BLPOP", "none", "inf"], OUT],
  [["BLPOP", "none", "-inf"], NEGATIVE],
  [["BLPOP", "none", "1e30"], OUT],
  [["BLPOP", "none", "9.3e15"], OUT],
  [["BLPOP", "none", "0x"], "-ERR timeout is not a float or out of range\r\n"],
  [["BLPOP", "none", "-0x1p3"], NEGATIVE],
  [["BRPOP", "none", "0x7FFFFFFFFFFFFF"], OUT],
  [["BLMOVE", "none", "x", "LEFT", "LEFT", "0x7FFFFFFFFFFFFF"], OUT],
  [["BZPOPMIN", "none", "0x7FFFFFFFFFFFFF"], OUT],
  [["RPUSH", "l2", "x", "y"], ":2\r\n"],
  [["BLPOP", "l2", "0x1p3"], "*2\r\n$2\r\nl2\r\n$1\r\nx\r\n"],
  [["BLPOP", "l2", "0x.8"], "*2\r\n$2\r\nl2\r\n$1\r\ny\r\n"],
  [["CONFIG", "SET", "list-max-listpack-size", "-6"], "+OK\r\n"],
  [
    ["CONFIG", "GET", "list-max-listpack-size"],
    "*2\r\n$22\r\nlist-max-listpack-size\r\n$2\r\n-6\r\n",
  ],
  [
    ["CONFIG", "SET", "list-max-listpack-size", "-2147483649"],
    "-ERR CONFIG SET failed (possibly related to argument 'list-max-listpack-size') - " +
    "argument must be between -2147483648 and 2147483647 inclusive\r\n",
  ],
  [["CONFIG", "SET", "list-max-listpack-size", "-2"], "+OK\r\n"],
];

test("LPOS RANK, blocking timeouts and list-max-listpack-size as Redis 7.2 checks them", async () => {
  const ours = await startServer();
  try {
    await assertReplies(ours.port, CASES);
  } finally {
    await ours.close();
  }
});

test("the same as the 7.4.1 reference build", { skip: NO_REF }, async () => {
  const ref = await startReference();
  try {
    await assertReplies(ref.port, CASES);
  } finally {
    ref.stop();
  }
});
