/**
 * COMMAND side by side with a real redis-server 7.0: `COMMAND INFO` of every command both servers
 * have, field by field (arity, flags, first/last/step, ACL categories, tips, key specs,
 * subcommands) and byte for byte in RESP3; `COMMAND DOCS` (summary, since, group, complexity,
 * doc flags, deprecation, history, which key spec each key argument points at); `COMMAND GETKEYS`
 * and `GETKEYSANDFLAGS` on representative calls and on made-up calls of every command with keys;
 * `COMMAND COUNT` and `LIST` (FILTERBY). The differences that are meant are listed below with
 * their reason. The tests needing redis-server are skipped without it; the plugin and dispatch
 * checks run always.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RawConn, startServer } from "./helpers.ts";
import { compareWithRedis, pipeline, script, startRedis } from "./redis_compare.ts";
import { missing } from "./redis_tools.ts";
import { type CommandInfo, flattenCommands, onBoth } from "./command_compare.ts";
import { as74, CHANGED_SINCE_70 } from "./command_changes_74.ts";
import { REFERENCE_74, startReference } from "./reference_redis.ts";
import { groups } from "../plugins/groups/mod.ts";
import { replication } from "../replication/mod.ts";
import { createServer, definePlugin } from "../mod.ts";
import { MapReply, type Reply, SetReply, SimpleString } from "../core/resp/reply.ts";
import { keySpec, legacyRange } from "../core/key_spec.ts";
import { commandKeySpecs } from "../commands/command_keys.ts";

/** Redis commands redeno does not have, and why. */
const REDIS_ONLY: Record<string, string> = {};

/** redeno's commands that Redis 7.0.15 does not have, and why. */
const OURS_ONLY: Record<string, string> = {
  "client|setinfo": "Redis 7.2's CLIENT SETINFO, which clients send on connect",
  "client|no-touch": "Redis 7.2's CLIENT NO-TOUCH",
  "group.": "the groups plugin's commands (GROUP.JOIN...)",
  ...Object.fromEntries(
    [
      "hexpire",
      "hpexpire",
      "hexpireat",
      "hpexpireat",
      "hpersist",
      "httl",
      "hpttl",
      "hexpiretime",
      "hpexpiretime",
    ].map((n) => [n, "Redis 7.4's hash field expiration (tests/hash_ttl_test.ts: beside 7.4.1)"]),
  ),
  ...Object.fromEntries(
    ["hgetdel", "hgetex", "hsetex"].map((n) => [n, "Redis 8.0's hash commands (from its docs)"]),
  ),
};

function deliberate(name: string, table: Record<string, string>): boolean {
  return Object.keys(table).some((k) =>
    name === k || name.startsWith(`${k}|`) || (k.endsWith(".") && name.startsWith(k))
  );
}

const FIELDS = [
  "name",
  "arity",
  "flags",
  "first",
  "last",
  "step",
  "categories",
  "tips",
  "key specs",
];

test("COMMAND INFO agrees with redis-server, field by field, for every command both have", {
  skip: missing("redis-server"),
}, async () => {
  const [want, got] = await onBoth(async (c) =>
    flattenCommands((await c.call("COMMAND")) as CommandInfo[])
  );
  let compared = 0;
  for (const [name, info70] of want) {
    const mine = got.get(name);
    if (mine === undefined) {
      assert.ok(deliberate(name, REDIS_ONLY), `${name} is missing and not listed as deliberate`);
      continue;
    }
    const info = as74(name, info70);
    for (let i = 1; i < 9; i++) {
      assert.deepEqual(mine[i], info[i], `${FIELDS[i]} of ${name}`);
    }
    // In Redis's hash table order, which changes from run to run.
    const subs = (e: CommandInfo) => (Array.isArray(e[9]) ? e[9].map((s) => s[0]).sort() : []);
    assert.deepEqual(
      subs(mine).filter((s) => !deliberate(s, OURS_ONLY)),
      subs(info),
      `subcommands of ${name}`,
    );
    compared++;
  }
  for (const name of got.keys()) {
    if (!want.has(name)) assert.ok(deliberate(name, OURS_ONLY), `${name} is not Redis's`);
  }
  assert.ok(compared > 330, `compared ${compared} commands`);
  // The tips and key specs of the examples, spelled out.
  assert.deepEqual(got.get("keys")![7], [
    "request_policy:all_shards",
    "nondeterministic_output_order",
  ]);
  assert.deepEqual(got.get("georadius")![2], ["write", "denyoom", "movablekeys"]);
});

test("COMMAND INFO replies the same bytes as redis-server in RESP3", {
  skip: missing("redis-server"),
}, async () => {
  // Containers are left out: Redis lists subcommands in its hash table's order, which changes
  // from run to run; each subcommand is compared on its own (COMMAND INFO object|encoding).
  const [names] = await onBoth(async (c) =>
    [...flattenCommands((await c.call("COMMAND")) as CommandInfo[]).values()]
      .filter((e) => !Array.isArray(e[9]) || e[9].length === 0).map((e) => e[0])
  );
  const shared = names.filter((n) => !deliberate(n, REDIS_ONLY) && !(n in CHANGED_SINCE_70));
  assert.ok(shared.length > 300, `${shared.length} commands`);
  const cases = [["HELLO", "3"], ...shared.map((n) => ["COMMAND", "INFO", n])];
  const redis = await startRedis();
  const ours = await startServer({ plugins: [replication()] });
  const a = await RawConn.connect(redis.port);
  const b = await RawConn.connect(ours.port);
  try {
    const want = await pipeline(a, cases);
    const got = await pipeline(b, cases);
    for (let i = 1; i < cases.length; i++) {
      assert.equal(JSON.stringify(got[i]), JSON.stringify(want[i]), `COMMAND INFO ${cases[i]![2]}`);
    }
  } finally {
    a.close();
    b.close();
    redis.stop();
    await ours.close();
  }
});

test("COMMAND INFO of the commands 7.2 and 7.4 changed is the 7.4.1 reference's, in RESP3", {
  skip: REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false,
}, async () => {
  const cases = [
    ["HELLO", "3"],
    ...Object.keys(CHANGED_SINCE_70).map((n) => ["COMMAND", "INFO", n]),
  ];
  const ref = await startReference();
  const ours = await startServer({ plugins: [replication()] });
  const a = await RawConn.connect(ref.port);
  const b = await RawConn.connect(ours.port);
  try {
    const want = await pipeline(a, cases);
    const got = await pipeline(b, cases);
    for (let i = 1; i < cases.length; i++) {
      assert.equal(JSON.stringify(got[i]), JSON.stringify(want[i]), `COMMAND INFO ${cases[i]![2]}`);
    }
  } finally {
    a.close();
    b.close();
    ref.stop();
    await ours.close();
  }
});

/** Commands whose COMMAND DOCS key arguments differ from Redis's on purpose. */
const DOCS_KEYS_DIFFER: Record<string, string> = {
  sort: "Redis counts the BY and GET patterns as keys (key spec 1); our grammar types them pattern",
  sort_ro: "the same as SORT",
};

const HEAD = [
  "summary",
  "since",
  "group",
  "complexity",
  "doc_flags",
  "deprecated_since",
  "replaced_by",
  "history",
];

test("COMMAND DOCS gives Redis's summary, since, group, complexity, notes and key arguments", {
  skip: missing("redis-server"),
}, async () => {
  const pairs = (x: unknown) => {
    const a = x as unknown[];
    const m = new Map<string, unknown>();
    for (let i = 0; i < a.length; i += 2) m.set(a[i] as string, a[i + 1]);
    return m;
  };
  const indexes = (args: unknown, out = new Set<number>()): Set<number> => {
    for (const arg of (args ?? []) as unknown[]) {
      const m = pairs(arg);
      if (m.has("key_spec_index")) out.add(m.get("key_spec_index") as number);
      indexes(m.get("arguments"), out);
    }
    return out;
  };
  type Doc = { head: unknown[]; keys: number[] };
  const [want, got] = await onBoth(async (c) => {
    const out = new Map<string, Doc>();
    const walk = (docs: Map<string, unknown>) => {
      for (const [name, doc] of docs) {
        const d = pairs(doc);
        out.set(name, {
          head: HEAD.map((k) => d.get(k)),
          keys: [...indexes(d.get("arguments"))].sort(),
        });
        if (d.has("subcommands")) walk(pairs(d.get("subcommands")));
      }
    };
    walk(pairs(await c.call("COMMAND", "DOCS")));
    return out;
  });
  let compared = 0;
  for (const [name, doc] of want) {
    const mine = got.get(name);
    if (mine === undefined) continue;
    assert.deepEqual(mine.head, doc.head, `${HEAD.join(", ")} of ${name}`);
    if (doc.keys.length > 0 && !(name in DOCS_KEYS_DIFFER)) {
      assert.deepEqual(mine.keys, doc.keys, `key_spec_index of ${name}'s arguments`);
    }
    compared++;
  }
  assert.ok(compared > 360, `compared ${compared} commands`);
});

/** Commands whose COMMAND DOCS argument tree has another shape than Redis's, and why. */
const ARGS_DIFFER: Record<string, string> = {
  bitfield: "Redis nests OVERFLOW before each SET/INCRBY block; our one-line grammar cannot",
  "client|kill": "Redis marks the old `ip:port` form with its own deprecated_since",
  "client|list": "Redis makes ID a block of one repeated id (WEIGHTS, PREFIX are not blocks)",
  "command|getkeys": "Redis 7.0.15 declares no arguments for it",
  "command|getkeysandflags": "Redis 7.0.15 declares no arguments for it",
  failover:
    "Redis makes TO a block (token TO: host, port, optional FORCE); our grammar gives TO to host",
  "config|get": "Redis makes the parameter a block of one repeated argument",
  psubscribe: "Redis makes the pattern a block of one repeated argument",
  "module|loadex": "Redis makes ARGS a block of one repeated argument",
  geosearch: "Redis makes FROMLONLAT a block with its token but not BYRADIUS",
  geosearchstore: "the same as GEOSEARCH",
  migrate: 'Redis gives the `""` key alternative as an empty token',
  sort: "Redis counts the BY and GET patterns as keys",
  sort_ro: "the same as SORT",
  xread: "Redis makes STREAMS a block of the keys and the ids",
  xreadgroup: "Redis makes GROUP and STREAMS blocks",
};

test("COMMAND DOCS argument trees have Redis's shape", {
  skip: missing("redis-server"),
}, async () => {
  // Types (scalar types folded together), tokens, flags and key specs; not the names, which our
  // grammar derives from the placeholders, nor each argument's `since`.
  const shape = (args: unknown): unknown =>
    ((args ?? []) as unknown[]).map((arg) => {
      const a = arg as unknown[];
      const out: Record<string, unknown> = {};
      for (let i = 0; i < a.length; i += 2) {
        const [k, v] = [a[i] as string, a[i + 1]];
        if (k === "name" || k === "since" || k === "display_text") continue;
        if (k === "type") {
          out[k] = ["key", "pure-token", "block", "oneof"].includes(v as string) ? v : "scalar";
        } else out[k] = k === "arguments" ? shape(v) : v;
      }
      return out;
    });
  const [want, got] = await onBoth(async (c) => {
    const out = new Map<string, unknown>();
    const walk = (docs: unknown[]) => {
      for (let i = 0; i < docs.length; i += 2) {
        const d = docs[i + 1] as unknown[];
        for (let j = 0; j < d.length; j += 2) {
          if (d[j] === "arguments") out.set(docs[i] as string, shape(d[j + 1]));
          if (d[j] === "subcommands") walk(d[j + 1] as unknown[]);
        }
        if (!out.has(docs[i] as string)) out.set(docs[i] as string, []);
      }
    };
    walk((await c.call("COMMAND", "DOCS")) as unknown[]);
    return out;
  });
  let compared = 0;
  for (const [name, args] of want) {
    const mine = got.get(name);
    if (mine === undefined || name in ARGS_DIFFER) continue;
    assert.deepEqual(mine, args, `argument tree of ${name}`);
    compared++;
  }
  assert.ok(compared > 340, `compared ${compared} commands`);
});

test("COMMAND GETKEYS and GETKEYSANDFLAGS answer as redis-server", {
  skip: missing("redis-server"),
}, async () => {
  const calls = script(`
    SET k v; SET k v GET; SET k v EX 10 get; GET k; GETEX k PERSIST; MSET a 1 b 2; MGET a b c
    BITFIELD k GET u8 0; BITFIELD k SET u8 0 1; BITFIELD k GET u8 0 OVERFLOW SAT; BITFIELD_RO k GET u8 0
    SORT k; SORT k BY w STORE dst; SORT k STORE d1 LIMIT 0 1 STORE d2; SORT_RO k BY x GET y
    MIGRATE h 6379 k 0 1000; MIGRATE h 6379 "" 0 1000 KEYS a b; MIGRATE h 6379 k 0 1000 COPY
    EVAL s 2 a b x; EVAL s 0; EVAL_RO s 1 a; EVALSHA s 1 a; FCALL f 2 a b; FCALL_RO f 1 a
    ZUNIONSTORE d 2 a b WEIGHTS 1 2; ZUNION 2 a b; ZINTERCARD 2 a b; SINTERCARD 2 a b LIMIT 1
    ZDIFFSTORE d 1 a; ZUNIONSTORE d x a; ZUNIONSTORE d 5 a
    LMPOP 2 a b LEFT; BLMPOP 0 2 a b LEFT; ZMPOP 1 z MIN; BZMPOP 0 1 z MAX; BLPOP a b 0
    XREAD COUNT 2 STREAMS s1 s2 0 0; XREADGROUP GROUP g c STREAMS s 0; XREAD STREAMS s1 s2 0
    GEORADIUS k 0 0 1 km STORE d; GEORADIUSBYMEMBER k m 1 km STOREDIST d; GEORADIUS k 0 0 1 km
    GEOSEARCHSTORE d s FROMMEMBER m BYRADIUS 1 km; GEOSEARCH s FROMMEMBER m BYRADIUS 1 km
    RENAME a b; SMOVE a b m; LMOVE a b LEFT RIGHT; COPY a b; BITOP AND d a b; PFMERGE d a b
    DEL a b c; UNLINK a; EXISTS a b; TOUCH a; TYPE a; OBJECT ENCODING k; MEMORY USAGE k
    XGROUP CREATE s g $; XINFO STREAM s; XADD s * f v; LCS a b; WATCH a b; PFCOUNT a b
    RESTORE k 0 data; EXPIRE k 10; GETDEL k; APPEND k v; HSET h f v; LPUSH l a; SADD s a
    SPUBLISH ch m; SPUBLISH ch; PING; GET; NOSUCH k; OBJECT; CLIENT LIST; SUBSCRIBE ch; CONFIG
    CONFIG NOSUCH; OBJECT ENCODING; OBJECT ENCODING k extra; EVAL s x; EVAL s 3 a; ZUNION 0 a
  `);
  const cases = calls.flatMap((c) => [
    ["COMMAND", "GETKEYS", ...c],
    ["COMMAND", "GETKEYSANDFLAGS", ...c],
  ]);
  await compareWithRedis(cases, true);
  await compareWithRedis(cases, false);
});

test("GETKEYSANDFLAGS answers as redis-server for made-up calls of every command with keys", {
  skip: missing("redis-server"),
}, async () => {
  // Calls of every length from the arity to a few more, of three kinds of arguments: all names,
  // small numbers (key counts that fit or not), and STORE keywords between numbers.
  const [infos] = await onBoth(async (
    c,
  ) => [...flattenCommands((await c.call("COMMAND")) as CommandInfo[]).values()]);
  const cases: string[][] = [["HELLO", "3"]];
  for (const [name, arity, , , , , , , specs] of infos) {
    if ((specs as unknown[]).length === 0 || deliberate(name, REDIS_ONLY)) continue;
    const head = name.split("|");
    const least = Math.max(Math.abs(arity), 4) - head.length;
    for (const kind of ["names", "numbers", "store"]) {
      for (let n = least; n < least + 4; n++) {
        const args = Array.from(
          { length: n },
          (_, i) =>
            kind === "names"
              ? `k${i}`
              : kind === "numbers"
              ? (i === 0 ? "k" : String(i % 3))
              : (i % 2 ? "STORE" : "1"),
        );
        cases.push(["COMMAND", "GETKEYSANDFLAGS", ...head, ...args]);
      }
    }
  }
  assert.ok(cases.length > 2000, `${cases.length} calls`);
  await compareWithRedis(cases.slice(1), true);
});

test("COMMAND COUNT and LIST count and list what COMMAND shows, filtered as Redis does", {
  skip: missing("redis-server"),
}, async () => {
  const [want, got] = await onBoth(async (c) => {
    const all = (await c.call("COMMAND")) as CommandInfo[];
    const filter = async (...a: string[]) =>
      ((await c.call("COMMAND", "LIST", "FILTERBY", ...a)) as string[]).sort();
    return {
      all,
      count: await c.call("COMMAND", "COUNT"),
      list: ((await c.call("COMMAND", "LIST")) as string[]).sort(),
      names: [...flattenCommands(all).keys()].sort(),
      string: await filter("ACLCAT", "string"),
      dangerous: await filter("ACLCAT", "dangerous"),
      pattern: await filter("PATTERN", "*s?t*"),
      sub: await filter("PATTERN", "client|*"),
      module: await filter("MODULE", "nosuch"),
    };
  });
  for (const r of [want, got]) {
    assert.equal(r.count, r.all.length);
    assert.deepEqual(r.list, r.names);
  }
  const shared = (list: string[], other: string[]) =>
    list.filter((n) => other.includes(n) && !deliberate(n, OURS_ONLY));
  for (const k of ["string", "dangerous", "pattern", "sub"] as const) {
    assert.deepEqual(shared(got[k], want.names), shared(want[k], got.names), `FILTERBY ${k}`);
    assert.ok(want[k].length > 0, `redis lists some commands for ${k}`);
  }
  assert.deepEqual(got.module, []);
  assert.deepEqual(want.module, []);
});

test("a plugin's key specs and tips show in COMMAND INFO and GETKEYSANDFLAGS", () => {
  const plugin = definePlugin({
    name: "specs",
    setup(server) {
      server.registerCommand({
        name: "specs.copy",
        arity: 3,
        flags: ["write"],
        keys: { first: 1, last: 2, step: 1 },
        keySpecs: [keySpec("RO access"), keySpec("OW update", { index: 2 })],
        tips: ["nondeterministic_output"],
        execute: () => 0,
      });
      server.registerCommand({
        name: "specs.read",
        arity: -2,
        flags: ["readonly"],
        keys: { first: 1, last: -1, step: 1 },
        execute: () => 0,
      });
    },
  });
  const server = createServer({ plugins: [plugin] });
  const info = (name: string) => (server.dispatch(["COMMAND", "INFO", name]) as Reply[][])[0]!;
  const plain = (r: unknown): unknown =>
    Array.isArray(r)
      ? r.map(plain)
      : r instanceof SetReply
      ? r.items.map(plain)
      : r instanceof MapReply
      ? r.entries.map(plain)
      : r instanceof SimpleString
      ? r.value
      : r;
  const copy = plain(info("specs.copy")) as unknown[];
  assert.deepEqual(copy.slice(3, 6), [1, 2, 1]);
  assert.deepEqual(copy[7], ["nondeterministic_output"]);
  assert.deepEqual(
    plain(server.dispatch(["COMMAND", "GETKEYSANDFLAGS", "specs.copy", "a", "b"])),
    [["a", ["RO", "access"]], ["b", ["OW", "update"]]],
  );
  // Without specs, one is derived from `keys`: a read command's keys are read.
  assert.deepEqual(
    plain(server.dispatch(["COMMAND", "GETKEYSANDFLAGS", "specs.read", "a", "b"])),
    [["a", ["RO", "access"]], ["b", ["RO", "access"]]],
  );
  assert.deepEqual((plain(info("specs.read")) as unknown[]).slice(3, 6), [1, -1, 1]);
});

test("every command's dispatch key range is the one its key specs give", () => {
  // Dispatch (ACL key checks, tracking) reads `keys`; COMMAND INFO reads the key specs: they must
  // not drift apart. Commands with a key finder of their own (getKeys) use it instead of the
  // range, and shard channels (`not_key` specs) are no keys for dispatch.
  const server = createServer({ plugins: [replication(), groups()] });
  let compared = 0;
  for (const top of server.allCommands()) {
    for (const cmd of [top, ...(top.subcommands?.values() ?? [])]) {
      const specs = commandKeySpecs(cmd);
      if (cmd.spec.getKeys !== undefined || specs.every((s) => s.flags.includes("not_key"))) {
        continue;
      }
      const { first, last, step } = legacyRange(specs);
      const k = cmd.spec.keys ?? { first: 0, last: 0, step: 0 };
      assert.deepEqual([k.first, k.last, k.step], [first, last, step], `keys of ${cmd.fullName}`);
      compared++;
    }
  }
  assert.ok(compared > 170, `compared ${compared} commands`);
});
