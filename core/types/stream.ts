/**
 * The stream type: entries with rising IDs in a sorted array of nodes (stream_node.ts), found by
 * binary search on each node's first ID, plus consumer groups (stream_group.ts). Appending is
 * O(1) amortised; a range read costs O(log n) to find its node and a walk of at most one node's
 * entries before the first returned one, like Redis's radix tree of listpacks.
 *
 * The nodes split exactly where Redis's would (`stream-node-max-entries` and
 * `stream-node-max-bytes`, the latter against Redis's listpack size), and deletions mark entries
 * as Redis does, so XINFO STREAM, approximate trimming and the first/last/max-deleted IDs agree
 * with Redis's. Conversion to and from the persistence image is in stream_convert.ts.
 *
 * @module
 */

import type { TypedValue } from "../keyspace/database.ts";
import type { ConsumerGroup } from "./stream_group.ts";
import { NodeArena, StreamNode } from "./stream_node.ts";
import { cmpId, inc, isMax, MAX_ID, MIN_ID, type StreamId, type U64 } from "./stream_id.ts";
import { raxNodeCount } from "./stream_rax.ts";

export { streamFromImage, streamToImage } from "./stream_convert.ts";

/** Redis's STREAM_LISTPACK_MAX_SIZE: a node never grows past 1 GB. */
const MAX_NODE_BYTES = 1 << 30;

/** Where a stream starts a new node (the `stream-node-*` directives at write time). */
export interface NodeLimits {
  /** `stream-node-max-entries`; 0 for no limit. */
  maxEntries: number;
  /** `stream-node-max-bytes`; 0 for Redis's 1 GB cap. */
  maxBytes: number;
}

/** Trimming options of XADD and XTRIM. */
export interface TrimSpec {
  /** Trim by length (MAXLEN) or by ID (MINID). */
  byId: boolean;
  /** MAXLEN: entries to keep. */
  maxLen: number;
  /** MINID: the smallest ID to keep. */
  minId: StreamId;
  /** `~`: only whole nodes go. */
  approx: boolean;
  /** Most entries to delete; 0 for no limit. */
  limit: number;
}

/**
 * A Redis stream value.
 *
 * @example
 * ```ts
 * const s = new StreamValue();
 * s.append({ ms: 1, seq: 0 }, ["f", "v"], 0, 1, { maxEntries: 100, maxBytes: 4096 });
 * const it = s.range({ ms: 0, seq: 0 }, { ms: 9, seq: 0 });
 * while (it.next()) it.node.pairs(it.i); // ["f", "v"]
 * ```
 */
export class StreamValue implements TypedValue {
  readonly type = "stream";
  /** The nodes, in ID order. */
  nodes: StreamNode[] = [];
  /** Live entries. */
  length = 0;
  /** The greatest ID ever added (or set by XSETID); 0-0 for a new stream. */
  lastId: StreamId = MIN_ID;
  /** The first live entry's ID, 0-0 when empty. */
  firstId: StreamId = MIN_ID;
  /** The greatest ID deleted by XDEL. */
  maxDeletedId: StreamId = MIN_ID;
  /** Entries ever added. */
  entriesAdded: U64 = 0;
  /** Consumer groups by name, once one was created. */
  groups: Map<string, ConsumerGroup> | undefined;
  /**
   * Changes that wake blocked readers (XADD, XGROUP DESTROY), counted: Redis signals a stream
   * key as ready for those, not for every write (an XDEL wakes nobody).
   */
  signals = 0;
  /** Where new nodes get their arrays. */
  private readonly arena = new NodeArena();

  /** OBJECT ENCODING: always `stream`. */
  encoding(): string {
    return "stream";
  }

  /**
   * The ID XADD `*` gives now: `<now>-0` when the clock is past the last ID, else the last ID
   * plus one (never backwards); undefined when the last ID is the greatest.
   */
  autoId(now: number): StreamId | undefined {
    const last = this.lastId;
    if (now > last.ms) return { ms: now, seq: 0 };
    if (!isMax(last.seq)) return { ms: last.ms, seq: inc(last.seq) };
    return isMax(last.ms) ? undefined : { ms: inc(last.ms), seq: 0 };
  }

  /**
   * Appends an entry (its ID greater than the last) with the `numFields` pairs at `argv[from..]`,
   * starting a new node where Redis's streamAppendItem would. Returns false, appending nothing,
   * when the entry is larger than a node can ever be (1 GB).
   */
  append(
    id: StreamId,
    argv: readonly string[],
    from: number,
    numFields: number,
    limits: NodeLimits,
  ): boolean {
    let size = 0;
    for (let j = from; j < from + 2 * numFields; j++) size += argv[j]!.length;
    if (size > MAX_NODE_BYTES) return false;
    let tail = this.nodes.length === 0 ? undefined : this.nodes[this.nodes.length - 1]!;
    if (tail !== undefined) {
      let maxBytes = limits.maxBytes;
      if (maxBytes === 0 || maxBytes > MAX_NODE_BYTES) maxBytes = MAX_NODE_BYTES;
      if (
        tail.bytes + size >= maxBytes || (limits.maxEntries !== 0 && tail.n >= limits.maxEntries)
      ) {
        tail.seal();
        tail = undefined;
      }
    }
    if (tail === undefined) {
      const prev = this.nodes.length === 0 ? undefined : this.nodes[this.nodes.length - 1]!;
      // Consecutive nodes usually share their master fields: one array serves them all.
      const fields = prev !== undefined && prev.sameFields(argv, from, numFields)
        ? prev.fields
        : Array.from({ length: numFields }, (_, j) => argv[from + 2 * j]!);
      const m = limits.maxEntries;
      tail = new StreamNode(id.ms, id.seq, fields, m > 0 && m <= 1024 ? m : 16, this.arena);
      this.nodes.push(tail);
    }
    tail.append(id.ms, id.seq, argv, from, numFields);
    this.length++;
    this.entriesAdded = inc(this.entriesAdded);
    this.lastId = id;
    if (this.length === 1) this.firstId = id;
    return true;
  }

  /**
   * Index of the node to start a forward walk from `id`: the last one whose first ID is not
   * after `id`, or the first node (Redis's raxSeek `<=`, falling back to `^`).
   */
  nodeFor(id: StreamId): number {
    const nodes = this.nodes;
    let lo = 0;
    let hi = nodes.length - 1;
    if (hi < 0) return 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      const n = nodes[mid]!;
      if (cmpId(n.masterMs, n.masterSeq, id.ms, id.seq) <= 0) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** A walk over the live entries between `start` and `end` (inclusive), either way. */
  range(start: StreamId, end: StreamId, rev = false): StreamRange {
    return new StreamRange(this, start, end, rev);
  }

  /** Where the live entry `id` is, or undefined. */
  find(id: StreamId): { node: StreamNode; k: number; i: number } | undefined {
    if (this.nodes.length === 0) return undefined;
    const k = this.nodeFor(id);
    const node = this.nodes[k]!;
    const i = node.lowerBound(id.ms, id.seq);
    if (i >= node.n || node.cmpAt(i, id.ms, id.seq) !== 0 || node.deleted(i)) return undefined;
    return { node, k, i };
  }

  /** True when `id` is a live entry. */
  has(id: StreamId): boolean {
    return this.find(id) !== undefined;
  }

  /** Deletes the live entry `id` (XDEL); false when there is none. */
  delete(id: StreamId): boolean {
    const at = this.find(id);
    if (at === undefined) return false;
    // The last live entry of a node takes the node with it, tombstones and all.
    if (at.node.live === 1) this.nodes.splice(at.k, 1);
    else at.node.markDeleted(at.i);
    this.length--;
    return true;
  }

  /**
   * The first entry's ID (the last's with `last`), tombstones included unless `live`; with no
   * such entry the greatest ID for the first, 0-0 for the last (Redis's streamGetEdgeID).
   */
  edgeId(last: boolean, live: boolean): StreamId {
    const nodes = this.nodes;
    if (!last) {
      for (const node of nodes) {
        for (let i = 0; i < node.n; i++) {
          if (!live || !node.deleted(i)) return { ms: node.msAt(i), seq: node.seqAt(i) };
        }
      }
      return MAX_ID;
    }
    for (let k = nodes.length - 1; k >= 0; k--) {
      const node = nodes[k]!;
      for (let i = node.n - 1; i >= 0; i--) {
        if (!live || !node.deleted(i)) return { ms: node.msAt(i), seq: node.seqAt(i) };
      }
    }
    return MIN_ID;
  }

  /** Sets the first ID after entries went from the head (0-0 when empty). */
  refreshFirstId(): void {
    this.firstId = this.length === 0 ? MIN_ID : this.edgeId(false, true);
  }

  /** Trims as Redis's streamTrim does; returns the number of entries deleted. */
  trim(spec: TrimSpec): number {
    const nodes = this.nodes;
    const { byId, maxLen, minId, limit } = spec;
    let deleted = 0;
    let drop = 0;
    for (; drop < nodes.length; drop++) {
      if (!byId && this.length <= maxLen) break;
      const node = nodes[drop]!;
      const entries = node.live;
      if (limit !== 0 && deleted + entries > limit) break;
      const whole = byId
        ? node.cmpAt(node.n - 1, minId.ms, minId.seq) < 0
        : this.length - entries >= maxLen;
      if (whole) {
        this.length -= entries;
        deleted += entries;
        continue;
      }
      if (spec.approx) break;
      for (let i = 0; i < node.n; i++) {
        if (byId ? node.cmpAt(i, minId.ms, minId.seq) >= 0 : this.length <= maxLen) break;
        if (node.deleted(i)) continue;
        node.markDeleted(i);
        this.length--;
        deleted++;
      }
      break;
    }
    if (drop !== 0) nodes.splice(0, drop);
    if (this.length === 0) this.firstId = MIN_ID;
    else if (deleted !== 0) this.refreshFirstId();
    return deleted;
  }

  /** XINFO STREAM's radix-tree-keys and radix-tree-nodes of Redis's tree of these nodes. */
  treeStats(): { keys: number; nodes: number } {
    return { keys: this.nodes.length, nodes: raxNodeCount(this.nodes) };
  }

  /** A deep copy (COPY, snapshots). */
  clone(): StreamValue {
    const c = new StreamValue();
    c.nodes = this.nodes.map((n) => n.clone());
    c.length = this.length;
    c.lastId = this.lastId;
    c.firstId = this.firstId;
    c.maxDeletedId = this.maxDeletedId;
    c.entriesAdded = this.entriesAdded;
    if (this.groups !== undefined) {
      c.groups = new Map();
      for (const [name, g] of this.groups) c.groups.set(name, g.clone());
    }
    return c;
  }

  /**
   * Approximate bytes used. Like Redis's MEMORY USAGE, a few nodes are measured and the rest
   * extrapolated, so the cost does not grow with the stream.
   */
  memoryUsage(): number {
    const nodes = this.nodes;
    let sampled = 0;
    let entries = 0;
    for (let k = 0; k < nodes.length && k < 5; k++) {
      sampled += nodes[k]!.memoryUsage();
      entries += nodes[k]!.n;
    }
    let total = 96 + nodes.length * 8;
    if (entries !== 0) {
      let all = 0;
      for (const node of nodes) all += node.n;
      total += Math.round((sampled / entries) * all);
    }
    for (const g of this.groups?.values() ?? []) {
      total += 128 + g.pending.size * 120 + g.consumers.size * 160;
    }
    return total;
  }
}

/** A walk over live entries in a range; `next()` moves to the next one (`node`, `i`). */
export class StreamRange {
  /** The node of the current entry. */
  node!: StreamNode;
  /** The current entry's index in `node`. */
  i = -1;
  private k: number;
  private done: boolean;

  /**
   * @param stream the stream
   * @param start the smallest ID in range
   * @param end the greatest ID in range
   * @param rev walk from `end` down to `start`
   */
  constructor(
    private readonly stream: StreamValue,
    private readonly start: StreamId,
    private readonly end: StreamId,
    private readonly rev: boolean,
  ) {
    const nodes = stream.nodes;
    this.done = nodes.length === 0;
    if (this.done) {
      this.k = 0;
      return;
    }
    if (!rev) {
      this.k = stream.nodeFor(start);
      this.node = nodes[this.k]!;
      this.i = this.node.lowerBound(start.ms, start.seq) - 1;
    } else {
      this.k = stream.nodeFor(end);
      this.node = nodes[this.k]!;
      const j = this.node.lowerBound(end.ms, end.seq);
      this.i = j < this.node.n && this.node.cmpAt(j, end.ms, end.seq) === 0 ? j + 1 : j;
    }
  }

  /** Moves to the next live entry in range; false when there is none. */
  next(): boolean {
    if (this.done) return false;
    const nodes = this.stream.nodes;
    for (;;) {
      if (!this.rev) {
        if (++this.i >= this.node.n) {
          if (++this.k >= nodes.length) return this.finish();
          this.node = nodes[this.k]!;
          this.i = 0;
        }
        if (this.node.deleted(this.i)) continue;
        if (this.node.cmpAt(this.i, this.end.ms, this.end.seq) > 0) return this.finish();
        return true;
      }
      if (--this.i < 0) {
        if (--this.k < 0) return this.finish();
        this.node = nodes[this.k]!;
        this.i = this.node.n - 1;
      }
      if (this.node.deleted(this.i)) continue;
      if (this.node.cmpAt(this.i, this.start.ms, this.start.seq) < 0) return this.finish();
      return true;
    }
  }

  private finish(): false {
    this.done = true;
    return false;
  }
}
