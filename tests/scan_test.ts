import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { createServer, ErrorReply, ManualClock } from "../mod.ts";
import type { Reply, Server, TypedValue } from "../mod.ts";
import { RawConn, redisCli, startServer } from "./helpers.ts";
import { missing } from "./redis_tools.ts";

class Bag implements TypedValue {
  readonly type = "list";
  encoding(): string {
    return "quicklist";
  }
  clone(): Bag {
    return new Bag();
  }
}

function scanAll(server: Server, extra: string[] = [], between?: () => void): string[] {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = server.dispatch(["SCAN", cursor, ...extra]) as [string, string[]];
    keys.push(...batch);
    cursor = next;
    between?.();
  } while (cursor !== "0");
  return keys;
}

/** A deterministic generator, so a failure can be replayed. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

test("a full SCAN of a quiet database returns every key exactly once", () => {
  const server = createServer();
  for (let i = 0; i < 1000; i++) server.dispatch(["SET", `key:${i}`, "v"]);
  const keys = scanAll(server, ["COUNT", "7"]);
  assert.equal(keys.length, 1000);
  assert.equal(new Set(keys).size, 1000);
});

test("SCAN returns every key present for the whole scan despite deletes and inserts", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const server = createServer();
    const rand = lcg(seed);
    const stable = new Set<string>();
    const churn: string[] = [];
    // Interleave stable and churn keys so deletions move stable keys around.
    for (let i = 0; i < 600; i++) {
      server.dispatch(["SET", `stable:${i}`, "v"]);
      stable.add(`stable:${i}`);
      server.dispatch(["SET", `churn:${i}`, "v"]);
      churn.push(`churn:${i}`);
    }
    let added = 0;
    const seen = scanAll(server, ["COUNT", String(1 + Math.floor(rand() * 20))], () => {
      for (let j = 0; j < 8 && churn.length > 0; j++) {
        const at = Math.floor(rand() * churn.length);
        server.dispatch(["DEL", churn[at]!]);
        churn[at] = churn[churn.length - 1]!;
        churn.pop();
      }
      for (let j = 0; j < 6; j++) {
        const key = `new:${added++}`;
        server.dispatch(["SET", key, "v"]);
        churn.push(key);
      }
    });
    const got = new Set(seen);
    const missing = [...stable].filter((k) => !got.has(k));
    assert.deepEqual(missing, [], `seed ${seed}`);
  }
});

test("SCAN COUNT, MATCH and TYPE filter like Redis", () => {
  const server = createServer();
  for (let i = 0; i < 300; i++) server.dispatch(["SET", `key:${i}`, "v"]);
  server.dbs[0]!.add("mylist", new Bag());
  const [, first] = server.dispatch(["SCAN", "0", "COUNT", "25"]) as [string, string[]];
  assert.equal(first.length, 25);
  assert.equal(scanAll(server, ["MATCH", "key:1??"]).length, 100);
  assert.deepEqual(scanAll(server, ["TYPE", "list"]), ["mylist"]);
  assert.deepEqual(scanAll(server, ["type", "LIST", "count", "1000"]), ["mylist"]);
  assert.equal(scanAll(server, ["TYPE", "string", "MATCH", "key:*", "COUNT", "10"]).length, 300);
  assert.equal(scanAll(server, ["TYPE", "hash"]).length, 0);
  assert.equal(scanAll(server, ["MATCH", "*"]).length, 301);
});

test("SCAN skips expired keys and reclaims them", () => {
  const clock = new ManualClock(1_700_000_000_000);
  const server = createServer({ clock });
  const prop: string[][] = [];
  server.on("propagate", (_db, argv) => prop.push(argv));
  server.dispatch(["SET", "live", "v"]);
  server.dispatch(["SET", "gone", "v", "PX", "10"]);
  clock.advance(10);
  prop.length = 0;
  assert.deepEqual(scanAll(server, ["COUNT", "100"]), ["live"]);
  assert.equal(server.dispatch(["DBSIZE"]), 1);
  assert.deepEqual(prop, [["DEL", "gone"]]);
});

test("SCAN cursor and option errors match Redis", () => {
  const server = createServer();
  server.dispatch(["SET", "k", "v"]);
  const err = (...argv: string[]): string => {
    const r: Reply = server.dispatch(argv);
    assert.ok(r instanceof ErrorReply, `${argv.join(" ")}: ${JSON.stringify(r)}`);
    return r.message;
  };
  // Redis 7.4's string2ull: no empty cursor, no "-1" (a long long), nothing after the digits.
  for (const bad of ["", "-1", "1 ", "1x", "x", "-", "18446744073709551616"]) {
    assert.equal(err("SCAN", bad), "ERR invalid cursor", JSON.stringify(bad));
  }
  // Leading blanks and a sign pass; a negative past a long long wraps.
  for (const ok of [" 1", "+0", "-0", "007", "18446744073709551615", "-18446744073709551615"]) {
    assert.ok(Array.isArray(server.dispatch(["SCAN", ok])), JSON.stringify(ok));
  }
  assert.deepEqual(server.dispatch(["SCAN", " 0"]), ["0", ["k"]]);
  assert.equal(err("SCAN", "0", "COUNT", "0"), "ERR syntax error");
  assert.equal(err("SCAN", "0", "COUNT", "x"), "ERR value is not an integer or out of range");
  assert.equal(err("SCAN", "0", "MATCH"), "ERR syntax error");
  assert.equal(err("SCAN", "0", "TYPE"), "ERR syntax error");
  assert.equal(err("SCAN", "0", "FOO", "bar"), "ERR syntax error");
});

test("SCAN replies byte for byte on the wire", async () => {
  const { port, close } = await startServer();
  const c = await RawConn.connect(port);
  try {
    c.command("SCAN", "0");
    assert.equal(await c.expect("*2\r\n$1\r\n0\r\n*0\r\n"), "*2\r\n$1\r\n0\r\n*0\r\n");
    c.command("SET", "k\x00\xff", "v");
    await c.expect("+OK\r\n");
    c.command("SCAN", "0");
    const want = "*2\r\n$1\r\n0\r\n*1\r\n$3\r\nk\x00\xff\r\n";
    assert.equal(await c.expect(want), want);
  } finally {
    c.close();
    await close();
  }
});

test("redis-cli --scan, ioredis scanStream and node-redis scanIterator see every key", {
  skip: missing("redis-cli"),
}, async () => {
  const { server, port, close } = await startServer();
  for (let i = 0; i < 500; i++) server.dispatch(["SET", `key:${i}`, "v"]);
  server.dbs[0]!.add("alist", new Bag());
  const r = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
  await r.connect();
  const nr = createClient({ socket: { port, host: "127.0.0.1" } });
  await nr.connect();
  try {
    const cli = await redisCli(port, ["--scan", "--pattern", "key:1*"]);
    assert.equal(cli.code, 0, cli.stderr);
    const expected = 1 + 10 + 100; // key:1, key:10..19, key:100..199
    assert.equal(new Set(cli.stdout.trim().split("\n")).size, expected);

    const viaStream = new Set<string>();
    for await (const batch of r.scanStream({ count: 13 })) {
      for (const k of batch as string[]) viaStream.add(k);
    }
    assert.equal(viaStream.size, 501);

    const lists: string[] = [];
    for await (const batch of nr.scanIterator({ TYPE: "list", COUNT: 50 })) lists.push(...batch);
    assert.deepEqual(lists, ["alist"]);
  } finally {
    r.disconnect();
    await nr.quit();
    await close();
  }
});
