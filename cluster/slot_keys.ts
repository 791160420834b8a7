/**
 * The keys of each hash slot (Redis's slot-to-key mapping), kept only in cluster mode: db 0's
 * table is swapped for a {@linkcode SlottedMap}, a DenseMap that also files every key it adds
 * under its slot. Without cluster mode the keyspace is the plain DenseMap, so the index costs
 * nothing there.
 *
 * @module
 */

import { DenseMap, type Measure } from "../core/keyspace/dense_map.ts";
import { CLUSTER_SLOTS } from "./node.ts";
import { keyHashSlot } from "./slots.ts";

/** The keys of each slot. */
export class SlotKeys {
  private readonly bySlot: Array<Set<string> | undefined> = new Array(CLUSTER_SLOTS).fill(
    undefined,
  );

  /** Files a new key under its slot. */
  add(key: string): void {
    const slot = keyHashSlot(key);
    let set = this.bySlot[slot];
    if (set === undefined) this.bySlot[slot] = set = new Set();
    set.add(key);
  }

  /** Removes a key. */
  delete(key: string): void {
    const slot = keyHashSlot(key);
    const set = this.bySlot[slot];
    if (set === undefined) return;
    set.delete(key);
    if (set.size === 0) this.bySlot[slot] = undefined;
  }

  /** Forgets every key. */
  clear(): void {
    this.bySlot.fill(undefined);
  }

  /** Number of keys in `slot`. */
  count(slot: number): number {
    return this.bySlot[slot]?.size ?? 0;
  }

  /**
   * Up to `max` keys of `slot`, the newest first (as Redis lists them).
   *
   * @param slot the slot
   * @param max how many at most
   * @returns the keys
   */
  keys(slot: number, max: number): string[] {
    const set = this.bySlot[slot];
    if (set === undefined || max <= 0) return [];
    const all = [...set];
    const out: string[] = [];
    for (let i = all.length - 1; i >= 0 && out.length < max; i--) out.push(all[i]!);
    return out;
  }
}

/** A keyspace table that keeps a {@linkcode SlotKeys} index of its keys. */
export class SlottedMap<V> extends DenseMap<V> {
  /** The keys by slot. */
  readonly slotKeys: SlotKeys = new SlotKeys();

  /**
   * @param trackAccess keep access stamps (the keyspace does)
   * @param measure how entries are sized
   */
  constructor(trackAccess: boolean, measure?: Measure<V>) {
    super(trackAccess, measure);
  }

  override set(key: string, value: V, stamp = 0): boolean {
    const added = super.set(key, value, stamp);
    if (added) this.slotKeys.add(key);
    return added;
  }

  override delete(key: string): boolean {
    const deleted = super.delete(key);
    if (deleted) this.slotKeys.delete(key);
    return deleted;
  }

  override clear(): void {
    super.clear();
    this.slotKeys.clear();
  }
}
