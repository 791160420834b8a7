/**
 * The ordered index of a listpack-encoded sorted set: every element in (score, member) order in
 * one binary string, walked from either end as Redis walks a zset listpack. An element is
 *
 *     <member length> <member bytes> <member length, chars reversed> <tag> <score bytes> <tag>
 *
 * where the lengths are the varints of packed.ts and the score is either a zigzag integer of
 * `tag` (1 to 4) bytes, for integral scores in the int32 range, or the 8 bytes of an IEEE 754
 * double (tag 8). The tag on both sides and the reversed length make the element readable from
 * its end, so a walk backwards (ZREVRANGE, the last element) needs no walk from the head. A
 * 100-element set of 8-byte members and small integer scores is one string of about 1,300 bytes.
 *
 * The set stays short (`zset-max-listpack-entries`, 128 by default), so each operation's linear
 * walk is short, as Redis's is; past the limits the set becomes an {@linkcode OrderTree}.
 *
 * @module
 */

import { type OrderIndex, OrderTree, type TreeCursor } from "./order_tree.ts";
import { compareAt, equalAt, flat, lenChars, packedAt, packedLen, readHeader } from "./packed.ts";

const TWO31 = 2147483648;
const SHORT: string[] = Array.from({ length: 0x80 }, (_, n) => String.fromCharCode(n));
const scratch = new DataView(new ArrayBuffer(8));

/** The member and score of the element last decoded, and where its member starts. */
let curMemberAt = 0;
let curMemberLen = 0;
let curScore = 0;

const scratchBytes = new Uint8Array(scratch.buffer);

/** The chars of a score: tag, bytes, tag (one fromCharCode call, no concatenation). */
function scoreChars(score: number): string {
  const f = String.fromCharCode;
  if (Number.isInteger(score) && score >= -TWO31 && score < TWO31) {
    // Zigzag: below 2^32, so the bit operations below see all of it.
    const u = score >= 0 ? score * 2 : -score * 2 - 1;
    if (u < 0x100) return f(1, u, 1);
    if (u < 0x10000) return f(2, u & 0xff, u >>> 8, 2);
    if (u < 0x1000000) return f(3, u & 0xff, (u >>> 8) & 0xff, u >>> 16, 3);
    return f(4, u & 0xff, (u >>> 8) & 0xff, (u >>> 16) & 0xff, u >>> 24, 4);
  }
  scratch.setFloat64(0, score);
  const b = scratchBytes;
  return f(8, b[0]!, b[1]!, b[2]!, b[3]!, b[4]!, b[5]!, b[6]!, b[7]!, 8);
}

/** The score whose bytes (after the tag `k`) start at `at`. */
function readScore(s: string, at: number, k: number): number {
  if (k === 8) {
    for (let i = 0; i < 8; i++) scratch.setUint8(i, s.charCodeAt(at + i));
    return scratch.getFloat64(0);
  }
  let u = 0;
  for (let i = k - 1; i >= 0; i--) u = u * 256 + s.charCodeAt(at + i);
  return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
}

/**
 * One element as stored, not flat (the caller flattens the string it goes into).
 *
 * @param score the score
 * @param member the member
 * @returns its chars
 */
export function packElement(score: number, member: string): string {
  if (member.length < 0x80) {
    const h = SHORT[member.length]!;
    return h + member + h + scoreChars(score);
  }
  const h = lenChars(member.length);
  return h.join("") + member + h.reverse().join("") + scoreChars(score);
}

/** Decodes the element at `pos` (into the cur* variables); returns where the next one starts. */
function after(s: string, pos: number): number {
  const end = readHeader(s, pos);
  curMemberAt = packedAt;
  curMemberLen = packedLen;
  const tagAt = end + (packedAt - pos);
  const k = s.charCodeAt(tagAt);
  curScore = readScore(s, tagAt + 1, k);
  return tagAt + k + 2;
}

/**
 * Reads the member of the element at `pos` (into curMemberAt/curMemberLen) without decoding
 * its score; returns where the next element starts.
 */
function skip(s: string, pos: number): number {
  let at = pos + 1;
  let len = s.charCodeAt(pos);
  if (len >= 0x80) {
    readHeader(s, pos);
    at = packedAt;
    len = packedLen;
  }
  curMemberAt = at;
  curMemberLen = len;
  const tagAt = at + len + (at - pos);
  return tagAt + s.charCodeAt(tagAt) + 2;
}

/** The score of the element whose `skip` ended at `next`. */
function scoreBefore(s: string, next: number): number {
  const k = s.charCodeAt(next - 1);
  return readScore(s, next - 1 - k, k);
}

/** Decodes the element that ends at `end`; returns where it starts. */
function before(s: string, end: number): number {
  const k = s.charCodeAt(end - 1);
  curScore = readScore(s, end - 1 - k, k);
  let p = end - k - 3;
  let c = s.charCodeAt(p);
  let len = c & 0x7f;
  let groups = 1;
  for (let shift = 7; c & 0x80; shift += 7) {
    c = s.charCodeAt(--p);
    len += (c & 0x7f) * 2 ** shift;
    groups++;
  }
  curMemberLen = len;
  curMemberAt = p - len;
  return curMemberAt - groups;
}

/** A position in a packed index; a mutation of the index invalidates it. */
class PackedCursor implements TreeCursor {
  member = "";
  score = 0;
  private following = -1;

  /**
   * @param s the packed string (kept: later changes of the set are not seen)
   * @param pos where the element starts, -1 for none
   */
  constructor(private readonly s: string, private pos: number) {
    this.load();
  }

  get valid(): boolean {
    return this.pos >= 0;
  }

  private load(): void {
    if (this.pos < 0 || this.pos >= this.s.length) {
      this.pos = -1;
      return;
    }
    this.following = after(this.s, this.pos);
    this.member = this.s.slice(curMemberAt, curMemberAt + curMemberLen);
    this.score = curScore;
  }

  next(): void {
    this.pos = this.following;
    this.load();
  }

  prev(): void {
    this.pos = this.pos === 0 ? -1 : before(this.s, this.pos);
    this.load();
  }
}

/** The packed ordered index of a small sorted set. */
export class PackedOrder implements OrderIndex {
  /** The elements, in order. */
  s = "";
  /** Number of elements. */
  length = 0;

  /**
   * An index of elements given in (score, member) order.
   *
   * @param scores the scores
   * @param members the members, same order
   * @returns the index
   */
  static sorted(scores: readonly number[], members: readonly string[]): PackedOrder {
    const p = new PackedOrder();
    const parts: string[] = new Array(members.length);
    for (let i = 0; i < members.length; i++) parts[i] = packElement(scores[i]!, members[i]!);
    p.s = parts.join("");
    p.length = members.length;
    return p;
  }

  // Where find() last found a member, for the update that usually follows (ZADD, ZINCRBY):
  // valid while `s` is the string it was found in. Every write clears it, so that it never holds
  // a string the set no longer uses.
  private foundIn = "";
  private foundPos = 0;
  private foundNext = 0;

  /** True when the element at `curMember*` (just read) is `member`. */
  private isMember(member: string): boolean {
    return curMemberLen === member.length && equalAt(this.s, curMemberAt, member);
  }

  /** Where `member`'s element starts (its end in foundNext), or -1. */
  private find(member: string): number {
    const s = this.s;
    if (this.foundIn === s && this.foundPos >= 0 && this.foundNext <= s.length) {
      skip(s, this.foundPos);
      if (this.isMember(member)) return this.foundPos;
    }
    const n = member.length;
    const last = n === 0 ? -1 : member.charCodeAt(n - 1);
    for (let pos = 0; pos < s.length;) {
      // A member under 128 bytes (one-char lengths) is stepped over inline: its length, then
      // the score's tag past the member and its reversed length.
      let next: number;
      const len = s.charCodeAt(pos);
      if (len < 0x80) {
        const tagAt = pos + len + 2;
        next = tagAt + s.charCodeAt(tagAt) + 2;
        if (len !== n || (n !== 0 && s.charCodeAt(pos + n) !== last)) {
          pos = next;
          continue;
        }
        curMemberAt = pos + 1;
        curMemberLen = len;
      } else {
        next = skip(s, pos);
      }
      if (curMemberLen === n && equalAt(s, curMemberAt, member)) {
        this.foundIn = s;
        this.foundPos = pos;
        this.foundNext = next;
        return pos;
      }
      pos = next;
    }
    return -1;
  }

  /** The score of `member`, or undefined (a walk, as Redis's zzlFind). */
  scoreOf(member: string): number | undefined {
    return this.find(member) < 0 ? undefined : scoreBefore(this.s, this.foundNext);
  }

  /**
   * Where an element (score, member) goes: the start of the first element after it, walking
   * from `pos` (an element start known to be before it), stepping over `[skipFrom, skipTo)`.
   */
  private insertionPoint(
    score: number,
    member: string,
    pos = 0,
    skipFrom = -1,
    skipTo = -1,
  ): number {
    const s = this.s;
    while (pos < s.length) {
      if (pos === skipFrom) {
        pos = skipTo;
        continue;
      }
      const next = skip(s, pos);
      // The score's tag is the element's last char; a small integer is read inline.
      const k = s.charCodeAt(next - 1);
      let cur: number;
      if (k === 1) {
        const u = s.charCodeAt(next - 2);
        cur = (u & 1) === 0 ? u / 2 : -(u + 1) / 2;
      } else {
        cur = readScore(s, next - 1 - k, k);
      }
      if (cur > score || (cur === score && compareAt(s, curMemberAt, curMemberLen, member) > 0)) {
        break;
      }
      pos = next;
    }
    return pos;
  }

  insert(score: number, member: string): void {
    const s = this.s;
    const pos = this.insertionPoint(score, member);
    this.s = flat(s.slice(0, pos), packElement(score, member), s.slice(pos));
    this.foundIn = "";
    this.length++;
  }

  delete(score: number, member: string): boolean {
    const s = this.s;
    const pos = this.find(member);
    if (pos < 0 || scoreBefore(s, this.foundNext) !== score) return false;
    this.s = flat(s.slice(0, pos), s.slice(this.foundNext));
    this.foundIn = "";
    this.length--;
    return true;
  }

  /** Moves `member` to `newScore` in one pass and one copy of the string. */
  updateScore(_score: number, member: string, newScore: number): void {
    const s = this.s;
    const pos = this.find(member);
    if (pos < 0) return;
    const next = this.foundNext;
    // Moving up, the new place is past the element's own: the walk starts there.
    const up = newScore > scoreBefore(s, next);
    const ins = up
      ? this.insertionPoint(newScore, member, next)
      : this.insertionPoint(newScore, member, 0, pos, next);
    const el = packElement(newScore, member);
    this.s = ins <= pos
      ? flat(s.slice(0, ins), el, s.slice(ins, pos), s.slice(next))
      : flat(s.slice(0, pos), s.slice(next, ins), el, s.slice(ins));
    this.foundIn = "";
  }

  rankOf(score: number, member: string): number {
    const s = this.s;
    let rank = 0;
    for (let pos = 0; pos < s.length;) {
      pos = skip(s, pos);
      rank++;
      if (this.isMember(member)) return scoreBefore(s, pos) === score ? rank : 0;
    }
    return 0;
  }

  /** Where the element of 1-based rank `r` starts, walking from the nearer end. */
  private offset(r: number): number {
    const s = this.s;
    if (r - 1 <= this.length - r) {
      let pos = 0;
      for (let i = 1; i < r; i++) pos = after(s, pos);
      return pos;
    }
    let pos = s.length;
    for (let i = this.length; i >= r; i--) pos = before(s, pos);
    return pos;
  }

  at(r: number): TreeCursor {
    if (r < 1 || r > this.length) return new PackedCursor(this.s, -1);
    return new PackedCursor(this.s, this.offset(r));
  }

  first(): TreeCursor {
    return new PackedCursor(this.s, this.length === 0 ? -1 : 0);
  }

  last(): TreeCursor {
    return new PackedCursor(this.s, this.length === 0 ? -1 : before(this.s, this.s.length));
  }

  countBefore(pred: (score: number, member: string) => boolean): number {
    const s = this.s;
    let n = 0;
    for (let pos = 0; pos < s.length; n++) {
      pos = after(s, pos);
      if (!pred(curScore, s.slice(curMemberAt, curMemberAt + curMemberLen))) break;
    }
    return n;
  }

  deleteRangeByRank(start: number, end: number, removed: (member: string) => void): number {
    const s = this.s;
    const from = this.offset(start);
    let pos = from;
    for (let r = start; r <= end; r++) {
      pos = after(s, pos);
      removed(s.slice(curMemberAt, curMemberAt + curMemberLen));
    }
    this.s = flat(s.slice(0, from), s.slice(pos));
    this.foundIn = "";
    this.length -= end - start + 1;
    return end - start + 1;
  }

  /** The same elements in an {@linkcode OrderTree} (conversion to the skiplist encoding). */
  toTree(): OrderTree {
    const t = new OrderTree();
    const s = this.s;
    for (let pos = 0; pos < s.length;) {
      pos = after(s, pos);
      // Owned copies: a slice of 13 chars or more would keep the packed string alive.
      t.insert(curScore, [s.slice(curMemberAt, curMemberAt + curMemberLen), ""].join(""));
    }
    return t;
  }
}
