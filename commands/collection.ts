/**
 * What every "remove some elements" command (HDEL, SREM) does around the removal itself:
 * delete the key once the collection is empty, fire the type's event and then `del`, signal the
 * key, count the changes.
 *
 * @module
 */

import type { Client } from "../core/client.ts";
import { N } from "../core/notify.ts";

/** A collection that can lose elements. */
export interface Shrinkable {
  readonly size: number;
}

/**
 * Removes `items` one by one with `remove` from the collection at `key`, with Redis's
 * housekeeping; stops early when the collection empties (the key is then gone).
 *
 * @returns how many items were removed
 */
export function removeElements<T extends Shrinkable>(
  client: Client,
  key: string,
  collection: T,
  items: string[],
  remove: (collection: T, item: string) => boolean,
  notify: { type: number; event: string },
): number {
  const db = client.db;
  let removed = 0;
  let emptied = false;
  for (const item of items) {
    if (!remove(collection, item)) continue;
    removed++;
    if (collection.size === 0) {
      db.delete(key);
      emptied = true;
      break;
    }
  }
  if (removed !== 0) {
    if (!emptied) db.touch(key);
    db.notify(notify.type, notify.event, key);
    if (emptied) db.notify(N.generic, "del", key);
    client.server.dirty += removed;
  }
  return removed;
}
