/**
 * Write logs for the server's call path (see core/keyspace/write_log.ts): a fresh log for each
 * plugin command, and between commands a sink whose first write opens a log for the job running
 * now (a timer, a hook), settled once that job is over: at its microtask, before the next
 * command, or at the end of a cron tick.
 *
 * @module
 */

import { WriteLog, type WriteSink } from "./keyspace/write_log.ts";
import type { Server } from "./server.ts";
import { settleWrites } from "./write_settle.ts";

/** The write logs of one server. */
export class WriteJobs {
  /** The sink of plugin code between commands: its first write opens the job's log. */
  readonly idle: WriteSink;
  private job: WriteLog | undefined;
  private jobDirty = 0;
  private readonly addEffect = (db: number, argv: string[]) => this.server.effects.add(db, argv);
  private readonly effectCount = () => this.server.effects.length;

  /** @param server the server whose writes are logged */
  constructor(private readonly server: Server) {
    const open = () => this.openJob();
    this.idle = {
      mark: (db, key) => open().mark(db, key),
      implied: (db, type, event, key) => open().implied(db, type, event, key),
      // An event raised before any write (the expiry cycle's) concerns no logged write.
      notified: () => {},
      flushed: (db) => open().flushed(db),
      swapped: (a, b) => open().swapped(a, b),
    };
  }

  /** True while a job outside commands has unsettled writes. */
  get pending(): boolean {
    return this.job !== undefined;
  }

  /** A new log whose FLUSHDB/SWAPDB effects join the running command's effects. */
  log(): WriteLog {
    return new WriteLog(this.addEffect, this.effectCount);
  }

  private openJob(): WriteLog {
    const log = this.log();
    this.job = log;
    this.jobDirty = this.server.dirty;
    this.server.writes = log;
    // The job is the synchronous code running now: nothing else runs before its microtasks.
    queueMicrotask(() => this.settleJob());
    return log;
  }

  /** Settles the writes plugin code made outside commands, and propagates them. */
  settleJob(): void {
    const log = this.job;
    if (log === undefined) return;
    this.job = undefined;
    const server = this.server;
    server.writes = this.idle;
    settleWrites(server, log, this.jobDirty);
    if (!server.running) server.effects.flush(true);
  }
}
