/**
 * ACL SETUSER, GETUSER, DELUSER, LIST, USERS, WHOAMI, CAT, GENPASS, LOG, DRYRUN, LOAD, SAVE and
 * HELP, with Redis 7.0's replies and errors. The users and the checks are in core/acl/.
 *
 * @module
 */

import { helpFor } from "../core/compat.ts";
import type { Client } from "../core/client.ts";
import type { CommandSpec } from "../core/command.ts";
import { intArg } from "../core/args.ts";
import { redactFrom } from "../core/redact.ts";
import { randomHex } from "../core/bytes.ts";
import { CATEGORIES, categoryBit } from "../core/acl/categories.ts";
import { aclErrorMessage, AclResult, checkCommand } from "../core/acl/check.ts";
import { compat } from "../core/compat.ts";
import { describeChannels, describeCommands, describeKeys } from "../core/acl/describe.ts";
import { aclFilePath, loadAclFile, saveAclFile } from "../core/acl/file.ts";
import type { Selector } from "../core/acl/selector.ts";
import { fail, MapReply, R, type Reply, SetReply } from "../core/resp/reply.ts";

const ADMIN: CommandSpec["flags"] = ["admin", "noscript", "loading", "stale"];
const PLAIN: CommandSpec["flags"] = ["noscript", "loading", "stale"];

function sub(
  name: string,
  arity: number,
  flags: CommandSpec["flags"],
  docs: { summary: string; complexity: string; args?: string; since?: string },
  execute: (client: Client, argv: string[]) => Reply,
): CommandSpec {
  return {
    name,
    arity,
    flags,
    docs: { since: "6.0.0", group: "server", ...docs },
    execute,
  };
}

function selectorFields(client: Client, sel: Selector): Reply[] {
  const acl = client.server.acl;
  return [
    "commands",
    describeCommands(sel, acl.commands),
    "keys",
    describeKeys(sel),
    "channels",
    describeChannels(sel),
  ];
}

/** Redis's addReplySubcommandSyntaxError: a subcommand with a count of arguments it refuses. */
function syntaxError(argv: string[]): never {
  return fail(
    `ERR unknown subcommand or wrong number of arguments for '${argv[1]!.slice(0, 128)}'. Try ${
      argv[0]!.toUpperCase()
    } HELP.`,
  );
}

function aclFile(client: Client): string {
  const path = aclFilePath(client.server.config);
  if (path === undefined) {
    return fail(
      "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.",
    );
  }
  return path;
}

const HELP = [
  "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CAT [<category>]",
  "    List all commands that belong to <category>, or all command categories",
  "    when no category is specified.",
  "DELUSER <username> [<username> ...]",
  "    Delete a list of users.",
  "DRYRUN <username> <command> [<arg> ...]",
  "    Returns whether the user can execute the given command without executing the command.",
  "GETUSER <username>",
  "    Get the user's details.",
  "GENPASS [<bits>]",
  "    Generate a secure 256-bit user password. The optional `bits` argument can",
  "    be used to specify a different size.",
  "LIST",
  "    Show users details in config file format.",
  "LOAD",
  "    Reload users from the ACL file.",
  "LOG [<count> | RESET]",
  "    Show the ACL log entries.",
  "SAVE",
  "    Save the current config to the ACL file.",
  "SETUSER <username> <attribute> [<attribute> ...]",
  "    Create or modify a user with the specified attributes.",
  "USERS",
  "    List all the registered usernames.",
  "WHOAMI",
  "    Return the current connection username.",
  "HELP",
  "    Print this help.",
];

/** ACL <subcommand> */
export const aclCommand: CommandSpec = {
  name: "acl",
  arity: -2,
  docs: {
    summary: "A container for Access List Control commands ",
    since: "6.0.0",
    group: "server",
    complexity: "Depends on subcommand.",
  },
  subcommands: [
    sub("cat", -2, PLAIN, {
      summary: "List the ACL categories or the commands inside a category",
      complexity: "O(1) since the categories and commands are a fixed set.",
      args: "[categoryname]",
    }, (client, argv) => {
      if (argv.length > 3) return syntaxError(argv);
      if (argv.length === 2) return [...CATEGORIES];
      const bit = categoryBit(argv[2]!);
      if (bit === 0) return fail(`ERR Unknown category '${argv[2]!.slice(0, 128)}'`);
      return client.server.acl.commands.all().filter((c) => (c.categories & bit) !== 0).map((c) =>
        c.fullName
      );
    }),
    sub("deluser", -3, ADMIN, {
      summary: "Remove the specified ACL users and the associated rules",
      complexity: "O(1) amortized time considering the typical user.",
      args: "username [username ...]",
    }, (client, argv) => {
      const names = argv.slice(2);
      if (names.includes("default")) return fail("ERR The 'default' user cannot be removed");
      return client.server.acl.deleteUsers(names);
    }),
    sub("dryrun", -4, ADMIN, {
      summary:
        "Returns whether the user can execute the given command without executing the command.",
      complexity: "O(1).",
      since: "7.0.0",
      args: "username command [arg [arg ...]]",
    }, (client, argv) => {
      const acl = client.server.acl;
      const user = acl.user(argv[2]!);
      if (user === undefined) return fail(`ERR User '${argv[2]}' not found`);
      const inner = argv.slice(3);
      let cmd = acl.commands.lookup(inner[0]!);
      if (cmd?.subcommands !== undefined && inner.length >= 2) {
        cmd = cmd.subcommands.get(inner[1]!.toLowerCase());
      }
      if (cmd === undefined || inner[0]!.includes("|")) {
        return fail(`ERR Command '${inner[0]}' not found`);
      }
      if (!cmd.arityOk(inner.length)) {
        return fail(`ERR wrong number of arguments for '${cmd.fullName}' command`);
      }
      const d = checkCommand(user, cmd, inner);
      if (d === undefined) return R.ok;
      if (compat(client.server.config).v72) return aclErrorMessage(d, user, cmd, inner[d.pos]);
      if (d.reason === AclResult.command) {
        return `This user has no permissions to run the '${cmd.fullName}' command`;
      }
      const what = d.reason === AclResult.key ? "key" : "channel";
      return `This user has no permissions to access the '${inner[d.pos]}' ${what}`;
    }),
    sub("genpass", -2, PLAIN, {
      summary: "Generate a pseudorandom secure password to use for ACL users",
      complexity: "O(1)",
      args: "[bits]",
    }, (_client, argv) => {
      if (argv.length > 3) return syntaxError(argv);
      const bits = argv.length === 3 ? intArg(argv[2]!) : 256;
      if (bits <= 0 || bits > 4096) {
        return fail(
          "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096",
        );
      }
      return randomHex(Math.floor((bits + 3) / 4));
    }),
    sub("getuser", 3, ADMIN, {
      summary: "Get the rules for a specific ACL user",
      complexity:
        "O(N). Where N is the number of password, command and pattern rules that the user has.",
      args: "username",
    }, (client, argv) => {
      const u = client.server.acl.user(argv[2]!);
      if (u === undefined) return null;
      return new MapReply([
        "flags",
        new SetReply(u.flags()),
        "passwords",
        [...u.passwords],
        ...selectorFields(client, u.root),
        "selectors",
        u.selectors.slice(1).map((s) => new MapReply(selectorFields(client, s))),
      ]);
    }),
    sub("list", 2, ADMIN, {
      summary: "List the current ACL rules in ACL config file format",
      complexity: "O(N). Where N is the number of configured users.",
    }, (client) => {
      const acl = client.server.acl;
      return acl.sortedUsers().map((u) => `user ${u.name} ${u.describe(acl.commands)}`);
    }),
    sub("load", 2, ADMIN, {
      summary: "Reload the ACLs from the configured ACL file",
      complexity: "O(N). Where N is the number of configured users.",
    }, (client) => {
      const err = loadAclFile(
        client.server.acl,
        aclFile(client),
        client.server.config.str("aclfile"),
      );
      return err === undefined ? R.ok : fail(`ERR ${err}`);
    }),
    sub("log", -2, ADMIN, {
      summary: "List latest events denied because of ACLs in place",
      complexity: "O(N) with N being the number of entries shown.",
      args: "[count | RESET]",
    }, (client, argv) => {
      if (argv.length > 3) return syntaxError(argv);
      const log = client.server.acl.log;
      let count = 10;
      if (argv.length === 3) {
        if (argv[2]!.toLowerCase() === "reset") {
          log.entries.length = 0;
          return R.ok;
        }
        count = Math.max(0, intArg(argv[2]!));
      }
      return log.reply(count, client.server.clock.now());
    }),
    sub("save", 2, ADMIN, {
      summary: "Save the current ACL rules in the configured ACL file",
      complexity: "O(N). Where N is the number of configured users.",
    }, (client) => {
      const server = client.server;
      const err = saveAclFile(server.acl, aclFile(client), server.clock.now());
      if (err === undefined) return R.ok;
      server.log("warning", `Writing ACL file for ACL SAVE: ${err.message}`);
      return fail(
        "ERR There was an error trying to save the ACLs. Please check the server logs for more information",
      );
    }),
    {
      ...sub("setuser", -3, ADMIN, {
        summary: "Modify or create the rules for a specific ACL user",
        complexity: "O(N). Where N is the number of rules provided.",
        args: "username [rule [rule ...]]",
      }, (client, argv) => {
        const acl = client.server.acl;
        const name = argv[2]!;
        const bad = acl.badName(name);
        if (bad !== undefined) return fail(bad);
        const err = acl.setUser(name, argv.slice(3));
        return err === undefined ? R.ok : fail(err);
      }), // MONITOR and SLOWLOG show the name and rules as (redacted), as Redis 7.0.15
      redact: redactFrom(2),
    },
    sub("users", 2, ADMIN, {
      summary: "List the username of all the configured ACL rules",
      complexity: "O(N). Where N is the number of configured users.",
    }, (client) => client.server.acl.sortedUsers().map((u) => u.name)),
    sub("whoami", 2, PLAIN, {
      summary: "Return the name of the user associated to the current connection",
      complexity: "O(1)",
    }, (client) => client.user.name),
    sub("help", 2, ["loading", "stale"], {
      summary: "Show helpful text about the different subcommands",
      complexity: "O(1)",
    }, (client) => helpFor(client, HELP)),
  ],
};
