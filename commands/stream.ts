/**
 * Stream commands: XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM and XSETID here; reading with
 * XREAD/XREADGROUP in `stream_read.ts`, consumer groups (XGROUP, XACK, XPENDING) in
 * `stream_group.ts`, claiming (XCLAIM, XAUTOCLAIM) in `stream_claim.ts`, XINFO in
 * `stream_info.ts`. The list of every stream command is exported here.
 *
 * @module
 */

import { i64Arg, intArg } from "../core/args.ts";
import type { CommandSpec } from "../core/command.ts";
import { N } from "../core/notify.ts";
import { E, fail, R } from "../core/resp/reply.ts";
import { StreamValue } from "../core/types/stream.ts";
import { cmpId, inc, isMax, type ParsedId, type StreamId, u64 } from "../core/types/stream_id.ts";
import {
  idArg,
  nodeLimits,
  parseAddTrimArgs,
  propagating,
  rangeEndArg,
  rangeReply,
  rangeStartArg,
  rewriteTrim,
  streamForRead,
  streamForWrite,
} from "./stream_args.ts";
import { xautoclaimCommand, xclaimCommand } from "./stream_claim.ts";
import { xackCommand, xgroupCommand, xpendingCommand } from "./stream_group.ts";
import { xinfoCommand } from "./stream_info.ts";
import { xreadCommand, xreadgroupCommand } from "./stream_read.ts";

/** The ID an XADD of `given` gets on `stream` at `now`, or an error reply text. */
function newId(stream: StreamValue, given: ParsedId | undefined, now: number): StreamId | string {
  // Never undefined here: a stream whose last ID is the greatest was refused before.
  if (given === undefined) return stream.autoId(now)!;
  const last = stream.lastId;
  let id: StreamId = { ms: given.ms, seq: given.seq };
  if (!given.seqGiven) {
    // `<ms>-*`: the next sequence in the last ID's millisecond, 0 in a later one.
    if (given.ms === last.ms) {
      // Redis 7.2's text for an exhausted sequence (7.0 said "Elements are too large").
      if (isMax(last.seq)) return TOO_SMALL;
      id = { ms: last.ms, seq: inc(last.seq) };
    } else id = { ms: given.ms, seq: 0 };
  }
  if (cmpId(id.ms, id.seq, last.ms, last.seq) <= 0) return TOO_SMALL;
  return id;
}

const TOO_SMALL =
  "ERR The ID specified in XADD is equal or smaller than the target stream top item";

/** XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...] */
const xaddCommand: CommandSpec = {
  name: "xadd",
  arity: -5,
  flags: ["write", "denyoom", "fast"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Appends a new entry to a stream",
    since: "5.0.0",
    group: "stream",
    complexity:
      "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.",
    args:
      "key [NOMKSTREAM] [<MAXLEN | MINID> [= | ~] threshold [LIMIT count]] <* | id> field value [field value ...]",
  },
  execute(client, argv) {
    const args = parseAddTrimArgs(client, argv, true);
    const fieldPos = args.idPos + 1;
    const pairs = argv.length - fieldPos;
    if (pairs < 2 || pairs % 2 === 1) return fail(E.wrongArgs("xadd"));
    const given = args.id;
    if (given !== undefined && given.seqGiven && given.ms === 0 && given.seq === 0) {
      return fail("ERR The ID specified in XADD must be greater than 0-0");
    }
    const key = argv[1]!;
    const db = client.db;
    let stream = streamForWrite(client, key);
    if (stream === undefined) {
      if (args.noMkStream) return null;
      stream = new StreamValue();
      db.add(key, stream);
    }
    if (isMax(stream.lastId.ms) && isMax(stream.lastId.seq)) {
      return fail("ERR The stream has exhausted the last possible ID, unable to add more items");
    }
    const id = newId(stream, given, client.server.time);
    if (typeof id === "string") return fail(id);
    if (!stream.append(id, argv, fieldPos, pairs / 2, nodeLimits(client))) {
      return fail("ERR Elements are too large to be stored");
    }
    const reply = `${id.ms}-${id.seq}`;
    stream.signals++;
    db.touch(key);
    db.notify(N.stream, "xadd", key);
    const server = client.server;
    server.dirty++;
    if (args.trim !== undefined && stream.trim(args.trim) !== 0) db.notify(N.stream, "xtrim", key);
    // Replicas and the AOF get the ID generated and the trimming done, not `*` and `~`.
    const generated = given === undefined || !given.seqGiven;
    if ((generated || args.trim?.approx === true) && propagating(client)) {
      const effect = argv.slice();
      if (args.trim?.approx) rewriteTrim(effect, args, stream);
      if (generated) effect[args.idPos] = reply;
      server.replicate(db.id, effect);
    }
    return reply;
  },
};

function rangeSpec(name: string, rev: boolean): CommandSpec {
  return {
    name,
    arity: -4,
    flags: ["readonly"],
    keys: { first: 1, last: 1, step: 1 },
    docs: {
      summary: rev
        ? "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE"
        : "Return a range of elements in a stream, with IDs matching the specified IDs interval",
      since: "5.0.0",
      group: "stream",
      complexity: rev
        ? "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1)."
        : "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
      args: rev ? "key end start [COUNT count]" : "key start end [COUNT count]",
    },
    execute(client, argv) {
      const start = rangeStartArg(argv[rev ? 3 : 2]!);
      const end = rangeEndArg(argv[rev ? 2 : 3]!);
      let count = -1;
      for (let j = 4; j < argv.length; j++) {
        if (argv[j]!.toUpperCase() === "COUNT" && j + 1 < argv.length) {
          count = intArg(argv[++j]!);
          if (count < 0) count = 0;
        } else return fail(E.syntax);
      }
      const stream = streamForRead(client, argv[1]!);
      if (stream === undefined) return R.emptyArray;
      if (count === 0) return R.nullArray;
      return rangeReply(stream, start, end, count < 0 ? 0 : count, rev);
    },
  };
}

/** XLEN key */
const xlenCommand: CommandSpec = {
  name: "xlen",
  arity: 2,
  flags: ["readonly", "fast"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Return the number of entries in a stream",
    since: "5.0.0",
    group: "stream",
    complexity: "O(1)",
    args: "key",
  },
  execute: (client, argv) => streamForRead(client, argv[1]!)?.length ?? 0,
};

/** XDEL key id [id ...] */
const xdelCommand: CommandSpec = {
  name: "xdel",
  arity: -3,
  flags: ["write", "fast"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary:
      "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.",
    since: "5.0.0",
    group: "stream",
    complexity: "O(1) for each single item to delete in the stream, regardless of the stream size.",
    args: "key id [id ...]",
  },
  execute(client, argv) {
    const key = argv[1]!;
    const stream = streamForWrite(client, key);
    if (stream === undefined) return 0;
    const ids = argv.slice(2).map((a) => idArg(a));
    let deleted = 0;
    let first = false;
    for (const id of ids) {
      if (!stream.delete(id)) continue;
      if (cmpId(id.ms, id.seq, stream.firstId.ms, stream.firstId.seq) === 0) first = true;
      const max = stream.maxDeletedId;
      if (cmpId(id.ms, id.seq, max.ms, max.seq) > 0) stream.maxDeletedId = id;
      deleted++;
    }
    if (deleted !== 0) {
      if (stream.length === 0 || first) stream.refreshFirstId();
      const db = client.db;
      db.touch(key);
      db.notify(N.stream, "xdel", key);
      client.server.dirty += deleted;
    }
    return deleted;
  },
};

/** XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count] */
const xtrimCommand: CommandSpec = {
  name: "xtrim",
  arity: -4,
  flags: ["write"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "Trims the stream to (approximately if '~' is passed) a certain size",
    since: "5.0.0",
    group: "stream",
    complexity:
      "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.",
    args: "key <<MAXLEN | MINID> [= | ~] threshold [LIMIT count]>",
  },
  execute(client, argv) {
    const args = parseAddTrimArgs(client, argv, false);
    const key = argv[1]!;
    const stream = streamForWrite(client, key);
    if (stream === undefined) return 0;
    const deleted = stream.trim(args.trim!);
    if (deleted !== 0) {
      const db = client.db;
      db.notify(N.stream, "xtrim", key);
      if (args.trim!.approx && propagating(client)) {
        const effect = argv.slice();
        rewriteTrim(effect, args, stream);
        client.server.replicate(db.id, effect);
      }
      db.touch(key);
      client.server.dirty += deleted;
    }
    return deleted;
  },
};

/** XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id] */
const xsetidCommand: CommandSpec = {
  name: "xsetid",
  arity: -3,
  flags: ["write", "denyoom", "fast"],
  keys: { first: 1, last: 1, step: 1 },
  docs: {
    summary: "An internal command for replicating stream values",
    since: "5.0.0",
    group: "stream",
    complexity: "O(1)",
    args: "key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]",
  },
  execute(client, argv) {
    const id = idArg(argv[2]!);
    let entriesAdded: number | bigint = -1;
    let maxDel: StreamId | undefined;
    for (let i = 3; i < argv.length; i += 2) {
      const opt = argv[i]!.toUpperCase();
      const more = i + 1 < argv.length;
      if (opt === "ENTRIESADDED" && more) {
        entriesAdded = i64Arg(argv[i + 1]!);
        if (entriesAdded < 0) return fail("ERR entries_added must be positive");
      } else if (opt === "MAXDELETEDID" && more) {
        maxDel = idArg(argv[i + 1]!);
        if (cmpId(id.ms, id.seq, maxDel.ms, maxDel.seq) < 0) {
          return fail(
            "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
          );
        }
      } else return fail(E.syntax);
    }
    const key = argv[1]!;
    const stream = streamForWrite(client, key);
    if (stream === undefined) return fail(E.noSuchKey);
    // Redis 7.2: never below an ID already deleted.
    const del = stream.maxDeletedId;
    if (cmpId(id.ms, id.seq, del.ms, del.seq) < 0) {
      return fail("ERR The ID specified in XSETID is smaller than current max_deleted_entry_id");
    }
    if (stream.length > 0) {
      const max = stream.edgeId(true, true);
      if (cmpId(id.ms, id.seq, max.ms, max.seq) < 0) {
        return fail("ERR The ID specified in XSETID is smaller than the target stream top item");
      }
      if (entriesAdded !== -1 && stream.length > entriesAdded) {
        return fail(
          "ERR The entries_added specified in XSETID is smaller than the target stream length",
        );
      }
    }
    stream.lastId = id;
    if (entriesAdded !== -1) stream.entriesAdded = u64(BigInt(entriesAdded));
    if (maxDel !== undefined && (maxDel.ms !== 0 || maxDel.seq !== 0)) {
      stream.maxDeletedId = maxDel;
    }
    client.server.dirty++;
    client.db.notify(N.stream, "xsetid", key);
    return R.ok;
  },
};

/** Every stream command. */
export const streamCommands: CommandSpec[] = [
  xaddCommand,
  rangeSpec("xrange", false),
  rangeSpec("xrevrange", true),
  xlenCommand,
  xdelCommand,
  xtrimCommand,
  xsetidCommand,
  xreadCommand,
  xreadgroupCommand,
  xgroupCommand,
  xackCommand,
  xpendingCommand,
  xclaimCommand,
  xautoclaimCommand,
  xinfoCommand,
];
