/**
 * The replication stream of a server: its replication ids and offset, the backlog, and the
 * encoding of write effects into the stream that replicas and the backlog receive.
 *
 * On a master, every effect handed to the `propagate` hook is encoded (with a `SELECT` when the
 * database changes) into a buffer that is flushed once per event-loop turn: appended to the
 * backlog and queued on each replica's channel. On a replica, the stream received from our
 * master is proxied byte for byte instead (so chained replicas share the master's ids and
 * offsets, as in Redis's PSYNC2). A master without a backlog but with the AOF on still counts
 * each effect as one byte of offset, as Redis 7.2 does, so that WAITAOF can tell which writes
 * the AOF has synced.
 *
 * While replicas are attached, the replies of a batch that wrote are held until that flush has
 * handed the stream to the replicas' sockets, as Redis writes to its replicas before its clients
 * in one beforeSleep: a client never sees a write acknowledged that a master killed right after
 * did not send on. Without it, a master killed between the reply and the flush lost the write
 * while its client moved on, and a `WAIT` the client then sent to the promoted replica (counting
 * from offset 0 on that new connection) reported it as replicated.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { type Client, holdReplies, releaseReplies } from "../core/client.ts";
import { randomHex } from "../core/bytes.ts";
import { ReplyWriter } from "../core/resp/writer.ts";
import type { Server } from "../core/server.ts";
import { type Aof, aofOf } from "../core/persistence/aof.ts";
import { Backlog } from "./backlog.ts";

/** The id that means "none" (`master_replid2` without a previous history). */
export const NO_ID = "0000000000000000000000000000000000000000";

/** Something that receives the stream (a replica link on the master side). */
export interface StreamSink {
  /** True while the link wants stream bytes (after FULLRESYNC/CONTINUE was queued). */
  readonly streaming: boolean;
  /** Queues stream bytes; never blocks. */
  push(bytes: Uint8Array): void;
}

/** Replication ids, offset, backlog and the stream encoder. */
export class ReplState {
  /** `master_replid`. */
  replid = randomHex(40);
  /** `master_replid2`: the previous history's id, valid up to `secondOffset`. */
  replid2 = NO_ID;
  /** `second_repl_offset`: the last offset + 1 of the previous history, or -1. */
  secondOffset = -1;
  /** `master_repl_offset`: bytes of stream produced (or, on a replica, proxied) so far. */
  offset = 0;
  backlog: Backlog | undefined;
  /** The database the stream last selected (-1: the next command selects). */
  seldb = -1;
  /** Links fed by the stream. */
  readonly sinks = new Set<StreamSink>();
  /** Each client's offset after its last write (WAIT waits for replicas to reach it). */
  readonly woff = new WeakMap<Client, number>();
  private readonly out = new ReplyWriter(16 * 1024);
  private flushScheduled = false;
  private listening = false;
  /** Client replies are held until the scheduled flush (see the module doc). */
  private holding = false;
  private readonly aof: Aof;

  /** @param server the server whose writes form the stream */
  constructor(private readonly server: Server) {
    this.aof = aofOf(server);
    this.aof.file.replOffset = () => this.offset;
    // Without a backlog the stream is not encoded, but while the AOF is on each effect it logs
    // still counts one (see the module doc); no hook of ours runs on writes otherwise.
    this.aof.onFeed = () => {
      if (this.backlog !== undefined || this.server.masterHost !== undefined) return;
      this.offset += 1;
      const c = this.server.current;
      if (c !== undefined) this.woff.set(c, this.offset);
    };
  }

  /**
   * Creates the backlog (first replica, or a replica's first sync); a master starts encoding its
   * writes.
   */
  createBacklog(): void {
    this.backlog = new Backlog(this.server.config.num("repl-backlog-size"), this.offset + 1);
    this.roleChanged();
  }

  /** Drops the backlog (nothing can partially resync any more) and stops encoding writes. */
  freeBacklog(): void {
    this.flush();
    this.backlog = undefined;
    this.roleChanged();
  }

  /**
   * Encodes our writes into the stream while there is a backlog and we are a master. A replica
   * proxies its master's stream instead (see feedRaw): its hooks are off, so the commands it
   * applies record no effects for us (nor any at all when no AOF listens either).
   */
  roleChanged(): void {
    const want = this.backlog !== undefined && this.server.masterHost === undefined;
    if (want === this.listening) return;
    this.listening = want;
    if (want) {
      this.server.on("propagate", this.onPropagate);
      this.server.on("beforeReplies", this.beforeReplies);
    } else {
      this.server.hooks.off("propagate", this.onPropagate);
      this.server.hooks.off("beforeReplies", this.beforeReplies);
    }
  }

  /** A new history: a fresh replication id (changeReplicationId). */
  changeReplId(): void {
    this.replid = randomHex(40);
  }

  /** Forgets the previous history (clearReplicationId2). */
  clearReplId2(): void {
    this.replid2 = NO_ID;
    this.secondOffset = -1;
  }

  /** Promotion: the current id becomes the previous one, valid up to here (shiftReplicationId). */
  shiftReplId(): void {
    this.replid2 = this.replid;
    this.secondOffset = this.offset + 1;
    this.changeReplId();
  }

  /** Encodes one effect into the stream (the `propagate` hook). */
  private readonly onPropagate = (db: number, argv: string[]): void => {
    this.append(db, argv);
    const c = this.server.current;
    if (c !== undefined) this.woff.set(c, this.offset);
  };

  /**
   * Adds a command of the master's own to the stream (PING, REPLCONF GETACK): it goes to the
   * database the stream is in, so it never causes a SELECT.
   */
  feedCommand(argv: string[]): void {
    if (this.backlog === undefined || this.server.masterHost !== undefined) return;
    this.append(this.seldb, argv);
  }

  private append(db: number, argv: string[]): void {
    const w = this.out;
    const start = w.length;
    if (db !== this.seldb && db >= 0) {
      w.arrayHeader(2);
      w.bulk("SELECT");
      w.bulk(String(db));
      this.seldb = db;
    }
    w.arrayHeader(argv.length);
    for (let i = 0; i < argv.length; i++) w.bulk(argv[i]!);
    this.offset += w.length - start;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // One append to the backlog and one write to each replica per event-loop turn, after the
      // callbacks of every socket that was ready (setImmediate), not per client's batch.
      setImmediate(this.endOfTurn);
    }
  }

  /** The turn's flush, then the replies it held. */
  private readonly endOfTurn = (): void => {
    this.flushScheduled = false;
    this.flush();
    if (!this.holding) return;
    this.holding = false;
    releaseReplies(this.server);
  };

  /** Before a batch's replies: hold them while its writes wait for the turn's flush. */
  private readonly beforeReplies = (): void => {
    if (this.out.length === 0 || this.holding) return;
    let attached = false;
    for (const s of this.sinks) attached ||= s.streaming;
    if (!attached) return;
    this.holding = true;
    holdReplies(this.server);
  };

  /**
   * Moves the encoded stream to the backlog and the replicas' channels. Called before anything
   * reads the backlog or attaches a replica, so they see every byte up to `offset`.
   */
  flush(): void {
    if (this.out.length === 0) return;
    this.deliver(this.out.take());
  }

  /** Proxies stream bytes received from our master (a replica feeding its own replicas). */
  feedRaw(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.offset += bytes.length;
    this.deliver(bytes);
  }

  private deliver(bytes: Uint8Array): void {
    this.backlog?.append(bytes);
    for (const s of this.sinks) if (s.streaming) s.push(bytes);
  }
}
