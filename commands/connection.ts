/**
 * Connection commands: PING, ECHO, SELECT, SWAPDB, QUIT, RESET, AUTH, HELLO.
 *
 * @module
 */

import { intArg } from "../core/args.ts";
import { CF, type Client, ReplyMode } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import { redactAuth, redactHello } from "../core/redact.ts";
import { E, fail, MapReply, R, type Reply, SimpleString } from "../core/resp/reply.ts";

const WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled.";

/** PING [message] */
export const pingCommand: CommandSpec = {
  name: "ping",
  arity: -1,
  flags: ["fast"],
  docs: {
    summary: "Ping the server",
    since: "1.0.0",
    group: "connection",
    complexity: "O(1)",
    args: "[message]",
  },
  execute(client, argv) {
    if (argv.length > 2) return fail(E.wrongArgs("ping"));
    if (client.flags & CF.pubsub && client.resp === 2) return ["pong", argv[1] ?? ""];
    return argv.length === 2 ? argv[1]! : R.pong;
  },
};

/** ECHO message */
export const echoCommand: CommandSpec = {
  name: "echo",
  arity: 2,
  flags: ["fast", "stale", "loading"],
  docs: {
    summary: "Echo the given string",
    since: "1.0.0",
    group: "connection",
    complexity: "O(1)",
    args: "message",
  },
  execute: (_client, argv) => argv[1]!,
};

/** SELECT index */
export const selectCommand: CommandSpec = {
  name: "select",
  arity: 2,
  flags: ["loading", "stale", "fast"],
  docs: {
    summary: "Change the selected database for the current connection",
    since: "1.0.0",
    group: "connection",
    complexity: "O(1)",
    args: "index",
  },
  execute(client, argv) {
    const n = intArg(argv[1]!);
    const db = client.server.dbs[n];
    if (db === undefined) return fail(E.dbIndex);
    client.db = db;
    return R.ok;
  },
};

/** QUIT */
export const quitCommand: CommandSpec = {
  name: "quit",
  arity: -1,
  flags: ["allow_busy", "noscript", "loading", "stale", "fast", "no_auth"],
  docs: {
    summary: "Close the connection",
    since: "1.0.0",
    group: "connection",
    complexity: "O(1)",
  },
  execute(client) {
    client.flags |= CF.closeAfterReply;
    // QUIT is acknowledged even with CLIENT REPLY OFF, as in Redis.
    client.replyMode = ReplyMode.On;
    return R.ok;
  },
};

/** Puts a client back in its just-connected state (RESET, and HELLO never does this). */
export function resetClient(client: Client): void {
  for (const h of client.server.hooks.clientReset) h(client);
  client.db = client.server.dbs[0]!;
  client.resp = 2;
  client.name = "";
  client.replyMode = ReplyMode.On;
  client.flags &= ~(CF.noEvict | CF.noTouch);
  client.server.acl.initClient(client);
}

/** RESET */
export const resetCommand: CommandSpec = {
  name: "reset",
  arity: 1,
  flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
  docs: {
    summary: "Reset the connection",
    since: "6.2.0",
    group: "connection",
    complexity: "O(1)",
  },
  execute(client) {
    resetClient(client);
    return new SimpleString("RESET");
  },
};

/** AUTH [username] password */
export const authCommand: CommandSpec = {
  name: "auth",
  arity: -2,
  flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
  docs: {
    summary: "Authenticate to the server",
    since: "1.0.0",
    group: "connection",
    complexity: "O(N) where N is the number of passwords defined for the user",
    args: "[username] password",
  },
  redact: redactAuth,
  execute(client, argv) {
    if (argv.length > 3) return fail(E.syntax);
    const acl = client.server.acl;
    if (argv.length === 2 && acl.defaultUser.nopass) {
      return fail(
        "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
      );
    }
    const user = argv.length === 3 ? argv[1]! : "default";
    const pass = argv[argv.length - 1]!;
    if (!acl.authenticate(client, user, pass, argv[0]!)) {
      client.server.stats.authFailures++;
      return fail(WRONGPASS);
    }
    return R.ok;
  },
};

/** HELLO [protover [AUTH username password] [SETNAME clientname]] */
export const helloCommand: CommandSpec = {
  name: "hello",
  arity: -1,
  flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
  docs: {
    summary: "Handshake with Redis",
    since: "6.0.0",
    group: "connection",
    complexity: "O(1)",
    args: "[protover [AUTH username password] [SETNAME clientname]]",
  },
  redact: redactHello,
  execute(client, argv) {
    let ver = client.resp;
    if (argv.length >= 2) {
      const v = Number(argv[1]);
      if (!/^-?\d+$/.test(argv[1]!)) {
        return fail("ERR Protocol version is not an integer or out of range");
      }
      if (v < 2 || v > 3) return fail("NOPROTO unsupported protocol version");
      ver = v;
    }
    let auth: [string, string] | undefined;
    let setname: string | undefined;
    for (let i = 2; i < argv.length; i++) {
      const opt = argv[i]!.toUpperCase();
      const left = argv.length - i - 1;
      if (opt === "AUTH" && left >= 2) {
        auth = [argv[i + 1]!, argv[i + 2]!];
        i += 2;
      } else if (opt === "SETNAME" && left >= 1) {
        setname = argv[++i]!;
      } else {
        return fail(`ERR Syntax error in HELLO option '${argv[i]}'`);
      }
    }
    if (auth) {
      if (!client.server.acl.authenticate(client, auth[0], auth[1], argv[0]!)) {
        client.server.stats.authFailures++;
        return fail(WRONGPASS);
      }
    }
    if (!client.authenticated) {
      return fail(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
      );
    }
    if (setname !== undefined) {
      const err = validateClientName(setname);
      if (err) return fail(err);
      client.name = setname;
    }
    client.resp = ver;
    return helloReply(client);
  },
};

/** The reply of HELLO: server facts as a map. */
function helloReply(client: Client): Reply {
  return new MapReply([
    "server",
    "redis",
    "version",
    "7.0.15",
    "proto",
    client.resp,
    "id",
    client.id,
    "mode",
    client.server.config.bool("cluster-enabled") ? "cluster" : "standalone",
    "role",
    client.server.isReplica() ? "replica" : "master",
    "modules",
    [],
  ]);
}

/** Redis's rule for client names: no spaces, newlines or other special characters. */
export function validateClientName(name: string): string | undefined {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 33 || c > 126) {
      return "ERR Client names cannot contain spaces, newlines or special characters.";
    }
  }
  return undefined;
}

/** Connection commands. */
export const connectionCommands: CommandSpec[] = [
  pingCommand,
  echoCommand,
  selectCommand,
  quitCommand,
  resetCommand,
  authCommand,
  helloCommand,
];
