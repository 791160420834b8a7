/**
 * CLIENT subcommands: ID, SETNAME, GETNAME, LIST, INFO, KILL, SETINFO, NO-EVICT, NO-TOUCH, REPLY, HELP;
 * PAUSE and UNPAUSE are in client_pause.ts, the tracking ones (TRACKING, CACHING, GETREDIR,
 * TRACKINGINFO) in client_tracking.ts.
 *
 * @module
 */

import { compat, helpFor } from "../core/compat.ts";
import { i64Arg, intArg } from "../core/args.ts";
import { CF, type Client, ReplyMode } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import { E, fail, R, VerbatimReply } from "../core/resp/reply.ts";
import { clientInfoLine } from "../core/client_info.ts";
import { validateClientName } from "./connection.ts";
import { clientPauseCommands } from "./client_pause.ts";
import { trackingSubcommands } from "./client_tracking.ts";

function clientType(c: Client): string {
  if (c.flags & CF.master) return "master";
  if (c.flags & CF.replica) return "replica";
  if (c.flags & CF.pubsub) return "pubsub";
  return "normal";
}

const TYPES = ["normal", "master", "replica", "slave", "pubsub"];

function parseType(t: string): string {
  const type = t.toLowerCase();
  if (!TYPES.includes(type)) return fail(`ERR Unknown client type '${t}'`);
  return type === "slave" ? "replica" : type;
}

const list: CommandSpec = {
  name: "list",
  arity: -2,
  flags: ["admin", "noscript", "loading", "stale"],
  docs: {
    summary: "Get the list of client connections",
    since: "2.4.0",
    group: "connection",
    complexity: "O(N) where N is the number of client connections",
    args: "[TYPE <NORMAL | MASTER | REPLICA | PUBSUB>] [ID client-id [client-id ...]]",
  },
  execute(client, argv) {
    let type: string | undefined;
    let ids: Set<number> | undefined;
    if (argv.length === 4 && argv[2]!.toUpperCase() === "TYPE") type = parseType(argv[3]!);
    else if (argv.length >= 4 && argv[2]!.toUpperCase() === "ID") {
      ids = new Set();
      for (const a of argv.slice(3)) {
        const n = intArg(a, "ERR Invalid client ID");
        if (n <= 0) return fail("ERR Invalid client ID");
        ids.add(n);
      }
    } else if (argv.length !== 2) return fail(E.syntax);
    let out = "";
    for (const c of client.server.clients.values()) {
      if (c.flags & CF.local && c !== client) continue;
      if (type && clientType(c) !== type) continue;
      if (ids && !ids.has(c.id)) continue;
      out += clientInfoLine(c, c === client ? argv : undefined) + "\n";
    }
    return new VerbatimReply(out);
  },
};

const kill: CommandSpec = {
  name: "kill",
  arity: -3,
  flags: ["admin", "noscript", "loading", "stale"],
  docs: {
    summary: "Terminates open connections.",
    since: "2.4.0",
    group: "connection",
    complexity: "O(N) where N is the number of client connections",
    args:
      "ip:port | [ID client-id] [TYPE <NORMAL | MASTER | SLAVE | REPLICA | PUBSUB>] [USER username] [ADDR ip:port] [LADDR ip:port] [SKIPME <YES | NO>] [MAXAGE maxage]",
  },
  execute(client, argv) {
    const server = client.server;
    if (argv.length === 3) {
      for (const c of server.clients.values()) {
        if (c.addr === argv[2]) {
          killClient(client, c);
          return R.ok;
        }
      }
      return fail("ERR No such client");
    }
    let id: number | undefined;
    let maxAge = 0n;
    let type: string | undefined;
    let user: string | undefined;
    let addr: string | undefined;
    let laddr: string | undefined;
    let skipme = true;
    // Parsed in order, each option with its value, so the first bad one answers (as Redis does).
    for (let i = 2; i < argv.length; i += 2) {
      const opt = argv[i]!.toUpperCase();
      if (i + 1 >= argv.length) return fail(E.syntax);
      const v = argv[i + 1]!;
      if (opt === "ID") {
        id = intArg(v, "ERR client-id should be greater than 0");
        if (id <= 0) return fail("ERR client-id should be greater than 0");
      } else if (opt === "MAXAGE") {
        maxAge = BigInt(i64Arg(v, "ERR maxage is not an integer or out of range"));
        if (maxAge <= 0n) return fail("ERR maxage should be greater than 0");
      } else if (opt === "TYPE") type = parseType(v);
      else if (opt === "USER") {
        if (server.acl.user(v) === undefined) return fail(`ERR No such user '${v}'`);
        user = v;
      } else if (opt === "ADDR") addr = v;
      else if (opt === "LADDR") laddr = v;
      else if (opt === "SKIPME") {
        const y = v.toLowerCase();
        if (y !== "yes" && y !== "no") return fail(E.syntax);
        skipme = y === "yes";
      } else return fail(E.syntax);
    }
    let killed = 0;
    const nowSec = Math.floor(server.now() / 1000);
    for (const c of [...server.clients.values()]) {
      if (c.flags & CF.local) continue;
      if (id !== undefined && c.id !== id) continue;
      if (type !== undefined && clientType(c) !== type) continue;
      if (user !== undefined && c.user.name !== user) continue;
      if (addr !== undefined && c.addr !== addr) continue;
      if (laddr !== undefined && c.laddr !== laddr) continue;
      if (c === client && skipme) continue;
      // Redis 7.4: whole seconds of the command's time less the second the client connected.
      if (maxAge !== 0n && BigInt(nowSec - Math.floor(c.createdAt / 1000)) < maxAge) continue;
      killClient(client, c);
      killed++;
    }
    return killed;
  },
};

/** Closes `target`; the caller's own connection closes after its reply. */
function killClient(caller: Client, target: Client): void {
  if (target === caller) caller.flags |= CF.closeAfterReply;
  else target.close();
}

function sub(
  name: string,
  arity: number,
  summary: string,
  since: string,
  args: string | undefined,
  execute: CommandSpec["execute"],
  flags: CommandSpec["flags"] = ["noscript", "loading", "stale"],
  complexity = "O(1)",
): CommandSpec {
  return {
    name,
    arity,
    flags,
    docs: { summary, since, group: "connection", complexity, ...(args ? { args } : {}) },
    execute,
  };
}

const HELP = [
  "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CACHING (YES|NO)",
  "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
  "GETREDIR",
  "    Return the client ID we are redirecting to when tracking is enabled.",
  "GETNAME",
  "    Return the name of the current connection.",
  "ID",
  "    Return the ID of the current connection.",
  "INFO",
  "    Return information about the current client connection.",
  "KILL <ip:port>",
  "    Kill connection made from <ip:port>.",
  "KILL <option> <value> [<option> <value> [...]]",
  "    Kill connections. Options are:",
  "    * ADDR (<ip:port>|<unixsocket>:0)",
  "      Kill connections made from the specified address",
  "    * LADDR (<ip:port>|<unixsocket>:0)",
  "      Kill connections made to specified local address",
  "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
  "      Kill connections by type.",
  "    * USER <username>",
  "      Kill connections authenticated by <username>.",
  "    * SKIPME (YES|NO)",
  "      Skip killing current connection (default: yes).",
  "    * ID <client-id>",
  "      Kill connections by client id.",
  "    * MAXAGE <maxage>",
  "      Kill connections older than the specified age.",
  "LIST [options ...]",
  "    Return information about client connections. Options:",
  "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
  "      Return clients of specified type.",
  "UNPAUSE",
  "    Stop the current client pause, resuming traffic.",
  "PAUSE <timeout> [WRITE|ALL]",
  "    Suspend all, or just write, clients for <timeout> milliseconds.",
  "REPLY (ON|OFF|SKIP)",
  "    Control the replies sent to the current connection.",
  "SETNAME <name>",
  "    Assign the name <name> to the current connection.",
  "SETINFO <option> <value>",
  "    Set client meta attr. Options are:",
  "    * LIB-NAME: the client lib name.",
  "    * LIB-VER: the client lib version.",
  "UNBLOCK <clientid> [TIMEOUT|ERROR]",
  "    Unblock the specified blocked client.",
  "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
  "         [OPTIN] [OPTOUT] [NOLOOP]",
  "    Control server assisted client side caching.",
  "TRACKINGINFO",
  "    Report tracking status for the current connection.",
  "NO-EVICT (ON|OFF)",
  "    Protect current client connection from eviction.",
  "NO-TOUCH (ON|OFF)",
  "    Will not touch LRU/LFU stats when this mode is on.",
  "HELP",
  "    Print this help.",
];

/** HELP lines Redis 7.2 added (SETINFO, NO-TOUCH) and 7.4 added (KILL ID and MAXAGE). */
const HELP_72 = helpSpan("SETINFO <option> <value>", 4).concat(helpSpan("NO-TOUCH (ON|OFF)", 2));
const HELP_74 = helpSpan("    * ID <client-id>", 4);

/** `n` lines of HELP from `first`. */
function helpSpan(first: string, n: number): string[] {
  const i = HELP.indexOf(first);
  return HELP.slice(i, i + n);
}

/** CLIENT HELP as the server's version lists it. */
function clientHelp(client: Client): string[] {
  const { v72, v74 } = compat(client.server.config);
  if (v74) return HELP;
  return HELP.filter((l) => !HELP_74.includes(l) && (v72 || !HELP_72.includes(l)));
}

/** CLIENT <subcommand> */
export const clientCommand: CommandSpec = {
  name: "client",
  arity: -2,
  docs: {
    summary: "A container for client connection commands",
    since: "2.4.0",
    group: "connection",
    complexity: "Depends on subcommand.",
  },
  subcommands: [
    sub(
      "id",
      2,
      "Returns the client ID for the current connection",
      "5.0.0",
      undefined,
      (c) => c.id,
    ),
    sub(
      "getname",
      2,
      "Get the current connection name",
      "2.6.9",
      undefined,
      (c) => c.name === "" ? null : c.name,
    ),
    sub("setname", 3, "Set the current connection name", "2.6.9", "connection-name", (c, argv) => {
      const err = validateClientName(argv[2]!);
      if (err) return fail(err);
      c.name = argv[2]!;
      return R.ok;
    }),
    sub(
      "info",
      2,
      "Returns information about the current client connection.",
      "6.2.0",
      undefined,
      (c, argv) => new VerbatimReply(clientInfoLine(c, argv) + "\n"),
    ),
    list,
    kill,
    ...clientPauseCommands,
    {
      // Redis sends it to every node of a cluster (tips), as clients do on connect.
      ...sub(
        "setinfo",
        4,
        "Sets information specific to the client or connection.",
        "7.2.0",
        "<LIB-NAME libname | LIB-VER libver>",
        (c, argv) => {
          const attr = argv[2]!.toUpperCase();
          const v = argv[3]!;
          if (attr !== "LIB-NAME" && attr !== "LIB-VER") {
            return fail(`ERR Unrecognized option '${argv[2]}'`);
          }
          for (let i = 0; i < v.length; i++) {
            const ch = v.charCodeAt(i);
            if (ch < 33 || ch > 126) {
              return fail(
                `ERR ${
                  attr === "LIB-NAME" ? "lib-name" : "lib-ver"
                } cannot contain spaces, newlines or special characters.`,
              );
            }
          }
          if (attr === "LIB-NAME") c.libName = v;
          else c.libVer = v;
          return R.ok;
        },
      ),
      tips: ["request_policy:all_nodes", "response_policy:all_succeeded"],
    },
    sub(
      "no-evict",
      3,
      "Set client eviction mode for the current connection",
      "7.0.0",
      "<ON | OFF>",
      (c, argv) => {
        const v = argv[2]!.toUpperCase();
        if (v === "ON") c.flags |= CF.noEvict;
        else if (v === "OFF") c.flags &= ~CF.noEvict;
        else return fail(E.syntax);
        return R.ok;
      },
      ["admin", "noscript", "loading", "stale"],
    ),
    sub(
      "no-touch",
      3,
      "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
      "7.2.0",
      "<ON | OFF>",
      (c, argv) => {
        const v = argv[2]!.toUpperCase();
        if (v === "ON") c.flags |= CF.noTouch;
        else if (v === "OFF") c.flags &= ~CF.noTouch;
        else return fail(E.syntax);
        return R.ok;
      },
    ),
    sub(
      "reply",
      3,
      "Instruct the server whether to reply to commands",
      "3.2.0",
      "<ON | OFF | SKIP>",
      (c, argv) => {
        const v = argv[2]!.toUpperCase();
        if (v === "ON") {
          c.replyMode = ReplyMode.On;
          return R.ok;
        }
        if (v === "OFF") c.replyMode = ReplyMode.Off;
        else if (v === "SKIP") {
          if (c.replyMode !== ReplyMode.Off) c.replyMode = ReplyMode.SkipNext;
        } else return fail(E.syntax);
        return R.none;
      },
    ),
    sub(
      "unblock",
      -3,
      "Unblock a client blocked in a blocking command from a different connection",
      "5.0.0",
      "client-id [TIMEOUT | ERROR]",
      (c, argv) => {
        if (argv.length > 4) return fail(E.wrongArgs("client|unblock"));
        let asError = false;
        if (argv.length === 4) {
          const why = argv[3]!.toUpperCase();
          if (why === "ERROR") asError = true;
          else if (why !== "TIMEOUT") {
            return fail("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
          }
        }
        const id = intArg(argv[2]!);
        const server = c.server;
        const target = server.clients.get(id);
        if (!target || !server.blocking.isUnblockable(target)) return 0;
        server.blocking.unblock(
          target,
          asError ? "error" : server.blocking.timeoutReplyOf(target)!,
        );
        // Redis counts a call during which an error reply was sent as failed: the UNBLOCKED
        // error makes this CLIENT UNBLOCK a failed call too.
        if (asError) server.command("client")!.subcommands!.get("unblock")!.stats.failed++;
        return 1;
      },
      ["admin", "noscript", "loading", "stale"],
      "O(log N) where N is the number of client connections",
    ),
    ...trackingSubcommands,
    sub(
      "help",
      2,
      "Show helpful text about the different subcommands",
      "5.0.0",
      undefined,
      (client) => helpFor(client, clientHelp(client)),
      ["loading", "stale"],
    ),
  ],
};
