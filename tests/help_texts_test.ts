/**
 * Every HELP reply in the words of the version the server reports: Redis 7.2's `Print this
 * help.` (7.0: `Prints`), CLIENT HELP's SETINFO, UNBLOCK and NO-TOUCH (7.2), FUNCTION HELP without
 * the library description (7.4). Byte for byte beside the 7.4.1 reference build and Debian's
 * redis-server 7.0.15 (redeno reporting 7.0.15) when they are present.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RawConn, startServer } from "./helpers.ts";
import { compareWithRedis, pipeline } from "./redis_compare.ts";
import { compareWithReference, REFERENCE_74 } from "./reference_redis.ts";
import { missing } from "./redis_tools.ts";

const NO_REF = REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false;
const COMMANDS = [
  "ACL",
  "CLIENT",
  "COMMAND",
  "CONFIG",
  "FUNCTION",
  "LATENCY",
  "MEMORY",
  "MODULE",
  "OBJECT",
  "PUBSUB",
  "SCRIPT",
  "SLOWLOG",
  "XGROUP",
  "XINFO",
];
const CASES = COMMANDS.map((c) => [c, "HELP"]);

test("HELP replies end `Print this help.`; CLIENT and FUNCTION list what 7.4 lists", async () => {
  const ours = await startServer();
  const c = await RawConn.connect(ours.port);
  try {
    const got = await pipeline(c, CASES);
    for (const [i, reply] of got.entries()) {
      assert.ok(reply.endsWith("+HELP\r\n+    Print this help.\r\n"), COMMANDS[i]);
    }
    const client = got[COMMANDS.indexOf("CLIENT")]!;
    assert.match(client, /\+SETINFO <option> <value>\r\n.*\+UNBLOCK <clientid>/s);
    assert.match(client, /\+NO-TOUCH \(ON\|OFF\)\r\n/);
    assert.doesNotMatch(got[COMMANDS.indexOf("FUNCTION")]!, /Library description/);
  } finally {
    c.close();
    await ours.close();
  }
});

test("HELP replies beside the 7.4.1 reference", { skip: NO_REF }, async () => {
  await compareWithReference(CASES, false);
  await compareWithReference(CASES, true);
});

test("HELP replies as 7.0.15 beside Debian's redis-server", {
  skip: missing("redis-server"),
}, async () => {
  await compareWithRedis(CASES, false);
});
