/**
 * ACL commands side by side with a real redis-server 7.0: the same ACL SETUSER, GETUSER, LIST,
 * USERS, CAT, DRYRUN, DELUSER and LOG calls (and the rules' errors) get byte-identical replies, in
 * RESP2 and RESP3. Skipped when `redis-server` is not installed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RawConn, startServer } from "./helpers.ts";
import { compareWithRedis, pipeline, script, startRedis } from "./redis_compare.ts";
import { missing } from "./redis_tools.ts";

const RULES = script(`
ACL SETUSER alice ; ACL GETUSER alice ; ACL LIST ; ACL USERS
ACL SETUSER alice on >p1 >p2 ~cached:* %R~read:* %W~write:* &chan:* +get +set -@all +@hash
ACL GETUSER alice ; ACL LIST
ACL SETUSER alice <p1 ; ACL GETUSER alice ; ACL SETUSER alice <nope ; ACL SETUSER alice !abc
ACL SETUSER alice #0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef ; ACL LIST
ACL SETUSER alice !0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef ; ACL LIST
ACL SETUSER alice nopass ; ACL GETUSER alice ; ACL SETUSER alice resetpass ; ACL LIST
ACL SETUSER alice allkeys ; ACL SETUSER alice ~x ; ACL SETUSER alice resetkeys ~x %RW~y
ACL GETUSER alice ; ACL SETUSER alice allchannels ; ACL SETUSER alice &x
ACL SETUSER alice resetchannels &a &b &a ; ACL LIST
ACL SETUSER alice +nosuch ; ACL SETUSER alice +@nosuch ; ACL SETUSER alice -nosuch
ACL SETUSER alice bogus ; ACL SETUSER alice %X~k ; ACL SETUSER alice "~a b"
ACL SETUSER alice +config|get ; ACL SETUSER alice +config| ; ACL SETUSER alice +config|get|x
ACL SETUSER alice +select|0 ; ACL SETUSER alice +select|1 ; ACL GETUSER alice
ACL SETUSER alice +@all -debug ; ACL GETUSER alice ; ACL SETUSER alice -@all +@read -get
ACL GETUSER alice ; ACL SETUSER alice nocommands +@set +@list -@write ; ACL LIST
ACL SETUSER alice allcommands -@dangerous ; ACL LIST
ACL SETUSER alice "(+get ~sel:*)" "(+set" "~other:*)" ; ACL GETUSER alice ; ACL LIST
ACL SETUSER alice "(+get" ; ACL SETUSER alice clearselectors ; ACL GETUSER alice
ACL SETUSER alice reset ; ACL GETUSER alice ; ACL LIST
ACL SETUSER "a b" on ; ACL SETUSER bob on nopass +@all ~* ; ACL USERS
ACL DRYRUN bob get k ; ACL DRYRUN nobody get k ; ACL DRYRUN bob nosuch ; ACL DRYRUN bob get
ACL SETUSER carol on nopass +get +publish +subscribe +psubscribe ~k* &ch*
ACL DRYRUN carol get k1 ; ACL DRYRUN carol get x ; ACL DRYRUN carol set k1 v
ACL DRYRUN carol publish ch1 m ; ACL DRYRUN carol publish other m
ACL DRYRUN carol subscribe ch1 other ; ACL DRYRUN carol psubscribe ch* ; ACL DRYRUN carol psubscribe ch1*
ACL DRYRUN carol config get maxmemory ; ACL SETUSER carol +config|get ; ACL DRYRUN carol config get x
ACL DELUSER default ; ACL DELUSER carol nobody bob ; ACL USERS
ACL CAT ; ACL CAT nosuch ; ACL CAT a b ; ACL WHOAMI ; ACL LOG ; ACL LOG RESET ; ACL LOG 1
ACL LOG x ; ACL LOG 1 2 ; ACL GENPASS 0 ; ACL GENPASS 4097 ; ACL GENPASS x ; ACL NOSUCH
ACL LOAD ; ACL SAVE ; ACL GETUSER nobody ; ACL HELP
AUTH nobody x ; AUTH x ; HELLO 3 AUTH nobody x
CONFIG SET acl-pubsub-default allchannels ; ACL SETUSER pubby ; ACL LIST ; ACL SETUSER pubby reset
ACL GETUSER pubby ; ACL SETUSER pubby "(+get)" ; ACL GETUSER pubby
CONFIG SET acl-pubsub-default resetchannels ; ACL SETUSER pubby reset skip-sanitize-payload
ACL LIST ; ACL SETUSER pubby sanitize-payload ; ACL GETUSER pubby ; ACL SETUSER pubby "(" ")"
ACL GETUSER pubby ; ACL SETUSER pubby "()" ; ACL DRYRUN pubby ping
ACL SETUSER erin on nopass +@all -@write +flushdb ; ACL LIST
ACL SETUSER erin -config +config|get +debug|object ; ACL LIST ; ACL DRYRUN erin debug object x
ACL DRYRUN erin debug sleep 0 ; ACL DRYRUN erin config get x ; ACL DRYRUN erin config set x y
ACL SETUSER kp on nopass +@all %R~read* %W~write* %RW~rw*
ACL DRYRUN kp RESTORE rw1 0 x ; ACL DRYRUN kp RESTORE read1 0 x ; ACL DRYRUN kp RESTORE write1 0 x
ACL DRYRUN kp SORT read STORE write ; ACL DRYRUN kp SORT read STORE read ; ACL DRYRUN kp SORT write
ACL DRYRUN kp EVAL "" 1 rw1 ; ACL DRYRUN kp EVAL "" 1 read ; ACL DRYRUN kp EVAL_RO "" 1 read
ACL DRYRUN kp GEORADIUS read 0 0 1 M STOREDIST write ; ACL DRYRUN kp GEORADIUS read 0 0 1 M STORE read
ACL DRYRUN kp LMOVE rw1 write1 LEFT RIGHT ; ACL DRYRUN kp LMOVE write1 rw1 LEFT RIGHT
ACL DRYRUN kp SET write1 v ; ACL DRYRUN kp SET write1 v GET ; ACL DRYRUN kp BITFIELD read1 GET u8 0
ACL DRYRUN kp BITFIELD read1 SET u8 0 1 ; ACL DRYRUN kp EXISTS read1 write1 x ; ACL DRYRUN kp DEL read1
ACL DRYRUN kp COPY read1 write1 ; ACL DRYRUN kp SMOVE rw1 write1 m ; ACL DRYRUN kp ZUNIONSTORE write1 2 read1 rw1
ACL DRYRUN kp XREADGROUP GROUP g c STREAMS rw1 read1 ">" ">" ; ACL DRYRUN kp XREAD STREAMS read1 0
ACL SETUSER so on nopass ~mylist +sort +eval +rpush ; RPUSH mylist 3 1 2 ; AUTH so x
SORT mylist ; SORT mylist BY v* ; SORT mylist GET v* ; SORT mylist BY nosort ; SORT mylist GET #
EVAL "return redis.pcall('sort','mylist','by','v*')" 0 ; ACL WHOAMI ; GET mylist
`);

/**
 * Rules with their single-command tokens (`+get`, `-sadd`) sorted: Redis writes those in the
 * order of its command hash table, redeno in registration order; the categories before them, and
 * which commands are named, must be the same.
 */
function sortedSingles(raw: string): string {
  return raw.replace(/(\$\d+\r\n)([^\r]*)/g, (_, head: string, text: string) => {
    const words = text.split(" ");
    const singles = words.filter((w) => /^[+-][^@]/.test(w)).sort();
    let i = 0;
    return head + words.map((w) => (/^[+-][^@]/.test(w) ? singles[i++]! : w)).join(" ");
  });
}

/** The cases with ACL LIST and ACL GETUSER compared through sortedSingles. */
const MARKED = RULES.map((c) =>
  c[0] === "ACL" && (c[1] === "LIST" || c[1] === "GETUSER") ? ["^ACL", ...c.slice(1)] : c
);

test("ACL rules and their errors answer as Redis 7.0 (RESP2)", {
  skip: missing("redis-server"),
}, async () => {
  await compareWithRedis(MARKED, false, { "^": sortedSingles });
});

test("ACL rules and their errors answer as Redis 7.0 (RESP3)", {
  skip: missing("redis-server"),
}, async () => {
  await compareWithRedis(MARKED, true, { "^": sortedSingles });
});

/** The ACL LOG reply with the fields that depend on time and connection blanked. */
function stableLog(raw: string): string {
  return raw
    .replace(/\$\d+\r\n\d+(\.\d+)?\r\n(?=\$11\r\nclient-info)/g, "$AGE\r\n")
    .replace(/,\d+(\.\d+)?\r\n(?=\$11\r\nclient-info)/g, ",AGE\r\n")
    .replace(/\$\d+\r\nid=[^\r]*/g, "$INFO");
}

test("ACL LOG entries have Redis 7.0's fields and counts", {
  skip: missing("redis-server"),
}, async () => {
  const cases = script(`
ACL SETUSER dan on >pw ~k* &c* +get +publish +multi +exec
AUTH dan wrong ; AUTH nobody pw ; AUTH dan pw ; GET other ; GET other ; SET k v
PUBLISH x m ; MULTI ; GET nope ; EXEC ; ACL LOG
`);
  const redis = await startRedis();
  const ours = await startServer();
  const admin = [await RawConn.connect(redis.port), await RawConn.connect(ours.port)];
  const users = [await RawConn.connect(redis.port), await RawConn.connect(ours.port)];
  try {
    const logs: string[] = [];
    for (let i = 0; i < 2; i++) {
      await pipeline(admin[i]!, [cases[0]!]);
      await pipeline(users[i]!, cases.slice(1, -1));
      const [log] = await pipeline(admin[i]!, [cases.at(-1)!]);
      logs.push(stableLog(log!));
    }
    assert.equal(logs[1], logs[0]);
    assert.match(logs[0]!, /\$6\r\nreason\r\n\$4\r\nauth/);
  } finally {
    for (const c of [...admin, ...users]) c.close();
    redis.stop();
    await ours.close();
  }
});
