/**
 * The node count of the radix tree Redis would keep for a stream (XINFO STREAM's
 * `radix-tree-nodes`). Redis's rax keys each listpack by its master ID as 16 big-endian bytes;
 * insertion and deletion keep the tree in one canonical shape for a given set of keys: chains of
 * single-child nodes are compressed into one node, a node where keys part has one child per next
 * byte, and every key ends in an empty leaf. So the count follows from the sorted keys alone.
 *
 * @module
 */

import { idKey } from "./stream_id.ts";

/** Length of a stream tree key. */
const KEY_LEN = 16;

/** Length of the common prefix of `a` and `b` from `from` on. */
function commonPrefix(a: string, b: string, from: number): number {
  let p = from;
  while (p < KEY_LEN && a.charCodeAt(p) === b.charCodeAt(p)) p++;
  return p;
}

/** Nodes under a pointer to the keys `[lo, hi)`, which share their first `depth` bytes. */
function countFrom(keys: string[], lo: number, hi: number, depth: number): number {
  if (depth === KEY_LEN) return 1; // the leaf
  // In sorted keys the common prefix of a range is that of its first and last keys.
  const p = commonPrefix(keys[lo]!, keys[hi - 1]!, depth);
  if (p > depth) return 1 + countFrom(keys, lo, hi, p); // a compressed node, then the rest
  // A branching node: one child per distinct next byte.
  let n = 1;
  for (let i = lo; i < hi;) {
    const byte = keys[i]!.charCodeAt(depth);
    let j = i + 1;
    while (j < hi && keys[j]!.charCodeAt(depth) === byte) j++;
    n += countFrom(keys, i, j, depth + 1);
    i = j;
  }
  return n;
}

/**
 * Nodes in Redis's radix tree holding these stream nodes (the empty tree has its root).
 *
 * @param nodes the stream's nodes, in ID order
 * @returns the count XINFO STREAM reports as `radix-tree-nodes`
 */
export function raxNodeCount(
  nodes: ReadonlyArray<{ masterMs: number | bigint; masterSeq: number | bigint }>,
): number {
  if (nodes.length === 0) return 1;
  const keys = nodes.map((n) => idKey(n.masterMs, n.masterSeq));
  return countFrom(keys, 0, keys.length, 0);
}
