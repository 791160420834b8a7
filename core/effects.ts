/**
 * The effects of the running command, in execution order, handed to the `propagate` hook
 * (replication, AOF) when the top-level command completes: one effect alone, several wrapped in
 * MULTI ... EXEC as Redis does.
 *
 * @module
 */

import type { Hooks } from "./hooks.ts";

/** Pending effects of one top-level command. */
export class Effects {
  private list: Array<[number, string[]]> = [];

  /** @param hooks the server's hooks (the propagate list is read at flush time) */
  constructor(private readonly hooks: Hooks) {}

  /** Effects recorded so far. */
  get length(): number {
    return this.list.length;
  }

  /** Drops the effects recorded after the first `n` (a script's `redis.set_repl(REPL_NONE)`). */
  truncate(n: number): void {
    this.list.length = n;
  }

  /** Removes and returns the pending effects (a script pausing between slices keeps them). */
  take(): Array<[number, string[]]> {
    const list = this.list;
    this.list = [];
    return list;
  }

  /** Puts back effects removed with take(), ahead of any recorded since. */
  restore(list: Array<[number, string[]]>): void {
    if (list.length !== 0) this.list = list.concat(this.list);
  }

  /** The effects recorded from index `from` on (read only). */
  since(from: number): ReadonlyArray<[number, string[]]> {
    return this.list.slice(from);
  }

  /** Records `argv` as an effect on database `db`. */
  add(db: number, argv: string[]): void {
    this.list.push([db, argv]);
  }

  /** Hands the recorded effects to the listeners; several are wrapped when `wrapMany`. */
  flush(wrapMany: boolean): void {
    const effects = this.list;
    if (effects.length === 0) return;
    this.list = [];
    const hooks = this.hooks.propagate;
    if (hooks.length === 0) return;
    const wrap = wrapMany && effects.length > 1;
    if (wrap) { for (const h of hooks) h(effects[0]![0], ["MULTI"]); }
    for (const [db, argv] of effects) for (const h of hooks) h(db, argv);
    if (wrap) { for (const h of hooks) h(effects[effects.length - 1]![0], ["EXEC"]); }
  }

  /** Hands one effect to the listeners at once (outside any command). */
  emit(db: number, argv: string[]): void {
    for (const h of this.hooks.propagate) h(db, argv);
  }
}
