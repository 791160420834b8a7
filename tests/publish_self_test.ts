/**
 * Redis 7.2 sends the messages a command publishes to its own client (PUBLISH to a channel it
 * is subscribed to, its own keyspace events, in MULTI and in scripts too) after that command's
 * reply, not before it. Exact bytes asserted directly, then side by side with the 7.4.1
 * reference.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeCommand, hello3, RawConn, startServer } from "./helpers.ts";
import { REFERENCE_74, startReference } from "./reference_redis.ts";

const NO_REF = REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false;

const bulk = (s: string) => `$${s.length}\r\n${s}\r\n`;
const push = (...items: string[]) => `>${items.length}\r\n${items.map(bulk).join("")}`;
const subscribed = (kind: string, name: string, n: number) =>
  `>3\r\n${bulk(kind)}${bulk(name)}:${n}\r\n`;

/** Each case: a RESP3 command and its raw reply with the pushes that follow it. */
const CASES: Array<[string[], string]> = [
  [["SUBSCRIBE", "foo"], subscribed("subscribe", "foo", 1)],
  [["PUBLISH", "foo", "direct"], `:1\r\n${push("message", "foo", "direct")}`],
  [["MULTI"], "+OK\r\n"],
  [["PING", "abc"], "+QUEUED\r\n"],
  [["PUBLISH", "foo", "bar"], "+QUEUED\r\n"],
  [["PUBLISH", "foo", "vaz"], "+QUEUED\r\n"],
  [["PING", "def"], "+QUEUED\r\n"],
  [
    ["EXEC"],
    `*4\r\n${bulk("abc")}:1\r\n:1\r\n${bulk("def")}${push("message", "foo", "bar")}${
      push("message", "foo", "vaz")
    }`,
  ],
  [
    ["EVAL", "redis.call('publish', 'foo', 's1') redis.call('ping') return 'bla'", "0"],
    `${bulk("bla")}${push("message", "foo", "s1")}`,
  ],
  [["CONFIG", "SET", "notify-keyspace-events", "KA"], "+OK\r\n"],
  [["SUBSCRIBE", "__keyspace@0__:k"], subscribed("subscribe", "__keyspace@0__:k", 2)],
  [["SET", "k", "v"], `+OK\r\n${push("message", "__keyspace@0__:k", "set")}`],
  [["PSUBSCRIBE", "f*"], subscribed("psubscribe", "f*", 3)],
  [
    ["PUBLISH", "foo", "two"],
    `:2\r\n${push("message", "foo", "two")}${push("pmessage", "f*", "foo", "two")}`,
  ],
  [["SSUBSCRIBE", "sh"], subscribed("ssubscribe", "sh", 1)],
  [["SPUBLISH", "sh", "m"], `:1\r\n${push("smessage", "sh", "m")}`],
  [["UNSUBSCRIBE", "foo"], subscribed("unsubscribe", "foo", 2)],
  [["PUBLISH", "foo", "gone"], `:1\r\n${push("pmessage", "f*", "foo", "gone")}`],
];

/** Sends every case pipelined in RESP3 to `port`; returns the bytes of the replies and pushes. */
async function run(port: number): Promise<string> {
  const c = await RawConn.connect(port);
  try {
    await hello3(c);
    c.send(CASES.map(([cmd]) => encodeCommand(cmd)).join(""));
    const all = CASES.map(([, want]) => want).join("");
    const got = await c.read(all.length);
    // Nothing more may follow.
    c.command("PING");
    assert.equal(await c.expect("+PONG\r\n"), "+PONG\r\n");
    return got;
  } finally {
    c.close();
  }
}

test("a client's messages to itself follow its command's reply, in MULTI and scripts too", async () => {
  const ours = await startServer();
  try {
    const got = await run(ours.port);
    let at = 0;
    for (const [cmd, want] of CASES) {
      assert.equal(got.slice(at, at + want.length), want, JSON.stringify(cmd));
      at += want.length;
    }
  } finally {
    await ours.close();
  }
});

test("the same bytes as the 7.4.1 reference", { skip: NO_REF }, async () => {
  const ref = await startReference();
  try {
    const want = await run(ref.port);
    const ours = await startServer();
    try {
      assert.equal(await run(ours.port), want);
    } finally {
      await ours.close();
    }
  } finally {
    ref.stop();
  }
});
