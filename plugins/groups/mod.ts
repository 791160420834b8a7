/**
 * The groups plugin: capacity-limited groups joined atomically with `GROUP.JOIN` (see README.md).
 *
 * @example
 * ```ts
 * import { createServer } from "../../mod.ts";
 * import { groups } from "./mod.ts";
 *
 * const server = createServer({ plugins: [groups()] });
 * server.dispatch(["GROUP.CREATE", "room:1", "10"]); // OK
 * server.dispatch(["GROUP.JOIN", "room:1", "alice", "TTL", "30000"]); // 1
 * ```
 *
 * @module
 */

import type { Plugin } from "../../core/server.ts";
import { groupCommands } from "./commands.ts";
import { deadlinePassed } from "./expiry.ts";
import { Leases } from "./leases.ts";
import { Waitlist } from "./waitlist.ts";

/**
 * The groups plugin: GROUP.CREATE, GROUP.JOIN, GROUP.LEAVE and the other `GROUP.*` commands.
 *
 * @returns the plugin, for `createServer({ plugins: [groups()] })`
 */
export function groups(): Plugin {
  return {
    name: "groups",
    setup(server) {
      const leases = new Leases(server, deadlinePassed(server));
      const state = { leases, waitlist: new Waitlist(server) };
      for (const spec of groupCommands(state)) server.registerCommand(spec);
      server.on("cron", () => {
        leases.cycle();
        // Seats freed by the tick go to the waiters now, not at the next command.
        if (server.blocking.hasReady && !server.running) server.blocking.serveReady();
      });
    },
  };
}
