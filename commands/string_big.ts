/**
 * String values kept as bytes: the helpers SET, GET, APPEND, SETRANGE, GETRANGE, SETBIT and
 * GETBIT use when a value or an argument is a {@linkcode BigString} (core/types/big_string.ts:
 * a value past the JavaScript string limit, or a big one stored from a request's bytes).
 * Ordinary strings never come here.
 *
 * A big value propagates (AOF, replicas) as a SET of its first bytes followed by APPENDs of the
 * rest, each part an ordinary string: the effects stay string vectors, every replica (a stock
 * Redis one included) receives valid commands, and a loaded AOF rebuilds the same bytes.
 *
 * @module
 */

import { bytesToStr } from "../core/bytes.ts";
import { CF, type Client } from "../core/client.ts";
import { N } from "../core/notify.ts";
import type { Value } from "../core/keyspace/database.ts";
import { BulkBytes, E, fail, type Reply } from "../core/resp/reply.ts";
import {
  BIG_ERROR,
  BigString,
  BYTES_MIN,
  MAX_STRING_LENGTH,
  PART_BYTES,
} from "../core/types/big_string.ts";

/**
 * The string at `key` for reading, big or not; undefined when absent; WRONGTYPE for other types.
 *
 * @param client the client (its selected database)
 * @param key the key
 * @returns the value
 */
export function readString(client: Client, key: string): string | BigString | undefined {
  return asString(client.db.get(key));
}

/**
 * The string at `key` for writing (no hit/miss count), big or not; WRONGTYPE for other types.
 *
 * @param client the client (its selected database)
 * @param key the key
 * @returns the value
 */
export function writeString(client: Client, key: string): string | BigString | undefined {
  return asString(client.db.lookupWrite(key));
}

function asString(v: Value | undefined): string | BigString | undefined {
  if (v === undefined || typeof v === "string" || v instanceof BigString) return v;
  return fail(E.wrongType);
}

/**
 * A string value as a reply. A big one is sent from its bytes; it is copied first when the reply
 * may outlive the command (EXEC and in-process clients collect replies while later commands
 * change values in place; a socket client's writer copies the bytes into its buffer at once).
 * An in-process client (a script's included) gets a string; a script the size error past the
 * string cap.
 *
 * @param client the client the reply goes to
 * @param v the value
 * @returns the reply
 */
export function valueReply(client: Client, v: string | BigString): Reply {
  return typeof v === "string" ? v : bytesReply(client, v.bytes, false);
}

/**
 * Bytes as a bulk string reply, sent from the bytes (copied first when not `owned` and the reply
 * may outlive the command, see {@linkcode valueReply}); a string when short, or for an
 * in-process client (a script's included) when it fits one.
 *
 * @param client the client the reply goes to
 * @param bytes the bytes
 * @param owned true when nothing else holds or changes the bytes
 * @returns the reply
 */
export function bytesReply(client: Client, bytes: Uint8Array, owned: boolean): Reply {
  const script = (client.flags & CF.script) !== 0;
  const local = script || client.transport === null;
  if (bytes.length < BYTES_MIN || (local && bytes.length <= MAX_STRING_LENGTH)) {
    return bytesToStr(bytes);
  }
  if (script) return fail(BIG_ERROR);
  const copy = !owned && (client.server.nested || local);
  return new BulkBytes(copy ? bytes.slice() : bytes);
}

/**
 * Bytes `[from, to)` of a big value as a reply: a string when short enough.
 *
 * @param client the client the reply goes to
 * @param v the value
 * @param from first byte
 * @param to end (exclusive)
 * @returns the reply
 */
export function rangeReply(client: Client, v: BigString, from: number, to: number): Reply {
  return bytesReply(client, v.bytes.subarray(from, to), false);
}

/**
 * Records a command with a big argument as effects of ordinary strings: `part(text, at)` makes
 * the command for the bytes at `at` (64 MB at most each). Nothing is built when no one listens
 * (no AOF, no replica), but an effect is still recorded, so the command's own argv (holding a
 * mark, not the bytes) never goes out.
 *
 * @param client the client running the command
 * @param bytes the big argument
 * @param part the command carrying one part
 */
export function replicateParts(
  client: Client,
  bytes: Uint8Array,
  part: (text: string, at: number) => string[],
): void {
  const server = client.server;
  const db = client.db.id;
  if (server.hooks.propagate.length === 0) {
    server.replicate(db, part("", 0));
    return;
  }
  for (let at = 0; at < bytes.length; at += PART_BYTES) {
    const end = Math.min(at + PART_BYTES, bytes.length);
    server.replicate(db, part(bytesToStr(bytes, at, end), at));
  }
}

/**
 * Records a big value's SET as the command's effect: SET of the first part (with `opts`, a TTL
 * as PXAT or KEEPTTL), then APPENDs.
 *
 * @param client the client running the command
 * @param key the key
 * @param v the value stored
 * @param opts options of the SET (`["PXAT", "..."]`, `["KEEPTTL"]` or none)
 */
export function replicateBigSet(client: Client, key: string, v: BigString, opts: string[]): void {
  replicateParts(
    client,
    v.bytes,
    (text, at) => at === 0 ? ["SET", key, text, ...opts] : ["APPEND", key, text],
  );
}

/**
 * The value of `cur` with `add` appended (APPEND past the string limit, or onto a big value).
 * A big value grows in place.
 *
 * @param cur the current value
 * @param add the bytes to append
 * @returns the new value
 */
export function appendBig(cur: string | BigString, add: string | BigString): BigString {
  const len = cur.length + add.length;
  const out = typeof cur === "string" ? BigString.fromString(cur, len) : cur;
  if (typeof add === "string") out.write(len - add.length, add);
  else out.writeBytes(len - add.length, add.bytes);
  return out;
}

/**
 * SETRANGE past the string limit or on a big value: `value` written at `offset` (zero-padded).
 *
 * @param cur the current value (undefined: a new key)
 * @param offset where to write
 * @param value the bytes
 * @returns the new value
 */
export function setRangeBig(
  cur: string | BigString | undefined,
  offset: number,
  value: string | BigString,
): BigString {
  const size = Math.max(cur?.length ?? 0, offset + value.length);
  const out = cur === undefined || typeof cur === "string"
    ? BigString.fromString(cur ?? "", size)
    : cur;
  if (typeof value === "string") out.write(offset, value);
  else out.writeBytes(offset, value.bytes);
  return out;
}

/**
 * SETBIT past the string limit or on a big value (the key is created or grown as needed).
 *
 * @param client the client (its selected database)
 * @param key the key
 * @param cur the current value
 * @param offset the bit offset
 * @param on the bit's new value
 * @returns the bit's old value
 */
export function setBitBig(
  client: Client,
  key: string,
  cur: string | BigString | undefined,
  offset: number,
  on: number,
): number {
  const byte = Math.floor(offset / 8);
  const shift = 7 - (offset & 7);
  let old = 0;
  if (typeof cur === "object") old = cur.byteAt(byte);
  else if (cur !== undefined && byte < cur.length) old = cur.charCodeAt(byte);
  const bit = (old >> shift) & 1;
  // Redis writes (and notifies) when the key is created or grown, or the bit flips.
  if (byte >= (cur?.length ?? 0) || bit !== on) {
    const next = setRangeBig(
      cur,
      byte,
      String.fromCharCode(on ? old | (1 << shift) : old & ~(1 << shift)),
    );
    const db = client.db;
    if (cur === undefined) db.set(key, next);
    else {
      db.replace(key, next);
      db.touch(key);
    }
    db.notify(N.string, "setbit", key);
    client.server.dirty++;
  }
  return bit;
}
