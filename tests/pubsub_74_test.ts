/**
 * Pushes a client causes for itself wait for its command's reply, as in Redis 7.2: a PUBLISH to
 * its own channel (alone, in MULTI, in a script), a keyspace event it subscribed to; the
 * SUBSCRIBE family, whose replies are pushes, is answered in place. RESP3, byte for byte beside
 * the 7.4.1 reference build when it is present, and asserted directly.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RawConn, startServer } from "./helpers.ts";
import { pipeline } from "./redis_compare.ts";
import { REFERENCE_74, startReference } from "./reference_redis.ts";

const NO_REF = REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false;

const STEPS: string[][] = [
  ["HELLO", "3"],
  ["CONFIG", "SET", "notify-keyspace-events", "KEA"],
  ["SUBSCRIBE", "foo"],
  ["PSUBSCRIBE", "__keyevent@0__:set"],
  ["PUBLISH", "foo", "one"],
  ["MULTI"],
  ["PING", "abc"],
  ["PUBLISH", "foo", "bar"],
  ["SET", "k", "v"],
  ["PING", "def"],
  ["EXEC"],
  ["EVAL", "redis.call('publish', 'foo', 'vaz') redis.call('set', 'k', 'w') return 'bla'", "0"],
  ["UNSUBSCRIBE", "foo"],
  ["PING"],
];

/** Everything the client receives for STEPS, as one string (HELLO's reply left out). */
async function transcript(port: number): Promise<string> {
  const c = await RawConn.connect(port);
  try {
    await pipeline(c, [STEPS[0]!]);
    for (const step of STEPS.slice(1)) c.command(...step);
    for (let i = 0; i < 400 && !c.pending.endsWith("+PONG\r\n"); i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    return await c.read(c.pending.length);
  } finally {
    c.close();
  }
}

const bulk = (s: string) => `$${s.length}\r\n${s}\r\n`;
const message = (ch: string, msg: string) => `>3\r\n${bulk("message")}${bulk(ch)}${bulk(msg)}`;
const setEvent = (key: string) =>
  `>4\r\n${bulk("pmessage")}${bulk("__keyevent@0__:set")}${bulk("__keyevent@0__:set")}${bulk(key)}`;

/** Redis 7.4.1's transcript. */
const WANT = "+OK\r\n" +
  `>3\r\n${bulk("subscribe")}${bulk("foo")}:1\r\n` +
  `>3\r\n${bulk("psubscribe")}${bulk("__keyevent@0__:set")}:2\r\n` +
  ":1\r\n" + message("foo", "one") +
  "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n" +
  "*4\r\n$3\r\nabc\r\n:1\r\n+OK\r\n$3\r\ndef\r\n" + message("foo", "bar") + setEvent("k") +
  bulk("bla") + message("foo", "vaz") + setEvent("k") +
  `>3\r\n${bulk("unsubscribe")}${bulk("foo")}:1\r\n` +
  "+PONG\r\n";

test("pushes to the client itself follow its command's reply", async () => {
  const ours = await startServer();
  try {
    assert.equal(await transcript(ours.port), WANT);
  } finally {
    await ours.close();
  }
});

test("the same as the 7.4.1 reference build", { skip: NO_REF }, async () => {
  const ref = await startReference();
  try {
    assert.equal(await transcript(ref.port), WANT);
  } finally {
    ref.stop();
  }
});
