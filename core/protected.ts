/**
 * Redis 7's protected actions: `enable-debug-command`, `enable-module-command` (commands that
 * name one in `protectedBy`) and `enable-protected-configs` (CONFIG SET of `dir`, `dbfilename`)
 * take `yes`, `no` (the default) or `local`, which allows them from loopback connections only.
 *
 * An embedding program's own in-process clients (`server.dispatch`, sessions) count as local:
 * the program chose the config and runs with the server's rights anyway, while sockets, even on
 * loopback, are the world's.
 *
 * @module
 */

import { CF, type Client } from "./client.ts";
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
 * The gate of protected commands (DEBUG): refused as Redis refuses them, before authentication
 * and before MULTI queues them.
 */
export function protectedCommandGate(client: Client, cmd: Command): Reply | undefined {
  if ((cmd.bits & F.protected) === 0) return undefined;
  const top = cmd.parent ?? cmd;
  const option = top.spec.protectedBy!;
  if (protectedActionAllowed(client.server.config.str(option), client)) return undefined;
  return new ErrorReply(
    `ERR ${top.name.toUpperCase()} command not allowed. If the ${option} option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.`,
  );
}
