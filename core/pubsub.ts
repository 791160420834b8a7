/**
 * Pub/Sub state and delivery: channel, pattern and shard-channel subscriptions, PUBLISH fan-out,
 * keyspace notifications (`notify-keyspace-events`) and the RESP2 subscribed-context gate.
 * Subscribers that do not read meet `client-output-buffer-limit pubsub` (core/output_limits.ts).
 *
 * @module
 */

import { CF, type Client } from "./client.ts";
import type { Command } from "./command.ts";
import { globMatch } from "./glob.ts";
import type { Database } from "./keyspace/database.ts";
import { N, notifyFlags } from "./notify.ts";
import { ErrorReply, type Reply } from "./resp/reply.ts";
import { slotChannel } from "./shard_channel.ts";
import type { Server } from "./server.ts";

/** A client's subscriptions. */
interface Subs {
  channels: Set<string>;
  patterns: Set<string>;
  shard: Set<string>;
}

/** Which kind of subscription a command deals with. */
export type SubKind = "channel" | "pattern" | "shard";

const ALLOWED_IN_CONTEXT = new Set([
  "ping",
  "subscribe",
  "ssubscribe",
  "unsubscribe",
  "sunsubscribe",
  "psubscribe",
  "punsubscribe",
  "quit",
  "reset",
]);

const MESSAGE = { channel: "message", pattern: "pmessage", shard: "smessage" } as const;
const SUBSCRIBE = { channel: "subscribe", pattern: "psubscribe", shard: "ssubscribe" } as const;
const UNSUBSCRIBE = {
  channel: "unsubscribe",
  pattern: "punsubscribe",
  shard: "sunsubscribe",
} as const;

/** Pub/Sub for one server. */
export class PubSub {
  readonly channels: Map<string, Set<Client>> = new Map();
  readonly patterns: Map<string, Set<Client>> = new Map();
  readonly shardChannels: Map<string, Set<Client>> = new Map();
  private readonly subs = new Map<Client, Subs>();
  /** The classes enabled by `notify-keyspace-events`. */
  notifyBits = 0;
  /**
   * Set by the cluster bus: sends a sharded message to the other nodes of this node's shard (its
   * master and replicas), as a SPUBLISH run here is sent.
   */
  shardPeers: ((channel: string, message: string) => void) | undefined;

  /** @param server the server to deliver for */
  constructor(private readonly server: Server) {
    server.addGate((client, cmd) => this.contextGate(client, cmd), 50, CF.pubsub);
    server.on("clientClosed", (client) => this.forget(client));
    server.on("clientReset", (client) => {
      this.unsubscribeAll(client, "channel", false);
      this.unsubscribeAll(client, "pattern", false);
      this.unsubscribeAll(client, "shard", false);
    });
    server.config.onChange((name, value) => this.configChanged(name, String(value)));
    this.configChanged("notify-keyspace-events", server.config.str("notify-keyspace-events"));
  }

  private readonly onEvent = (db: Database, type: number, event: string, key: string) =>
    this.keyspaceEvent(db, type, event, key);

  private configChanged(name: string, value: string): void {
    if (name === "notify-keyspace-events") {
      const was = this.notifyBits;
      this.notifyBits = notifyFlags(value);
      // Listen to keyspace events only while some are published: they fire on every write.
      if (was === 0 && this.notifyBits !== 0) this.server.on("keyspaceEvent", this.onEvent);
      if (was !== 0 && this.notifyBits === 0) this.server.hooks.off("keyspaceEvent", this.onEvent);
    }
  }

  /** In RESP2, a subscribed client may only (un)subscribe, PING, QUIT and RESET. */
  private contextGate(client: Client, cmd: Command): Reply | undefined {
    if (client.resp !== 2) return undefined;
    const name = cmd.parent ? cmd.parent.name : cmd.name;
    if (ALLOWED_IN_CONTEXT.has(name)) return undefined;
    return new ErrorReply(
      `ERR Can't execute '${cmd.fullName}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`,
    );
  }

  /** The channels, patterns and shard channels `client` is subscribed to. */
  subscriptionsOf(
    client: Client,
  ): { channels: string[]; patterns: string[]; shardChannels: string[] } {
    const s = this.subs.get(client);
    return {
      channels: [...(s?.channels ?? [])],
      patterns: [...(s?.patterns ?? [])],
      shardChannels: [...(s?.shard ?? [])],
    };
  }

  private subsOf(client: Client): Subs {
    let s = this.subs.get(client);
    if (!s) {
      this.subs.set(client, s = { channels: new Set(), patterns: new Set(), shard: new Set() });
    }
    return s;
  }

  private setOf(s: Subs, kind: SubKind): Set<string> {
    return kind === "channel" ? s.channels : kind === "pattern" ? s.patterns : s.shard;
  }

  private registry(kind: SubKind): Map<string, Set<Client>> {
    return kind === "channel"
      ? this.channels
      : kind === "pattern"
      ? this.patterns
      : this.shardChannels;
  }

  /** The count Redis reports in (un)subscribe replies for `kind`. */
  private countFor(client: Client, kind: SubKind): number {
    const s = this.subs.get(client);
    if (!s) return 0;
    return kind === "shard" ? s.shard.size : s.channels.size + s.patterns.size;
  }

  private updateFlags(client: Client): void {
    const s = this.subs.get(client);
    client.subscriptions = s?.channels.size ?? 0;
    client.patterns = s?.patterns.size ?? 0;
    client.shardSubscriptions = s?.shard.size ?? 0;
    if (client.subscriptions + client.patterns + client.shardSubscriptions > 0) {
      client.flags |= CF.pubsub;
    } else {
      client.flags &= ~CF.pubsub;
      this.subs.delete(client);
    }
  }

  /** Subscribes `client` to each name, sending one confirmation per name. */
  subscribe(client: Client, kind: SubKind, names: string[]): void {
    const s = this.subsOf(client);
    const mine = this.setOf(s, kind);
    const reg = this.registry(kind);
    for (const name of names) {
      if (!mine.has(name)) {
        mine.add(name);
        let set = reg.get(name);
        if (!set) reg.set(name, set = new Set());
        set.add(client);
      }
      this.updateFlags(client);
      client.push([SUBSCRIBE[kind], name, this.countFor(client, kind)]);
    }
  }

  /** Unsubscribes from each name (all of them when `names` is empty). */
  unsubscribe(client: Client, kind: SubKind, names: string[]): void {
    if (names.length === 0) {
      this.unsubscribeAll(client, kind, true);
      return;
    }
    for (const name of names) this.removeOne(client, kind, name, true);
  }

  private removeOne(client: Client, kind: SubKind, name: string, notify: boolean): void {
    const s = this.subs.get(client);
    if (s && this.setOf(s, kind).delete(name)) {
      const reg = this.registry(kind);
      const set = reg.get(name);
      set?.delete(client);
      if (set && set.size === 0) reg.delete(name);
    }
    this.updateFlags(client);
    if (notify) client.push([UNSUBSCRIBE[kind], name, this.countFor(client, kind)]);
  }

  private unsubscribeAll(client: Client, kind: SubKind, notify: boolean): void {
    const s = this.subs.get(client);
    const names = s ? [...this.setOf(s, kind)] : [];
    for (const name of names) this.removeOne(client, kind, name, notify);
    if (notify && names.length === 0) {
      client.push([UNSUBSCRIBE[kind], null, this.countFor(client, kind)]);
    }
  }

  private forget(client: Client): void {
    if (!this.subs.has(client)) return;
    this.unsubscribeAll(client, "channel", false);
    this.unsubscribeAll(client, "pattern", false);
    this.unsubscribeAll(client, "shard", false);
  }

  /** Publishes `message` on `channel`; returns how many subscriptions received it. */
  publish(channel: string, message: string, shard = false): number {
    let n = 0;
    const direct = (shard ? this.shardChannels : this.channels).get(channel);
    if (direct) {
      for (const c of [...direct]) {
        this.deliver(c, [shard ? MESSAGE.shard : MESSAGE.channel, channel, message]);
        n++;
      }
    }
    if (!shard && this.patterns.size !== 0) {
      for (const [pattern, clients] of this.patterns) {
        if (!globMatch(pattern, channel)) continue;
        for (const c of [...clients]) {
          this.deliver(c, [MESSAGE.pattern, pattern, channel, message]);
          n++;
        }
      }
    }
    return n;
  }

  /**
   * The channel a plugin's notifications about `key` go on: `prefix + key`, or in cluster mode
   * the channel in `key`'s hash slot that {@linkcode slotChannel} gives (`__group__:{room:1}` for
   * the prefix `__group__:` and the key `room:1`).
   *
   * @example
   * ```ts
   * import { createServer } from "../mod.ts";
   *
   * const server = createServer();
   * server.pubsub.keyChannel("__votes__:", "poll:1"); // "__votes__:poll:1"
   * ```
   *
   * @param prefix the channel's prefix, without `{` or `}`
   * @param key the key the notification is about
   * @returns the channel
   */
  keyChannel(prefix: string, key: string): string {
    return this.server.config.bool("cluster-enabled") ? slotChannel(prefix, key) : prefix + key;
  }

  /**
   * Publishes a plugin's notification about `key` on {@linkcode PubSub.keyChannel}. In cluster
   * mode it is a sharded message, as SPUBLISH sends one: to the `SSUBSCRIBE` clients of the
   * channel here and, over the cluster bus, on the other nodes of this shard (its replicas), so
   * the notifications about a key stay on the shard that serves it. Otherwise it is a message as
   * PUBLISH sends one, to the `SUBSCRIBE` and `PSUBSCRIBE` clients here.
   *
   * @example
   * ```ts
   * import { createServer } from "../mod.ts";
   *
   * const server = createServer();
   * server.pubsub.publishAbout("__votes__:", "poll:1", "yes 12"); // 0: nobody subscribed
   * ```
   *
   * @param prefix the channel's prefix, without `{` or `}`
   * @param key the key the notification is about
   * @param message the message
   * @returns how many subscriptions on this server received it
   */
  publishAbout(prefix: string, key: string, message: string): number {
    if (!this.server.config.bool("cluster-enabled")) return this.publish(prefix + key, message);
    const channel = slotChannel(prefix, key);
    this.shardPeers?.(channel, message);
    return this.publish(channel, message, true);
  }

  /**
   * Sends a message; the client's output limits (core/output_limits.ts) apply as it goes out.
   * A message for the client whose command is running (PUBLISH to itself, its own keyspace
   * events, in MULTI or a script too) follows that command's reply, as in Redis 7.2.
   */
  private deliver(client: Client, items: Reply[]): void {
    if (client === this.server.caller) this.deferred.push([client, items]);
    else client.push(items);
  }

  /** Messages held for the reply of the running command (see deliver). */
  private deferred: Array<[Client, Reply[]]> = [];

  /** True when messages wait for the running command's reply. */
  get hasDeferred(): boolean {
    return this.deferred.length !== 0;
  }

  /** Sends the messages held for the reply of the command that just ended. */
  flushDeferred(): void {
    const held = this.deferred;
    this.deferred = [];
    for (const [client, items] of held) client.push(items);
  }

  private keyspaceEvent(db: Database, type: number, event: string, key: string): void {
    const bits = this.notifyBits;
    if ((bits & type) === 0) return;
    if (bits & N.keyspace) this.publish(`__keyspace@${db.id}__:${key}`, event);
    if (bits & N.keyevent) this.publish(`__keyevent@${db.id}__:${event}`, key);
  }

  /** Active channels (optionally matching a pattern), for PUBSUB CHANNELS/SHARDCHANNELS. */
  activeChannels(shard: boolean, pattern: string | undefined): string[] {
    const reg = shard ? this.shardChannels : this.channels;
    return [...reg.keys()].filter((c) => pattern === undefined || globMatch(pattern, c));
  }

  /** Subscriber count of a channel. */
  subscribers(channel: string, shard: boolean): number {
    return (shard ? this.shardChannels : this.channels).get(channel)?.size ?? 0;
  }
}
