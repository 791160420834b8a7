/**
 * What ACL key patterns each key of a Redis command needs (`%R~`, `%W~`, `~`), from the flags of
 * its key specs in Redis 7.0.15 (`COMMAND INFO`, element 9): a key the command reads (ACCESS)
 * needs R, one it inserts, deletes or updates needs W, one it only looks at (EXISTS, TYPE) needs
 * neither. A pair gives the first key's need and the other keys' (`SMOVE src dst`). SET and
 * BITFIELD depend on their arguments, as in Redis: SET needs R too with GET, BITFIELD needs W
 * only with SET or INCRBY. tests/acl_categories_test.ts checks the table against redis-server.
 *
 * @module
 */

import type { Command, KeyAccess } from "../command.ts";

type Need = KeyAccess | readonly [KeyAccess, KeyAccess];

/** Needs of Redis's commands with keys, by full name. */
export const KEY_ACCESS: Readonly<Record<string, Need>> = {
  append: "W",
  bitcount: "R",
  bitfield: "RW",
  bitfield_ro: "R",
  bitop: ["W", "R"],
  bitpos: "R",
  blmove: ["RW", "W"],
  blmpop: "RW",
  blpop: "RW",
  brpop: "RW",
  brpoplpush: ["RW", "W"],
  bzmpop: "RW",
  bzpopmax: "RW",
  bzpopmin: "RW",
  copy: ["R", "W"],
  decr: "RW",
  decrby: "RW",
  del: "W",
  dump: "R",
  eval: "RW",
  eval_ro: "R",
  evalsha: "RW",
  evalsha_ro: "R",
  exists: "-",
  expire: "W",
  expireat: "W",
  expiretime: "R",
  fcall: "RW",
  fcall_ro: "R",
  geoadd: "W",
  geodist: "R",
  geohash: "R",
  geopos: "R",
  georadius: ["R", "W"],
  georadius_ro: "R",
  georadiusbymember: ["R", "W"],
  georadiusbymember_ro: "R",
  geosearch: "R",
  geosearchstore: ["W", "R"],
  get: "R",
  getbit: "R",
  getdel: "RW",
  getex: "RW",
  getrange: "R",
  getset: "RW",
  hdel: "W",
  hexists: "-",
  hget: "R",
  hgetall: "R",
  hincrby: "RW",
  hincrbyfloat: "RW",
  hkeys: "R",
  hlen: "-",
  hmget: "R",
  hmset: "W",
  hrandfield: "R",
  hscan: "R",
  hset: "W",
  hsetnx: "W",
  hstrlen: "-",
  hvals: "R",
  incr: "RW",
  incrby: "RW",
  incrbyfloat: "RW",
  lcs: "R",
  lindex: "R",
  linsert: "W",
  llen: "-",
  lmove: ["RW", "W"],
  lmpop: "RW",
  lpop: "RW",
  lpos: "R",
  lpush: "W",
  lpushx: "W",
  lrange: "R",
  lrem: "W",
  lset: "W",
  ltrim: "W",
  "memory|usage": "-",
  mget: "R",
  migrate: "RW",
  move: "RW",
  mset: "W",
  msetnx: "W",
  "object|encoding": "-",
  "object|freq": "-",
  "object|idletime": "-",
  "object|refcount": "-",
  persist: "W",
  pexpire: "W",
  pexpireat: "W",
  pexpiretime: "R",
  pfadd: "W",
  pfcount: "R",
  pfdebug: "R",
  pfmerge: ["RW", "R"],
  psetex: "W",
  pttl: "R",
  rename: ["RW", "W"],
  renamenx: ["RW", "W"],
  restore: "W",
  "restore-asking": "W",
  rpop: "RW",
  rpoplpush: ["RW", "W"],
  rpush: "W",
  rpushx: "W",
  sadd: "W",
  scard: "-",
  sdiff: "R",
  sdiffstore: ["W", "R"],
  set: "RW",
  setbit: "RW",
  setex: "W",
  setnx: "W",
  setrange: "W",
  sinter: "R",
  sintercard: "R",
  sinterstore: ["W", "R"],
  sismember: "-",
  smembers: "R",
  smismember: "R",
  smove: ["RW", "W"],
  sort: ["R", "W"],
  sort_ro: "R",
  spop: "RW",
  srandmember: "R",
  srem: "W",
  sscan: "R",
  strlen: "-",
  substr: "R",
  sunion: "R",
  sunionstore: ["W", "R"],
  touch: "-",
  ttl: "R",
  type: "-",
  unlink: "W",
  watch: "-",
  xack: "W",
  xadd: "W",
  xautoclaim: "W",
  xclaim: "W",
  xdel: "W",
  "xgroup|create": "W",
  "xgroup|createconsumer": "W",
  "xgroup|delconsumer": "W",
  "xgroup|destroy": "W",
  "xgroup|setid": "W",
  "xinfo|consumers": "R",
  "xinfo|groups": "R",
  "xinfo|stream": "R",
  xlen: "-",
  xpending: "R",
  xrange: "R",
  xread: "R",
  xreadgroup: "R",
  xrevrange: "R",
  xsetid: "W",
  xtrim: "W",
  zadd: "W",
  zcard: "-",
  zcount: "R",
  zdiff: "R",
  zdiffstore: ["W", "R"],
  zincrby: "RW",
  zinter: "R",
  zintercard: "R",
  zinterstore: ["W", "R"],
  zlexcount: "R",
  zmpop: "RW",
  zmscore: "R",
  zpopmax: "RW",
  zpopmin: "RW",
  zrandmember: "R",
  zrange: "R",
  zrangebylex: "R",
  zrangebyscore: "R",
  zrangestore: ["W", "R"],
  zrank: "R",
  zrem: "W",
  zremrangebylex: "W",
  zremrangebyrank: "W",
  zremrangebyscore: "W",
  zrevrange: "R",
  zrevrangebylex: "R",
  zrevrangebyscore: "R",
  zrevrank: "R",
  zscan: "R",
  zscore: "R",
  zunion: "R",
  zunionstore: ["W", "R"],
};

/** Commands whose key-like arguments are not keys for ACLs (shard channels). */
export const NOT_KEYS: ReadonlySet<string> = new Set(["spublish", "ssubscribe", "sunsubscribe"]);

/** Permission bits a key pattern grants and a key needs. */
export const READ = 1;
/** See {@linkcode READ}. */
export const WRITE = 2;

function bits(a: KeyAccess): number {
  return a === "R" ? READ : a === "W" ? WRITE : a === "RW" ? READ | WRITE : 0;
}

/**
 * The permissions each key of `argv` needs, for a command with keys at `positions`.
 *
 * @param cmd the command
 * @param argv the command's arguments
 * @param positions the key positions (cmd.keyPositions(argv))
 * @returns one entry of READ/WRITE bits per position
 */
export function keyNeeds(cmd: Command, argv: string[], positions: number[]): number[] {
  const name = cmd.fullName;
  let need: Need | undefined = cmd.spec.aclKeys ?? KEY_ACCESS[name];
  if (name === "set") need = hasGet(argv) ? "RW" : "W";
  else if (name === "bitfield") need = bitfieldWrites(argv) ? "RW" : "R";
  need ??= (cmd.spec.flags ?? []).includes("write") ? "RW" : "R";
  const first = bits(typeof need === "string" ? need : need[0]);
  const rest = bits(typeof need === "string" ? need : need[1]);
  return positions.map((_, i) => (i === 0 ? first : rest));
}

/**
 * True when a SET call has the GET option (it reads its key too), as Redis's setGetKeys decides.
 *
 * @param argv the SET call
 * @returns whether it reads the key
 */
export function hasGet(argv: string[]): boolean {
  for (let i = 3; i < argv.length; i++) if (argv[i]!.toLowerCase() === "get") return true;
  return false;
}

/**
 * True unless BITFIELD only reads (GET and OVERFLOW), as Redis's bitfieldGetKeys decides.
 *
 * @param argv the BITFIELD call
 * @returns whether it may write its key
 */
export function bitfieldWrites(argv: string[]): boolean {
  for (let i = 2; i < argv.length; i++) {
    const left = argv.length - i - 1;
    const op = argv[i]!.toLowerCase();
    if (op === "get" && left >= 2) i += 2;
    else if ((op === "set" || op === "incrby") && left >= 3) return true;
    else if (op === "overflow" && left >= 1) i += 1;
    else return true;
  }
  return false;
}
