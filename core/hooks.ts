/**
 * The fixed, typed list of hooks the core offers plugins. A hook is an ordinary list of
 * listeners; the core checks the list's length before building any argument, so an unused hook
 * costs nothing on the hot path.
 *
 * @module
 */

import type { Client } from "./client.ts";
import type { Command } from "./command.ts";
import type { Database, Value } from "./keyspace/database.ts";
import type { Reply } from "./resp/reply.ts";
import type { MemoryParts } from "./memory/usage.ts";

/** Every hook and its listener signature. */
export interface HookMap {
  /** A write's deterministic effect, in execution order (replication, AOF). */
  propagate: (dbIndex: number, argv: string[]) => void;
  /**
   * A key was written or deleted (WATCH, tracking). `value` is the key's value when the write
   * had it at hand (a store, or a value about to change in place); undefined when the key was
   * deleted or its value was not at hand (look it up then).
   */
  keyModified: (db: Database, key: string, value?: Value) => void;
  /** Every key of a database may have changed (FLUSHDB, FLUSHALL, SWAPDB). */
  dbModified: (db: Database) => void;
  /** A database was emptied (FLUSHDB, FLUSHALL, a full sync); SWAPDB is no flush. */
  dbFlushed: (db: Database) => void;
  /** A keyspace event (`notify-keyspace-events` decides what is published). */
  keyspaceEvent: (db: Database, type: number, event: string, key: string) => void;
  /** A command completed (MONITOR, stats); `argv` as executed. */
  afterCommand: (client: Client, command: Command, argv: string[], reply: Reply) => void;
  /** A client connected. */
  clientCreated: (client: Client) => void;
  /** A client went away. */
  clientClosed: (client: Client) => void;
  /** RESET: drop per-client feature state (transactions, subscriptions, tracking...). */
  clientReset: (client: Client) => void;
  /** DEBUG CHANGE-REPL-ID: replication takes a new replication id. */
  changeReplId: () => void;
  /** The periodic server tick (`hz` times a second). */
  cron: () => void;
  /** The server is closing; awaited before sockets close (save on shutdown...). */
  shutdown: () => void | Promise<void>;
  /**
   * Replies are about to be sent (end of a batch, a blocked client or a paused script served):
   * what they acknowledge must be made durable first (AOF write and fsync).
   */
  beforeReplies: () => void;
  /** Load the data from disk, once, before the server first listens; throw to refuse to start. */
  load: () => void;
  /**
   * The server listens on its ports (its first listen), awaited before it ticks: a plugin's own
   * listeners (the cluster bus); throw a StartError to refuse to start.
   */
  listened: () => void | Promise<void>;
  /** `used_memory` is being computed: add what the plugin holds (backlog, replica output...). */
  memory: (parts: MemoryParts) => void;
}

/** A gate runs before a command; returning a reply stops the command and sends that reply. */
export type Gate = (client: Client, command: Command, argv: string[]) => Reply | undefined;

/** Listener lists for every hook. */
export class Hooks {
  propagate: HookMap["propagate"][] = [];
  keyModified: HookMap["keyModified"][] = [];
  dbModified: HookMap["dbModified"][] = [];
  dbFlushed: HookMap["dbFlushed"][] = [];
  keyspaceEvent: HookMap["keyspaceEvent"][] = [];
  afterCommand: HookMap["afterCommand"][] = [];
  clientCreated: HookMap["clientCreated"][] = [];
  clientClosed: HookMap["clientClosed"][] = [];
  clientReset: HookMap["clientReset"][] = [];
  changeReplId: HookMap["changeReplId"][] = [];
  cron: HookMap["cron"][] = [];
  shutdown: HookMap["shutdown"][] = [];
  beforeReplies: HookMap["beforeReplies"][] = [];
  load: HookMap["load"][] = [];
  listened: HookMap["listened"][] = [];
  memory: HookMap["memory"][] = [];

  /**
   * Adds `listener` to hook `name`. Lists are replaced, never changed in place, so a hook being
   * run while a listener comes or goes runs the list it started with.
   */
  on<K extends keyof HookMap>(name: K, listener: HookMap[K]): void {
    (this as unknown as Record<K, HookMap[K][]>)[name] = [
      ...(this[name] as HookMap[K][]),
      listener,
    ];
  }

  /** Removes `listener` from hook `name` (features on hot paths listen only while in use). */
  off<K extends keyof HookMap>(name: K, listener: HookMap[K]): void {
    (this as unknown as Record<K, HookMap[K][]>)[name] = (this[name] as HookMap[K][]).filter(
      (l) => l !== listener,
    );
  }
}
