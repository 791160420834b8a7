/**
 * redeno: a Redis-compatible in-memory data server in TypeScript, for Deno and Node.js, that can
 * run as a server or inside another program.
 *
 * Layout:
 * - `core/`: RESP parser and encoder, network adapters, registry and call path, keyspace, config
 * - `commands/`: the built-in command families, each a list of `CommandSpec`
 * - `plugins/`: optional features that add commands and hooks (see `plugins/README.md`)
 * - `replication/`: the replication plugin
 *
 * @example
 * ```ts
 * import { createServer } from "./mod.ts";
 *
 * const server = createServer();
 * const { port } = await server.listen({ port: 0, hostname: "127.0.0.1" });
 * server.dispatch(["SET", "greeting", "hello"]);
 * console.log(port, server.dispatch(["GET", "greeting"])); // <port> "hello"
 * await server.close();
 * ```
 *
 * @module
 */

import { builtinCommands } from "./commands/mod.ts";
import { clientInfoLine } from "./core/client_info.ts";
import { aclFilePath, loadAclFile } from "./core/acl/file.ts";
import { type Plugin, Server, type ServerOptions } from "./core/server.ts";

export { Server } from "./core/server.ts";
export type {
  InfoSection,
  LocalSession,
  Plugin,
  ServerOptions,
  SlowlogEntry,
} from "./core/server.ts";
export type {
  Command,
  CommandDocs,
  CommandFlag,
  CommandSpec,
  CommandStats,
  DocNotes,
  Execute,
  KeyAccess,
  KeyRange,
} from "./core/command.ts";
export { type KeyPlace, type KeySpec, keySpec, type KeySpecFlag } from "./core/key_spec.ts";
export type { Client, ReplyMode } from "./core/client.ts";
export type { Config } from "./core/config.ts";
export type { ConfigParam, ConfigValue } from "./core/config_types.ts";
export type { Database, KeyspaceHost, TypedValue, Value } from "./core/keyspace/database.ts";
export type { WriteSink } from "./core/keyspace/write_log.ts";
export type { MemoryFigures, MemoryMeter, MemoryParts } from "./core/memory/usage.ts";
export { DEFAULT_HASH_LIMITS, type HashLimits, HashValue } from "./core/types/hash.ts";
export { ListValue } from "./core/types/list.ts";
export { SetValue } from "./core/types/set.ts";
export type { Gate, HookMap } from "./core/hooks.ts";
export type { LogLevel, LogSink } from "./core/log.ts";
export type {
  ListenOptions,
  TlsServerSettings,
  TlsSettings,
  TlsVersion,
  Transport,
} from "./core/net/transport.ts";
export type { ListenAddress, ListenerInfo, ServerListenOptions } from "./core/server_net.ts";
export { type Clock, ManualClock, systemClock } from "./core/clock.ts";
export {
  BigNumberReply,
  BoolReply,
  BulkBytes,
  DoubleReply,
  E,
  ErrorReply,
  fail,
  MapReply,
  NoReply,
  NullArray,
  PushReply,
  R,
  RawReply,
  type Reply,
  SetReply,
  SimpleString,
  VerbatimReply,
} from "./core/resp/reply.ts";
export { ArgCursor, floatArg, intArg } from "./core/args.ts";
export { blockOnKeys, canBlock, parseTimeoutSeconds } from "./core/blocking.ts";
export { N as NotifyClass } from "./core/notify.ts";
export { hashTag, slotChannel } from "./core/shard_channel.ts";
export { keyHashSlot } from "./core/slots.ts";

/**
 * Creates a server with every built-in command and the given plugins.
 *
 * @param options config directives, plugins, clock and logging
 * @returns the server; call `listen()` to accept connections or `dispatch()` to run commands
 * @example
 * ```ts
 * import { createServer } from "./mod.ts";
 * const server = createServer({ config: { requirepass: "s3cret" } });
 * const { port } = await server.listen({ port: 0, hostname: "127.0.0.1" });
 * await server.close();
 * ```
 */
export function createServer(options: ServerOptions = {}): Server {
  const server = new Server({
    ...options,
    commands: [...builtinCommands, ...(options.commands ?? [])],
  });
  server.acl.clientInfo = clientInfoLine;
  // The `aclfile` is read once every command (plugins' too) is known, as Redis loads it.
  const aclfile = aclFilePath(server.config);
  if (aclfile !== undefined) {
    const err = loadAclFile(server.acl, aclfile, server.config.str("aclfile"));
    if (err !== undefined) throw new Error(`Aborting startup because of ACL errors: ${err}`);
  }
  return server;
}

/**
 * Declares a plugin (an identity function that gives the object its type).
 *
 * @param plugin the plugin: name, optional dependencies, and a setup function
 * @returns the same plugin
 * @example
 * ```ts
 * import { createServer, definePlugin } from "./mod.ts";
 * const hello = definePlugin({
 *   name: "hello",
 *   setup(server) {
 *     server.registerCommand({
 *       name: "hello.world",
 *       arity: 1,
 *       flags: ["readonly", "fast"],
 *       execute: () => "hello, world",
 *     });
 *   },
 * });
 * const server = createServer({ plugins: [hello] });
 * server.dispatch(["HELLO.WORLD"]); // "hello, world"
 * ```
 */
export function definePlugin(plugin: Plugin): Plugin {
  return plugin;
}
