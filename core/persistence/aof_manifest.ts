/**
 * The AOF manifest of Redis 7's multi-part AOF: which files of `appenddirname` make up the
 * append only file. One line per file, `file <name> seq <n> type <b|h|i>`: the base (a snapshot
 * written by the last rewrite, `<appendfilename>.<seq>.base.aof` or `.base.rdb`), the history
 * files a rewrite made obsolete (deleted right after), and the incremental files written since
 * the base, loaded in order. Parsing and formatting follow aof.c, so Redis and redeno read each
 * other's manifests.
 *
 * @module
 */

import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { strToUtf8, utf8ToStr } from "../bytes.ts";
import { quoteRepr } from "../monitor.ts";
import { splitArgs } from "../resp/parser.ts";

/** One file of the manifest. `b` base, `h` history, `i` incremental. */
export interface AofFileInfo {
  name: string;
  seq: number;
  type: "b" | "h" | "i";
}

/** A manifest that cannot be loaded: the message is Redis's, `line` the offending line. */
export class ManifestError extends Error {
  constructor(message: string, readonly line?: string, readonly lineNo?: number) {
    super(message);
  }
}

/** Lines longer than this are refused, as Redis does. */
const MAX_LINE = 1024;

/** The files of a multi-part AOF and the sequence numbers of the next ones. */
export class Manifest {
  base: AofFileInfo | undefined;
  incr: AofFileInfo[] = [];
  history: AofFileInfo[] = [];
  baseSeq = 0;
  incrSeq = 0;

  /** A copy to change: the live manifest is replaced only once the copy is on disk. */
  clone(): Manifest {
    const m = new Manifest();
    m.base = this.base && { ...this.base };
    m.incr = this.incr.map((f) => ({ ...f }));
    m.history = this.history.map((f) => ({ ...f }));
    m.baseSeq = this.baseSeq;
    m.incrSeq = this.incrSeq;
    return m;
  }

  /** True when the manifest lists no base and no incremental file. */
  get empty(): boolean {
    return this.base === undefined && this.incr.length === 0;
  }

  /** The base then the incremental files, in load order. */
  get loadOrder(): AofFileInfo[] {
    return this.base ? [this.base, ...this.incr] : [...this.incr];
  }

  /**
   * Names a new base file (`.base.rdb` with an RDB body) and turns the old one into history.
   *
   * @param filename the `appendfilename` directive
   * @param rdb whether the base is an RDB image
   * @returns the new base's file name
   */
  newBase(filename: string, rdb: boolean): string {
    if (this.base) this.history.unshift({ ...this.base, type: "h" });
    const seq = ++this.baseSeq;
    this.base = { name: `${filename}.${seq}.base.${rdb ? "rdb" : "aof"}`, seq, type: "b" };
    return this.base.name;
  }

  /** Names a new incremental file, appended to the list; returns its name. */
  newIncr(filename: string): string {
    const seq = ++this.incrSeq;
    const info: AofFileInfo = { name: `${filename}.${seq}.incr.aof`, seq, type: "i" };
    this.incr.push(info);
    return info.name;
  }

  /** After a rewrite: every incremental file but the one being written (if any) is history. */
  incrToHistory(keepLast: boolean): void {
    const keep = keepLast ? this.incr.slice(-1) : [];
    const old = keepLast ? this.incr.slice(0, -1) : this.incr;
    for (const f of old.reverse()) this.history.unshift({ ...f, type: "h" });
    this.incr = keep;
  }

  /** The manifest text (a binary string): base first, then history, then incremental files. */
  format(): string {
    const files = [...(this.base ? [this.base] : []), ...this.history, ...this.incr];
    return files.map((f) => `file ${fileRepr(utf8ToStr(f.name))} seq ${f.seq} type ${f.type}\n`)
      .join("");
  }

  /**
   * Parses a manifest with aof.c's rules (comments, unknown keys ignored, strict otherwise).
   *
   * @param text the manifest's content as a binary string (file names are UTF-8 on disk)
   * @returns the manifest
   * @throws {ManifestError} with Redis's message on any format error
   * @example
   * ```ts
   * const m = Manifest.parse("file appendonly.aof.1.base.aof seq 1 type b\n");
   * m.base?.name; // "appendonly.aof.1.base.aof"
   * ```
   */
  static parse(text: string): Manifest {
    const m = new Manifest();
    if (text.length === 0) throw new ManifestError("Found an empty AOF manifest");
    const lines = text.split(/(?<=\n)/);
    let lineNo = 0;
    for (const raw of lines) {
      lineNo++;
      if (raw.startsWith("#")) continue;
      if (!raw.endsWith("\n") || raw.length > MAX_LINE) {
        // A last line without a newline is what fgets returns for an over-long line: refused.
        throw new ManifestError("The AOF manifest file contains too long line");
      }
      const line = raw.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
      const fail = (why: string) => new ManifestError(why, line, lineNo);
      if (line.length === 0) throw fail("Invalid AOF manifest file format");
      const argv = splitArgs(line);
      if (argv === undefined || argv.length < 6 || argv.length % 2 !== 0) {
        throw fail("Invalid AOF manifest file format");
      }
      let name: string | undefined;
      let seq = 0;
      let type = "";
      for (let i = 0; i < argv.length; i += 2) {
        const key = argv[i]!.toLowerCase();
        const value = argv[i + 1]!;
        if (key === "file") {
          name = strToUtf8(value);
          if (name.includes("/")) throw fail("File can't be a path, just a filename");
        } else if (key === "seq") {
          seq = atoll(value);
        } else if (key === "type") {
          type = value[0] ?? "";
        }
      }
      if (name === undefined || seq === 0 || type === "") {
        throw fail("Invalid AOF manifest file format");
      }
      if (type === "b") {
        if (m.base) throw fail("Found duplicate base file information");
        m.base = { name, seq, type };
        m.baseSeq = seq;
      } else if (type === "h") {
        m.history.push({ name, seq, type });
      } else if (type === "i") {
        if (seq <= m.incrSeq) throw fail("Found a non-monotonic sequence number");
        m.incr.push({ name, seq, type });
        m.incrSeq = seq;
      } else {
        throw fail("Unknown AOF file type");
      }
    }
    return m;
  }
}

/** A file name as Redis writes it in the manifest: bare, or quoted when it needs to be. */
function fileRepr(name: string): string {
  return /^[\x21-\x7e]*$/.test(name) && !/["\\]/.test(name) ? name : quoteRepr(name);
}

/** C's atoll: leading blanks, a sign, digits; 0 when there are none. */
function atoll(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  return m ? Number(m[1]) : 0;
}

/**
 * Writes a file atomically: a temp file in the same directory, fsync, rename over the target,
 * then fsync of the directory so the rename itself is durable.
 *
 * @param dir the directory of the file
 * @param name the file's name
 * @param data the content
 * @param tempName the temp file's name (Redis names the manifest's `temp-<name>`)
 */
export function writeFileAtomic(
  dir: string,
  name: string,
  data: Uint8Array,
  tempName: string,
): void {
  const temp = join(dir, tempName);
  const fd = openSync(temp, "w", 0o644);
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, join(dir, name));
  fsyncDir(dir);
}

/** fsyncs a directory, making renames and new files in it durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Deletes a file, ignoring a missing one (cleanup paths). */
export function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone, or never created.
  }
}

/** The message of a file system error, as Redis's strerror() text when the code is known. */
export function errText(e: unknown): string {
  const code = (e as { code?: string })?.code;
  return (code !== undefined && STRERROR[code]) || ((e as Error)?.message ?? String(e));
}

const STRERROR: Record<string, string> = {
  ENOSPC: "No space left on device",
  EDQUOT: "Disk quota exceeded",
  EIO: "Input/output error",
  EACCES: "Permission denied",
  EPERM: "Operation not permitted",
  ENOENT: "No such file or directory",
  EROFS: "Read-only file system",
  EBADF: "Bad file descriptor",
  ENOTDIR: "Not a directory",
  EEXIST: "File exists",
};
