/**
 * Consumer groups of a stream: the group's last delivered ID and read counter, its consumers,
 * and the pending entries list (PEL): entries delivered and not yet acknowledged, each owned by
 * one consumer. As in Redis the group and each consumer keep the pending IDs in order (here
 * counted B+ trees of 16-byte ID keys, see stream_id.ts), sharing one record per entry.
 *
 * @module
 */

import { OrderTree, type TreeCursor } from "./order_tree.ts";
import { idKey, type U64 } from "./stream_id.ts";

/** A signed 64-bit counter: a number while safe, a bigint past that (entries read, deliveries). */
export type I64 = number | bigint;

/** A pending entry: delivered to `consumer`, not yet acknowledged. */
export class Nack {
  /**
   * @param key the entry ID as a 16-byte key
   * @param ms the ID's ms part
   * @param seq the ID's sequence
   * @param deliveryTime when it was last delivered (ms)
   * @param deliveryCount how many times it was delivered
   * @param consumer its owner (unset only while XCLAIM FORCE builds it)
   */
  constructor(
    readonly key: string,
    readonly ms: U64,
    readonly seq: U64,
    public deliveryTime: number,
    public deliveryCount: I64,
    public consumer: Consumer | undefined,
  ) {}

  /** `<ms>-<seq>` of the entry. */
  get idText(): string {
    return `${this.ms}-${this.seq}`;
  }
}

/** Ordered keys of pending entries, with a seek to the first key not before another. */
export class PendingKeys {
  private readonly tree = new OrderTree();

  /** Number of keys. */
  get size(): number {
    return this.tree.length;
  }

  /** Adds a key known to be absent. */
  add(key: string): void {
    this.tree.insert(0, key);
  }

  /** Removes a key; true when it was there. */
  delete(key: string): boolean {
    return this.tree.delete(0, key);
  }

  /** A cursor at the first key not before `key` (invalid past the end). */
  from(key: string): TreeCursor {
    const rank = this.tree.countBefore((_s, m) => m < key);
    return this.tree.at(rank + 1);
  }

  /** A cursor at the first key. */
  first(): TreeCursor {
    return this.tree.first();
  }

  /** A cursor at the last key. */
  last(): TreeCursor {
    return this.tree.last();
  }
}

/** A consumer of a group. */
export class Consumer {
  /** Keys of the entries pending for this consumer. */
  readonly pel = new PendingKeys();

  /**
   * @param name the consumer's name
   * @param seenTime when it last tried to read or claim (ms): `seen-time`
   * @param activeTime when it last read or claimed something (ms), -1 never: Redis 7.2's
   *   `active-time`
   */
  constructor(readonly name: string, public seenTime: number, public activeTime = -1) {}
}

/** A consumer group. */
export class ConsumerGroup {
  /** Pending entries by key. */
  readonly pending = new Map<string, Nack>();
  /** The same keys in order. */
  readonly pendingKeys = new PendingKeys();
  /** Consumers by name. */
  readonly consumers = new Map<string, Consumer>();

  /**
   * @param lastMs the last delivered ID's ms part
   * @param lastSeq its sequence
   * @param entriesRead the logical read counter, -1 when unknown
   */
  constructor(public lastMs: U64, public lastSeq: U64, public entriesRead: I64) {}

  /** The pending entry with this ID key, if any. */
  nack(key: string): Nack | undefined {
    return this.pending.get(key);
  }

  /** Adds a pending entry for (ms, seq) owned by `consumer`; the ID must not be pending. */
  addNack(ms: U64, seq: U64, consumer: Consumer | undefined, time: number, key = idKey(ms, seq)) {
    const nack = new Nack(key, ms, seq, time, 1, consumer);
    this.pending.set(key, nack);
    this.pendingKeys.add(key);
    consumer?.pel.add(key);
    return nack;
  }

  /** Removes a pending entry from the group and from its owner. */
  removeNack(nack: Nack): void {
    this.pending.delete(nack.key);
    this.pendingKeys.delete(nack.key);
    nack.consumer?.pel.delete(nack.key);
  }

  /** Gives a pending entry to `consumer`. */
  assign(nack: Nack, consumer: Consumer): void {
    if (nack.consumer === consumer) return;
    nack.consumer?.pel.delete(nack.key);
    consumer.pel.add(nack.key);
    nack.consumer = consumer;
  }

  /** Deletes a consumer and its pending entries (XGROUP DELCONSUMER). */
  deleteConsumer(consumer: Consumer): void {
    for (const c = consumer.pel.first(); c.valid; c.next()) {
      const key = c.member;
      this.pending.delete(key);
      this.pendingKeys.delete(key);
    }
    this.consumers.delete(consumer.name);
  }

  /** Consumers in name order (Redis keeps them in a radix tree). */
  sortedConsumers(): Consumer[] {
    return [...this.consumers.values()].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0
    );
  }

  /** A deep copy. */
  clone(): ConsumerGroup {
    const g = new ConsumerGroup(this.lastMs, this.lastSeq, this.entriesRead);
    const mapped = new Map<Consumer, Consumer>();
    for (const c of this.consumers.values()) {
      const copy = new Consumer(c.name, c.seenTime, c.activeTime);
      mapped.set(c, copy);
      g.consumers.set(c.name, copy);
    }
    for (const c = this.pendingKeys.first(); c.valid; c.next()) {
      const n = this.pending.get(c.member)!;
      const owner = n.consumer === undefined ? undefined : mapped.get(n.consumer);
      const copy = g.addNack(n.ms, n.seq, owner, n.deliveryTime, n.key);
      copy.deliveryCount = n.deliveryCount;
    }
    return g;
  }
}
