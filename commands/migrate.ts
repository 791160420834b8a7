/**
 * MIGRATE: moves (or copies) keys to another Redis-compatible server, as Redis 7.0.15 does out of
 * cluster mode. The keys are serialized as DUMP payloads when the command runs and sent as
 * `RESTORE key ttl payload [REPLACE]` (after `AUTH` and a `SELECT` when the target's database is
 * not the one last selected on the cached connection, core/migrate_links.ts); each key the target
 * acknowledged is deleted here unless COPY, and the deletions propagate as one `DEL`.
 *
 * Redis blocks the whole server during the exchange, so nobody can touch the keys in between.
 * In cluster mode, where resharding depends on it (a key written on the source after it was
 * sent would be on both nodes, and the next MIGRATE of it fail with BUSYKEY), every other client
 * waits too: a pause of every command (core/pause.ts) lasts until the exchange ends. Out of
 * cluster mode only the calling client waits (blocked, like WAIT); others run on, and a key is
 * deleted only if it still holds the value that was serialized: one written meanwhile is kept on
 * both sides. Inside MULTI/EXEC and scripts, where nothing can
 * wait, MIGRATE answers an error instead of running (Redis runs it there, blocking everything).
 * While it waits, the client counts in INFO's `blocked_clients` (CLIENT UNBLOCK leaves it alone).
 * Plain TCP only (Redis uses TLS here only with `tls-cluster`), and RESTORE, never the cluster
 * mode's RESTORE-ASKING.
 *
 * @module
 */

import { i64Arg } from "../core/args.ts";
import { canBlock } from "../core/blocking.ts";
import { strToBytes } from "../core/bytes.ts";
import type { Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import type { Database, Value } from "../core/keyspace/database.ts";
import { type MigrateLink, migrateLinksOf } from "../core/migrate_links.ts";
import { N } from "../core/notify.ts";
import { PausePurpose, PauseType } from "../core/pause.ts";
import type { Server } from "../core/server.ts";
import { dumpValue } from "../core/rdb/payload.ts";
import { writeOptions } from "../core/rdb/write_value.ts";
import { E, ErrorReply, fail, R, type Reply, SimpleString } from "../core/resp/reply.ts";
import { encodeCommand, migrateKeyPositions, migrateSecrets } from "./migrate_args.ts";

/** What the arguments ask for. */
interface MigrateArgs {
  host: string;
  port: string;
  db: string;
  timeoutMs: number;
  copy: boolean;
  replace: boolean;
  /** `[username, password]` (AUTH2) or `[password]` (AUTH), or none. */
  auth: string[] | undefined;
  keys: string[];
}

/** Parses the arguments as Redis does: options first, KEYS last, then the two numbers. */
function parseArgs(argv: string[]): MigrateArgs {
  const a: MigrateArgs = {
    host: argv[1]!,
    port: argv[2]!,
    db: "",
    timeoutMs: 0,
    copy: false,
    replace: false,
    auth: undefined,
    keys: [argv[3]!],
  };
  for (let j = 6; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    const more = argv.length - 1 - j;
    if (opt === "copy") a.copy = true;
    else if (opt === "replace") a.replace = true;
    else if (opt === "auth") {
      if (more < 1) fail(E.syntax);
      a.auth = [argv[++j]!];
    } else if (opt === "auth2") {
      if (more < 2) fail(E.syntax);
      a.auth = [argv[j + 1]!, argv[j + 2]!];
      j += 2;
    } else if (opt === "keys") {
      if (argv[3] !== "") {
        fail(
          "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string",
        );
      }
      a.keys = argv.slice(j + 1);
      break;
    } else fail(E.syntax);
  }
  const timeout = Number(i64Arg(argv[5]!));
  a.db = String(i64Arg(argv[4]!));
  a.timeoutMs = timeout <= 0 ? 1000 : timeout;
  return a;
}

/** A key serialized for the target, and the value it held then. */
interface Item {
  key: string;
  value: Value;
}

/** The outcome of the exchange: the reply, and the keys the target acknowledged. */
interface Outcome {
  reply: Reply;
  /** Indexes (in the serialized items) of the keys the target acknowledged. */
  acked: number[];
}

/** MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH ...] [KEYS key ...] */
export const migrateCommand: CommandSpec = {
  name: "migrate",
  arity: -6,
  flags: ["write"],
  keys: { first: 3, last: 3, step: 1 },
  getKeys: migrateKeyPositions,
  keyFlags: () => ["RW", "access", "delete"],
  acl: ["keyspace", "dangerous"],
  redact: migrateSecrets,
  docs: {
    summary: "Atomically transfer a key from a Redis instance to another one.",
    since: "2.6.0",
    group: "generic",
    complexity:
      "This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two instances is performed.",
    args:
      'host port key | "" destination-db timeout [COPY] [REPLACE] [AUTH password | AUTH2 username password] [KEYS key [key ...]]',
  },
  execute(client, argv): Reply {
    const args = parseArgs(argv);
    const db = client.db;
    const found: Item[] = [];
    for (const key of args.keys) {
      const value = db.get(key);
      if (value !== undefined) found.push({ key, value });
    }
    if (found.length === 0) return new SimpleString("NOKEY");
    if (!canBlock(client)) {
      return fail("ERR MIGRATE cannot run inside MULTI/EXEC or scripts on this server");
    }
    // Serialized now, as Redis does: TTLs are what remains at this moment; expired keys are skipped.
    const server = client.server;
    const opts = writeOptions(server.config);
    const items: Item[] = [];
    const restores: Uint8Array[] = [];
    // In cluster mode the target takes the keys into a slot it is importing (as Redis sends it).
    const restore = server.config.bool("cluster-enabled") ? "RESTORE-ASKING" : "RESTORE";
    for (const item of found) {
      const at = db.getExpire(item.key);
      let ttl = 0;
      if (at !== -1) {
        ttl = at - server.time;
        if (ttl < 0) continue;
        if (ttl < 1) ttl = 1;
      }
      items.push(item);
      const cmd = [strToBytes(restore), strToBytes(item.key), strToBytes(String(ttl))];
      cmd.push(serialize(item.value, opts));
      if (args.replace) cmd.push(strToBytes("REPLACE"));
      restores.push(encodeCommand(cmd));
    }
    server.blocking.block(client, {
      keys: [],
      timeoutMs: 0,
      command: "migrate",
      serve: () => undefined,
      timeoutReply: R.none,
      unblockable: false,
    });
    const links = migrateLinksOf(server);
    const cluster = restore === "RESTORE-ASKING";
    if (cluster) pauseFor(server, +1);
    links.exclusive(`${args.host}:${args.port}`, () => exchange(client, args, restores))
      .then(
        (outcome) => finish(client, db, args, items, outcome),
        (e) => finish(client, db, args, items, { reply: errorOf(e), acked: [] }),
      ).finally(() => {
        if (cluster) pauseFor(server, -1);
      });
    return R.none;
  },
};

/** MIGRATEs waiting for their target, per server (cluster mode). */
const inFlight = new WeakMap<Server, number>();

/**
 * Counts a MIGRATE in (+1) or out (-1); every other client's commands are postponed while one
 * is in flight.
 */
function pauseFor(server: Server, delta: 1 | -1): void {
  const n = (inFlight.get(server) ?? 0) + delta;
  inFlight.set(server, n);
  if (n === 0) server.pause.unpause(PausePurpose.Migrate);
  else if (delta === 1 && n === 1) {
    server.pause.pause(Number.MAX_SAFE_INTEGER, PauseType.All, PausePurpose.Migrate);
  }
}

/** The DUMP payload of `value`, or DUMP's error for a value it cannot serialize. */
function serialize(value: Value, opts: ReturnType<typeof writeOptions>): Uint8Array {
  try {
    return dumpValue(value, opts);
  } catch (e) {
    if (e instanceof TypeError) return fail(`ERR ${e.message}`);
    throw e;
  }
}

function errorOf(e: unknown): Reply {
  return new ErrorReply(`ERR ${(e as Error)?.message ?? e}`);
}

const IOERR_CONNECT = "IOERR error or timeout connecting to the client";

/** Sends the commands and reads the replies, retrying once on a stale connection as Redis does. */
async function exchange(
  client: Client,
  args: MigrateArgs,
  restores: Uint8Array[],
): Promise<Outcome> {
  const server = client.server;
  const links = migrateLinksOf(server);
  const name = `${args.host}:${args.port}`;
  let mayRetry = true;
  for (;;) {
    const got = await links.get(args.host, args.port, args.timeoutMs);
    if (got === undefined) return { reply: new ErrorReply(IOERR_CONNECT), acked: [] };
    // A refused connection fails where Redis sees it fail: writing.
    const r = got === "refused"
      ? { outcome: undefined, writeError: true, timedOut: false }
      : await attempt(got, args, restores);
    if (r.outcome !== undefined) {
      // A socket error after some replies: the connection is not reused.
      if (typeof got !== "string" && got.closed) links.close(name);
      return r.outcome;
    }
    links.close(name);
    if (r.timedOut || !mayRetry) {
      const doing = r.writeError ? "writing" : "reading";
      return {
        reply: new ErrorReply(`IOERR error or timeout ${doing} to target instance`),
        acked: [],
      };
    }
    mayRetry = false;
  }
}

/**
 * One try on `link`: the outcome, or (before any RESTORE reply was read) the socket error to
 * retry on.
 */
async function attempt(
  link: MigrateLink,
  args: MigrateArgs,
  restores: Uint8Array[],
): Promise<{ outcome: Outcome | undefined; writeError: boolean; timedOut: boolean }> {
  const head: Uint8Array[] = [];
  if (args.auth !== undefined) {
    head.push(encodeCommand([strToBytes("AUTH"), ...args.auth.map(strToBytes)]));
  }
  const select = link.lastDb !== Number(args.db);
  if (select) head.push(encodeCommand([strToBytes("SELECT"), strToBytes(args.db)]));
  for (const part of [...head, ...restores]) link.write(part);
  const t = args.timeoutMs;
  // Past the timeout with bytes still unsent, the write is what failed.
  const socketError = (r: string) => ({
    outcome: undefined,
    writeError: link.unsent > 0,
    timedOut: r === "timeout",
  });
  let authLine = "";
  let selectLine = "";
  if (args.auth !== undefined) {
    const r = await link.readLine(t);
    if (r === "timeout" || r === "closed") return socketError(r);
    authLine = r;
  }
  if (select) {
    const r = await link.readLine(t);
    if (r === "timeout" || r === "closed") return socketError(r);
    selectLine = r;
  }
  const acked: number[] = [];
  let targetError: string | undefined;
  let failed: "timeout" | "closed" | undefined;
  let j = 0;
  for (; j < restores.length; j++) {
    const r = await link.readLine(t);
    if (r === "timeout" || r === "closed") {
      failed = r;
      break;
    }
    if (authLine.startsWith("-") || selectLine.startsWith("-") || r.startsWith("-")) {
      if (targetError === undefined) {
        link.lastDb = -1;
        const line = authLine.startsWith("-")
          ? authLine
          : selectLine.startsWith("-")
          ? selectLine
          : r;
        targetError = line.slice(1);
      }
    } else acked.push(j);
  }
  if (targetError === undefined && failed !== undefined && j === 0 && failed !== "timeout") {
    return socketError(failed);
  }
  const outcome: Outcome = { reply: R.ok, acked };
  if (targetError !== undefined) {
    outcome.reply = new ErrorReply(`ERR Target instance replied with error: ${targetError}`);
  } else if (failed !== undefined) {
    outcome.reply = new ErrorReply("IOERR error or timeout reading to target instance");
  } else link.lastDb = Number(args.db);
  if (failed !== undefined) link.destroy();
  return { outcome, writeError: false, timedOut: false };
}

/**
 * Deletes the acknowledged keys (unless COPY) that still hold the value serialized, propagates
 * that as DEL, and answers the client.
 */
function finish(client: Client, db: Database, args: MigrateArgs, items: Item[], o: Outcome): void {
  const server = client.server;
  server.tick();
  server.runForClient(client, () => {
    if (args.copy) return;
    const deleted: string[] = [];
    for (const i of o.acked) {
      const { key, value } = items[i]!;
      // Written by someone else meanwhile: the new value stays (see the module doc).
      if (db.peek(key) !== value || !db.delete(key)) continue;
      db.notify(N.generic, "del", key);
      deleted.push(key);
    }
    if (deleted.length === 0) return;
    server.dirty += deleted.length;
    server.replicate(db.id, ["DEL", ...deleted]);
  });
  server.blocking.unblock(client, o.reply);
}
