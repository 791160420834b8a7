/**
 * Time, injectable. Handlers never call `Date.now()`: the server reads its clock once per command
 * and every expiry decision uses that reading, so tests control time and a command (or a
 * transaction, or a script) sees one instant from start to end, as in Redis.
 *
 * @module
 */

import { setImmediate } from "node:timers";

/** A source of Unix time in milliseconds. */
export interface Clock {
  /** Current Unix time in milliseconds. */
  now(): number;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** How many reads may reuse one reading of {@linkcode TurnClock}. */
const TURN_REUSES = 64;

/**
 * The wall clock read once for the sockets that were ready together: the commands read from them
 * in one event-loop turn see one instant, as those of one iteration of Redis's event loop do
 * (a read costs 50–200 ns on a virtual machine; ~30 sockets are served per turn at 50 busy
 * clients). A reading is reused until the turn ends (a `setImmediate`, which runs after the
 * turn's socket callbacks), at most 64 times, and not after {@linkcode stale}.
 *
 * @internal
 */
export class TurnClock {
  private ms = 0;
  private reuses = 0;
  private armed = false;
  private readonly endTurn = () => {
    this.armed = false;
    this.reuses = 0;
  };

  /**
   * The time: the turn's reading when `reuse` and it may still be reused, else a new reading.
   *
   * @param reuse whether this turn's reading will do
   */
  read(reuse: boolean): number {
    if (reuse && this.reuses > 0) {
      this.reuses--;
      return this.ms;
    }
    this.ms = Date.now();
    this.reuses = TURN_REUSES;
    if (!this.armed) {
      this.armed = true;
      setImmediate(this.endTurn);
    }
    return this.ms;
  }

  /** Forgets the reading (a slow command ran): the next read() reads the clock. */
  stale(): void {
    this.reuses = 0;
  }
}

/**
 * A clock that moves only when told to, for tests.
 *
 * @example
 * ```ts
 * const clock = new ManualClock(1_700_000_000_000);
 * clock.advance(1500);
 * clock.now(); // 1_700_000_001_500
 * ```
 */
export class ManualClock implements Clock {
  /**
   * Starts the clock at `ms`.
   *
   * @param ms the starting time in Unix milliseconds
   */
  constructor(private ms: number = Date.now()) {}

  /** The current time. */
  now(): number {
    return this.ms;
  }

  /** Moves the clock forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.ms += ms;
  }

  /** Sets the clock to `ms`. */
  set(ms: number): void {
    this.ms = ms;
  }
}
