/**
 * Starting the two servers under test, redis-server and redeno, on free ports of 127.0.0.1, and
 * waiting until each answers PING.
 *
 * @module
 */

import { type ChildProcess, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as net from "node:net";
import process from "node:process";
import { spawnTracked, stopProcess, workerPid } from "./procs.ts";
import type { Runtime } from "./options.ts";

/** A server process under test. */
export interface ServerProc {
  /** `redis` or `redeno`. */
  readonly name: string;
  readonly port: number;
  /** The process that serves (for CPU and RSS), not a launcher in front of it. */
  readonly pid: number;
  /** Stops the server and every process it started. */
  stop(): Promise<void>;
}

/**
 * A TCP port of 127.0.0.1 that was free a moment ago (bound to port 0 and released).
 *
 * @returns the port
 * @example
 * ```ts
 * import { freePort } from "./servers.ts";
 * console.log((await freePort()) > 0); // true
 * ```
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen({ port: 0, host: "127.0.0.1" }, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Sends one inline PING; resolves true on `+PONG`. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    let got = "";
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.on("error", () => done(false));
    s.on("connect", () => s.write("PING\r\n"));
    s.on("data", (d) => {
      got += d.toString("latin1");
      if (got.includes("\r\n")) done(got === "+PONG\r\n");
    });
  });
}

async function waitReady(name: string, child: ChildProcess, port: number, log: () => string) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited before it was ready:\n${log()}`);
    }
    if (await ping(port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not answer PING on port ${port} within 30s:\n${log()}`);
}

interface StartSpec {
  name: string;
  cmd: string;
  args: string[];
  /** Text of the serving process's command line, to find it under a launcher. */
  marker: string;
  cwd?: string;
}

/**
 * A fresh empty working directory (`--dir`) for a server: nothing left in the checkout or the
 * current directory (a dump.rdb, an AOF) is loaded, and a loaded RDB's replication info cannot
 * switch a backlog on. Removed when the server stops.
 */
function freshDir(): string {
  return mkdtempSync(join(tmpdir(), "redeno-bench-"));
}

async function start(port: number, spec: StartSpec, dir?: string): Promise<ServerProc> {
  const { name, cmd, args, marker, cwd } = spec;
  const child = spawnTracked(cmd, args, { stdio: ["ignore", "pipe", "pipe"], cwd });
  const stop = async (): Promise<void> => {
    await stopProcess(child);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  };
  let output = "";
  const keep = (d: Uint8Array): void => {
    // Only the tail matters, for an error message if start-up fails.
    output = (output + new TextDecoder().decode(d)).slice(-4000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", () => resolve());
    child.once("error", (e) => reject(new Error(`Cannot start ${name} (${cmd}): ${e.message}`)));
  });
  try {
    await waitReady(name, child, port, () => output);
  } catch (e) {
    await stop();
    throw e;
  }
  return { name, port, pid: workerPid(child.pid!, marker), stop };
}

/**
 * Starts the Debian redis-server without persistence.
 *
 * @param port the port to listen on
 * @param extra more command-line flags, e.g. `["--replicaof", "127.0.0.1", "6379"]`
 * @returns the running server
 * @example
 * ```ts
 * import { freePort, startRedis } from "./servers.ts";
 * const redis = await startRedis(await freePort());
 * await redis.stop();
 * ```
 */
export function startRedis(port: number, extra: string[] = []): Promise<ServerProc> {
  const dir = freshDir();
  const args = [
    ...["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    ...["--dir", dir, ...extra],
  ];
  return start(port, { name: "redis", cmd: "redis-server", args, marker: "redis-server" }, dir);
}

/**
 * The npm build of the checkout at `root` (`dist/`, what `npx redeno` runs on Node), made with
 * `npm run build`'s script when `dist/main.js` is missing or older than a source file.
 *
 * @param root the checkout's root directory
 * @returns the path of `dist/main.js`
 */
export function nodeBuild(root: string): string {
  const main = join(root, "dist", "main.js");
  const built = existsSync(main) ? statSync(main).mtimeMs : 0;
  if (built === 0 || newestSource(root) > built) {
    execFileSync("node", ["--import", "tsx", "scripts/build_npm.ts"], {
      cwd: root,
      stdio: "ignore",
    });
  }
  return main;
}

/** The latest modification time of the TypeScript files the npm build compiles. */
function newestSource(root: string): number {
  let newest = 0;
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name) && !e.name.startsWith(".")) walk(join(dir, e.name));
      } else if (e.name.endsWith(".ts")) {
        newest = Math.max(newest, statSync(join(dir, e.name)).mtimeMs);
      }
    }
  };
  walk(root);
  return newest;
}

/** Directories with no source of the npm build. */
const SKIP_DIRS = new Set(["node_modules", "dist", "tests", "bench", "examples", "scripts", "tmp"]);

/**
 * Starts redeno from this checkout without persistence, as redis-server above: on Deno, the Deno
 * binary of node_modules runs main.ts directly; on Node, node runs the npm build (`dist/main.js`,
 * see {@linkcode nodeBuild}), as `npx redeno` does. `BENCH_NODE=tsx` runs main.ts through tsx
 * instead (tsx is a launcher that starts a second node process, which is measured); tsx's
 * transform keeps class names by redefining them, which slows V8's `instanceof` on Node 20.
 *
 * @param port the port to listen on
 * @param options the runtime (deno or node), the checkout's root directory and more flags
 * @returns the running server
 * @example
 * ```ts
 * import { freePort, startRedeno } from "./servers.ts";
 * const redeno = await startRedeno(await freePort(), { runtime: "deno", root: "." });
 * await redeno.stop();
 * ```
 */
export function startRedeno(
  port: number,
  options: { runtime: Runtime; root: string; extra?: string[] },
): Promise<ServerProc> {
  const { runtime, root } = options;
  const dir = freshDir();
  const flags = [
    ...["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    ...["--dir", dir, ...(options.extra ?? [])],
  ];
  if (runtime === "deno") {
    // node_modules/.bin/deno links to this binary itself, not to a node shim: its pid serves.
    const cmd = `${root}/node_modules/deno/deno`;
    const args = ["run", "-A", "--v8-flags=--max-semi-space-size=8", "main.ts", ...flags];
    return start(port, { name: "redeno", cmd, args, marker: "main.ts", cwd: root }, dir);
  }
  if (process.env["BENCH_NODE"] === "tsx") {
    const cmd = `${root}/node_modules/.bin/tsx`;
    return start(port, {
      name: "redeno",
      cmd,
      args: ["main.ts", ...flags],
      marker: "main.ts",
      cwd: root,
    }, dir);
  }
  // main.js starts a copy of itself with its heap flags: the marker finds that one.
  const main = nodeBuild(root);
  return start(port, {
    name: "redeno",
    cmd: "node",
    args: [main, ...flags],
    marker: "dist/main.js",
    cwd: root,
  }, dir);
}

/**
 * Starts bench/floor_server.ts, the runtime's floor (a server that reads each request and
 * answers `+PONG` without doing anything else), the way {@linkcode startRedeno} starts redeno.
 *
 * @param port the port to listen on
 * @param options the runtime and the checkout's root directory
 * @returns the running server, named `floor`
 * @example
 * ```ts
 * import { freePort, startFloor } from "./servers.ts";
 * const floor = await startFloor(await freePort(), { runtime: "deno", root: "." });
 * await floor.stop();
 * ```
 */
export function startFloor(
  port: number,
  options: { runtime: Runtime; root: string },
): Promise<ServerProc> {
  const { runtime, root } = options;
  const marker = "floor_server.ts";
  const script = `bench/${marker}`;
  return runtime === "deno"
    ? start(port, {
      name: "floor",
      cmd: `${root}/node_modules/deno/deno`,
      args: ["run", "-A", script, String(port)],
      marker,
      cwd: root,
    })
    : start(port, {
      name: "floor",
      cmd: `${root}/node_modules/.bin/tsx`,
      args: [script, String(port)],
      marker,
      cwd: root,
    });
}

function version(cmd: string, args: string[], root: string): string {
  return execFileSync(cmd, args, { encoding: "utf8", cwd: root }).split("\n")[0]!.trim();
}

/**
 * The header lines a benchmark prints first: the redis-server and runtime versions.
 *
 * @param runtime the runtime redeno runs on
 * @param root the checkout's root directory
 * @returns `redis:  ...` and `redeno: ...` lines
 * @example
 * ```ts ignore
 * for (const line of versionLines("deno", ".")) console.log(line);
 * ```
 */
export function versionLines(runtime: Runtime, root: string): string[] {
  const redeno = runtime === "deno"
    ? version(`${root}/node_modules/deno/deno`, ["--version"], root)
    : `node ${version("node", ["--version"], root)}`;
  return [
    `redis:  ${version("redis-server", ["--version"], root)}`,
    `redeno: ${redeno} (${
      runtime === "deno"
        ? "deno"
        : process.env["BENCH_NODE"] === "tsx"
        ? "node, tsx"
        : "node, dist/"
    })`,
  ];
}
