/**
 * Channels in a key's hash slot: in cluster mode a plugin publishes its notifications about a key
 * as sharded messages (SPUBLISH), and a sharded message goes to the shard that serves the
 * channel's slot, so the channel must hash to the key's slot. `prefix + key` does only when the
 * key has a hash tag; {@linkcode slotChannel} gives a channel that does for every key.
 *
 * @module
 */

import { crc16, keyHashSlot } from "./slots.ts";

/**
 * The hash tag of a key, as Redis Cluster finds it: what lies between the first `{` and the first
 * `}` after it, when that is not empty.
 *
 * @example
 * ```ts
 * import { hashTag } from "./shard_channel.ts";
 *
 * hashTag("{user:1}:cart"); // "user:1"
 * hashTag("room:1"); // undefined
 * hashTag("{}x{y}"); // undefined: the first tag is empty, later braces do not count
 * ```
 *
 * @param key the key (a binary string)
 * @returns the tag, or undefined when the whole key is hashed
 */
export function hashTag(key: string): string | undefined {
  const s = key.indexOf("{");
  if (s === -1) return undefined;
  const e = key.indexOf("}", s + 1);
  return e === -1 || e === s + 1 ? undefined : key.slice(s + 1, e);
}

/**
 * The channel `prefix` + `key` moved into `key`'s hash slot:
 *
 * 1. the key has a hash tag: `prefix + key` (its tag is the key's tag);
 * 2. otherwise, a key that is not empty and has no `}`: `prefix + "{" + key + "}"` (the whole key
 *    is the tag, and hashing the whole key is what the key's own slot is);
 * 3. otherwise (an empty key, or one with a `}` but no tag, such as `a}b` or `{}a`):
 *    `prefix + "{" + t + "}" + key`, where `t` is the first string of `[0-9A-Za-z]` characters (by
 *    length, then in that order: `0`...`z`, `00`, `01`...) whose slot is the key's slot.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { slotChannel } from "./shard_channel.ts";
 *
 * assert.equal(slotChannel("__group__:", "{game:7}:room"), "__group__:{game:7}:room");
 * assert.equal(slotChannel("__group__:", "room:1"), "__group__:{room:1}");
 * assert.equal(slotChannel("__group__:", "a}b"), "__group__:{4w2}a}b");
 * ```
 *
 * @param prefix the channel's prefix, without `{` or `}`
 * @param key the key (a binary string)
 * @returns a channel whose hash slot is the key's
 * @throws RangeError when the prefix has a `{` or a `}` (it would change where the tag is read)
 */
export function slotChannel(prefix: string, key: string): string {
  if (prefix.includes("{") || prefix.includes("}")) {
    throw new RangeError(`Channel prefix must not contain braces: ${prefix}`);
  }
  if (hashTag(key) !== undefined) return prefix + key;
  if (key !== "" && !key.includes("}")) return `${prefix}{${key}}`;
  return `${prefix}{${slotTag(keyHashSlot(key))}}${key}`;
}

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** The first tag found of each slot (rule 3 of slotChannel). */
const tags: Array<string | undefined> = new Array(16384);
/** How many strings of the sequence the search has hashed so far. */
let scanned = 0;

/**
 * The first string of ALPHABET characters, by length then in order, that hashes to `slot`. The
 * search goes on from where the last one stopped, keeping the first string of each slot it meets:
 * at most the 238,390 strings of length 1 to 3 in all (every slot has one of length 3 at most).
 *
 * @param slot a hash slot, 0..16383
 * @returns the tag
 */
export function slotTag(slot: number): string {
  let tag = tags[slot];
  while (tag === undefined) {
    const s = nth(scanned++);
    const at = crc16(s) & 0x3fff;
    tags[at] ??= s;
    tag = tags[slot];
  }
  return tag;
}

/** The `n`th string of the sequence (0: `0`, 62: `00`). */
function nth(n: number): string {
  let len = 1;
  let count = ALPHABET.length;
  while (n >= count) {
    n -= count;
    len++;
    count *= ALPHABET.length;
  }
  let s = "";
  for (let i = 0; i < len; i++) {
    s = ALPHABET[n % ALPHABET.length]! + s;
    n = Math.floor(n / ALPHABET.length);
  }
  return s;
}
