/**
 * The groups plugin (plugins/groups/README.md is the contract): the atomic join under a race of
 * real clients, each refusal and its text, retried joins, MULTI/EXEC, Lua, RESP2/RESP3 shapes, the
 * hash layout and a redis-cli session. Leases, notifications and propagation:
 * groups_leases_test.ts.
 */
import { test } from "node:test";
import { readFileSync } from "node:fs";
import assert from "node:assert/strict";
import { createClient } from "redis";
import {
  E,
  ErrorReply,
  type MapReply,
  R,
  type Reply,
  type SetReply,
  type SimpleString,
} from "../mod.ts";
import { errorText, hello3, RawConn, redisCli } from "./helpers.ts";
import {
  BAD_CAPACITY,
  BAD_TTL,
  info,
  io,
  local,
  start,
  T0,
  upper,
  WRONGTYPE,
} from "./groups_helpers.ts";
import { missing } from "./redis_tools.ts";

test("200 joiners on 50 connections race for 10 seats: exactly 10 get in", async () => {
  const { port, close } = await start();
  const conns = Array.from({ length: 50 }, () => io(port));
  try {
    await Promise.all(conns.map((c) => c.ping()));
    assert.equal(await conns[0]!.call("GROUP.CREATE", "room", "10"), "OK");
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) => conns[i % 50]!.call("GROUP.JOIN", "room", `m-${i}`)),
    );
    const admitted: string[] = [];
    const sizes: number[] = [];
    let full = 0;
    results.forEach((r, i) => {
      if (r.status === "fulfilled") {
        admitted.push(`m-${i}`);
        sizes.push(r.value as number);
      } else {
        assert.equal((r.reason as Error).message, "FULL group 'room' is full");
        full++;
      }
    });
    assert.equal(admitted.length, 10);
    assert.equal(full, 190);
    assert.deepEqual(sizes.sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const members = (await conns[1]!.call("GROUP.MEMBERS", "room")) as string[];
    assert.deepEqual([...members].sort(), admitted.sort());
    assert.equal(await conns[2]!.hlen("room"), 12);
    assert.equal(info(await conns[3]!.call("GROUP.INFO", "room")).size, 10);
  } finally {
    for (const c of conns) c.disconnect();
    await close();
  }
});

test("a missing group is NOGROUP and a non-group key WRONGTYPE, for every command", () => {
  const { call } = local();
  const reads = (k: string): string[][] => [
    ["GROUP.JOIN", k, "m"],
    ["GROUP.JOIN", k, "m", "TTL", "100"],
    ["GROUP.LEAVE", k, "m"],
    ["GROUP.OPEN", k],
    ["GROUP.CLOSE", k],
    ["GROUP.RESIZE", k, "3"],
    ["GROUP.INFO", k],
    ["GROUP.MEMBERS", k],
    ["GROUP.ISMEMBER", k, "m"],
  ];
  for (const argv of reads("g")) {
    assert.equal(errorText(call(...argv)), "NOGROUP no such group 'g'", argv.join(" "));
  }
  assert.equal(call("EXISTS", "g"), 0, "a refused command creates nothing");
  call("SET", "str", "v");
  call("HSET", "plain", "f", "v");
  call("HSET", "half", "capacity", "5");
  call("HSET", "half2", "open", "1");
  call("RPUSH", "list", "a");
  for (const key of ["str", "plain", "half", "half2", "list"]) {
    for (const argv of reads(key)) {
      assert.equal(errorText(call(...argv)), WRONGTYPE, argv.join(" "));
    }
  }
  assert.equal(call("GET", "str"), "v");
  assert.equal(call("HLEN", "plain"), 1, "the plain hash is untouched");
  const created = call("GROUP.CREATE", "str", "5");
  assert.ok(created instanceof ErrorReply, "CREATE does not overwrite a string");
  assert.equal(call("GET", "str"), "v");
  // A hash with both fields is a group, whoever wrote it (a replica fed by HSET, a restore).
  call("HSET", "byhand", "capacity", "1", "open", "1");
  assert.equal(call("GROUP.JOIN", "byhand", "x"), 1);
  assert.equal(errorText(call("GROUP.JOIN", "byhand", "y")), "FULL group 'byhand' is full");
});

test("BUSYGROUP, capacity, TTL, syntax and arity errors have the README's texts", () => {
  const { call } = local();
  assert.deepEqual(call("GROUP.CREATE", "room", "10"), R.ok);
  assert.equal(call("GROUP.JOIN", "room", "a"), 1);
  assert.equal(errorText(call("GROUP.CREATE", "room", "3")), "BUSYGROUP group already exists");
  assert.equal(
    errorText(call("GROUP.CREATE", "room", "3", "CLOSED")),
    "BUSYGROUP group already exists",
  );
  assert.equal(call("HGET", "room", "capacity"), "10", "a refused CREATE changes nothing");
  assert.equal(call("HGET", "room", "open"), "1");
  assert.equal(call("GROUP.ISMEMBER", "room", "a"), 1);
  for (const bad of ["-1", "2147483648", "abc", "1.5", "", "99999999999999999999"]) {
    assert.equal(errorText(call("GROUP.CREATE", "g", bad)), BAD_CAPACITY, `CREATE ${bad}`);
    assert.equal(errorText(call("GROUP.RESIZE", "room", bad)), BAD_CAPACITY, `RESIZE ${bad}`);
  }
  assert.equal(call("EXISTS", "g"), 0);
  assert.equal(call("HGET", "room", "capacity"), "10");
  assert.deepEqual(call("GROUP.CREATE", "big", "2147483647"), R.ok);
  assert.equal(call("HGET", "big", "capacity"), "2147483647");
  assert.deepEqual(call("GROUP.CREATE", "zero", "0"), R.ok);
  assert.equal(errorText(call("GROUP.JOIN", "zero", "x")), "FULL group 'zero' is full");
  for (const bad of ["0", "-5", "abc", "1.5", ""]) {
    assert.equal(errorText(call("GROUP.JOIN", "room", "b", "TTL", bad)), BAD_TTL, `TTL ${bad}`);
  }
  assert.equal(call("GROUP.ISMEMBER", "room", "b"), 0, "a join with a bad TTL admits nobody");
  assert.equal(errorText(call("GROUP.JOIN", "room", "b", "TTL")), E.syntax);
  assert.equal(errorText(call("GROUP.JOIN", "room", "b", "FOO", "5")), E.syntax);
  assert.equal(errorText(call("GROUP.JOIN", "room", "b", "TTL", "5", "TTL")), E.syntax);
  assert.equal(errorText(call("GROUP.CREATE", "g", "5", "OPEN")), E.syntax);
  assert.equal(call("GROUP.ISMEMBER", "room", "b"), 0);
  assert.equal(call("GROUP.JOIN", "room", "b", "ttl", "1000"), 2, "TTL is case-insensitive");
  assert.deepEqual(call("GROUP.CREATE", "shut", "5", "closed"), R.ok);
  assert.equal(call("HGET", "shut", "open"), "0");
  const arity: string[][] = [
    ["GROUP.CREATE", "g"],
    ["GROUP.JOIN", "room"],
    ["GROUP.LEAVE", "room"],
    ["GROUP.LEAVE", "room", "a", "b"],
    ["GROUP.OPEN"],
    ["GROUP.OPEN", "room", "x"],
    ["GROUP.CLOSE", "room", "x"],
    ["GROUP.RESIZE", "room"],
    ["GROUP.INFO", "room", "x"],
    ["GROUP.MEMBERS"],
    ["GROUP.ISMEMBER", "room"],
  ];
  for (const argv of arity) {
    assert.equal(
      errorText(call(...argv)),
      `ERR wrong number of arguments for '${argv[0]!.toLowerCase()}' command`,
      argv.join(" "),
    );
  }
  assert.equal(call("HLEN", "room"), 4);
});

test("CLOSED until OPEN, FULL at capacity, and members already in re-join either way", async () => {
  const { port, close } = await start();
  const c = await RawConn.connect(port);
  try {
    const send = async (argv: string[], want: string) => {
      c.command(...argv);
      assert.equal(await c.expect(want), want, argv.join(" "));
    };
    await send(["GROUP.CREATE", "room", "2"], "+OK\r\n");
    await send(["GROUP.JOIN", "room", "alice"], ":1\r\n");
    await send(["GROUP.CLOSE", "room"], "+OK\r\n");
    await send(["HGET", "room", "open"], "$1\r\n0\r\n");
    await send(["GROUP.JOIN", "room", "bob"], "-CLOSED group 'room' is closed\r\n");
    await send(["GROUP.JOIN", "room", "alice"], ":1\r\n");
    await send(["GROUP.OPEN", "room"], "+OK\r\n");
    await send(["HGET", "room", "open"], "$1\r\n1\r\n");
    await send(["GROUP.JOIN", "room", "bob"], ":2\r\n");
    await send(["GROUP.JOIN", "room", "carol"], "-FULL group 'room' is full\r\n");
    await send(["GROUP.JOIN", "room", "bob", "TTL", "500"], ":2\r\n");
    await send(["GROUP.CLOSE", "room"], "+OK\r\n");
    // Closed and full: the closed check comes first.
    await send(["GROUP.JOIN", "room", "carol"], "-CLOSED group 'room' is closed\r\n");
    await send(["GROUP.LEAVE", "room", "carol"], ":0\r\n");
    await send(["GROUP.LEAVE", "room", "alice"], ":1\r\n");
    await send(["GROUP.LEAVE", "room", "alice"], ":0\r\n");
    await send(["GROUP.ISMEMBER", "room", "alice"], ":0\r\n");
    await send(["GROUP.ISMEMBER", "room", "bob"], ":1\r\n");
    await send(["GROUP.OPEN", "room"], "+OK\r\n");
    await send(["GROUP.JOIN", "room", "carol"], ":2\r\n");
    await send(["HLEN", "room"], ":4\r\n");
  } finally {
    c.close();
    await close();
  }
});

test("RESIZE below the size admits nobody until enough members leave", () => {
  const { call } = local();
  call("GROUP.CREATE", "room", "3");
  for (const m of ["a", "b", "c"]) call("GROUP.JOIN", "room", m);
  assert.deepEqual(call("GROUP.RESIZE", "room", "1"), R.ok);
  assert.equal(call("HGET", "room", "capacity"), "1");
  assert.equal(info(call("GROUP.INFO", "room")).capacity, 1);
  assert.equal(call("GROUP.ISMEMBER", "room", "c"), 1, "nobody is evicted");
  assert.equal(errorText(call("GROUP.JOIN", "room", "d")), "FULL group 'room' is full");
  assert.equal(call("GROUP.JOIN", "room", "c"), 3, "a member re-joins above capacity");
  call("GROUP.LEAVE", "room", "a");
  assert.equal(errorText(call("GROUP.JOIN", "room", "d")), "FULL group 'room' is full");
  call("GROUP.LEAVE", "room", "b");
  assert.equal(errorText(call("GROUP.JOIN", "room", "d")), "FULL group 'room' is full");
  call("GROUP.LEAVE", "room", "c");
  assert.equal(call("GROUP.JOIN", "room", "d"), 1);
  assert.equal(errorText(call("GROUP.JOIN", "room", "e")), "FULL group 'room' is full");
  assert.deepEqual(call("GROUP.RESIZE", "room", "5"), R.ok);
  assert.equal(call("GROUP.JOIN", "room", "e"), 2);
  assert.deepEqual([...(call("GROUP.MEMBERS", "room") as string[])].sort(), ["d", "e"]);
});

test("a join retried after a lost reply keeps one seat and sets the lease it asks", async () => {
  const { port, clock, close } = await start();
  const a = io(port);
  const nr = createClient({ socket: { port, host: "127.0.0.1" } });
  const lost = await RawConn.connect(port);
  try {
    await nr.connect();
    assert.equal(await a.call("GROUP.CREATE", "room", "2"), "OK");
    // The join runs but its connection dies before the reply is read.
    lost.command("GROUP.JOIN", "room", "alice", "TTL", "30000");
    let seen = 0;
    for (let i = 0; i < 200 && seen !== 1; i++) {
      seen = (await a.call("GROUP.ISMEMBER", "room", "alice")) as number;
    }
    assert.equal(seen, 1, "the first join ran");
    lost.close();
    assert.equal(await a.hget("room", "m:alice"), String(T0 + 30_000));
    clock.advance(1000);
    assert.equal(await a.call("GROUP.JOIN", "room", "alice", "TTL", "30000"), 1);
    assert.equal(await a.hget("room", "m:alice"), String(T0 + 31_000), "the lease is renewed");
    assert.deepEqual(info(await a.call("GROUP.INFO", "room")).members, { alice: 30_000 });
    assert.equal(await nr.sendCommand(["GROUP.JOIN", "room", "alice"]), 1);
    assert.equal(await a.hget("room", "m:alice"), "0", "a join without TTL drops the lease");
    assert.deepEqual(info(await a.call("GROUP.INFO", "room")).members, { alice: -1 });
    assert.equal(await nr.sendCommand(["GROUP.JOIN", "room", "bob"]), 2);
    assert.equal(await a.call("GROUP.JOIN", "room", "alice", "TTL", "5000"), 2);
    assert.equal(await nr.sendCommand(["GROUP.JOIN", "room", "alice"]), 2);
    assert.equal(await a.call("GROUP.JOIN", "room", "alice", "TTL", "5000"), 2);
    assert.equal(await a.hget("room", "m:alice"), String(T0 + 6000));
    assert.equal(await a.hlen("room"), 4);
    assert.deepEqual(((await a.call("GROUP.MEMBERS", "room")) as string[]).sort(), [
      "alice",
      "bob",
    ]);
    await assert.rejects(
      nr.sendCommand(["GROUP.JOIN", "room", "carol"]),
      /FULL group 'room' is full/,
    );
  } finally {
    lost.close();
    a.disconnect();
    await nr.quit();
    await close();
  }
});

test("GROUP.JOIN inside MULTI/EXEC: counts and FULL come back in EXEC's array; WATCH sees joins", async () => {
  const { port, close } = await start();
  const c = await RawConn.connect(port);
  const d = io(port);
  try {
    c.command("GROUP.CREATE", "room", "1");
    c.command("MULTI");
    c.command("GROUP.JOIN", "room", "a");
    c.command("GROUP.JOIN", "room", "b");
    c.command("GROUP.JOIN", "room", "a");
    c.command("GROUP.ISMEMBER", "room", "b");
    c.command("EXEC");
    const want = "+OK\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n" +
      "*4\r\n:1\r\n-FULL group 'room' is full\r\n:1\r\n:0\r\n";
    assert.equal(await c.expect(want), want);
    c.command("WATCH", "room");
    assert.equal(await c.expect("+OK\r\n"), "+OK\r\n");
    assert.equal(await d.call("GROUP.LEAVE", "room", "a"), 1);
    c.command("MULTI");
    c.command("GROUP.JOIN", "room", "b");
    c.command("EXEC");
    const aborted = "+OK\r\n+QUEUED\r\n*-1\r\n";
    assert.equal(await c.expect(aborted), aborted, "GROUP.LEAVE touched the watched key");
    assert.equal(await d.call("GROUP.ISMEMBER", "room", "b"), 0);
    c.command("WATCH", "room");
    c.command("MULTI");
    c.command("GROUP.JOIN", "room", "b");
    c.command("EXEC");
    const ran = "+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n:1\r\n";
    assert.equal(await c.expect(ran), ran);
    const res = await d.multi().call("GROUP.JOIN", "room", "b").call("GROUP.JOIN", "room", "z")
      .exec();
    assert.equal(res![0]![0], null);
    assert.equal(res![0]![1], 1);
    assert.equal((res![1]![0] as Error).message, "FULL group 'room' is full");
  } finally {
    c.close();
    d.disconnect();
    await close();
  }
});

test("GROUP.JOIN from Lua with redis.call and redis.pcall, propagated as effects", async () => {
  const { server, port, close } = await start();
  const effects: string[][] = [];
  server.on("propagate", (_db, argv) => effects.push(upper(argv)));
  const r = io(port);
  try {
    await r.call("GROUP.CREATE", "room", "1");
    effects.length = 0;
    const join = "return redis.call('GROUP.JOIN', KEYS[1], ARGV[1])";
    assert.equal(await r.eval(join, 1, "room", "x"), 1);
    assert.deepEqual(effects, [["HSET", "room", "m:x", "0"]], "the effect, not the EVAL");
    effects.length = 0;
    await assert.rejects(r.eval(join, 1, "room", "y"), /^ReplyError: FULL group 'room' is full/);
    const pcall =
      "local r = redis.pcall('GROUP.JOIN', KEYS[1], ARGV[1]) return {type(r), r['err']}";
    assert.deepEqual(await r.eval(pcall, 1, "room", "y"), ["table", "FULL group 'room' is full"]);
    const raw = "return redis.pcall('GROUP.JOIN', KEYS[1], ARGV[1])";
    await assert.rejects(r.eval(raw, 1, "room", "y"), (e: Error) => {
      assert.equal(e.message, "FULL group 'room' is full");
      return true;
    });
    const missing = "local r = redis.pcall('GROUP.JOIN', KEYS[1], 'm') return r['err']";
    assert.equal(await r.eval(missing, 1, "nope"), "NOGROUP no such group 'nope'");
    assert.deepEqual(effects, [], "refused joins in scripts propagate nothing");
    r.defineCommand("joinRoom", { numberOfKeys: 1, lua: join });
    const custom = r as unknown as { joinRoom(k: string, m: string): Promise<unknown> };
    assert.equal(await custom.joinRoom("room", "x"), 1, "EVALSHA through defineCommand");
    assert.deepEqual(await r.call("GROUP.MEMBERS", "room"), ["x"]);
  } finally {
    r.disconnect();
    await close();
  }
});

test("GROUP.INFO is a flat array in RESP2 and a map in RESP3, the first edition's fields first; MEMBERS an array in both", async () => {
  const { port, clock, close } = await start();
  const c2 = await RawConn.connect(port);
  const c3 = await RawConn.connect(port);
  // The fields after `members`: nobody waits, no reservation, nobody away, no token, counters.
  const tail = (resp: 2 | 3, joins: number) => {
    const empty = resp === 2 ? "*0\r\n" : "%0\r\n";
    return `$7\r\nwaiters\r\n:0\r\n$12\r\nreservations\r\n${empty}$4\r\naway\r\n${empty}` +
      `$5\r\ntoken\r\n:0\r\n$5\r\njoins\r\n:${joins}\r\n$4\r\nfull\r\n:0\r\n` +
      "$8\r\nexpiries\r\n:0\r\n$5\r\nkicks\r\n:0\r\n";
  };
  try {
    await hello3(c3);
    c2.command("GROUP.CREATE", "room", "2");
    c2.command("GROUP.INFO", "room");
    const empty2 = "+OK\r\n*26\r\n$4\r\nname\r\n$4\r\nroom\r\n$8\r\ncapacity\r\n:2\r\n" +
      "$4\r\nsize\r\n:0\r\n$4\r\nopen\r\n:1\r\n$7\r\nmembers\r\n*0\r\n" + tail(2, 0);
    assert.equal(await c2.expect(empty2), empty2);
    c3.command("GROUP.INFO", "room");
    const empty3 = "%13\r\n$4\r\nname\r\n$4\r\nroom\r\n$8\r\ncapacity\r\n:2\r\n" +
      "$4\r\nsize\r\n:0\r\n$4\r\nopen\r\n:1\r\n$7\r\nmembers\r\n%0\r\n" + tail(3, 0);
    assert.equal(await c3.expect(empty3), empty3);
    c2.command("GROUP.JOIN", "room", "bob", "TTL", "30000");
    c2.command("GROUP.CLOSE", "room");
    assert.equal(await c2.expect(":1\r\n+OK\r\n"), ":1\r\n+OK\r\n");
    clock.advance(846);
    c2.command("GROUP.INFO", "room");
    const one2 = "*26\r\n$4\r\nname\r\n$4\r\nroom\r\n$8\r\ncapacity\r\n:2\r\n" +
      "$4\r\nsize\r\n:1\r\n$4\r\nopen\r\n:0\r\n$7\r\nmembers\r\n*2\r\n$3\r\nbob\r\n:29154\r\n" +
      tail(2, 1);
    assert.equal(await c2.expect(one2), one2);
    c3.command("GROUP.INFO", "room");
    const one3 = "%13\r\n$4\r\nname\r\n$4\r\nroom\r\n$8\r\ncapacity\r\n:2\r\n" +
      "$4\r\nsize\r\n:1\r\n$4\r\nopen\r\n:0\r\n$7\r\nmembers\r\n%1\r\n$3\r\nbob\r\n:29154\r\n" +
      tail(3, 1);
    assert.equal(await c3.expect(one3), one3);
    c2.command("GROUP.MEMBERS", "room");
    assert.equal(await c2.expect("*1\r\n$3\r\nbob\r\n"), "*1\r\n$3\r\nbob\r\n");
    c3.command("GROUP.MEMBERS", "room");
    assert.equal(await c3.expect("*1\r\n$3\r\nbob\r\n"), "*1\r\n$3\r\nbob\r\n");
    c3.command("GROUP.JOIN", "room", "bob");
    c3.command("GROUP.INFO", "room");
    const noLease = ":1\r\n%13\r\n$4\r\nname\r\n$4\r\nroom\r\n$8\r\ncapacity\r\n:2\r\n" +
      "$4\r\nsize\r\n:1\r\n$4\r\nopen\r\n:0\r\n$7\r\nmembers\r\n%1\r\n$3\r\nbob\r\n:-1\r\n" +
      tail(3, 1);
    assert.equal(await c3.expect(noLease), noLease);
    c3.command("GROUP.JOIN", "nope", "x");
    const nogroup = "-NOGROUP no such group 'nope'\r\n";
    assert.equal(await c3.expect(nogroup), nogroup);
  } finally {
    c2.close();
    c3.close();
    await close();
  }
});

test("COMMAND DOCS and COMMAND INFO describe the GROUP commands", () => {
  const { call } = local();
  const names = [
    "create",
    "join",
    "leave",
    "open",
    "close",
    "resize",
    "info",
    "members",
    "ismember",
    "pos",
    "reserve",
    "setmeta",
    "kick",
    "joinall",
  ];
  const docs = call("COMMAND", "DOCS", ...names.map((n) => `group.${n}`)) as MapReply;
  const byName = new Map<string, Reply[]>();
  for (let i = 0; i < docs.entries.length; i += 2) {
    byName.set(docs.entries[i] as string, (docs.entries[i + 1] as MapReply).entries);
  }
  for (const n of names) {
    const body = byName.get(`group.${n}`);
    assert.ok(body, `COMMAND DOCS group.${n}`);
    const summary = body[body.indexOf("summary") + 1];
    assert.ok(typeof summary === "string" && summary.length > 10, `summary of group.${n}`);
    assert.ok(body.includes("arguments"), `arguments of group.${n}`);
  }
  const join = byName.get("group.join")!;
  const args = join[join.indexOf("arguments") + 1] as MapReply[];
  assert.deepEqual(args.slice(0, 2).map((a) => a.entries[1]), ["group", "member"]);
  const rest = JSON.stringify(args.slice(2));
  assert.match(rest, /TTL/);
  assert.match(rest, /optional/);
  const cmdInfo = call("COMMAND", "INFO", "group.join", "group.info") as Reply[][];
  assert.equal(cmdInfo[0]![0], "group.join");
  assert.equal(cmdInfo[0]![1], -3);
  assert.deepEqual(cmdInfo[0]!.slice(3, 6), [1, 1, 1], "the group is the key");
  assert.equal(cmdInfo[1]![1], 2);
  assert.deepEqual(call("COMMAND", "GETKEYS", "GROUP.JOIN", "room", "m", "TTL", "5"), ["room"]);
  const flags = (f: Reply) => (f as SetReply).items.map((x) => (x as SimpleString).value);
  assert.ok(flags(cmdInfo[0]![2]!).includes("write"));
  assert.ok(flags(cmdInfo[1]![2]!).includes("readonly"));
  // The second edition's commands are declared as the first's: @hash, @write or @read, @fast.
  const more = call(
    "COMMAND",
    "INFO",
    "group.reserve",
    "group.setmeta",
    "group.kick",
    "group.joinall",
    "group.pos",
  ) as Reply[][];
  const cats = (r: Reply[]) => (r[6] as SetReply).items.map((x) => (x as SimpleString).value);
  for (const r of more.slice(0, 4)) assert.deepEqual(cats(r), ["@write", "@hash", "@fast"]);
  assert.deepEqual(cats(more[4]!), ["@read", "@hash", "@fast"]);
  assert.deepEqual(more.map((r) => r[1]), [5, -5, -3, -3, 3]);
});

test("a group is a hash: TYPE, layout, SCAN, RENAME, COPY, EXPIRE, DEL and plain HSET/HDEL", async () => {
  const { server, port, clock, close } = await start();
  const r = io(port);
  try {
    await r.call("GROUP.CREATE", "room", "5");
    await r.call("GROUP.JOIN", "room", "alice");
    await r.call("GROUP.JOIN", "room", "bob", "TTL", "30000");
    assert.equal(await r.type("room"), "hash");
    assert.deepEqual(await r.hgetall("room"), {
      capacity: "5",
      open: "1",
      "m:alice": "0",
      "m:bob": String(T0 + 30_000),
    });
    assert.deepEqual((await r.scan("0", "TYPE", "hash"))[1], ["room"]);
    assert.equal(await r.rename("room", "room2"), "OK");
    await assert.rejects(
      r.call("GROUP.JOIN", "room", "x"),
      /^ReplyError: NOGROUP no such group 'room'$/,
    );
    assert.equal(await r.call("GROUP.JOIN", "room2", "carol"), 3);
    assert.equal(info(await r.call("GROUP.INFO", "room2")).name, "room2");
    clock.advance(30_001);
    server.cron();
    assert.equal(await r.hexists("room2", "m:bob"), 0, "the lease follows the renamed key");
    assert.equal(info(await r.call("GROUP.INFO", "room2")).size, 2);
    assert.equal(await r.copy("room2", "room3"), 1);
    assert.equal(await r.call("GROUP.JOIN", "room3", "dave"), 3);
    assert.equal(await r.call("GROUP.ISMEMBER", "room2", "dave"), 0, "the copy is separate");
    assert.equal(await r.hdel("room3", "m:dave"), 1);
    assert.equal(await r.call("GROUP.ISMEMBER", "room3", "dave"), 0, "HDEL removes a member");
    await r.hset("room3", "open", "0");
    await assert.rejects(r.call("GROUP.JOIN", "room3", "zed"), /CLOSED group 'room3' is closed/);
    await r.hset("room3", "m:zed", "0");
    assert.equal(await r.call("GROUP.ISMEMBER", "room3", "zed"), 1, "HSET adds a member");
    assert.equal(await r.expire("room2", 100), 1);
    assert.equal(await r.ttl("room2"), 100);
    assert.equal(await r.del("room2"), 1);
    await assert.rejects(r.call("GROUP.INFO", "room2"), /NOGROUP no such group 'room2'/);
    assert.equal(await r.call("GROUP.CREATE", "room2", "1"), "OK");
    assert.equal(await r.call("GROUP.JOIN", "room2", "x"), 1);
  } finally {
    r.disconnect();
    await close();
  }
});

test(
  "the README's redis-cli session, reply for reply",
  { skip: missing("redis-cli") },
  async () => {
    const { port, clock, close } = await start();
    try {
      const readme = readFileSync(
        new URL("../plugins/groups/README.md", import.meta.url),
        "latin1",
      );
      const block = readme.split("## A room filling up, in redis-cli")[1]!.split("```")[1]!;
      const steps: Array<{ argv: string[]; out: string[] }> = [];
      for (const line of block.split("\n").slice(1)) {
        if (line.startsWith("127.0.0.1:6379> ")) {
          steps.push({ argv: line.slice(16).split(" "), out: [] });
        } else if (line !== "") steps.at(-1)!.out.push(line);
      }
      assert.equal(steps.length, 11);
      for (const { argv, out } of steps) {
        // bob joined at T0 with TTL 30000; the README shows 29154 ms left: 846 ms have passed.
        if (argv[0] === "GROUP.INFO") clock.advance(846);
        const got = await redisCli(port, ["--no-raw", ...argv]);
        assert.equal(got.stdout, out.join("\n") + "\n", argv.join(" "));
      }
    } finally {
      await close();
    }
  },
);
