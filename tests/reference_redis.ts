/**
 * The Redis 7.4.1 reference build (`../shared/reference/redis-7.4.1/` from the project root, or
 * from the main checkout when the tests run in a git worktree beside it): its path, and a
 * server of it started on a free port for side-by-side tests. Tests that use it still assert
 * their expected replies directly when it is absent.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { test } from "node:test";
import { RawConn, startServer } from "./helpers.ts";
import { compareWith, pipeline, sortedReply } from "./redis_compare.ts";
import type { ServerOptions } from "../mod.ts";
import { freePort } from "./replication_helpers.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Path of the 7.4.1 reference `redis-server`, or undefined when it is not there. */
export const REFERENCE_74: string | undefined = [
  join(root, "../shared/reference/redis-7.4.1/redis-server"),
  join(root, "../../shared/reference/redis-7.4.1/redis-server"),
].find((p) => existsSync(p));

/** A running reference server and its directory (removed on stop). */
export interface ReferenceServer {
  port: number;
  dir: string;
  stop(): void;
}

/**
 * Starts the reference redis-server (which must exist) on a free port, in a directory of its
 * own, with `extra` arguments.
 */
export async function startReference(extra: string[] = []): Promise<ReferenceServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "redeno-ref74-"));
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir];
  const proc = spawn(REFERENCE_74!, [...args, "--appendonly", "no", ...extra], {
    stdio: "ignore",
  });
  let exited = false;
  proc.on("exit", () => (exited = true));
  const stop = () => {
    proc.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 200 && !exited; i++) {
    try {
      const c = await RawConn.connect(port);
      c.close();
      return { port, dir, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  stop();
  throw new Error("Could not start the reference redis-server 7.4.1");
}

/** How {@linkcode compareWithReference} starts the two servers and reads their replies. */
export interface CompareOptions {
  /** redeno's options (plugins, config). */
  server?: ServerOptions;
  /** The reference server's extra arguments. */
  refArgs?: string[];
  /** Reply normalisers by a case's first-character mark, as `compareWithRedis` takes them. */
  marks?: Record<string, (reply: string) => string>;
}

/**
 * Runs `cases` on a fresh reference server and a fresh redeno and asserts byte-equal replies, as
 * `compareWithRedis` does with Debian's redis-server (in RESP3 after an uncompared HELLO 3 when
 * `resp3`).
 */
export function compareWithReference(
  cases: string[][],
  resp3: boolean,
  options: CompareOptions = {},
): Promise<void> {
  const { server, refArgs, marks = { "~": sortedReply } } = options;
  return compareWith(() => startReference(refArgs), cases, resp3, marks, server);
}

/**
 * Sends `cases` on one fresh connection to `port` (after `HELLO 3` when `resp3`) and asserts each
 * reply is the expected one, byte for byte: run on redeno and on the reference with the same
 * table, it shows the table is 7.4.1's and that redeno answers it.
 */
export async function assertReplies(
  port: number,
  cases: ReadonlyArray<readonly [string[], string]>,
  resp3 = false,
): Promise<void> {
  const c = await RawConn.connect(port);
  try {
    if (resp3) await pipeline(c, [["HELLO", "3"]]);
    const got = await pipeline(c, cases.map(([argv]) => argv));
    cases.forEach(([argv, want], i) => assert.equal(got[i], want, argv.join(" ")));
  } finally {
    c.close();
  }
}

/**
 * Two tests of one transcript: on a fresh redeno, then on the 7.4.1 reference build (skipped when
 * it is absent), each asserted equal to `want`. The expected replies mean something without the
 * reference; the reference shows they are 7.4.1's.
 *
 * @param name the first test's name (the second adds "on the 7.4.1 reference")
 * @param transcript what to run against a server's port, returning what is compared
 * @param want the expected result
 */
export function transcriptTests<T>(
  name: string,
  transcript: (port: number) => Promise<T>,
  want: T,
): void {
  test(name, async () => {
    const ours = await startServer();
    try {
      assert.deepEqual(await transcript(ours.port), want);
    } finally {
      await ours.close();
    }
  });
  test(`${name}: the same on the 7.4.1 reference`, {
    skip: REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false,
  }, async () => {
    const ref = await startReference();
    try {
      assert.deepEqual(await transcript(ref.port), want);
    } finally {
      ref.stop();
    }
  });
}
