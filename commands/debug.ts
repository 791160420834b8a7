/**
 * DEBUG: the cheap, useful subcommands (SLEEP, OBJECT, SET-ACTIVE-EXPIRE, CHANGE-REPL-ID, DIGEST,
 * DIGEST-VALUE, CONFIG-REWRITE-FORCE-ALL, DROP-CLUSTER-PACKET-FILTER, CLUSTERLINK KILL,
 * POPULATE, HELP).
 * Like Redis, it is refused unless `enable-debug-command` is `yes` (or `local` for loopback and
 * in-process clients): see core/protected.ts.
 *
 * @module
 */

import { helpFor } from "../core/compat.ts";
import { floatArg, intArg } from "../core/args.ts";
import type { CommandSpec } from "../core/command.ts";
import { type Database, encodingOf } from "../core/keyspace/database.ts";
import { BigString } from "../core/types/big_string.ts";
import { rewriteConfigFile } from "./config.ts";
import { E, fail, R, SimpleString } from "../core/resp/reply.ts";
import { datasetDigest, valueDigest } from "./debug_digest.ts";

/** Blocks the whole event loop for `ms`, as DEBUG SLEEP blocks Redis. */
function blockFor(ms: number): void {
  if (ms <= 0) return;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Redis's getPositiveLongFromObjectOrReply: 0 or more, one error for anything else. */
function nonNegative(s: string): number {
  const n = intArg(s, "ERR value is out of range, must be positive");
  return n < 0 ? fail("ERR value is out of range, must be positive") : n;
}

/**
 * DEBUG POPULATE: keys `prefix:0` .. `prefix:count-1` that do not exist yet get `value:<n>`
 * (padded with zero bytes or cut to `size` when given), written straight into the keyspace, in no
 * slot check, as Redis does.
 */
function populate(db: Database, count: number, prefix: string, size: string | undefined): void {
  const len = size === undefined ? 0 : nonNegative(size);
  for (let j = 0; j < count; j++) {
    const key = `${prefix}:${j}`;
    if (db.has(key)) continue;
    const v = `value:${j}`;
    db.add(
      key,
      len === 0 ? v : len <= v.length ? v.slice(0, len) : v + "\0".repeat(len - v.length),
    );
  }
}

const HELP = [
  "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CHANGE-REPL-ID",
  "    Change the replication IDs of the instance.",
  "CLUSTERLINK KILL <to|from|all> <node-id>",
  "    Kills the link based on the direction to/from (both) with the provided node.",
  "CONFIG-REWRITE-FORCE-ALL",
  "    Like CONFIG REWRITE but writes all configuration options, including",
  "    keywords not listed in original configuration file or default values.",
  "DIGEST",
  "    Output a hex signature representing the current DB content.",
  "DIGEST-VALUE <key> [<key> ...]",
  "    Output a hex signature of the values of all the specified keys.",
  "DROP-CLUSTER-PACKET-FILTER <packet-type>",
  "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
  "OBJECT <key>",
  "    Show low level info about the key and associated value.",
  "POPULATE <count> [<prefix>] [<size>]",
  "    Create <count> string keys named key:<num>. If <prefix> is specified then",
  "    it is used instead of the 'key' prefix. These are not propagated to",
  "    replicas. Cluster slots are not respected so keys not belonging to the",
  "    current node can be created in cluster mode.",
  "SET-ACTIVE-EXPIRE <0|1>",
  "    Setting it to 0 disables expiring keys in background when they are not",
  "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
  "    default.",
  "SLEEP <seconds>",
  "    Stop the server for <seconds>. Decimals allowed.",
  "HELP",
  "    Print this help.",
];

/** DEBUG subcommand [arg ...] */
export const debugCommand: CommandSpec = {
  name: "debug",
  arity: -2,
  flags: ["admin", "noscript", "loading", "stale"],
  docs: {
    summary: "A container for debugging commands",
    since: "1.0.0",
    group: "server",
    complexity: "Depends on subcommand.",
  },
  acl: ["dangerous"],
  protectedBy: "enable-debug-command",
  execute(client, argv) {
    const sub = argv[1]!.toUpperCase();
    const server = client.server;
    if (sub === "HELP" && argv.length === 2) return helpFor(client, HELP);
    if (sub === "SLEEP" && argv.length === 3) {
      blockFor(floatArg(argv[2]!) * 1000);
      return R.ok;
    }
    if (sub === "SET-ACTIVE-EXPIRE" && argv.length === 3) {
      server.activeExpireEnabled = intArg(argv[2]!) !== 0;
      return R.ok;
    }
    if (sub === "POPULATE" && argv.length >= 3 && argv.length <= 5) {
      populate(client.db, nonNegative(argv[2]!), argv[3] ?? "key", argv[4]);
      return R.ok;
    }
    if (sub === "DROP-CLUSTER-PACKET-FILTER" && argv.length === 3) {
      server.clusterDropPacketFilter = intArg(argv[2]!);
      return R.ok;
    }
    if (sub === "CLUSTERLINK" && argv.length === 5 && argv[2]!.toUpperCase() === "KILL") {
      const kill = server.clusterLinkKill;
      if (kill === undefined) {
        return fail("ERR Debug option only available for cluster mode enabled setup!");
      }
      const err = kill(argv[3]!, argv[4]!);
      return err === undefined ? R.ok : fail(`ERR ${err}`);
    }
    if (sub === "CONFIG-REWRITE-FORCE-ALL" && argv.length === 2) {
      const path = server.configFile;
      if (path === undefined) return fail("ERR The server is running without a config file");
      try {
        rewriteConfigFile(server, path, true);
      } catch (e) {
        return fail(`ERR CONFIG-REWRITE-FORCE-ALL failed: ${(e as Error).message}`);
      }
      return R.ok;
    }
    if (sub === "CHANGE-REPL-ID" && argv.length === 2) {
      for (const h of server.hooks.changeReplId) h();
      return R.ok;
    }
    if (sub === "DIGEST" && argv.length === 2) return new SimpleString(datasetDigest(server));
    if (sub === "DIGEST-VALUE") {
      return argv.slice(2).map((key) => new SimpleString(valueDigest(server, client.db, key)));
    }
    if (sub === "OBJECT" && argv.length === 3) {
      const v = client.db.peek(argv[2]!);
      if (v === undefined) return fail(E.noSuchKey);
      const len = typeof v === "string" || v instanceof BigString ? v.length : 0;
      return new SimpleString(
        `Value at:0x0 refcount:1 encoding:${
          encodingOf(v)
        } serializedlength:${len} lru:0 lru_seconds_idle:0`,
      );
    }
    return fail(
      `ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try DEBUG HELP.`,
    );
  },
};
