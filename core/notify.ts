/**
 * Keyspace notification classes: the bits behind the letters of `notify-keyspace-events`.
 *
 * @module
 */

/** Event class bits, as Redis numbers them. */
export const N = {
  keyspace: 1 << 0, // K
  keyevent: 1 << 1, // E
  generic: 1 << 2, // g
  string: 1 << 3, // $
  list: 1 << 4, // l
  set: 1 << 5, // s
  hash: 1 << 6, // h
  zset: 1 << 7, // z
  expired: 1 << 8, // x
  evicted: 1 << 9, // e
  stream: 1 << 10, // t
  keyMiss: 1 << 11, // m
  loaded: 1 << 12,
  module: 1 << 13, // d
  new: 1 << 14, // n
} as const;

const LETTERS: Record<string, number> = {
  K: N.keyspace,
  E: N.keyevent,
  g: N.generic,
  $: N.string,
  l: N.list,
  s: N.set,
  h: N.hash,
  z: N.zset,
  x: N.expired,
  e: N.evicted,
  t: N.stream,
  m: N.keyMiss,
  d: N.module,
  n: N.new,
  A: N.generic | N.string | N.list | N.set | N.hash | N.zset | N.expired | N.evicted | N.stream |
    N.module,
};

/** The bit mask for a `notify-keyspace-events` value (already validated by the config). */
export function notifyFlags(text: string): number {
  let bits = 0;
  for (const ch of text) bits |= LETTERS[ch] ?? 0;
  return bits;
}
