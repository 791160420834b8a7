/**
 * The ordered index of a sorted set: a counted B+ tree. Leaves hold up to 64 elements in plain
 * arrays (scores unboxed in a double array, members beside them) and are linked both ways;
 * inner nodes hold, for each child, its element count and its greatest element. Counts give
 * rank queries and access by rank in O(log n), like the spans of Redis's skip list, while the
 * wide nodes keep a search at a handful of memory reads per level.
 *
 * Elements are ordered by score, then by member bytes: members are binary strings (one byte per
 * char), so `<` on them is memcmp with the shorter prefix first, exactly Redis's `sdscmp`. Range
 * searches by score or by member are lower bounds ({@linkcode OrderTree.countBefore}); the
 * interval logic lives in `zset_range_spec.ts`.
 *
 * @module
 */

/** Most elements in a leaf, most children of an inner node. */
const MAX = 64;
/** A leaf smaller than this merges with a neighbour when both fit in one. */
const MIN = 16;
/** Below this many elements a leaf's arrays are reallocated to the exact size on insertion. */
const SMALL = 8;

class Leaf {
  readonly isLeaf = true;
  prev: Leaf | null = null;
  next: Leaf | null = null;
  constructor(public scores: number[], public members: string[]) {}
}

class Inner {
  readonly isLeaf = false;
  constructor(
    public children: TreeNode[],
    public counts: number[],
    public maxScores: number[],
    public maxMembers: string[],
  ) {}
}

type TreeNode = Leaf | Inner;

/** (s1, m1) sorts before (s2, m2). */
function less(s1: number, m1: string, s2: number, m2: string): boolean {
  return s1 < s2 || (s1 === s2 && m1 < m2);
}

function insertAt<T>(a: T[], i: number, v: T): void {
  a.push(v);
  for (let j = a.length - 1; j > i; j--) a[j] = a[j - 1]!;
  a[i] = v;
}

/**
 * A copy of `a` with `v` inserted at `i`, exactly sized: growing in place reserves 16 spare slots,
 * which would make most of a small set's memory.
 */
function withInserted<T>(a: T[], i: number, v: T): T[] {
  const b = new Array<T>(a.length + 1);
  for (let j = 0; j < i; j++) b[j] = a[j]!;
  b[i] = v;
  for (let j = i; j < a.length; j++) b[j + 1] = a[j]!;
  return b;
}

function removeAt<T>(a: T[], i: number): void {
  for (let j = i + 1; j < a.length; j++) a[j - 1] = a[j]!;
  a.pop();
}

function sizeOf(n: TreeNode): number {
  if (n.isLeaf) return n.members.length;
  let s = 0;
  for (const c of n.counts) s += c;
  return s;
}

function maxScore(n: TreeNode): number {
  return n.isLeaf ? n.scores[n.scores.length - 1]! : n.maxScores[n.maxScores.length - 1]!;
}

function maxMember(n: TreeNode): string {
  return n.isLeaf ? n.members[n.members.length - 1]! : n.maxMembers[n.maxMembers.length - 1]!;
}

// The path of the last descent: the inner node at each depth and the child taken there, then the
// leaf and the position in it. One descent at a time, so one set serves every tree.
const pathNodes: Inner[] = [];
const pathIdx: number[] = [];
let depth = 0;
let curLeaf: Leaf = new Leaf([], []);
let curIdx = 0;

/** A position in an ordered index for walking it; a mutation of the index invalidates it. */
export interface TreeCursor {
  /** False once the cursor moved past either end. */
  readonly valid: boolean;
  /** The member at the cursor. */
  readonly member: string;
  /** The score at the cursor. */
  readonly score: number;
  /** Moves to the next element. */
  next(): void;
  /** Moves to the previous element. */
  prev(): void;
}

/**
 * What a sorted set needs of its ordered index: the tree below, or the packed listpack form of
 * a small set (zset_packed.ts). Ranks are 1-based.
 */
export interface OrderIndex {
  /** Number of elements. */
  readonly length: number;
  /** Inserts an element known to be absent. */
  insert(score: number, member: string): void;
  /** Deletes the element (score, member); true when it was there. */
  delete(score: number, member: string): boolean;
  /** Changes the score of an element known to be present. */
  updateScore(score: number, member: string, newScore: number): void;
  /** 1-based rank of (score, member), 0 when absent. */
  rankOf(score: number, member: string): number;
  /** A cursor at 1-based rank `r` (invalid when out of range). */
  at(r: number): TreeCursor;
  /** A cursor at the first element (invalid when empty). */
  first(): TreeCursor;
  /** A cursor at the last element (invalid when empty). */
  last(): TreeCursor;
  /** Number of leading elements for which the monotone predicate `before` holds. */
  countBefore(before: (score: number, member: string) => boolean): number;
  /** Deletes 1-based ranks `start..end` (inclusive, valid), calling `removed` for each. */
  deleteRangeByRank(start: number, end: number, removed: (member: string) => void): number;
}

/** A position in the tree for walking it; a mutation of the tree invalidates it. */
class LeafCursor implements TreeCursor {
  /**
   * @param leaf the leaf, null past either end
   * @param i the position in the leaf
   */
  constructor(private leaf: Leaf | null, private i: number) {}

  /** False once the cursor moved past either end. */
  get valid(): boolean {
    return this.leaf !== null;
  }

  /** The member at the cursor. */
  get member(): string {
    return this.leaf!.members[this.i]!;
  }

  /** The score at the cursor. */
  get score(): number {
    return this.leaf!.scores[this.i]!;
  }

  /** Moves to the next element. */
  next(): void {
    if (++this.i >= this.leaf!.members.length) {
      this.leaf = this.leaf!.next;
      this.i = 0;
    }
  }

  /** Moves to the previous element. */
  prev(): void {
    if (--this.i < 0) {
      this.leaf = this.leaf!.prev;
      this.i = this.leaf === null ? 0 : this.leaf.members.length - 1;
    }
  }
}

/** A counted B+ tree ordered by (score, member). */
export class OrderTree implements OrderIndex {
  private root: TreeNode = new Leaf([], []);
  private head: Leaf = this.root as Leaf;
  private tail: Leaf = this.root as Leaf;
  /** Number of elements. */
  length = 0;

  /** Descends to the first element not before (score, member); returns its 0-based rank. */
  private seekKey(score: number, member: string): number {
    let node = this.root;
    let rank = 0;
    depth = 0;
    while (!node.isLeaf) {
      const ms = node.maxScores;
      const mm = node.maxMembers;
      let lo = 0;
      let hi = ms.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (less(ms[mid]!, mm[mid]!, score, member)) lo = mid + 1;
        else hi = mid;
      }
      for (let j = 0; j < lo; j++) rank += node.counts[j]!;
      pathNodes[depth] = node;
      pathIdx[depth++] = lo;
      node = node.children[lo]!;
    }
    const s = node.scores;
    const m = node.members;
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (less(s[mid]!, m[mid]!, score, member)) lo = mid + 1;
      else hi = mid;
    }
    curLeaf = node;
    curIdx = lo;
    return rank + lo;
  }

  /** Descends to the element of 0-based rank `r` (which must exist). */
  private seekRank(r: number): void {
    let node = this.root;
    depth = 0;
    while (!node.isLeaf) {
      let i = 0;
      while (r >= node.counts[i]!) r -= node.counts[i++]!;
      pathNodes[depth] = node;
      pathIdx[depth++] = i;
      node = node.children[i]!;
    }
    curLeaf = node;
    curIdx = r;
  }

  /**
   * Number of leading elements for which `before` holds, `before` being true then false along
   * the order (a lower bound), in O(log n) calls of `before`.
   *
   * @param before the predicate, monotone along the order
   * @returns how many elements come before the first one for which it is false
   */
  countBefore(before: (score: number, member: string) => boolean): number {
    let node = this.root;
    let rank = 0;
    while (!node.isLeaf) {
      const n = node.children.length;
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (before(node.maxScores[mid]!, node.maxMembers[mid]!)) lo = mid + 1;
        else hi = mid;
      }
      for (let j = 0; j < lo; j++) rank += node.counts[j]!;
      if (lo === n) return rank;
      node = node.children[lo]!;
    }
    const s = node.scores;
    const m = node.members;
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(s[mid]!, m[mid]!)) lo = mid + 1;
      else hi = mid;
    }
    return rank + lo;
  }

  /** Sets the greatest element recorded for the path's node at depth `d` and above. */
  private fixMax(d: number, score: number, member: string): void {
    for (; d >= 0; d--) {
      const p = pathNodes[d]!;
      const i = pathIdx[d]!;
      p.maxScores[i] = score;
      p.maxMembers[i] = member;
      if (i !== p.children.length - 1) return;
    }
  }

  /** Inserts `right` after `left`, the path's child at depth `d` (-1: `left` is the root). */
  private addChild(d: number, left: TreeNode, right: TreeNode): void {
    if (d < 0) {
      this.root = new Inner(
        [left, right],
        [sizeOf(left), sizeOf(right)],
        [maxScore(left), maxScore(right)],
        [maxMember(left), maxMember(right)],
      );
      return;
    }
    const p = pathNodes[d]!;
    const i = pathIdx[d]!;
    const leftSize = sizeOf(left);
    insertAt(p.children, i + 1, right);
    insertAt(p.counts, i + 1, p.counts[i]! - leftSize);
    p.counts[i] = leftSize;
    insertAt(p.maxScores, i + 1, p.maxScores[i]!);
    insertAt(p.maxMembers, i + 1, p.maxMembers[i]!);
    p.maxScores[i] = maxScore(left);
    p.maxMembers[i] = maxMember(left);
    if (p.children.length > MAX) {
      const half = p.children.length >> 1;
      const sibling = new Inner(
        p.children.splice(half),
        p.counts.splice(half),
        p.maxScores.splice(half),
        p.maxMembers.splice(half),
      );
      this.addChild(d - 1, p, sibling);
    }
  }

  /** Removes the path's child at depth `d`, which is empty (or was merged away). */
  private dropChild(d: number): void {
    if (d < 0) {
      this.root = this.head = this.tail = new Leaf([], []);
      return;
    }
    const p = pathNodes[d]!;
    const i = pathIdx[d]!;
    removeAt(p.children, i);
    removeAt(p.counts, i);
    removeAt(p.maxScores, i);
    removeAt(p.maxMembers, i);
    if (p.children.length === 0) this.dropChild(d - 1);
    else if (i === p.children.length) this.fixMax(d - 1, maxScore(p), maxMember(p));
  }

  /** Inserts an element known to be absent. */
  insert(score: number, member: string): void {
    this.seekKey(score, member);
    const leaf = curLeaf;
    if (leaf.members.length < SMALL) {
      leaf.scores = withInserted(leaf.scores, curIdx, score);
      leaf.members = withInserted(leaf.members, curIdx, member);
    } else {
      insertAt(leaf.scores, curIdx, score);
      insertAt(leaf.members, curIdx, member);
    }
    this.length++;
    for (let d = 0; d < depth; d++) pathNodes[d]!.counts[pathIdx[d]!]!++;
    const n = leaf.members.length;
    if (curIdx === n - 1) this.fixMax(depth - 1, score, member);
    if (n > MAX) {
      const right = new Leaf(leaf.scores.splice(n >> 1), leaf.members.splice(n >> 1));
      right.next = leaf.next;
      right.prev = leaf;
      if (leaf.next !== null) leaf.next.prev = right;
      else this.tail = right;
      leaf.next = right;
      this.addChild(depth - 1, leaf, right);
    }
  }

  /** Deletes `k` elements from where the last descent stopped, all in its leaf. */
  private deleteCurrent(k = 1): void {
    const leaf = curLeaf;
    if (k === 1) {
      removeAt(leaf.scores, curIdx);
      removeAt(leaf.members, curIdx);
    } else {
      leaf.scores.splice(curIdx, k);
      leaf.members.splice(curIdx, k);
    }
    this.length -= k;
    for (let d = 0; d < depth; d++) pathNodes[d]!.counts[pathIdx[d]!]! -= k;
    const n = leaf.members.length;
    if (depth === 0) return;
    if (n === 0) {
      if (leaf.prev !== null) leaf.prev.next = leaf.next;
      else this.head = leaf.next!;
      if (leaf.next !== null) leaf.next.prev = leaf.prev;
      else this.tail = leaf.prev!;
      this.dropChild(depth - 1);
    } else {
      if (curIdx === n) this.fixMax(depth - 1, leaf.scores[n - 1]!, leaf.members[n - 1]!);
      if (n < MIN) this.mergeLeaf(leaf);
    }
    while (!this.root.isLeaf && this.root.children.length === 1) {
      this.root = this.root.children[0]!;
    }
  }

  /** Merges a small leaf with its right (or left) sibling under the same parent when they fit. */
  private mergeLeaf(leaf: Leaf): void {
    const d = depth - 1;
    const p = pathNodes[d]!;
    const i = pathIdx[d]!;
    // The children j - 1 and j become one: the right one moves into the left one.
    let j: number;
    if (i + 1 < p.children.length && p.counts[i + 1]! + leaf.members.length <= MAX) j = i + 1;
    else if (i > 0 && p.counts[i - 1]! + leaf.members.length <= MAX) j = i;
    else return;
    const left = p.children[j - 1] as Leaf;
    const right = p.children[j] as Leaf;
    for (let k = 0; k < right.members.length; k++) {
      left.scores.push(right.scores[k]!);
      left.members.push(right.members[k]!);
    }
    left.next = right.next;
    if (right.next !== null) right.next.prev = left;
    else this.tail = left;
    p.counts[j - 1]! += p.counts[j]!;
    p.maxScores[j - 1] = p.maxScores[j]!;
    p.maxMembers[j - 1] = p.maxMembers[j]!;
    pathIdx[d] = j;
    this.dropChild(d);
  }

  /** Deletes the element (score, member); true when it was there. */
  delete(score: number, member: string): boolean {
    this.seekKey(score, member);
    if (curIdx >= curLeaf.members.length || curLeaf.members[curIdx] !== member) return false;
    if (curLeaf.scores[curIdx] !== score) return false;
    this.deleteCurrent();
    return true;
  }

  /** Changes the score of an element known to be present. */
  updateScore(score: number, member: string, newScore: number): void {
    this.delete(score, member);
    this.insert(newScore, member);
  }

  /** 1-based rank of (score, member), 0 when absent. */
  rankOf(score: number, member: string): number {
    const r = this.seekKey(score, member);
    return curIdx < curLeaf.members.length && curLeaf.members[curIdx] === member ? r + 1 : 0;
  }

  /** A cursor at 1-based rank `r` (invalid when out of range). */
  at(r: number): TreeCursor {
    if (r < 1 || r > this.length) return new LeafCursor(null, 0);
    this.seekRank(r - 1);
    return new LeafCursor(curLeaf, curIdx);
  }

  /** A cursor at the first element (invalid when empty). */
  first(): TreeCursor {
    return new LeafCursor(this.length === 0 ? null : this.head, 0);
  }

  /** A cursor at the last element (invalid when empty). */
  last(): TreeCursor {
    return new LeafCursor(this.length === 0 ? null : this.tail, this.tail.members.length - 1);
  }

  /** Deletes 1-based ranks `start..end` (inclusive, valid), calling `removed` for each. */
  deleteRangeByRank(start: number, end: number, removed: (member: string) => void): number {
    // A leaf's share of the range goes at once: one descent per leaf, not per element.
    for (let left = end - start + 1; left > 0;) {
      this.seekRank(start - 1);
      const k = Math.min(left, curLeaf.members.length - curIdx);
      for (let i = 0; i < k; i++) removed(curLeaf.members[curIdx + i]!);
      this.deleteCurrent(k);
      left -= k;
    }
    return end - start + 1;
  }
}
