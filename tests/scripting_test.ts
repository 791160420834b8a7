/**
 * Scripts and functions beyond their replies: what they propagate (effects wrapped in
 * MULTI/EXEC, never the EVAL itself, nothing under redis.set_repl(REPL_NONE)), atomicity,
 * busy-reply-threshold with BUSY replies and SCRIPT KILL / FUNCTION KILL (also inside pcall),
 * WATCH, and in-process use.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "../mod.ts";
import { errorText, RawConn, startServer } from "./helpers.ts";

const LIB = "#!lua name=lib\n" +
  "redis.register_function('two', function(keys) redis.call('set', keys[1], 'a') " +
  "redis.call('incr', keys[2]) return 1 end)\n" +
  "redis.register_function('spin', function() while true do end end)\n" +
  "redis.register_function{function_name='rospin', callback=function() while true do end end, " +
  "flags={'no-writes'}}\n";

test("scripts propagate their effects, wrapped in MULTI/EXEC when there are several", () => {
  const server = createServer();
  const seen: string[][] = [];
  server.on("propagate", (_db, argv) => seen.push(argv));
  server.dispatch([
    "EVAL",
    "redis.call('set', KEYS[1], 'v') redis.call('incr', KEYS[2])",
    "2",
    "a",
    "n",
  ]);
  assert.deepEqual(seen, [["MULTI"], ["set", "a", "v"], ["incr", "n"], ["EXEC"]]);

  seen.length = 0;
  server.dispatch(["EVAL", "return redis.call('set', KEYS[1], 'w')", "1", "a"]);
  assert.deepEqual(seen, [["set", "a", "w"]], "one effect is not wrapped");

  seen.length = 0;
  server.dispatch(["EVAL", "return redis.call('get', KEYS[1])", "1", "a"]);
  assert.equal(seen.length, 0, "a read-only script propagates nothing");

  seen.length = 0;
  server.dispatch([
    "EVAL",
    "redis.set_repl(redis.REPL_NONE) redis.call('set', 'quiet', 1) " +
    "redis.set_repl(redis.REPL_ALL) redis.call('set', 'loud', 1)",
    "0",
  ]);
  assert.deepEqual(seen, [["set", "loud", "1"]], "REPL_NONE writes stay local");
  assert.equal(server.dispatch(["GET", "quiet"]), "1");

  seen.length = 0;
  server.dispatch(["EVAL", "return redis.call('set', 'ttl', 'v', 'EX', 100)", "0"]);
  assert.equal(seen.length, 1);
  assert.deepEqual(seen[0]!.slice(0, 4), ["SET", "ttl", "v", "PXAT"], "SET EX becomes PXAT");

  seen.length = 0;
  assert.equal(server.dispatch(["FUNCTION", "LOAD", LIB]), "lib");
  assert.deepEqual(seen, [["FUNCTION", "LOAD", LIB]], "FUNCTION LOAD propagates as sent");
  seen.length = 0;
  server.dispatch(["FCALL", "two", "2", "x", "y"]);
  assert.deepEqual(seen, [["MULTI"], ["set", "x", "a"], ["incr", "y"], ["EXEC"]]);
});

test("a script that fails half way keeps and propagates what it wrote", () => {
  const server = createServer();
  const seen: string[][] = [];
  server.on("propagate", (_db, argv) => seen.push(argv));
  const r = server.dispatch([
    "EVAL",
    "redis.call('set', 'a', 1) redis.call('incr', 'nokey', 'x')",
    "0",
  ]);
  assert.match(
    errorText(r),
    /^ERR Wrong number of args calling Redis command from script script: /,
  );
  assert.equal(server.dispatch(["GET", "a"]), "1");
  assert.deepEqual(seen, [["set", "a", "1"]]);
});

test("in-process sessions get script results as values in both protocols", () => {
  const server = createServer();
  const s = server.session();
  assert.deepEqual(s.call("EVAL", "return {1, 'two', {3}}", "0"), [1, "two", [3]]);
  assert.equal(s.call("EVAL", "return nil", "0"), null);
  s.call("HELLO", "3");
  const m = s.call("EVAL", "redis.setresp(3) return {map={a=1}}", "0");
  assert.equal(m?.constructor.name, "MapReply");
  assert.match(errorText(s.call("EVALSHA", "abc", "0")), /^NOSCRIPT /);
});

test("a write to a watched key from a script makes EXEC fail", async () => {
  const { port, close } = await startServer();
  const a = await RawConn.connect(port);
  const b = await RawConn.connect(port);
  try {
    a.command("WATCH", "k");
    await a.expect("+OK\r\n");
    b.command("EVAL", "return redis.call('set', KEYS[1], 'x')", "1", "k");
    await b.expect("+OK\r\n");
    a.command("MULTI");
    a.command("GET", "k");
    a.command("EXEC");
    await a.expect("+OK\r\n+QUEUED\r\n*-1\r\n");
  } finally {
    a.close();
    b.close();
    await close();
  }
});

/** Reads one reply line (waiting for it). */
async function line(c: RawConn, timeoutMs = 10000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!c.pending.includes("\r\n")) {
    if (Date.now() > deadline) throw new Error(`no line, have ${JSON.stringify(c.pending)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return c.read(c.pending.indexOf("\r\n") + 2);
}

async function busy(port: number): Promise<RawConn> {
  const probe = await RawConn.connect(port);
  for (let i = 0; i < 200; i++) {
    probe.command("PING");
    const line = await probe.read(7);
    if (line.startsWith("-BUSY")) {
      await probe.read(probe.pending.indexOf("\r\n") + 2);
      return probe;
    }
    assert.equal(line, "+PONG\r\n");
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("the script never made the server busy");
}

test("a slow script gets BUSY replies to others and SCRIPT KILL stops it", async () => {
  const { server, port, close } = await startServer({ config: { "busy-reply-threshold": 50 } });
  const runner = await RawConn.connect(port);
  try {
    server.dispatch(["SET", "x", "1"]);
    runner.command("EVAL", "local i = 0 while true do i = i + 1 end", "0");
    const other = await busy(port);
    other.command("SET", "x", "2");
    await other.expect(
      "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n",
    );
    other.command("FUNCTION", "KILL");
    await other.expect(
      "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n",
    );
    other.command("SCRIPT", "KILL");
    await other.expect("+OK\r\n");
    const err = await line(runner);
    assert.match(
      err,
      /^-ERR Script killed by user with SCRIPT KILL\.\.\. script: [0-9a-f]{40}, on @user_script:1\.\r\n$/,
    );
    other.command("GET", "x");
    await other.expect("$1\r\n1\r\n");
    other.command("SCRIPT", "KILL");
    await other.expect("-NOTBUSY No scripts in execution right now.\r\n");
    other.close();
  } finally {
    runner.close();
    await close();
  }
});

test("SCRIPT KILL stops a script looping inside pcall", async () => {
  const { port, close } = await startServer({ config: { "busy-reply-threshold": 50 } });
  const runner = await RawConn.connect(port);
  try {
    runner.command(
      "EVAL",
      "local f = function() while true do redis.call('ping') end end while true do pcall(f) end",
      "0",
    );
    const other = await busy(port);
    other.command("SCRIPT", "KILL");
    await other.expect("+OK\r\n");
    assert.match(await line(runner), /^-ERR Script killed by user with SCRIPT KILL/);
    other.command("PING");
    await other.expect("+PONG\r\n");
    other.close();
  } finally {
    runner.close();
    await close();
  }
});

test("a slow script that wrote cannot be killed; its caller waits for its end", async () => {
  const { port, close } = await startServer({ config: { "busy-reply-threshold": 50 } });
  const runner = await RawConn.connect(port);
  try {
    runner.command(
      "EVAL",
      "redis.call('set', 'w', 1) local t = 0 for i = 1, 40000000 do t = t + i end return 'done'",
      "0",
    );
    const other = await busy(port);
    other.command("SCRIPT", "KILL");
    assert.match(
      await line(other),
      /^-UNKILLABLE Sorry the script already executed write commands/,
    );
    assert.equal(await runner.read(10, 60000), "$4\r\ndone\r\n");
    other.command("GET", "w");
    await other.expect("$1\r\n1\r\n");
    other.close();
  } finally {
    runner.close();
    await close();
  }
});

test("FUNCTION KILL stops a slow function and FUNCTION STATS shows it running", async () => {
  const { server, port, close } = await startServer({ config: { "busy-reply-threshold": 50 } });
  const runner = await RawConn.connect(port);
  try {
    server.dispatch(["FUNCTION", "LOAD", LIB]);
    runner.command("FCALL", "rospin", "0");
    const other = await busy(port);
    other.command("SCRIPT", "KILL");
    await other.expect(
      "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n",
    );
    other.command("FUNCTION", "STATS");
    const stats = await other.read(120);
    assert.match(
      stats,
      /^\*4\r\n\$14\r\nrunning_script\r\n\*6\r\n\$4\r\nname\r\n\$6\r\nrospin\r\n/,
    );
    await other.read(other.pending.length);
    other.command("FUNCTION", "KILL");
    await other.expect("+OK\r\n");
    assert.match(
      await line(runner),
      /^-ERR Script killed by user with SCRIPT KILL\.\.\. script: rospin, on @user_function:\d+\.\r\n$/,
    );
    other.close();
  } finally {
    runner.close();
    await close();
  }
});

test("dispatch() decodes a script's reply whether it came back as a string or as bytes", () => {
  const server = createServer();
  const long = "v".repeat(100);
  server.dispatch(["SET", "short", "abc"]);
  server.dispatch(["SET", "long", long]);
  assert.equal(server.dispatch(["EVAL", "return redis.call('GET', KEYS[1])", "1", "short"]), "abc");
  assert.equal(server.dispatch(["EVAL", "return redis.call('GET', KEYS[1])", "1", "long"]), long);
  assert.deepEqual(server.dispatch(["EVAL", "return {1, ARGV[1]}", "0", long]), [1, long]);
});

test("a script that grows the Lua engine's memory past 96 MB still passes arguments and replies", () => {
  // Growing the WebAssembly memory replaces its buffer: the bridge must notice and use the new one.
  const server = createServer();
  const grow = "local t = {} for i = 1, tonumber(ARGV[1]) do " +
    "t[i] = string.rep(string.char(64 + i % 26), 1048576) end " +
    "redis.call('SET', KEYS[1], t[#t]:sub(1, 5) .. #t) return redis.call('GET', KEYS[1])";
  for (const mb of [8, 32, 96]) {
    const want = String.fromCharCode(64 + mb % 26).repeat(5) + mb;
    assert.equal(String(server.dispatch(["EVAL", grow, "1", "k", String(mb)])), want);
  }
  assert.equal(String(server.dispatch(["EVAL", "return ARGV[1] .. 'z'", "0", "arg"])), "argz");
  assert.equal(String(server.dispatch(["GET", "k"])), "RRRRR96");
});

test("each run's KEYS and ARGV hold its own arguments whatever earlier runs did to theirs", () => {
  const server = createServer();
  // #, the entries pairs() sees, what is read at 1, 2 and `x`, the metatables.
  const look = "local function n(t) local c = 0 for _ in pairs(t) do c = c + 1 end return c end " +
    "return table.concat({#KEYS, #ARGV, n(KEYS), n(ARGV), tostring(KEYS[1]), tostring(KEYS[2]), " +
    "tostring(KEYS.x), tostring(ARGV[1]), tostring(ARGV[2]), tostring(getmetatable(KEYS)), " +
    "tostring(getmetatable(ARGV))}, ',')";
  const keys = (n: number) => Array.from({ length: n }, (_, i) => `k${i}`);
  const spoilers = [
    "KEYS[2] = 'extra' ARGV[3] = 'extra'",
    "KEYS.x = 'hash' ARGV.y = 'hash'",
    "KEYS.x = 'hash' KEYS.x = nil",
    "setmetatable(KEYS, {__index = function() return 'meta' end}) setmetatable(ARGV, {})",
    "KEYS[1] = nil ARGV[1] = nil",
    "for i = 1, 100 do KEYS[i] = i ARGV[i] = i end",
    "table.remove(KEYS) table.insert(ARGV, 1, 'first')",
  ];
  for (const spoil of spoilers) {
    for (const n of [0, 1, 3, 70]) {
      server.dispatch(["EVAL", spoil, String(n), ...keys(n), "a", "b"]);
      assert.equal(
        server.dispatch(["EVAL", look, "1", "key", "arg"]),
        "1,1,1,1,key,nil,nil,arg,nil,nil,nil",
        `after ${spoil} with ${n} keys`,
      );
      assert.equal(server.dispatch(["EVAL", look, "0"]), "0,0,0,0,nil,nil,nil,nil,nil,nil,nil");
    }
  }
  assert.equal(
    server.dispatch(["EVAL", "return table.concat(KEYS, ',') .. '|' .. #ARGV", "3", "a", "b", "c"]),
    "a,b,c|0",
  );
});

test("a script's result is its own whatever the reply of its last redis.call was", () => {
  // The bridge hands back the string of the last redis.call reply when the result has its bytes:
  // every other case must decode the result itself.
  const server = createServer();
  server.dispatch(["SET", "k", "v"]);
  server.dispatch(["SET", "big", "x".repeat(200)]);
  server.dispatch(["SET", "resp", "$5\r\nhello"]);
  const cases: Array<[string, unknown]> = [
    ["return redis.call('GET', 'k')", "v"],
    ["return 'v'", "v"],
    ["return 'w'", "w"],
    ["return redis.call('GET', 'k') .. 'x'", "vx"],
    ["local a = redis.call('GET', 'k') redis.call('INCR', 'n') return a", "v"],
    ["local a = redis.call('GET', 'k') redis.call('GET', 'nothing') return a", "v"],
    ["local a = redis.call('GET', 'k') redis.call('SET', 'o', 'k') return a", "v"],
    ["redis.call('GET', 'k') return redis.call('INCR', 'n')", 2],
    ["return redis.call('GET', 'big')", "x".repeat(200)],
    ["return 'v'", "v"],
    ["redis.call('GET', 'resp') return '$5\\r\\nhello'", "$5\r\nhello"],
    ["redis.call('GET', 'resp') return redis.call('GET', 'resp')", "$5\r\nhello"],
    ["redis.call('GET', 'k') return ''", ""],
    ["redis.call('GET', 'k') return {redis.call('GET', 'k')}", ["v"]],
    ["redis.call('GET', 'k') return redis.call('GET', 'nothing')", null],
    ["redis.call('GET', 'k') return tostring(redis.call('DEL', 'nothing'))", "0"],
    ["redis.call('GET', 'k') return tostring(redis.call('GET', 'nothing'))", "false"],
  ];
  for (const [script, want] of cases) {
    assert.deepEqual(server.dispatch(["EVAL", script, "0"]), want, script);
  }
  assert.equal(
    errorText(
      server.dispatch(["EVAL", "redis.call('GET', 'k') return redis.error_reply('v')", "0"]),
    ),
    "ERR v",
  );
  server.dispatch([
    "FUNCTION",
    "LOAD",
    "#!lua name=l\nredis.register_function('g', " +
    "function(keys) return redis.call('GET', keys[1]) end)",
  ]);
  assert.equal(server.dispatch(["FCALL", "g", "1", "k"]), "v");
  assert.equal(server.dispatch(["FCALL", "g", "1", "resp"]), "$5\r\nhello");
  assert.equal(server.dispatch(["EVAL", "return 'v'", "0"]), "v");
});

test("redis.call gets the script's own KEYS and ARGV right, whatever the script did with them", () => {
  // The bridge passes an argument with the bytes of one of the run's KEYS or ARGV as a reference
  // to the caller's string: the bytes must decide, not the table.
  const server = createServer();
  const keys = Array.from({ length: 20 }, (_, i) => `key${i}`);
  const vals = keys.map((_, i) => i === 3 ? "\0\xff\r\n" : i === 5 ? "x".repeat(1000) : `v${i}`);
  assert.deepEqual(
    server.dispatch([
      "EVAL",
      "for i = 1, #KEYS do redis.call('SET', KEYS[i], ARGV[i]) end " +
      "return redis.call('MGET', unpack(KEYS))",
      "20",
      ...keys,
      ...vals,
    ]),
    vals,
  );
  assert.deepEqual(
    server.dispatch([
      "EVAL",
      "KEYS[1] = 'changed' redis.call('SET', KEYS[1], ARGV[1]) " +
      "redis.call('SET', 'k' .. 'x', ARGV[2]) redis.call('SET', 'n', 5) " +
      "return {redis.call('GET', 'changed'), redis.call('GET', 'kx'), redis.call('INCRBY', 'n', ARGV[3]), " +
      "redis.call('GET', ARGV[4])}",
      "1",
      "kx",
      "a",
      "b",
      "5",
      "kx",
    ]),
    ["a", "b", 10, "b"],
  );
  assert.equal(server.dispatch(["EXISTS", "kx"]), 1);
  assert.equal(
    server.dispatch(["EVAL", "return redis.acl_check_cmd(ARGV[1], KEYS[1])", "1", "k", "get"]),
    1,
  );
  server.dispatch([
    "FUNCTION",
    "LOAD",
    "#!lua name=a\nredis.register_function('setget', " +
    "function(keys, args) redis.call('SET', keys[1], args[1]) return redis.call('GET', keys[1]) end)",
  ]);
  assert.equal(server.dispatch(["FCALL", "setget", "1", "fk", "fv"]), "fv");
  assert.equal(server.dispatch(["EVAL", "return redis.call('GET', ARGV[1])", "0", "fk"]), "fv");
});
