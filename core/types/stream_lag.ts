/**
 * Consumer group read counters and lag (Redis 7.0's `entries-read` and `lag`): how many entries
 * a group has read, known exactly while no deletion fragments the stream ahead of it, else
 * estimated from the stream's own counters when possible (t_stream.c's
 * streamEstimateDistanceFromFirstEverEntry), else unknown.
 *
 * @module
 */

import type { StreamValue } from "./stream.ts";
import type { ConsumerGroup, I64 } from "./stream_group.ts";
import { cmpId, MAX_ID, MIN_ID, type StreamId } from "./stream_id.ts";

/** A counter back in canonical form (number while safe). */
function i64(b: bigint): I64 {
  return b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b;
}

/** `a - b` on counters. */
export function sub64(a: I64, b: I64): I64 {
  return typeof a === "number" && typeof b === "number" ? a - b : i64(BigInt(a) - BigInt(b));
}

/** `a + 1` on a counter. */
export function inc64(a: I64): I64 {
  return typeof a === "number" && a < 9007199254740991 ? a + 1 : i64(BigInt(a) + 1n);
}

function cmp(a: StreamId, b: StreamId): number {
  return cmpId(a.ms, a.seq, b.ms, b.seq);
}

function isZero(id: StreamId): boolean {
  return id.ms === 0 && id.seq === 0;
}

/** True when a deleted entry lies between `start` and `end` (Redis's streamRangeHasTombstones). */
export function rangeHasTombstones(
  s: StreamValue,
  start: StreamId = MIN_ID,
  end: StreamId = MAX_ID,
): boolean {
  const maxDel = s.maxDeletedId;
  if (s.length === 0 || isZero(maxDel)) return false;
  if (cmp(s.firstId, maxDel) > 0) return false;
  return cmp(start, maxDel) <= 0 && cmp(maxDel, end) <= 0;
}

/** The read counter of `id`, its distance from the first entry ever added, or -1 if unknown. */
export function estimateEntriesRead(s: StreamValue, id: StreamId): I64 {
  if (s.entriesAdded === 0) return 0;
  const cmpLast = cmp(id, s.lastId);
  if (s.length === 0 && cmpLast < 1) return s.entriesAdded;
  if (cmpLast === 0) return s.entriesAdded;
  if (cmpLast > 0) return -1;
  const maxDel = s.maxDeletedId;
  if (isZero(maxDel) || cmp(maxDel, s.firstId) < 0) {
    const cmpFirst = cmp(id, s.firstId);
    if (cmpFirst < 0) return sub64(s.entriesAdded, s.length);
    if (cmpFirst === 0) return inc64(sub64(s.entriesAdded, s.length));
  }
  return -1;
}

/** The group's lag (entries not yet delivered), or null when it cannot be known. */
export function groupLag(s: StreamValue, g: ConsumerGroup): I64 | null {
  if (s.entriesAdded === 0) return 0;
  const last = { ms: g.lastMs, seq: g.lastSeq };
  if (g.entriesRead !== -1 && !rangeHasTombstones(s, last)) {
    return sub64(s.entriesAdded, g.entriesRead);
  }
  const read = estimateEntriesRead(s, last);
  return read === -1 ? null : sub64(s.entriesAdded, read);
}

/** Moves the group's last ID to `id`, delivered now, keeping its read counter. */
export function advanceGroup(s: StreamValue, g: ConsumerGroup, id: StreamId): void {
  if (g.entriesRead !== -1 && !rangeHasTombstones(s, id)) g.entriesRead = inc64(g.entriesRead);
  else if (s.entriesAdded !== 0) g.entriesRead = estimateEntriesRead(s, id);
  g.lastMs = id.ms;
  g.lastSeq = id.seq;
}
