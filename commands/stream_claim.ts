/**
 * Claiming pending entries: XCLAIM and XAUTOCLAIM, and the effects every change of a pending
 * entries list propagates as (Redis's streamPropagateXCLAIM, streamPropagateGroupID and
 * streamPropagateConsumerCreation), so that replicas and the AOF end up with the same groups.
 *
 * @module
 */

import { compat } from "../core/compat.ts";
import { i64Arg, intArg } from "../core/args.ts";
import type { Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import { fail, type Reply } from "../core/resp/reply.ts";
import type { ConsumerGroup, I64, Nack } from "../core/types/stream_group.ts";
import type { StreamValue } from "../core/types/stream.ts";
import { cmpId, idKey, parseStreamId, type StreamId } from "../core/types/stream_id.ts";
import { idArg, propagating, rangeStartArg, singleEntry, streamForWrite } from "./stream_args.ts";
import { groupOf, lookupOrCreateConsumer } from "./stream_group.ts";
import { inc64 } from "../core/types/stream_lag.ts";

/** Propagates a pending entry as the idempotent XCLAIM ... FORCE JUSTID LASTID Redis sends. */
export function propagateClaim(
  client: Client,
  key: string,
  groupName: string,
  group: ConsumerGroup,
  idText: string,
  nack: Nack,
): void {
  if (!propagating(client)) return;
  client.server.replicate(client.db.id, [
    "XCLAIM",
    key,
    groupName,
    nack.consumer!.name,
    "0",
    idText,
    "TIME",
    String(nack.deliveryTime),
    "RETRYCOUNT",
    String(nack.deliveryCount),
    "FORCE",
    "JUSTID",
    "LASTID",
    `${group.lastMs}-${group.lastSeq}`,
  ]);
}

/** Propagates a group's last ID and read counter as XGROUP SETID ... ENTRIESREAD. */
export function propagateGroupId(
  client: Client,
  key: string,
  groupName: string,
  group: ConsumerGroup,
): void {
  if (!propagating(client)) return;
  client.server.replicate(client.db.id, [
    "XGROUP",
    "SETID",
    key,
    groupName,
    `${group.lastMs}-${group.lastSeq}`,
    "ENTRIESREAD",
    String(group.entriesRead),
  ]);
}

/** Propagates the creation of a consumer as XGROUP CREATECONSUMER. */
export function propagateConsumer(
  client: Client,
  key: string,
  groupName: string,
  consumer: string,
): void {
  if (!propagating(client)) return;
  client.server.replicate(client.db.id, ["XGROUP", "CREATECONSUMER", key, groupName, consumer]);
}

/** The stream and group XCLAIM and XAUTOCLAIM work on; NOGROUP when either is missing. */
function claimTarget(client: Client, argv: string[]): [StreamValue, ConsumerGroup] {
  const stream = streamForWrite(client, argv[1]!);
  const group = stream === undefined ? undefined : groupOf(stream, argv[2]!);
  if (group === undefined) {
    return fail(`NOGROUP No such key '${argv[1]}' or consumer group '${argv[2]}'`);
  }
  return [stream!, group];
}

/** Drops the pending entry of an entry no longer in the stream, propagating the change. */
function dropMissing(
  client: Client,
  argv: string[],
  group: ConsumerGroup,
  idText: string,
  nack: Nack,
): void {
  propagateClaim(client, argv[1]!, argv[2]!, group, idText, nack);
  client.server.dirty++;
  group.removeNack(nack);
}

/** XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid] */
export const xclaimCommand: CommandSpec = {
  name: "xclaim",
  arity: -6,
  flags: ["write", "fast"],
  keys: { first: 1, last: 1, step: 1 },
  effectsOnly: true,
  docs: {
    summary:
      "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.",
    since: "5.0.0",
    group: "stream",
    complexity: "O(log N) with N being the number of messages in the PEL of the consumer group.",
    args:
      "key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]",
  },
  execute(client, argv) {
    const [stream, group] = claimTarget(client, argv);
    const minIdle = Math.max(intArg(argv[4]!, "ERR Invalid min-idle-time argument for XCLAIM"), 0);
    // IDs run up to the first argument that is not one; options follow.
    const ids: StreamId[] = [];
    let j = 5;
    for (; j < argv.length; j++) {
      const id = parseStreamId(argv[j]!, 0, true);
      if (id === undefined) break;
      ids.push(id);
    }
    const now = client.server.time;
    let force = false;
    let justId = false;
    let time = -1;
    let retryCount: I64 = -1;
    let lastId: StreamId = { ms: 0, seq: 0 };
    for (; j < argv.length; j++) {
      const opt = argv[j]!.toUpperCase();
      const more = j + 1 < argv.length;
      if (opt === "FORCE") force = true;
      else if (opt === "JUSTID") justId = true;
      else if (opt === "IDLE" && more) {
        time = now - intArg(argv[++j]!, "ERR Invalid IDLE option argument for XCLAIM");
      } else if (opt === "TIME" && more) {
        time = intArg(argv[++j]!, "ERR Invalid TIME option argument for XCLAIM");
      } else if (opt === "RETRYCOUNT" && more) {
        retryCount = i64Arg(argv[++j]!, "ERR Invalid RETRYCOUNT option argument for XCLAIM");
      } else if (opt === "LASTID" && more) lastId = idArg(argv[++j]!);
      else return fail(`ERR Unrecognized XCLAIM option '${argv[j]}'`);
    }
    let propagateLastId = false;
    if (cmpId(lastId.ms, lastId.seq, group.lastMs, group.lastSeq) > 0) {
      group.lastMs = lastId.ms;
      group.lastSeq = lastId.seq;
      propagateLastId = true;
    }
    // A time in the future (or before 1970) is taken as now, as Redis does.
    const delivery = time === -1 || time < 0 || time > now ? now : time;
    const server = client.server;
    // Redis 7.2 creates the consumer (and refreshes its seen-time) even when nothing is claimed;
    // 7.0 only when something is.
    let consumer = compat(server.config).v72
      ? lookupOrCreateConsumer(client, group, argv[3]!, argv[1]!)
      : undefined;
    const out: Reply[] = [];
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]!;
      const key = idKey(id.ms, id.seq);
      let nack = group.nack(key);
      const entry = justId ? undefined : singleEntry(stream, id);
      if (justId ? !stream.has(id) : entry === undefined) {
        if (nack !== undefined) {
          dropMissing(client, argv, group, argv[5 + k]!, nack);
          propagateLastId = false;
        }
        continue;
      }
      if (force && nack === undefined) nack = group.addNack(id.ms, id.seq, undefined, now, key);
      if (nack === undefined) continue;
      if (nack.consumer !== undefined && minIdle !== 0 && now - nack.deliveryTime < minIdle) {
        continue;
      }
      consumer ??= lookupOrCreateConsumer(client, group, argv[3]!, argv[1]!);
      group.assign(nack, consumer);
      consumer.activeTime = now;
      nack.deliveryTime = delivery;
      if (retryCount >= 0) nack.deliveryCount = retryCount;
      else if (!justId) nack.deliveryCount = inc64(nack.deliveryCount);
      out.push(justId ? `${id.ms}-${id.seq}` : entry!);
      propagateClaim(client, argv[1]!, argv[2]!, group, argv[5 + k]!, nack);
      propagateLastId = false;
      server.dirty++;
    }
    if (propagateLastId) {
      propagateGroupId(client, argv[1]!, argv[2]!, group);
      server.dirty++;
    }
    return out;
  },
};

/** Redis's bound on XAUTOCLAIM's COUNT: LONG_MAX / 16. */
const MAX_AUTOCLAIM_COUNT = 576460752303423487n;

/** XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID] */
export const xautoclaimCommand: CommandSpec = {
  name: "xautoclaim",
  arity: -6,
  flags: ["write", "fast"],
  keys: { first: 1, last: 1, step: 1 },
  effectsOnly: true,
  docs: {
    summary:
      "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.",
    since: "6.2.0",
    group: "stream",
    complexity: "O(1) if COUNT is small.",
    args: "key group consumer min-idle-time start [COUNT count] [JUSTID]",
  },
  execute(client, argv) {
    const minIdle = Math.max(
      intArg(argv[4]!, "ERR Invalid min-idle-time argument for XAUTOCLAIM"),
      0,
    );
    const start = rangeStartArg(argv[5]!);
    let count = 100;
    let justId = false;
    for (let j = 6; j < argv.length; j++) {
      const opt = argv[j]!.toUpperCase();
      if (opt === "COUNT" && j + 1 < argv.length) {
        const n = i64Arg(argv[++j]!, "ERR COUNT must be > 0");
        if (n < 1 || n > MAX_AUTOCLAIM_COUNT) return fail("ERR COUNT must be > 0");
        count = Number(n);
      } else if (opt === "JUSTID") justId = true;
      else return fail("ERR syntax error");
    }
    const [stream, group] = claimTarget(client, argv);
    const now = client.server.time;
    const server = client.server;
    let consumer = compat(server.config).v72
      ? lookupOrCreateConsumer(client, group, argv[3]!, argv[1]!)
      : undefined;
    const claimed: Reply[] = [];
    const deleted: Reply[] = [];
    let attempts = count * 10;
    let c = group.pendingKeys.from(idKey(start.ms, start.seq));
    while (attempts-- > 0 && count > 0 && c.valid) {
      const nack = group.nack(c.member)!;
      const id = { ms: nack.ms, seq: nack.seq };
      const entry = justId ? undefined : singleEntry(stream, id);
      if (justId ? !stream.has(id) : entry === undefined) {
        dropMissing(client, argv, group, nack.idText, nack);
        deleted.push(nack.idText);
        c = group.pendingKeys.from(nack.key);
        count--;
        continue;
      }
      c.next();
      if (minIdle !== 0 && now - nack.deliveryTime < minIdle) continue;
      consumer ??= lookupOrCreateConsumer(client, group, argv[3]!, argv[1]!);
      group.assign(nack, consumer);
      consumer.activeTime = now;
      nack.deliveryTime = now;
      if (!justId) nack.deliveryCount = inc64(nack.deliveryCount);
      claimed.push(justId ? nack.idText : entry!);
      count--;
      propagateClaim(client, argv[1]!, argv[2]!, group, nack.idText, nack);
      server.dirty++;
    }
    const next = c.valid ? group.nack(c.member)!.idText : "0-0";
    return [next, claimed, deleted];
  },
};
