/**
 * The body of an AOF base file, written from a {@linkcode Snapshot} in slices so the server keeps
 * serving while a rewrite runs. The command form follows Redis's rewriteAppendOnlyFileRio:
 * `FUNCTION LOAD` for each library, then per non-empty database a `SELECT` and, per key, `SET`,
 * `RPUSH`, `SADD`, `ZADD` or `HMSET` with at most 64 items per command, then `PEXPIREAT` for a
 * key with a TTL. An RDB base (`aof-use-rdb-preamble yes`) plugs in through
 * {@linkcode RdbBaseCodec}.
 *
 * @module
 */

import { formatDouble } from "../bytes.ts";
import type { Value } from "../keyspace/database.ts";
import type { Snapshot } from "../keyspace/snapshot.ts";
import type { ReplyWriter } from "../resp/writer.ts";
import type { Server } from "../server.ts";
import { BigString, PART_BYTES } from "../types/big_string.ts";
import { HashValue } from "../types/hash.ts";
import { ListValue } from "../types/list.ts";
import { SetValue } from "../types/set.ts";
import { streamToImage, StreamValue } from "../types/stream.ts";
import { ZSet } from "../types/zset.ts";
import { streamCommands } from "./aof_stream.ts";

/** Writes a base file's body a slice at a time. */
export interface BaseWriter {
  /**
   * Appends the next slice of the body to `out`.
   *
   * @returns true once the whole body has been written
   */
  step(out: ReplyWriter): boolean;
}

/**
 * The RDB side of the AOF, supplied by the RDB file module: with it, bases are written as RDB
 * images (`<appendfilename>.<n>.base.rdb`) when `aof-use-rdb-preamble` is yes, and RDB bases or
 * old-style RDB preambles can be loaded.
 */
export interface RdbBaseCodec {
  /**
   * Loads the RDB image at the start of the file at `path` into the server. Keys already
   * expired must be loaded too (the AOF that follows may still touch them; Redis's
   * RDBFLAGS_AOF_PREAMBLE): the server's time is 0 meanwhile.
   *
   * @returns the number of bytes the image took (an old-style AOF continues after it)
   */
  load(server: Server, path: string): number;
  /** A writer of `snapshot` as an RDB image with the `aof-base` aux field set. */
  writer(server: Server, snapshot: Snapshot): BaseWriter;
}

/** Items per RPUSH/SADD/ZADD/HMSET, Redis's AOF_REWRITE_ITEMS_PER_CMD. */
const ITEMS_PER_CMD = 64;
/** A slice ends after this many bytes or milliseconds, whichever comes first. */
const SLICE_BYTES = 1 << 20;
const SLICE_MS = 4;

/** The dataset of a snapshot as the commands that rebuild it. */
export class CommandBaseWriter implements BaseWriter {
  private d = 0;
  private i = 0;
  private started = false;

  /**
   * @param snapshot the point-in-time view to write
   * @param functions the code of each function library, loaded first
   * @param timestamp unix seconds for a leading `#TS:` annotation (aof-timestamp-enabled)
   */
  constructor(
    private readonly snapshot: Snapshot,
    private readonly functions: string[],
    private readonly timestamp: number | undefined,
  ) {}

  /** Appends the next keys; true once every database has been written. */
  step(out: ReplyWriter): boolean {
    if (!this.started) {
      this.started = true;
      if (this.timestamp !== undefined) out.rawStr(`#TS:${this.timestamp}\r\n`);
      for (const code of this.functions) command(out, ["FUNCTION", "LOAD", code]);
    }
    const limit = out.length + SLICE_BYTES;
    const deadline = performance.now() + SLICE_MS;
    const dbs = this.snapshot.dbs;
    let n = 0;
    while (this.d < dbs.length) {
      const db = dbs[this.d]!;
      if (this.i === 0 && db.keys.length !== 0) command(out, ["SELECT", String(db.id)]);
      while (this.i < db.keys.length) {
        const key = db.keys[this.i]!;
        writeKey(out, key, db.values[this.i]!);
        const at = db.expires.get(key);
        if (at !== undefined) command(out, ["PEXPIREAT", key, String(at)]);
        this.snapshot.written(this.d, this.i);
        this.i++;
        if (out.length >= limit || ((++n & 255) === 0 && performance.now() >= deadline)) {
          return false;
        }
      }
      this.d++;
      this.i = 0;
    }
    return true;
  }
}

/** One command in RESP multibulk form. */
function command(out: ReplyWriter, argv: string[]): void {
  out.arrayHeader(argv.length);
  for (const a of argv) out.bulk(a);
}

/** The commands rebuilding one key's value. */
function writeKey(out: ReplyWriter, key: string, value: Value): void {
  if (typeof value === "string") {
    command(out, ["SET", key, value]);
  } else if (value instanceof BigString) {
    // Longer than a string can be: a SET and APPENDs of parts, written from the bytes.
    const b = value.bytes;
    for (let at = 0; at < b.length; at += PART_BYTES) {
      out.arrayHeader(3);
      out.bulk(at === 0 ? "SET" : "APPEND");
      out.bulk(key);
      out.bulkBytes(b.subarray(at, Math.min(at + PART_BYTES, b.length)));
    }
  } else if (value instanceof ListValue) {
    for (let s = 0; s < value.length; s += ITEMS_PER_CMD) {
      const items = value.range(s, Math.min(value.length, s + ITEMS_PER_CMD) - 1);
      command(out, ["RPUSH", key, ...items]);
    }
  } else if (value instanceof SetValue) {
    for (let s = 0; s < value.size; s += ITEMS_PER_CMD) {
      const argv = ["SADD", key];
      for (let j = s; j < Math.min(value.size, s + ITEMS_PER_CMD); j++) argv.push(value.at(j));
      command(out, argv);
    }
  } else if (value instanceof ZSet) {
    let argv = ["ZADD", key];
    for (const c = value.list.first(); c.valid; c.next()) {
      argv.push(formatDouble(c.score), c.member);
      if (argv.length === 2 + 2 * ITEMS_PER_CMD) {
        command(out, argv);
        argv = ["ZADD", key];
      }
    }
    if (argv.length > 2) command(out, argv);
  } else if (value instanceof HashValue && value.ttls !== undefined && value.ttls.size !== 0) {
    // As Redis 7.4: a hash with field TTLs goes field by field, each TTL'd one followed by its
    // HPEXPIREAT.
    const ttls = value.ttls;
    value.forEach((f, v) => {
      command(out, ["HMSET", key, f, v]);
      const at = ttls.get(f);
      if (at !== undefined) command(out, ["HPEXPIREAT", key, String(at), "FIELDS", "1", f]);
    });
  } else if (value instanceof HashValue) {
    let argv = ["HMSET", key];
    value.forEach((f, v) => {
      argv.push(f, v);
      if (argv.length === 2 + 2 * ITEMS_PER_CMD) {
        command(out, argv);
        argv = ["HMSET", key];
      }
    });
    if (argv.length > 2) command(out, argv);
  } else if (value instanceof StreamValue) {
    for (const argv of streamCommands(key, streamToImage(value))) command(out, argv);
  } else {
    throw new TypeError(`Cannot rewrite a value of type ${value.type} into the AOF`);
  }
}
