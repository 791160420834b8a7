/**
 * Replaying AOF files at startup, after aof.c's loadSingleAppendOnlyFile: commands in RESP
 * multibulk form run through an in-process client that gets no replies, `#` annotation lines are
 * skipped, MULTI ... EXEC is applied only once its EXEC is read, and a file that ends in the
 * middle of a command (or of a transaction) is, with `aof-load-truncated yes`, cut back to its
 * last complete command with Redis's warning. While replaying, time stands still at 0 so that no
 * key expires (Redis does not expire keys while loading): only the DELs in the file remove keys.
 *
 * @module
 */

import { closeSync, fstatSync, openSync, readSync, truncateSync } from "node:fs";
import { bytesToStr } from "../bytes.ts";
import { Client } from "../client.ts";
import type { Command } from "../command.ts";
import type { Server } from "../server.ts";
import {
  BIG_ARG_MARK,
  BIG_ERROR,
  bigArgPositions,
  BigString,
  MAX_STRING_LENGTH,
  setBigArg,
} from "../types/big_string.ts";

/** How loading one file ended (errors are thrown as {@linkcode AofLoadError}). */
export type LoadStatus = "ok" | "truncated" | "empty";

/** Loading failed: the server must not start. The reason was logged in Redis's words. */
export class AofLoadError extends Error {}

/** What loading a file needs besides the server. */
export interface LoadOptions {
  /** `aof-load-truncated`: cut a truncated tail instead of refusing to start. */
  loadTruncated: boolean;
  /** Loads an RDB image (an RDB base or an old-style preamble); returns the bytes it took. */
  loadRdb: ((path: string) => number) | undefined;
  /** True for a legacy single-file AOF (the preamble wording differs). */
  oldStyle: boolean;
}

/** Bytes read from the file at a time. */
const CHUNK = 1 << 20;

/** A buffered reader with C stdio's fgets/fread semantics. */
class FileReader {
  private buf = new Uint8Array(CHUNK);
  private start = 0;
  private end = 0;
  /** File offset of buf[0]. */
  private base: number;
  private eof = false;

  constructor(private readonly fd: number, offset: number) {
    this.base = offset;
  }

  /** File offset of the next unread byte. */
  get offset(): number {
    return this.base + this.start;
  }

  /** Reads more bytes, keeping the unread ones; false at end of file. */
  private fill(need: number): boolean {
    if (this.eof) return false;
    if (this.start > 0) {
      this.buf.copyWithin(0, this.start, this.end);
      this.base += this.start;
      this.end -= this.start;
      this.start = 0;
    }
    if (this.buf.length - this.end < need) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.end + need));
      next.set(this.buf.subarray(0, this.end));
      this.buf = next;
    }
    const n = readSync(
      this.fd,
      this.buf,
      this.end,
      this.buf.length - this.end,
      this.base + this.end,
    );
    if (n === 0) this.eof = true;
    this.end += n;
    return n > 0;
  }

  /** The next line with its `\n`, the partial last line at end of file, or undefined at EOF. */
  line(): string | undefined {
    let from = this.start;
    for (;;) {
      // Bytes past `end` are stale: a newline found there does not count.
      const i = this.buf.indexOf(10, from);
      if (i >= 0 && i < this.end) {
        const s = bytesToStr(this.buf, this.start, i + 1);
        this.start = i + 1;
        return s;
      }
      from = this.end;
      const rel = from - this.start;
      if (!this.fill(CHUNK)) break;
      from = this.start + rel;
    }
    if (this.start === this.end) return undefined;
    const s = bytesToStr(this.buf, this.start, this.end);
    this.start = this.end;
    return s;
  }

  /** Exactly `n` bytes as a binary string, or undefined when the file ends first. */
  bytes(n: number): string | undefined {
    if (!this.have(n)) return undefined;
    const s = bytesToStr(this.buf, this.start, this.start + n);
    this.start += n;
    return s;
  }

  /** Exactly `n` bytes as a copy, or undefined when the file ends first (a big argument). */
  copy(n: number): Uint8Array | undefined {
    if (!this.have(n)) return undefined;
    const b = this.buf.slice(this.start, this.start + n);
    this.start += n;
    return b;
  }

  /** Skips `n` bytes (an argument's CRLF); false when the file ends first. */
  skip(n: number): boolean {
    if (!this.have(n)) return false;
    this.start += n;
    return true;
  }

  private have(n: number): boolean {
    while (this.end - this.start < n) {
      if (!this.fill(n - (this.end - this.start))) return false;
    }
    return true;
  }
}

/** C's atoi on the text after a `*` or `$`: leading blanks, a sign, digits; 0 without any. */
function atoi(s: string): number {
  let i = 1;
  while (i < s.length && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++;
  const neg = s[i] === "-";
  if (neg || s[i] === "+") i++;
  let n = 0;
  for (let c = s.charCodeAt(i); c >= 48 && c <= 57; c = s.charCodeAt(++i)) n = n * 10 + c - 48;
  return neg ? -n : n;
}

/** Runs commands as Redis's fake AOF client: no gates, no replies, MULTI queued until EXEC. */
class Replayer {
  private readonly client: Client;
  private queue: Array<[Command, string[]]> | undefined;

  constructor(private readonly server: Server, private readonly file: string) {
    this.client = new Client(server, null);
    this.client.authenticated = true;
  }

  get inMulti(): boolean {
    return this.queue !== undefined;
  }

  /** Runs (or queues) one command; throws AofLoadError for a command this server lacks. */
  run(argv: string[]): void {
    const name = argv[0]!.toLowerCase();
    if (name === "multi" && this.queue === undefined) {
      this.queue = [];
      return;
    }
    if (name === "exec" && this.queue !== undefined) {
      const queued = this.queue;
      this.queue = undefined;
      for (const [cmd, args] of queued) this.server.execute(this.client, cmd, args);
      return;
    }
    const cmd = this.server.resolve(argv);
    if (typeof cmd === "string") {
      if (this.server.command(argv[0]!) === undefined) {
        throw this.fail(`Unknown command '${argv[0]}' reading the append only file ${this.file}`);
      }
      throw this.fail(`Bad command in the append only file ${this.file}: ${cmd}`);
    }
    for (const i of bigArgPositions(argv)) {
      if (i !== cmd.spec.bigArg) {
        throw this.fail(`Bad command in the append only file ${this.file}: ${BIG_ERROR}`);
      }
    }
    if (this.queue !== undefined) this.queue.push([cmd, argv]);
    else this.server.execute(this.client, cmd, argv);
  }

  private fail(message: string): AofLoadError {
    this.server.log("warning", message);
    return new AofLoadError(message);
  }
}

/**
 * Replays one AOF file (base or incremental) into the server.
 *
 * @param server the server to load into (its propagate hooks are muted meanwhile)
 * @param path the file's path
 * @param opts truncation policy and the RDB loader for RDB bodies
 * @returns "ok", "truncated" (a tail was cut off) or "empty"
 * @throws {AofLoadError} when the file cannot be loaded
 */
export function loadAofFile(server: Server, path: string, opts: LoadOptions): LoadStatus {
  const file = path.slice(path.lastIndexOf("/") + 1);
  const fd = openSync(path, "r");
  const propagate = server.hooks.propagate;
  const time = server.time;
  // Loading feeds nothing to replicas or to the AOF itself, and expires nothing (see @module).
  server.hooks.propagate = [];
  server.time = 0;
  try {
    if (fstatSync(fd).size === 0) return "empty";
    return replay(server, fd, file, path, opts);
  } finally {
    closeSync(fd);
    server.hooks.propagate = propagate;
    server.time = time;
  }
}

function replay(
  server: Server,
  fd: number,
  file: string,
  path: string,
  opts: LoadOptions,
): LoadStatus {
  const fail = (message: string): AofLoadError => {
    server.log("warning", message);
    return new AofLoadError(message);
  };
  let start = 0;
  const sig = new Uint8Array(5);
  if (readSync(fd, sig, 0, 5, 0) === 5 && bytesToStr(sig) === "REDIS") {
    if (opts.oldStyle) server.log("notice", "Reading RDB preamble from AOF file...");
    else server.log("notice", "Reading RDB base file on AOF loading...");
    if (opts.loadRdb === undefined) {
      throw fail(
        `Can't load ${file}: it holds an RDB image and this server has no RDB loader yet, ` +
          "AOF loading aborted",
      );
    }
    start = opts.loadRdb(path);
    if (opts.oldStyle) server.log("notice", "Reading the remaining AOF tail...");
  }
  const r = new FileReader(fd, start);
  const replayer = new Replayer(server, file);
  let validUpTo = start;
  let validBeforeMulti = start;
  let truncated = false;
  let lastLog = performance.now();
  let loops = 0;
  for (;;) {
    if ((++loops & 1023) === 0 && performance.now() - lastLog >= 1000) {
      lastLog = performance.now();
      server.log("notice", `Loading AOF ${file}: ${r.offset} bytes read`);
    }
    const head = r.line();
    if (head === undefined) break;
    if (head[0] === "#") continue;
    if (head[0] !== "*") throw badFormat(fail, file);
    if (head.length === 1) {
      truncated = true;
      break;
    }
    const argc = atoi(head);
    if (argc < 1) throw badFormat(fail, file);
    const argv: string[] = [];
    for (let j = 0; j < argc; j++) {
      const h = r.line();
      if (h === undefined) break;
      if (h[0] !== "$") throw badFormat(fail, file);
      const len = atoi(h);
      if (len > MAX_STRING_LENGTH) {
        // Longer than a string can be (Redis writes a big SET whole): kept beside argv.
        const bytes = r.copy(len);
        if (bytes === undefined || !r.skip(2)) break;
        setBigArg(argv, argv.length, new BigString(bytes));
        argv.push(BIG_ARG_MARK);
        continue;
      }
      const arg = r.bytes(len);
      if (arg === undefined || !r.skip(2)) break;
      argv.push(arg);
    }
    if (argv.length < argc) {
      truncated = true;
      break;
    }
    if (argv[0]!.toLowerCase() === "multi") validBeforeMulti = validUpTo;
    replayer.run(argv);
    validUpTo = r.offset;
  }
  if (!truncated && replayer.inMulti) {
    server.log("warning", `Revert incomplete MULTI/EXEC transaction in AOF file ${file}`);
    validUpTo = validBeforeMulti;
    truncated = true;
  } else if (truncated && replayer.inMulti) {
    validUpTo = validBeforeMulti;
  }
  if (!truncated) return "ok";
  if (opts.loadTruncated) {
    server.log("warning", `!!! Warning: short read while loading the AOF file ${file}!!!`);
    server.log("warning", `!!! Truncating the AOF ${file} at offset ${validUpTo} !!!`);
    try {
      truncateSync(path, validUpTo);
      server.log("warning", `AOF ${file} loaded anyway because aof-load-truncated is enabled`);
      return "truncated";
    } catch (e) {
      server.log("warning", `Error truncating the AOF file ${file}: ${(e as Error).message}`);
    }
  }
  throw fail(
    `Unexpected end of file reading the append only file ${file}. You can: ` +
      "1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. " +
      "2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and " +
      "restart the server.",
  );
}

function badFormat(fail: (m: string) => AofLoadError, file: string): AofLoadError {
  return fail(
    `Bad file format reading the append only file ${file}: make a backup of your AOF file, ` +
      "then use ./redis-check-aof --fix <filename.manifest>",
  );
}
