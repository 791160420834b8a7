/**
 * XREAD and XREADGROUP: reading new entries from several streams, through a consumer group or
 * not, at once or blocking (core/blocking.ts) until an XADD brings something.
 *
 * A blocked reader is served the way Redis's serveClientsBlockedOnStreamKey does it: only when
 * Redis would have signalled the key (an XADD, a group destroyed, the value deleted or replaced:
 * not an XDEL or XTRIM), with entries of that one key, at most COUNT (1000 by default); an
 * XREADGROUP reader whose key or group went away gets an error.
 *
 * XREADGROUP propagates what it changed, as Redis does: an XCLAIM ... FORCE JUSTID LASTID per
 * entry delivered, XGROUP SETID after a NOACK read, XGROUP CREATECONSUMER for a NOACK consumer.
 *
 * @module
 */

import { compat } from "../core/compat.ts";
import { intArg } from "../core/args.ts";
import { canBlock, parseTimeoutMs } from "../core/blocking.ts";
import type { Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import type { Value } from "../core/keyspace/database.ts";
import { E, ErrorReply, fail, MapReply, R, type Reply } from "../core/resp/reply.ts";
import type { StreamValue } from "../core/types/stream.ts";
import type { Consumer, ConsumerGroup } from "../core/types/stream_group.ts";
import {
  cmpId,
  idKey,
  MAX_ID,
  MIN_ID,
  nextId,
  prevId,
  type StreamId,
} from "../core/types/stream_id.ts";
import { advanceGroup, inc64 } from "../core/types/stream_lag.ts";
import { entryReply, idArg, rangeReply, streamForRead, streamForWrite } from "./stream_args.ts";
import { propagateClaim, propagateConsumer, propagateGroupId } from "./stream_claim.ts";
import { createConsumer, groupOf, lookupOrCreateConsumer } from "./stream_group.ts";

/** COUNT of a blocked read that gave none. */
const BLOCKED_DEFAULT_COUNT = 1000;

/** Positions of the keys of XREAD/XREADGROUP (Redis's xreadGetKeys). */
function readKeys(argv: string[]): number[] {
  let at = -1;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!.toUpperCase();
    if (a === "BLOCK" || a === "COUNT") i++;
    else if (a === "GROUP") i += 2;
    else if (a === "STREAMS") {
      at = i;
      break;
    } else if (a !== "NOACK") break;
  }
  const num = at < 0 ? 0 : argv.length - at - 1;
  if (num === 0 || num % 2 !== 0) return [];
  return Array.from({ length: num / 2 }, (_, j) => at + 1 + j);
}

/** A group read: whose, and how. */
interface GroupRead {
  name: string;
  consumer: string;
  noack: boolean;
}

/**
 * Entries after `start` delivered through `group` to `consumer` (Redis's streamReplyWithRange
 * with a group): moves the group's last ID, adds (or reassigns) pending entries unless NOACK,
 * and propagates each change.
 */
function deliver(
  client: Client,
  key: string,
  stream: StreamValue,
  read: GroupRead,
  group: ConsumerGroup,
  consumer: Consumer,
  start: StreamId,
  count: number,
): Reply[] {
  const out: Reply[] = [];
  const now = client.server.time;
  let moved = false;
  const it = stream.range(start, MAX_ID);
  while (it.next()) {
    const node = it.node;
    const ms = node.msAt(it.i);
    const seq = node.seqAt(it.i);
    if (cmpId(ms, seq, group.lastMs, group.lastSeq) > 0) {
      advanceGroup(stream, group, { ms, seq });
      if (read.noack) moved = true;
    }
    out.push(entryReply(node, it.i));
    if (!read.noack) {
      // Redis 7.2's active-time: an entry it now owns (not with NOACK).
      consumer.activeTime = now;
      const k = idKey(ms, seq);
      let nack = group.nack(k);
      if (nack === undefined) nack = group.addNack(ms, seq, consumer, now, k);
      else {
        group.assign(nack, consumer);
        nack.deliveryTime = now;
        nack.deliveryCount = 1;
      }
      propagateClaim(client, key, read.name, group, `${ms}-${seq}`, nack);
    }
    if (out.length === count) break;
  }
  if (moved) propagateGroupId(client, key, read.name, group);
  return out;
}

/** The consumer's own pending entries from `start` (XREADGROUP with an ID, not `>`). */
function history(
  client: Client,
  stream: StreamValue,
  group: ConsumerGroup,
  consumer: Consumer,
  start: StreamId,
  count: number,
): Reply[] {
  const out: Reply[] = [];
  const now = client.server.time;
  for (const c = consumer.pel.from(idKey(start.ms, start.seq)); c.valid; c.next()) {
    if (count !== 0 && out.length >= count) break;
    const nack = group.nack(c.member)!;
    const at = stream.find(nack);
    // An entry deleted meanwhile still shows, with no fields.
    if (at === undefined) out.push([nack.idText, R.nullArray]);
    else {
      out.push(entryReply(at.node, at.i));
      nack.deliveryTime = now;
      nack.deliveryCount = inc64(nack.deliveryCount);
    }
  }
  return out;
}

/** Parsed XREAD/XREADGROUP arguments. */
interface ReadArgs {
  timeout: number;
  count: number;
  keys: string[];
  idArgs: string[];
  group: GroupRead | undefined;
}

function parseRead(argv: string[], grouped: boolean): ReadArgs {
  const args: ReadArgs = { timeout: -1, count: 0, keys: [], idArgs: [], group: undefined };
  let streamsAt = 0;
  let groupName: string | undefined;
  let consumer = "";
  let noack = false;
  for (let i = 1; i < argv.length; i++) {
    const more = argv.length - i - 1;
    const opt = argv[i]!.toUpperCase();
    if (opt === "BLOCK" && more > 0) {
      // From a script, as in MULTI, BLOCK reads once and answers as a timeout (Redis 7.2).
      args.timeout = parseTimeoutMs(argv[++i]!);
    } else if (opt === "COUNT" && more > 0) {
      args.count = Math.max(intArg(argv[++i]!), 0);
    } else if (opt === "STREAMS" && more > 0) {
      streamsAt = i + 1;
      if ((argv.length - streamsAt) % 2 !== 0) {
        fail(
          `ERR Unbalanced '${
            grouped ? "xreadgroup" : "xread"
          }' list of streams: for each stream key an ID or '${
            grouped ? ">" : "$"
          }' must be specified.`,
        );
      }
      break;
    } else if (opt === "GROUP" && more >= 2) {
      if (!grouped) {
        fail("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
      }
      groupName = argv[i + 1]!;
      consumer = argv[i + 2]!;
      i += 2;
    } else if (opt === "NOACK") {
      if (!grouped) {
        fail("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
      }
      noack = true;
    } else fail(E.syntax);
  }
  if (streamsAt === 0) fail(E.syntax);
  if (grouped && groupName === undefined) fail("ERR Missing GROUP option for XREADGROUP");
  const n = (argv.length - streamsAt) / 2;
  args.keys = argv.slice(streamsAt, streamsAt + n);
  args.idArgs = argv.slice(streamsAt + n);
  if (groupName !== undefined) args.group = { name: groupName, consumer, noack };
  return args;
}

/** Resolves each stream's ID argument (`$`, `+`, `>` as the greatest ID, or an ID). */
function resolveIds(client: Client, args: ReadArgs): StreamId[] {
  const grouped = args.group !== undefined;
  return args.keys.map((key, i) => {
    const stream = grouped ? streamForWrite(client, key) : streamForRead(client, key);
    if (grouped && (stream === undefined || groupOf(stream, args.group!.name) === undefined)) {
      fail(
        `NOGROUP No such key '${key}' or consumer group '${
          args.group!.name
        }' in XREADGROUP with GROUP option`,
      );
    }
    const arg = args.idArgs[i]!;
    if (arg === "$") {
      if (grouped) {
        fail(
          "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
        );
      }
      return stream?.lastId ?? MIN_ID;
    }
    if (arg === "+") {
      if (grouped) {
        fail(
          "ERR The + ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The + ID would just return an empty result set.",
        );
      }
      if (stream === undefined) return MIN_ID;
      return lastEntryBound(stream) ?? fail("ERR the stream last element ID is 0-0");
    }
    if (arg === ">") {
      if (!grouped) {
        fail(
          "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
        );
      }
      return MAX_ID;
    }
    return idArg(arg);
  });
}

/**
 * The bound that `+` (Redis 7.4: the last entry) stands for: the ID right before the stream's
 * last ID, so that reading after it gives the last entry if it is still there; undefined when
 * the last ID is 0-0.
 */
function lastEntryBound(stream: StreamValue): StreamId | undefined {
  return prevId(stream.lastId);
}

/** The consumer a group read acts for, created (and for NOACK propagated) when new. */
function readerOf(client: Client, key: string, read: GroupRead, group: ConsumerGroup): Consumer {
  if (group.consumers.has(read.consumer)) {
    return lookupOrCreateConsumer(client, group, read.consumer, key);
  }
  const consumer = createConsumer(client, group, read.consumer, key);
  if (read.noack) propagateConsumer(client, key, read.name, read.consumer);
  return consumer;
}

/** The reply of a read: `[[key, entries] ...]` in RESP2, a map in RESP3. */
function readReply(client: Client, served: Reply[]): Reply {
  if (client.resp !== 2) return new MapReply(served);
  const out: Reply[] = [];
  for (let i = 0; i < served.length; i += 2) out.push([served[i]!, served[i + 1]!]);
  return out;
}

/** Serves what can be served now; undefined when no stream has anything for the reader. */
function readNow(client: Client, args: ReadArgs, ids: StreamId[]): Reply | undefined {
  const served: Reply[] = [];
  const read = args.group;
  for (let i = 0; i < args.keys.length; i++) {
    const key = args.keys[i]!;
    const stream = read ? streamForWrite(client, key) : streamForRead(client, key);
    if (stream === undefined) continue;
    let gt = ids[i]!;
    const group = read ? groupOf(stream, read.name)! : undefined;
    // Redis 7.2 creates the consumer (and refreshes its seen-time) even when nothing is read;
    // 7.0 only when something is.
    let consumer = group !== undefined && compat(client.server.config).v72
      ? readerOf(client, key, read!, group)
      : undefined;
    // `>` is the greatest ID; any other ID reads the consumer's history.
    const historyRead = group !== undefined && cmpId(gt.ms, gt.seq, MAX_ID.ms, MAX_ID.seq) !== 0;
    if (!historyRead) {
      if (stream.length === 0) continue;
      const max = stream.edgeId(true, true);
      const after = group === undefined ? gt : { ms: group.lastMs, seq: group.lastSeq };
      if (cmpId(max.ms, max.seq, after.ms, after.seq) <= 0) continue;
      gt = after;
    }
    // Redis's streamIncrID wraps the greatest ID to 0-0.
    const start = nextId(gt) ?? MIN_ID;
    if (group === undefined) {
      served.push(key, rangeReply(stream, start, MAX_ID, args.count, false));
      continue;
    }
    consumer ??= readerOf(client, key, read!, group);
    if (historyRead) {
      // A read of the consumer's history changes only delivery counts and times, which Redis
      // 7.2 neither propagates nor counts as a change.
      served.push(key, history(client, stream, group, consumer, start, args.count));
      continue;
    }
    served.push(key, deliver(client, key, stream, read!, group, consumer, start, args.count));
    client.server.dirty++;
  }
  return served.length === 0 ? undefined : readReply(client, served);
}

/** What a blocked reader last saw of a key: Redis wakes readers only on some changes. */
interface Seen {
  value: Value | undefined;
  signals: number;
  id: StreamId;
  /** Whether the ID was `+`: Redis resolves it again when the reader wakes (the last entry). */
  plus: boolean;
}

function stamp(value: Value | undefined): number {
  return value !== undefined && typeof value !== "string" && value.type === "stream"
    ? (value as StreamValue).signals
    : 0;
}

/**
 * The error a blocked XREADGROUP's call would now get, checking its keys in order as Redis does:
 * WRONGTYPE for a key that is no longer a stream, NOGROUP for one gone or without the group.
 */
function lostGroupRead(client: Client, keys: string[], name: string): Reply | undefined {
  for (const key of keys) {
    const value = client.db.peek(key);
    if (value !== undefined && (typeof value === "string" || value.type !== "stream")) {
      return new ErrorReply(E.wrongType);
    }
    if (value === undefined || groupOf(value as StreamValue, name) === undefined) {
      return new ErrorReply(
        `NOGROUP No such key '${key}' or consumer group '${name}' in XREADGROUP with GROUP option`,
      );
    }
  }
  return undefined;
}

/** Blocks the reader (or answers as a timeout where blocking is not allowed). */
function block(client: Client, args: ReadArgs, ids: StreamId[]): Reply {
  if (!canBlock(client)) return R.nullArray;
  const db = client.db;
  const seen = new Map<string, Seen>();
  args.keys.forEach((key, i) => {
    if (seen.has(key)) return; // the first ID given for a key counts, as in Redis
    const value = db.peek(key);
    seen.set(key, { value, signals: stamp(value), id: ids[i]!, plus: args.idArgs[i] === "+" });
  });
  const count = args.count || BLOCKED_DEFAULT_COUNT;
  const read = args.group;
  client.server.blocking.block(client, {
    keys: [...seen.keys()],
    timeoutMs: args.timeout,
    command: read ? "xreadgroup" : "xread",
    timeoutReply: R.nullArray,
    serve: (key) => {
      const s = seen.get(key)!;
      const value = client.db.peek(key);
      if (value === s.value && stamp(value) === s.signals) return undefined;
      s.value = value;
      s.signals = stamp(value);
      // Redis 7.2 runs a woken XREADGROUP again: a key deleted, replaced or without the group
      // any more fails it as a new call would.
      const lost = read ? lostGroupRead(client, args.keys, read.name) : undefined;
      if (lost !== undefined) return lost;
      if (value === undefined || typeof value === "string" || value.type !== "stream") {
        return undefined;
      }
      const stream = value as StreamValue;
      let gt = s.id;
      let group: ConsumerGroup | undefined;
      if (read) {
        group = groupOf(stream, read.name)!;
        gt = { ms: group.lastMs, seq: group.lastSeq };
      }
      if (s.plus) {
        const bound = lastEntryBound(stream);
        if (bound === undefined || stream.length === 0) return undefined;
        const max = stream.edgeId(true, true);
        if (cmpId(max.ms, max.seq, bound.ms, bound.seq) <= 0) return undefined;
        gt = bound;
      } else if (cmpId(stream.lastId.ms, stream.lastId.seq, gt.ms, gt.seq) <= 0) return undefined;
      const start = nextId(gt) ?? MIN_ID;
      if (group === undefined) {
        return readReply(client, [key, rangeReply(stream, start, MAX_ID, count, false)]);
      }
      client.db.lookupWrite(key);
      const consumer = readerOf(client, key, read!, group);
      const entries = deliver(client, key, stream, read!, group, consumer, start, count);
      return readReply(client, [key, entries]);
    },
  });
  return R.none;
}

function readSpec(grouped: boolean): CommandSpec {
  return {
    name: grouped ? "xreadgroup" : "xread",
    arity: grouped ? -7 : -4,
    flags: grouped ? ["write", "blocking"] : ["readonly", "blocking"],
    getKeys: readKeys,
    ...(grouped ? { effectsOnly: true } : {}),
    docs: {
      summary: grouped
        ? "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block."
        : "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.",
      since: "5.0.0",
      group: "stream",
      complexity: grouped
        ? "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data."
        : "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.",
      args: grouped
        ? "GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...]"
        : "[COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]",
    },
    execute(client, argv) {
      const args = parseRead(argv, grouped);
      const ids = resolveIds(client, args);
      const now = readNow(client, args, ids);
      if (now !== undefined) return now;
      if (args.timeout !== -1) return block(client, args, ids);
      return R.nullArray;
    },
  };
}

/** XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...] */
export const xreadCommand: CommandSpec = readSpec(false);

/** XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...] */
export const xreadgroupCommand: CommandSpec = readSpec(true);
