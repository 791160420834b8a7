/**
 * Loading an RDB image into a server, after Redis 7.0's rdbLoadRio: the `REDISxxxx` magic (RDB
 * versions 1 to 10), aux fields (logged like Redis, unknown ones ignored), module aux data
 * (skipped), function libraries, databases, per-key expiry and LRU/LFU opcodes, and the CRC64
 * footer, verified unless it is zero or `rdbchecksum` is off.
 *
 * A file is read in chunks: a record (an opcode, or a key and its value) that runs past the
 * bytes read so far is read again from its start once more bytes are in, so memory stays
 * bounded by the largest value, and an RDB preamble stops being read where it ends.
 *
 * Like Redis on a master, keys whose TTL has passed are counted and dropped (kept for an AOF
 * base and on a replica); a value without elements is skipped with a warning; a duplicate key,
 * a corrupt or truncated file fail with Redis's log lines.
 *
 * @module
 */

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { librariesOf, LibraryError } from "../../scripting/functions.ts";
import { bytesToStr } from "../bytes.ts";
import { crc64 } from "../crc64.ts";
import { lfuInit, lruClock } from "../keyspace/access.ts";
import type { Database, Value } from "../keyspace/database.ts";
import { RDB_READ_VERSION } from "../rdb/payload.ts";
import { trackIfFieldTtls } from "../types/hash_expiry.ts";
import { RdbEmptyValueError, readLimits, readValue } from "../rdb/read_value.ts";
import { RdbFormatError, RdbReader, RdbTruncatedError } from "../rdb/strings.ts";
import type { Server } from "../server.ts";
import { RDB_OPCODE } from "./rdb_save.ts";

/** How to load. */
export interface RdbLoadOptions {
  /** Keep keys whose TTL has passed (an AOF base: the log that follows may still use them). */
  keepExpired?: boolean;
  /** Replace keys and libraries already present instead of failing (DEBUG RELOAD). */
  allowDuplicates?: boolean;
}

/** What a load did. */
export interface RdbLoadResult {
  keysLoaded: number;
  keysExpired: number;
  emptyKeysSkipped: number;
  /** Bytes the image took: an old-style AOF continues after them. */
  bytes: number;
  /** The RDB format version of the image. */
  version: number;
  /** The aux fields (`redis-ver`, `repl-id`, `repl-offset`, ...). */
  aux: Map<string, string>;
}

/** Loading failed; the reason was logged in Redis's words. */
export class RdbLoadError extends Error {}

/** Bytes read from a file at a time (a record larger than this grows the buffer). */
const CHUNK = 4 << 20;
const LRU_CLOCK_MAX = (1 << 24) - 1;
/** Progress lines at most this often (ms). */
const PROGRESS_MS = 2000;

/** The bytes of an image, from memory or read from a file in chunks. */
class Input {
  r: RdbReader;
  /** Offset (in the whole input) of buf[0]. */
  base = 0;
  /** CRC64 of the input before buf[crcFrom]. */
  crc = 0n;
  crcFrom = 0;

  constructor(
    private buf: Uint8Array,
    private len: number,
    private readonly fd: number | undefined,
    readonly size: number,
  ) {
    this.r = new RdbReader(buf, len);
  }

  /** Offset in the input of the read position. */
  get offset(): number {
    return this.base + this.r.pos;
  }

  /** Adds buf[crcFrom, to) to the checksum. */
  sum(to: number): void {
    this.crc = crc64(this.crc, this.buf, this.crcFrom, to);
    this.crcFrom = to;
  }

  /**
   * Keeps the bytes from `mark` (the start of the record being read) and reads more after them.
   *
   * @returns false at the end of the input
   */
  refill(mark: number): boolean {
    if (this.fd === undefined) return false;
    this.sum(mark);
    const keep = this.len - mark;
    let buf = this.buf;
    if (keep * 2 > buf.length) {
      buf = new Uint8Array(buf.length * 2);
      buf.set(this.buf.subarray(mark, this.len));
    } else {
      buf.copyWithin(0, mark, this.len);
    }
    this.base += mark;
    this.crcFrom = 0;
    const n = readSync(this.fd, buf, keep, buf.length - keep, this.base + keep);
    this.buf = buf;
    this.len = keep + n;
    this.r = new RdbReader(buf, this.len);
    return n > 0;
  }
}

/**
 * Loads the RDB image at the start of the file at `path` into `server`.
 *
 * @param server the server to load into (its databases and function libraries)
 * @param path the file
 * @param opts see {@linkcode RdbLoadOptions}
 * @returns what was loaded
 * @throws {RdbLoadError} when the file is not a valid RDB image (the reason is logged)
 * @throws {Error} the file system's error when the file cannot be opened (ENOENT...)
 * @example
 * ```ts
 * const { keysLoaded } = loadRdbFile(server, "/data/dump.rdb");
 * ```
 */
export function loadRdbFile(
  server: Server,
  path: string,
  opts: RdbLoadOptions = {},
): RdbLoadResult {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const buf = new Uint8Array(Math.min(CHUNK, Math.max(size, 16)));
    const n = readSync(fd, buf, 0, buf.length, 0);
    return new Loader(server, new Input(buf, n, fd, size), opts).run();
  } finally {
    closeSync(fd);
  }
}

/**
 * Loads an RDB image held in memory (a replica's full sync) into `server`.
 *
 * @param server the server to load into
 * @param bytes the image (bytes after it are ignored)
 * @param opts see {@linkcode RdbLoadOptions}
 * @returns what was loaded
 * @throws {RdbLoadError} when the bytes are not a valid RDB image (the reason is logged)
 */
export function loadRdbBytes(
  server: Server,
  bytes: Uint8Array,
  opts: RdbLoadOptions = {},
): RdbLoadResult {
  return new Loader(server, new Input(bytes, bytes.length, undefined, bytes.length), opts).run();
}

/** One load: the input, where keys go, and the attributes the opcodes set for the next key. */
class Loader {
  readonly result: RdbLoadResult = {
    keysLoaded: 0,
    keysExpired: 0,
    emptyKeysSkipped: 0,
    bytes: 0,
    version: 0,
    aux: new Map(),
  };
  private db: Database;
  /** Expiry, LRU idle seconds and LFU counter of the next key (-1: none). */
  private expire = -1;
  private idle = -1;
  private freq = -1;
  private readonly log: Server["log"];
  private readonly lfu: boolean;
  private readonly keepExpired: boolean;
  private readonly allowDuplicates: boolean;

  constructor(
    private readonly server: Server,
    private readonly input: Input,
    opts: RdbLoadOptions,
  ) {
    this.db = server.dbs[0]!;
    this.log = server.log;
    this.lfu = server.config.str("maxmemory-policy").endsWith("lfu");
    this.keepExpired = opts.keepExpired === true || server.isReplica();
    this.allowDuplicates = opts.allowDuplicates === true;
  }

  /** Logs Redis's lines for a failed load and returns the error to throw. */
  fail(reason: string, truncated = false): RdbLoadError {
    if (truncated) {
      this.log("warning", "Short read or OOM loading DB. Unrecoverable error, aborting now.");
    }
    this.log("warning", `Internal error in RDB reading offset ${this.input.offset} -> ${reason}`);
    this.log("warning", "Terminating server after rdb file reading failure.");
    return new RdbLoadError(reason);
  }

  run(): RdbLoadResult {
    const { input, result, log } = this;
    const magic = this.record((r) => bytesToStr(r.bytes(9)));
    if (!magic.startsWith("REDIS")) {
      log("warning", "Wrong signature trying to load DB from file");
      throw new RdbLoadError("Wrong signature");
    }
    const version = /^\d{4}$/.test(magic.slice(5)) ? Number(magic.slice(5)) : 0;
    if (version < 1 || version > RDB_READ_VERSION) {
      log("warning", `Can't handle RDB format version ${version}`);
      throw new RdbLoadError(`Unsupported RDB version ${version}`);
    }
    result.version = version;
    const limits = readLimits(this.server.config);
    const now = this.server.clock.now();
    let lastProgress = performance.now();
    for (;;) {
      const r = input.r;
      const mark = r.pos;
      try {
        const type = r.byte();
        if (type === RDB_OPCODE.eof) break;
        if (type >= RDB_OPCODE.function2) {
          this.opcode(r, type);
          continue;
        }
        const key = r.string();
        let value: Value | undefined;
        try {
          value = readValue(r, type, limits);
        } catch (e) {
          if (!(e instanceof RdbEmptyValueError)) throw e;
        }
        if (value === undefined) {
          if (result.emptyKeysSkipped++ < 10) {
            log("warning", `rdbLoadObject skipping empty key: ${key}`);
          }
        } else if (!this.keepExpired && this.expire !== -1 && this.expire < now) {
          result.keysExpired++;
        } else {
          this.add(key, value);
          if ((result.keysLoaded & 1023) === 0 && performance.now() - lastProgress >= PROGRESS_MS) {
            lastProgress = performance.now();
            const pct = input.size > 0 ? ((input.offset / input.size) * 100).toFixed(1) : "0";
            log("notice", `Loading RDB: ${pct}% (${result.keysLoaded} keys loaded)`);
          }
        }
        this.expire = this.idle = this.freq = -1;
      } catch (e) {
        if (e instanceof RdbTruncatedError && input.refill(mark)) continue;
        if (e instanceof RdbTruncatedError) {
          throw this.fail("Unexpected EOF reading RDB file", true);
        }
        if (e instanceof RdbFormatError) throw this.fail(e.message);
        throw e;
      }
    }
    if (version >= 5) this.checksum();
    result.bytes = input.offset;
    const done =
      `Done loading RDB, keys loaded: ${result.keysLoaded}, keys expired: ${result.keysExpired}`;
    if (result.emptyKeysSkipped > 0) {
      log("warning", `${done}, empty keys skipped: ${result.emptyKeysSkipped}.`);
    } else log("notice", `${done}.`);
    return result;
  }

  /** Reads a record that sets no state, refilling the input as needed. */
  private record<T>(read: (r: RdbReader) => T): T {
    for (;;) {
      const mark = this.input.r.pos;
      try {
        return read(this.input.r);
      } catch (e) {
        if (!(e instanceof RdbTruncatedError)) throw e;
        if (!this.input.refill(mark)) throw this.fail("Unexpected EOF reading RDB file", true);
      }
    }
  }

  /** An opcode record (everything but a key and its value). */
  private opcode(r: RdbReader, type: number): void {
    switch (type) {
      case RDB_OPCODE.expireTimeMs: {
        const b = r.bytes(8);
        const lo = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
        const hi = b[4]! | (b[5]! << 8) | (b[6]! << 16) | (b[7]! << 24);
        this.expire = hi * 0x100000000 + lo;
        return;
      }
      case RDB_OPCODE.expireTime: {
        const b = r.bytes(4);
        this.expire = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) * 1000;
        return;
      }
      case RDB_OPCODE.freq:
        this.freq = r.byte();
        return;
      case RDB_OPCODE.idle:
        this.idle = r.count();
        return;
      case RDB_OPCODE.selectDb: {
        const id = r.count();
        const dbs = this.server.dbs;
        if (id >= dbs.length) {
          this.log(
            "warning",
            `FATAL: Data file was created with a Redis server configured to handle more than ${dbs.length} databases. Exiting\n`,
          );
          throw new RdbLoadError("Too many databases");
        }
        this.db = dbs[id]!;
        return;
      }
      case RDB_OPCODE.resizeDb:
        r.count();
        r.count();
        return;
      case RDB_OPCODE.aux:
        this.aux(r.string(), r.string());
        return;
      case RDB_OPCODE.moduleAux:
        skipModuleAux(r);
        this.log(
          "warning",
          "The RDB file contains AUX module data and no module is loaded here: skipped",
        );
        return;
      case RDB_OPCODE.functionPreGa:
        this.log("warning", "Failed loading library, Pre-release function format not supported.");
        throw this.fail("Pre-release function format not supported.");
      case RDB_OPCODE.function2: {
        const code = r.string();
        try {
          librariesOf(this.server).load(code, this.allowDuplicates);
        } catch (e) {
          if (!(e instanceof LibraryError)) throw e;
          this.log("warning", `Failed loading library, ${e.message}`);
          throw this.fail(`Failed loading library, ${e.message}`);
        }
        return;
      }
      default:
        throw new RdbFormatError(`Unknown RDB encoding type ${type}`);
    }
  }

  /** An aux field: logged, kept in the result, or ignored, as Redis does. */
  private aux(key: string, value: string): void {
    const log = this.log;
    this.result.aux.set(key, value);
    const name = key.toLowerCase();
    if (key.startsWith("%")) log("notice", `RDB '${key}': ${value}`);
    else if (name === "redis-ver") log("notice", `Loading RDB produced by version ${value}`);
    else if (name === "ctime") {
      const now = Math.floor(this.server.clock.now() / 1000);
      log("notice", `RDB age ${Math.max(0, now - (parseInt(value, 10) || 0))} seconds`);
    } else if (name === "used-mem") {
      const mb = (parseInt(value, 10) || 0) / (1024 * 1024);
      log("notice", `RDB memory usage when created ${mb.toFixed(2)} Mb`);
    } else if (name === "aof-preamble") {
      if (parseInt(value, 10)) log("notice", "RDB has an AOF tail");
    } else if (name === "aof-base") {
      if (parseInt(value, 10)) log("notice", "RDB is base AOF");
    } else if (!KNOWN_AUX.has(name)) {
      log("debug", `Unrecognized RDB AUX field: '${key}'`);
    }
  }

  /** Adds a loaded key with its TTL and access stamp (Redis's objectSetLRUOrLFU). */
  private add(key: string, value: Value): void {
    const server = this.server;
    const db = this.db;
    let stamp = server.newStamp;
    if (this.lfu) {
      if (this.freq >= 0) stamp = ((lfuInit(server.time) >>> 8) << 8) | this.freq;
    } else if (this.idle >= 0) {
      stamp = lruClock(server.time) - this.idle;
      if (stamp < 0) stamp += LRU_CLOCK_MAX;
    }
    if (!db.dict.set(key, value, stamp)) {
      if (!this.allowDuplicates) {
        this.log("warning", `RDB has duplicated key '${key}' in DB ${db.id}`);
        throw this.fail("Duplicated key found in RDB file");
      }
      db.expires.delete(key);
    }
    if (this.expire !== -1) db.expires.set(key, this.expire);
    trackIfFieldTtls(server, db, key, value);
    this.result.keysLoaded++;
  }

  /** Reads and checks the CRC64 footer. */
  private checksum(): void {
    const input = this.input;
    input.sum(input.r.pos);
    const expected = input.crc;
    const b = this.record((r) => r.bytes(8));
    if (!this.server.config.bool("rdbchecksum")) return;
    let got = 0n;
    for (let i = 7; i >= 0; i--) got = (got << 8n) | BigInt(b[i]!);
    if (got === 0n) {
      this.log("warning", "RDB file was saved with checksum disabled: no check performed.");
    } else if (got !== expected) {
      this.log(
        "warning",
        `Wrong RDB checksum expected: (${expected.toString(16)}) but got (${
          got.toString(16)
        }). Aborting now.`,
      );
      throw this.fail("RDB CRC error");
    }
  }
}

/** Aux fields Redis reads without logging them. */
const KNOWN_AUX = new Set(["repl-stream-db", "repl-id", "repl-offset", "lua", "redis-bits"]);

/** Module aux data: a module id, `when`, then typed items up to the module EOF marker. */
function skipModuleAux(r: RdbReader): void {
  r.count();
  if (r.count() !== 2) throw new RdbFormatError("bad when_opcode");
  r.count();
  for (let op = r.count(); op !== 0; op = r.count()) {
    if (op === 1 || op === 2) r.count();
    else if (op === 3) r.bytes(4);
    else if (op === 4) r.bytes(8);
    else if (op === 5) r.string();
    else throw new RdbFormatError(`Unknown module opcode ${op}`);
  }
}
