/**
 * Access stamps, Redis's per-object LRU/LFU field: with an LRU (or no) eviction policy a key's
 * stamp is the 24-bit LRU clock (seconds) of its last access; with an LFU policy it packs the
 * last-decrement time in minutes (16 bits) and a logarithmic access counter (8 bits).
 *
 * @module
 */

const LRU_CLOCK_MAX = (1 << 24) - 1;
const LFU_INIT_VAL = 5;

/** The LRU clock: Unix seconds, 24 bits. */
export function lruClock(nowMs: number): number {
  return Math.floor(nowMs / 1000) & LRU_CLOCK_MAX;
}

/** Seconds since an LRU stamp, wrapping like Redis's estimateObjectIdleTime. */
export function idleSeconds(stamp: number, nowMs: number): number {
  const clock = lruClock(nowMs);
  return clock >= stamp ? clock - stamp : clock + (LRU_CLOCK_MAX - stamp);
}

function minutes(nowMs: number): number {
  return Math.floor(nowMs / 60000) & 65535;
}

/** A new key's LFU stamp: now, counter 5 (so new keys are not evicted at once). */
export function lfuInit(nowMs: number): number {
  return (minutes(nowMs) << 8) | LFU_INIT_VAL;
}

/** The LFU counter after decaying one step per `decayMinutes` since the last decrement. */
export function lfuCounter(stamp: number, nowMs: number, decayMinutes: number): number {
  const ldt = stamp >>> 8;
  const counter = stamp & 255;
  const now = minutes(nowMs);
  const elapsed = now >= ldt ? now - ldt : 65535 - ldt + now;
  const periods = decayMinutes > 0 ? Math.floor(elapsed / decayMinutes) : 0;
  return periods > counter ? 0 : counter - periods;
}

/** The LFU stamp after one access: decay, then a logarithmic increment, as Redis's updateLFU. */
export function lfuTouch(
  stamp: number,
  nowMs: number,
  logFactor: number,
  decayMinutes: number,
): number {
  let counter = lfuCounter(stamp, nowMs, decayMinutes);
  if (counter < 255) {
    const base = Math.max(0, counter - LFU_INIT_VAL);
    if (Math.random() < 1 / (base * logFactor + 1)) counter++;
  }
  return (minutes(nowMs) << 8) | counter;
}

/** The stamps for keys accessed and written at `nowMs` under the configured eviction policy. */
export function accessStamps(
  config: { str(name: string): string; num(name: string): number },
  nowMs: number,
): { accessStamp: number; newStamp: number; lfuUpdate: ((old: number) => number) | undefined } {
  if (config.str("maxmemory-policy").endsWith("lfu")) {
    const logFactor = config.num("lfu-log-factor");
    const decay = config.num("lfu-decay-time");
    return {
      accessStamp: 0,
      newStamp: lfuInit(nowMs),
      lfuUpdate: (old) => lfuTouch(old, nowMs, logFactor, decay),
    };
  }
  const clock = lruClock(nowMs);
  return { accessStamp: clock, newStamp: clock, lfuUpdate: undefined };
}
