/**
 * A testing helper: one call starts an isolated redeno server on a free port of 127.0.0.1 for a
 * test to talk to with any Redis client, and `await using` (or `close()`) stops it.
 *
 * The server keeps everything in memory: no save points, no AOF, no log lines, no files touched.
 * Commands can also run in process through `server.dispatch` or `server.session()`. DEBUG is
 * allowed (`enable-debug-command local`, as Redis's own test suite enables it): the server is
 * reached only from 127.0.0.1 and in process, both local.
 *
 * @example
 * ```ts
 * import { startTestServer } from "./testing.ts";
 *
 * await using redis = await startTestServer();
 * redis.server.dispatch(["SET", "greeting", "hello"]);
 * console.log(redis.url); // redis://127.0.0.1:<port>, for ioredis, node-redis, redis-cli -u ...
 * ```
 *
 * @module
 */

import { createServer } from "./mod.ts";
import type { Clock } from "./core/clock.ts";
import type { CommandSpec } from "./core/command.ts";
import type { Plugin, Server } from "./core/server.ts";

/** Options of {@linkcode startTestServer}. */
export interface TestServerOptions {
  /** Plugins to set up, in order (e.g. `[groups()]`). */
  plugins?: Plugin[];
  /**
   * Config directives, applied over the helper's defaults (`save ""`, `appendonly no`,
   * `enable-debug-command local`); setting `save` or `appendonly` here makes the server write
   * files in its `dir` again.
   */
  config?: Record<string, string | number | boolean | string[]>;
  /** Time source: a `ManualClock` makes expiry a test input. */
  clock?: Clock;
  /** Extra commands to register besides the built-in ones. */
  commands?: CommandSpec[];
}

/** A running test server; close it with `close()` or let `await using` do it. */
export interface TestServer {
  /** The server itself, for `dispatch`, `session()`, hooks and config. */
  readonly server: Server;
  /** The port it listens on (a free one chosen by the system). */
  readonly port: number;
  /** The address it listens on: `127.0.0.1`. */
  readonly hostname: string;
  /** `redis://127.0.0.1:<port>`, the form Redis clients take. */
  readonly url: string;
  /**
   * Stops listening and disconnects every client; calling it again is harmless.
   *
   * @returns a promise settled once the server is closed
   */
  close(): Promise<void>;
  /**
   * The same as {@linkcode TestServer.close}, so `await using` closes the server.
   *
   * @returns a promise settled once the server is closed
   */
  [Symbol.asyncDispose](): Promise<void>;
}

const HOSTNAME = "127.0.0.1";

/**
 * Starts an isolated in-memory server on a free port of 127.0.0.1, with every built-in command.
 *
 * @param options plugins, config directives, clock and extra commands
 * @returns the running server with its port and URL; `await using` closes it
 * @example
 * ```ts
 * import { test } from "node:test";
 * import assert from "node:assert/strict";
 * import { startTestServer } from "./testing.ts";
 * import { groups } from "./plugins/groups/mod.ts";
 *
 * test("a group admits its first member", async () => {
 *   await using redis = await startTestServer({ plugins: [groups()] });
 *   redis.server.dispatch(["GROUP.CREATE", "room", "2"]);
 *   assert.equal(redis.server.dispatch(["GROUP.JOIN", "room", "alice"]), 1);
 * });
 * ```
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const server = createServer({
    config: { save: "", appendonly: false, "enable-debug-command": "local", ...options.config },
    log: false,
    ...(options.plugins ? { plugins: options.plugins } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.commands ? { commands: options.commands } : {}),
  });
  const { port, hostname } = await server.listen({ port: 0, hostname: HOSTNAME });
  const close = (): Promise<void> => server.close();
  return {
    server,
    port,
    hostname,
    url: `redis://${hostname}:${port}`,
    close,
    [Symbol.asyncDispose]: close,
  };
}
