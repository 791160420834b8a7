/**
 * BGREWRITEAOF: rewrites the append only file in the background (see
 * core/persistence/aof_rewrite_job.ts).
 *
 * @module
 */

import type { CommandSpec } from "../core/command.ts";
import { aofOf } from "../core/persistence/aof.ts";
import { RewriteJob } from "../core/persistence/aof_rewrite_job.ts";
import { fail, SimpleString } from "../core/resp/reply.ts";

/** BGREWRITEAOF */
export const bgrewriteaofCommand: CommandSpec = {
  name: "bgrewriteaof",
  arity: 1,
  flags: ["admin", "noscript", "no_async_loading"],
  docs: {
    summary: "Asynchronously rewrite the append-only file",
    since: "1.0.0",
    group: "server",
    complexity: "O(1)",
  },
  acl: ["dangerous"],
  execute(client) {
    const aof = aofOf(client.server);
    if (aof.job !== undefined) {
      return fail("ERR Background append only file rewriting already in progress");
    }
    if (aof.backgroundBusy() || client.server.nested) {
      // A BGSAVE runs, or we are inside EXEC (its effects are not in the AOF yet): start later.
      aof.scheduled = true;
      aof.consecutiveFailures = 0;
      return new SimpleString("Background append only file rewriting scheduled");
    }
    if (RewriteJob.start(aof)) {
      return new SimpleString("Background append only file rewriting started");
    }
    return fail(
      "ERR Can't execute an AOF background rewriting. Please check the server logs for more information.",
    );
  },
};

/** The AOF commands. */
export const aofCommands: CommandSpec[] = [bgrewriteaofCommand];
