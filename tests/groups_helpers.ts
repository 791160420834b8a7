/**
 * Shared pieces of the groups plugin tests: a server with the plugin on a manual clock, clients,
 * and a recorder of what GROUP commands propagate.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createServer, ManualClock, MapReply, type Reply } from "../mod.ts";
import type { Server } from "../mod.ts";
import { groups } from "../plugins/groups/mod.ts";
import { startServer } from "./helpers.ts";

// The README's redis-cli example: bob joins with TTL 30000 and his deadline is 1795412345678.
export const T0 = 1_795_412_345_678 - 30_000;
export const WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";
export const BAD_CAPACITY = "ERR capacity must be an integer between 0 and 2147483647";
export const BAD_TTL = "ERR TTL must be a positive integer number of milliseconds";

/** A server with the plugin on a free port, driven by a manual clock. */
export async function start(): Promise<
  { server: Server; port: number; clock: ManualClock; close(): Promise<void> }
> {
  const clock = new ManualClock(T0);
  return { ...(await startServer({ plugins: [groups()], clock })), clock };
}

/** An in-process server with the plugin (no tick runs unless the test calls server.cron()). */
export function local(): {
  server: Server;
  clock: ManualClock;
  call: (...argv: string[]) => Reply;
} {
  const clock = new ManualClock(T0);
  const server = createServer({ plugins: [groups()], clock });
  const s = server.session();
  return { server, clock, call: (...argv) => s.call(...argv) };
}

export function io(port: number): Redis {
  return new Redis({ port, host: "127.0.0.1" });
}

/** GROUP.INFO as a record, from a MapReply or a flat array; `members` as a record too. */
export function info(r: unknown): Record<string, unknown> {
  const flat = (v: unknown): unknown[] => (v instanceof MapReply ? v.entries : v as unknown[]);
  const items = flat(r);
  const out: Record<string, unknown> = {};
  for (let i = 0; i < items.length; i += 2) out[String(items[i])] = items[i + 1];
  const m = flat(out.members);
  const members: Record<string, unknown> = {};
  for (let i = 0; i < m.length; i += 2) members[String(m[i])] = m[i + 1];
  out.members = members;
  return out;
}

export async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), `timed out waiting for ${what}`);
}

export function upper(argv: string[]): string[] {
  return [argv[0]!.toUpperCase(), ...argv.slice(1)];
}

/** Runs GROUP commands in process and records what each one propagates. */
export function recorder(): {
  run: (...argv: string[]) => string[][];
  clock: ManualClock;
  server: Server;
} {
  const { server, clock, call } = local();
  let seen: string[][] = [];
  server.on("propagate", (_db, argv) => seen.push(upper(argv)));
  return {
    server,
    clock,
    run: (...argv) => {
      seen = [];
      call(...argv);
      return seen;
    },
  };
}
