/**
 * (UN)SUBSCRIBE inside MULTI, as Redis 7.4 answers it: each confirmation is the command's reply,
 * so EXEC's array holds them in place; a command naming several channels puts several
 * confirmations where one was counted (redis/redis#12207), byte for byte as Redis does. A
 * message published to oneself comes after PUBLISH's own reply. SSUBSCRIBE is refused in EXEC
 * (it denies blocking; SUBSCRIBE and PSUBSCRIBE are let through for compatibility).
 */
import { encodeCommand, RawConn } from "./helpers.ts";
import { pipeline } from "./redis_compare.ts";
import { transcriptTests } from "./reference_redis.ts";

const push = (kind: string, name: string, n: number) =>
  `>3\r\n$${kind.length}\r\n${kind}\r\n$${name.length}\r\n${name}\r\n:${n}\r\n`;

const COMMANDS = [
  ["SUBSCRIBE", "foo", "bar", "baz"],
  ["MULTI"],
  ["PING", "abc"],
  ["UNSUBSCRIBE", "bar"],
  ["UNSUBSCRIBE", "baz"],
  ["PING", "def"],
  ["EXEC"],
  ["PUBLISH", "foo", "vaz"],
  ["MULTI"],
  ["PSUBSCRIBE", "a", "b"],
  ["PING"],
  ["EXEC"],
  ["RESET"],
  ["MULTI"],
  ["SSUBSCRIBE", "x"],
  ["SUNSUBSCRIBE"],
  ["EXEC"],
];

const EXPECTED = push("subscribe", "foo", 1) + push("subscribe", "bar", 2) +
  push("subscribe", "baz", 3) + "+OK\r\n" + "+QUEUED\r\n".repeat(4) +
  `*4\r\n$3\r\nabc\r\n${push("unsubscribe", "bar", 2)}${push("unsubscribe", "baz", 1)}` +
  "$3\r\ndef\r\n:1\r\n>3\r\n$7\r\nmessage\r\n$3\r\nfoo\r\n$3\r\nvaz\r\n" +
  "+OK\r\n+QUEUED\r\n+QUEUED\r\n" +
  // Two confirmations where one element was counted: Redis's array, as it sends it.
  `*2\r\n${push("psubscribe", "a", 2)}${push("psubscribe", "b", 3)}+PONG\r\n` +
  "+RESET\r\n" + "+OK\r\n+QUEUED\r\n+QUEUED\r\n" +
  "*2\r\n-ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client\r\n" +
  "*3\r\n$12\r\nsunsubscribe\r\n$-1\r\n:0\r\n";

/** The bytes a connection in RESP3 receives for COMMANDS (HELLO 3's own reply left out). */
async function transcript(port: number): Promise<string> {
  const c = await RawConn.connect(port);
  try {
    await pipeline(c, [["HELLO", "3"]]);
    // RESET goes back to RESP2: the last transaction's confirmations are arrays.
    c.send(COMMANDS.map(encodeCommand).join(""));
    return await c.expect(EXPECTED);
  } finally {
    c.close();
  }
}

transcriptTests(
  "(UN)SUBSCRIBE in MULTI: the confirmations sit in EXEC's array, as in Redis 7.4",
  transcript,
  EXPECTED,
);
