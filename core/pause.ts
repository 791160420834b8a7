/**
 * CLIENT PAUSE and CLIENT UNPAUSE, after Redis 7.0's networking.c. While a pause is in effect,
 * the commands it covers are postponed, not refused: the client stops where it is (flag `b`,
 * counted in `blocked_clients`) with that command and everything it pipelined behind it kept,
 * and runs them in order once the pause ends or no longer covers the command. `ALL` covers
 * every command, `WRITE` the writes and the commands that may replicate (PUBLISH, PFCOUNT, EVAL
 * and FCALL unless their script declares `no-writes`, EXEC with such a command queued).
 * Replicas and in-process sessions are never paused; our master's stream waits like a client.
 * The dataset holds still: keys expire logically but are not deleted, nothing is evicted.
 *
 * Each purpose (CLIENT PAUSE, FAILOVER) holds its own pause, as Redis 7.0's pauseClients does: a
 * new pause of a purpose never shortens that purpose's pause (the later end and the stricter type
 * win), CLIENT UNPAUSE ends only the CLIENT PAUSE one, and what is in effect is the strictest type
 * among them, until the furthest end among the pauses of that type.
 *
 * @module
 */

import { CF, type Client, ReplyMode } from "./client.ts";
import { type Command, F, flagBits } from "./command.ts";
import { R, type Reply } from "./resp/reply.ts";
import type { Server } from "./server.ts";

/** What a pause covers, by increasing strictness. */
export const enum PauseType {
  /** No pause. */
  Off = 0,
  /** Writes and commands that may replicate. */
  Write = 1,
  /** Every command. */
  All = 2,
}

/** Why clients are paused: each purpose has its own type and end (Redis's pause_purpose). */
export const enum PausePurpose {
  /** CLIENT PAUSE / CLIENT UNPAUSE. */
  Client = 0,
  /** FAILOVER, until the failover ends or is aborted. */
  Failover = 1,
  /** MIGRATE in cluster mode, while it waits for the target (Redis blocks the whole server). */
  Migrate = 2,
}

/** One purpose's pause. */
interface PauseEvent {
  type: PauseType;
  /** When it ends (ms, the server clock). */
  end: number;
}

/** A postponed command, run again when the pause lets it. */
interface Postponed {
  argv: string[];
  /** The client's large/big argument flags while it ran (see Client.callLarge). */
  argFlags: number;
}

/** Gate order: after every other check, before MULTI queueing (Redis's processCommand). */
const GATE_ORDER = 90;

/** The client pause of one server. */
export class ClientPause {
  /** The type in effect (the strictest among the purposes' pauses). */
  type: PauseType = PauseType.Off;
  /** When the pause ends (ms, the server clock); it is in effect while `end >= now`. */
  end = 0;
  /** Each purpose's pause. */
  private readonly purposes = new Map<PausePurpose, PauseEvent>();
  /** Postponed clients, in the order they were stopped. */
  private readonly postponed = new Map<Client, Postponed>();
  /** Work to resume when the pause ends (our master's stream on a replica). */
  private waiting: Array<() => void> = [];
  private gateOn = false;
  private readonly gate = (client: Client, cmd: Command, argv: string[]): Reply | undefined =>
    this.postpones(client, cmd, argv) ? this.postpone(client, cmd, argv) : undefined;

  /** @param server the server whose clients pause */
  constructor(private readonly server: Server) {
    server.on("clientClosed", (client) => {
      this.postponed.delete(client);
    });
    // The end of a pause is noticed by the server's cron, as Redis's serverCron does, or sooner
    // by any check of `active`.
    server.on("cron", () => {
      if (this.type !== PauseType.Off) void this.active;
    });
  }

  /** Number of postponed clients. */
  get count(): number {
    return this.postponed.size;
  }

  /** True when `client` waits for the pause to end. */
  isPostponed(client: Client): boolean {
    return this.postponed.has(client);
  }

  /**
   * True while a pause is in effect (checked against the clock, so an elapsed pause ends here):
   * expiry and eviction then leave the dataset alone.
   */
  get active(): boolean {
    if (this.type === PauseType.Off) return false;
    if (this.end >= this.server.clock.now()) return true;
    this.update();
    return (this.type as PauseType) !== PauseType.Off;
  }

  /**
   * Pauses until `end` (ms) the commands `type` covers, for `purpose` (CLIENT PAUSE by default).
   * An earlier end or a laxer type than that purpose's pause in effect changes nothing.
   */
  pause(end: number, type: PauseType, purpose: PausePurpose = PausePurpose.Client): void {
    const p = this.purposes.get(purpose);
    if (p === undefined || p.end < this.server.clock.now()) {
      this.purposes.set(purpose, { type, end });
    } else {
      p.type = Math.max(p.type, type) as PauseType;
      p.end = Math.max(p.end, end);
    }
    this.update();
  }

  /**
   * Ends `purpose`'s pause (CLIENT UNPAUSE by default); the postponed clients run, in order,
   * unless another purpose's pause still holds them.
   */
  unpause(purpose: PausePurpose = PausePurpose.Client): void {
    if (!this.purposes.delete(purpose)) return;
    this.update();
  }

  /**
   * Runs `fn` once the pause ends or eases (after the current event), at once when none is in
   * effect; work still held then asks again.
   */
  whenEased(fn: () => void): void {
    if (!this.active) fn();
    else this.waiting.push(fn);
  }

  /** True when the pause postpones `cmd` from `client` now. */
  postpones(client: Client, cmd: Command, argv: string[]): boolean {
    if (this.type === PauseType.Off || (client.flags & (CF.replica | CF.local)) !== 0) return false;
    if (!this.active) return false;
    return this.type === PauseType.All || mayReplicate(client, cmd, argv);
  }

  private postpone(client: Client, cmd: Command, argv: string[]): Reply {
    client.flags |= CF.blocked;
    client.lastCommand = cmd.fullName;
    // CLIENT REPLY SKIP applies to the command when it runs.
    if (client.replyMode === ReplyMode.Skip) client.replyMode = ReplyMode.SkipNext;
    this.postponed.set(client, { argv, argFlags: client.flags & (CF.largeArgs | CF.bigArgs) });
    return R.none;
  }

  /**
   * Recomputes the pause in effect from the purposes' pauses (updateClientPauseTypeAndEndTime),
   * dropping those that ended. A laxer type than before releases the postponed clients.
   */
  private update(): void {
    const old = this.type;
    const now = this.server.clock.now();
    let type = PauseType.Off;
    for (const [purpose, p] of this.purposes) {
      // A pause whose end is already past (CLIENT PAUSE 0) is no pause.
      if (p.end < now) this.purposes.delete(purpose);
      else if (p.type > type) type = p.type;
    }
    let end = 0;
    for (const p of this.purposes.values()) if (p.type === type && p.end > end) end = p.end;
    this.type = type;
    this.end = type === PauseType.Off ? 0 : end;
    if (type !== PauseType.Off !== this.gateOn) {
      this.gateOn = type !== PauseType.Off;
      if (this.gateOn) this.server.addGate(this.gate, GATE_ORDER);
      else this.server.removeGate(this.gate);
    }
    if (type < old) this.release();
  }

  /**
   * Lets every postponed client run its command again, after the current event, in the order
   * they were stopped (one may be postponed again by a pause still in effect).
   */
  private release(): void {
    if (this.postponed.size === 0 && this.waiting.length === 0) return;
    const clients = [...this.postponed];
    this.postponed.clear();
    for (const [c] of clients) c.flags &= ~CF.blocked;
    const waiting = this.waiting;
    this.waiting = [];
    queueMicrotask(() => {
      for (const [c, p] of clients) c.resumeWith(p.argv, p.argFlags);
      for (const fn of waiting) fn();
    });
  }
}

/** The flags of this call: a script's declared flags stand for EVAL's and FCALL's own. */
function callBits(client: Client, cmd: Command, argv: string[]): number {
  const flags = cmd.spec.callFlags?.(client, argv);
  return flags === undefined ? cmd.bits : flagBits(flags);
}

/** A write or a command that may replicate, or an EXEC with one queued (Redis's rule). */
function mayReplicate(client: Client, cmd: Command, argv: string[]): boolean {
  const MASK = F.write | F.mayReplicate;
  if ((callBits(client, cmd, argv) & MASK) !== 0) return true;
  if (cmd.name !== "exec" || client.tx === undefined || (client.flags & CF.multi) === 0) {
    return false;
  }
  const q = client.tx.queue;
  for (let i = 0; i + 1 < q.length; i += 2) {
    if ((callBits(client, q[i] as Command, q[i + 1] as string[]) & MASK) !== 0) return true;
  }
  return false;
}
