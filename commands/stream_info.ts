/**
 * XINFO STREAM [FULL [COUNT count]] | GROUPS | CONSUMERS | HELP: introspection of a stream, its
 * groups and consumers, with Redis 7.0's fields in Redis's order (maps in RESP3).
 *
 * @module
 */

import { compat } from "../core/compat.ts";
import { intArg } from "../core/args.ts";
import type { Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import { E, fail, MapReply, type Reply } from "../core/resp/reply.ts";
import type { StreamValue } from "../core/types/stream.ts";
import type { ConsumerGroup, PendingKeys } from "../core/types/stream_group.ts";
import { MAX_ID, MIN_ID, type StreamId } from "../core/types/stream_id.ts";
import { groupLag } from "../core/types/stream_lag.ts";
import { rangeReply, streamForRead } from "./stream_args.ts";
import { groupOf, helpLines, subcommandError } from "./stream_group.ts";

const XINFO_HELP = [
  "CONSUMERS <key> <groupname>",
  "    Show consumers of <groupname>.",
  "GROUPS <key>",
  "    Show the stream consumer groups.",
  "STREAM <key> [FULL [COUNT <count>]",
  "    Show information about the stream.",
];

function text(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

/** The fields XINFO STREAM shows in both forms. */
function streamHead(s: StreamValue): Reply[] {
  const tree = s.treeStats();
  return [
    "length",
    s.length,
    "radix-tree-keys",
    tree.keys,
    "radix-tree-nodes",
    tree.nodes,
    "last-generated-id",
    text(s.lastId),
    "max-deleted-entry-id",
    text(s.maxDeletedId),
    "entries-added",
    s.entriesAdded,
    "recorded-first-entry-id",
    text(s.firstId),
  ];
}

function sortedGroups(s: StreamValue): Array<[string, ConsumerGroup]> {
  return [...(s.groups ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Up to `count` pending entries of `keys` (0 for all), each as `row` makes it. */
function pendingRows(
  group: ConsumerGroup,
  keys: PendingKeys,
  count: number,
  row: (n: NonNullable<ReturnType<ConsumerGroup["nack"]>>) => Reply,
): Reply[] {
  const out: Reply[] = [];
  for (const c = keys.first(); c.valid && (count === 0 || out.length < count); c.next()) {
    out.push(row(group.nack(c.member)!));
  }
  return out;
}

function fullGroup(
  s: StreamValue,
  name: string,
  g: ConsumerGroup,
  count: number,
  v72: boolean,
): Reply {
  const consumers = g.sortedConsumers().map((c) =>
    new MapReply([
      "name",
      c.name,
      "seen-time",
      c.seenTime,
      ...(v72 ? ["active-time", c.activeTime] : []),
      "pel-count",
      c.pel.size,
      "pending",
      pendingRows(g, c.pel, count, (n) => [n.idText, n.deliveryTime, n.deliveryCount]),
    ])
  );
  return new MapReply([
    "name",
    name,
    "last-delivered-id",
    text({ ms: g.lastMs, seq: g.lastSeq }),
    "entries-read",
    g.entriesRead === -1 ? null : g.entriesRead,
    "lag",
    groupLag(s, g),
    "pel-count",
    g.pending.size,
    "pending",
    pendingRows(g, g.pendingKeys, count, (n) => [
      n.idText,
      n.consumer!.name,
      n.deliveryTime,
      n.deliveryCount,
    ]),
    "consumers",
    consumers,
  ]);
}

/** XINFO STREAM key [FULL [COUNT count]] */
function streamInfo(client: Client, argv: string[], s: StreamValue): Reply {
  const opts = argv.length - 3;
  if (opts === 0) {
    const first = rangeReply(s, MIN_ID, MAX_ID, 1, false);
    const last = rangeReply(s, MIN_ID, MAX_ID, 1, true);
    return new MapReply([
      ...streamHead(s),
      "groups",
      s.groups?.size ?? 0,
      "first-entry",
      first[0] ?? null,
      "last-entry",
      last[0] ?? null,
    ]);
  }
  if (opts !== 1 && opts !== 3) return subcommandError(argv);
  if (argv[3]!.toUpperCase() !== "FULL") return subcommandError(argv);
  const v72 = compat(client.server.config).v72;
  let count = 10;
  if (opts === 3) {
    if (argv[4]!.toUpperCase() !== "COUNT") return subcommandError(argv);
    count = intArg(argv[5]!);
    if (count < 0) count = 10;
  }
  return new MapReply([
    ...streamHead(s),
    "entries",
    rangeReply(s, MIN_ID, MAX_ID, count, false),
    "groups",
    sortedGroups(s).map(([name, g]) => fullGroup(s, name, g, count, v72)),
  ]);
}

/** XINFO GROUPS key */
function groupsInfo(s: StreamValue): Reply {
  return sortedGroups(s).map(([name, g]) =>
    new MapReply([
      "name",
      name,
      "consumers",
      g.consumers.size,
      "pending",
      g.pending.size,
      "last-delivered-id",
      text({ ms: g.lastMs, seq: g.lastSeq }),
      "entries-read",
      g.entriesRead === -1 ? null : g.entriesRead,
      "lag",
      groupLag(s, g),
    ])
  );
}

/** XINFO CONSUMERS key group */
function consumersInfo(client: Client, argv: string[], s: StreamValue): Reply {
  const g = groupOf(s, argv[3]!);
  if (g === undefined) {
    return fail(`NOGROUP No such consumer group '${argv[3]}' for key name '${argv[2]}'`);
  }
  const now = client.server.time;
  const v72 = compat(client.server.config).v72;
  // Redis 7.2: `idle` since the last attempt to read or claim, `inactive` since the last success.
  return g.sortedConsumers().map((c) =>
    new MapReply([
      "name",
      c.name,
      "pending",
      c.pel.size,
      "idle",
      Math.max(now - c.seenTime, 0),
      ...(v72 ? ["inactive", c.activeTime === -1 ? -1 : Math.max(now - c.activeTime, 0)] : []),
    ])
  );
}

/** Every XINFO subcommand, as Redis's xinfoCommand runs them. */
function xinfo(client: Client, argv: string[]): Reply {
  const sub = argv[1]!.toUpperCase();
  if (sub === "HELP") return helpLines(client, argv, XINFO_HELP);
  const s = streamForRead(client, argv[2]!);
  if (s === undefined) return fail(E.noSuchKey);
  if (sub === "CONSUMERS" && argv.length === 4) return consumersInfo(client, argv, s);
  if (sub === "GROUPS" && argv.length === 3) return groupsInfo(s);
  if (sub === "STREAM") return streamInfo(client, argv, s);
  return subcommandError(argv);
}

function xinfoSub(
  name: string,
  arity: number,
  flags: CommandSpec["flags"],
  summary: string,
  args: string | undefined,
): CommandSpec {
  return {
    name,
    arity,
    flags,
    ...(args === undefined ? {} : { keys: { first: 2, last: 2, step: 1 } }),
    docs: {
      summary,
      since: "5.0.0",
      group: "stream",
      complexity: "O(1)",
      ...(args === undefined ? {} : { args }),
    },
    execute: xinfo,
  };
}

/** XINFO STREAM | GROUPS | CONSUMERS | HELP */
export const xinfoCommand: CommandSpec = {
  name: "xinfo",
  arity: -2,
  docs: {
    summary: "A container for stream introspection commands",
    since: "5.0.0",
    group: "stream",
    complexity: "Depends on subcommand.",
  },
  subcommands: [
    xinfoSub(
      "consumers",
      4,
      ["readonly"],
      "List the consumers in a consumer group",
      "key groupname",
    ),
    xinfoSub("groups", 3, ["readonly"], "List the consumer groups of a stream", "key"),
    xinfoSub(
      "stream",
      -3,
      ["readonly"],
      "Get information about a stream",
      "key [FULL [COUNT count]]",
    ),
    xinfoSub(
      "help",
      2,
      ["loading", "stale"],
      "Show helpful text about the different subcommands",
      undefined,
    ),
  ],
};
