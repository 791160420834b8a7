/**
 * What one client holds, in the parts Redis 7.0's getClientMemoryUsage adds up for CLIENT LIST's
 * `tot-mem`, `used_memory`'s client share and `maxmemory-clients`:
 *
 * - **buffers** (Client.memoryUsage): query storage (unparsed input, a frame's arguments in
 *   progress, the connection's read buffer), reply buffers and output not yet sent;
 * - **argv**: the command running now, its arguments' bytes plus a pointer each (Redis's
 *   `argv_len_sum + sizeof(robj*) * argc`);
 * - **multi**: the commands queued in MULTI, counted the same way, plus a slot each;
 * - **watched keys, subscriptions, BCAST prefixes**: a fixed cost per entry, the size of the
 *   records this server keeps for each (Redis counts its own list and dict nodes the same way;
 *   the keys and channel names themselves are shared, not the client's).
 *
 * @module
 */

import type { Client } from "./client.ts";
import { BIG_ARG_MARK, bigArg } from "./types/big_string.ts";

/** Bytes per argument beyond its own (a pointer, as Redis counts). */
const ARG_SLOT = 8;
/** Bytes per queued command beyond its arguments (its place in the queue and its argv array). */
const QUEUED_COMMAND = 32;
/** Bytes per watched key: its record (client, database, key, flag) and its two list slots. */
const WATCHED_KEY = 72;
/** Bytes per channel, pattern or shard-channel subscription: its entries in two sets. */
const SUBSCRIPTION = 40;
/** Bytes per BCAST prefix of a tracking client: its entries in two sets. */
const TRACKING_PREFIX = 40;

/** Bytes of `argv`'s arguments (the name included), without per-argument costs. */
export function argvLength(argv: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    // An argument kept as bytes (core/types/big_string.ts) counts its bytes, not its mark.
    n += a === BIG_ARG_MARK ? bigArg(argv as string[], i)?.length ?? a.length : a.length;
  }
  return n;
}

/** Redis's cost of a command's arguments: their bytes and a pointer each. */
export function argvCost(argv: readonly string[]): number {
  return argvLength(argv) + ARG_SLOT * argv.length;
}

/** The parts of one client's memory (see the module doc). */
export interface ClientMemoryParts {
  /** Query storage: unparsed input, arguments of a frame in progress, the read buffer. */
  query: number;
  /** Reply buffers and output not yet taken by the kernel. */
  output: number;
  /** The running command's arguments. */
  argv: number;
  /** Queued MULTI commands, watched keys, subscriptions and BCAST prefixes. */
  state: number;
}

/**
 * The parts of `c`'s memory.
 *
 * @param c the client
 * @param running the command `c` runs now, when the caller knows it (else the server's)
 */
export function clientMemoryParts(c: Client, running?: readonly string[]): ClientMemoryParts {
  const server = c.server;
  const { query, output } = c.memoryUsage();
  const argv = running ?? (server.current === c ? server.runningArgv : undefined);
  const tx = c.tx;
  let state = tx === undefined || c.multiCount < 0
    ? 0
    : tx.argvBytes + QUEUED_COMMAND * c.multiCount;
  state += WATCHED_KEY * server.transactions.watchedCount(c);
  state += SUBSCRIPTION * (c.subscriptions + c.patterns + c.shardSubscriptions);
  state += TRACKING_PREFIX * (c.tracking?.prefixes?.size ?? 0);
  return { query, output, argv: argv === undefined ? 0 : argvCost(argv), state };
}

/** Every byte `c` holds (CLIENT LIST's `tot-mem`). */
export function clientMemoryTotal(c: Client, running?: readonly string[]): number {
  const m = clientMemoryParts(c, running);
  return m.query + m.output + m.argv + m.state;
}
