/**
 * Scratch directories for tests, removed when the test process ends: Node's test runner ends a
 * file's process with "exit", Deno's fires "unload" (and no "exit").
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

const made: string[] = [];

function removeMade(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

process.on("exit", removeMade);
if (typeof globalThis.addEventListener === "function") {
  globalThis.addEventListener("unload", removeMade);
}

/**
 * A new empty directory under the system's temp directory, removed when the process ends.
 *
 * @param prefix the start of its name, e.g. `redeno-rdb-`
 * @returns its path
 */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
