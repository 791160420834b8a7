/**
 * Public types around the server: plugins, options, in-process sessions, INFO sections, slow log
 * entries.
 *
 * @module
 */

import type { Client } from "./client.ts";
import type { Clock } from "./clock.ts";
import type { CommandSpec } from "./command.ts";
import type { ConfigParam } from "./config_types.ts";
import type { LogSink } from "./log.ts";
import type { Reply } from "./resp/reply.ts";
import type { Server } from "./server.ts";

/**
 * The server cannot start (a port it must listen on is taken...): its message is the whole
 * report, in Redis's wording.
 */
export class StartError extends Error {}

/** A plugin: commands and hooks registered at setup, before the server listens. */
export interface Plugin {
  /** Unique plugin name. */
  name: string;
  /** Names of plugins that must be set up first. */
  dependencies?: string[];
  /**
   * Config directives the plugin adds, defined before `createServer`'s config is applied so it can
   * set them; read them in `setup` with `server.config.get(name)` and follow changes with
   * `server.config.onChange`.
   */
  config?: ConfigParam[];
  /** Registers commands, hooks and gates. */
  setup(server: Server): void;
}

/** Options of {@linkcode createServer}. */
export interface ServerOptions {
  /** Config directives (`{ port: 6380, "maxmemory-policy": "allkeys-lru" }`). */
  config?: Record<string, string | number | boolean | string[]>;
  /** Plugins to set up, in order (after the built-in commands). */
  plugins?: Plugin[];
  /** Time source (a `ManualClock` in tests). */
  clock?: Clock;
  /** Path of the config file the directives came from (CONFIG REWRITE writes it back). */
  configFile?: string;
  /** Where log lines go: false/undefined = nowhere, true = stdout, or a function. */
  log?: boolean | LogSink;
  /** Socket layer on Deno: `deno` (Deno.listen) or `node` (node:net); Node always uses node:net. */
  net?: "deno" | "node";
  /** Command families to register; the server module passes the built-in ones. */
  commands?: CommandSpec[];
}

/**
 * An in-process session, for tests and embedding: commands run exactly as from a socket, but the
 * session starts authenticated (`requirepass` guards sockets, not the program holding the server).
 */
export interface LocalSession {
  /** Runs one command and returns its reply (errors are returned as ErrorReply values). */
  call(...argv: string[]): Reply;
  /** The underlying client. */
  readonly client: Client;
  /** Replies and pushes received since the last call to `drain`. */
  drain(): Reply[];
}

/** An INFO section: its title and a function giving its `name:value` fields. */
export interface InfoSection {
  /** The section's title line (`Server`, `Keyspace`...). */
  title: string;
  /** Included in `INFO` with no argument and in `INFO default`. */
  isDefault: boolean;
  /**
   * The section's fields, computed when INFO runs.
   *
   * @returns `[name, value]` pairs in output order
   */
  fields(): Array<[string, string | number]>;
}

/** One slow log entry. */
export interface SlowlogEntry {
  /** Increasing entry ID. */
  id: number;
  /** When the command ran (Unix seconds). */
  time: number;
  /** How long it ran (µs). */
  usec: number;
  /** The command and its arguments (long ones shortened as Redis does). */
  argv: string[];
  /** The client's `ip:port`. */
  addr: string;
  /** The client's name. */
  name: string;
}
