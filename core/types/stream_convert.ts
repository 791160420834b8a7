/**
 * A stream to and from its persistence image (stream_image.ts): plain data with bigint IDs, read
 * lazily for the entries so a save does not copy the stream first.
 *
 * @module
 */

import { StreamValue } from "./stream.ts";
import { Consumer, ConsumerGroup, type I64 } from "./stream_group.ts";
import { big, type StreamId, u64 } from "./stream_id.ts";
import type {
  ConsumerImage,
  GroupImage,
  PendingImage,
  StreamEntryImage,
  StreamIdImage,
  StreamImage,
} from "./stream_image.ts";

function toImageId(id: { ms: number | bigint; seq: number | bigint }): StreamIdImage {
  return { ms: big(id.ms), seq: big(id.seq) };
}

function fromImageId(id: StreamIdImage): StreamId {
  return { ms: u64(id.ms), seq: u64(id.seq) };
}

function i64(b: bigint): I64 {
  return b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b;
}

function* liveEntries(stream: StreamValue): Generator<StreamEntryImage> {
  for (const node of stream.nodes) {
    for (let i = 0; i < node.n; i++) {
      if (node.deleted(i)) continue;
      yield { id: { ms: big(node.msAt(i)), seq: big(node.seqAt(i)) }, fields: node.pairs(i) };
    }
  }
}

function groupImage(name: string, g: ConsumerGroup): GroupImage {
  const pending: PendingImage[] = [];
  for (const c = g.pendingKeys.first(); c.valid; c.next()) {
    const n = g.nack(c.member)!;
    pending.push({
      id: toImageId(n),
      deliveryTime: n.deliveryTime,
      deliveryCount: Number(n.deliveryCount),
      consumer: n.consumer!.name,
    });
  }
  const consumers: ConsumerImage[] = g.sortedConsumers().map((c) => ({
    name: c.name,
    seenTime: c.seenTime,
    activeTime: c.activeTime,
  }));
  return {
    name,
    lastId: toImageId({ ms: g.lastMs, seq: g.lastSeq }),
    entriesRead: BigInt(g.entriesRead),
    pending,
    consumers,
  };
}

/**
 * The persistence image of a stream. Entries are read lazily from the live stream: the caller
 * must be done with them before the stream changes (or work on a clone).
 *
 * @param value the stream
 * @returns its image
 */
export function streamToImage(value: StreamValue): StreamImage {
  const names = [...(value.groups?.keys() ?? [])].sort();
  return {
    entries: { [Symbol.iterator]: () => liveEntries(value) },
    length: value.length,
    lastId: toImageId(value.lastId),
    firstId: toImageId(value.firstId),
    maxDeletedId: toImageId(value.maxDeletedId),
    entriesAdded: big(value.entriesAdded),
    groups: names.map((name) => groupImage(name, value.groups!.get(name)!)),
  };
}

/**
 * A stream built from its persistence image. Entries go into nodes as XADD would put them, with
 * the node limits given (Redis's defaults otherwise).
 *
 * @param image the image
 * @param limits `stream-node-max-entries` and `stream-node-max-bytes`
 * @returns the stream
 */
export function streamFromImage(
  image: StreamImage,
  limits: { maxEntries: number; maxBytes: number } = { maxEntries: 100, maxBytes: 4096 },
): StreamValue {
  const s = new StreamValue();
  for (const e of image.entries) {
    s.append(fromImageId(e.id), e.fields, 0, e.fields.length / 2, limits);
  }
  s.lastId = fromImageId(image.lastId);
  s.firstId = fromImageId(image.firstId);
  s.maxDeletedId = fromImageId(image.maxDeletedId);
  s.entriesAdded = u64(image.entriesAdded);
  for (const gi of image.groups) {
    const g = new ConsumerGroup(u64(gi.lastId.ms), u64(gi.lastId.seq), i64(gi.entriesRead));
    for (const ci of gi.consumers) {
      g.consumers.set(ci.name, new Consumer(ci.name, ci.seenTime, ci.activeTime ?? ci.seenTime));
    }
    for (const p of gi.pending) {
      let owner = g.consumers.get(p.consumer);
      if (owner === undefined) g.consumers.set(p.consumer, owner = new Consumer(p.consumer, 0));
      const n = g.addNack(u64(p.id.ms), u64(p.id.seq), owner, p.deliveryTime);
      n.deliveryCount = p.deliveryCount;
    }
    s.groups ??= new Map();
    s.groups.set(gi.name, g);
  }
  return s;
}
