/**
 * What the stream commands share: looking streams up, parsing IDs and ranges with Redis's
 * errors, the XADD/XTRIM trimming options, and the shapes of entry replies.
 *
 * @module
 */

import { intArg } from "../core/args.ts";
import { CF, type Client } from "../core/client.ts";
import type { Config } from "../core/config.ts";
import { E, fail, type Reply } from "../core/resp/reply.ts";
import type { NodeLimits, StreamValue, TrimSpec } from "../core/types/stream.ts";
import type { StreamNode } from "../core/types/stream_node.ts";
import {
  MIN_ID,
  nextId,
  type ParsedId,
  parseStreamId,
  prevId,
  type StreamId,
  type U64,
  U64_MAX,
} from "../core/types/stream_id.ts";

/** Redis's error for an ID argument it cannot read. */
const INVALID_ID = "ERR Invalid stream ID specified as stream command argument";

/** The stream at `key` for reading; undefined when missing; WRONGTYPE for other types. */
export function streamForRead(client: Client, key: string): StreamValue | undefined {
  return client.db.getTyped<StreamValue>(key, "stream");
}

/** The stream at `key` for changing it; undefined when missing; WRONGTYPE for other types. */
export function streamForWrite(client: Client, key: string): StreamValue | undefined {
  return client.db.getTyped<StreamValue>(key, "stream", true);
}

/** The config whose node limits are in `limits` (one server per process, as a rule). */
let limitsOf: Config | undefined;
let limits: NodeLimits | undefined;
/** Configs whose changes are watched. */
const watched = new WeakSet<Config>();

/** Where new nodes start (`stream-node-max-entries` and `-bytes`, as configured now). */
export function nodeLimits(client: Client): NodeLimits {
  const config = client.server.config;
  // Read once, not per XADD: two config lookups cost more than the append itself.
  if (config !== limitsOf || limits === undefined) {
    if (!watched.has(config)) {
      watched.add(config);
      config.onChange((name) => {
        if (name.startsWith("stream-node-") && config === limitsOf) limits = undefined;
      });
    }
    limitsOf = config;
    limits = {
      maxEntries: config.num("stream-node-max-entries"),
      maxBytes: config.num("stream-node-max-bytes"),
    };
  }
  return limits;
}

/** True when effects are propagated at all (an AOF or replicas listen). */
export function propagating(client: Client): boolean {
  return client.server.hooks.propagate.length !== 0;
}

/**
 * True for the clients Redis must obey (its mustObeyClient): our master, and the AOF loader
 * (an in-process client that is neither a session nor the scripting client).
 */
export function mustObey(client: Client): boolean {
  if ((client.flags & CF.master) !== 0) return true;
  return (client.flags & (CF.local | CF.script)) === CF.local && client.captured === undefined;
}

/** An ID argument (`-` and `+` refused when `strict`); ERR Invalid stream ID otherwise. */
export function idArg(arg: string, missingSeq: U64 = 0, strict = true): StreamId {
  const id = parseStreamId(arg, missingSeq, strict) ?? fail(INVALID_ID);
  return { ms: id.ms, seq: id.seq };
}

/**
 * The start of a range (XRANGE, XPENDING, XAUTOCLAIM): `-`, an ID (missing sequence 0), or
 * `(ID` for an exclusive start.
 */
export function rangeStartArg(arg: string): StreamId {
  if (arg.length > 1 && arg[0] === "(") {
    const id = nextId(idArg(arg.slice(1), 0, true));
    return id ?? fail("ERR invalid start ID for the interval");
  }
  return idArg(arg, 0, false);
}

/** The end of a range: `+`, an ID (missing sequence the greatest), or `(ID` exclusive. */
export function rangeEndArg(arg: string): StreamId {
  if (arg.length > 1 && arg[0] === "(") {
    const id = prevId(idArg(arg.slice(1), U64_MAX, true));
    return id ?? fail("ERR invalid end ID for the interval");
  }
  return idArg(arg, U64_MAX, false);
}

/** `[id, [field, value, ...]]` for entry `i` of `node`. */
export function entryReply(node: StreamNode, i: number): Reply {
  return [node.idTextAt(i), node.pairs(i)];
}

/** Entries of `stream` in a range, at most `count` (0 for all), as XRANGE replies them. */
export function rangeReply(
  stream: StreamValue,
  start: StreamId,
  end: StreamId,
  count: number,
  rev: boolean,
): Reply[] {
  const out: Reply[] = [];
  const it = stream.range(start, end, rev);
  while (it.next()) {
    out.push([it.node.idTextAt(it.i), it.node.pairs(it.i)]);
    if (out.length === count) break;
  }
  return out;
}

/** The entry `id` as XCLAIM replies it, or undefined when it is not (or no longer) there. */
export function singleEntry(stream: StreamValue, id: StreamId): Reply | undefined {
  const at = stream.find(id);
  return at === undefined ? undefined : entryReply(at.node, at.i);
}

/** Parsed options of XADD and XTRIM. */
export interface AddTrimArgs {
  /** The trimming to do, if any. */
  trim: TrimSpec | undefined;
  /** Position in argv of the MAXLEN count or MINID id (rewritten for propagation). */
  trimArgPos: number;
  /** XADD: position of the ID argument. */
  idPos: number;
  /** XADD: the ID given, undefined for `*`. */
  id: ParsedId | undefined;
  /** XADD NOMKSTREAM. */
  noMkStream: boolean;
}

/** XADD key * ...: the common case, parsed once. */
const AUTO_ID: AddTrimArgs = Object.freeze({
  trim: undefined,
  trimArgPos: 0,
  idPos: 2,
  id: undefined,
  noMkStream: false,
});

/** `~` or `=` right after MAXLEN/MINID, when another argument follows it. */
function approxMark(argv: string[], i: number, more: number): "~" | "=" | undefined {
  if (more < 2) return undefined;
  const next = argv[i + 1]!;
  return next === "~" || next === "=" ? next : undefined;
}

/**
 * Parses `[MAXLEN|MINID [=|~] threshold [LIMIT count]]` (and for XADD `[NOMKSTREAM]` and the
 * ID), from argv[2] on, as Redis's streamParseAddOrTrimArgsOrReply does, with its errors.
 */
export function parseAddTrimArgs(client: Client, argv: string[], xadd: boolean): AddTrimArgs {
  if (xadd && argv[2] === "*") return AUTO_ID;
  const out: AddTrimArgs = {
    trim: undefined,
    trimArgPos: 0,
    idPos: 0,
    id: undefined,
    noMkStream: false,
  };
  let limit = 0;
  let limitGiven = false;
  let i = 2;
  for (; i < argv.length; i++) {
    const more = argv.length - 1 - i;
    const opt = argv[i]!;
    if (xadd && opt === "*") break;
    const up = opt.toUpperCase();
    if ((up === "MAXLEN" || up === "MINID") && more > 0) {
      if (out.trim !== undefined) {
        fail("ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
      }
      const mark = approxMark(argv, i, more);
      if (mark !== undefined) i++;
      const byId = up === "MINID";
      let maxLen = 0;
      let minId = MIN_ID;
      if (byId) minId = idArg(argv[i + 1]!);
      else {
        maxLen = intArg(argv[i + 1]!);
        if (maxLen < 0) fail("ERR The MAXLEN argument must be >= 0.");
      }
      i++;
      out.trim = { byId, maxLen, minId, approx: mark === "~", limit: 0 };
      out.trimArgPos = i;
    } else if (up === "LIMIT" && more > 0) {
      limit = intArg(argv[i + 1]!);
      if (limit < 0) fail("ERR The LIMIT argument must be >= 0.");
      limitGiven = true;
      i++;
    } else if (xadd && up === "NOMKSTREAM") {
      out.noMkStream = true;
    } else if (xadd) {
      out.id = parseStreamId(opt, 0, true, true) ?? fail(INVALID_ID);
      break;
    } else {
      fail(E.syntax);
    }
  }
  out.idPos = i;
  const trim = out.trim;
  if (limit !== 0 && trim === undefined) {
    fail("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
  }
  if (!xadd && trim === undefined) {
    fail("ERR syntax error, XTRIM must be called with a trimming strategy");
  }
  if (mustObey(client)) return out; // a rewritten threshold is exact: no limit applies
  if (limitGiven) {
    if (trim === undefined || !trim.approx) {
      fail("ERR syntax error, LIMIT cannot be used without the special ~ option");
    }
    trim.limit = limit;
  } else if (trim !== undefined && trim.approx) {
    // Redis caps the work of an approximate trim at 100 nodes unless told otherwise.
    let cap = 100 * client.server.config.num("stream-node-max-entries");
    if (cap <= 0) cap = 10000;
    trim.limit = Math.min(cap, 1000000);
  }
  return out;
}

/**
 * The arguments an approximate trim propagates with (Redis's streamRewriteApproxSpecifier and
 * streamRewriteTrimArgument): `=` and the resulting length, or the first ID left.
 */
export function rewriteTrim(argv: string[], args: AddTrimArgs, stream: StreamValue): void {
  argv[args.trimArgPos - 1] = "=";
  if (!args.trim!.byId) argv[args.trimArgPos] = String(stream.length);
  else {
    const first = stream.edgeId(false, false);
    argv[args.trimArgPos] = `${first.ms}-${first.seq}`;
  }
}
