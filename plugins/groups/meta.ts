/**
 * Member metadata (presence): a member's fields live in one hash field, `d:<member>`, as a JSON
 * array `[field, value, field, value, ...]` (one field per member keeps `HGETALL` readable and a
 * member's data removed with it in one HDEL). Set by `GROUP.JOIN ... META` and `GROUP.SETMETA`,
 * read by `GROUP.MEMBERS ... WITHMETA`.
 *
 * @module
 */

import type { HashValue } from "../../core/types/hash.ts";
import { META } from "./group.ts";

/** The metadata of `member`, in the order its fields were first set. */
export function metaOf(hash: HashValue, member: string): Map<string, string> {
  const out = new Map<string, string>();
  const raw = hash.get(META + member);
  if (raw === undefined) return out;
  let items: unknown;
  try {
    items = JSON.parse(raw);
  } catch {
    // Someone wrote the field by hand: what is not our layout reads as no metadata.
    return out;
  }
  if (!Array.isArray(items)) return out;
  for (let i = 0; i + 1 < items.length; i += 2) {
    out.set(String(items[i]), String(items[i + 1]));
  }
  return out;
}

/**
 * The metadata of `member` with `pairs` (field, value, ...) set: the field and value to store
 * (undefined when nothing changes) and how many fields are new.
 */
export function mergeMeta(
  hash: HashValue,
  member: string,
  pairs: readonly string[],
): { pair: [string, string] | undefined; added: number } {
  const meta = metaOf(hash, member);
  let added = 0;
  for (let i = 0; i < pairs.length; i += 2) {
    if (!meta.has(pairs[i]!)) added++;
    meta.set(pairs[i]!, pairs[i + 1]!);
  }
  const value = JSON.stringify([...meta].flat());
  if (value === hash.get(META + member)) return { pair: undefined, added };
  return { pair: [META + member, value], added };
}
