import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { argsToLines, parseConfigLines } from "../core/cli.ts";
import { redisCli } from "./helpers.ts";
import { freePort } from "./replication_helpers.ts";
import { missing } from "./redis_tools.ts";
import { scratchDir } from "./scratch.ts";

test("command-line flags become config lines like redis-server's", () => {
  assert.deepEqual(argsToLines(["--port", "6380", "--save", "", "--bind", "127.0.0.1", "::1"]), [
    'port "6380"',
    'save ""',
    'bind "127.0.0.1" "::1"',
  ]);
  // As redis-server 7.0: the argument after an option name alone is its value, `--` or not;
  // an option may carry its value; `--save` without one is `save ""`.
  assert.deepEqual(argsToLines(["--port", "--bla", "--maxmemory 1mb", "--save", "--x", "y"]), [
    'port "--bla"',
    "maxmemory 1mb",
    'save ""',
    'x "y"',
  ]);
  const ok = parseConfigLines([
    "# c",
    "port 6380",
    "save 900 1",
    "save 300 10",
    'requirepass "a b"',
  ]);
  assert.equal(ok.error, undefined);
  assert.deepEqual(ok.config.save, ["900", "1", "300", "10"]);
  assert.deepEqual(ok.config.requirepass, ["a b"]);
});

test("an unknown directive is a fatal error naming the line", () => {
  const bad = parseConfigLines(["port 6380", "", "frobnicate yes"]);
  assert.match(bad.error!, /FATAL CONFIG FILE ERROR/);
  assert.match(
    bad.error!,
    /at line 3\n>>> 'frobnicate yes'\nBad directive or wrong number of arguments/,
  );
  const badValue = parseConfigLines(["maxmemory lots"]);
  assert.match(badValue.error!, /argument must be a memory value/);
});

test("main.ts starts from a config file and shuts down on SHUTDOWN", {
  skip: missing("redis-cli"),
}, async () => {
  const dir = scratchDir("redeno-cli-");
  const port = await freePort();
  const conf = join(dir, "redis.conf");
  writeFileSync(conf, `port ${port}\nbind 127.0.0.1\nrequirepass pw\n`);
  const child = spawn("node_modules/.bin/tsx", ["main.ts", conf], { stdio: "pipe" });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  const exited = new Promise<number>((r) => child.on("close", (code) => r(code ?? -1)));
  try {
    for (let i = 0; i < 100 && !out.includes("Ready to accept connections"); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(out, /Ready to accept connections/);
    const ping = await redisCli(port, ["-a", "pw", "--no-auth-warning", "PING"]);
    assert.equal(ping.stdout.trim(), "PONG");
    await redisCli(port, ["-a", "pw", "--no-auth-warning", "SHUTDOWN", "NOSAVE"]);
    assert.equal(await exited, 0);
  } finally {
    child.kill("SIGKILL");
  }
});

test("main.ts refuses a bad flag with the fatal report and exit code 1", async () => {
  const child = spawn("node_modules/.bin/tsx", ["main.ts", "--nosuch", "1"], { stdio: "pipe" });
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  const code = await new Promise<number>((r) => child.on("close", (c) => r(c ?? -1)));
  assert.equal(code, 1);
  // Quoted as redis-server shows a value given on the command line.
  assert.match(err, />>> 'nosuch "1"'/);
});
