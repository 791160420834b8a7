/**
 * The gates that run before every command (AUTH, pub/sub context, replication, BUSY, MULTI
 * queueing...), in ascending order. `list` is the array the call path walks; it is rebuilt in
 * place when a gate is added or removed, which happens rarely (a role or state change).
 *
 * Most gates apply to some clients (`when`: client flags) or some commands (`bits`: command
 * flags) only. The call path first checks the client and the command against the union of those
 * conditions ({@linkcode GateList.needed}): an ordinary command of an ordinary client walks no
 * list and calls no gate.
 *
 * @module
 */

import type { Gate } from "./hooks.ts";

/**
 * A gate, its place in the order, and what it applies to: clients with one of the `when` flags
 * (0: every client) and commands with one of the `bits` (0: every command); both when both given.
 */
export interface GateEntry {
  order: number;
  gate: Gate;
  when: number;
  bits: number;
}

/** The ordered gates of a server. */
export class GateList {
  /** The gates by ascending order, for the call path. */
  readonly list: GateEntry[] = [];
  /** Gates that apply to every client and command. */
  private always = 0;
  /** The union of the client flags of the conditional gates. */
  private anyWhen = 0;
  /** The union of the command flags of the conditional gates. */
  private anyBits = 0;

  /**
   * Adds `gate` at `order`; `when` restricts it to clients with one of those flags, `bits` to
   * commands with one of those (Command.bits).
   */
  add(gate: Gate, order: number, when: number, bits = 0): void {
    this.list.push({ order, gate, when, bits });
    // Stable: gates of equal order keep the order they were added in.
    this.list.sort((a, b) => a.order - b.order);
    this.summarize();
  }

  /** Removes `gate` if present. */
  remove(gate: Gate): void {
    const i = this.list.findIndex((g) => g.gate === gate);
    if (i >= 0) this.list.splice(i, 1);
    this.summarize();
  }

  /**
   * True when some gate may apply to a client with `clientFlags` running a command with
   * `cmdBits`: the list must then be walked (checking each entry's own conditions).
   */
  needed(clientFlags: number, cmdBits: number): boolean {
    return this.always !== 0 || (clientFlags & this.anyWhen) !== 0 ||
      (cmdBits & this.anyBits) !== 0;
  }

  private summarize(): void {
    let always = 0;
    let anyWhen = 0;
    let anyBits = 0;
    for (const g of this.list) {
      // A gate with both conditions is reached through either, then checked on both.
      if (g.when === 0 && g.bits === 0) always++;
      if (g.when !== 0) anyWhen |= g.when;
      else if (g.bits !== 0) anyBits |= g.bits;
    }
    this.always = always;
    this.anyWhen = anyWhen;
    this.anyBits = anyBits;
  }
}
