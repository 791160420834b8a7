/**
 * Time, injectable. Handlers never call `Date.now()`: the server reads its clock once per command
 * and every expiry decision uses that reading, so tests control time and a command (or a
 * transaction, or a script) sees one instant from start to end, as in Redis.
 *
 * @module
 */

/** A source of Unix time in milliseconds. */
export interface Clock {
  /** Current Unix time in milliseconds. */
  now(): number;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

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
