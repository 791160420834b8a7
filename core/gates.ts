/**
 * The gates that run before every command (AUTH, pub/sub context, replication, BUSY, MULTI
 * queueing...), in ascending order. `list` is the array the call path walks; it is rebuilt in
 * place when a gate is added or removed, which happens rarely (a role or state change).
 *
 * @module
 */

import type { Gate } from "./hooks.ts";

/** A gate, its place in the order, and the client flags it applies to (0: every client). */
export interface GateEntry {
  order: number;
  gate: Gate;
  when: number;
}

/** The ordered gates of a server. */
export class GateList {
  /** The gates by ascending order, for the call path. */
  readonly list: GateEntry[] = [];

  /** Adds `gate` at `order`; `when` restricts it to clients with one of those flags. */
  add(gate: Gate, order: number, when: number): void {
    this.list.push({ order, gate, when });
    // Stable: gates of equal order keep the order they were added in.
    this.list.sort((a, b) => a.order - b.order);
  }

  /** Removes `gate` if present. */
  remove(gate: Gate): void {
    const i = this.list.findIndex((g) => g.gate === gate);
    if (i >= 0) this.list.splice(i, 1);
  }
}
