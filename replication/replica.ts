/**
 * The replica side: our link to a master (REPLICAOF host port, the `replicaof` directive). The
 * link connects, shakes hands (PING, AUTH with masterauth, REPLCONF listening-port and capa,
 * PSYNC), loads the RDB of a full sync (`$<len>` or `$EOF:<mark>`) or continues from where it
 * was (`+CONTINUE`), then applies the command stream through a client flagged as our master
 * (so replica-read-only lets it write, and expired keys are left to the master's DELs).
 *
 * Offsets count the bytes of applied commands. `REPLCONF ACK <offset>` goes out every second
 * and on `REPLCONF GETACK` (the offset then excludes the GETACK itself). After a link drop the
 * link reconnects within a second and asks for `PSYNC <replid> <offset + 1>`. The stream is
 * proxied byte for byte to our own replicas and backlog.
 *
 * @module
 */

import { CF, Client, ReplyMode } from "../core/client.ts";
import { netAdapter, tlsAdapter } from "../core/net/runtime.ts";
import type { Connection, Transport } from "../core/net/transport.ts";
import { aofOf } from "../core/persistence/aof.ts";
import { ErrorReply } from "../core/resp/reply.ts";
import type { Server } from "../core/server.ts";
import { handshake, PsyncRefused, receiveRdb, sendCommand } from "./handshake.ts";
import { LinkClosedError, LinkReader, StreamError } from "./link_reader.ts";
import type { MasterSide } from "./master.ts";
import { loadImage } from "./rdb_bridge.ts";
import type { ReplState } from "./state.ts";

/** Redis's repl_state values, as ROLE names them. */
export type LinkState = "none" | "connect" | "connecting" | "handshake" | "sync" | "connected";

/** A coordinated failover handing the master role over in our PSYNC (failover.ts). */
export interface Handover {
  /** True when the next PSYNC must carry `FAILOVER`. */
  readonly pending: boolean;
  /** The master answered that PSYNC: accepted (CONTINUE or FULLRESYNC) or not. */
  answered(accepted: boolean): void;
}

/** Our link to our master. */
export class ReplicaSide {
  host = "";
  port = 0;
  state: LinkState = "none";
  /** The client our master's commands run as, while connected. */
  masterClient: Client | undefined;
  /** `slave_repl_offset`: bytes of the stream applied. */
  reploff = 0;
  /** When the link last received anything (ms). */
  lastIo = 0;
  /** When the link went down (ms), 0 while up or never connected. */
  downSince = 0;
  /** RDB transfer progress: total (-1 when streamed with an end mark) and read bytes. */
  transferSize = -1;
  transferRead = 0;
  private conn: Connection | undefined;
  private reader: LinkReader | undefined;
  /** Bumped whenever the link is dropped: async steps of an older link stop. */
  private epoch = 0;
  /** We can ask to continue (PSYNC replid offset+1) rather than for a full sync. */
  private canContinue = false;
  /** The database the stream was in when the link dropped. */
  private cachedDb = 0;
  /** Offset at the start of the command being applied (a GETACK reports it). */
  private cmdStart = 0;
  /** Stream bytes of an open MULTI, applied but not yet counted (see applyStream). */
  private carry: Uint8Array[] = [];
  private carryLen = 0;
  /** Called after the role changed (REPLICAOF): the write gates depend on it. */
  onRoleChange: () => void = () => {};
  /** The failover that may be handing over through our PSYNC. */
  handover: Handover | undefined;

  /**
   * @param server the server
   * @param repl its replication stream (ids, offset, backlog)
   * @param master its own replicas
   */
  constructor(
    private readonly server: Server,
    private readonly repl: ReplState,
    private readonly master: MasterSide,
  ) {}

  /** REPLICAOF host port: follow a (new) master. */
  setMaster(host: string, port: number): void {
    const server = this.server;
    const wasMaster = server.masterHost === undefined;
    this.dropLink();
    server.masterHost = host;
    this.host = host;
    this.port = port;
    server.config.set("replicaof", [host, String(port)]);
    for (const c of [...server.clients.values()]) {
      if (c.flags & CF.blocked) {
        server.blocking.unblock(
          c,
          new ErrorReply(
            "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)",
          ),
        );
      }
    }
    if (wasMaster) {
      // Our own history is what we ask the new master to continue (replicationCacheMasterUsingMyself).
      this.repl.flush();
      this.canContinue = true;
      this.cachedDb = 0;
    }
    this.state = "connect";
    this.onRoleChange();
    server.log("notice", `Connecting to MASTER ${host}:${port}`);
    void this.connect();
  }

  /**
   * Takes the history of the dump loaded at startup as our own: the first sync asks the master
   * to continue it (replicationCacheMasterUsingMyself).
   *
   * @param replid the dump's replication id
   * @param offset its offset
   * @param db the database its stream had selected
   */
  resume(replid: string, offset: number, db: number): void {
    this.repl.replid = replid;
    this.repl.offset = offset;
    this.canContinue = true;
    this.cachedDb = db;
  }

  /** The database our master's stream has selected, when we have or remember a master link. */
  streamDb(): number | undefined {
    if (this.masterClient !== undefined) return this.masterClient.db.id;
    return this.canContinue ? this.cachedDb : undefined;
  }

  /** REPLICAOF NO ONE: become a master, keeping our history as the previous one. */
  unsetMaster(): void {
    const server = this.server;
    if (server.masterHost === undefined) return;
    server.masterHost = undefined;
    this.canContinue = false;
    this.dropLink();
    server.config.set("replicaof", ["no", "one"]);
    this.repl.shiftReplId();
    // Our replicas must learn the new id; they can continue with us partially.
    this.master.disconnectAll();
    this.state = "none";
    this.repl.seldb = -1;
    this.master.resetNoReplicasSince();
    this.onRoleChange();
  }

  /** Closes the link for good (the server shuts down). */
  stop(): void {
    this.masterClient = undefined;
    this.dropLink();
  }

  /** Closes the link in whatever state it is (a connected master is cached by its close hook). */
  private dropLink(): void {
    this.epoch++;
    const mc = this.masterClient;
    if (mc !== undefined) mc.close();
    this.conn?.destroy();
    this.conn = undefined;
    this.reader?.close();
    this.reader = undefined;
  }

  /** The link broke or timed out: try again from cron. */
  private linkDown(reason: string): void {
    if (this.server.masterHost === undefined) return;
    this.server.log("warning", reason);
    this.dropLink();
    this.state = "connect";
    if (this.downSince === 0) this.downSince = this.server.clock.now();
  }

  private async connect(): Promise<void> {
    const epoch = ++this.epoch;
    const server = this.server;
    this.state = "connecting";
    this.lastIo = server.clock.now();
    let conn: Connection;
    try {
      const at = { hostname: this.host, port: this.port };
      if (server.config.bool("tls-replication")) {
        const tls = server.tlsClientSettings();
        conn = await (await tlsAdapter(server.netAdapterName)).connect({ ...at, tls });
      } else {
        conn = await (await netAdapter(server.netAdapterName)).connect(at);
      }
    } catch (e) {
      if (epoch === this.epoch) {
        this.state = "connect";
        server.log("warning", `Error condition on socket for SYNC: ${(e as Error)?.message ?? e}`);
      }
      return;
    }
    if (epoch !== this.epoch) {
      conn.destroy();
      return;
    }
    server.log("notice", "MASTER <-> REPLICA sync started");
    const reader = new LinkReader();
    this.conn = conn;
    this.reader = reader;
    conn.attach({
      onData: (chunk) => this.onData(epoch, chunk),
      onClose: () => this.onClose(epoch),
    });
    try {
      await this.sync(epoch, conn, reader);
    } catch (e) {
      if (epoch !== this.epoch) return;
      if (e instanceof LinkClosedError) {
        this.linkDown("Master closed the connection during the handshake");
      } else this.linkDown((e as Error)?.message ?? String(e));
    }
  }

  private onData(epoch: number, chunk: Uint8Array): void {
    if (epoch !== this.epoch) return;
    this.lastIo = this.server.clock.now();
    this.reader!.feed(chunk);
    if (this.state === "connected") this.applyStream();
  }

  private onClose(epoch: number): void {
    if (epoch !== this.epoch) return;
    const mc = this.masterClient;
    if (mc !== undefined) mc.onTransportClosed();
    else this.linkDown("Connection with master lost during synchronization");
  }

  /** The handshake, then a full sync (load the RDB) or a partial one. */
  private async sync(epoch: number, conn: Connection, reader: LinkReader): Promise<void> {
    const server = this.server;
    const log = server.log;
    const repl = this.repl;
    this.state = "handshake";
    repl.flush();
    const psync = this.canContinue ? [repl.replid, String(repl.offset + 1)] : ["?", "-1"];
    const handover = this.handover?.pending === true ? this.handover : undefined;
    if (handover !== undefined) psync.push("FAILOVER");
    let answer;
    try {
      answer = await handshake(server, conn, reader, psync);
    } catch (e) {
      if (handover !== undefined && e instanceof PsyncRefused && epoch === this.epoch) {
        log("warning", e.message);
        handover.answered(false);
      }
      throw e;
    }
    if (epoch !== this.epoch) return;
    if (!answer.full) {
      this.partialSync(answer.replid);
      handover?.answered(true);
      return;
    }
    handover?.answered(true);
    this.state = "sync";
    this.transferSize = -1;
    this.transferRead = 0;
    const image = await receiveRdb(server, reader, (total, read) => {
      this.transferSize = total;
      this.transferRead = read;
    });
    if (epoch !== this.epoch) return;
    this.transferRead = image.length;
    // A new history: our replicas and backlog belong to the old one (replicationAttachToNewMaster).
    this.canContinue = false;
    this.master.disconnectAll();
    repl.freeBacklog();
    log("notice", "MASTER <-> REPLICA sync: Flushing old data");
    log("notice", "MASTER <-> REPLICA sync: Loading DB in memory");
    let db: number;
    try {
      db = loadImage(server, image);
    } catch (e) {
      log(
        "warning",
        "Failed trying to load the MASTER synchronization DB from socket, check server logs.",
      );
      throw e;
    }
    repl.replid = answer.replid;
    repl.offset = answer.offset;
    repl.clearReplId2();
    repl.createBacklog();
    this.connected(db);
    log("notice", "MASTER <-> REPLICA sync: Finished with success");
  }

  /** `+CONTINUE [replid]`: the master continues our history (possibly under a new id). */
  private partialSync(newId: string): void {
    const repl = this.repl;
    const log = this.server.log;
    log("notice", "Successful partial resynchronization with master.");
    if (newId.length === 40 && newId !== repl.replid) {
      log("warning", `Master replication ID changed to ${newId}`);
      repl.replid2 = repl.replid;
      repl.secondOffset = repl.offset + 1;
      repl.replid = newId;
      // Our replicas must learn the new id.
      this.master.disconnectAll();
    }
    if (repl.backlog === undefined) repl.createBacklog();
    log("notice", "MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
    this.connected(this.cachedDb);
  }

  /** The link is up: create the master client and apply what already arrived. */
  private connected(db: number): void {
    const server = this.server;
    const conn = this.conn!;
    const host = `${this.host}:${this.port}`;
    // The master gets no replies: only ACKs, written on the connection directly.
    const transport: Transport = {
      remoteAddress: host,
      localAddress: conn.localAddress,
      sendsBeforeNextData: false,
      get pendingBytes() {
        return conn.pendingBytes;
      },
      write: () => {},
      end: () => conn.end(),
      destroy: () => conn.destroy(),
    };
    const mc = new Client(server, transport);
    mc.flags |= CF.master;
    server.acl.exempt(mc);
    mc.replyMode = ReplyMode.Off;
    mc.db = server.dbs[db] ?? server.dbs[0]!;
    server.clients.set(mc.id, mc);
    for (const h of server.hooks.clientCreated) h(mc);
    mc.onClose(() => {
      for (const h of server.hooks.clientClosed) h(mc);
      this.masterClosed(mc);
    });
    this.masterClient = mc;
    this.state = "connected";
    this.downSince = 0;
    this.reploff = this.repl.offset;
    this.canContinue = true;
    // The first ACK tells a master that streamed the RDB that we are online.
    this.sendAck(this.reploff);
    if (this.reader!.length !== 0) this.applyStream();
  }

  /** The master client went away (link drop, CLIENT KILL): keep what a PSYNC needs. */
  private masterClosed(mc: Client): void {
    if (this.masterClient !== mc) return;
    this.masterClient = undefined;
    this.cachedDb = mc.db.id;
    // The open transaction died with the client: the master resends it from its MULTI.
    this.carry = [];
    this.carryLen = 0;
    if (this.server.masterHost === undefined) return;
    this.server.log("notice", "Connection with master lost.");
    this.server.log("notice", "Caching the disconnected master state.");
    this.linkDown("MASTER <-> REPLICA link lost: will reconnect");
    // At once rather than at the next cron: the backlog we continue from may be recycled
    // meanwhile (replicationHandleMasterDisconnection).
    this.server.log("notice", `Reconnecting to MASTER ${this.host}:${this.port}`);
    void this.connect();
  }

  /**
   * Applies every complete command received, then proxies the applied bytes to our replicas
   * and backlog. Commands inside a MULTI count as applied only with their EXEC (Redis advances
   * the master's reploff outside MULTI only): a link lost mid-transaction resumes at its MULTI.
   */
  private applyStream(): void {
    const mc = this.masterClient;
    const reader = this.reader;
    if (mc === undefined || reader === undefined) return;
    const server = this.server;
    server.tick();
    let consumed = 0;
    let committed = 0;
    let carried: Uint8Array[] = [];
    try {
      while ((mc.flags & CF.closed) === 0) {
        const argv = reader.frame();
        if (argv === undefined) break;
        if (server.pause.type !== 0 && this.heldByPause(mc, argv)) {
          // Paused: the stream waits, received but not applied, as Redis's master client does.
          reader.unread(reader.frameBytes);
          break;
        }
        this.cmdStart = this.reploff;
        if (reader.frameBig) {
          // Only commands that take an argument this long may run with one (see big_string.ts).
          mc.flags |= CF.bigArgs;
          try {
            server.call(mc, argv);
          } finally {
            mc.flags &= ~CF.bigArgs;
          }
        } else server.call(mc, argv);
        consumed += reader.frameBytes;
        if ((mc.flags & CF.multi) !== 0) continue;
        if (this.carryLen !== 0) {
          carried = this.carry;
          this.reploff += this.carryLen;
          this.carry = [];
          this.carryLen = 0;
        }
        this.reploff += consumed - committed;
        committed = consumed;
      }
    } catch (e) {
      if (!(e instanceof StreamError)) throw e;
      server.log("warning", `Protocol error from MASTER: ${e.message}`);
      mc.close();
    } finally {
      server.endBatch();
    }
    if (consumed === 0) return;
    const tail = reader.consumedTail(consumed);
    for (const part of carried) this.repl.feedRaw(part);
    if (committed !== 0) this.repl.feedRaw(tail.subarray(0, committed));
    if (committed < consumed && this.masterClient === mc) {
      this.carry.push(tail.slice(committed));
      this.carryLen += consumed - committed;
    }
  }

  /** True when CLIENT PAUSE holds the master's `argv` now; the stream resumes when it ends. */
  private heldByPause(mc: Client, argv: string[]): boolean {
    const cmd = this.server.resolve(argv);
    if (typeof cmd === "string" || !this.server.pause.postpones(mc, cmd, argv)) return false;
    if (!this.resumeQueued) {
      this.resumeQueued = true;
      this.server.pause.whenEased(() => {
        this.resumeQueued = false;
        if (this.masterClient === mc && this.state === "connected") this.applyStream();
      });
    }
    return true;
  }

  private resumeQueued = false;

  /**
   * Sends `REPLCONF ACK <offset>` (the applied offset by default), with `FACK <offset>` (what
   * our AOF synced, for the master's WAITAOF) while the AOF is on, as Redis 7.2 does.
   */
  sendAck(offset = this.reploff): void {
    if (this.state !== "connected") return;
    const fsynced = aofOf(this.server).fsyncedReploff;
    const fack = fsynced === -1 ? [] : ["FACK", String(fsynced)];
    sendCommand(this.conn!, ["REPLCONF", "ACK", String(offset), ...fack]);
  }

  /** REPLCONF GETACK from our master: acknowledge what was applied before it. */
  getAck(): void {
    this.sendAck(this.cmdStart);
  }

  /** The once-a-second work: connect, ACK, timeouts (replicationCron). */
  cron(): void {
    const server = this.server;
    if (server.masterHost === undefined) return;
    const now = server.clock.now();
    const timeout = server.config.num("repl-timeout") * 1000;
    switch (this.state) {
      case "connect":
        server.log("notice", `Connecting to MASTER ${this.host}:${this.port}`);
        void this.connect();
        break;
      case "connecting":
      case "handshake":
        if (now - this.lastIo > timeout) this.linkDown("Timeout connecting to the MASTER...");
        break;
      case "sync":
        if (now - this.lastIo > timeout) {
          this.linkDown(
            "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.",
          );
        }
        break;
      case "connected":
        if (now - this.lastIo > timeout) {
          server.log("warning", "MASTER timeout: no data nor PING received...");
          this.masterClient?.close();
          break;
        }
        this.sendAck();
        break;
    }
  }

  /** True with a master connected or cached (the offsets in INFO are meaningful). */
  get hasHistory(): boolean {
    return this.masterClient !== undefined || this.canContinue;
  }

  /** `slave_read_repl_offset`: applied plus received and not yet applied. */
  get readOffset(): number {
    return this.reploff + this.carryLen +
      (this.state === "connected" ? this.reader?.length ?? 0 : 0);
  }
}
