/**
 * Stream nodes: the listpacks a Redis stream keeps its entries in (t_stream.c), as RDB stores
 * them. A node is keyed by its master ID (the ID of the entry it was created for) and holds:
 *
 * ```
 * count deleted n field_1 ... field_n 0                    the master entry
 * flags ms-delta seq-delta [n field_1 ...] value_1 ... lp-count   per entry
 * ```
 *
 * An entry with the SAMEFIELDS flag has the master's field names and stores only its values;
 * otherwise it stores its own count and interleaved fields and values. IDs are deltas from the
 * master ID, as signed 64-bit integers wrapping modulo 2^64. `lp-count` is how many listpack
 * elements the entry took before it, for walking backwards.
 *
 * {@linkcode packNodes} splits entries into nodes exactly as Redis's streamAppendItem fills them
 * when the entries are added one by one, so the listpacks are byte-identical to Redis's for a
 * stream built by XADD alone.
 *
 * @module
 */

import type { StreamEntryImage, StreamIdImage } from "../types/stream_image.ts";
import { ListpackBuilder } from "./listpack.ts";
import { ListpackCursor } from "./stream_cursor.ts";
import { RdbFormatError } from "./strings.ts";

/** Entry flags (STREAM_ITEM_FLAG_*). */
const FLAG_DELETED = 1;
const FLAG_SAMEFIELDS = 2;
/** The largest node (STREAM_LISTPACK_MAX_SIZE), also the limit when `stream-node-max-bytes` is 0. */
const MAX_NODE_BYTES = 1 << 30;
/** Listpack header: total bytes (u32) and element count (u16). */
const HEADER = 6;
/** The element count past which a listpack's header stops counting (LP_HDR_NUMELE_UNKNOWN). */
const COUNT_UNKNOWN = 65535;

/** One node: its master ID (the rax key) and its listpack. */
export interface StreamNode {
  master: StreamIdImage;
  listpack: Uint8Array;
}

/**
 * Compares two IDs.
 *
 * @param a an ID
 * @param b another
 * @returns -1, 0 or 1 as `a` is below, equal to or above `b`
 */
export function compareIds(a: StreamIdImage, b: StreamIdImage): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  return a.seq === b.seq ? 0 : a.seq < b.seq ? -1 : 1;
}

function corrupt(): never {
  throw new RdbFormatError("Stream listpack integrity check failed");
}

/** The current element as a count: a non-negative safe integer. */
function count(c: ListpackCursor): number {
  const v = c.integer();
  return typeof v === "number" && v >= 0 ? v : corrupt();
}

/** What a node walk that decodes nothing gives its entries (never added to). */
const NO_FIELDS: string[] = [];

/** `base + delta` modulo 2^64, as Redis adds an int64 delta to a uint64 ID part. */
function add(base: bigint, delta: number | bigint): bigint {
  return delta === 0 ? base : BigInt.asUintN(64, base + BigInt(delta));
}

/** What {@linkcode readNode} found in a node. */
export interface NodeSummary {
  /** Live (not deleted) entries. */
  live: number;
  /** The first live entry's ID, if any. */
  first: StreamIdImage | undefined;
  /** The last live entry's ID, or the `prev` given when there is none. */
  last: StreamIdImage | undefined;
}

/**
 * Walks one node, checking its whole structure as Redis's deep streamValidateListpackIntegrity
 * does, and that entry IDs keep rising (past `prev`, the previous node's last entry).
 *
 * @param master the node's master ID (its rax key)
 * @param lp the listpack
 * @param prev the ID the node's entries must be above
 * @param out where the live entries are appended; without it nothing is decoded (no strings
 * are made), only checked
 * @returns the live count and the first and last live IDs
 * @throws {RdbFormatError} when the listpack or the node is malformed
 * @example
 * ```ts
 * const { nodes } = packNodes([{ id: { ms: 1n, seq: 0n }, fields: ["f", "v"] }], 100, 4096);
 * const out: StreamEntryImage[] = [];
 * readNode(nodes[0]!.master, nodes[0]!.listpack, undefined, out); // out: [1-0 f v]
 * ```
 */
export function readNode(
  master: StreamIdImage,
  lp: Uint8Array,
  prev: StreamIdImage | undefined,
  out?: StreamEntryImage[],
): NodeSummary {
  const c = new ListpackCursor(lp);
  if (!c.more) throw new RdbFormatError("Empty listpack inside stream");
  c.next();
  const live = count(c);
  c.next();
  const total = live + count(c);
  c.next();
  const nMaster = count(c);
  const masterFields: string[] = [];
  for (let j = 0; j < nMaster; j++) {
    c.next();
    if (out !== undefined) masterFields.push(c.text());
  }
  c.next();
  if (c.integer() !== 0) corrupt();
  let first: StreamIdImage | undefined;
  let last = prev;
  let seen = 0;
  for (let i = 0; i < total; i++) {
    c.next();
    const flags = Number(c.integer());
    c.next();
    const msDelta = c.integer();
    c.next();
    const seqDelta = c.integer();
    const same = (flags & FLAG_SAMEFIELDS) !== 0;
    let n = nMaster;
    if (!same) {
      c.next();
      n = count(c);
    }
    const fields = out === undefined ? NO_FIELDS : [];
    for (let j = 0; j < n; j++) {
      if (!same) c.next();
      const field = out === undefined ? "" : same ? masterFields[j]! : c.text();
      c.next();
      if (out !== undefined) fields.push(field, c.text());
    }
    c.next();
    if (c.integer() !== n + 3 + (same ? 0 : n + 1)) corrupt();
    if ((flags & FLAG_DELETED) !== 0) continue;
    const id = { ms: add(master.ms, msDelta), seq: add(master.seq, seqDelta) };
    if (last !== undefined && compareIds(id, last) <= 0) {
      throw new RdbFormatError("Stream entries out of order");
    }
    first ??= id;
    last = id;
    out?.push({ id, fields });
    seen++;
  }
  c.finish();
  if (seen !== live) corrupt();
  return { live, first, last };
}

/** Bytes of a non-negative integer element of value `n`, its back length included. */
function integerSize(n: number): number {
  if (n <= 127) return 2; // 7-bit
  if (n <= 4095) return 3; // 13-bit
  if (n <= 32767) return 4;
  if (n <= 8388607) return 5;
  return n <= 2147483647 ? 6 : 10;
}

/** Whether an entry's field names are the master's. */
function sameFields(fields: string[], master: string[]): boolean {
  if (fields.length !== 2 * master.length) return false;
  for (let i = 0; i < master.length; i++) if (fields[2 * i] !== master[i]) return false;
  return true;
}

/** The body of the node being filled (everything after its live count) and its count. */
const body = new ListpackBuilder();
/** Scratch builder for the live count element. */
const head = new ListpackBuilder();

/** The finished node: the live count element put in front of the body. */
function finishNode(live: number): Uint8Array {
  head.reset();
  head.appendInteger(live);
  const countEl = head.view().subarray(HEADER, head.bytes - 1);
  const b = body.view();
  const total = b.length + countEl.length;
  const out = new Uint8Array(total);
  out.set(countEl, HEADER);
  out.set(b.subarray(HEADER), HEADER + countEl.length);
  for (let i = 0; i < 4; i++) out[i] = Math.floor(total / 2 ** (8 * i)) & 0xff;
  const elements = Math.min(body.count + 1, COUNT_UNKNOWN);
  out[4] = elements & 0xff;
  out[5] = elements >> 8;
  return out;
}

/**
 * Packs entries into nodes the way Redis's streamAppendItem fills them on XADD: a new node when
 * the current one has `maxEntries` entries (0: no limit) or when its size plus the new entry's
 * field and value bytes reaches `maxBytes` (0: 1 GiB).
 *
 * @param entries the entries, in ID order
 * @param maxEntries `stream-node-max-entries`
 * @param maxBytes `stream-node-max-bytes`
 * @returns the nodes, and the number of entries packed
 * @example
 * ```ts
 * const entries = [1n, 2n, 3n].map((ms) => ({ id: { ms, seq: 0n }, fields: ["f", "v"] }));
 * packNodes(entries, 2, 4096).nodes.length; // 2
 * ```
 */
export function packNodes(
  entries: Iterable<StreamEntryImage>,
  maxEntries: number,
  maxBytes: number,
): { nodes: StreamNode[]; count: number } {
  const limit = maxBytes <= 0 || maxBytes > MAX_NODE_BYTES ? MAX_NODE_BYTES : maxBytes;
  const nodes: StreamNode[] = [];
  let master: StreamIdImage | undefined;
  let masterFields: string[] = [];
  let live = 0;
  let packed = 0;
  for (const { id, fields } of entries) {
    let size = 0;
    for (const s of fields) size += s.length;
    if (
      master !== undefined &&
      (body.bytes + integerSize(live) + size >= limit || (maxEntries > 0 && live >= maxEntries))
    ) {
      nodes.push({ master, listpack: finishNode(live) });
      master = undefined;
    }
    const n = fields.length >> 1;
    let same = true;
    if (master === undefined) {
      master = id;
      masterFields = [];
      for (let j = 0; j < n; j++) masterFields.push(fields[2 * j]!);
      body.reset();
      body.appendInteger(0); // deleted
      body.appendInteger(n);
      for (const f of masterFields) body.append(f);
      body.appendInteger(0);
      live = 0;
    } else {
      same = sameFields(fields, masterFields);
    }
    body.appendInteger(same ? FLAG_SAMEFIELDS : 0);
    body.appendInteger(BigInt.asIntN(64, id.ms - master.ms));
    body.appendInteger(BigInt.asIntN(64, id.seq - master.seq));
    if (!same) body.appendInteger(n);
    for (let j = 0; j < n; j++) {
      if (!same) body.append(fields[2 * j]!);
      body.append(fields[2 * j + 1]!);
    }
    body.appendInteger(n + 3 + (same ? 0 : n + 1));
    live++;
    packed++;
  }
  if (master !== undefined) nodes.push({ master, listpack: finishNode(live) });
  body.reset();
  return { nodes, count: packed };
}
