/**
 * Side by side with a real redis-server: EVAL, SCRIPT, FUNCTION and FCALL must answer byte for
 * byte what Redis 7.0 answers, in RESP2 and RESP3: the Lua <-> RESP conversions, the sandbox,
 * error texts (with their script position), script flags and library management. Skipped when
 * `redis-server` is not installed.
 */
import { test } from "node:test";
import { compareWithRedis } from "./redis_compare.ts";
import { missing } from "./redis_tools.ts";

const evalCase = (
  body: string,
  ...rest: string[]
) => ["EVAL", body, String(rest.length === 0 ? 0 : rest[0]), ...rest.slice(1)];

const CONVERSIONS = [
  "return 1",
  "return 1.9",
  "return -3.5",
  "return 2^53",
  "return 123456789012345",
  "return -123456789012345",
  "return 1234567890123456",
  "return -1234567890123456",
  "return 0",
  "return -0",
  "return 1e300",
  "return 1/0",
  "return -1/0",
  "return 'str'",
  "return true",
  "return false",
  "return nil",
  "return",
  "return {1, 2, {3, 'x', {}}}",
  "return {1, nil, 3}",
  "return {'a', false, 'b'}",
  "return {true, false}",
  "return {err='My Error'}",
  "return {err='-WRONG bad\\r\\nline'}",
  "return {ok='fine'}",
  "return {ok='a\\r\\nb'}",
  "return redis.error_reply('x')",
  "return redis.error_reply('-CODE x')",
  "return redis.error_reply()",
  "return redis.status_reply('S')",
  "return redis.status_reply(1)",
  "return {double=1.5}",
  "return {double=0.1}",
  "return {map={a=1}}",
  "return {set={a=true}}",
  "return {big_number='123456789012345678901234567890'}",
  "return {verbatim_string={format='txt', string='hello'}}",
  "redis.setresp(3) return {double=3.25}",
  "redis.setresp(3) return true",
  "redis.setresp(3) return false",
  "redis.setresp(3) return nil",
  "redis.setresp(3) return {map={k='v'}}",
  "redis.setresp(3) return {set={m=true}}",
  "redis.setresp(3) return {big_number='1234'}",
  "redis.setresp(3) return {verbatim_string={format='txt', string='v'}}",
  "redis.setresp(3) return redis.call('hgetall', 'h')",
  "redis.setresp(3) return redis.call('smembers', 's')",
  "redis.setresp(3) return redis.call('zscore', 'z', 'a')",
  "redis.setresp(3) local r = redis.call('hgetall', 'h') return r.map.f",
  "redis.setresp(3) local r = redis.call('zscore', 'z', 'a') return tostring(r.double)",
  "return redis.call('hgetall', 'h')",
  "return redis.call('zscore', 'z', 'a')",
  "return redis.call('get', 'missing')",
  "return type(redis.call('get', 'missing'))",
  "return redis.call('set', 'x', 'y')",
  "return redis.call('set', 'x', 'y').ok",
  "return redis.pcall('incr', 'h')",
  "return type(redis.pcall('incr', 'h'))",
  "return redis.pcall('incr', 'h').err",
  "return redis.call('ping')",
  "return {redis.call('lrange', 'l', 0, -1)}",
  "return redis.call('incrbyfloat', 'f', 1.5)",
  "return redis.call('set', 'n', 3.99)",
  "return redis.call('get', 'n')",
  "return redis.call('set', 'n', 12345678901234567890)",
  "return redis.call('get', 'n')",
  "return redis.call('set', 'n', 0.1)",
  "return redis.call('get', 'n')",
  "return tostring(12345678901234567890)",
  "return tostring(0.1)",
  "return string.format('%d %s %5.2f', 3.7, 'x', 2.5)",
  "return table.concat({1, 2, 3}, ',')",
  "return #string.rep('ab', 1000)",
  "return unpack({1, 2, 3})",
  "return select('#', unpack({1, 2, 3}))",
  "return cjson.encode({a={1, 2}, b='c'})",
  "return cjson.decode('[1,2,{\"x\":true}]')[3].x",
  "return cjson.encode(cjson.decode('{\"n\":1e100}'))",
  "return cmsgpack.unpack(cmsgpack.pack({1, 2, 'x'}))",
  "return struct.unpack('>I2', struct.pack('>I2', 513))",
  "return bit.tohex(bit.bxor(0xff, 0x0f))",
  "return redis.sha1hex('')",
  "return redis.sha1hex('abc')",
  "return redis.sha1hex(string.rep('x', 1000))",
  "return redis.REDIS_VERSION",
  "return redis.REDIS_VERSION_NUM",
  "return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}",
  "return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}",
  "return tostring(math.random())",
  "return math.random(10)",
  "math.randomseed(42) return {math.random(100), math.random(100)}",
  "return _VERSION",
  "return type(io)", // os is Redis 7.4's (os.clock): tests/redis74_scripting_test.ts
  "return type(loadstring)",
  "return loadstring('return 7')()",
  "return pcall(function() error('inner') end)",
  "local ok, e = pcall(function() error('inner') end) return e",
  "local ok, e = pcall(function() error({err='ERR tbl'}) end) return e",
  "local ok, e = pcall(function() redis.call('nosuch') end) return e",
  "return {pcall(function(a) return a, 'b' end, 'a')}",
  "return {xpcall(function() error('z') end, function(e) return 'handled ' .. e end)}",
  "local co = coroutine.wrap(function() coroutine.yield(1) return 2 end) return {co(), co()}",
  "return redis.replicate_commands()",
  "return redis.breakpoint()",
  "redis.debug('x') return 1",
];

const ERRORS = [
  "error('boom')",
  "error({err='CUSTOM failure'})",
  "error(nil)",
  "error(42)",
  "return redis.call('nosuch')",
  "return redis.call('get')",
  "return redis.call()",
  "return redis.pcall()",
  "return redis.call({})",
  "return redis.call('incr', 'h')",
  "return redis.call('incr', 'h', 'extra')",
  // BLPOP in a script: Redis 7.2 answers it as in MULTI (tests/script_blocking_test.ts).
  "return redis.call('subscribe', 'c')",
  "return redis.call('multi')",
  "return redis.call('eval', 'return 1', 0)",
  "return undefined_global",
  "newglobal = 1",
  "_G.x = 1",
  "redis.call = nil",
  "cjson.encode = nil",
  "return print",
  "return loadfile",
  "return dofile",
  "return debug",
  "return redis.sha1hex()",
  "redis.log()",
  "redis.log('x', 'y')",
  "redis.log(99, 'y')",
  "redis.setresp(4)",
  "redis.setresp()",
  "redis.set_repl(99)",
  "redis.set_repl()",
  "return 1 +",
  "syntax error here",
  "return math.random(0)",
  "local t = {} setmetatable(t, {__index = function() error('meta') end}) return t.x",
];

const FLAGS = [
  evalCase("#!lua\nreturn 1"),
  evalCase("#!lua flags=no-writes\nreturn redis.call('get', 'x')"),
  evalCase("#!lua flags=no-writes\nreturn redis.call('set', 'x', 1)"),
  evalCase("#!lua flags=no-writes,allow-oom\nreturn 1"),
  evalCase("#!lua flags=\nreturn 1"),
  evalCase("#!lua flags=bogus\nreturn 1"),
  evalCase("#!lua name=x\nreturn 1"),
  evalCase("#!luajit\nreturn 1"),
  evalCase("#!lua"),
  evalCase("#!lua\nerror('line two')"),
  ["EVAL_RO", "return redis.call('get', 'x')", "0"],
  ["EVAL_RO", "return redis.call('set', 'x', 1)", "0"],
  ["EVAL_RO", "#!lua\nreturn 1", "0"],
  ["EVAL_RO", "#!lua flags=no-writes\nreturn 1", "0"],
  ["EVAL", "return 1"],
  ["EVAL", "return 1", "x"],
  ["EVAL", "return 1", "-1"],
  ["EVAL", "return 1", "2", "a"],
  ["EVAL", "return {KEYS[1], KEYS[2], ARGV[1], #KEYS, #ARGV}", "2", "a", "b", "c"],
  ["EVAL", "return {KEYS[1], ARGV[1]}", "1", "\x00\xff", "\r\n"],
  // What a script does to KEYS and ARGV does not reach the next run's.
  [
    "EVAL",
    "KEYS[5] = 'x' KEYS.foo = 'y' ARGV[1] = nil " +
    "setmetatable(ARGV, {__index = function() return 'meta' end}) return {#KEYS, #ARGV}",
    "3",
    "a",
    "b",
    "c",
    "d",
  ],
  [
    "EVAL",
    "return {#KEYS, #ARGV, tostring(KEYS[2]), tostring(KEYS[5]), tostring(KEYS.foo), " +
    "tostring(ARGV[2]), tostring(getmetatable(ARGV)), tostring(next(KEYS, 1))}",
    "1",
    "a",
    "b",
  ],
  ["EVAL", "return {#KEYS, KEYS[1], KEYS[3], #ARGV}", "3", "p", "q", "r"],
  ["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"],
  ["EVALSHA", "short", "0"],
  ["SCRIPT", "LOAD", "return 'loaded'"],
  ["EVALSHA", "dd1a56eff40c9734a0f64f2f4bd23bb5bd2f0da0", "0"],
  ["EVALSHA", "DD1A56EFF40C9734A0F64F2F4BD23BB5BD2F0DA0", "0"],
  ["EVALSHA_RO", "dd1a56eff40c9734a0f64f2f4bd23bb5bd2f0da0", "0"],
  ["SCRIPT", "EXISTS", "dd1a56eff40c9734a0f64f2f4bd23bb5bd2f0da0", "nope"],
  ["SCRIPT", "LOAD", "return +"],
  ["SCRIPT", "FLUSH", "BOGUS"],
  ["SCRIPT", "FLUSH", "ASYNC"],
  ["SCRIPT", "EXISTS", "dd1a56eff40c9734a0f64f2f4bd23bb5bd2f0da0"],
  ["SCRIPT", "KILL"],
  ["SCRIPT", "BOGUS"],
  ["SCRIPT", "LOAD"],
];

const LIB = "#!lua name=mylib\n" +
  "redis.register_function('myget', function(keys, args) return redis.call('get', keys[1]) end)\n" +
  "redis.register_function{function_name='myset', callback=function(keys, args) " +
  "return redis.call('set', keys[1], args[1]) end, description='sets', flags={'allow-oom'}}\n" +
  "redis.register_function{function_name='ro', callback=function() return 'ro' end, " +
  "flags={'no-writes'}}\n" +
  "redis.register_function('fails', function() error('in function') end)\n";

const FUNCTIONS = [
  ["FUNCTION", "LOAD", LIB],
  ["FUNCTION", "LOAD", LIB],
  // Functions of one library are listed in hash order: list a one-function library.
  ["FUNCTION", "LOAD", "#!lua name=one\nredis.register_function('only', function() return 1 end)"],
  ["FUNCTION", "LIST", "LIBRARYNAME", "on*"],
  ["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "ONE"],
  ["FUNCTION", "LIST", "LIBRARYNAME"],
  ["FUNCTION", "LIST", "BOGUS"],
  ["FCALL", "myset", "1", "fk", "fv"],
  ["FCALL", "MYGET", "1", "fk"],
  ["FCALL_RO", "myget", "1", "fk"],
  ["FCALL_RO", "ro", "0"],
  ["FCALL", "fails", "0"],
  ["FCALL", "nosuch", "0"],
  ["FCALL", "myget", "x"],
  ["FCALL", "myget", "5", "a"],
  ["FCALL", "myget", "-1"],
  ["FUNCTION", "STATS"],
  ["FUNCTION", "LOAD", "return 1"],
  ["FUNCTION", "LOAD", "#!lua\nreturn 1"],
  ["FUNCTION", "LOAD", "#!lua name=a name=b\nreturn 1"],
  ["FUNCTION", "LOAD", "#!lua name=bad-name\nreturn 1"],
  ["FUNCTION", "LOAD", "#!lua name=x foo=bar\nreturn 1"],
  ["FUNCTION", "LOAD", "#!nolua name=x\nreturn 1"],
  ["FUNCTION", "LOAD", "#!lua name=empty\nlocal a = 1"],
  ["FUNCTION", "LOAD", "#!lua name=syn\nreturn +"],
  ["FUNCTION", "LOAD", "#!lua name=rt\nerror('at load')"],
  ["FUNCTION", "LOAD", "#!lua name=call\nredis.call('ping')"],
  ["FUNCTION", "LOAD", "#!lua name=math\nreturn math.random()"],
  ["FUNCTION", "LOAD", "#!lua name=dup\nredis.register_function('myget', function() end)"],
  [
    "FUNCTION",
    "LOAD",
    "#!lua name=dup2\nredis.register_function('f', function() end)\n" +
    "redis.register_function('f', function() end)",
  ],
  ["FUNCTION", "LOAD", "#!lua name=badf\nredis.register_function('bad-name', function() end)"],
  ["FUNCTION", "LOAD", "#!lua name=args\nredis.register_function('f')"],
  ["FUNCTION", "LOAD", "#!lua name=args2\nredis.register_function{function_name='f'}"],
  ["FUNCTION", "LOAD", "#!lua name=args3\nredis.register_function{callback=function() end}"],
  [
    "FUNCTION",
    "LOAD",
    "#!lua name=args4\nredis.register_function{function_name='f', " +
    "callback=function() end, flags={'bogus'}}",
  ],
  [
    "FUNCTION",
    "LOAD",
    "#!lua name=args5\nredis.register_function{function_name='f', " +
    "callback=function() end, other=1}",
  ],
  ["FUNCTION", "LOAD", "#!lua name=args6\nredis.register_function(1, 2)"],
  ["FUNCTION", "LOAD", "REPLACE", LIB],
  ["FUNCTION", "LOAD", "BOGUS", LIB],
  ["FUNCTION", "DELETE", "nosuch"],
  ["FUNCTION", "DELETE", "mylib"],
  ["FCALL", "myget", "1", "fk"],
  ["FUNCTION", "FLUSH", "BOGUS"],
  ["FUNCTION", "Flush", "a", "b"],
  ["FUNCTION", "RESTORE", "a", "b", "c"],
  ["FUNCTION", "FLUSH"],
  ["FUNCTION", "RESTORE", "bogus"],
  ["FUNCTION", "RESTORE", "x", "BADPOLICY"],
  ["FUNCTION", "KILL"],
  ["FUNCTION", "LIST"],
  ["FUNCTION", "DELETE", "one"],
];

function cases(): string[][] {
  const out: string[][] = [
    ["HSET", "h", "f", "v"],
    ["SADD", "s", "m"],
    ["ZADD", "z", "1.5", "a"],
    ["RPUSH", "l", "1", "2"],
  ];
  for (const body of CONVERSIONS) out.push(evalCase(body));
  for (const body of ERRORS) out.push(evalCase(body));
  out.push(...FLAGS, ...FUNCTIONS);
  return out;
}

test(
  "EVAL, SCRIPT, FUNCTION and FCALL answer like redis-server byte for byte (RESP2)",
  { skip: missing("redis-server") },
  async () => {
    await compareWithRedis(cases(), false);
  },
);

test(
  "EVAL, SCRIPT, FUNCTION and FCALL answer like redis-server byte for byte (RESP3)",
  { skip: missing("redis-server") },
  async () => {
    await compareWithRedis(cases(), true);
  },
);

/**
 * Replies of every length around the points where scripting/lua_vm.ts changes how it moves them:
 * a script's result and a redis.call reply stop being copied as strings and become bytes (64
 * bytes), a redis.call string reply stops being written straight into the module (100 bytes, a
 * length of one and two digits), a script's bulk result stops being returned as a string (4096
 * bytes); with binary bytes, errors, and several scripts' replies held by one EXEC.
 */
function replySizes(): string[][] {
  const out: string[][] = [];
  for (
    const n of [
      ...[0, 1, 9, 10, 11, 50, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 70, 99, 100, 101],
      ...[200, 4090, 4095, 4096, 4097, 5000],
    ]
  ) {
    const value = Array.from({ length: n }, (_, i) => String.fromCharCode((i * 37 + n) & 255))
      .join("");
    out.push(
      ["SET", `k${n}`, value],
      ["EVAL", "return redis.call('GET', KEYS[1])", "1", `k${n}`],
      ["EVAL", "return redis.pcall('GET', KEYS[1])", "1", `k${n}`],
      ["EVAL", "return {ARGV[1], redis.call('STRLEN', KEYS[1])}", "1", `k${n}`, value],
      ["EVAL", "return redis.status_reply(ARGV[1])", "0", "s".repeat(n)],
      ["EVAL", "return redis.error_reply(ARGV[1])", "0", `E${"e".repeat(n)}`],
      ["EVAL", "return redis.call('LPUSH', KEYS[1], ARGV[1])", "1", `k${n}`, "x"],
      ["EVAL", "return redis.pcall('LPUSH', KEYS[1], ARGV[1])", "1", `k${n}`, "x"],
    );
  }
  // Arguments of one length, first and last byte (the same slot of lua_vm.ts's recent strings).
  out.push(
    ["SET", "ka1", "first"],
    ["SET", "kb1", "second"],
    [
      "EVAL",
      "return {redis.call('GET', 'ka1'), redis.call('GET', 'kb1'), redis.call('GET', 'ka1')}",
      "0",
    ],
    ["EVAL", "return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2])}", "2", "kb1", "ka1"],
  );
  out.push(
    ["MULTI"],
    ["EVAL", "return redis.call('GET', KEYS[1])", "1", "k1"],
    ["EVAL", "return redis.call('GET', KEYS[1])", "1", "k70"],
    ["EVAL", "return ARGV[1]", "0", "short"],
    ["EVAL", "return {err=ARGV[1]}", "0", "ERR held error"],
    ["EXEC"],
  );
  return out;
}

test("script replies short and long, binary and errors, alone and in EXEC, as Redis's", {
  skip: missing("redis-server"),
}, async () => {
  await compareWithRedis(replySizes(), false);
  await compareWithRedis(replySizes(), true);
});
