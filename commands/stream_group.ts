/**
 * Consumer group commands: XGROUP (CREATE, SETID, DESTROY, CREATECONSUMER, DELCONSUMER, HELP),
 * XACK and XPENDING, with Redis 7.0's checks in Redis's order and its error texts.
 *
 * @module
 */

import { helpFor } from "../core/compat.ts";
import { i64Arg, intArg } from "../core/args.ts";
import type { Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import { N } from "../core/notify.ts";
import { E, fail, R, type Reply } from "../core/resp/reply.ts";
import { StreamValue } from "../core/types/stream.ts";
import { Consumer, ConsumerGroup, type I64 } from "../core/types/stream_group.ts";
import { cmpId, idKey, type StreamId } from "../core/types/stream_id.ts";
import { idArg, rangeEndArg, rangeStartArg, streamForRead, streamForWrite } from "./stream_args.ts";

/** The group `name` of `stream`, if any. */
export function groupOf(stream: StreamValue, name: string): ConsumerGroup | undefined {
  return stream.groups?.get(name);
}

/**
 * Creates consumer `name` in `group` (Redis's streamCreateConsumer): counts a change and fires
 * `xgroup-createconsumer`.
 */
export function createConsumer(
  client: Client,
  group: ConsumerGroup,
  name: string,
  key: string,
): Consumer {
  const consumer = new Consumer(name, client.server.time);
  group.consumers.set(name, consumer);
  client.server.dirty++;
  client.db.notify(N.stream, "xgroup-createconsumer", key);
  return consumer;
}

/** Consumer `name` of `group`, its seen-time refreshed, created when missing. */
export function lookupOrCreateConsumer(
  client: Client,
  group: ConsumerGroup,
  name: string,
  key: string,
): Consumer {
  const found = group.consumers.get(name);
  if (found === undefined) return createConsumer(client, group, name, key);
  found.seenTime = client.server.time;
  return found;
}

/** `<SUBCOMMAND> ... Try XGROUP HELP.` as Redis's addReplySubcommandSyntaxError words it. */
export function subcommandError(argv: string[]): never {
  return fail(
    `ERR unknown subcommand or wrong number of arguments for '${argv[1]!.slice(0, 128)}'. Try ${
      argv[0]!.toUpperCase()
    } HELP.`,
  );
}

/** The HELP reply of a container command: Redis's header, the lines, its footer. */
export function helpLines(client: Client, argv: string[], lines: string[]): Reply {
  return helpFor(client, [
    `${argv[0]!.toUpperCase()} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`,
    ...lines,
    "HELP",
    "    Print this help.",
  ]);
}

const XGROUP_HELP = [
  "CREATE <key> <groupname> <id|$> [option]",
  "    Create a new consumer group. Options are:",
  "    * MKSTREAM",
  "      Create the empty stream if it does not exist.",
  "    * ENTRIESREAD entries_read",
  "      Set the group's entries_read counter (internal use).",
  "CREATECONSUMER <key> <groupname> <consumer>",
  "    Create a new consumer in the specified group.",
  "DELCONSUMER <key> <groupname> <consumer>",
  "    Remove the specified consumer.",
  "DESTROY <key> <groupname>",
  "    Remove the specified group.",
  "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
  "    Set the current group ID and entries_read counter.",
];

/** Every XGROUP subcommand, as Redis's xgroupCommand runs them. */
function xgroup(client: Client, argv: string[]): Reply {
  const sub = argv[1]!.toUpperCase();
  if (sub === "HELP") return helpLines(client, argv, XGROUP_HELP);
  const argc = argv.length;
  const key = argv[2]!;
  const name = argv[3]!;
  const db = client.db;
  let mkstream = false;
  let entriesRead: I64 = -1;
  for (let i = 5; i < argc;) {
    const opt = argv[i]!.toUpperCase();
    if (sub === "CREATE" && opt === "MKSTREAM") {
      mkstream = true;
      i++;
    } else if ((sub === "CREATE" || sub === "SETID") && opt === "ENTRIESREAD" && i + 1 < argc) {
      entriesRead = i64Arg(argv[i + 1]!);
      if (entriesRead < 0 && entriesRead !== -1) {
        return fail("ERR value for ENTRIESREAD must be positive or -1");
      }
      i += 2;
    } else return subcommandError(argv);
  }
  let stream = streamForWrite(client, key);
  let group: ConsumerGroup | undefined;
  if (!mkstream) {
    if (stream === undefined) {
      return fail(
        "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
      );
    }
    group = groupOf(stream, name);
    if (group === undefined && sub !== "CREATE" && sub !== "DESTROY") {
      return fail(`NOGROUP No such consumer group '${name}' for key name '${key}'`);
    }
  }
  const server = client.server;
  if (sub === "CREATE" && argc <= 8) {
    let id: StreamId;
    if (argv[4] === "$") id = stream?.lastId ?? { ms: 0, seq: 0 };
    else id = idArg(argv[4]!);
    if (stream === undefined) {
      stream = new StreamValue();
      db.add(key, stream);
    }
    stream.groups ??= new Map();
    if (stream.groups.has(name)) return fail("BUSYGROUP Consumer Group name already exists");
    stream.groups.set(name, new ConsumerGroup(id.ms, id.seq, entriesRead));
    server.dirty++;
    db.notify(N.stream, "xgroup-create", key);
    return R.ok;
  }
  if (sub === "SETID" && (argc === 5 || argc === 7)) {
    const id = argv[4] === "$" ? stream!.lastId : idArg(argv[4]!, 0, false);
    group!.lastMs = id.ms;
    group!.lastSeq = id.seq;
    group!.entriesRead = entriesRead;
    server.dirty++;
    db.notify(N.stream, "xgroup-setid", key);
    return R.ok;
  }
  if (sub === "DESTROY" && argc === 4) {
    if (group === undefined) return 0;
    stream!.groups!.delete(name);
    server.dirty++;
    db.notify(N.stream, "xgroup-destroy", key);
    // Consumers blocked in XREADGROUP on the group learn it is gone.
    stream!.signals++;
    server.blocking.signalReady(db, key);
    return 1;
  }
  if (sub === "CREATECONSUMER" && argc === 5) {
    if (group!.consumers.has(argv[4]!)) return 0;
    createConsumer(client, group!, argv[4]!, key);
    return 1;
  }
  if (sub === "DELCONSUMER" && argc === 5) {
    const consumer = group!.consumers.get(argv[4]!);
    if (consumer === undefined) return 0;
    const pending = consumer.pel.size;
    group!.deleteConsumer(consumer);
    server.dirty++;
    db.notify(N.stream, "xgroup-delconsumer", key);
    return pending;
  }
  return subcommandError(argv);
}

function xgroupSub(
  name: string,
  arity: number,
  flags: CommandSpec["flags"],
  summary: string,
  since: string,
  complexity: string,
  args: string | undefined,
): CommandSpec {
  return {
    name,
    arity,
    flags,
    ...(args === undefined ? {} : { keys: { first: 2, last: 2, step: 1 } }),
    docs: { summary, since, group: "stream", complexity, ...(args === undefined ? {} : { args }) },
    execute: xgroup,
  };
}

/** XGROUP CREATE | SETID | DESTROY | CREATECONSUMER | DELCONSUMER | HELP */
export const xgroupCommand: CommandSpec = {
  name: "xgroup",
  arity: -2,
  docs: {
    summary: "A container for consumer groups commands",
    since: "5.0.0",
    group: "stream",
    complexity: "Depends on subcommand.",
  },
  subcommands: [
    xgroupSub(
      "create",
      -5,
      ["write", "denyoom"],
      "Create a consumer group.",
      "5.0.0",
      "O(1)",
      "key groupname <id | $> [MKSTREAM] [ENTRIESREAD entries-read]",
    ),
    xgroupSub(
      "setid",
      -5,
      ["write"],
      "Set a consumer group to an arbitrary last delivered ID value.",
      "5.0.0",
      "O(1)",
      "key groupname <id | $> [ENTRIESREAD entries-read]",
    ),
    xgroupSub(
      "destroy",
      4,
      ["write"],
      "Destroy a consumer group.",
      "5.0.0",
      "O(N) where N is the number of entries in the group's pending entries list (PEL).",
      "key groupname",
    ),
    xgroupSub(
      "createconsumer",
      5,
      ["write", "denyoom"],
      "Create a consumer in a consumer group.",
      "6.2.0",
      "O(1)",
      "key groupname consumername",
    ),
    xgroupSub(
      "delconsumer",
      5,
      ["write"],
      "Delete a consumer from a consumer group.",
      "5.0.0",
      "O(1)",
      "key groupname consumername",
    ),
    xgroupSub(
      "help",
      2,
      ["loading", "stale"],
      "Show helpful text about the different subcommands",
      "5.0.0",
      "O(1)",
      undefined,
    ),
  ],
};

/** XACK key group id [id ...] */
export const xackCommand: CommandSpec = {
  name: "xack",
  arity: -4,
  flags: ["write", "fast"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary:
      "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.",
    since: "5.0.0",
    group: "stream",
    complexity: "O(1) for each message ID processed.",
    args: "key group id [id ...]",
  },
  execute(client, argv) {
    const stream = streamForWrite(client, argv[1]!);
    const group = stream === undefined ? undefined : groupOf(stream, argv[2]!);
    if (group === undefined) return 0;
    // All or nothing: every ID is checked before any is acknowledged.
    const ids = argv.slice(3).map((a) => idArg(a));
    let acked = 0;
    for (const id of ids) {
      const nack = group.nack(idKey(id.ms, id.seq));
      if (nack === undefined) continue;
      group.removeNack(nack);
      acked++;
    }
    client.server.dirty += acked;
    return acked;
  },
};

/** The summary form of XPENDING: count, smallest and greatest IDs, count per consumer. */
function pendingSummary(group: ConsumerGroup): Reply {
  const total = group.pending.size;
  if (total === 0) return [0, null, null, R.nullArray];
  const first = group.nack(group.pendingKeys.first().member)!;
  const last = group.nack(group.pendingKeys.last().member)!;
  const owners: Reply[] = [];
  for (const c of group.sortedConsumers()) {
    if (c.pel.size !== 0) owners.push([c.name, String(c.pel.size)]);
  }
  return [total, first.idText, last.idText, owners];
}

/** XPENDING key group [[IDLE min-idle-time] start end count [consumer]] */
export const xpendingCommand: CommandSpec = {
  name: "xpending",
  arity: -3,
  flags: ["readonly"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary:
      "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.",
    since: "5.0.0",
    group: "stream",
    complexity:
      "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.",
    args: "key group [[IDLE min-idle-time] start end count [consumer]]",
  },
  execute(client, argv) {
    const argc = argv.length;
    if (argc !== 3 && (argc < 6 || argc > 9)) return fail(E.syntax);
    let minIdle = 0;
    let count = 0;
    let start: StreamId = { ms: 0, seq: 0 };
    let end: StreamId = start;
    let consumerName: string | undefined;
    if (argc >= 6) {
      let at = 3;
      if (argv[3]!.toUpperCase() === "IDLE") {
        minIdle = intArg(argv[4]!);
        if (argc < 8) return fail(E.syntax);
        at += 2;
      }
      count = Math.max(intArg(argv[at + 2]!), 0);
      start = rangeStartArg(argv[at]!);
      end = rangeEndArg(argv[at + 1]!);
      if (at + 3 < argc) consumerName = argv[at + 3]!;
    }
    const key = argv[1]!;
    const stream = streamForRead(client, key);
    const group = stream === undefined ? undefined : groupOf(stream, argv[2]!);
    if (group === undefined) {
      return fail(`NOGROUP No such key '${key}' or consumer group '${argv[2]}'`);
    }
    if (argc === 3) return pendingSummary(group);
    let keys = group.pendingKeys;
    if (consumerName !== undefined) {
      const consumer = group.consumers.get(consumerName);
      if (consumer === undefined) return R.emptyArray;
      keys = consumer.pel;
    }
    const now = client.server.time;
    const out: Reply[] = [];
    for (const c = keys.from(idKey(start.ms, start.seq)); count > 0 && c.valid; c.next()) {
      const nack = group.nack(c.member)!;
      if (cmpId(nack.ms, nack.seq, end.ms, end.seq) > 0) break;
      const idle = now - nack.deliveryTime;
      if (minIdle !== 0 && idle < minIdle) continue;
      count--;
      out.push([nack.idText, nack.consumer!.name, Math.max(idle, 0), nack.deliveryCount]);
    }
    return out;
  },
};
