/**
 * The published packages, as a user gets them. npm: build and `npm pack`, check the tarball with
 * publint and arethetypeswrong, install it offline into a fresh project, then run the `redeno`
 * command, an ESM program importing `redeno` and `redeno/plugins/groups`, a consumer's type
 * check, and the testing helper from `node --test` and from `deno test`. JSR: `deno publish
 * --dry-run` (slow types) and `deno doc --lint` on every entry point.
 *
 * It takes tens of seconds, so it runs once per `npm test`: on Node (the suite runs on Deno first,
 * where it is skipped).
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { REDENO_VERSION } from "../core/version.ts";
import { RawConn, redisCli } from "./helpers.ts";
import { freePort } from "./replication_helpers.ts";
import { missing } from "./redis_tools.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "node_modules", ".bin");
const ON_DENO = "Deno" in globalThis;
const ON_NODE_ONLY = "runs once per npm test, on Node";
// Deno's node:test shows a skipped test as "ignored" without its reason: say it once here.
if (ON_DENO) {
  console.log(`tests/package_test.ts: the package tests are skipped here (each ${ON_NODE_ONLY})`);
}
const ENTRY_POINTS = [
  "mod.ts",
  "plugins/groups/mod.ts",
  "replication/mod.ts",
  "testing.ts",
  "main.ts",
];

/** Our environment for child programs, less node:test's marker (a nested `node --test` would
 * then report to us in its internal format instead of printing TAP). */
function childEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    PATH: `${BIN}:${process.env.PATH}`,
    DENO_NO_UPDATE_CHECK: "1",
  };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end (killed after `timeoutMs`) and gives its exit code and output. */
function run(cmd: string, args: string[], cwd: string, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    const env = childEnv();
    execFile(
      cmd,
      args,
      { cwd, env, timeout: timeoutMs, maxBuffer: 16 << 20 },
      (err, out, errOut) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        resolve({ code, stdout: String(out), stderr: String(errOut) });
      },
    );
  });
}

/** Asserts a run succeeded, showing its output when it did not. */
function ok(r: Run, what: string): void {
  assert.equal(r.code, 0, `${what} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
}

/** Starts a long-running program and resolves once `ready` appears in its stdout. */
function startUntil(
  cmd: string,
  args: string[],
  cwd: string,
  ready: RegExp,
): Promise<{ proc: ReturnType<typeof spawn>; match: RegExpMatchArray }> {
  return new Promise((resolve, reject) => {
    const env = childEnv();
    const proc = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`${cmd} ${args.join(" ")} not ready in 20 s:\n${out}`));
    }, 20_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const match = out.match(ready);
      if (!match) return;
      clearTimeout(timer);
      resolve({ proc, match });
    };
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", onData);
    proc.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited (${code}) before it was ready:\n${out}`));
    });
  });
}

/** Resolves with the exit code once `proc` exits; kills it if it has not within `ms`. */
function exited(proc: ReturnType<typeof spawn>, ms = 10_000): Promise<number | null> {
  if (proc.exitCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => proc.kill("SIGKILL"), ms);
    proc.on("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

const EMBED_MJS = `import { createServer } from "redeno";
import { groups } from "redeno/plugins/groups";

const server = createServer({ plugins: [groups()] });
const { port } = await server.listen({ port: 0, hostname: "127.0.0.1" });
console.log("listening on " + port);
process.on("SIGTERM", () => server.close().then(() => process.exit(0)));
`;

const CONSUMER_TS = `import { createServer, type Server } from "redeno";
import { groups } from "redeno/plugins/groups";
import { replication } from "redeno/replication";
import { startTestServer, type TestServer } from "redeno/testing";

const server: Server = createServer({ plugins: [groups(), replication()] });
const redis: TestServer = await startTestServer();
console.log(server.dispatch(["PING"]), redis.url);
`;

const NODE_TEST_MJS = `import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { startTestServer } from "redeno/testing";

test("the testing helper answers PING over a socket", async () => {
  const redis = await startTestServer();
  try {
    const reply = await new Promise((resolve, reject) => {
      const socket = connect(redis.port, redis.hostname, () => socket.write("PING\\r\\n"));
      socket.once("data", (d) => { resolve(d.toString()); socket.destroy(); });
      socket.once("error", reject);
    });
    assert.equal(reply, "+PONG\\r\\n");
    assert.equal(redis.url, "redis://127.0.0.1:" + redis.port);
  } finally {
    await redis[Symbol.asyncDispose]();
  }
});
`;

const DENO_TEST_TS = `import { startTestServer } from "redeno/testing";

Deno.test("the testing helper answers PING over a socket, and await using closes it", async () => {
  let port = 0;
  {
    await using redis = await startTestServer();
    port = redis.port;
    const conn = await Deno.connect({ hostname: redis.hostname, port });
    await conn.write(new TextEncoder().encode("PING\\r\\n"));
    const buf = new Uint8Array(16);
    const n = await conn.read(buf);
    conn.close();
    const reply = new TextDecoder().decode(buf.subarray(0, n ?? 0));
    if (reply !== "+PONG\\r\\n") throw new Error("expected +PONG, got " + JSON.stringify(reply));
  }
  const refused = await Deno.connect({ hostname: "127.0.0.1", port }).then((c) => {
    c.close();
    return false;
  }, () => true);
  if (!refused) throw new Error("the server still accepts connections after await using");
});
`;

test("deno.json, package.json and core/version.ts give one version", () => {
  const deno = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8"));
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  assert.equal(deno.version, REDENO_VERSION);
  assert.equal(pkg.version, REDENO_VERSION);
});

test("the JSR package: deno publish --dry-run and deno doc --lint on every entry point", {
  skip: ON_DENO ? ON_NODE_ONLY : false,
  timeout: 90_000,
}, async () => {
  const [publish, doc] = await Promise.all([
    run(join(BIN, "deno"), ["publish", "--dry-run", "--allow-dirty"], ROOT),
    run(join(BIN, "deno"), ["doc", "--lint", ...ENTRY_POINTS], ROOT),
  ]);
  ok(publish, "deno publish --dry-run");
  ok(doc, "deno doc --lint");
});

test("the npm package installs offline and works on Node and on Deno", {
  skip: ON_DENO ? ON_NODE_ONLY : false,
  timeout: 120_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "redeno-pack-"));
  try {
    const packed = await run("npm", ["pack", "--pack-destination", dir], ROOT, 90_000);
    ok(packed, "npm pack");
    const tarball = join(dir, `redeno-${REDENO_VERSION}.tgz`);
    const app = join(dir, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), `{"name":"app","private":true,"type":"module"}\n`);
    // The package has no runtime dependencies, so it installs without the registry.
    ok(
      await run("npm", ["install", "--offline", "--no-audit", "--no-fund", tarball], app),
      "npm install",
    );

    await t.test("publint and arethetypeswrong accept the tarball", async () => {
      const [lint, types] = await Promise.all([
        run(join(BIN, "publint"), ["run", "--strict", tarball], ROOT),
        // ESM only: node10 and require() from CommonJS cannot load it, by design.
        run(join(BIN, "attw"), ["--profile", "esm-only", tarball], ROOT),
      ]);
      ok(lint, "publint");
      ok(types, "attw");
    });

    await t.test("npx redeno --version prints the version", async () => {
      const r = await run("npx", ["--offline", "redeno", "--version"], app);
      ok(r, "redeno --version");
      assert.match(r.stdout, new RegExp(`\\bv=${REDENO_VERSION.replaceAll(".", "\\.")}\\b`));
    });

    await t.test("npx redeno serves redis-cli and stops on SHUTDOWN", {
      skip: missing("redis-cli"),
    }, async () => {
      const port = await freePort();
      const { proc } = await startUntil(
        "npx",
        ["--offline", "redeno", "--port", String(port), "--save", ""],
        app,
        /Ready to accept connections/,
      );
      try {
        assert.equal((await redisCli(port, ["PING"])).stdout, "PONG\n");
        await redisCli(port, ["SHUTDOWN", "NOSAVE"]);
        assert.equal(await exited(proc), 0);
      } finally {
        proc.kill("SIGKILL");
      }
    });

    await t.test("an ESM program embeds redeno with the groups plugin", async () => {
      writeFileSync(join(app, "embed.mjs"), EMBED_MJS);
      const { proc, match } = await startUntil("node", ["embed.mjs"], app, /listening on (\d+)/);
      const conn = await RawConn.connect(Number(match[1]));
      try {
        conn.command("GROUP.CREATE", "room", "2");
        assert.equal(await conn.expect("+OK\r\n"), "+OK\r\n");
        conn.command("GROUP.JOIN", "room", "alice");
        assert.equal(await conn.expect(":1\r\n"), ":1\r\n");
        // lua.wasm shipped next to the built lua_vm.js.
        conn.command("EVAL", "return 1 + 1", "0");
        assert.equal(await conn.expect(":2\r\n"), ":2\r\n");
      } finally {
        conn.close();
        proc.kill("SIGTERM");
        await exited(proc);
      }
    });

    await t.test("a TypeScript consumer type-checks against the .d.ts files", async () => {
      writeFileSync(join(app, "consumer.ts"), CONSUMER_TS);
      const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
      const types = join(ROOT, "node_modules", "@types");
      const r = await run("node", [
        tsc,
        ...["--noEmit", "--strict", "--skipLibCheck", "false", "--target", "es2022"],
        ...["--module", "nodenext", "--moduleResolution", "nodenext", "--lib", "es2023"],
        ...["--typeRoots", types, "--types", "node", "consumer.ts"],
      ], app);
      ok(r, "tsc on a consumer");
    });

    await t.test("the testing helper runs under node --test", async () => {
      writeFileSync(join(app, "helper_test.mjs"), NODE_TEST_MJS);
      const r = await run("node", ["--test", "helper_test.mjs"], app);
      ok(r, "node --test");
      assert.match(r.stdout, /# pass 1/);
    });

    await t.test("the testing helper runs under deno test, with await using", async () => {
      writeFileSync(join(app, "deno.json"), `{ "nodeModulesDir": "manual" }\n`);
      writeFileSync(join(app, "helper_test.ts"), DENO_TEST_TS);
      const r = await run(join(BIN, "deno"), ["test", "-A", "helper_test.ts"], app);
      ok(r, "deno test");
      assert.match(r.stdout, /1 passed/);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
