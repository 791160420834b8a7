/**
 * Side by side with a real redis-server: the sorted set commands must answer byte for byte what
 * Redis 7.0 answers, in RESP2 and RESP3, on hand-picked edge cases and on random sequences.
 * Skipped when `redis-server` is not installed.
 */
import { test } from "node:test";
import { compareWithRedis as compare, prng, script } from "./redis_compare.ts";
import { missing } from "./redis_tools.ts";

const ADD_CASES = script(`
ZADD z 1 a 2 b 3 c ; ZADD z XX NX 1 a ; ZADD z GT LT 1 a ; ZADD z NX GT 1 a ; ZADD z NX LT 1 a
ZADD z INCR 1 a 2 b ; ZADD z 1 ; ZADD z 1 a 2 ; ZADD z nan a ; ZADD z x a ; ZADD z 1e400 a
ZADD z 1e-400 a ; ZADD z " 1" a ; ZADD z "1 " a ; ZADD z 0x10 hex ; ZADD z 0x1.8p1 hexp ; ZADD z "" a
ZADD z inf i ; ZADD z -INFINITY ni ; ZADD z +1.5e2 p ; ZADD z .5 dot ; ZADD z 5. dot2 ; ZSCORE z hex
ZSCORE z hexp ; ZSCORE z i ; ZSCORE z ni ; ZSCORE z p ; ZSCORE z dot ; ZSCORE z dot2
ZADD z INCR +inf i ; ZADD z INCR -inf i ; ZSCORE z i ; ZINCRBY z -inf i ; ZINCRBY z 1 i
ZADD z CH 5 a 6 b 7 new ; ZADD z CH XX 1 a 100 missing ; ZADD z NX CH 9 a 9 nx1 ; ZRANGE z 0 -1 WITHSCORES
ZADD z GT CH 1 a 100 b ; ZADD z LT CH 1 a 100 c ; ZADD z XX GT INCR 1 a ; ZADD z XX LT INCR 1 a
ZADD z NX INCR 1 a ; ZADD z XX INCR 1 nope ; ZADD missing XX 1 a ; EXISTS missing ; ZADD missing XX INCR 1 a
ZADD z INCR nx a ; ZINCRBY z nx a ; ZINCRBY z abc a ; ZINCRBY newz 2.5 m ; ZSCORE newz m
ZADD z 0.1 f1 ; ZSCORE z f1 ; ZADD z 1e20 big ; ZSCORE z big ; ZADD z 123456789012345678 b2 ; ZSCORE z b2
ZADD z -0 negz ; ZSCORE z negz ; ZADD z 0 negz ; ZSCORE z negz ; ZADD z 1e-5 small ; ZSCORE z small
ZADD z 3.0000000000000004 ulp ; ZSCORE z ulp ; ZINCRBY z 0.1 f1 ; ZINCRBY z 0.2 f1
ZMSCORE z a b nope f1 ; ZMSCORE nokey a b ; ZSCORE nokey a ; ZCARD z ; ZCARD nokey
SET str v ; ZADD str 1 a ; ZSCORE str a ; ZMSCORE str a ; ZCARD str ; ZRANK str a ; ZINCRBY str 1 a
ZRANK z a ; ZREVRANK z a ; ZRANK z nope ; ZRANK nokey a ; ZREM z a b nope ; ZREM z ; ZREM nokey a
ZADD one 1 x ; ZREM one x y ; EXISTS one ; ZADD dup 1 a 2 a 3 a ; ZRANGE dup 0 -1 WITHSCORES
ZADD lx 0 "" 0 "\\x00" 0 "\\xff" 0 a 0 "a\\x00" 0 A ; ZRANGE lx 0 -1 ; ZRANK lx "\\xff"
OBJECT ENCODING z ; OBJECT ENCODING lx
`);

const RANGE_CASES = script(`
ZADD z 1 a 2 b 3 c 4 d 5 e 5 f 6 g ; ZRANGE z 0 -1 ; ZRANGE z 0 -1 WITHSCORES ; ZRANGE z -3 -1
ZRANGE z 5 2 ; ZRANGE z -100 100 ; ZRANGE z 10 20 ; ZRANGE z 0 0 withscores ; ZRANGE z x 1
ZRANGE z 0 -1 REV ; ZRANGE z 0 1 REV WITHSCORES ; ZREVRANGE z 0 2 ; ZREVRANGE z -2 -1 WITHSCORES
ZREVRANGE z 0 -1 LIMIT 0 1 ; ZRANGE z 0 -1 LIMIT 0 1 ; ZRANGE z 0 -1 LIMIT 0 -1 ; ZRANGE z 0 -1 BYLEX WITHSCORES
ZRANGE z 0 -1 BYSCORE BYLEX ; ZRANGE z 0 -1 REV REV ; ZRANGE z 0 -1 FOO ; ZRANGE z 0 -1 LIMIT 1
ZRANGE z 0 -1 LIMIT x 1 ; ZRANGE z (1 5 BYSCORE ; ZRANGE z 5 (1 BYSCORE REV WITHSCORES
ZRANGE z -inf +inf BYSCORE LIMIT 2 3 ; ZRANGE z +inf -inf BYSCORE REV LIMIT 1 2 WITHSCORES
ZRANGEBYSCORE z 2 4 ; ZRANGEBYSCORE z (2 (4 ; ZRANGEBYSCORE z 4 2 ; ZRANGEBYSCORE z (5 5
ZRANGEBYSCORE z 5 5 WITHSCORES ; ZRANGEBYSCORE z -inf +inf LIMIT 0 0 ; ZRANGEBYSCORE z -inf +inf LIMIT 0 -5
ZRANGEBYSCORE z -inf +inf LIMIT -1 2 ; ZRANGEBYSCORE z -inf +inf LIMIT 7 1 ; ZRANGEBYSCORE z -inf +inf LIMIT 6 10
ZRANGEBYSCORE z a b ; ZRANGEBYSCORE z ( 3 ; ZRANGEBYSCORE z "" 3 ; ZRANGEBYSCORE z " 2" 3
ZRANGEBYSCORE z "2 " 3 ; ZRANGEBYSCORE z nan 3 ; ZRANGEBYSCORE z 0x2 3 ; ZRANGEBYSCORE z "2\\x00junk" 3
ZRANGEBYSCORE z -INF INF ; ZRANGEBYSCORE z (-inf (+inf ; ZRANGEBYSCORE z 1 3 WITHSCORES LIMIT 1 1
ZRANGEBYSCORE z 1 3 LIMIT 1 ; ZRANGEBYSCORE z 1 3 BYSCORE ; ZREVRANGEBYSCORE z 4 2 ; ZREVRANGEBYSCORE z 2 4
ZREVRANGEBYSCORE z +inf -inf WITHSCORES LIMIT 2 2 ; ZREVRANGEBYSCORE z (5 (1
ZCOUNT z 2 4 ; ZCOUNT z (2 (4 ; ZCOUNT z -inf +inf ; ZCOUNT z 10 20 ; ZCOUNT z 4 2 ; ZCOUNT z a 1
ZCOUNT nokey 1 2 ; ZCOUNT nokey a 2 ; ZCOUNT z (5 5
ZRANGESTORE dst z 0 2 ; ZRANGE dst 0 -1 WITHSCORES ; ZRANGESTORE dst z (1 4 BYSCORE LIMIT 1 2
ZRANGE dst 0 -1 WITHSCORES ; ZRANGESTORE dst z 4 (1 BYSCORE REV ; ZRANGE dst 0 -1 ; ZRANGESTORE dst z 10 20
EXISTS dst ; ZRANGESTORE dst nokey 0 -1 ; ZRANGESTORE dst z 0 -1 WITHSCORES ; SET s v
ZRANGESTORE s z 0 1 ; TYPE s ; ZRANGESTORE dst s 0 1 ; ZRANGE s 0 1 ; OBJECT ENCODING z
ZREMRANGEBYRANK z 0 0 ; ZRANGE z 0 -1 ; ZREMRANGEBYRANK z -2 -1 ; ZRANGE z 0 -1 ; ZREMRANGEBYRANK z 5 1
ZREMRANGEBYRANK z x 1 ; ZREMRANGEBYSCORE z (2 4 ; ZRANGE z 0 -1 ; ZREMRANGEBYSCORE z a b
ZREMRANGEBYSCORE nokey 1 2 ; ZREMRANGEBYSCORE z -inf +inf ; EXISTS z ; ZREMRANGEBYRANK nokey 0 1
`);

const LEX_CASES = script(`
ZADD l 0 a 0 b 0 c 0 d 0 e 0 f 0 g 0 "" 0 "\\xff" 0 "a\\x00" ; ZRANGEBYLEX l - +
ZRANGEBYLEX l [b [d ; ZRANGEBYLEX l (b (d ; ZRANGEBYLEX l [b (d LIMIT 1 1 ; ZRANGEBYLEX l - [c
ZRANGEBYLEX l (c + ; ZRANGEBYLEX l + - ; ZRANGEBYLEX l - - ; ZRANGEBYLEX l + + ; ZRANGEBYLEX l [ [a
ZRANGEBYLEX l ( [a ; ZRANGEBYLEX l [a [ ; ZRANGEBYLEX l a b ; ZRANGEBYLEX l [a b ; ZRANGEBYLEX l -a +
ZRANGEBYLEX l - +b ; ZRANGEBYLEX l "" + ; ZRANGEBYLEX l - + LIMIT 2 3 ; ZRANGEBYLEX l - + LIMIT -1 3
ZRANGEBYLEX l - + LIMIT 0 -1 ; ZRANGEBYLEX l - + WITHSCORES ; ZRANGEBYLEX l [a [a ; ZRANGEBYLEX l (a [a
ZREVRANGEBYLEX l + - ; ZREVRANGEBYLEX l [d [b ; ZREVRANGEBYLEX l (d (b LIMIT 1 5 ; ZREVRANGEBYLEX l - +
ZRANGE l [b [e BYLEX ; ZRANGE l [e [b BYLEX REV LIMIT 0 2 ; ZRANGE l - + BYLEX LIMIT 1 2
ZLEXCOUNT l - + ; ZLEXCOUNT l [b [d ; ZLEXCOUNT l (b (d ; ZLEXCOUNT l [d [b ; ZLEXCOUNT l a b
ZLEXCOUNT nokey - + ; ZLEXCOUNT nokey a b ; ZLEXCOUNT l "\\xff" + ; ZLEXCOUNT l "[\\xff" +
ZRANGESTORE ld l [b [e BYLEX ; ZRANGE ld 0 -1 WITHSCORES ; ZREMRANGEBYLEX l [b (d ; ZRANGE l 0 -1
ZREMRANGEBYLEX l a b ; ZREMRANGEBYLEX l - + ; EXISTS l ; ZREMRANGEBYLEX nokey - +
`);

const POP_CASES = script(`
ZADD p 1 a 2 b 3 c 4 d 5 e ; ZPOPMIN p ; ZPOPMAX p ; ZPOPMIN p 2 ; ZPOPMIN p 0 ; ZPOPMIN p -1
ZPOPMIN p x ; ZPOPMIN p 1 2 ; ZPOPMAX p 10 ; EXISTS p ; ZPOPMIN p ; ZPOPMIN p 3 ; ZPOPMAX nokey 0
SET s v ; ZPOPMIN s ; ZPOPMIN s 0 ; ZADD p 1 a 2 b 3 c ; ZADD q 10 x 20 y
ZMPOP 1 p MIN ; ZMPOP 2 nokey q MAX COUNT 5 ; ZMPOP 2 nokey q MIN ; ZMPOP 1 nokey MIN
ZMPOP 0 p MIN ; ZMPOP -1 p MIN ; ZMPOP x p MIN ; ZMPOP 1 p ; ZMPOP 1 p MID ; ZMPOP 2 p MIN
ZMPOP 1 p MIN COUNT 0 ; ZMPOP 1 p MIN COUNT x ; ZMPOP 1 p MIN COUNT 1 COUNT 1 ; ZMPOP 1 p MIN COUNT
ZMPOP 1 p max count 10 ; ZMPOP 2 s p MIN ; ZMPOP 1 s MIN
ZRANDMEMBER nokey ; ZRANDMEMBER nokey 5 ; ZRANDMEMBER nokey 5 WITHSCORES ; ZRANDMEMBER s
ZADD r 1 a ; ZRANDMEMBER r ; ZRANDMEMBER r 0 ; ZRANDMEMBER r 5 WITHSCORES ; ZRANDMEMBER r -3 WITHSCORES
ZRANDMEMBER r x ; ZRANDMEMBER r 1 WITHSCORE ; ZRANDMEMBER r 1 WITHSCORES x
ZRANDMEMBER r -9223372036854775808 ; ZRANDMEMBER r -9223372036854775807 WITHSCORES
ZRANDMEMBER r 4611686018427387904 WITHSCORES ; ZRANDMEMBER r 9223372036854775808
ZADD r2 1 a 2 b 3 c ; ZRANDMEMBER r2 3 WITHSCORES ; ZRANDMEMBER r2 10
`);

const OPS_CASES = script(`
ZADD a 1 x 2 y 3 z ; ZADD b 10 y 20 z 30 w ; SADD s y w v ; SET str v
ZUNION 2 a b ; ZUNION 2 a b WITHSCORES ; ZINTER 2 a b WITHSCORES ; ZDIFF 2 a b WITHSCORES ; ZDIFF 2 b a
ZUNION 3 a b s WITHSCORES ; ZINTER 2 a s WITHSCORES ; ZDIFF 2 a s WITHSCORES ; ZDIFF 2 s a WITHSCORES
ZUNION 2 a b WEIGHTS 2 3 WITHSCORES ; ZUNION 2 a b WEIGHTS 2 WITHSCORES ; ZUNION 2 a b WEIGHTS 2 x
ZUNION 2 a b AGGREGATE MIN WITHSCORES ; ZUNION 2 a b AGGREGATE max WITHSCORES ; ZUNION 2 a b AGGREGATE avg
ZUNION 2 a b AGGREGATE ; ZINTER 2 a b AGGREGATE MIN WEIGHTS 1 -1 WITHSCORES ; ZDIFF 2 a b WEIGHTS 1 2
ZDIFF 2 a b AGGREGATE SUM ; ZINTERCARD 2 a b ; ZINTERCARD 2 a b LIMIT 1 ; ZINTERCARD 2 a b LIMIT 0
ZINTERCARD 2 a b LIMIT -1 ; ZINTERCARD 2 a b LIMIT x ; ZINTERCARD 2 a b WITHSCORES ; ZINTERCARD 0 a
ZINTERCARD 3 a b ; ZUNION 0 a ; ZUNION -1 a ; ZUNION x a ; ZUNION 3 a b ; ZUNION 2 a str ; ZUNION 1 nokey
ZINTER 2 a nokey ; ZDIFF 1 nokey ; ZDIFF 2 a a ; ZINTER 2 a a WITHSCORES ; ZUNION 2 a a WITHSCORES
ZUNIONSTORE d 2 a b ; ZRANGE d 0 -1 WITHSCORES ; ZINTERSTORE d 2 a b WEIGHTS 1 0.5 ; ZRANGE d 0 -1 WITHSCORES
ZDIFFSTORE d 2 a b ; ZRANGE d 0 -1 WITHSCORES ; ZUNIONSTORE d 2 a b WITHSCORES ; ZINTERSTORE d 2 a nokey
EXISTS d ; ZDIFFSTORE d 1 nokey ; ZUNIONSTORE d 0 a ; ZINTERSTORE d 0 a ; ZDIFFSTORE d 0 a
ZADD inf1 inf x -inf y ; ZADD inf2 -inf x inf y ; ZUNION 2 inf1 inf2 WITHSCORES
ZINTER 2 inf1 inf2 WITHSCORES ; ZUNION 2 inf1 inf2 WEIGHTS 0 1 WITHSCORES
ZINTER 2 inf1 inf2 WEIGHTS 0 0 AGGREGATE MIN WITHSCORES ; ZUNIONSTORE str 2 a b ; TYPE str
ZINTERSTORE a 2 a b ; ZRANGE a 0 -1 WITHSCORES ; OBJECT ENCODING d
`);

const SCAN_CASES = script(`
ZADD z 1 a 2 b 3.5 c 1e20 d -inf e ; ZSCAN z 0 ; ZSCAN z 0 MATCH a* ; ZSCAN z 0 COUNT 1
ZSCAN z x ; ZSCAN z 0 COUNT 0 ; ZSCAN z 0 COUNT x ; ZSCAN z 0 FOO ; ZSCAN nokey 0 ; ZSCAN nokey 0 FOO
ZSCAN nokey x ; SET s v ; ZSCAN s 0 ; ZSCAN s 0 FOO ; ZSCAN z 0 MATCH
`);

for (
  const [name, cases] of [
    ["ZADD, ZINCRBY, ZSCORE, ZREM and friends", ADD_CASES],
    ["range commands", RANGE_CASES],
    ["lex range commands", LEX_CASES],
    ["pops and random members", POP_CASES],
    ["union, intersection and difference", OPS_CASES],
    ["ZSCAN", SCAN_CASES],
  ] as const
) {
  for (const resp3 of [false, true]) {
    test(
      `${name} answer like redis-server byte for byte (RESP${resp3 ? 3 : 2})`,
      { skip: missing("redis-server") },
      async () => await compare(cases as string[][], resp3),
    );
  }
}

/** A random sorted set command over a few keys and members, seeded. */
function randomCase(rand: () => number): string[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const int = (lo: number, hi: number) => String(lo + Math.floor(rand() * (hi - lo + 1)));
  const key = pick(["z1", "z2", "z3", "s1"]);
  const member = () =>
    pick(["a", "b", "c", "d", "e", "f", "g", "h", "", "\xff", "long" + "x".repeat(70)]);
  const score = () =>
    pick(["0", "1", "-1", "2.5", "inf", "-inf", "1e17", "0.1", "-0", int(-20, 20), int(-5, 5)]);
  const bound = () => pick(["", "("]) + pick(["-inf", "+inf", int(-5, 5), "2.5", "0"]);
  const lex = () => pick(["-", "+", "[a", "(b", "[c", "(", "[", "[d", "(\xff"]);
  switch (Math.floor(rand() * 16)) {
    case 0:
    case 1: {
      const opts = [pick(["", "NX", "XX"]), pick(["", "GT", "LT"]), pick(["", "CH"])].filter((o) =>
        o !== ""
      );
      const pairs: string[] = [];
      for (let i = Number(int(1, 4)); i > 0; i--) pairs.push(score(), member());
      return ["ZADD", key, ...opts, ...pairs];
    }
    case 2:
      return ["ZINCRBY", key, score(), member()];
    case 3:
      return ["ZREM", key, member(), member()];
    case 4:
      return ["ZRANGE", key, int(-6, 6), int(-6, 6), ...(rand() < 0.5 ? ["WITHSCORES"] : [])];
    case 5:
      return [
        "ZRANGE",
        key,
        bound(),
        bound(),
        "BYSCORE",
        ...(rand() < 0.5 ? ["REV"] : []),
        ...(rand() < 0.5 ? ["LIMIT", int(-1, 4), int(-1, 4)] : []),
        "WITHSCORES",
      ];
    case 6:
      // Lex ranges are only defined on equal scores: use a key kept that way.
      return ["ZRANGE", "lex", lex(), lex(), "BYLEX", ...(rand() < 0.5 ? ["REV"] : [])];
    case 7:
      return [pick(["ZCOUNT", "ZREMRANGEBYSCORE"]), key, bound(), bound()];
    case 8:
      return [pick(["ZRANK", "ZREVRANK", "ZSCORE"]), key, member()];
    case 9:
      return [pick(["ZPOPMIN", "ZPOPMAX"]), key, ...(rand() < 0.6 ? [int(0, 3)] : [])];
    case 10:
      return [
        pick(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"]),
        pick(["z1", "z2", "d"]),
        "2",
        key,
        pick(["z1", "z2", "z3", "s1"]),
        ...(rand() < 0.5 ? ["WEIGHTS", score(), score()] : []),
        ...(rand() < 0.5 ? ["AGGREGATE", pick(["SUM", "MIN", "MAX"])] : []),
      ];
    case 11:
      return [
        pick(["ZUNION", "ZINTER", "ZDIFF"]),
        "3",
        key,
        "z2",
        "d",
        "WITHSCORES",
      ];
    case 12:
      return ["ZADD", "lex", "0", member(), "0", member()];
    case 13:
      return [pick(["ZLEXCOUNT", "ZREMRANGEBYLEX"]), "lex", lex(), lex()];
    case 14:
      return ["ZMPOP", "2", key, "z2", pick(["MIN", "MAX"]), "COUNT", int(1, 3)];
    default:
      return pick([
        ["ZRANGESTORE", "d", key, bound(), bound(), "BYSCORE"],
        ["ZREMRANGEBYRANK", key, int(-4, 4), int(-4, 4)],
        ["ZCARD", key],
        ["SADD", "s1", member()],
        ["ZINTERCARD", "2", key, "z2"],
        ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
        ["ZMSCORE", key, member(), member()],
        ["OBJECT", "ENCODING", key],
      ]);
  }
}

test(
  "sorted set commands match redis-server on random sequences (RESP2)",
  { skip: missing("redis-server") },
  async () => {
    const rand = prng(1207);
    const cases: string[][] = [["CONFIG", "SET", "zset-max-listpack-entries", "6"]];
    for (let i = 0; i < 3000; i++) cases.push(randomCase(rand));
    for (const k of ["z1", "z2", "z3", "d", "lex"]) {
      cases.push(["ZRANGE", k, "0", "-1", "WITHSCORES"]);
    }
    await compare(cases, false);
  },
);

test(
  "sorted set commands match redis-server on random sequences (RESP3)",
  { skip: missing("redis-server") },
  async () => {
    const rand = prng(99);
    const cases: string[][] = [];
    for (let i = 0; i < 2000; i++) cases.push(randomCase(rand));
    await compare(cases, true);
  },
);

/** Commands on sets of thousands of elements, so that ranges cross many tree nodes. */
function largeCases(rand: () => number): string[][] {
  const int = (lo: number, hi: number) => String(lo + Math.floor(rand() * (hi - lo + 1)));
  const member = () => `m${int(0, 2999)}`;
  const cases: string[][] = [];
  for (let i = 0; i < 3000; i += 500) {
    const args: string[] = [];
    for (let j = i; j < i + 500; j++) args.push(int(0, 400), `m${j}`);
    cases.push(["ZADD", "big", ...args]);
    const lex: string[] = [];
    for (let j = i; j < i + 500; j++) lex.push("0", `w${(j * 7919) % 3000}`);
    cases.push(["ZADD", "lex", ...lex]);
  }
  for (let i = 0; i < 1500; i++) {
    const lo = int(-10, 410);
    const hi = String(Number(lo) + Number(int(0, 20)));
    const lexBound = () => (rand() < 0.5 ? "[" : "(") + `w${int(0, 3000)}`;
    const pick = Math.floor(rand() * 10);
    if (pick === 0) cases.push(["ZRANGE", "big", int(-3100, 3100), int(-3100, 3100), "WITHSCORES"]);
    else if (pick === 1) {
      cases.push([
        "ZRANGEBYSCORE",
        "big",
        `(${lo}`,
        hi,
        "WITHSCORES",
        "LIMIT",
        int(0, 30),
        int(-1, 30),
      ]);
    } else if (pick === 2) cases.push(["ZREVRANGEBYSCORE", "big", hi, lo, "LIMIT", int(0, 5), "7"]);
    else if (pick === 3) cases.push([rand() < 0.5 ? "ZRANK" : "ZREVRANK", "big", member()]);
    else if (pick === 4) cases.push(["ZCOUNT", "big", lo, `(${hi}`]);
    else if (pick === 5) cases.push(["ZINCRBY", "big", int(-50, 50), member()]);
    else if (pick === 6) cases.push(["ZREM", "big", member(), member(), member()]);
    else if (pick === 7) {
      const r = int(-2000, 2000);
      cases.push(
        [
          ["ZREMRANGEBYSCORE", "big", lo, String(Number(lo) + 1)],
          ["ZREMRANGEBYRANK", "big", r, String(Number(r) + 2)],
          ["ZPOPMIN", "big", int(0, 3)],
        ][Math.floor(rand() * 3)]!,
      );
    } else if (pick === 8) {
      cases.push(["ZRANGEBYLEX", "lex", lexBound(), lexBound(), "LIMIT", int(0, 10), int(1, 20)]);
    } else {
      cases.push([
        ["ZLEXCOUNT", "ZREMRANGEBYLEX"][Math.floor(rand() * 2)]!,
        "lex",
        lexBound(),
        lexBound(),
      ]);
    }
  }
  cases.push(["ZRANGE", "big", "0", "-1", "WITHSCORES"], ["ZRANGE", "lex", "0", "-1"]);
  return cases;
}

test(
  "large sorted sets match redis-server on random range, rank and removal commands",
  { skip: missing("redis-server") },
  async () => await compare(largeCases(prng(31)), false),
);
