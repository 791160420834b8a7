/**
 * Streams in RDB form (rdb.c's rdbSaveObject / rdbLoadObject), read into and written from a
 * {@linkcode StreamImage}:
 *
 * ```
 * node count; per node: master ID (a 16-byte string, ms and seq big-endian), listpack
 * length; last ID
 * first ID; max deleted ID; entries added                  (types 19 and 21 only)
 * group count; per group, in name order:
 *   name; last ID; entries read                            (types 19 and 21 only)
 *   PEL count; per entry: raw 16-byte ID, delivery time (8 bytes LE), delivery count
 *   consumer count; per consumer, in name order:
 *     name; seen time (8 bytes LE); active time (type 21 only); PEL count; raw 16-byte IDs
 * ```
 *
 * Numbers are RDB lengths (up to 64 bits). Redis 7.0 writes RDB_TYPE_STREAM_LISTPACKS_2 (19)
 * and reads 15 and 19; 21 is Redis 7.2's, whose consumers also carry an active time.
 *
 * @module
 */

import { bytesToStr } from "../bytes.ts";
import type {
  GroupImage,
  PendingImage,
  StreamEntryImage,
  StreamIdImage,
  StreamImage,
} from "../types/stream_image.ts";
import { compareIds, packNodes, readNode, type StreamNode } from "./stream_listpack.ts";
import { RdbFormatError, type RdbReader, type RdbWriter } from "./strings.ts";

/** RDB type bytes of streams (Redis's RDB_TYPE_STREAM_LISTPACKS, _2, _3). */
export const STREAM_RDB_TYPE = { v1: 15, v2: 19, v3: 21 } as const;

/** How streams are written, from the server's config. */
export interface StreamWriteOptions {
  /** `rdbcompression`: LZF-compress listpacks and names when it pays. */
  compress: boolean;
  /** `stream-node-max-entries` (0: no limit). */
  nodeMaxEntries: number;
  /** `stream-node-max-bytes` (0: no limit but Redis's 1 GiB). */
  nodeMaxBytes: number;
}

const ZERO_ID: StreamIdImage = { ms: 0n, seq: 0n };
const dv = new DataView(new ArrayBuffer(16));

/** The entries of checked nodes, decoded a node at a time as they are iterated. */
class NodeEntries implements Iterable<StreamEntryImage> {
  constructor(readonly nodes: StreamNode[]) {}

  *[Symbol.iterator](): Iterator<StreamEntryImage> {
    const out: StreamEntryImage[] = [];
    for (const node of this.nodes) {
      out.length = 0;
      readNode(node.master, node.listpack, undefined, out);
      yield* out;
    }
  }
}

/** Reads a 64-bit RDB length as a bigint (rdbLoadLen). */
function readU64(r: RdbReader): bigint {
  const b = r.byte();
  const type = b >> 6;
  if (type === 0) return BigInt(b & 0x3f);
  if (type === 1) return BigInt(((b & 0x3f) << 8) | r.byte());
  if (b !== 0x80 && b !== 0x81) throw new RdbFormatError("Unknown length encoding");
  let v = 0n;
  for (let i = b === 0x80 ? 4 : 8; i > 0; i--) v = (v << 8n) | BigInt(r.byte());
  return v;
}

/** Writes a 64-bit RDB length (rdbSaveLen). */
function writeU64(w: RdbWriter, v: bigint): void {
  if (v <= 0xffffffffn) {
    w.length(Number(v));
    return;
  }
  w.byte(0x81);
  dv.setBigUint64(0, v, false);
  for (let i = 0; i < 8; i++) w.byte(dv.getUint8(i));
}

function readId(r: RdbReader): StreamIdImage {
  const ms = readU64(r);
  return { ms, seq: readU64(r) };
}

function writeId(w: RdbWriter, id: StreamIdImage): void {
  writeU64(w, id.ms);
  writeU64(w, id.seq);
}

/** An ID from its 16-byte raw form (rax keys, PELs). */
function rawId(b: Uint8Array): StreamIdImage {
  const view = new DataView(b.buffer, b.byteOffset, 16);
  return { ms: view.getBigUint64(0, false), seq: view.getBigUint64(8, false) };
}

function writeRawId(w: RdbWriter, id: StreamIdImage): void {
  dv.setBigUint64(0, id.ms, false);
  dv.setBigUint64(8, id.seq, false);
  for (let i = 0; i < 16; i++) w.byte(dv.getUint8(i));
}

/** A Unix time in ms: 8 bytes little-endian (rdbLoadMillisecondTime). */
function readTime(r: RdbReader): number {
  const b = r.bytes(8);
  return Number(new DataView(b.buffer, b.byteOffset, 8).getBigInt64(0, true));
}

function writeTime(w: RdbWriter, t: number): void {
  dv.setBigInt64(0, BigInt(t), true);
  for (let i = 0; i < 8; i++) w.byte(dv.getUint8(i));
}

/**
 * Items in Redis's rax order of their names (bytewise, a prefix first): groups and consumers
 * are saved and rewritten in that order. A sorted array is returned as is.
 *
 * @param items groups or consumers
 * @returns them in name order
 * @example
 * ```ts
 * inNameOrder([{ name: "b" }, { name: "a" }, { name: "ab" }]); // a, ab, b
 * ```
 */
export function inNameOrder<T extends { name: string }>(items: T[]): T[] {
  for (let i = 1; i < items.length; i++) {
    if (items[i - 1]!.name >= items[i]!.name) {
      // Binary strings compare bytewise as UTF-16 code units.
      return [...items].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    }
  }
  return items;
}

/**
 * A group's pending entries by owner, each list in ID order.
 *
 * @param group the group
 * @returns consumer name to its pending entries
 */
export function pendingByConsumer(group: GroupImage): Map<string, PendingImage[]> {
  const owned = new Map<string, PendingImage[]>();
  for (const p of group.pending) {
    const list = owned.get(p.consumer);
    if (list === undefined) owned.set(p.consumer, [p]);
    else list.push(p);
  }
  return owned;
}

/**
 * Reads a stream value's body.
 *
 * @param r the reader, after the type byte (and, in a file, the key)
 * @param type 15, 19 or 21 (see {@linkcode STREAM_RDB_TYPE})
 * @returns the stream
 * @throws {RdbFormatError} on corrupt or truncated data, checked as Redis's deep sanitization
 * does (and entries in ID order, the length matching them, the last ID not below them)
 * @example
 * ```ts
 * const w = new RdbWriter();
 * writeStream(w, image, { compress: false, nodeMaxEntries: 100, nodeMaxBytes: 4096 });
 * readStream(new RdbReader(w.result()), 19); // the same stream
 * ```
 */
export function readStream(r: RdbReader, type: number): StreamImage {
  if (type !== STREAM_RDB_TYPE.v1 && type !== STREAM_RDB_TYPE.v2 && type !== STREAM_RDB_TYPE.v3) {
    throw new RdbFormatError(`Not a stream type: ${type}`);
  }
  const nodes: StreamNode[] = [];
  let live = 0;
  let first: StreamIdImage | undefined;
  let last: StreamIdImage | undefined;
  for (let n = r.count(); n > 0; n--) {
    const key = r.blob();
    if (key.length !== 16) {
      throw new RdbFormatError("Stream node key entry is not the size of a stream ID");
    }
    const master = rawId(key);
    const prev = nodes[nodes.length - 1];
    if (prev !== undefined && compareIds(master, prev.master) <= 0) {
      throw new RdbFormatError("Stream node keys out of order");
    }
    // A copy: the entries are decoded later, and the reader's buffer may be reused by then.
    const listpack = r.blob().slice();
    const node = readNode(master, listpack, last);
    live += node.live;
    first ??= node.first;
    last = node.last;
    nodes.push({ master, listpack });
  }
  const length = r.count();
  const lastId = readId(r);
  if (length !== live) throw new RdbFormatError("Stream length inconsistent");
  if (last !== undefined && compareIds(lastId, last) < 0) {
    throw new RdbFormatError("Stream last ID below its last entry");
  }
  let firstId = first ?? ZERO_ID;
  let maxDeletedId = ZERO_ID;
  let entriesAdded = BigInt(length);
  if (type !== STREAM_RDB_TYPE.v1) {
    firstId = readId(r);
    maxDeletedId = readId(r);
    entriesAdded = readU64(r);
  }
  const stream = { length, lastId, firstId, maxDeletedId, entriesAdded };
  const groups: GroupImage[] = [];
  const names = new Set<string>();
  for (let n = r.count(); n > 0; n--) {
    const name = r.string();
    if (names.has(name)) throw new RdbFormatError(`Duplicated consumer group name ${name}`);
    names.add(name);
    const groupLastId = readId(r);
    const entriesRead = type === STREAM_RDB_TYPE.v1
      ? estimateEntriesRead(stream, groupLastId)
      : BigInt.asIntN(64, readU64(r));
    groups.push(readGroupBody(r, type, name, groupLastId, entriesRead));
  }
  return { entries: new NodeEntries(nodes), ...stream, groups: inNameOrder(groups) };
}

/** A group's PEL and consumers. */
function readGroupBody(
  r: RdbReader,
  type: number,
  name: string,
  lastId: StreamIdImage,
  entriesRead: bigint,
): GroupImage {
  const pel = new Map<string, PendingImage>();
  for (let n = r.count(); n > 0; n--) {
    const raw = r.bytes(16);
    const key = bytesToStr(raw);
    const id = rawId(raw);
    const deliveryTime = readTime(r);
    const deliveryCount = Number(readU64(r));
    if (pel.has(key)) {
      throw new RdbFormatError("Duplicated global PEL entry loading stream consumer group");
    }
    pel.set(key, { id, deliveryTime, deliveryCount, consumer: "" });
  }
  const consumers = [];
  const names = new Set<string>();
  const owned = new Set<string>();
  for (let n = r.count(); n > 0; n--) {
    const cname = r.string();
    if (names.has(cname)) throw new RdbFormatError("Duplicate stream consumer detected");
    names.add(cname);
    const seenTime = readTime(r);
    // Redis 7.2's active time (last successful read or claim); older types have the seen time.
    const activeTime = type === STREAM_RDB_TYPE.v3 ? readTime(r) : seenTime;
    consumers.push({ name: cname, seenTime, activeTime });
    for (let k = r.count(); k > 0; k--) {
      const key = bytesToStr(r.bytes(16));
      const nack = pel.get(key);
      if (nack === undefined) {
        throw new RdbFormatError("Consumer entry not found in group global PEL");
      }
      // Redis would let a second owner silently take the entry over; the PEL would be corrupt.
      if (owned.has(key)) {
        throw new RdbFormatError("Duplicated consumer PEL entry loading a stream consumer group");
      }
      owned.add(key);
      nack.consumer = cname;
    }
  }
  if (owned.size !== pel.size) throw new RdbFormatError("Stream CG PEL entry without consumer");
  const pending = [...pel.values()];
  pending.sort((a, b) => compareIds(a.id, b.id));
  return { name, lastId, entriesRead, pending, consumers: inNameOrder(consumers) };
}

/**
 * Redis's streamEstimateDistanceFromFirstEverEntry: a group's entries-read counter when the
 * RDB (type 15) does not carry it.
 */
function estimateEntriesRead(
  s: Omit<StreamImage, "entries" | "groups">,
  id: StreamIdImage,
): bigint {
  if (s.entriesAdded === 0n) return 0n;
  const cmpLast = compareIds(id, s.lastId);
  if (s.length === 0 && cmpLast <= 0) return s.entriesAdded;
  if (cmpLast === 0) return s.entriesAdded;
  if (cmpLast > 0) return -1n;
  const noTombstones = (s.maxDeletedId.ms === 0n && s.maxDeletedId.seq === 0n) ||
    compareIds(s.maxDeletedId, s.firstId) < 0;
  if (noTombstones) {
    const cmpFirst = compareIds(id, s.firstId);
    if (cmpFirst < 0) return s.entriesAdded - BigInt(s.length);
    if (cmpFirst === 0) return s.entriesAdded - BigInt(s.length) + 1n;
  }
  return -1n;
}

/**
 * Writes a stream value's body as Redis 7.0 does (RDB_TYPE_STREAM_LISTPACKS_2, 19): entries in
 * nodes filled as XADD fills them, then the metadata and the groups in name order.
 *
 * @param w where to write
 * @param image the stream
 * @param opts compression and node shape
 * @returns the RDB type byte of what was written (19)
 * @throws {TypeError} when the image is inconsistent (its length is not its number of entries,
 * or a pending entry's owner is not a consumer of the group)
 * @example
 * ```ts
 * const w = new RdbWriter();
 * w.byte(writeStream(w, image, { compress: true, nodeMaxEntries: 100, nodeMaxBytes: 4096 }));
 * ```
 */
export function writeStream(w: RdbWriter, image: StreamImage, opts: StreamWriteOptions): number {
  const { nodes, count } = packNodes(image.entries, opts.nodeMaxEntries, opts.nodeMaxBytes);
  if (count !== image.length) {
    throw new TypeError(`Stream image has ${count} entries, not its length ${image.length}`);
  }
  w.length(nodes.length);
  for (const node of nodes) {
    w.length(16);
    writeRawId(w, node.master);
    w.encodedBlob(node.listpack, opts.compress);
  }
  w.length(image.length);
  writeId(w, image.lastId);
  writeId(w, image.firstId);
  writeId(w, image.maxDeletedId);
  writeU64(w, image.entriesAdded);
  const groups = inNameOrder(image.groups);
  w.length(groups.length);
  for (const g of groups) {
    w.encodedString(g.name, opts.compress);
    writeId(w, g.lastId);
    writeU64(w, BigInt.asUintN(64, g.entriesRead));
    w.length(g.pending.length);
    for (const p of g.pending) {
      writeRawId(w, p.id);
      writeTime(w, p.deliveryTime);
      writeU64(w, BigInt(p.deliveryCount));
    }
    const owned = pendingByConsumer(g);
    const consumers = inNameOrder(g.consumers);
    w.length(consumers.length);
    for (const c of consumers) {
      w.encodedString(c.name, opts.compress);
      // Type 19, which Redis 7.0 loads, has no active time (7.2's type 21 does): a stream with
      // consumer groups stays loadable by a 7.0 replica, and its consumers come back with the
      // seen time as their active time, as Redis 7.2 loads a 7.0 file.
      writeTime(w, c.seenTime);
      const own = owned.get(c.name) ?? [];
      owned.delete(c.name);
      w.length(own.length);
      for (const p of own) writeRawId(w, p.id);
    }
    if (owned.size !== 0) {
      throw new TypeError(`Pending entries of group ${g.name} owned by no consumer`);
    }
  }
  return STREAM_RDB_TYPE.v2;
}
