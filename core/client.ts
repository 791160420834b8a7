/**
 * One client connection: its protocol state (parser, reply buffer, RESP version), its session
 * state (database, name, authentication) and the loop that turns received bytes into commands.
 * Replies of all the commands in one read go out in one write. A connection's buffers start empty,
 * grow with what it sends and receives, and are trimmed back by the server's cron
 * ({@linkcode Client.trimBuffers}); {@linkcode Client.memoryUsage} is the one place that knows
 * what they hold.
 *
 * @module
 */

import type { Database } from "./keyspace/database.ts";
import type { Transport } from "./net/transport.ts";
import { ProtocolError, RequestParser } from "./resp/parser.ts";
import { PushReply, RawReply, type Reply } from "./resp/reply.ts";
import { decodeResp } from "./resp/decode.ts";
import { strToBytes } from "./bytes.ts";
import { ReplyWriter } from "./resp/writer.ts";
import { compat } from "./compat.ts";
import type { Server } from "./server.ts";
import type { TxState } from "./transactions.ts";
import type { TrackingState } from "./tracking.ts";
import { UNAUTH_OUTPUT_LIMIT } from "./output_limits.ts";
import type { User } from "./acl/user.ts";

/** Client flags (bits). */
export const CF = {
  /** Close once pending replies are written (QUIT, protocol error). */
  closeAfterReply: 1,
  /** Closed, or about to be: ignore input. */
  closed: 2,
  /** The connection from our master (replication). */
  master: 4,
  /** A replica attached to us. */
  replica: 8,
  /** Subscribed to at least one channel or pattern. */
  pubsub: 16,
  /** Inside MULTI. */
  multi: 32,
  /** Waiting on a blocking command. */
  blocked: 64,
  /** CLIENT NO-EVICT on. */
  noEvict: 128,
  /** A password is required and the client has not authenticated. */
  unauthenticated: 1024,
  /** In-process client with no socket. */
  local: 256,
  /** Monitoring (MONITOR). */
  monitor: 512,
  /** The client Lua scripts run their commands as. */
  script: 2048,
  /** A watched key changed: EXEC will fail (Redis's CLIENT_DIRTY_CAS). */
  dirtyCas: 4096,
  /** The running command has an argument too long for a string (core/types/big_string.ts). */
  bigArgs: 8192,
  /** The running command's arguments are large (core/resp/parser.ts LARGE_COMMAND). */
  largeArgs: 32768,
  /** The client's user cannot run everything everywhere: its commands pass the ACL gate. */
  restricted: 16384,
  /** CLIENT NO-TOUCH on: its commands leave keys' LRU/LFU stamps alone (TOUCH excepted). */
  noTouch: 65536,
  /** Cluster mode: ASKING was sent (the next command, or the transaction, may use an importing slot). */
  asking: 131072,
  /** Cluster mode: READONLY (a replica serves reads of its master's slots). */
  readonlyCluster: 262144,
} as const;

/** CLIENT REPLY modes. */
export const enum ReplyMode {
  /** Replies are sent (the default). */
  On = 0,
  /** CLIENT REPLY OFF: no reply is sent. */
  Off = 1,
  /** SKIP was just given: the next command's reply is dropped. */
  SkipNext = 2,
  /** The reply of the command running now is dropped. */
  Skip = 3,
}

let nextId = 1;

/** A client connection (or the in-process client used by `server.dispatch`). */
export class Client {
  /** Unique client ID (CLIENT ID), increasing from 1. */
  readonly id: number = nextId++;
  /** Connection name (CLIENT SETNAME, HELLO SETNAME); empty when unset. */
  name = "";
  /** Client library name (CLIENT SETINFO LIB-NAME). */
  libName = "";
  /** Client library version (CLIENT SETINFO LIB-VER). */
  libVer = "";
  /** The selected database (SELECT). */
  db: Database;
  /** Protocol version: 2 or 3 (HELLO). */
  resp = 2;
  /**
   * The client's ACL user (the default user until AUTH or HELLO AUTH).
   *
   * @internal
   */
  user!: User;
  /**
   * Not subject to ACL rules: our master's link and in-process sessions (the program holding
   * the server), until they authenticate as a user. See core/acl/acl.ts.
   */
  aclExempt = false;
  /** Client flags, bits of {@linkcode CF}. */
  flags = 0;
  /**
   * Since when (ms) its unsent output has been at the soft output buffer limit, 0 while under.
   *
   * @internal
   */
  obufSoftSince = 0;
  /**
   * Where this client's unsent output is, when not in its socket (a replica's channel).
   *
   * @internal
   */
  outputSource: (() => number) | undefined;
  /** CLIENT REPLY mode. */
  replyMode: ReplyMode = ReplyMode.On;
  /** Connection time (ms, the server clock). */
  readonly createdAt: number;
  /** Time of the last command (ms), for CLIENT LIST's idle and the `timeout` directive. */
  lastInteraction: number;
  /** Lowercase name of the last command run (CLIENT LIST's cmd). */
  lastCommand = "NULL";
  /**
   * The incremental request parser.
   *
   * @internal
   */
  readonly parser: RequestParser;
  /**
   * The reply buffer of the current batch: empty until the first reply, then as big as the
   * largest recent batch.
   *
   * @internal
   */
  readonly out: ReplyWriter = new ReplyWriter(0);
  /** Buffer for pushes sent outside this client's own batch (see push()). */
  private pushOut: ReplyWriter | undefined;
  /** True while this client's commands run (pushes then join the batch's replies). */
  private inBatch = false;
  /** True inside onData: the transport sends before the next onData, so `out` may be lent. */
  private inRead = false;
  /** Channel, pattern and shard-channel subscription counts (kept by the pub/sub module). */
  subscriptions = 0;
  /** Pattern subscriptions (PSUBSCRIBE). */
  patterns = 0;
  /** Shard channel subscriptions (SSUBSCRIBE). */
  shardSubscriptions = 0;
  /** Commands queued in MULTI, or -1 outside MULTI (kept by the transactions module). */
  multiCount: number = -1;
  /**
   * The MULTI in progress (see core/transactions.ts).
   *
   * @internal
   */
  tx: TxState | undefined;
  /**
   * CLIENT TRACKING state while tracking is on (see core/tracking.ts).
   *
   * @internal
   */
  tracking: TrackingState | undefined;
  /** Replies of the in-process client, captured as values instead of bytes. */
  captured: Reply[] | undefined;
  /** Per-feature state plugins attach to a client (transactions, pubsub, blocking...). */
  get ext(): Map<string, unknown> {
    // Made on first use: few clients need one, and an idle connection should cost little.
    return (this.extMap ??= new Map());
  }
  private extMap: Map<string, unknown> | undefined;
  /** Most clients have one close hook (the server's): an array of exactly that size. */
  private closeHooks: Array<() => void> | undefined;

  /**
   * Creates a client; the server does it for each connection and for in-process sessions.
   *
   * @param server the server this client talks to
   * @param transport the socket, or null for an in-process client
   */
  constructor(readonly server: Server, readonly transport: Transport | null) {
    this.db = server.dbs[0]!;
    this.createdAt = server.clock.now();
    this.lastInteraction = this.createdAt;
    this.parser = new RequestParser(server.parserLimits);
    this.out.compat = compat(server.config);
    server.acl.initClient(this);
    if (!transport) this.flags |= CF.local;
  }

  /** `ip:port` of the peer (`lua` for the scripting client, as MONITOR shows it). */
  get addr(): string {
    if (this.flags & CF.script) return "lua";
    return this.transport?.remoteAddress ?? "127.0.0.1:0";
  }

  /** `ip:port` of our end. */
  get laddr(): string {
    return this.transport?.localAddress ?? "127.0.0.1:0";
  }

  /** Index of the selected database. */
  get dbIndex(): number {
    return this.db.id;
  }

  /** True once the client may run commands (no password, or AUTH/HELLO succeeded). */
  get authenticated(): boolean {
    return (this.flags & CF.unauthenticated) === 0;
  }

  /** Setting it also tightens or relaxes the parser's limits, as Redis does before AUTH. */
  set authenticated(yes: boolean) {
    if (yes) this.flags &= ~CF.unauthenticated;
    else this.flags |= CF.unauthenticated;
    this.parser.authRequired = !yes;
  }

  /** Runs `fn` when the client goes away. */
  onClose(fn: () => void): void {
    if (this.closeHooks === undefined) this.closeHooks = [fn];
    else this.closeHooks.push(fn);
  }

  /**
   * Bytes this client holds in buffers: what `used_memory`'s client share, `maxmemory-clients`
   * and CLIENT LIST's `tot-mem` count. Query: bytes received and not yet run (partial frames,
   * arguments of a frame in progress), the storage holding them and the connection's read
   * buffer. Output: the reply buffers' capacity and bytes queued for the socket.
   *
   * @returns the input and output figures in bytes
   */
  memoryUsage(): { query: number; output: number } {
    const t = this.transport;
    return {
      query: this.parser.memory + (t?.readBufferSize ?? 0),
      output: this.out.capacity + (this.pushOut?.capacity ?? 0) + (t?.pendingBytes ?? 0),
    };
  }

  /**
   * Gives back buffer memory the client no longer needs (the server's cron calls it, as Redis
   * resizes query and reply buffers in clientsCron): an idle client keeps no reply buffer and
   * no query storage; a busy one keeps what its recent batches needed.
   *
   * @param idle true when the client sent nothing for a while (2 s, as Redis)
   * @returns bytes no longer held
   */
  trimBuffers(idle: boolean): number {
    if (this.inBatch) return 0;
    return this.parser.trim() + this.out.shrink(idle) + (this.pushOut?.shrink(idle) ?? 0);
  }

  /**
   * Handles received bytes, the first `length` of `chunk`: parse, execute, reply, then flush
   * once.
   */
  onData(chunk: Uint8Array, length: number = chunk.length): void {
    if (this.flags & CF.closed) return;
    const server = this.server;
    server.tick(true);
    this.lastInteraction = server.time;
    server.stats.netInput += length;
    server.stats.reads++;
    this.parser.feed(chunk, length);
    this.inRead = true;
    this.runBatch();
    this.inRead = false;
  }

  /** Where the next read may go (see RequestParser.readTarget). */
  readTarget(): Uint8Array | undefined {
    return this.flags & CF.closed ? undefined : this.parser.readTarget();
  }

  /** Runs what an unblocked client had pipelined behind its blocking command. */
  resumeInput(): void {
    if (this.flags & (CF.closed | CF.blocked)) return;
    this.server.tick();
    this.runBatch();
  }

  /**
   * Runs a command postponed by CLIENT PAUSE (core/pause.ts), then what the client pipelined
   * behind it.
   *
   * @param argv the postponed command
   * @param argFlags its large/big argument flags
   */
  resumeWith(argv: string[], argFlags: number): void {
    if (this.flags & (CF.closed | CF.blocked)) return;
    const server = this.server;
    server.tick();
    this.inBatch = true;
    this.flags |= argFlags;
    try {
      server.call(this, argv);
    } finally {
      this.flags &= ~argFlags;
    }
    this.inBatch = false;
    this.runBatch();
  }

  /** Runs the parsed commands of one read, then writes their replies at once. */
  private runBatch(): void {
    const server = this.server;
    this.inBatch = true;
    this.processInput();
    server.endBatch();
    this.parser.release();
    this.inBatch = false;
    // Redis 7.4 counts the commands a MULTI queued as part of the query buffer; its master's
    // link is never cut for it.
    const queued = this.multiCount >= 0 ? this.tx?.argvBytes ?? 0 : 0;
    if (
      this.parser.pending + queued > server.parserLimits.queryBufferLimit &&
      (this.flags & CF.master) === 0
    ) {
      server.log(
        "warning",
        `Closing client that reached max query buffer length: ${this.describe()}`,
      );
      server.stats.queryBufferLimitDisconnections++;
      this.close();
      return;
    }
    this.flush();
  }

  /** Executes every complete command in the input buffer (stops while blocked). */
  processInput(): void {
    try {
      while ((this.flags & (CF.blocked | CF.closeAfterReply | CF.closed)) === 0) {
        const argv = this.parser.next();
        if (argv === undefined) break;
        if (this.parser.lastLarge) this.callLarge(argv);
        else this.server.call(this, argv);
        // Redis checks a reply's room as it is added: a flood of NOAUTH errors ends here.
        if (this.flags & CF.unauthenticated && this.out.length > UNAUTH_OUTPUT_LIMIT) {
          this.server.outputLimits.check(this, this.out.length + this.pendingOutput);
        }
      }
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      this.out.error(`ERR ${e.message}`);
      this.server.log("verbose", `Protocol error (${e.message}) from client: ${this.describe()}`);
      this.flags |= CF.closeAfterReply;
    }
  }

  /**
   * Runs a command with large arguments, flagged so that the memory gate sees it, and the gate of
   * big arguments too when one is too long for a string.
   */
  private callLarge(argv: string[]): void {
    const flags = this.parser.lastBig ? CF.largeArgs | CF.bigArgs : CF.largeArgs;
    this.parser.lastBig = this.parser.lastLarge = false;
    this.flags |= flags;
    try {
      this.server.call(this, argv);
    } finally {
      this.flags &= ~flags;
    }
  }

  /** Appends a command's reply, honouring CLIENT REPLY OFF/SKIP. */
  reply(r: Reply): void {
    if (this.replyMode !== ReplyMode.On) return;
    if (this.captured) {
      const raw = r instanceof RawReply ? r.bytes : undefined;
      this.captured.push(
        raw === undefined ? r : decodeResp(typeof raw === "string" ? strToBytes(raw) : raw),
      );
      return;
    }
    this.out.reply(r, this.resp);
  }

  /**
   * Sends an out-of-band message (pub/sub, invalidation). During this client's own batch it
   * joins the batch's replies, in order; otherwise it is written at once from its own buffer,
   * never from `out`, whose bytes may be lent to a write in progress.
   */
  push(items: Reply[]): void {
    this.sendOutOfBand(new PushReply(items));
  }

  /** Sends a reply that answers no command of this client (pushes, MONITOR lines). */
  sendOutOfBand(msg: Reply): void {
    if (this.flags & CF.closed) return;
    if (this.captured) {
      this.captured.push(msg);
      return;
    }
    // During its own batch, or while its replies are held, a push queues behind them.
    if (this.inBatch || this.server.heldReplies?.has(this)) {
      this.out.reply(msg, this.resp);
      return;
    }
    const t = this.transport;
    if (t === null) return;
    let w = this.pushOut;
    if (w === undefined) {
      w = this.pushOut = new ReplyWriter(0);
      w.compat = this.out.compat;
    }
    w.reply(msg, this.resp);
    this.server.stats.netOutput += w.length;
    w.flushTo(t, false);
    this.server.outputLimits.check(this, t.pendingBytes);
  }

  /** Output not yet taken by the kernel (Redis's `omem`): in the socket, or a replica's channel. */
  get pendingOutput(): number {
    return this.outputSource?.() ?? this.transport?.pendingBytes ?? 0;
  }

  /**
   * Writes buffered replies to the socket (or, while the server holds replies for a durability
   * step, once it releases them); closes after them when asked to.
   */
  flush(): void {
    const held = this.server.heldReplies;
    if (held !== undefined && this.transport !== null) {
      held.add(this);
      return;
    }
    this.flushNow();
  }

  /** Writes buffered replies to the socket now; closes after them when asked to. */
  flushNow(): void {
    const t = this.transport;
    if (t === null) return;
    if (this.out.length > 0) {
      const n = this.out.length;
      // What waits for the socket now is what Redis would hold in its reply buffers.
      if (this.server.outputLimits.check(this, n + t.pendingBytes)) return;
      this.server.stats.netOutput += n;
      this.server.stats.writes++;
      this.out.flushTo(t, this.inRead && t.sendsBeforeNextData);
    }
    if (this.flags & CF.closeAfterReply) this.close(true);
  }

  /** Closes the connection (after pending output when `graceful`) and releases its state. */
  close(graceful = false): void {
    if (this.flags & CF.closed) return;
    this.flags |= CF.closed;
    if (this.transport) {
      if (graceful) this.transport.end();
      else this.transport.destroy();
    }
    this.release();
  }

  /** The socket closed under us. */
  onTransportClosed(): void {
    if (this.flags & CF.closed && !this.server.clients.has(this.id)) return;
    this.flags |= CF.closed;
    this.release();
  }

  /** Forgets the client in the server and runs its close hooks, once. */
  private release(): void {
    if (!this.server.clients.delete(this.id)) return;
    // A hook added by a hook still runs: the loop sees the array grow.
    if (this.closeHooks !== undefined) { for (const fn of this.closeHooks) fn(); }
    this.closeHooks = undefined;
  }

  /** `id=.. addr=.. name=..` for logs. */
  describe(): string {
    return `id=${this.id} addr=${this.addr} laddr=${this.laddr} name=${this.name}`;
  }
}

/**
 * From now on, client flushes on `server` wait for releaseReplies() (a durability step, a port
 * being bound). Holds nest: replies go out when every hold is released.
 */
export function holdReplies(server: Server): void {
  server.heldReplies ??= new Set();
  server.replyHolds++;
}

/** Releases one hold; the last writes the replies of every held client, in the order held. */
export function releaseReplies(server: Server): void {
  const held = server.heldReplies;
  if (held === undefined || --server.replyHolds > 0) return;
  server.heldReplies = undefined;
  for (const c of held) c.flushNow();
}
