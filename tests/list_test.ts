import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { createServer } from "../mod.ts";
import type { CommandSpec } from "../mod.ts";
import { NullArray, SimpleString } from "../core/resp/reply.ts";
import { CHUNK, ListValue } from "../core/types/list.ts";
import { moveBetweenLists, popFromList } from "../commands/list_pop.ts";
import { errorText, RawConn, recordEvents, startServer } from "./helpers.ts";
import { prng } from "./redis_compare.ts";

/** The positions LPOS finds, computed on a plain array. */
function modelPositions(
  a: string[],
  v: string,
  fromTail: boolean,
  skip: number,
  count: number,
  maxlen: number,
): number[] {
  const out: number[] = [];
  const limit = maxlen === 0 ? a.length : Math.min(maxlen, a.length);
  let matches = 0;
  for (let s = 0; s < limit; s++) {
    const i = fromTail ? a.length - 1 - s : s;
    if (a[i] === v && ++matches > skip) {
      out.push(i);
      if (out.length === count) break;
    }
  }
  return out;
}

test("ListValue matches a plain array under random operations across many chunks", () => {
  const rand = prng(42);
  const list = new ListValue();
  let model: string[] = [];
  const value =
    () => (rand() < 0.7 ? String(Math.floor(rand() * 20)) : `u${Math.floor(rand() * 1e6)}`);
  for (let step = 0; step < 60000; step++) {
    const op = Math.floor(rand() * 14);
    const len = model.length;
    const idx = Math.floor(rand() * (len + 2)) - 1;
    switch (op) {
      case 0:
      case 1: {
        const n = rand() < 0.05 ? 300 : 1;
        for (let i = 0; i < n; i++) {
          const v = value();
          list.pushFront(v);
          model.unshift(v);
        }
        break;
      }
      case 2:
      case 3: {
        const n = rand() < 0.05 ? 300 : 1;
        for (let i = 0; i < n; i++) {
          const v = value();
          list.pushBack(v);
          model.push(v);
        }
        break;
      }
      case 4:
        if (len > 0) assert.equal(list.popFront(), model.shift());
        break;
      case 5:
        if (len > 0) assert.equal(list.popBack(), model.pop());
        break;
      case 6:
        assert.equal(list.get(idx), idx < len && idx >= 0 ? model[idx] : undefined);
        assert.equal(list.get(-1 - idx), idx < len && idx >= 0 ? model[len - 1 - idx] : undefined);
        break;
      case 7: {
        const v = value();
        const ok = list.set(idx, v);
        assert.equal(ok, idx >= -len && idx < len);
        if (ok) model[idx < 0 ? idx + len : idx] = v;
        break;
      }
      case 8:
      case 9: {
        // Pivots anywhere in the list, so that full chunks split and neighbours take the element.
        const pivot = len > 0 && rand() < 0.9 ? model[Math.floor(rand() * len)]! : "absent";
        const v = value();
        const after = rand() < 0.5;
        const at = model.indexOf(pivot);
        assert.equal(list.insert(pivot, v, after), at >= 0);
        if (at >= 0) model.splice(after ? at + 1 : at, 0, v);
        break;
      }
      case 10: {
        const v = len > 0 ? model[Math.floor(rand() * len)]! : "x";
        const count = Math.floor(rand() * 7) - 3;
        let want = 0;
        if (count >= 0) {
          model = model.filter((
            e,
          ) => (e === v && (count === 0 || want < count) ? (want++, false) : true));
        } else {
          const kept: string[] = [];
          for (let i = model.length - 1; i >= 0; i--) {
            if (model[i] === v && want < -count) want++;
            else kept.push(model[i]!);
          }
          model = kept.reverse();
        }
        assert.equal(list.remove(v, count), want);
        break;
      }
      case 11:
        if (rand() < 0.3 && len > 0) {
          const front = Math.floor(rand() * Math.min(len, 150));
          const back = Math.floor(rand() * Math.min(len - front, 150));
          list.trimFront(front);
          list.trimBack(back);
          model = model.slice(front, len - back);
        }
        break;
      case 12: {
        const v = len > 0 ? model[Math.floor(rand() * len)]! : "x";
        const fromTail = rand() < 0.5;
        const skip = Math.floor(rand() * 3);
        const count = Math.floor(rand() * 4);
        const maxlen = rand() < 0.5 ? 0 : Math.floor(rand() * len);
        assert.deepEqual(
          list.positions(v, fromTail, skip, count, maxlen),
          modelPositions(model, v, fromTail, skip, count, maxlen),
        );
        break;
      }
      default:
        if (len > 0) {
          const s = Math.floor(rand() * len);
          const e = s + Math.floor(rand() * (len - s));
          assert.deepEqual(list.range(s, e), model.slice(s, e + 1));
        }
    }
    assert.equal(list.length, model.length);
    if (step % 500 === 0) assert.deepEqual(list.toArray(), model);
  }
  assert.ok(model.length > CHUNK * 3, `the list grew past several chunks (${model.length})`);
  assert.deepEqual(list.toArray(), model);
});

test("LINSERT at the edges of full chunks keeps the order (neighbour room, then splits)", () => {
  for (
    const [index, after] of [[CHUNK - 1, true], [CHUNK, false], [0, false], [
      CHUNK * 2 - 1,
      true,
    ]] as const
  ) {
    const model = Array.from({ length: CHUNK * 2 + 3 }, (_, i) => `e${i}`);
    const list = ListValue.from(model);
    // Trim the tail so the last chunk has room; the first chunks are full.
    list.trimBack(2);
    model.length -= 2;
    for (let round = 0; round < 3 * CHUNK; round++) {
      const pivot = model[Math.min(index, model.length - 1)]!;
      const v = `n${round}`;
      assert.ok(list.insert(pivot, v, after));
      const at = model.indexOf(pivot);
      model.splice(after ? at + 1 : at, 0, v);
      assert.deepEqual(list.toArray(), model, `insert ${after ? "after" : "before"} ${pivot}`);
    }
    for (let i = -model.length; i < model.length; i += 7) {
      assert.equal(list.get(i), model[i < 0 ? i + model.length : i]);
    }
  }
});

test("ListValue.clone is deep; encoding is always quicklist as in Redis 7.0", () => {
  const a = ListValue.from(Array.from({ length: 300 }, (_, i) => String(i)));
  const b = a.clone();
  b.set(0, "changed");
  b.pushBack("more");
  assert.equal(a.get(0), "0");
  assert.equal(a.length, 300);
  assert.equal(b.length, 301);
  assert.equal(a.encoding(), "quicklist");
  assert.equal(new ListValue().encoding(), "quicklist");
  assert.equal(a.type, "list");
});

test("a push of many elements leaves nothing staged: the list costs what its packed form does", () => {
  const hundred = Array.from({ length: 100 }, (_, i) => `e${String(i).padStart(7, "0")}`);
  for (const left of [false, true]) {
    const list = new ListValue();
    list.pushAll(["RPUSH", "k", ...hundred], 2, left);
    assert.equal(list.length, 100);
    // clone() rebuilds each chunk from its packed string alone: same size, nothing waiting.
    // (Measured first: a read such as range() packs what waits.)
    assert.equal(list.memoryUsage(), list.clone().memoryUsage());
    assert.deepEqual(list.range(0, 99), left ? [...hundred].reverse() : hundred);
  }
  // One element at a time is staged (a push does not copy the chunk each time)...
  const one = new ListValue();
  for (const v of hundred.slice(0, 3)) one.pushAll(["RPUSH", "k", v], 2, false);
  assert.ok(one.memoryUsage() > one.clone().memoryUsage());
});

test("pushes, pops and ranges behave as Redis's, with binary elements", () => {
  const server = createServer();
  assert.equal(server.dispatch(["LPUSH", "l", "a", "b", "c"]), 3);
  assert.equal(server.dispatch(["RPUSH", "l", "\x00\xff", "e"]), 5);
  assert.deepEqual(server.dispatch(["LRANGE", "l", "0", "-1"]), ["c", "b", "a", "\x00\xff", "e"]);
  assert.equal(server.dispatch(["LPUSHX", "none", "a"]), 0);
  assert.equal(server.dispatch(["EXISTS", "none"]), 0);
  assert.equal(server.dispatch(["RPUSHX", "l", "f"]), 6);
  assert.equal(server.dispatch(["LPOP", "l"]), "c");
  assert.deepEqual(server.dispatch(["RPOP", "l", "2"]), ["f", "e"]);
  assert.deepEqual(server.dispatch(["LPOP", "l", "0"]), []);
  assert.deepEqual(server.dispatch(["LPOP", "l", "10"]), ["b", "a", "\x00\xff"]);
  assert.equal(server.dispatch(["EXISTS", "l"]), 0);
  assert.equal(server.dispatch(["LPOP", "l"]), null);
  assert.ok(server.dispatch(["LPOP", "l", "1"]) instanceof NullArray);
  assert.equal(
    errorText(server.dispatch(["LPOP", "l", "-1"])),
    "ERR value is out of range, must be positive",
  );
  assert.equal(
    errorText(server.dispatch(["LPOP", "l", "1", "2"])),
    "ERR wrong number of arguments for 'lpop' command",
  );
  server.dispatch(["RPUSH", "l", "x"]);
  assert.deepEqual(server.dispatch(["TYPE", "l"]), new SimpleString("list"));
});

test("LINDEX, LSET, LINSERT, LREM, LTRIM and LPOS with Redis's errors", () => {
  const server = createServer();
  server.dispatch(["RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"]);
  assert.equal(server.dispatch(["LINDEX", "l", "-1"]), "c");
  assert.equal(server.dispatch(["LINDEX", "l", "8"]), null);
  assert.equal(server.dispatch(["LINDEX", "none", "x"]), null);
  assert.equal(errorText(server.dispatch(["LSET", "none", "0", "x"])), "ERR no such key");
  assert.equal(errorText(server.dispatch(["LSET", "l", "8", "x"])), "ERR index out of range");
  assert.deepEqual(server.dispatch(["LSET", "l", "-8", "A"]), new SimpleString("OK"));
  assert.equal(server.dispatch(["LINSERT", "l", "AFTER", "b", "bb"]), 9);
  assert.equal(server.dispatch(["LINSERT", "l", "before", "zz", "x"]), -1);
  assert.equal(server.dispatch(["LINSERT", "none", "before", "a", "x"]), 0);
  assert.equal(errorText(server.dispatch(["LINSERT", "l", "aft3r", "a", "x"])), "ERR syntax error");
  assert.equal(server.dispatch(["LPOS", "l", "c"]), 3);
  assert.deepEqual(server.dispatch(["LPOS", "l", "c", "RANK", "-1", "COUNT", "2"]), [8, 7]);
  assert.deepEqual(server.dispatch(["LPOS", "l", "c", "COUNT", "0", "MAXLEN", "4"]), [3]);
  assert.deepEqual(server.dispatch(["LPOS", "none", "c", "COUNT", "0"]), []);
  assert.equal(
    errorText(server.dispatch(["LPOS", "l", "c", "RANK", "0"])),
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
  );
  assert.equal(
    errorText(server.dispatch(["LPOS", "l", "c", "COUNT", "-1"])),
    "ERR COUNT can't be negative",
  );
  assert.equal(
    errorText(server.dispatch(["LPOS", "l", "c", "MAXLEN", "x"])),
    "ERR MAXLEN can't be negative",
  );
  assert.equal(server.dispatch(["LREM", "l", "-1", "c"]), 1);
  assert.equal(server.dispatch(["LREM", "l", "0", "c"]), 2);
  assert.deepEqual(server.dispatch(["LRANGE", "l", "0", "-1"]), ["A", "b", "bb", "1", "2", "3"]);
  assert.deepEqual(server.dispatch(["LTRIM", "l", "1", "-2"]), new SimpleString("OK"));
  assert.deepEqual(server.dispatch(["LRANGE", "l", "0", "-1"]), ["b", "bb", "1", "2"]);
  server.dispatch(["LTRIM", "l", "5", "1"]);
  assert.equal(server.dispatch(["EXISTS", "l"]), 0);
});

test("list commands refuse other types with WRONGTYPE and leave them alone", () => {
  const server = createServer();
  server.dispatch(["SET", "s", "v"]);
  server.dispatch(["RPUSH", "l", "a"]);
  const wrong = "WRONGTYPE Operation against a key holding the wrong kind of value";
  for (
    const argv of [
      ["LPUSH", "s", "a"],
      ["RPUSHX", "s", "a"],
      ["LPOP", "s"],
      ["LRANGE", "s", "0", "1"],
      ["LLEN", "s"],
      ["LMOVE", "l", "s", "LEFT", "LEFT"],
      ["LMOVE", "s", "l", "LEFT", "LEFT"],
      ["LMPOP", "2", "none", "s", "LEFT"],
    ]
  ) {
    assert.equal(errorText(server.dispatch(argv)), wrong, argv.join(" "));
  }
  assert.equal(server.dispatch(["GET", "s"]), "v");
  assert.deepEqual(server.dispatch(["LRANGE", "l", "0", "-1"]), ["a"]);
  assert.equal(server.dispatch(["LMOVE", "none", "s", "LEFT", "LEFT"]), null);
});

test("list writes fire Redis's keyspace events, del after the event that emptied the key", () => {
  const server = createServer();
  const events = recordEvents(server);
  server.dispatch(["LPUSH", "l", "a", "b"]);
  server.dispatch(["RPUSH", "l", "c"]);
  server.dispatch(["LPUSHX", "none", "c"]);
  server.dispatch(["LSET", "l", "0", "x"]);
  server.dispatch(["LINSERT", "l", "BEFORE", "x", "y"]);
  server.dispatch(["LINSERT", "l", "BEFORE", "nope", "y"]);
  server.dispatch(["LREM", "l", "0", "nope"]);
  server.dispatch(["LREM", "l", "1", "y"]);
  server.dispatch(["LTRIM", "l", "0", "-1"]);
  server.dispatch(["LMOVE", "l", "m", "LEFT", "RIGHT"]);
  server.dispatch(["RPOP", "l", "5"]);
  server.dispatch(["LMPOP", "1", "m", "LEFT"]);
  server.dispatch(["RPUSH", "n", "1"]);
  server.dispatch(["LTRIM", "n", "1", "0"]);
  assert.deepEqual(events, [
    "lpush:l",
    "rpush:l",
    "lset:l",
    "linsert:l",
    "lrem:l",
    "ltrim:l",
    "rpush:m",
    "lpop:l",
    "rpop:l",
    "del:l",
    "lpop:m",
    "del:m",
    "rpush:n",
    "ltrim:n",
    "del:n",
  ]);
});

test("LMPOP propagates as LPOP/RPOP with the popped count; others as sent, only when dirty", () => {
  const server = createServer();
  const out: string[][] = [];
  server.on("propagate", (_db, argv) => out.push(argv));
  server.dispatch(["RPUSH", "l", "a", "b", "c"]);
  server.dispatch(["LMPOP", "2", "none", "l", "RIGHT", "COUNT", "10"]);
  server.dispatch(["RPUSH", "l", "a", "b", "c"]);
  server.dispatch(["LMPOP", "1", "l", "left"]);
  server.dispatch(["LPOP", "l", "5"]);
  server.dispatch(["LPOP", "l"]);
  server.dispatch(["RPUSH", "l", "a"]);
  server.dispatch(["LREM", "l", "0", "zz"]);
  server.dispatch(["LTRIM", "l", "0", "-1"]);
  server.dispatch(["LSET", "l", "0", "b"]);
  server.dispatch(["RPOPLPUSH", "l", "m"]);
  server.dispatch(["LMPOP", "1", "l", "LEFT"]);
  assert.deepEqual(out, [
    ["RPUSH", "l", "a", "b", "c"],
    ["RPOP", "l", "3"],
    ["RPUSH", "l", "a", "b", "c"],
    ["LPOP", "l", "1"],
    ["LPOP", "l", "5"],
    ["RPUSH", "l", "a"],
    ["LSET", "l", "0", "b"],
    ["RPOPLPUSH", "l", "m"],
  ]);
});

test("pushes and pops count dirty per element", () => {
  const server = createServer();
  const d0 = server.dirty;
  server.dispatch(["RPUSH", "l", "a", "b", "c", "d"]);
  assert.equal(server.dirty - d0, 4);
  server.dispatch(["LPOP", "l", "3"]);
  assert.equal(server.dirty - d0, 7);
  server.dispatch(["LPOP", "l", "0"]);
  assert.equal(server.dirty - d0, 7);
});

test("popFromList and moveBetweenLists do what the commands do, with the asked effect", () => {
  const bpop: CommandSpec = {
    name: "testpop",
    arity: 2,
    flags: ["write"],
    keys: { first: 1, last: 1, step: 1 },
    execute: (client, argv) =>
      popFromList(client, argv[1]!, { left: false, count: 2, propagate: true }) ?? null,
  };
  const bmove: CommandSpec = {
    name: "testmove",
    arity: 3,
    flags: ["write"],
    keys: { first: 1, last: 2, step: 1 },
    execute: (client, argv) =>
      moveBetweenLists(client, [argv[1]!, argv[2]!], {
        fromLeft: true,
        toLeft: false,
        effect: ["LMOVE", argv[1]!, argv[2]!, "left", "right"],
      }) ?? null,
  };
  const server = createServer({ commands: [bpop, bmove] });
  const out: string[][] = [];
  const events = recordEvents(server);
  server.on("propagate", (_db, argv) => out.push(argv));
  server.dispatch(["RPUSH", "q", "a", "b", "c"]);
  assert.deepEqual(server.dispatch(["TESTPOP", "q"]), ["c", "b"]);
  assert.equal(server.dispatch(["TESTMOVE", "q", "d"]), "a");
  assert.equal(server.dispatch(["TESTMOVE", "q", "d"]), null);
  assert.equal(server.dispatch(["TESTPOP", "q"]), null);
  assert.deepEqual(server.dispatch(["LRANGE", "d", "0", "-1"]), ["a"]);
  assert.deepEqual(out, [
    ["RPUSH", "q", "a", "b", "c"],
    ["RPOP", "q", "2"],
    ["LMOVE", "q", "d", "left", "right"],
  ]);
  assert.deepEqual(events, ["rpush:q", "rpop:q", "rpush:d", "lpop:q", "del:q"]);
});

test("null forms byte for byte in RESP2 and RESP3", async () => {
  const { port, close } = await startServer();
  const c = await RawConn.connect(port);
  const cases: Array<[string[], string, string]> = [
    [["LPOP", "none"], "$-1\r\n", "_\r\n"],
    [["RPOP", "none", "1"], "*-1\r\n", "_\r\n"],
    [["LPOP", "none", "0"], "*-1\r\n", "_\r\n"],
    [["LINDEX", "none", "0"], "$-1\r\n", "_\r\n"],
    [["LPOS", "none", "a"], "$-1\r\n", "_\r\n"],
    [["LPOS", "none", "a", "COUNT", "1"], "*0\r\n", "*0\r\n"],
    [["LMPOP", "1", "none", "LEFT"], "*-1\r\n", "_\r\n"],
    [["LMOVE", "none", "x", "LEFT", "LEFT"], "$-1\r\n", "_\r\n"],
    [["LRANGE", "none", "0", "-1"], "*0\r\n", "*0\r\n"],
  ];
  try {
    for (const resp3 of [false, true]) {
      if (resp3) {
        c.command("HELLO", "3");
        await new Promise((r) => setTimeout(r, 50));
        await c.read(c.pending.length);
      }
      for (const [argv, two, three] of cases) {
        c.command(...argv);
        const want = resp3 ? three : two;
        assert.equal(await c.expect(want), want, `${argv.join(" ")} in RESP${resp3 ? 3 : 2}`);
      }
    }
    c.command("RPUSH", "l", "x");
    assert.equal(await c.expect(":1\r\n"), ":1\r\n");
    c.command("LPOP", "l", "0");
    assert.equal(await c.expect("*0\r\n"), "*0\r\n");
    c.command("LMPOP", "1", "l", "RIGHT");
    const want = "*2\r\n$1\r\nl\r\n*1\r\n$1\r\nx\r\n";
    assert.equal(await c.expect(want), want);
  } finally {
    c.close();
    await close();
  }
});

test("ioredis and node-redis drive the list commands", async () => {
  const { port, close } = await startServer();
  const io = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
  const nr = createClient({ socket: { port, host: "127.0.0.1" } });
  await io.connect();
  await nr.connect();
  try {
    assert.equal(await io.rpush("q", "a", "b", "c", "d"), 4);
    assert.deepEqual(await io.lrange("q", 0, -1), ["a", "b", "c", "d"]);
    assert.equal(await io.lmove("q", "w", "LEFT", "RIGHT"), "a");
    assert.equal(await io.rpoplpush("q", "w"), "d");
    assert.deepEqual(await io.lpop("q", 5), ["b", "c"]);
    assert.equal(await io.lpop("q"), null);
    assert.deepEqual(await io.lmpop(1, "w", "RIGHT", "COUNT", 1), ["w", ["a"]]);
    assert.equal(await nr.lPush("n", ["1", "2", "3"]), 3);
    assert.equal(await nr.lPos("n", "2"), 1);
    assert.deepEqual(await nr.lPosCount("n", "2", 0), [1]);
    assert.equal(await nr.lInsert("n", "AFTER", "3", "2"), 4);
    assert.equal(await nr.lRem("n", 0, "2"), 2);
    assert.equal(await nr.lLen("n"), 2);
    assert.equal(await nr.lIndex("n", -1), "1");
    assert.equal(await nr.lSet("n", 0, "z"), "OK");
    assert.equal(await nr.lTrim("n", 0, 0), "OK");
    assert.deepEqual(await nr.lRange("n", 0, -1), ["z"]);
    assert.deepEqual(await nr.lmPop(["none", "n"], "LEFT"), ["n", ["z"]]);
    await assert.rejects(nr.lSet("n", 0, "x"), /ERR no such key/);
  } finally {
    io.disconnect();
    await nr.quit();
    await close();
  }
});
