/**
 * Helpers of the RDB tests: temp directories, servers that keep their log, reply text.
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { createServer, SimpleString, VerbatimReply } from "../mod.ts";
import type { Server, ServerOptions } from "../mod.ts";

/** The directories tempDir() made in this process: removed when it exits. */
const made: string[] = [];
function removeMade(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
// Node's test runner ends a file's process with "exit"; Deno's fires "unload" (and no "exit").
process.on("exit", removeMade);
if (typeof globalThis.addEventListener === "function") {
  globalThis.addEventListener("unload", removeMade);
}

/** A new empty directory under the system's temp directory, removed when the process exits. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "redeno-rdb-"));
  made.push(dir);
  return dir;
}

/** A server with its log lines kept, saving into `dir`. */
export function serverIn(
  dir: string,
  options: ServerOptions = {},
): { server: Server; lines: string[] } {
  const lines: string[] = [];
  const server = createServer({
    ...options,
    config: { dir, ...options.config },
    log: (line) => lines.push(line),
  });
  return { server, lines };
}

/** The text of a status or verbatim reply (INFO), or the reply as a string. */
export function text(reply: unknown): string {
  if (reply instanceof SimpleString) return reply.value;
  if (reply instanceof VerbatimReply) return reply.text;
  return String(reply);
}

/** Polls `cond` until it holds; throws after `ms`. */
export async function waitFor(cond: () => boolean, what: string, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
