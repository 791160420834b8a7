/**
 * MONITOR: every command executed (but admin ones) is echoed to the monitoring clients as
 * `+<unix time with µs> [<db> <addr>] "arg" "arg"...`, after it ran, with the arguments quoted
 * the way Redis's sdscatrepr quotes them.
 *
 * @module
 */

import { CF, type Client } from "./client.ts";
import { type Command, F } from "./command.ts";
import { redactedArgv } from "./redact.ts";
import { SimpleString } from "./resp/reply.ts";
import type { Server } from "./server.ts";
import { BIG_ARG_MARK, describeArg } from "./types/big_string.ts";

/** Quotes a binary string like Redis's sdscatrepr. */
export function quoteRepr(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92 || c === 34) out += "\\" + s[i];
    else if (c === 10) out += "\\n";
    else if (c === 13) out += "\\r";
    else if (c === 9) out += "\\t";
    else if (c === 7) out += "\\a";
    else if (c === 8) out += "\\b";
    else if (c >= 32 && c <= 126) out += s[i];
    else out += "\\x" + c.toString(16).padStart(2, "0");
  }
  return out + '"';
}

/** An argument as MONITOR shows it: one too long for a string as its first bytes only. */
function monitorArg(a: string, i: number, argv: string[]): string {
  return quoteRepr(a === BIG_ARG_MARK ? describeArg(argv, i) : a);
}

/** The clients in MONITOR mode of one server. */
export class Monitors {
  private readonly clients = new Set<Client>();

  /** @param server the server whose commands are echoed */
  constructor(private readonly server: Server) {
    server.on("clientClosed", (client) => this.remove(client));
    server.on("clientReset", (client) => this.remove(client));
  }

  private readonly onCommand = (client: Client, cmd: Command, argv: string[]) => {
    if ((cmd.bits & (F.admin | F.skipMonitor)) === 0) {
      this.feed(client, redactedArgv(cmd, argv, client));
    }
  };

  /** Puts `client` in MONITOR mode. */
  add(client: Client): void {
    client.flags |= CF.monitor;
    // Commands are echoed only while someone monitors: the hook would run for every command.
    if (this.clients.size === 0) this.server.on("afterCommand", this.onCommand);
    this.clients.add(client);
  }

  private remove(client: Client): void {
    if (!this.clients.delete(client)) return;
    client.flags &= ~CF.monitor;
    if (this.clients.size === 0) this.server.hooks.off("afterCommand", this.onCommand);
  }

  /**
   * Echoes a command that skips the automatic echo because it must come before the commands it
   * runs (EVAL, FCALL).
   */
  feedFirst(client: Client, argv: string[]): void {
    if (this.clients.size !== 0) this.feed(client, argv);
  }

  private feed(client: Client, argv: string[]): void {
    const now = Date.now();
    const usec = String(Math.floor((performance.now() % 1) * 1000)).padStart(3, "0");
    const stamp = `${Math.floor(now / 1000)}.${String(now % 1000).padStart(3, "0")}${usec}`;
    const line = `${stamp} [${client.dbIndex} ${client.addr}] ${argv.map(monitorArg).join(" ")}`;
    const msg = new SimpleString(line);
    for (const m of this.clients) m.sendOutOfBand(msg);
  }
}
