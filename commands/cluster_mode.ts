/**
 * The commands of cluster mode that a server without cluster support still answers, as Redis
 * 7.0 does with `cluster-enabled no`: READONLY and READWRITE refuse with its error. ACL rules
 * name them (`+readonly`), so they exist for the rules to refer to.
 *
 * @module
 */

import type { CommandSpec } from "../core/command.ts";
import { fail } from "../core/resp/reply.ts";

const DISABLED = "ERR This instance has cluster support disabled";

function connectionCommand(name: string, summary: string): CommandSpec {
  return {
    name,
    arity: 1,
    flags: ["loading", "stale", "fast"],
    acl: ["connection"],
    docs: { summary, since: "3.0.0", group: "cluster", complexity: "O(1)" },
    execute: () => fail(DISABLED),
  };
}

/** READONLY and READWRITE. */
export const clusterModeCommands: CommandSpec[] = [
  connectionCommand(
    "readonly",
    "Enables read queries for a connection to a cluster replica node",
  ),
  connectionCommand(
    "readwrite",
    "Disables read queries for a connection to a cluster replica node",
  ),
];
