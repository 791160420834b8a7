/**
 * The maxmemory check before a command (Redis's processCommand): evict by the policy when
 * over `maxmemory`, and when memory cannot be freed refuse the commands that may grow it with
 * Redis's `-OOM` error: `denyoom` commands, queued in MULTI or not, and EXEC when its queue holds
 * a `denyoom` command (Redis 7.4: a read-only transaction runs out of memory). Scripts decide for themselves from the state recorded here
 * (scripting/engine.ts: a script's first `denyoom` call fails when the server was out of memory
 * as the script started, unless its flags allow it).
 *
 * The gate runs for every command only while it can matter: under `maxmemory` or
 * `maxmemory-clients`, or while the heap (or the machine) is short; otherwise only for commands
 * with large arguments, whose size is checked against the heap's room (MemoryGateSwitch below, once
 * per batch of commands, decides which).
 *
 * @module
 */

import { CF, type Client } from "../client.ts";
import { type Command, F } from "../command.ts";
import { ErrorReply, R, type Reply } from "../resp/reply.ts";
import type { Server } from "../server.ts";
import { Evict } from "./evict.ts";
import { clientsLimit, evictClients } from "./clients.ts";

/** Redis's shared OOM error. */
export const OOM_ERROR: ErrorReply = new ErrorReply(
  "OOM command not allowed when used memory > 'maxmemory'.",
);

/** True when the transaction queued a `denyoom` command. */
function queuedDenyOom(client: Client): boolean {
  const queue = client.tx?.queue;
  if (queue === undefined) return false;
  for (let i = 0; i < queue.length; i += 2) {
    if (((queue[i] as Command).bits & F.denyoom) !== 0) return true;
  }
  return false;
}

/**
 * Client eviction (`maxmemory-clients`), at most once per clock tick of the server (and at once
 * after the limit changed): from the command gate, where the command about to run counts as its
 * client's (Redis evicts a client for its arguments), and from the server tick.
 */
export function clientEvictionCheck(
  server: Server,
): (client?: Client, argv?: string[]) => void {
  let lastAt = -1;
  server.config.onChange((name) => {
    if (name === "maxmemory-clients" || name === "maxmemory") lastAt = -1;
  });
  return (client, argv) => {
    if (server.time === lastAt) return;
    lastAt = server.time;
    const limit = clientsLimit(server);
    if (limit !== 0) evictClients(server, { limit, caller: client, argv });
  };
}

/** Bytes of a command's arguments: what a write may add at once. */
function argBytes(argv: string[]): number {
  let n = 0;
  for (let i = 1; i < argv.length; i++) n += argv[i]!.length;
  return n;
}

/** The gate: runs before every command (see Server.addGate), evicting when needed. */
export function memoryGate(
  server: Server,
): (client: Client, cmd: Command, argv: string[]) => Reply | undefined {
  const checkClients = clientEvictionCheck(server);
  server.on("cron", () => checkClients());
  return (client, cmd, argv) => {
    if (server.clientEviction) {
      checkClients(client, argv);
      // Evicted for its own arguments: the command does not run, and nothing is answered.
      if ((client.flags & CF.closed) !== 0) return R.none;
    }
    // A write's own size counts against the heap's room: one huge value cannot overshoot it.
    const incoming = (cmd.bits & F.denyoom) !== 0 ? argBytes(argv) : 0;
    const short = (client.flags & CF.master) === 0 && server.memoryGuard(incoming);
    if (server.maxmemory === 0 && !short) {
      server.preCommandOom = false;
      return undefined;
    }
    let oom = short;
    if (!oom && server.maxmemory !== 0 && (client.flags & CF.master) === 0) {
      oom = server.evictor.perform() === Evict.fail;
    }
    server.preCommandOom = oom;
    if (!oom) return undefined;
    if ((cmd.bits & F.denyoom) !== 0) return OOM_ERROR;
    // Redis 7.4 queues what would run outside MULTI (read-only transactions run out of memory);
    // EXEC is refused when its queue holds a command that may grow memory.
    if ((client.flags & CF.multi) !== 0 && cmd.name === "exec" && queuedDenyOom(client)) {
      return OOM_ERROR;
    }
    return undefined;
  };
}

/**
 * Registers the maxmemory gate for the commands that need it now: all of them under `maxmemory`
 * or `maxmemory-clients`, or while the server's `memoryGuard` says memory is short; otherwise
 * only commands with large arguments (one huge value must not overshoot the heap's room), so the
 * common command pays nothing for it. The server calls {@linkcode update} before each batch of
 * commands and when those directives change.
 */
export class MemoryGateSwitch {
  private readonly gate: (client: Client, cmd: Command, argv: string[]) => Reply | undefined;
  /** The client flags the gate runs for now (0: every client; -1: not registered). */
  private when = -1;

  /** @param server the server whose gate this switches (registered at once) */
  constructor(private readonly server: Server) {
    this.gate = memoryGate(server);
    this.update();
  }

  /** Registers the gate again when what it must check changed. */
  update(): void {
    const s = this.server;
    const all = s.maxmemory !== 0 || s.clientEviction || s.memoryGuard(0);
    const when = all ? 0 : CF.largeArgs;
    if (when === this.when) return;
    if (this.when !== -1) s.removeGate(this.gate);
    s.addGate(this.gate, 20, when);
    this.when = when;
    if (!all) s.preCommandOom = false;
  }
}
