/**
 * The slow log: commands that ran longer than `slowlog-log-slower-than`, newest first, with
 * Redis's trimming of long argument lists and long arguments.
 *
 * @module
 */

import type { Client } from "./client.ts";
import type { Command } from "./command.ts";
import { redactedArgv } from "./redact.ts";
import type { Server } from "./server.ts";
import { BIG_ARG_MARK, describeArg } from "./types/big_string.ts";

/**
 * Records a command that took `usec` microseconds when that is at least
 * `slowlog-log-slower-than` (a negative threshold disables the log), its secrets redacted
 * (core/redact.ts; `cmd` is undefined for a blocked command's wake-up, which has none).
 */
export function logIfSlow(
  server: Server,
  client: Client,
  cmd: Command | undefined,
  argv: string[],
  usec: number,
): void {
  const threshold = server.stats.slowlogThreshold;
  if (threshold < 0 || usec < threshold) return;
  recordSlow(server, client, cmd === undefined ? argv : redactedArgv(cmd, argv, client), usec);
}

/** Records a command that took `usec` microseconds. */
function recordSlow(server: Server, client: Client, argv: string[], usec: number): void {
  const max = server.config.num("slowlog-max-len");
  const args = argv.slice(0, 32).map((a, i) =>
    a === BIG_ARG_MARK
      ? describeArg(argv, i)
      : a.length > 128
      ? `${a.slice(0, 128)}... (${a.length - 128} more bytes)`
      : a
  );
  if (argv.length > 32) args[31] = `... (${argv.length - 31} more arguments)`;
  server.slowlog.unshift({
    id: server.slowlogNextId++,
    time: Math.floor(server.clock.now() / 1000),
    usec,
    argv: args,
    addr: client.addr,
    name: client.name,
  });
  if (server.slowlog.length > max) server.slowlog.length = max;
}
