/**
 * Side by side with a real redis-server: the list commands must answer byte for byte what Redis
 * 7.0 answers, in RESP2 and RESP3, for hand-picked edge cases and for long random sequences that
 * grow lists past many chunks. Skipped when `redis-server` is not installed.
 */
import { test } from "node:test";
import { compareWithRedis, prng, script } from "./redis_compare.ts";
import { missing } from "./redis_tools.ts";

// RANK -9223372036854775808, refused since Redis 7.2: tests/list_74_test.ts.
const EDGE_CASES = script(`
LPOP none ; RPOP none ; LPOP none 0 ; LPOP none 1 ; RPOP none 5 ; LPOP none -1 ; LPOP none x
RPUSH l a b c 1 2 3 c c "" "\\x00\\xff" ; LPOP l 0 ; LPOP l -1 ; LPOP l abc ; LPOP l 1 1
LPOS l c ; LPOS l c RANK 2 ; LPOS l c RANK -1 ; LPOS l c RANK 0 ; LPOS l c RANK x ; LPOS l c RANK
LPOS l c COUNT 0 ; LPOS l c COUNT 2 RANK -1 ; LPOS l c COUNT -1 ; LPOS l c MAXLEN -1
LPOS l c MAXLEN x ; LPOS l c COUNT x ; LPOS l c MAXLEN 3 COUNT 0 ; LPOS l c FOO 1
LPOS l c RANK -9223372036854775807 ; LPOS l c RANK 9223372036854775807 COUNT 0
LPOS none c ; LPOS none c COUNT 1 ; LPOS none c RANK 0 ; LPOS l "" ; LPOS l "\\x00\\xff" COUNT 0
LINDEX l 0 ; LINDEX l -1 ; LINDEX l 100 ; LINDEX l -100 ; LINDEX l x ; LINDEX none x
LRANGE l 0 -1 ; LRANGE l -3 -1 ; LRANGE l 5 2 ; LRANGE l -100 100 ; LRANGE l x 1 ; LRANGE none 0 -1
LRANGE l 0 9223372036854775807 ; LRANGE l -9223372036854775808 2 ; LSET l 0 z ; LSET l -1 y
LSET l 100 x ; LSET l x x ; LSET none 0 x ; LINSERT l BEFORE c new ; LINSERT l after c new2
LINSERT l before missing x ; LINSERT l middle c x ; LINSERT none before a b ; LRANGE l 0 -1
LREM l 1 c ; LREM l -1 c ; LREM l 0 new ; LREM l x c ; LREM none 0 a ; LRANGE l 0 -1 ; LLEN l
LLEN none ; LTRIM l 1 -2 ; LRANGE l 0 -1 ; LTRIM l x 1 ; LTRIM none 0 1 ; LTRIM l 5 1 ; EXISTS l
SET s v ; LPUSH s a ; RPUSH s a ; LPUSHX s a ; LLEN s ; LINDEX s 0 ; LRANGE s 0 1 ; LPOP s
LPOP s 2 ; LSET s 0 a ; LINSERT s before a b ; LREM s 0 a ; LTRIM s 0 1 ; LPOS s a
LPUSHX nx a ; RPUSHX nx a ; EXISTS nx ; RPUSH src 1 2 3 ; LMOVE src dst LEFT RIGHT
LMOVE src dst right left ; LMOVE src dst up left ; LMOVE none dst LEFT LEFT ; LMOVE src s LEFT LEFT
LMOVE s src LEFT LEFT ; LMOVE none s LEFT LEFT ; LRANGE src 0 -1 ; LRANGE dst 0 -1
RPOPLPUSH src src ; RPOPLPUSH src dst ; EXISTS src ; RPOPLPUSH src dst ; LRANGE dst 0 -1
RPUSH one x ; LMOVE one one LEFT RIGHT ; LRANGE one 0 -1 ; LMPOP 1 none LEFT ; LMPOP 0 dst LEFT
LMPOP x dst LEFT ; LMPOP -1 dst LEFT ; LMPOP 2 dst LEFT ; LMPOP 1 dst MIDDLE
LMPOP 1 dst LEFT COUNT 0 ; LMPOP 1 dst LEFT COUNT -1 ; LMPOP 1 dst LEFT COUNT 1 COUNT 1
LMPOP 1 dst LEFT COUNT ; LMPOP 1 dst LEFT FOO ; LMPOP 9223372036854775807 dst LEFT
LMPOP 2 none dst RIGHT COUNT 2 ; LMPOP 2 none s LEFT ; LMPOP 2 dst none LEFT COUNT 10 ; EXISTS dst
COMMAND GETKEYS LMPOP 2 a b LEFT ; COMMAND GETKEYS LMPOP 0 a LEFT ; COMMAND GETKEYS LMPOP 5 a LEFT
COMMAND GETKEYS LMOVE a b LEFT LEFT ; RPUSH t 1 2 3 4 5 ; LPOP t 2 ; RPOP t 2 ; RPOP t 9 ; EXISTS t
RPUSH t 1 ; RPOP t ; EXISTS t ; RPUSH t a b c ; LRANGE t 0 -1 ; LPUSH t d e ; TYPE t
OBJECT ENCODING t ; LPUSH t 9223372036854775808 -0 01 0 -9223372036854775808 ; LRANGE t 0 -1
LREM t 0 0 ; LREM t 0 -0 ; LPOS t 01 ; LINDEX t 0
`);

test(
  "list commands answer like redis-server byte for byte (RESP2)",
  { skip: missing("redis-server") },
  async () => {
    await compareWithRedis(EDGE_CASES, false);
  },
);

test(
  "list commands answer like redis-server byte for byte (RESP3)",
  { skip: missing("redis-server") },
  async () => {
    await compareWithRedis(EDGE_CASES, true);
  },
);

/** A random list command on keys l0..l3 (and a string key), biased towards long lists. */
function randomListCase(rand: () => number): string[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const int = (lo: number, hi: number) => String(lo + Math.floor(rand() * (hi - lo + 1)));
  const key = () => (rand() < 0.03 ? "str" : `l${Math.floor(rand() * 4)}`);
  // Mostly a few common values; some rare ones, so pivots and LPOS hits land deep in long lists.
  const elem = () => {
    const r = rand();
    if (r < 0.65) return String(Math.floor(rand() * 12));
    if (r < 0.85) return `r${Math.floor(rand() * 400)}`;
    return pick(["", "\x00\xff", "x".repeat(70), "-1", "01", "é"]);
  };
  const elems = (n: number) => Array.from({ length: n }, elem);
  const end = () => pick(["LEFT", "RIGHT", "left", "right"]);
  switch (Math.floor(rand() * 20)) {
    case 0:
    case 1:
      return ["RPUSH", key(), ...elems(rand() < 0.2 ? 60 : Number(int(1, 4)))];
    case 2:
    case 3:
      return ["LPUSH", key(), ...elems(rand() < 0.2 ? 60 : Number(int(1, 4)))];
    case 4:
      return [pick(["LPUSHX", "RPUSHX"]), key(), ...elems(Number(int(1, 3)))];
    case 5:
      return [pick(["LPOP", "RPOP"]), key(), ...(rand() < 0.5 ? [] : [int(-1, 40)])];
    case 6:
      return ["LRANGE", key(), int(-300, 300), int(-300, 300)];
    case 7:
      return ["LINDEX", key(), int(-300, 300)];
    case 8:
      return ["LSET", key(), int(-300, 300), elem()];
    case 9:
      return ["LINSERT", key(), pick(["BEFORE", "AFTER"]), elem(), elem()];
    case 10:
      return ["LREM", key(), int(-3, 3), elem()];
    case 11:
      return ["LTRIM", key(), int(-200, 50), int(-50, 400)];
    case 12: {
      const opts: string[] = [];
      if (rand() < 0.5) opts.push("RANK", pick(["1", "2", "-1", "-3", "5"]));
      if (rand() < 0.5) opts.push("COUNT", int(0, 4));
      if (rand() < 0.3) opts.push("MAXLEN", int(0, 200));
      return ["LPOS", key(), elem(), ...opts];
    }
    case 13:
      return ["LMOVE", key(), key(), end(), end()];
    case 14:
      return ["RPOPLPUSH", key(), key()];
    case 15:
      return [
        "LMPOP",
        "2",
        key(),
        key(),
        end(),
        ...(rand() < 0.5 ? [] : ["COUNT", int(1, 70)]),
      ];
    case 16:
      return ["LLEN", key()];
    case 17:
      return rand() < 0.2 ? ["DEL", key()] : ["SET", "str", "v"];
    case 18:
      return ["LRANGE", key(), "0", "-1"];
    default:
      return rand() < 0.5 ? ["TYPE", key()] : ["OBJECT", "ENCODING", key()];
  }
}

for (const [seed, resp3] of [[1, false], [2, true], [3, false]] as const) {
  test(
    `random list sequences match redis-server (seed ${seed}, RESP${resp3 ? 3 : 2})`,
    { skip: missing("redis-server") },
    async () => {
      const rand = prng(seed);
      const cases: string[][] = [];
      for (let i = 0; i < 4000; i++) cases.push(randomListCase(rand));
      await compareWithRedis(cases, resp3);
    },
  );
}

test(
  "one-element pushes of every length to 140, binary bytes, read back like redis-server",
  { skip: missing("redis-server") },
  async () => {
    // Pushes one at a time are staged and packed together (core/types/list_chunk.ts): short
    // ones through a byte buffer, long ones (128 bytes and up, or many bytes in all) by joining.
    const rand = prng(23);
    const bytes = (len: number): string => {
      let s = "";
      for (let k = 0; k < len; k++) s += String.fromCharCode(Math.floor(rand() * 256));
      return s;
    };
    const cases: string[][] = [];
    for (let round = 0; round < 6; round++) {
      for (let len = 0; len <= 140; len++) {
        cases.push([rand() < 0.5 ? "LPUSH" : "RPUSH", "l", bytes(len)]);
        if (len % 13 === 0) cases.push(["LINDEX", "l", String(Math.floor(rand() * 40) - 20)]);
        if (len % 29 === 0) cases.push([rand() < 0.5 ? "LPOP" : "RPOP", "l"]);
      }
      cases.push(["LRANGE", "l", "0", "-1"], ["LLEN", "l"]);
    }
    await compareWithRedis(cases, false);
  },
);
