/**
 * CLIENT NO-TOUCH (Redis 7.2): the reads of a client in no-touch mode leave a key's LRU/LFU
 * stamp alone, TOUCH still touches, and CLIENT LIST shows the `T` flag. The replies are those of
 * Redis 7.4.1's server.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../mod.ts";
import { RawConn, startServer } from "./helpers.ts";

const OK = "+OK\r\n";

/** Reads one line of reply, CRLF included. */
async function line(c: RawConn): Promise<string> {
  let s = "";
  while (!s.endsWith("\r\n")) s += await c.read(1);
  return s;
}

/** Sends `argv` and returns the integer reply. */
async function int(c: RawConn, ...argv: string[]): Promise<number> {
  c.command(...argv);
  const l = await line(c);
  assert.match(l, /^:-?\d+\r\n$/);
  return Number(l.slice(1, -2));
}

/** CLIENT INFO's line. */
async function clientInfo(c: RawConn): Promise<string> {
  c.command("CLIENT", "INFO");
  const head = await line(c);
  assert.match(head, /^\$\d+\r\n$/);
  return await c.read(Number(head.slice(1, -2)) + 2);
}

test("CLIENT NO-TOUCH ON|OFF answers as Redis, and CLIENT INFO shows the T flag", async () => {
  const { port, close } = await startServer();
  const c = await RawConn.connect(port);
  try {
    c.command("CLIENT", "NO-TOUCH", "on");
    assert.equal(await c.expect(OK), OK);
    assert.match(await clientInfo(c), / flags=T /);
    c.command("CLIENT", "NO-TOUCH", "maybe");
    assert.equal(await c.expect("-ERR syntax error\r\n"), "-ERR syntax error\r\n");
    const arity = "-ERR wrong number of arguments for 'client|no-touch' command\r\n";
    c.command("CLIENT", "NO-TOUCH");
    assert.equal(await c.expect(arity), arity);
    c.command("CLIENT", "NO-TOUCH", "ON", "extra");
    assert.equal(await c.expect(arity), arity);
    c.command("CLIENT", "NO-TOUCH", "OFF");
    assert.equal(await c.expect(OK), OK);
    c.command("CLIENT", "NO-TOUCH", "ON");
    c.command("RESET");
    assert.equal(await c.expect(OK + "+RESET\r\n"), OK + "+RESET\r\n");
    assert.match(await clientInfo(c), / flags=N /);
  } finally {
    c.close();
    await close();
  }
});

test("in no-touch mode reads keep OBJECT IDLETIME; TOUCH and other clients still touch", async () => {
  const clock = new ManualClock(1_700_000_000_000);
  const { port, close } = await startServer({ clock });
  const quiet = await RawConn.connect(port);
  const other = await RawConn.connect(port);
  try {
    quiet.command("CLIENT", "NO-TOUCH", "on");
    quiet.command("SET", "k", "v");
    quiet.command("HSET", "h", "f", "v");
    assert.equal(await quiet.expect(OK + OK + ":1\r\n"), OK + OK + ":1\r\n");
    clock.advance(5_000);
    quiet.command("GET", "k");
    quiet.command("HGET", "h", "f");
    quiet.command("EVAL", "return redis.call('get', KEYS[1])", "1", "k");
    const got = "$1\r\nv\r\n".repeat(3);
    assert.equal(await quiet.expect(got), got);
    assert.equal(await int(quiet, "OBJECT", "IDLETIME", "k"), 5);
    assert.equal(await int(quiet, "OBJECT", "IDLETIME", "h"), 5);
    // Inside MULTI, TOUCH is the command that runs: it touches.
    quiet.command("MULTI");
    quiet.command("GET", "k");
    quiet.command("TOUCH", "h");
    quiet.command("EXEC");
    const exec = OK + "+QUEUED\r\n+QUEUED\r\n*2\r\n$1\r\nv\r\n:1\r\n";
    assert.equal(await quiet.expect(exec), exec);
    assert.equal(await int(quiet, "OBJECT", "IDLETIME", "k"), 5);
    assert.equal(await int(quiet, "OBJECT", "IDLETIME", "h"), 0);
    // In a script the command is EVAL's: a TOUCH there does not touch (Redis 7.4.1 alike).
    assert.equal(await int(quiet, "EVAL", "return redis.call('touch', KEYS[1])", "1", "k"), 1);
    assert.equal(await int(quiet, "OBJECT", "IDLETIME", "k"), 5);
    assert.equal(await int(quiet, "TOUCH", "k"), 1);
    assert.equal(await int(quiet, "OBJECT", "IDLETIME", "k"), 0);
    clock.advance(3_000);
    other.command("GET", "k");
    assert.equal(await other.expect("$1\r\nv\r\n"), "$1\r\nv\r\n");
    assert.equal(await int(quiet, "OBJECT", "IDLETIME", "k"), 0);
    clock.advance(2_000);
    quiet.command("CLIENT", "NO-TOUCH", "off");
    quiet.command("GET", "k");
    assert.equal(await quiet.expect(OK + "$1\r\nv\r\n"), OK + "$1\r\nv\r\n");
    assert.equal(await int(quiet, "OBJECT", "IDLETIME", "k"), 0);
  } finally {
    quiet.close();
    other.close();
    await close();
  }
});

test("in no-touch mode reads keep an LFU counter", async () => {
  const { port, close } = await startServer({ config: { "maxmemory-policy": "allkeys-lfu" } });
  const c = await RawConn.connect(port);
  try {
    c.command("SET", "k", "v");
    assert.equal(await c.expect(OK), OK);
    // A new key starts at Redis's LFU_INIT_VAL (5); its first access counts.
    assert.equal(await int(c, "OBJECT", "FREQ", "k"), 5);
    c.command("CLIENT", "NO-TOUCH", "on");
    c.command("GET", "k");
    assert.equal(await c.expect(OK + "$1\r\nv\r\n"), OK + "$1\r\nv\r\n");
    assert.equal(await int(c, "OBJECT", "FREQ", "k"), 5);
    c.command("CLIENT", "NO-TOUCH", "off");
    c.command("GET", "k");
    assert.equal(await c.expect(OK + "$1\r\nv\r\n"), OK + "$1\r\nv\r\n");
    assert.equal(await int(c, "OBJECT", "FREQ", "k"), 6);
  } finally {
    c.close();
    await close();
  }
});
