/**
 * CLIENT PAUSE timeout [WRITE | ALL] and CLIENT UNPAUSE (the pause itself is core/pause.ts).
 *
 * @module
 */

import { intArg } from "../core/args.ts";
import type { CommandSpec } from "../core/command.ts";
import { PauseType } from "../core/pause.ts";
import { fail, R } from "../core/resp/reply.ts";

const FLAGS = ["admin", "noscript", "loading", "stale"] as const;

/** CLIENT PAUSE and CLIENT UNPAUSE, subcommands of CLIENT. */
export const clientPauseCommands: CommandSpec[] = [
  {
    name: "pause",
    arity: -3,
    flags: FLAGS,
    docs: {
      summary: "Stop processing commands from clients for some time",
      since: "2.9.50",
      group: "connection",
      complexity: "O(1)",
      args: "timeout [WRITE | ALL]",
    },
    execute(client, argv) {
      if (argv.length > 4) {
        return fail(
          `ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try CLIENT HELP.`,
        );
      }
      let type = PauseType.All;
      if (argv.length === 4) {
        const mode = argv[3]!.toLowerCase();
        if (mode === "write") type = PauseType.Write;
        else if (mode !== "all") return fail("ERR CLIENT PAUSE mode must be WRITE or ALL");
      }
      const ms = intArg(argv[2]!, "ERR timeout is not an integer or out of range");
      if (ms < 0) return fail("ERR timeout is negative");
      const server = client.server;
      const now = server.clock.now();
      // Redis adds the time in a 64-bit integer: an end past its range wraps and is already over.
      const end = ms === 0 ? 0 : ms + now >= 2 ** 63 ? -1 : ms + now;
      server.pause.pause(end, type);
      return R.ok;
    },
  },
  {
    name: "unpause",
    arity: 2,
    flags: FLAGS,
    docs: {
      summary: "Resume processing of clients that were paused",
      since: "6.2.0",
      group: "connection",
      complexity: "O(N) Where N is the number of paused clients",
    },
    execute(client) {
      client.server.pause.unpause();
      return R.ok;
    },
  },
];
