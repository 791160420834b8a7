/**
 * Hostile scripts (issue 15): Lua's sandbox as Redis 7.0.15 with its 2025 security fixes has it.
 * The string metatable is read-only (a script cannot change what other scripts' strings do, nor
 * capture their data through it), getfenv/setfenv/newproxy are gone, the globals are read-only,
 * and there is no io, loadfile, dofile, require or print; `os` holds Redis 7.4's os.clock() alone
 * (tests/redis74_scripting_test.ts, beside the 7.4.1 reference). Every case is compared byte for
 * byte with redis-server.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorReply } from "../mod.ts";
import { startServer } from "./helpers.ts";
import { compareWithRedis } from "./redis_compare.ts";
import { missing } from "./redis_tools.ts";
import { Redis } from "ioredis";

const SCRIPTS = [
  "getmetatable('').__index = {upper = function() return 'pwned' end} return 1",
  "local mt = getmetatable('') mt.x = 1 return 1",
  "rawset(getmetatable(''), '__index', {}) return 1",
  "setmetatable(getmetatable(''), {}) return 1",
  "getmetatable('').__index.upper = nil return 1",
  "string.upper = nil return 1",
  "return type(getmetatable(''))",
  "return ('abc'):upper()",
  "return type(getfenv)",
  "return type(setfenv)",
  "return getfenv(0)",
  "setfenv(1, {}) return 1",
  "return type(newproxy)",
  "return type(io)",
  "return io.open('/etc/passwd')",
  "return type(loadfile)",
  "return type(dofile)",
  "return type(require)",
  "return type(print)",
  "return type(debug)",
  "return type(module)",
  "x = 1 return x",
  "return undefined_name",
  "_G.x = 1 return 1",
  "rawset(_G, 'x', 1) return 1",
  "setmetatable(_G, nil) return 1",
  "redis.call = nil return 1",
  "cjson.encode = nil return 1",
  "return type(loadstring)",
  "return loadstring('return 1')()",
  // CVE-2024-31449: tohex's width negated past INT32_MAX wrote past its buffer.
  "return bit.tohex(65535, -2147483648)",
  "return {bit.tohex(65535, -2147483647), bit.tohex(65535, 2147483647), bit.tohex(-1, -3)}",
];

test("the Lua sandbox refuses what redis-server 7.0.15 refuses, with its errors", {
  skip: missing("redis-server"),
}, async () => {
  await compareWithRedis(SCRIPTS.map((s) => ["EVAL", s, "0"]), false);
});

test("bit.tohex with the smallest width answers and leaves the server whole (CVE-2024-31449)", async () => {
  const { port, close } = await startServer();
  const c = new Redis({ port, host: "127.0.0.1" });
  try {
    assert.equal(await c.eval("return bit.tohex(65535, -2147483648)", 0), "0000FFFF");
    assert.equal(await c.eval("return bit.tohex(255)", 0), "000000ff");
    assert.equal(await c.ping(), "PONG");
  } finally {
    c.disconnect();
    await close();
  }
});

test("a script cannot change the string metatable other clients' scripts use", async () => {
  const { port, close } = await startServer();
  const attacker = new Redis({ port, host: "127.0.0.1" });
  const victim = new Redis({ port, host: "127.0.0.1" });
  try {
    const steal = "getmetatable('').__index = function(s, k) redis.call('SET', 'stolen', s) end";
    await assert.rejects(attacker.eval(steal, 0), /Attempt to modify a readonly table/);
    assert.equal(await victim.eval("local secret = 'hunter2' return secret:upper()", 0), "HUNTER2");
    assert.equal(await victim.get("stolen"), null);
  } finally {
    attacker.disconnect();
    victim.disconnect();
    await close();
  }
});

test("a function library cannot change the string metatable either", async () => {
  const { server, close } = await startServer();
  try {
    const lib = "#!lua name=evil\n" +
      "redis.register_function('f', function() getmetatable('').x = 1 return 1 end)";
    server.dispatch(["FUNCTION", "LOAD", lib]);
    const r = server.dispatch(["FCALL", "f", "0"]);
    assert.ok(r instanceof ErrorReply);
    assert.match(r.message, /Attempt to modify a readonly table/);
  } finally {
    await close();
  }
});
