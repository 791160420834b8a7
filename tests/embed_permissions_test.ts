import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer } from "../mod.ts";
import { aofOf } from "../core/persistence/aof.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DENO = join(ROOT, "node_modules/.bin/deno");

/** A directory holding an `appendonlydir/` whose manifest redis-server refuses to start with. */
function badAofDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "redeno-embed-"));
  mkdirSync(join(dir, "appendonlydir"));
  writeFileSync(join(dir, "appendonlydir", "appendonly.aof.manifest"), "garbage line here\n");
  return dir;
}

test("an embedded server with appendonly no ignores a malformed appendonlydir", async () => {
  const dir = badAofDir();
  const server = createServer({ config: { dir } });
  try {
    await server.listen({ port: 0, hostname: "127.0.0.1" });
    server.dispatch(["SET", "k", "v"]);
    assert.equal(server.dispatch(["GET", "k"]), "v");
    assert.equal(aofOf(server).state, "off");
  } finally {
    await server.close();
  }
  // Nothing was written either: the directory holds what the test put there.
  assert.deepEqual(readdirSync(dir).sort(), ["appendonlydir"]);
  assert.deepEqual(readdirSync(join(dir, "appendonlydir")), ["appendonly.aof.manifest"]);
  rmSync(dir, { recursive: true, force: true });
});

test("main.ts, like redis-server, refuses to start on a malformed manifest even with appendonly no", async () => {
  // What main.ts asks for (readManifestWhenOff); checked against redis-server 7.0.15, which
  // stops with "FATAL AOF MANIFEST FILE ERROR".
  const dir = badAofDir();
  const lines: string[] = [];
  const server = createServer({ config: { dir }, log: (line) => lines.push(line) });
  aofOf(server).readManifestWhenOff = true;
  try {
    await assert.rejects(server.listen({ port: 0, hostname: "127.0.0.1" }));
    assert.ok(lines.some((l) => l.includes("FATAL AOF MANIFEST FILE ERROR")), lines.join("\n"));
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("CONFIG SET appendonly yes on an embedded server reads the manifest it skipped at start", async () => {
  const dir = badAofDir();
  const lines: string[] = [];
  const server = createServer({ config: { dir }, log: (line) => lines.push(line) });
  try {
    await server.listen({ port: 0, hostname: "127.0.0.1" });
    server.dispatch(["CONFIG", "SET", "appendonly", "yes"]);
    // The broken manifest is reported and the AOF stays off rather than overwriting the files.
    assert.equal(aofOf(server).state, "off");
    assert.ok(lines.some((l) => l.includes("Invalid AOF manifest file format")), lines.join("\n"));
    assert.deepEqual(readdirSync(join(dir, "appendonlydir")), ["appendonly.aof.manifest"]);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

const EMBED_SCRIPT = `
import { createServer } from ${JSON.stringify(new URL("../mod.ts", import.meta.url).href)};
const server = createServer();
const { port } = await server.listen({ port: 0, hostname: "127.0.0.1" });
const conn = await Deno.connect({ port, hostname: "127.0.0.1" });
await conn.write(new TextEncoder().encode(
  "*3\\r\\n$3\\r\\nSET\\r\\n$1\\r\\nk\\r\\n$2\\r\\nv1\\r\\n*2\\r\\n$3\\r\\nGET\\r\\n$1\\r\\nk\\r\\n" +
    "*2\\r\\n$4\\r\\nINFO\\r\\n$6\\r\\nserver\\r\\n",
));
const buf = new Uint8Array(65536);
let got = "";
for (let i = 0; i < 100 && !got.includes("redeno_version:"); i++) {
  const n = await conn.read(buf);
  if (n === null) break;
  got += new TextDecoder().decode(buf.subarray(0, n));
}
conn.close();
await server.close();
console.log(got.startsWith("+OK\\r\\n$2\\r\\nv1\\r\\n") && got.includes("redeno_version:") ? "served" : got);
`;

test("an embedded server runs under deno run --allow-net alone (no read, write or env)", async () => {
  // Its working directory holds a malformed appendonlydir: even reading it would need --allow-read.
  const dir = badAofDir();
  const script = join(dir, "embed.ts");
  writeFileSync(script, EMBED_SCRIPT);
  const child = spawn(DENO, ["run", "--allow-net", "--no-prompt", script], {
    cwd: dir,
    stdio: "pipe",
    // Deno caches remote modules in DENO_DIR; there are none here, only the local import.
    env: { ...process.env, NO_COLOR: "1" },
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  try {
    const code = await new Promise<number>((r) => child.on("close", (c) => r(c ?? -1)));
    assert.equal(code, 0, `exit ${code}\nstdout: ${out}\nstderr: ${err}`);
    assert.equal(out.trim(), "served", err);
    assert.ok(!existsSync(join(dir, "dump.rdb")));
  } finally {
    clearTimeout(timer);
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});
