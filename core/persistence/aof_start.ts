/**
 * The AOF at server start, after Redis 7's aofLoadManifestFromDisk, loadAppendOnlyFiles and
 * aofOpenIfNeededOnServerStart: read the manifest, upgrade a legacy single-file AOF into the
 * AOF directory, replay the base and incremental files in order, then open the last
 * incremental file for appending (creating a base first when there is none).
 *
 * @module
 */

import { existsSync, mkdirSync, openSync, readFileSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";
import { bytesToStr } from "../bytes.ts";
import type { Aof } from "./aof.ts";
import { AofLoadError, loadAofFile } from "./aof_load.ts";
import { errText, Manifest, ManifestError } from "./aof_manifest.ts";
import { writeBaseSync } from "./aof_rewrite_job.ts";

/**
 * Reads the manifest of the AOF directory; an empty manifest when there is none.
 *
 * @param aof the AOF
 * @returns the manifest
 * @throws {AofLoadError} when the manifest exists but cannot be read or parsed (logged)
 */
export function readManifest(aof: Aof): Manifest {
  const log = aof.server.log;
  const name = `${aof.filename}.manifest`;
  const path = join(aof.dir, name);
  if (!existsSync(aof.dir)) {
    log("debug", `The AOF directory ${aof.dir} doesn't exist`);
    return new Manifest();
  }
  if (!existsSync(path)) {
    log("debug", `The AOF manifest file ${name} doesn't exist`);
    return new Manifest();
  }
  let text: string;
  try {
    text = bytesToStr(readFileSync(path));
  } catch (e) {
    const message = `Fatal error: can't open the AOF manifest file ${path} for reading: ${
      errText(e)
    }`;
    log("warning", message);
    throw new AofLoadError(message);
  }
  try {
    return Manifest.parse(text);
  } catch (e) {
    if (!(e instanceof ManifestError)) throw e;
    log("warning", "\n*** FATAL AOF MANIFEST FILE ERROR ***\n");
    if (e.line !== undefined) {
      log("warning", `Reading the manifest file, at line ${e.lineNo}\n`);
      log("warning", `>>> '${e.line}'\n`);
    }
    log("warning", `${e.message}\n`);
    throw new AofLoadError(e.message);
  }
}

/**
 * Loads the AOF files into the server (`appendonly yes` at start), upgrading a legacy
 * `<dir>/<appendfilename>` first.
 *
 * @param aof the AOF, its manifest already read
 * @throws {AofLoadError} when the data cannot be loaded (the server must not start)
 */
export function loadOnStart(aof: Aof): void {
  const server = aof.server;
  const start = performance.now();
  const legacy = join(server.config.str("dir"), aof.filename);
  const m = aof.manifest;
  if (
    existsSync(legacy) &&
    (!existsSync(aof.dir) || m.empty ||
      (m.base?.name === aof.filename && m.incr.length === 0 &&
        !existsSync(join(aof.dir, aof.filename))))
  ) {
    upgrade(aof, legacy);
  }
  if (aof.manifest.empty) return;
  const files = aof.manifest.loadOrder;
  let total = 0;
  for (const f of files) {
    try {
      total += statSync(join(aof.dir, f.name)).size;
    } catch (e) {
      const message = `Unable to obtain the AOF file ${f.name} length. stat: ${errText(e)}`;
      server.log("warning", message);
      throw new AofLoadError(message);
    }
  }
  if (total !== 0) {
    const rdb = aof.rdbBase;
    const opts = {
      loadTruncated: server.config.bool("aof-load-truncated"),
      loadRdb: rdb ? (path: string) => rdb.load(server, path) : undefined,
    };
    files.forEach((f, i) => {
      const last = i === files.length - 1;
      const t0 = performance.now();
      const status = loadAofFile(server, join(aof.dir, f.name), {
        ...opts,
        oldStyle: f.name === aof.filename,
      });
      if (status === "truncated" && !last) {
        const message = "Fatal error: the truncated file is not the last file";
        server.log("warning", message);
        throw new AofLoadError(message);
      }
      if (status !== "empty") {
        server.log(
          "notice",
          `DB loaded from ${f.type === "b" ? "base" : "incr"} file ${f.name}: ${
            seconds(performance.now() - t0)
          } seconds`,
        );
      }
    });
    // Ready for what follows: the clock runs again and the batch timing is closed.
    server.tick();
    server.endBatch();
  }
  aof.baseSize = aof.manifest.base ? aof.fileSize(aof.manifest.base.name) : 0;
  aof.file.currentSize = files.reduce((n, f) => n + aof.fileSize(f.name), 0);
  server.log(
    "notice",
    `DB loaded from append only file: ${seconds(performance.now() - start)} seconds`,
  );
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/** Moves a legacy single-file AOF into the AOF directory as the base (aofUpgradePrepare). */
function upgrade(aof: Aof, legacy: string): void {
  const log = aof.server.log;
  makeDir(aof);
  const m = aof.manifest.clone();
  m.base = { name: aof.filename, seq: 1, type: "b" };
  m.baseSeq = 1;
  if (!aof.persist(m)) throw new AofLoadError("Can't write the AOF manifest");
  aof.manifest = m;
  try {
    renameSync(legacy, join(aof.dir, aof.filename));
  } catch (e) {
    const message = `Error trying to move the old AOF file ${aof.filename} into dir ${
      aof.server.config.str("appenddirname")
    }: ${errText(e)}`;
    log("warning", message);
    throw new AofLoadError(message);
  }
  log(
    "notice",
    `Successfully migrated an old-style AOF file (${aof.filename}) into the AOF directory (${
      aof.server.config.str("appenddirname")
    }).`,
  );
}

/** Creates the AOF directory if needed; throws AofLoadError (logged) when it cannot. */
export function makeDir(aof: Aof): void {
  try {
    mkdirSync(aof.dir, { recursive: true });
  } catch (e) {
    const message = `Can't open or create append-only dir ${
      aof.server.config.str("appenddirname")
    }: ${errText(e)}`;
    aof.server.log("warning", message);
    throw new AofLoadError(message);
  }
}

/**
 * Opens the last incremental file for appending after the load, creating a base (from the
 * dataset in memory) when the AOF has no files yet and an incremental file when it has none.
 *
 * @param aof the AOF, loaded
 * @throws {AofLoadError} when a file cannot be created or opened (logged)
 */
export function openOnStart(aof: Aof): void {
  makeDir(aof);
  const m = aof.manifest.clone();
  let changed = false;
  if (m.empty) {
    const rdb = aof.rdbBase !== undefined && aof.server.config.bool("aof-use-rdb-preamble");
    const base = m.newBase(aof.filename, rdb);
    writeBaseSync(aof, base, rdb);
    aof.server.log("notice", `Creating AOF base file ${base} on server start`);
    changed = true;
  }
  const existing = m.incr.length !== 0;
  const name = existing ? m.incr[m.incr.length - 1]!.name : m.newIncr(aof.filename);
  changed ||= !existing;
  let fd: number;
  try {
    fd = openSync(join(aof.dir, name), "a", 0o644);
  } catch (e) {
    const message = `Can't open the append-only file ${name}: ${errText(e)}`;
    aof.server.log("warning", message);
    throw new AofLoadError(message);
  }
  if (changed && !aof.persist(m)) throw new AofLoadError("Can't write the AOF manifest");
  aof.manifest = m;
  aof.file.switchTo(fd, aof.fileSize(name));
  if (changed) {
    aof.baseSize = m.base ? aof.fileSize(m.base.name) : 0;
    aof.file.currentSize = m.loadOrder.reduce((n, f) => n + aof.fileSize(f.name), 0);
  }
  aof.server.log(
    "notice",
    `${existing ? "Opening" : "Creating"} AOF incr file ${name} on server start`,
  );
}
