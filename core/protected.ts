/**
 * Redis 7's protected actions: `enable-debug-command`, `enable-module-command` (commands and
 * subcommands that name one in `protectedBy`: DEBUG, MODULE LOAD/LOADEX/UNLOAD) and `enable-protected-configs` (CONFIG SET of `dir`, `dbfilename`)
 * take `yes`, `no` (the default) or `local`, which allows them from loopback connections only.
 *
 * `protected-mode` (default yes): while the default user has no password, connections from
 * anywhere but the loopback interface are refused with Redis's DENIED text, whatever the
 * server is bound to.
 *
 * An embedding program's own in-process clients (`server.dispatch`, sessions) count as local:
 * the program chose the config and runs with the server's rights anyway, while sockets, even on
 * loopback, are the world's.
 *
 * @module
 */

import { CF, type Client } from "./client.ts";
import type { Server } from "./server.ts";
import { type Command, F } from "./command.ts";
import type { Reply } from "./resp/reply.ts";
import { ErrorReply } from "./resp/reply.ts";

/**
 * True when `client` connects from the loopback interface (Redis's `islocalClient`), or is an
 * in-process client of the embedding program.
 *
 * @param client the client
 * @returns whether it is local
 */
export function isLocalClient(client: Client): boolean {
  if (client.transport === null) return (client.flags & CF.script) === 0;
  const addr = client.transport.remoteAddress;
  const host = addr.slice(0, addr.lastIndexOf(":"));
  return host === "127.0.0.1" || host === "::1" || host === "[::1]";
}

/**
 * Redis's `allowProtectedAction`: whether a `yes|no|local` directive lets `client` act.
 *
 * @param mode the directive's value
 * @param client the client asking
 * @returns true when allowed
 */
export function protectedActionAllowed(mode: string, client: Client): boolean {
  return mode === "yes" || (mode === "local" && isLocalClient(client));
}

/**
 * The gate of protected commands (DEBUG, MODULE LOAD): refused as Redis refuses them, before authentication
 * and before MULTI queues them.
 */
export function protectedCommandGate(client: Client, cmd: Command): Reply | undefined {
  if ((cmd.bits & F.protected) === 0) return undefined;
  const top = cmd.parent ?? cmd;
  const option = (cmd.spec.protectedBy ?? top.spec.protectedBy)!;
  if (protectedActionAllowed(client.server.config.str(option), client)) return undefined;
  return new ErrorReply(
    `ERR ${top.name.toUpperCase()} command not allowed. If the ${option} option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.`,
  );
}

/**
 * True when the default user is `nopass` (no `requirepass`, no password given by ACL), as Redis
 * decides protected mode.
 *
 * @param server the server
 * @returns whether the default user has no password
 */
export function defaultUserHasNoPassword(server: Server): boolean {
  return server.acl.defaultUser.nopass;
}

/** Redis's reply to a connection refused by protected mode (networking.c, 7.0.15). */
export const PROTECTED_MODE_DENIED = "-DENIED Redis is running in protected mode because " +
  "protected mode is enabled and no password is set for the default user. In this mode " +
  "connections are only accepted from the loopback interface. If you want to connect from " +
  "external computers to Redis you may adopt one of the following solutions: 1) Just disable " +
  "protected mode sending the command 'CONFIG SET protected-mode no' from the loopback " +
  "interface by connecting to Redis from the same host the server is running, however MAKE " +
  "SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to " +
  "make this change permanent. 2) Alternatively you can just disable the protected mode by " +
  "editing the Redis configuration file, and setting the protected mode option to 'no', and " +
  "then restarting the server. 3) If you started the server manually just for testing, " +
  "restart it with the '--protected-mode no' option. 4) Setup a an authentication password " +
  "for the default user. NOTE: You only need to do one of the above things in order for the " +
  "server to start accepting connections from the outside.\r\n";

/**
 * Whether protected mode refuses a new connection: the mode is on, the default user has no
 * password and the client is not on the loopback interface.
 *
 * @param client the new connection's client
 * @returns true when it must be refused
 */
export function protectedModeRefuses(client: Client): boolean {
  const server = client.server;
  return server.config.bool("protected-mode") && defaultUserHasNoPassword(server) &&
    !isLocalClient(client);
}
