/**
 * The RDB file image, as Redis 7.0's rdbSaveRio writes it (RDB version 10):
 *
 * ```
 * "REDIS0010"
 * AUX redis-ver, redis-bits, ctime, used-mem, [repl-stream-db, repl-id, repl-offset], aof-base
 * FUNCTION2 <library code>                       one per function library
 * per non-empty database:
 *   SELECTDB <id>  RESIZEDB <keys> <keys with a TTL>
 *   per key: [EXPIRETIME_MS <ms>] [IDLE <s> | FREQ <n>] <type> <key> <value>
 * EOF  <CRC64 of everything before, little-endian; 0 with rdbchecksum no>
 * ```
 *
 * {@linkcode RdbImageWriter} produces it a slice at a time, handing the bytes to a sink, so a
 * background save can interleave with commands; the same writer serves SAVE (one long slice)
 * and the RDB base of an AOF rewrite.
 *
 * @module
 */

import { crc64 } from "../crc64.ts";
import type { Database, Value } from "../keyspace/database.ts";
import type { Snapshot } from "../keyspace/snapshot.ts";
import { RDB_VERSION } from "../rdb/payload.ts";
import { RdbWriter } from "../rdb/strings.ts";
import { valueType, type WriteOptions, writeValue } from "../rdb/write_value.ts";

/** The opcodes of an RDB file (Redis's RDB_OPCODE_*): everything that is not a value type. */
export const RDB_OPCODE = {
  function2: 245,
  functionPreGa: 246,
  moduleAux: 247,
  idle: 248,
  freq: 249,
  aux: 250,
  resizeDb: 251,
  expireTimeMs: 252,
  expireTime: 253,
  selectDb: 254,
  eof: 255,
} as const;

/** One database as the writer walks it: entries by dense position. */
export interface RdbDbSource {
  readonly id: number;
  /** Number of entries. */
  readonly size: number;
  /** Number of entries with a TTL (RESIZEDB's hint). */
  readonly expiresSize: number;
  keyAt(i: number): string;
  valueAt(i: number): Value;
  /** The absolute expiry (ms) of `key`, or undefined. */
  expireOf(key: string): number | undefined;
}

/** What an image carries besides the data, and how values are encoded. */
export interface RdbImageOptions extends WriteOptions {
  /** `rdbchecksum`: a CRC64 footer (else eight zero bytes). */
  checksum: boolean;
  /** The `redis-ver` aux field: the Redis version the server reports. */
  redisVer: string;
  /** The `aof-base` aux field: the image is the base of an AOF. */
  aofBase: boolean;
  /** Unix seconds for the `ctime` aux field. */
  ctime: number;
  /** Bytes for the `used-mem` aux field. */
  usedMem: number;
  /** The code of each function library. */
  functions: string[];
  /** Replication aux fields (`repl-stream-db`, `repl-id`, `repl-offset`), when relevant. */
  repl?: { streamDb: number; replId: string; offset: number };
  /** With an LRU policy: the idle seconds of a key (IDLE opcode). */
  idle?: (db: number, key: string) => number;
  /** With an LFU policy: the counter of a key (FREQ opcode). */
  freq?: (db: number, key: string) => number;
  /** Called after each entry is written (a {@linkcode Snapshot} stops guarding it). */
  written?: (db: number, i: number) => void;
}

/** Receives the image's bytes; the array is only valid during the call. */
export type RdbSink = (bytes: Uint8Array) => void;

/** Bytes buffered before they go to the sink. */
const FLUSH_BYTES = 1 << 20;
/** Keys written between two looks at the clock. */
const CLOCK_EVERY = 128;
const MAGIC = new Uint8Array(
  [...`REDIS${String(RDB_VERSION).padStart(4, "0")}`].map((c) => c.charCodeAt(0)),
);

/**
 * Writes an RDB image of some databases, a slice at a time.
 *
 * @example
 * ```ts
 * const w = new RdbImageWriter(databaseSources(server.dbs), options);
 * const chunks: Uint8Array[] = [];
 * w.step((b) => chunks.push(b.slice())); // true: done in one unlimited slice
 * ```
 */
export class RdbImageWriter {
  private readonly w = new RdbWriter();
  private crc = 0n;
  private started = false;
  private done = false;
  private d = 0;
  private i = -1;
  /** Keys written so far. */
  keys = 0;
  /** Bytes handed to the sink so far. */
  bytes = 0;
  /** Keys left out because their type has no RDB form (plugin types). */
  skipped = 0;

  /**
   * @param dbs the databases to write (see {@linkcode databaseSources}, {@linkcode snapshotSources})
   * @param opts the aux fields, functions and value encoding options
   */
  constructor(private readonly dbs: RdbDbSource[], private readonly opts: RdbImageOptions) {}

  /** Keys in the databases to write (the total to report progress against). */
  get total(): number {
    let n = 0;
    for (const db of this.dbs) n += db.size;
    return n;
  }

  /**
   * Writes the next part of the image to `sink`.
   *
   * @param sink where the bytes go
   * @param deadline a `performance.now()` time after which the slice ends (default: none)
   * @returns true once the whole image, checksum included, went to the sink
   */
  step(sink: RdbSink, deadline = Infinity): boolean {
    if (this.done) return true;
    if (!this.started) {
      this.started = true;
      this.header();
    }
    const w = this.w;
    const opts = this.opts;
    const { compress, idle, freq, written } = opts;
    let budget = CLOCK_EVERY;
    for (; this.d < this.dbs.length; this.d++, this.i = -1) {
      const db = this.dbs[this.d]!;
      if (db.size === 0) continue;
      if (this.i < 0) {
        w.byte(RDB_OPCODE.selectDb);
        w.length(db.id);
        w.byte(RDB_OPCODE.resizeDb);
        w.length(db.size);
        w.length(db.expiresSize);
        this.i = 0;
      }
      const withTtl = db.expiresSize !== 0;
      for (; this.i < db.size; this.i++) {
        const key = db.keyAt(this.i);
        const value = db.valueAt(this.i);
        let type: number;
        try {
          type = valueType(value);
        } catch {
          this.skipped++;
          written?.(this.d, this.i);
          continue;
        }
        if (withTtl) {
          const at = db.expireOf(key);
          if (at !== undefined) this.expireMs(at);
        }
        if (idle !== undefined) {
          w.byte(RDB_OPCODE.idle);
          w.length(idle(db.id, key));
        } else if (freq !== undefined) {
          w.byte(RDB_OPCODE.freq);
          w.byte(freq(db.id, key));
        }
        w.byte(type);
        w.encodedString(key, compress);
        writeValue(w, value, opts);
        written?.(this.d, this.i);
        this.keys++;
        if (w.pos >= FLUSH_BYTES) this.flush(sink);
        if (--budget === 0) {
          budget = CLOCK_EVERY;
          if (performance.now() >= deadline) {
            this.i++;
            this.flush(sink);
            return false;
          }
        }
      }
    }
    w.byte(RDB_OPCODE.eof);
    this.flush(sink);
    const crc = opts.checksum ? this.crc : 0n;
    for (let k = 0; k < 8; k++) w.byte(Number((crc >> BigInt(8 * k)) & 0xffn));
    this.done = true;
    this.flush(sink);
    return true;
  }

  /** The magic, the aux fields and the function libraries. */
  private header(): void {
    const w = this.w;
    const o = this.opts;
    w.bytes(MAGIC);
    this.aux("redis-ver", o.redisVer);
    this.aux("redis-bits", "64");
    this.aux("ctime", String(o.ctime));
    this.aux("used-mem", String(o.usedMem));
    if (o.repl !== undefined) {
      this.aux("repl-stream-db", String(o.repl.streamDb));
      this.aux("repl-id", o.repl.replId);
      this.aux("repl-offset", String(o.repl.offset));
    }
    this.aux("aof-base", o.aofBase ? "1" : "0");
    for (const code of o.functions) {
      w.byte(RDB_OPCODE.function2);
      w.encodedString(code, o.compress);
    }
  }

  private aux(key: string, value: string): void {
    this.w.byte(RDB_OPCODE.aux);
    this.w.encodedString(key, this.opts.compress);
    this.w.encodedString(value, this.opts.compress);
  }

  /** EXPIRETIME_MS and the time as a little-endian 64-bit integer. */
  private expireMs(at: number): void {
    const w = this.w;
    w.byte(RDB_OPCODE.expireTimeMs);
    let lo = at % 0x100000000;
    let hi = Math.floor(at / 0x100000000);
    if (lo < 0) lo += 0x100000000;
    for (let k = 0; k < 4; k++, lo = Math.floor(lo / 256)) w.byte(lo & 0xff);
    for (let k = 0; k < 4; k++, hi >>= 8) w.byte(hi & 0xff);
  }

  /** Hands the buffered bytes to the sink, adding them to the checksum. */
  private flush(sink: RdbSink): void {
    const w = this.w;
    if (w.pos === 0) return;
    const bytes = w.view();
    if (this.opts.checksum && !this.done) this.crc = crc64(this.crc, bytes);
    this.bytes += bytes.length;
    sink(bytes);
    w.reset();
  }
}

/**
 * The live databases as writer sources (a synchronous SAVE: nothing changes meanwhile).
 *
 * @param dbs the databases
 * @returns one source per database
 */
export function databaseSources(dbs: Database[]): RdbDbSource[] {
  return dbs.map((db) => ({
    id: db.id,
    size: db.dict.size,
    expiresSize: db.expires.size,
    keyAt: (i) => db.dict.keyAt(i),
    valueAt: (i) => db.dict.valueAt(i),
    expireOf: (key) => db.expires.get(key),
  }));
}

/**
 * A snapshot's databases as writer sources (a background save).
 *
 * @param snapshot the point-in-time view
 * @returns one source per database
 */
export function snapshotSources(snapshot: Snapshot): RdbDbSource[] {
  return snapshot.dbs.map((db) => ({
    id: db.id,
    size: db.keys.length,
    expiresSize: db.expires.size,
    keyAt: (i) => db.keys[i]!,
    valueAt: (i) => db.values[i]!,
    expireOf: (key) => db.expires.get(key),
  }));
}
