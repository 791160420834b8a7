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
import { RawConn, startServer } from "./helpers.ts";
import { pipeline } from "./redis_compare.ts";
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

/** How {@linkcode compareWithReference} starts the two servers. */
export interface CompareOptions {
  /** redeno's options (plugins, config). */
  server?: ServerOptions;
  /** The reference server's extra arguments. */
  refArgs?: string[];
}

/**
 * Sends `cases` pipelined to a fresh reference server and a fresh redeno, in RESP3 when `resp3`
 * (after a HELLO 3 whose reply is not compared), and asserts the same raw reply to each.
 */
export async function compareWithReference(
  cases: string[][],
  resp3: boolean,
  options: CompareOptions = {},
): Promise<void> {
  const ref = await startReference(options.refArgs);
  const ours = await startServer(options.server);
  const a = await RawConn.connect(ref.port);
  const b = await RawConn.connect(ours.port);
  try {
    const sent = resp3 ? [["HELLO", "3"], ...cases] : cases;
    const want = await pipeline(a, sent);
    const got = await pipeline(b, sent);
    for (let i = resp3 ? 1 : 0; i < sent.length; i++) {
      assert.equal(got[i], want[i], `reply to ${JSON.stringify(sent[i])} (${i})`);
    }
  } finally {
    a.close();
    b.close();
    ref.stop();
    await ours.close();
  }
}
