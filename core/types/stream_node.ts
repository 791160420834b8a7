/**
 * One node of a stream, the counterpart of a listpack in Redis's radix tree of listpacks: the
 * entries appended while the node had room, with the master entry's trick (entries with the same
 * fields as the node's first entry store only their values) and deletion by marking (tombstones
 * stay until the whole node goes, as in Redis).
 *
 * Entry IDs are kept as `[ms - masterMs, seq]` pairs of uint32 while they fit, which is always
 * the case for IDs a clock makes; a node that meets an ID that does not fit switches to a plain
 * array of {@linkcode U64} pairs. Values (and the fields of entries whose fields differ from the
 * master's) sit in one flat array per node: no object per entry.
 *
 * The node also tracks the size its listpack would have in Redis (`bytes`), because Redis starts
 * a new node when `stream-node-max-bytes` would be passed, and node boundaries are visible
 * (approximate trimming removes whole nodes; XINFO counts them).
 *
 * @module
 */

import { parseI64 } from "../bytes.ts";
import { big, cmpId, type U64 } from "./stream_id.ts";

/** The entry was deleted (a tombstone). */
export const F_DELETED = 1;
/** The entry has the master entry's fields: only its values are stored. */
export const F_SAME = 2;

const TWO32 = 4294967296;
const TWO63 = 9223372036854775808n;
const TWO64 = 18446744073709551616n;

/** Bytes of a listpack integer entry (encoding, data and back length), lpEncodeIntegerGetType. */
export function intEntry(v: number): number {
  if (v >= 0 && v <= 127) return 2;
  if (v >= -4096 && v <= 4095) return 3;
  if (v >= -32768 && v <= 32767) return 4;
  if (v >= -8388608 && v <= 8388607) return 5;
  if (v >= -2147483648 && v <= 2147483647) return 6;
  return 10;
}

/** Bytes of a listpack entry holding `s` (as an integer when it is the text of an int64). */
export function strEntry(s: string): number {
  const len = s.length;
  if (len > 0 && len <= 20) {
    const c = s.charCodeAt(0);
    if ((c >= 48 && c <= 57) || c === 45) {
      const v = parseI64(s);
      if (v !== undefined) return intEntry(Number(v));
    }
  }
  const l = len + (len < 64 ? 1 : len < 4096 ? 2 : 5);
  return l + (l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5);
}

/** Bytes of the listpack entry of `a - b` as Redis writes it (uint64 difference as an int64). */
function deltaEntry(a: U64, b: U64): number {
  if (typeof a === "number" && typeof b === "number") return intEntry(a - b);
  let d = (big(a) - big(b) + TWO64) % TWO64;
  if (d >= TWO63) d -= TWO64;
  return intEntry(Number(d));
}

/** Bytes a node with these master fields takes before its first entry. */
function headerBytes(fields: readonly string[]): number {
  // Header and end byte, then count (1), deleted (0), field count, fields, the 0 terminator.
  let b = 6 + 1 + 2 + 2 + intEntry(fields.length) + 2;
  for (const f of fields) b += strEntry(f);
  return b;
}

/** The items of a packed node (never appended to: unpack() replaces it). */
const NO_ITEMS: string[] = [];

/** Largest shared buffer an arena hands out node arrays from. */
const ARENA_MAX = 16384;

/**
 * Buffers for the ID and flag arrays of one stream's nodes. Each ArrayBuffer costs the runtime
 * far more than its bytes (a backing store, external memory accounting, sweeping), so nodes
 * share them: the buffers double from one node's size up to 16 KB. Nodes of a stream come and
 * go mostly in order (appends at the tail, trimming at the head), so a buffer is freed soon
 * after its last node.
 */
export class NodeArena {
  private buf: ArrayBuffer | undefined;
  private used = 0;

  /** `bytes` (a multiple of 8) of zeroed room: a buffer and the offset in it. */
  alloc(bytes: number): [ArrayBuffer, number] {
    const buf = this.buf;
    if (buf !== undefined && this.used + bytes <= buf.byteLength) {
      const at = this.used;
      this.used += bytes;
      return [buf, at];
    }
    if (bytes * 2 > ARENA_MAX) return [new ArrayBuffer(bytes), 0];
    const size = buf === undefined ? bytes : Math.min(buf.byteLength * 2, ARENA_MAX);
    this.buf = new ArrayBuffer(Math.max(size, bytes));
    this.used = bytes;
    return [this.buf, 0];
  }
}

/** A stream node. */
export class StreamNode {
  /** Entries in the node, tombstones included. */
  n = 0;
  /** Entries not deleted. */
  live = 0;
  /** Size of Redis's listpack for the same entries. */
  bytes: number;
  /** `[ms - masterMs, seq]` per entry while every ID fits uint32 halves. */
  private ids: Uint32Array | undefined;
  /** `[ms, seq]` per entry once some ID does not fit `ids`. */
  private wide: U64[] | undefined;
  /** F_DELETED and F_SAME bits per entry. */
  flags: Uint8Array;
  /** Start of each entry's first item, and the end as the last; only once fields vary. */
  private offs: Uint32Array | undefined;
  /**
   * The items: values of the entries (with their fields, for entries without F_SAME), in order,
   * while the node takes appends. Sealing packs them into `packed` (empty here then).
   */
  private data: string[] = [];
  /**
   * Once sealed, every item concatenated into one string, and where each item ends in it. A
   * short value costs its bytes and 2 here, instead of a string of its own (~24 bytes in V8)
   * and a pointer.
   */
  private packed = "";
  private ends: Uint16Array | Uint32Array | undefined;

  /**
   * @param masterMs ID of the node's first entry (kept as the node's key when it is deleted)
   * @param masterSeq its sequence
   * @param fields the first entry's fields: the master fields
   * @param cap entries to make room for
   * @param arena where the node's arrays come from (the node's own buffer without one)
   */
  constructor(
    readonly masterMs: U64,
    readonly masterSeq: U64,
    readonly fields: readonly string[],
    cap: number,
    private readonly arena?: NodeArena,
  ) {
    this.bytes = headerBytes(fields);
    if (typeof masterMs !== "number") this.wide = [];
    this.flags = this.arrays(cap, arena);
  }

  /** New ID (unless wide) and flag arrays for `cap` entries, in one buffer; returns the flags. */
  private arrays(cap: number, arena?: NodeArena): Uint8Array {
    const bytes = (cap * 9 + 7) & ~7;
    const [buf, at] = arena !== undefined ? arena.alloc(bytes) : [new ArrayBuffer(bytes), 0];
    if (this.wide === undefined) this.ids = new Uint32Array(buf, at, cap * 2);
    return new Uint8Array(buf, at + cap * 8, cap);
  }

  /** Room for entries. */
  private get cap(): number {
    return this.flags.length;
  }

  /** The ms part of the ID of entry `i`. */
  msAt(i: number): U64 {
    return this.ids !== undefined
      ? (this.masterMs as number) + this.ids[2 * i]!
      : this.wide![2 * i]!;
  }

  /** The seq part of the ID of entry `i`. */
  seqAt(i: number): U64 {
    return this.ids !== undefined ? this.ids[2 * i + 1]! : this.wide![2 * i + 1]!;
  }

  /** `<ms>-<seq>` of entry `i`. */
  idTextAt(i: number): string {
    return `${this.msAt(i)}-${this.seqAt(i)}`;
  }

  /** -1, 0 or 1 as entry `i` sorts before, at or after the ID (ms, seq). */
  cmpAt(i: number, ms: U64, seq: U64): number {
    return cmpId(this.msAt(i), this.seqAt(i), ms, seq);
  }

  /** True when entry `i` is a tombstone. */
  deleted(i: number): boolean {
    return (this.flags[i]! & F_DELETED) !== 0;
  }

  /** Where entry `i` starts in `data`. */
  offset(i: number): number {
    return this.offs !== undefined ? this.offs[i]! : i * this.fields.length;
  }

  /** Number of fields of entry `i`. */
  numFields(i: number): number {
    if (this.offs === undefined) return this.fields.length;
    const span = this.offs[i + 1]! - this.offs[i]!;
    return (this.flags[i]! & F_SAME) !== 0 ? span : span / 2;
  }

  /** The fields and values of entry `i`, alternating. */
  pairs(i: number): string[] {
    const off = this.offset(i);
    if ((this.flags[i]! & F_SAME) === 0) {
      const n = 2 * this.numFields(i);
      if (this.ends === undefined) return this.data.slice(off, off + n);
      const out = new Array<string>(n);
      for (let j = 0; j < n; j++) out[j] = this.item(off + j);
      return out;
    }
    const fields = this.fields;
    const nf = fields.length;
    const out = new Array<string>(2 * nf);
    for (let j = 0; j < nf; j++) {
      out[2 * j] = fields[j]!;
      out[2 * j + 1] = this.item(off + j);
    }
    return out;
  }

  /** Item `k` (see `data`). */
  private item(k: number): string {
    const ends = this.ends;
    if (ends === undefined) return this.data[k]!;
    return this.packed.slice(k === 0 ? 0 : ends[k - 1]!, ends[k]!);
  }

  /** Packs the items into one string (see `packed`). */
  private pack(): void {
    const data = this.data;
    const k = data.length;
    if (k === 0 || this.ends !== undefined) return;
    const packed = data.join("");
    const wide = packed.length > 0xffff;
    const bytes = ((wide ? 4 : 2) * k + 7) & ~7;
    const arena = this.arena;
    const [buf, at] = arena !== undefined ? arena.alloc(bytes) : [new ArrayBuffer(bytes), 0];
    const ends = wide ? new Uint32Array(buf, at, k) : new Uint16Array(buf, at, k);
    let end = 0;
    for (let j = 0; j < k; j++) ends[j] = end += data[j]!.length;
    this.packed = packed;
    this.ends = ends;
    this.data = NO_ITEMS;
  }

  /** Undoes pack(): a sealed node became the tail again and takes appends. */
  private unpack(): void {
    const ends = this.ends;
    if (ends === undefined) return;
    const data = new Array<string>(ends.length);
    for (let j = 0; j < ends.length; j++) data[j] = this.item(j);
    this.data = data;
    this.packed = "";
    this.ends = undefined;
  }

  /** True when the entry of `argv[from..]` (`numFields` pairs) has the master fields. */
  sameFields(argv: readonly string[], from: number, numFields: number): boolean {
    const fields = this.fields;
    if (numFields !== fields.length) return false;
    for (let j = 0; j < numFields; j++) if (argv[from + 2 * j] !== fields[j]) return false;
    return true;
  }

  /**
   * Appends the entry (ms, seq) with the pairs at `argv[from..]`; the ID is greater than every
   * ID in the node and the caller decided the node has room.
   */
  append(ms: U64, seq: U64, argv: readonly string[], from: number, numFields: number): void {
    const same = this.sameFields(argv, from, numFields);
    const i = this.n;
    if (this.ends !== undefined) this.unpack();
    if (i === this.cap) this.grow(i * 2);
    this.storeId(i, ms, seq);
    this.flags[i] = same ? F_SAME : 0;
    const data = this.data;
    // Listpack bytes: flags, the two deltas, [count and fields], values, the back count.
    let bytes = 2 + deltaEntry(ms, this.masterMs) + deltaEntry(seq, this.masterSeq);
    if (same) {
      for (let j = 0; j < numFields; j++) {
        const v = argv[from + 2 * j + 1]!;
        data.push(v);
        bytes += strEntry(v);
      }
      bytes += intEntry(numFields + 3);
    } else {
      if (this.offs === undefined) this.splitOffsets();
      for (let j = 0; j < 2 * numFields; j++) {
        const s = argv[from + j]!;
        data.push(s);
        bytes += strEntry(s);
      }
      bytes += intEntry(numFields) + intEntry(2 * numFields + 4);
    }
    if (this.offs !== undefined) this.offs[i + 1] = data.length;
    this.bytes += bytes + intEntry(this.live + 1) - intEntry(this.live);
    this.n = i + 1;
    this.live++;
  }

  private storeId(i: number, ms: U64, seq: U64): void {
    const ids = this.ids;
    if (ids !== undefined) {
      const d = typeof ms === "number" ? ms - (this.masterMs as number) : -1;
      if (d >= 0 && d < TWO32 && typeof seq === "number" && seq < TWO32) {
        ids[2 * i] = d;
        ids[2 * i + 1] = seq;
        return;
      }
      this.toWide();
    }
    this.wide![2 * i] = ms;
    this.wide![2 * i + 1] = seq;
  }

  private toWide(): void {
    const wide: U64[] = [];
    for (let j = 0; j < this.n; j++) wide.push(this.msAt(j), this.seqAt(j));
    this.wide = wide;
    this.ids = undefined;
  }

  /** Starts keeping per-entry offsets: the first entry whose fields differ arrived. */
  private splitOffsets(): void {
    const offs = new Uint32Array(this.cap + 1);
    const nf = this.fields.length;
    for (let j = 0; j <= this.n; j++) offs[j] = j * nf;
    this.offs = offs;
  }

  private grow(cap: number): void {
    const oldIds = this.ids;
    const oldFlags = this.flags;
    this.flags = this.arrays(cap);
    this.flags.set(oldFlags.subarray(0, this.n));
    if (oldIds !== undefined) this.ids!.set(oldIds.subarray(0, 2 * this.n));
    if (this.offs !== undefined) {
      const offs = new Uint32Array(cap + 1);
      offs.set(this.offs.subarray(0, this.n + 1));
      this.offs = offs;
    }
  }

  /** Releases spare room once the node is full (Redis's lpShrinkToFit). */
  seal(): void {
    if (this.n * 2 <= this.cap) this.grow(this.n);
    this.pack();
  }

  /** Marks entry `i` (live) deleted, updating the counts Redis keeps in the master entry. */
  markDeleted(i: number): void {
    this.flags[i]! |= F_DELETED;
    const dead = this.n - this.live;
    this.bytes += intEntry(this.live - 1) - intEntry(this.live) + intEntry(dead + 1) -
      intEntry(dead);
    this.live--;
  }

  /** Index of the first entry not before (ms, seq), or `n`: a linear walk, as in a listpack. */
  lowerBound(ms: U64, seq: U64): number {
    let i = 0;
    const n = this.n;
    if (this.ids !== undefined && typeof ms === "number") {
      // Compare in the node's own terms: no U64 is built per entry.
      const d = ms - (this.masterMs as number);
      if (d < 0) return 0;
      const ids = this.ids;
      while (i < n && (ids[2 * i]! < d || (ids[2 * i] === d && ids[2 * i + 1]! < seq))) i++;
      return i;
    }
    while (i < n && this.cmpAt(i, ms, seq) < 0) i++;
    return i;
  }

  /** A deep copy (COPY, snapshots). */
  clone(): StreamNode {
    const c = new StreamNode(this.masterMs, this.masterSeq, this.fields, Math.max(this.n, 1));
    c.n = this.n;
    c.live = this.live;
    c.bytes = this.bytes;
    c.flags.set(this.flags.subarray(0, this.n));
    if (this.ids !== undefined) c.ids!.set(this.ids.subarray(0, 2 * this.n));
    else {
      c.ids = undefined;
      c.wide = this.wide!.slice();
    }
    if (this.offs !== undefined) c.offs = this.offs.slice(0, this.n + 1);
    c.data = this.ends === undefined ? this.data.slice() : NO_ITEMS;
    c.packed = this.packed;
    c.ends = this.ends?.slice();
    return c;
  }

  /** Approximate bytes of memory the node takes, strings included. */
  memoryUsage(): number {
    let b = 200 + this.flags.length * (this.ids !== undefined ? 9 : 33) + this.data.length * 8;
    if (this.offs !== undefined) b += this.offs.length * 4;
    for (const s of this.data) b += s.length > 1 ? 16 + s.length : 0;
    if (this.ends !== undefined) b += 16 + this.packed.length + this.ends.byteLength;
    return b;
  }
}
