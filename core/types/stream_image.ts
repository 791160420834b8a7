/**
 * A stream as plain data: what persistence (RDB, DUMP/RESTORE, AOF rewrite) reads from a stream
 * value and builds one from, so the codecs do not depend on the in-memory structure.
 *
 * IDs and counters are unsigned 64-bit in Redis, hence `bigint`. Times are Unix milliseconds.
 *
 * @module
 */

/** A stream entry ID, `<ms>-<seq>`. */
export interface StreamIdImage {
  ms: bigint;
  seq: bigint;
}

/** One entry: its ID and its fields and values, alternating (binary strings). */
export interface StreamEntryImage {
  id: StreamIdImage;
  fields: string[];
}

/** An entry delivered to a consumer and not yet acknowledged. */
export interface PendingImage {
  id: StreamIdImage;
  /** When it was last delivered (ms). */
  deliveryTime: number;
  deliveryCount: number;
  /** The consumer that owns it; one of the group's consumers. */
  consumer: string;
}

/** A consumer of a group. */
export interface ConsumerImage {
  name: string;
  /** When it last tried to read or claim (ms): `seen-time`. */
  seenTime: number;
  /**
   * When it last read or claimed something (ms), -1 never: Redis 7.2's `active-time` (RDB stream
   * type 21). Without it (older types) it is the seen time, as Redis loads them.
   */
  activeTime?: number;
}

/** A consumer group. */
export interface GroupImage {
  name: string;
  lastId: StreamIdImage;
  /** Entries read by the group, or -1n when unknown (Redis's SCG_INVALID_ENTRIES_READ). */
  entriesRead: bigint;
  /** The group's pending entries list, in ID order. */
  pending: PendingImage[];
  /** Its consumers, in name order. */
  consumers: ConsumerImage[];
}

/** A whole stream. */
export interface StreamImage {
  /** The entries in ID order; `length` of them. */
  entries: Iterable<StreamEntryImage>;
  length: number;
  lastId: StreamIdImage;
  /** 0-0 for an empty stream. */
  firstId: StreamIdImage;
  maxDeletedId: StreamIdImage;
  entriesAdded: bigint;
  groups: GroupImage[];
}
