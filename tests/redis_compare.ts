/**
 * Side-by-side comparison with a real redis-server: start one on a free port, send the same
 * pipelined commands to it and to redeno, and compare the raw reply bytes. Whether a test runs
 * without redis-server is decided in redis_tools.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeCommand, RawConn, startServer } from "./helpers.ts";
import { freePort } from "./replication_helpers.ts";
import type { ServerOptions } from "../mod.ts";

/** Index just past the RESP value starting at `pos`, or -1 when it is incomplete. */
export function replyEnd(buf: string, pos: number): number {
  const eol = buf.indexOf("\r\n", pos);
  if (eol < 0) return -1;
  const type = buf[pos];
  const head = buf.slice(pos + 1, eol);
  const after = eol + 2;
  switch (type) {
    case "$":
    case "=":
    case "!": {
      const n = Number(head);
      if (n < 0) return after;
      return buf.length >= after + n + 2 ? after + n + 2 : -1;
    }
    case "*":
    case "~":
    case ">":
    case "%": {
      let n = Number(head);
      if (n < 0) return after;
      if (type === "%") n *= 2;
      let p = after;
      for (let i = 0; i < n; i++) {
        p = replyEnd(buf, p);
        if (p < 0) return -1;
      }
      return p;
    }
    default:
      return after;
  }
}

/** An aggregate reply with its elements (or map pairs) sorted, for order-free comparison. */
export function sortedReply(raw: string): string {
  const eol = raw.indexOf("\r\n");
  const type = raw[0];
  if (type !== "*" && type !== "~" && type !== "%") return raw;
  const n = Number(raw.slice(1, eol)) * (type === "%" ? 2 : 1);
  const items: string[] = [];
  let p = eol + 2;
  for (let i = 0; i < n; i++) {
    const end = replyEnd(raw, p);
    items.push(raw.slice(p, end));
    p = end;
  }
  const units: string[] = [];
  for (let i = 0; i < items.length; i += type === "%" ? 2 : 1) {
    units.push(type === "%" ? items[i]! + items[i + 1]! : items[i]!);
  }
  return raw.slice(0, eol + 2) + units.sort().join("");
}

/** Sends every command at once (pipelined) and returns the raw bytes of each reply. */
export async function pipeline(conn: RawConn, cases: string[][]): Promise<string[]> {
  conn.send(cases.map(encodeCommand).join(""));
  const replies: string[] = [];
  const deadline = Date.now() + 20000;
  while (replies.length < cases.length) {
    const end = replyEnd(conn.pending, 0);
    if (end > 0) {
      replies.push(await conn.read(end));
      continue;
    }
    if (Date.now() > deadline) throw new Error(`No reply to ${cases[replies.length]!.join(" ")}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return replies;
}

/**
 * Starts redis-server on a port the system just found free (not a fixed range: other servers on
 * this machine, such as Tcl suite runs, take ports there); retries when it was taken meanwhile.
 */
export async function startRedis(
  extra: string[] = [],
): Promise<{ port: number; stop(): void }> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const port = await freePort();
    // A directory of its own: never load (or write) a dump.rdb lying in the working directory.
    const dir = mkdtempSync(join(tmpdir(), "redeno-compare-"));
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir];
    const proc = spawn("redis-server", [...args, "--appendonly", "no", ...extra], {
      stdio: "ignore",
    });
    let exited = false;
    proc.on("exit", () => (exited = true));
    for (let i = 0; i < 100 && !exited; i++) {
      try {
        const c = await RawConn.connect(port);
        c.close();
        return {
          port,
          stop: () => {
            proc.kill("SIGKILL");
            rmSync(dir, { recursive: true, force: true });
          },
        };
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    proc.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
  throw new Error("Could not start redis-server");
}

/**
 * Commands separated by newlines or `;`, arguments by spaces; `"..."` quotes an argument
 * (spaces, empty, `\\xNN` bytes); a bare word found in `words` stands for its value.
 */
export function script(text: string, words: Record<string, string> = {}): string[][] {
  return text.trim().split(/\s*[\n;]\s*/).map((line) =>
    (line.match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? []).map((t) =>
      t.startsWith('"')
        ? t.slice(1, -1).replace(
          /\\x([0-9a-f]{2})/g,
          (_, h) => String.fromCharCode(parseInt(h, 16)),
        )
        : words[t] ?? t
    )
  );
}

/** A small deterministic PRNG (mulberry32), so a failing case can be replayed. */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Runs `cases` on a fresh redis-server and a fresh redeno (after `HELLO 3` when `resp3`) and
 * asserts byte-equal replies. A command whose name starts with one of the `marks` is sent without
 * the mark and both replies go through that mark's normaliser first; by default `~` (`~SMEMBERS
 * s`) compares the reply with elements sorted (hash-table order is arbitrary). `options` configure
 * redeno, which reports (and so behaves as) the 7.0.15 it is compared with unless
 * `reported-redis-version` says otherwise.
 */
export function compareWithRedis(
  cases: string[][],
  resp3: boolean,
  marks: Record<string, (reply: string) => string> = { "~": sortedReply },
  options: ServerOptions = {},
): Promise<void> {
  return compareWith(() => startRedis(), cases, resp3, marks, as7015(options));
}

/** `options` with `reported-redis-version 7.0.15` (Debian's redis-server) unless they set it. */
export function as7015(options: ServerOptions = {}): ServerOptions {
  return { ...options, config: { "reported-redis-version": "7.0.15", ...options.config } };
}

/**
 * {@linkcode compareWithRedis} against the server `start` runs (the 7.4.1 reference build, say):
 * the same cases, marks and byte comparison; redeno is started with `server`'s options.
 */
export async function compareWith(
  start: () => Promise<{ port: number; stop(): void }>,
  cases: string[][],
  resp3: boolean,
  marks: Record<string, (reply: string) => string> = { "~": sortedReply },
  server?: ServerOptions,
): Promise<void> {
  const redis = await start();
  const ours = await startServer(server);
  const a = await RawConn.connect(redis.port);
  const b = await RawConn.connect(ours.port);
  try {
    const all = resp3 ? [["HELLO", "3"], ...cases] : cases;
    const norms = all.map((c) => marks[c[0]![0]!]);
    const sent = all.map((c, i) => (norms[i] ? [c[0]!.slice(1), ...c.slice(1)] : c));
    const want = await pipeline(a, sent);
    const got = await pipeline(b, sent);
    for (let i = resp3 ? 1 : 0; i < all.length; i++) {
      const norm = norms[i] ?? ((s: string) => s);
      assert.equal(
        JSON.stringify(norm(got[i]!)),
        JSON.stringify(norm(want[i]!)),
        `reply to ${JSON.stringify(sent[i])} (command ${i})`,
      );
    }
  } finally {
    a.close();
    b.close();
    redis.stop();
    await ours.close();
  }
}
