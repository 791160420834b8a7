/**
 * A stream as the commands an AOF rewrite writes to rebuild it, as Redis 7.0's
 * rewriteStreamObject (aof.c) emits them.
 *
 * @module
 */

import { inNameOrder, pendingByConsumer } from "../rdb/stream.ts";
import type { StreamIdImage, StreamImage } from "../types/stream_image.ts";

function idText(id: StreamIdImage): string {
  return `${id.ms}-${id.seq}`;
}

/**
 * The commands rebuilding a stream, in Redis's order:
 *
 * - `XADD key <id> field value ...` per entry; an empty stream is created by
 *   `XADD key MAXLEN 0 0-1 x y` instead
 * - `XSETID key <last id> ENTRIESADDED <n> MAXDELETEDID <id>`
 * - per group, in name order: `XGROUP CREATE key group <last id> ENTRIESREAD <n>`, then per
 *   consumer, in name order, `XGROUP CREATECONSUMER key group consumer` when it has nothing
 *   pending, else per pending entry
 *   `XCLAIM key group consumer 0 <id> TIME <ms> RETRYCOUNT <n> JUSTID FORCE`
 *
 * @param key the key
 * @param image the stream
 * @returns the commands, each as its arguments
 * @example
 * ```ts
 * [...streamCommands("s", image)][0]; // ["XADD", "s", "1-0", "f", "v"]
 * ```
 */
export function* streamCommands(key: string, image: StreamImage): Generator<string[]> {
  if (image.length !== 0) {
    for (const e of image.entries) yield ["XADD", key, idText(e.id), ...e.fields];
  } else {
    yield ["XADD", key, "MAXLEN", "0", "0-1", "x", "y"];
  }
  yield [
    "XSETID",
    key,
    idText(image.lastId),
    "ENTRIESADDED",
    // Redis prints the unsigned counter as a long long.
    String(BigInt.asIntN(64, image.entriesAdded)),
    "MAXDELETEDID",
    idText(image.maxDeletedId),
  ];
  for (const g of inNameOrder(image.groups)) {
    yield ["XGROUP", "CREATE", key, g.name, idText(g.lastId), "ENTRIESREAD", String(g.entriesRead)];
    const owned = pendingByConsumer(g);
    for (const c of inNameOrder(g.consumers)) {
      const own = owned.get(c.name);
      if (own === undefined) {
        yield ["XGROUP", "CREATECONSUMER", key, g.name, c.name];
        continue;
      }
      for (const p of own) {
        yield [
          "XCLAIM",
          key,
          g.name,
          c.name,
          "0",
          idText(p.id),
          "TIME",
          String(p.deliveryTime),
          "RETRYCOUNT",
          String(p.deliveryCount),
          "JUSTID",
          "FORCE",
        ];
      }
    }
  }
}
