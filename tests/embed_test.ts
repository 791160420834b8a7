import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, definePlugin, ErrorReply, ManualClock, SimpleString } from "../mod.ts";
import { RawConn } from "./helpers.ts";

test("a plugin registers a command that works in process and over a socket", async () => {
  const counter = definePlugin({
    name: "counter",
    setup(server) {
      server.registerCommand({
        name: "counter.bump",
        arity: 2,
        flags: ["write", "fast"],
        keys: { first: 1, last: 1, step: 1 },
        execute(client, argv) {
          const cur = Number(client.db.getString(argv[1]!) ?? "0") + 1;
          client.db.set(argv[1]!, String(cur));
          client.server.dirty++;
          return cur;
        },
      });
    },
  });
  const server = createServer({ plugins: [counter] });
  assert.equal(server.dispatch(["COUNTER.BUMP", "c"]), 1);
  assert.equal(server.dispatch(["counter.bump", "c"]), 2);
  const { port } = await server.listen({ port: 0, hostname: "127.0.0.1" });
  const conn = await RawConn.connect(port);
  try {
    conn.command("COUNTER.BUMP", "c");
    assert.equal(await conn.expect(":3\r\n"), ":3\r\n");
  } finally {
    conn.close();
    await server.close();
  }
});

test("registration refuses duplicate names, missing dependencies and late plugins", async () => {
  const dup = definePlugin({
    name: "dup",
    setup(server) {
      server.registerCommand({ name: "get", arity: 2, execute: () => null });
    },
  });
  assert.throws(() => createServer({ plugins: [dup] }), /Command already registered: get/);
  const needy = definePlugin({ name: "needy", dependencies: ["base"], setup() {} });
  assert.throws(() => createServer({ plugins: [needy] }), /depends on missing plugin: base/);
  const server = createServer();
  await server.listen({ port: 0, hostname: "127.0.0.1" });
  try {
    assert.throws(() => server.use(definePlugin({ name: "late", setup() {} })), /after listen/);
  } finally {
    await server.close();
  }
});

test("writes reach the propagate hook as deterministic effects", () => {
  const clock = new ManualClock(1_700_000_000_000);
  const server = createServer({ clock });
  const seen: string[][] = [];
  server.on("propagate", (_db, argv) => seen.push(argv));
  server.dispatch(["SET", "a", "1", "EX", "10"]);
  server.dispatch(["GET", "a"]);
  server.dispatch(["SET", "b", "2"]);
  assert.deepEqual(seen, [
    ["SET", "a", "1", "PXAT", String(1_700_000_010_000)],
    ["SET", "b", "2"],
  ]);
  clock.advance(10_001);
  assert.equal(server.dispatch(["GET", "a"]), null);
  assert.deepEqual(seen.at(-1), ["DEL", "a"]);
});

test("errors come back as ErrorReply values and sessions keep their own state", () => {
  const server = createServer();
  const a = server.session();
  const b = server.session();
  a.call("SELECT", "1");
  a.call("SET", "k", "in-db-1");
  assert.equal(b.call("GET", "k"), null);
  assert.equal(a.call("GET", "k"), "in-db-1");
  assert.deepEqual(
    a.call("SET", "k"),
    new ErrorReply("ERR wrong number of arguments for 'set' command"),
  );
  assert.deepEqual(b.call("PING"), new SimpleString("PONG"));
});

test("expired keys met by SCAN propagate as plain DELs, not wrapped in MULTI", () => {
  const clock = new ManualClock(1_700_000_000_000);
  const server = createServer({ clock });
  server.dispatch(["SET", "a", "1", "PX", "10"]);
  server.dispatch(["SET", "b", "2", "PX", "10"]);
  const seen: string[][] = [];
  server.on("propagate", (_db, argv) => seen.push(argv));
  clock.advance(20);
  server.dispatch(["SCAN", "0", "COUNT", "100"]);
  assert.deepEqual(seen.map((a) => a[0]).sort(), ["DEL", "DEL"]);
  assert.equal(server.dispatch(["RANDOMKEY"]), null);
});
