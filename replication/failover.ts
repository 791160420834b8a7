/**
 * A coordinated failover, as Redis 7.0's FAILOVER: the master pauses writes (a pause of its own
 * purpose, which CLIENT UNPAUSE does not end), waits until a replica (the one named with `TO`, or
 * any) acknowledged every byte of the stream, then turns itself into that replica's replica and
 * sends it `PSYNC <replid> <offset> FAILOVER`: the replica promotes itself and continues the old
 * master partially. The pause ends with the answer to that PSYNC. `TIMEOUT` gives up (or, with
 * `FORCE`, hands over anyway) when no replica caught up in time; `FAILOVER ABORT` gives up at any
 * point. INFO's `master_failover_state` shows `no-failover`, `waiting-for-sync` or
 * `failover-in-progress`.
 *
 * The other side, a replica receiving `PSYNC ... FAILOVER` from its master, is
 * {@linkcode Failover.takeOver}.
 *
 * @module
 */

import { intArg } from "../core/args.ts";
import type { Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import { PausePurpose, PauseType } from "../core/pause.ts";
import { E, fail, R, type Reply } from "../core/resp/reply.ts";
import type { Server } from "../core/server.ts";
import type { MasterSide, ReplicaLink } from "./master.ts";
import type { Handover, ReplicaSide } from "./replica.ts";
import type { ReplState } from "./state.ts";

/** `master_failover_state`. */
export type FailoverState = "no-failover" | "waiting-for-sync" | "failover-in-progress";

/** What FAILOVER's arguments ask for. */
interface FailoverArgs {
  host: string | undefined;
  port: number;
  timeoutMs: number;
  force: boolean;
}

/** FAILOVER [TO host port [FORCE]] [TIMEOUT ms]: each option at most once, in any order. */
function parseArgs(argv: string[]): FailoverArgs {
  const args: FailoverArgs = { host: undefined, port: 0, timeoutMs: 0, force: false };
  for (let j = 1; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    if (opt === "timeout" && j + 1 < argv.length && args.timeoutMs === 0) {
      args.timeoutMs = intArg(argv[++j]!);
      if (args.timeoutMs <= 0) fail("ERR FAILOVER timeout must be greater than 0");
    } else if (opt === "to" && j + 2 < argv.length && args.host === undefined) {
      args.port = intArg(argv[j + 2]!);
      args.host = argv[j + 1]!;
      j += 2;
    } else if (opt === "force" && !args.force) {
      args.force = true;
    } else {
      fail(E.syntax);
    }
  }
  return args;
}

/** The failover a master coordinates, and the takeover of a replica it targets. */
export class Failover implements Handover {
  /** Where the failover is. */
  state: FailoverState = "no-failover";
  /** The replica handed over to (`TO`, or the first one found caught up). */
  private host: string | undefined;
  private port = 0;
  /** When waiting for a replica gives up (ms, the server clock); 0 without TIMEOUT. */
  private endTime = 0;
  private force = false;
  private updateQueued = false;

  /**
   * @param server the server
   * @param repl its replication stream (the offset replicas must reach)
   * @param master its replicas
   * @param replica its replica side (the master becomes a replica of the target)
   */
  constructor(
    private readonly server: Server,
    private readonly repl: ReplState,
    private readonly master: MasterSide,
    private readonly replica: ReplicaSide,
  ) {
    replica.handover = this;
    const served = master.onAck;
    // An ACK may be the one the failover waits for: checked after the event (Redis checks in
    // beforeSleep, not while handling the ACK: handing over drops links).
    master.onAck = () => {
      served();
      if (this.state !== "waiting-for-sync" || this.updateQueued) return;
      this.updateQueued = true;
      queueMicrotask(() => {
        this.updateQueued = false;
        this.update();
      });
    };
    // The PINGs of replicationCron would move the offset replicas must reach; Redis holds them
    // while a failover with a TIMEOUT pauses clients.
    master.pingsHeld = () => this.endTime !== 0 && server.pause.active;
  }

  /** True from FAILOVER until the failover ends or is aborted. */
  get active(): boolean {
    return this.state !== "no-failover";
  }

  /** True while our PSYNC must carry FAILOVER (the replica side asks; see {@linkcode Handover}). */
  get pending(): boolean {
    return this.state === "failover-in-progress";
  }

  /** The answer to our `PSYNC ... FAILOVER`: the failover ends, or is aborted when refused. */
  answered(accepted: boolean): void {
    if (this.state !== "failover-in-progress") return;
    if (accepted) this.clear();
    else this.abort("Failover target rejected psync request");
  }

  /**
   * Checks whether the failover can go on (updateFailoverStatus): the timeout, then a replica
   * that acknowledged the whole stream. Called every cron tick and after ACKs.
   */
  update(): void {
    if (this.state !== "waiting-for-sync") return;
    const server = this.server;
    if (this.endTime !== 0 && this.endTime <= server.clock.now()) {
      if (this.force) {
        server.log(
          "notice",
          `FAILOVER to ${this.host}:${this.port} time out exceeded, failing over.`,
        );
        this.handOver();
      } else this.abort("Replica never caught up before timeout");
      return;
    }
    const offset = this.repl.offset;
    let link: ReplicaLink | undefined;
    if (this.host !== undefined) link = this.find(this.host, this.port);
    else {
      for (const l of this.master.links.values()) {
        if (l.ackOffset !== offset) continue;
        link = l;
        this.host = l.ip;
        this.port = l.conf.port;
        break;
      }
    }
    if (link === undefined || link.ackOffset !== offset) return;
    server.log("notice", `Failover target ${this.host}:${this.port} is synced, failing over.`);
    this.handOver();
  }

  /** Becomes a replica of the target: the PSYNC it sends carries FAILOVER. */
  private handOver(): void {
    this.state = "failover-in-progress";
    this.replica.setMaster(this.host!, this.port);
  }

  /** Gives up (abortFailover): back to master if we were handing over; writes resume. */
  abort(reason: string): void {
    if (this.state === "no-failover") return;
    const to = this.host !== undefined ? `to ${this.host}:${this.port}` : "to any replica";
    this.server.log("notice", `FAILOVER ${to} aborted: ${reason}`);
    if (this.state === "failover-in-progress") this.replica.unsetMaster();
    this.clear();
  }

  /** The failover is over (clearFailoverState): forget it and end its pause. */
  private clear(): void {
    this.state = "no-failover";
    this.host = undefined;
    this.port = 0;
    this.endTime = 0;
    this.force = false;
    this.server.pause.unpause(PausePurpose.Failover);
  }

  /** The attached replica at `host:port` (its announced or peer address, its listening port). */
  private find(host: string, port: number): ReplicaLink | undefined {
    const h = host.toLowerCase();
    for (const link of this.master.links.values()) {
      if (link.ip.toLowerCase() === h && link.conf.port === port) return link;
    }
    return undefined;
  }

  /**
   * `PSYNC <replid> <offset> FAILOVER` received: as a replica of the sender, with its
   * replication id, we become master (the PSYNC then continues the sender as our replica).
   *
   * @param client the old master's connection
   * @param replid the id it asks to continue
   * @throws {ErrorReply} Redis's refusal when we are a master or the id is not ours
   */
  takeOver(client: Client, replid: string): void {
    const server = this.server;
    server.log("warning", `Failover request received for replid ${replid}.`);
    if (server.masterHost === undefined) fail("ERR PSYNC FAILOVER can't be sent to a master.");
    if (replid.toLowerCase() !== this.repl.replid) {
      fail("ERR PSYNC FAILOVER replid must match my replid.");
    }
    this.replica.unsetMaster();
    server.log("notice", `MASTER MODE enabled (failover request from '${client.describe()}')`);
  }

  /** FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds] */
  readonly command: CommandSpec = {
    name: "failover",
    arity: -1,
    flags: ["admin", "noscript", "stale"],
    docs: {
      summary: "Start a coordinated failover between this server and one of its replicas.",
      since: "6.2.0",
      group: "server",
      complexity: "O(1)",
      args: "[TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds]",
    },
    execute: (_client, argv): Reply => {
      const server = this.server;
      if (argv.length === 2 && argv[1]!.toLowerCase() === "abort") {
        if (this.state === "no-failover") return fail("ERR No failover in progress.");
        this.abort("Failover manually aborted");
        return R.ok;
      }
      const args = parseArgs(argv);
      if (this.state !== "no-failover") return fail("ERR FAILOVER already in progress.");
      if (server.masterHost !== undefined) {
        return fail("ERR FAILOVER is not valid when server is a replica.");
      }
      if (this.master.links.size === 0) return fail("ERR FAILOVER requires connected replicas.");
      if (args.force && (args.timeoutMs === 0 || args.host === undefined)) {
        return fail(
          "ERR FAILOVER with force option requires both a timeout and target HOST and IP.",
        );
      }
      if (args.host !== undefined) {
        const link = this.find(args.host, args.port);
        if (link === undefined) return fail("ERR FAILOVER target HOST and PORT is not a replica.");
        if (link.state !== "online") return fail("ERR FAILOVER target replica is not online.");
        this.host = args.host;
        this.port = args.port;
        server.log("notice", `FAILOVER requested to ${args.host}:${args.port}.`);
      } else server.log("notice", "FAILOVER requested to any replica.");
      if (args.timeoutMs !== 0) this.endTime = server.clock.now() + args.timeoutMs;
      this.force = args.force;
      this.state = "waiting-for-sync";
      // Until the failover ends, however long (Redis pauses until LLONG_MAX).
      server.pause.pause(Number.MAX_SAFE_INTEGER, PauseType.Write, PausePurpose.Failover);
      return R.ok;
    },
  };
}
