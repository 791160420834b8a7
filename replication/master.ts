/**
 * The master side: replicas attached to us. `REPLCONF` records what a replica announces,
 * `PSYNC`/`SYNC` either continue from the backlog (`+CONTINUE`) or start a full sync
 * (`+FULLRESYNC` and an RDB), after which the replica is fed the stream through its channel.
 * Once a second (replicationCron): PING in the stream, keepalive newlines to replicas waiting
 * for their RDB, timeouts, output buffer limits, and the backlog's time to live.
 *
 * @module
 */

import { CF, type Client, ReplyMode } from "../core/client.ts";
import { clientInfoLine } from "../core/client_info.ts";
import { parseObufLimits } from "../core/config_defs.ts";
import type { Server } from "../core/server.ts";
import { Channel, type ChannelLimits } from "./channel.ts";
import { SyncJob } from "./full_sync.ts";
import { startImage } from "./rdb_bridge.ts";
import type { ReplState, StreamSink } from "./state.ts";

/** What a replica announced with REPLCONF before PSYNC. */
export interface ReplConf {
  /** `listening-port` (0 when not given). */
  port: number;
  /** `ip-address`, when given. */
  ip: string | undefined;
  /** `capa eof`: takes the diskless `$EOF:` payload. */
  eof: boolean;
  /** `capa psync2`: understands `+CONTINUE <replid>`. */
  psync2: boolean;
}

/** Redis's replica states, as INFO names them. */
export type ReplicaState = "wait_bgsave" | "send_bulk" | "online";

/** The replica's address: the one it announced, else its connection's. */
function ipOf(client: Client, conf: ReplConf): string {
  if (conf.ip !== undefined) return conf.ip;
  const addr = client.addr;
  return addr.slice(0, addr.lastIndexOf(":"));
}

/** `ip:listening-port`, as Redis names a replica in its log. */
function nameOf(client: Client, conf: ReplConf): string {
  return `${ipOf(client, conf)}:${conf.port}`;
}

const encoder = new TextEncoder();
const NEWLINE = new Uint8Array([10]);

/** A replica attached to us. */
export class ReplicaLink implements StreamSink {
  state: ReplicaState = "wait_bgsave";
  /** True once FULLRESYNC or CONTINUE is queued: stream bytes follow. */
  streaming = false;
  /** The last offset it acknowledged (REPLCONF ACK). */
  ackOffset = 0;
  /** The last offset it said its AOF synced (REPLCONF ACK ... FACK, Redis 7.2). */
  aofOffset = 0;
  /** When it last acknowledged (ms). */
  ackTime: number;
  readonly channel: Channel;
  /** Resolves the wait for the first ACK after a diskless payload. */
  private acked: (() => void) | undefined;

  /**
   * @param client the replica's connection
   * @param conf what it announced
   * @param prePsync it used SYNC (no `+FULLRESYNC` line, no ACKs)
   * @param master the master side it belongs to
   */
  constructor(
    readonly client: Client,
    readonly conf: ReplConf,
    readonly prePsync: boolean,
    master: MasterSide,
  ) {
    const server = client.server;
    this.ackTime = server.clock.now();
    this.channel = new Channel(
      client.transport!,
      () => master.limits,
      (reason) => {
        server.log(
          "warning",
          `Client ${
            clientInfoLine(client)
          } scheduled to be closed ASAP for overcoming of output buffer limits.`,
        );
        server.stats.outputBufferLimitDisconnections++;
        server.log("verbose", `Replica output buffer: ${reason}`);
        client.close();
      },
      () => server.clock.now(),
    );
    // CLIENT LIST's omem of a replica is what waits in its channel.
    client.outputSource = () => this.channel.pending;
  }

  /** Queues stream bytes. */
  push(bytes: Uint8Array): void {
    this.channel.push(bytes);
  }

  /** Resolves at the replica's next REPLCONF ACK. */
  nextAck(): Promise<void> {
    return new Promise((r) => (this.acked = r));
  }

  /** An ACK arrived, with the AOF's offset when the replica sent FACK. */
  ack(offset: number, now: number, fack?: number): void {
    if (offset > this.ackOffset) this.ackOffset = offset;
    if (fack !== undefined && fack > this.aofOffset) this.aofOffset = fack;
    this.ackTime = now;
    const w = this.acked;
    this.acked = undefined;
    w?.();
  }

  /** The address INFO and ROLE show: the announced one, else the peer's. */
  get ip(): string {
    return ipOf(this.client, this.conf);
  }

  /** `ip:port` for log lines, as replicationGetSlaveName. */
  get name(): string {
    return nameOf(this.client, this.conf);
  }
}

/** The replicas of a server and their synchronisation. */
export class MasterSide {
  /** Attached replicas, in attach order. */
  readonly links = new Map<Client, ReplicaLink>();
  /** Replica class output buffer limits (client-output-buffer-limit replica). */
  limits: ChannelLimits = { hard: 0, soft: 0, seconds: 0 };
  /** Since when no replica is attached (ms), for repl-backlog-ttl. */
  private noReplicasSince: number;
  private job: SyncJob | undefined;
  private readonly waitingFull: ReplicaLink[] = [];
  /** Called when a replica's acknowledged offset moves (WAIT, FAILOVER). */
  onAck: () => void = () => {};
  /** True while the periodic PING must not move the offset (a failover waits for it). */
  pingsHeld: () => boolean = () => false;
  /**
   * On a replica, the database our master's stream is in (the master client's): chained
   * replicas doing a full sync start from it (the `repl-stream-db` aux field).
   */
  replicaStreamDb: (() => number | undefined) | undefined;

  /**
   * @param server the server
   * @param state its replication stream
   */
  constructor(private readonly server: Server, private readonly state: ReplState) {
    this.noReplicasSince = server.clock.now();
    this.readLimits();
    server.config.onChange((name) => {
      if (name === "client-output-buffer-limit" || name === "repl-backlog-size") this.readLimits();
    });
    server.on("clientClosed", (client) => this.detach(client));
  }

  private readLimits(): void {
    const l = parseObufLimits(this.server.config.str("client-output-buffer-limit"))
      .find((x) => x.cls === "replica");
    if (l === undefined) return;
    // A hard limit under the backlog's size is raised to it, as Redis does: the backlog holds
    // that much anyway, and a smaller limit would cut a replica right after a partial resync.
    const backlog = this.server.config.num("repl-backlog-size");
    const hard = l.hard !== 0 && l.hard < backlog ? backlog : l.hard;
    this.limits = { hard, soft: l.soft, seconds: l.seconds };
  }

  /** REPLCONF's per-client announcements (kept until PSYNC). */
  confOf(client: Client): ReplConf {
    let conf = client.ext.get("replconf") as ReplConf | undefined;
    if (conf === undefined) {
      conf = { port: 0, ip: undefined, eof: false, psync2: false };
      client.ext.set("replconf", conf);
    }
    return conf;
  }

  /** REPLCONF ACK <offset> [FACK <aofoffset>] from an attached replica. */
  ack(client: Client, offset: number, fack?: number): void {
    const link = this.links.get(client);
    if (link === undefined) return;
    link.ack(offset, this.server.clock.now(), fack);
    this.onAck();
  }

  /**
   * PSYNC replid offset (or SYNC when `replid` is undefined): continues from the backlog when it
   * can, else starts a full sync. The replies go out through the replica's channel.
   */
  sync(client: Client, replid: string | undefined, offset: number): void {
    const server = this.server;
    const state = this.state;
    const conf = this.confOf(client);
    server.log("notice", `Replica ${nameOf(client, conf)} asks for synchronization`);
    state.flush();
    if (replid !== undefined) {
      if (this.tryPartial(client, conf, replid, offset)) {
        server.stats.syncPartialOk++;
        return;
      }
      if (replid !== "?") server.stats.syncPartialErr++;
    }
    server.stats.syncFull++;
    const link = this.attach(client, conf, replid === undefined);
    if (state.backlog === undefined) {
      // A backlog created from scratch starts a new history.
      state.changeReplId();
      state.clearReplId2();
      state.createBacklog();
      server.log(
        "notice",
        `Replication backlog created, my new replication IDs are '${state.replid}' and '${state.replid2}'`,
      );
    }
    this.waitingFull.push(link);
    this.startFullSync();
  }

  private tryPartial(client: Client, conf: ReplConf, replid: string, offset: number): boolean {
    const state = this.state;
    const log = this.server.log;
    const idOk = replid.toLowerCase() === state.replid ||
      (replid.toLowerCase() === state.replid2 && offset <= state.secondOffset);
    if (!idOk) {
      if (replid === "?") log("notice", `Full resync requested by replica ${nameOf(client, conf)}`);
      else {
        log(
          "notice",
          `Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '${replid}', my replication IDs are '${state.replid}' and '${state.replid2}')`,
        );
      }
      return false;
    }
    const backlog = state.backlog;
    if (backlog === undefined || !backlog.covers(offset)) {
      log(
        "notice",
        `Unable to partial resync with replica ${
          nameOf(client, conf)
        } for lack of backlog (Replica request was: ${offset}).`,
      );
      return false;
    }
    const link = this.attach(client, conf, false);
    link.state = "online";
    link.channel.push(
      encoder.encode(conf.psync2 ? `+CONTINUE ${state.replid}\r\n` : "+CONTINUE\r\n"),
    );
    const data = backlog.from(offset);
    link.channel.push(data);
    link.streaming = true;
    log(
      "notice",
      `Partial resynchronization request from ${link.name} accepted. Sending ${data.length} bytes of backlog starting from offset ${offset}.`,
    );
    return true;
  }

  private attach(client: Client, conf: ReplConf, prePsync: boolean): ReplicaLink {
    client.flags |= CF.replica;
    // A replica gets the stream only: a reply to anything it sends would corrupt it.
    client.replyMode = ReplyMode.Off;
    const link = new ReplicaLink(client, conf, prePsync, this);
    this.links.set(client, link);
    this.state.sinks.add(link);
    return link;
  }

  /** Starts the image for replicas waiting for one, unless one is being written or blocked. */
  private startFullSync(): void {
    if (this.job !== undefined || this.waitingFull.length === 0) return;
    const server = this.server;
    const state = this.state;
    state.flush();
    // After a full sync the stream must select its database again (replicationSetupSlaveForFullResync).
    const streamDb = this.replicaStreamDb?.() ?? (state.seldb === -1 ? 0 : state.seldb);
    state.seldb = -1;
    const image = startImage(server, { streamDb, replId: state.replid, offset: state.offset });
    if (image === undefined) return; // Retried from cron once the other job is done.
    const job = new SyncJob(server, image, state.offset, () => {
      if (this.job === job) this.job = undefined;
      this.startFullSync();
    });
    this.job = job;
    const eofForm = server.config.bool("repl-diskless-sync");
    server.log(
      "notice",
      `Starting BGSAVE for SYNC with target: ${eofForm ? "replicas sockets" : "disk"}`,
    );
    for (const link of this.waitingFull.splice(0)) {
      if (!this.links.has(link.client)) continue;
      if (!link.prePsync) {
        link.channel.push(encoder.encode(`+FULLRESYNC ${state.replid} ${job.offset}\r\n`));
      }
      const eof = eofForm && link.conf.eof;
      if (!eof) link.state = "send_bulk";
      link.channel.pushSource(this.payloadFor(link, job, eof));
      link.streaming = true;
    }
  }

  /** The RDB payload for one replica; once it is all handed to the socket the replica is online. */
  private async *payloadFor(
    link: ReplicaLink,
    job: SyncJob,
    eof: boolean,
  ): AsyncGenerator<Uint8Array> {
    yield* job.payload(eof);
    // A diskless replica finds the end mark in the last bytes it read: nothing may follow them
    // until it says it loaded the RDB (Redis starts the stream on the first ACK).
    if (eof && !link.prePsync) await link.nextAck();
    link.state = "online";
    link.ackTime = this.server.clock.now();
    this.server.log("notice", `Synchronization with replica ${link.name} succeeded`);
  }

  /** Forgets a replica that went away. */
  private detach(client: Client): void {
    const link = this.links.get(client);
    if (link === undefined) return;
    this.links.delete(client);
    this.state.sinks.delete(link);
    link.channel.close();
    const i = this.waitingFull.indexOf(link);
    if (i >= 0) this.waitingFull.splice(i, 1);
    if (this.links.size === 0) this.noReplicasSince = this.server.clock.now();
    this.server.log("notice", `Connection with replica ${link.name} lost.`);
  }

  /** Closes every replica link (they reconnect and resync: a new id, a new master). */
  disconnectAll(): void {
    for (const client of [...this.links.keys()]) client.close();
  }

  /** Online replicas whose acknowledged offset reached `offset`. */
  countAcks(offset: number): number {
    let n = 0;
    for (const link of this.links.values()) {
      if (link.state === "online" && link.ackOffset >= offset) n++;
    }
    return n;
  }

  /** Online replicas whose AOF synced up to `offset` (WAITAOF). */
  countAofAcks(offset: number): number {
    let n = 0;
    for (const link of this.links.values()) {
      if (link.state === "online" && link.aofOffset >= offset) n++;
    }
    return n;
  }

  /** Online replicas that acknowledged within `maxLag` seconds (min-replicas-to-write). */
  goodReplicas(maxLag: number): number {
    const now = this.server.clock.now();
    let n = 0;
    for (const link of this.links.values()) {
      if (link.state === "online" && now - link.ackTime <= maxLag * 1000) n++;
    }
    return n;
  }

  /** The once-a-second work of replicationCron for attached replicas. */
  cron(cronLoops: number): void {
    const server = this.server;
    const state = this.state;
    const now = server.clock.now();
    const period = server.config.num("repl-ping-replica-period");
    if (this.links.size !== 0 && cronLoops % period === 0 && !this.pingsHeld()) {
      state.feedCommand(["PING"]);
    }
    const timeout = server.config.num("repl-timeout") * 1000;
    for (const link of [...this.links.values()]) {
      if (link.channel.check(now)) continue;
      if (link.state !== "online") {
        // Keeps the replica from timing out while its RDB is being prepared.
        if (!link.streaming) link.client.transport?.write(NEWLINE);
        continue;
      }
      if (!link.prePsync && now - link.ackTime > timeout) {
        server.log("warning", `Disconnecting timedout replica (streaming sync): ${link.name}`);
        link.client.close();
      }
    }
    this.startFullSync();
    const ttl = server.config.num("repl-backlog-ttl");
    if (
      this.links.size === 0 && ttl > 0 && state.backlog !== undefined &&
      server.masterHost === undefined && now - this.noReplicasSince > ttl * 1000
    ) {
      // Without a backlog the offset stops moving: the old id must not be resumable.
      state.changeReplId();
      state.clearReplId2();
      state.freeBacklog();
      server.log(
        "notice",
        `Replication backlog freed after ${ttl} seconds without connected replicas.`,
      );
    }
  }

  /** Replicas-side view for a replica that becomes master or changes master. */
  resetNoReplicasSince(): void {
    this.noReplicasSince = this.server.clock.now();
  }
}
