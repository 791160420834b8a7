/**
 * Helpers of the RDB tests: temp directories, servers that keep their log, reply text.
 *
 * @module
 */
import { scratchDir } from "./scratch.ts";
import { createServer, SimpleString, VerbatimReply } from "../mod.ts";
import type { Server, ServerOptions } from "../mod.ts";

/** A new empty directory under the system's temp directory, removed when the process ends. */
export function tempDir(): string {
  return scratchDir("redeno-rdb-");
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
