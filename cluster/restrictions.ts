/**
 * What cluster mode forbids (only db 0, replication driven by the cluster): SELECT of another
 * database, MOVE, SWAPDB, COPY across databases, REPLICAOF/SLAVEOF and FAILOVER, with Redis
 * 7.0.15's errors. A gate, so the refused commands' own handlers stay as they are; unlike Redis,
 * a refused command inside MULTI is refused when queued rather than when EXEC runs it.
 *
 * @module
 */

import { parseInteger } from "../core/bytes.ts";
import type { Client } from "../core/client.ts";
import type { Command } from "../core/command.ts";
import { ErrorReply, type Reply } from "../core/resp/reply.ts";

const REFUSED: Record<string, string> = {
  move: "ERR MOVE is not allowed in cluster mode",
  swapdb: "ERR SWAPDB is not allowed in cluster mode",
  replicaof: "ERR REPLICAOF not allowed in cluster mode.",
  slaveof: "ERR REPLICAOF not allowed in cluster mode.",
  failover: "ERR FAILOVER not allowed in cluster mode. Use CLUSTER FAILOVER command instead.",
};

/**
 * The gate.
 *
 * @param exempt true for the client cluster mode itself runs REPLICAOF with
 * @returns the gate function
 */
export function restrictionsGate(
  exempt: (client: Client) => boolean,
): (client: Client, cmd: Command, argv: string[]) => Reply | undefined {
  return (client, cmd, argv) => {
    if (cmd.parent !== undefined) return undefined;
    const name = cmd.name;
    if (name === "select") {
      const id = parseInteger(argv[1]!);
      // A bad index is left to SELECT's own error.
      if (id !== undefined && id !== 0) {
        return new ErrorReply("ERR SELECT is not allowed in cluster mode");
      }
      return undefined;
    }
    if (name === "copy") {
      for (let i = 3; i < argv.length - 1; i++) {
        if (argv[i]!.toLowerCase() === "db" && parseInteger(argv[i + 1]!) !== 0) {
          return new ErrorReply("ERR Copying to another database is not allowed in cluster mode");
        }
      }
      return undefined;
    }
    const refused = REFUSED[name];
    if (refused === undefined || exempt(client)) return undefined;
    return new ErrorReply(refused);
  };
}
