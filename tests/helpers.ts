/**
 * Test helpers: start a server on a free port, talk raw RESP bytes to it, run redis-cli.
 *
 * @module
 */

import { spawn } from "node:child_process";
import * as net from "node:net";
import assert from "node:assert/strict";
import { createServer, ErrorReply, NotifyClass } from "../mod.ts";
import type { Server, ServerOptions } from "../mod.ts";

/** A server listening on 127.0.0.1 and a free port. */
export interface Running {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** Starts a server on a free port of 127.0.0.1. */
export async function startServer(options: ServerOptions = {}): Promise<Running> {
  const server = createServer(options);
  const { port } = await server.listen({ port: 0, hostname: "127.0.0.1" });
  return { server, port, close: () => server.close() };
}

/** A raw TCP connection that sends bytes and reads back exact replies. */
export class RawConn {
  private buf = "";
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => {
      this.buf += d;
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    socket.on("error", () => {});
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Connects to 127.0.0.1:port. */
  static connect(port: number): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: "127.0.0.1" }, () => resolve(new RawConn(s)));
      s.once("error", reject);
    });
  }

  /** Sends raw bytes (a latin1 string). */
  send(data: string): void {
    this.socket.write(Buffer.from(data, "latin1"));
  }

  /** Sends a command as a RESP array. */
  command(...argv: string[]): void {
    this.send(encodeCommand(argv));
  }

  /** Waits until exactly `n` bytes are buffered (or more) and returns the first `n`. */
  async read(n: number, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.buf.length < n) {
      if (this.closed) break;
      if (Date.now() > deadline) {
        throw new Error(`Timed out waiting for ${n} bytes, have ${JSON.stringify(this.buf)}`);
      }
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
    const out = this.buf.slice(0, n);
    this.buf = this.buf.slice(n);
    return out;
  }

  /** Reads exactly the bytes of `expected` and returns them (compare with assert.equal). */
  expect(expected: string, timeoutMs = 5000): Promise<string> {
    return this.read(expected.length, timeoutMs);
  }

  /** Waits for the peer to close; true if it did within the timeout. */
  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return this.closed;
  }

  /** Everything received and not yet read. */
  get pending(): string {
    return this.buf;
  }

  /** Closes the connection. */
  close(): void {
    this.socket.destroy();
  }
}

/** Encodes argv as a RESP array of bulk strings. */
export function encodeCommand(argv: string[]): string {
  let s = `*${argv.length}\r\n`;
  for (const a of argv) s += `$${Buffer.byteLength(a, "latin1")}\r\n${a}\r\n`;
  return s;
}

/** Runs redis-cli with `args` against `port`; resolves with stdout (and exit code). */
export function redisCli(
  port: number,
  args: string[],
  input?: string,
): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn("redis-cli", ["-p", String(port), ...args], { stdio: "pipe" });
    let stdout = "";
    let stderr = "";
    p.stdout.setEncoding("latin1").on("data", (d: string) => (stdout += d));
    p.stderr.setEncoding("latin1").on("data", (d: string) => (stderr += d));
    p.on("error", reject);
    p.on("close", (code) => resolve({ stdout, stderr, code: code ?? -1 }));
    if (input !== undefined) p.stdin.end(Buffer.from(input, "latin1"));
    else p.stdin.end();
  });
}

/** The message of an error reply; fails the test when `r` is not an error. */
export function errorText(r: unknown): string {
  assert.ok(r instanceof ErrorReply, `expected an error, got ${String(r)}`);
  return r.message;
}

/** Switches a raw connection to RESP3 and drops HELLO's reply. */
export async function hello3(c: RawConn): Promise<void> {
  c.command("HELLO", "3");
  c.command("PING");
  for (let i = 0; i < 100 && !c.pending.endsWith("+PONG\r\n"); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  await c.read(c.pending.length);
}

/** Every write's effects, as the propagate hook sees them, from now on. */
export function recordEffects(server: Server): string[][] {
  const out: string[][] = [];
  server.on("propagate", (_db, argv) => out.push(argv));
  return out;
}

/** Keyspace events of the writes from now on (key misses left out), as `event:key`. */
export function recordEvents(server: Server): string[] {
  const out: string[] = [];
  server.on("keyspaceEvent", (_db, type, event, key) => {
    if (type !== NotifyClass.keyMiss) out.push(`${event}:${key}`);
  });
  return out;
}

/**
 * Lua that reads every key of every database into one line each (type, value in a stable
 * order, whether it has a TTL), the same way on any server: for comparing datasets.
 */
export const DATASET_LUA = `
local out = {}
for db = 0, 15 do
  redis.call('SELECT', db)
  local keys = redis.call('KEYS', '*')
  table.sort(keys)
  for _, k in ipairs(keys) do
    local t = redis.call('TYPE', k).ok
    local v
    if t == 'string' then v = {redis.call('GET', k)}
    elseif t == 'list' then v = redis.call('LRANGE', k, 0, -1)
    elseif t == 'set' then v = redis.call('SMEMBERS', k); table.sort(v)
    elseif t == 'zset' then v = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES')
    elseif t == 'stream' then
      v = {}
      for _, e in ipairs(redis.call('XRANGE', k, '-', '+')) do
        v[#v + 1] = e[1] .. '=' .. table.concat(e[2], '|')
      end
    else v = redis.call('HGETALL', k) end
    if t == 'hash' then
      local p = {}
      for i = 1, #v, 2 do p[#p + 1] = v[i] .. '=' .. v[i + 1] end
      table.sort(p)
      v = p
    end
    local ttl = redis.call('PTTL', k) > 0 and 'ttl' or ''
    out[#out + 1] = db .. ':' .. k .. ':' .. t .. ':' .. table.concat(v, ',') .. ':' .. ttl
  end
end
return out
`;

/** Starts a process and waits for `ready` in its output; returns it and its output so far. */
export async function startProcess(
  cmd: string,
  args: string[],
  ready: string,
): Promise<{ kill(signal?: NodeJS.Signals): Promise<void>; output: () => string }> {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (out += d));
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  await Promise.race([
    until(() => out.includes(ready), `${cmd} to start`, 20000),
    exited.then(() => {
      throw new Error(`${cmd} exited: ${out}`);
    }),
  ]);
  return {
    kill: async (signal = "SIGTERM") => {
      child.kill(signal);
      await exited;
    },
    output: () => out,
  };
}

/** Resolves once `cond` holds, polling every 10 ms; rejects after `ms`. */
async function until(cond: () => boolean, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
