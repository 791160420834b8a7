/**
 * Side by side with a real redis-server: hash and set commands must answer byte for byte what
 * Redis 7.0 answers, in RESP2 and RESP3. Replies whose order Redis leaves to its hash table
 * (a hashtable-encoded set or hash) are compared as sorted lists of elements. Skipped when
 * `redis-server` is not installed.
 */
import { test } from "node:test";
import { compareWithRedis, prng, script } from "./redis_compare.ts";
import { missing } from "./redis_tools.ts";

/** Words that stand for long values in the case scripts below. */
const LONG_WORDS = { LONG: "v".repeat(100) };
const cases = (text: string) => script(text, LONG_WORDS);

const HASH_CASES = cases(`
HSET h a 1 b 2 c 3 ; HSET h a 10 d 4 ; HGETALL h ; HDEL h b ; HSET h b 5 ; HGETALL h ; HKEYS h
HVALS h ; HLEN h ; HGET h a ; HGET h zz ; HGET nokey a ; HMGET h a zz b ; HMGET nokey a b
HSETNX h a 99 ; HSETNX h e 99 ; HEXISTS h e ; HEXISTS h zz ; HEXISTS nokey a ; HSTRLEN h a
HSTRLEN h zz ; HSTRLEN nokey a ; HMSET h x 1 y 2 ; HMSET h x ; HSET h x ; HSET h ; HDEL h zz
HDEL nokey a ; HDEL h a b c d e x y zz ; EXISTS h ; HGETALL nokey ; HKEYS nokey ; HVALS nokey
HLEN nokey ; HINCRBY h n 5 ; HINCRBY h n -10 ; HINCRBY h n x ; HINCRBY h n 1.5
HINCRBY h n 9223372036854775807 ; HSET h n 9223372036854775807 ; HINCRBY h n 1 ; HSET h s " 1"
HINCRBY h s 1 ; HSET h s "1 " ; HINCRBY h s 1 ; HINCRBYFLOAT h f 1.5 ; HINCRBYFLOAT h f 0.1
HINCRBYFLOAT h f -1.6 ; HINCRBYFLOAT h f 1e400 ; HINCRBYFLOAT h f inf ; HINCRBYFLOAT h f nan
HINCRBYFLOAT h f abc ; HSET h g 10.5e3 ; HINCRBYFLOAT h g 1 ; HSET h i inf ; HINCRBYFLOAT h i 1
HINCRBYFLOAT h s 1 ; HSET h z "1\x002" ; HINCRBYFLOAT h z 1 ; HINCRBYFLOAT h f 3.0e3
HINCRBYFLOAT h n 1 ; HINCRBYFLOAT h f 0x10 ; ~HGETALL h ; OBJECT ENCODING h ; HSET h long LONG
OBJECT ENCODING h ; HGET h long ; SET str x ; HGET str a ; HSET str a 1 ; HGETALL str
HMGET str a ; HINCRBY str a 1 ; HRANDFIELD str ; HSCAN str 0 ; HRANDFIELD nokey ; HRANDFIELD nokey 5
HRANDFIELD nokey -5 withvalues ; HRANDFIELD h 0 ; HRANDFIELD h 1 x ; HRANDFIELD h 1 withvalues x
HRANDFIELD h -9223372036854775808 ; HRANDFIELD h 4611686018427387904 withvalues
HRANDFIELD h -4611686018427387904 WITHVALUES ; HRANDFIELD h x ; HSET one k v ; HRANDFIELD one
HRANDFIELD one 1 ; HRANDFIELD one -3 ; HRANDFIELD one -2 withvalues ; HRANDFIELD one 5 WITHVALUES
HSET two a 1 b 2 ; HRANDFIELD two 2 withvalues ; HRANDFIELD two 100 ; HSCAN two 0
HSCAN two 0 MATCH a* ; HSCAN two 0 COUNT 1 ; HSCAN two 12345 ; HSCAN two x ; HSCAN two 0 COUNT 0
HSCAN two 0 MATCH ; HSCAN two 0 TYPE hash ; HSCAN nokey 0 COUNT 0
CONFIG SET hash-max-listpack-entries 3 ; HSET c a 1 b 2 c 3 ; OBJECT ENCODING c ; HSET c d 4
OBJECT ENCODING c ; HDEL c a b c ; OBJECT ENCODING c ; ~HGETALL c ; CONFIG SET hash-max-listpack-value 4
HSET v 1234 x ; OBJECT ENCODING v ; HSET v f 12345 ; OBJECT ENCODING v ; HSET w 12345 x
OBJECT ENCODING w ; HSET z a 1 ; HINCRBYFLOAT z a 1.25 ; OBJECT ENCODING z ; HSET y a 1
HINCRBY y 12345 1 ; OBJECT ENCODING y ; CONFIG SET hash-max-listpack-entries 512
CONFIG SET hash-max-listpack-value 64 ; HSET "\x00\xff" "\xff" "\x00" ; HGETALL "\x00\xff"
`);

const SET_CASES = cases(`
SADD s 3 1 2 -5 100 9223372036854775807 -9223372036854775808 ; SMEMBERS s ; OBJECT ENCODING s
SADD s 1 2 ; SCARD s ; SISMEMBER s 1 ; SISMEMBER s 01 ; SISMEMBER s x ; SMISMEMBER s 1 x 3 01
SMISMEMBER nokey a b ; SREM s 1 01 x 2 ; SMEMBERS s ; SADD s 9223372036854775808 ; ~SMEMBERS s
OBJECT ENCODING s ; SADD i 5 ; SADD i 01 ; OBJECT ENCODING i ; SADD j -0 ; OBJECT ENCODING j
SADD k "" ; OBJECT ENCODING k ; SMEMBERS nokey ; SCARD nokey ; SISMEMBER nokey a ; SREM nokey a
SADD t 1 2 3 ; SREM t 1 2 3 4 ; EXISTS t ; SADD a 1 2 3 4 5 ; SADD b 2 3 4 10 ; SADD c 3 4 20
SINTER a b c ; SINTER a b nokey ; SINTER c a ; SINTER a a ; SINTERCARD 3 a b c
SINTERCARD 2 a b LIMIT 2 ; SINTERCARD 2 a b LIMIT 0 ; SINTERCARD 1 nokey ; SINTERCARD 0 a
SINTERCARD -1 a ; SINTERCARD x a ; SINTERCARD 3 a b ; SINTERCARD 1 a LIMIT -1
SINTERCARD 1 a LIMIT x ; SINTERCARD 1 a LIMIT ; SINTERCARD 1 a FOO 1
SINTERCARD 9223372036854775808 a ; SINTERSTORE d a b c ; SMEMBERS d ; OBJECT ENCODING d
SINTERSTORE d a nokey ; EXISTS d ; SINTERSTORE d nokey ; SUNION a b c ; SUNION nokey a
SUNION nokey ; SUNIONSTORE d a b c ; SMEMBERS d ; SUNIONSTORE d nokey nokey2 ; EXISTS d
SDIFF a b c ; SDIFF a b ; SDIFF a a ; SDIFF nokey a ; SDIFF a nokey ; SDIFFSTORE d a b
SMEMBERS d ; SDIFFSTORE d a a ; EXISTS d ; SADD m x y z 1 ; ~SUNION a m ; ~SINTER m a
~SDIFF m a ; SDIFF a m ; SINTERCARD 2 m a ; SUNIONSTORE d a m ; OBJECT ENCODING d
SINTERSTORE d a m ; OBJECT ENCODING d ; SMEMBERS d ; SET str x ; SADD str a ; SMEMBERS str
SINTER a str ; SINTER nokey str ; SUNION a str ; SDIFF nokey str ; SINTERCARD 2 a str
SINTERSTORE d a str ; SUNIONSTORE d str ; SDIFFSTORE d str ; SREM str a ; SCARD str
SISMEMBER str a ; SMISMEMBER str a ; SPOP str ; SRANDMEMBER str ; SSCAN str 0 ; SMOVE str a x
SMOVE a str 1 ; SMOVE nokey str 1 ; SMOVE a b 1 ; SMEMBERS a ; SMEMBERS b ; SMOVE a b 2
SMEMBERS a ; SMOVE a b 99 ; SMOVE a a 3 ; SMOVE a a 99 ; SADD one 7 ; SMOVE one new 7
EXISTS one ; SMEMBERS new ; SMOVE new m 7 ; ~SMEMBERS m ; SPOP nokey ; SPOP nokey 3 ; SPOP a 0
SPOP a -1 ; SPOP a x ; SPOP a 1 2 ; SADD p 1 2 3 ; SPOP p 3 ; EXISTS p ; SADD p 1 2 3 ; SPOP p 10
SADD q 42 ; SPOP q ; EXISTS q ; SRANDMEMBER nokey ; SRANDMEMBER nokey 5 ; SRANDMEMBER nokey -5
SRANDMEMBER a 0 ; SRANDMEMBER a 1 2 ; SRANDMEMBER a -9223372036854775808 ; SRANDMEMBER a x
SRANDMEMBER a 100 ; SRANDMEMBER one2 ; SADD one2 z ; SRANDMEMBER one2 ; SRANDMEMBER one2 -3
SRANDMEMBER one2 1 ; SSCAN a 0 ; SSCAN a 99 ; SSCAN a 0 MATCH 3* ; SSCAN a 0 COUNT 0
SSCAN a 0 TYPE set ; SSCAN a x ; SSCAN nokey 0 COUNT 0 ; SSCAN a 0 MATCH
CONFIG SET set-max-intset-entries 3 ; SADD e 1 2 3 ; OBJECT ENCODING e ; SADD e 4
OBJECT ENCODING e ; SREM e 4 ; OBJECT ENCODING e ; SINTERSTORE d e e ; OBJECT ENCODING d
SADD e2 1 2 3 4 ; SINTERSTORE d e2 ; OBJECT ENCODING d ; CONFIG SET set-max-intset-entries 512
SADD bin "\x00\xff" ; SMEMBERS bin ; SISMEMBER bin "\x00\xff"
`);

test(
  "hash commands answer like redis-server byte for byte (RESP2)",
  { skip: missing("redis-server") },
  async () => {
    await compareWithRedis(HASH_CASES, false);
  },
);

test(
  "hash commands answer like redis-server byte for byte (RESP3)",
  { skip: missing("redis-server") },
  async () => {
    await compareWithRedis(HASH_CASES, true);
  },
);

test(
  "set commands answer like redis-server byte for byte (RESP2)",
  { skip: missing("redis-server") },
  async () => {
    await compareWithRedis(SET_CASES, false);
  },
);

test(
  "set commands answer like redis-server byte for byte (RESP3)",
  { skip: missing("redis-server") },
  async () => {
    await compareWithRedis(SET_CASES, true);
  },
);

function randomSetCase(rand: () => number): string[] {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const member = () =>
    rand() < 0.8 ? String(Math.floor(rand() * 40) - 10) : pick(["a", "b", "01", "-0", ""]);
  const key = () => `s${Math.floor(rand() * 4)}`;
  const members = () => Array.from({ length: 1 + Math.floor(rand() * 6) }, member);
  const keys = () => Array.from({ length: 1 + Math.floor(rand() * 3) }, key);
  switch (Math.floor(rand() * 12)) {
    case 0:
    case 1:
      return ["SADD", key(), ...members()];
    case 2:
      return ["SREM", key(), ...members()];
    case 3:
      return ["~SMEMBERS", key()];
    case 4:
      return ["SMISMEMBER", key(), ...members()];
    case 5:
      return ["~SINTER", ...keys()];
    case 6:
      return ["~SUNION", ...keys()];
    case 7:
      return ["~SDIFF", ...keys()];
    case 8:
      return [pick(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), key(), ...keys()];
    case 9:
      return ["SMOVE", key(), key(), member()];
    case 10:
      return ["SINTERCARD", "2", key(), key(), "LIMIT", String(Math.floor(rand() * 4))];
    default:
      return ["OBJECT", "ENCODING", key()];
  }
}

function randomHashCase(rand: () => number): string[] {
  const field = () => `f${Math.floor(rand() * 12)}`;
  const key = `h${Math.floor(rand() * 3)}`;
  const value = () => (rand() < 0.5 ? String(Math.floor(rand() * 100)) : "x".repeat(rand() * 60));
  switch (Math.floor(rand() * 8)) {
    case 0:
    case 1:
      return ["HSET", key, field(), value(), field(), value()];
    case 2:
      return ["HDEL", key, field(), field()];
    case 3:
      return ["HGETALL", key];
    case 4:
      return ["HINCRBY", key, field(), String(Math.floor(rand() * 10))];
    case 5:
      return ["HMGET", key, field(), field()];
    case 6:
      return ["HSCAN", key, "0", "MATCH", `f${Math.floor(rand() * 2)}*`];
    default:
      return ["OBJECT", "ENCODING", key];
  }
}

test("random set workloads match redis-server (small hashtable limits)", {
  skip: missing("redis-server"),
}, async () => {
  const rand = prng(20240611);
  const cases: string[][] = [["CONFIG", "SET", "set-max-intset-entries", "8"]];
  for (let i = 0; i < 1500; i++) cases.push(randomSetCase(rand));
  cases.push(["CONFIG", "SET", "set-max-intset-entries", "512"]);
  await compareWithRedis(cases, false);
  await compareWithRedis(cases.slice(0, 500), true);
});

test("random hash workloads match redis-server while the hashes stay listpacks", {
  skip: missing("redis-server"),
}, async () => {
  const rand = prng(7);
  const cases: string[][] = [["CONFIG", "SET", "hash-max-listpack-entries", "1000"]];
  // Listpacks keep insertion order, so every reply, HSCAN included, is deterministic.
  for (let i = 0; i < 1500; i++) cases.push(randomHashCase(rand));
  cases.push(["CONFIG", "SET", "hash-max-listpack-entries", "512"]);
  await compareWithRedis(cases, false);
});
