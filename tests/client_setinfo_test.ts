/**
 * Redis 7.2's CLIENT SETINFO and the CLIENT LIST / CLIENT INFO fields of Redis 7.4 (`watch`,
 * `lib-name`, `lib-ver` in its order): exact replies asserted directly and, when the 7.4.1
 * reference build is present, side by side with it (the fields that measure memory, time or
 * addresses left out); ioredis and node-redis naming themselves on connect.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { RawConn, startServer } from "./helpers.ts";
import { pipeline } from "./redis_compare.ts";
import { REFERENCE_74, startReference } from "./reference_redis.ts";

const NO_REF = REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false;

/** The fields of CLIENT LIST / CLIENT INFO in Redis 7.4.1's order. */
const FIELDS_74 = [
  "id",
  "addr",
  "laddr",
  "fd",
  "name",
  "age",
  "idle",
  "flags",
  "db",
  "sub",
  "psub",
  "ssub",
  "multi",
  "watch",
  "qbuf",
  "qbuf-free",
  "argv-mem",
  "multi-mem",
  "rbs",
  "rbp",
  "obl",
  "oll",
  "omem",
  "tot-mem",
  "events",
  "cmd",
  "user",
  "redir",
  "resp",
  "lib-name",
  "lib-ver",
];

/** The fields that depend on the connection, the clock or the allocator, not on the commands. */
const VOLATILE = new Set([
  "id",
  "addr",
  "laddr",
  "fd",
  "age",
  "idle",
  "qbuf",
  "qbuf-free",
  "rbs",
  "rbp",
  "obl",
  "tot-mem",
]);

const ERR_CHARS = (what: string) =>
  `-ERR ${what} cannot contain spaces, newlines or special characters.\r\n`;

/** Each case: a command (`\s` a space, `\n` a newline in an argument) and its raw RESP2 reply. */
const CASES: Array<[string, string]> = [
  ["CLIENT SETINFO lib-name redis-py", "+OK\r\n"],
  ["CLIENT SETINFO LIB-VER 1.2(x)~", "+OK\r\n"],
  ["CLIENT SETINFO lib-name a\\sb", ERR_CHARS("lib-name")],
  ["CLIENT SETINFO lib-ver a\\nb", ERR_CHARS("lib-ver")],
  ["CLIENT SETINFO lib-name \u00e9", ERR_CHARS("lib-name")],
  ["CLIENT SETINFO LIBNAME x", "-ERR Unrecognized option 'LIBNAME'\r\n"],
  ["CLIENT SETINFO lib-ver", "-ERR wrong number of arguments for 'client|setinfo' command\r\n"],
  ["CLIENT SETINFO lib-ver x y", "-ERR wrong number of arguments for 'client|setinfo' command\r\n"],
  [
    "CLIENT SETNAME x\\sy",
    "-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
  ],
  ["CLIENT SETNAME nm", "+OK\r\n"],
  ["CLIENT NO-TOUCH on", "+OK\r\n"],
  ["WATCH x y x", "+OK\r\n"],
  ["CLIENT INFO", ""],
  ["MULTI", "+OK\r\n"],
  ["SET a b", "+QUEUED\r\n"],
  ["WATCH z", "-ERR WATCH inside MULTI is not allowed\r\n"],
  ["DISCARD", "+OK\r\n"],
  ["CLIENT INFO", ""],
  // RESET forgets the name, the flags and the watched keys, not the library.
  ["WATCH x", "+OK\r\n"],
  ["RESET", "+RESET\r\n"],
  ["CLIENT INFO", ""],
  ['CLIENT SETINFO lib-name ""', "+OK\r\n"],
  ["CLIENT SETINFO lib-ver", "-ERR wrong number of arguments for 'client|setinfo' command\r\n"],
  ["CLIENT INFO", ""],
];

const split = (line: string) =>
  line.split(" ").map((a) => a.replaceAll("\\s", " ").replaceAll("\\n", "\n"));

/** The `name=value` pairs of a raw CLIENT INFO reply, volatile values blanked. */
function infoFields(raw: string): Array<[string, string]> {
  const line = raw.slice(raw.indexOf("\r\n") + 2).trimEnd();
  return line.split(" ").map((kv) => {
    const eq = kv.indexOf("=");
    const k = kv.slice(0, eq);
    return [k, VOLATILE.has(k) ? "" : kv.slice(eq + 1)];
  });
}

async function run(port: number): Promise<string[]> {
  const c = await RawConn.connect(port);
  try {
    return await pipeline(c, CASES.map(([cmd]) => split(cmd)));
  } finally {
    c.close();
  }
}

test("CLIENT SETINFO checks its values as Redis 7.2 does and CLIENT INFO shows them", async () => {
  const ours = await startServer();
  try {
    const got = await run(ours.port);
    CASES.forEach(([cmd, want], i) => {
      if (want !== "") assert.equal(got[i], want, cmd);
    });
    const infos = CASES.flatMap(([cmd], i) => cmd === "CLIENT INFO" ? [infoFields(got[i]!)] : []);
    for (const fields of infos) assert.deepEqual(fields.map(([k]) => k), FIELDS_74);
    const pick = (i: number, ...names: string[]) =>
      names.map((n) => infos[i]!.find(([k]) => k === n)![1]).join(" ");
    const names = ["name", "flags", "multi", "watch", "cmd", "lib-name", "lib-ver"];
    assert.equal(pick(0, ...names), "nm T -1 2 client|info redis-py 1.2(x)~");
    assert.equal(pick(1, ...names), "nm T -1 0 client|info redis-py 1.2(x)~");
    assert.equal(pick(2, ...names), " N -1 0 client|info redis-py 1.2(x)~");
    assert.equal(pick(3, "lib-name"), '""');
  } finally {
    await ours.close();
  }
});

test("the same commands side by side with the 7.4.1 reference", { skip: NO_REF }, async () => {
  const ref = await startReference();
  const ours = await startServer();
  try {
    const [want, got] = [await run(ref.port), await run(ours.port)];
    CASES.forEach(([cmd], i) => {
      if (cmd === "CLIENT INFO") {
        assert.deepEqual(infoFields(got[i]!), infoFields(want[i]!), `${cmd} (${i})`);
      } else assert.equal(got[i], want[i], `${cmd} (${i})`);
    });
  } finally {
    ref.stop();
    await ours.close();
  }
});

/** lib-name and lib-ver of every client in a CLIENT LIST, by client name. */
async function libraries(port: number): Promise<Map<string, string>> {
  const admin = new Redis(port, "127.0.0.1", { disableClientInfo: true });
  try {
    const list = (await admin.client("LIST")) as string;
    const out = new Map<string, string>();
    for (const line of list.trim().split("\n")) {
      const f = Object.fromEntries(line.split(" ").map((kv) => kv.split("=")));
      out.set(f.name, `${f["lib-name"]} ${f["lib-ver"]}`);
    }
    return out;
  } finally {
    admin.disconnect();
  }
}

/** Connects ioredis and node-redis (plain and tagged) to `port`; the libraries they reported. */
async function connectClients(port: number): Promise<Map<string, string>> {
  const io = new Redis(port, "127.0.0.1", { connectionName: "io" });
  const ioTagged = new Redis(port, "127.0.0.1", { connectionName: "iot", clientInfoTag: "v1" });
  const url = `redis://127.0.0.1:${port}`;
  const nr = createClient({ url, name: "nr" });
  const nrTagged = createClient({ url, name: "nrt", clientInfoTag: "app_1" });
  try {
    await Promise.all([nr.connect(), nrTagged.connect(), io.ping(), ioTagged.ping()]);
    assert.equal(await io.ping(), "PONG");
    assert.equal(await nr.ping(), "PONG");
    return await libraries(port);
  } finally {
    io.disconnect();
    ioTagged.disconnect();
    await nr.quit();
    await nrTagged.quit();
  }
}

test("ioredis and node-redis send CLIENT SETINFO on connect and it takes", async () => {
  const ours = await startServer();
  const io = JSON.parse(
    await (await import("node:fs/promises")).readFile("node_modules/ioredis/package.json", "utf8"),
  ).version;
  const nr = JSON.parse(
    await (await import("node:fs/promises")).readFile(
      "node_modules/@redis/client/package.json",
      "utf8",
    ),
  ).version;
  try {
    const libs = await connectClients(ours.port);
    assert.equal(libs.get("io"), `ioredis ${io}`);
    assert.equal(libs.get("iot"), `ioredis(v1) ${io}`);
    assert.equal(libs.get("nr"), `node-redis ${nr}`);
    assert.equal(libs.get("nrt"), `node-redis(app_1) ${nr}`);
  } finally {
    await ours.close();
  }
});

test("the clients' SETINFO shows the same on the 7.4.1 reference", { skip: NO_REF }, async () => {
  const ref = await startReference();
  const ours = await startServer();
  try {
    assert.deepEqual(await connectClients(ours.port), await connectClients(ref.port));
  } finally {
    ref.stop();
    await ours.close();
  }
});
