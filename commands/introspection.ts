/**
 * COMMAND, COMMAND COUNT, INFO, DOCS, LIST, GETKEYS, GETKEYSANDFLAGS and HELP, all built from the
 * registry: a command's spec is the only place its arity, flags, keys and grammar are written.
 *
 * @module
 */

import { helpFor } from "../core/compat.ts";
import type { Client } from "../core/client.ts";
import type { Command, CommandFlag, CommandSpec, DocNotes } from "../core/command.ts";
import { REDIS_DOC_NOTES } from "./command_history.ts";
import {
  callKeys,
  commandKeySpecs,
  commandRange,
  commandTips,
  keyFlagsReply,
  keySpecsReply,
} from "./command_keys.ts";
import { globMatch } from "../core/glob.ts";
import { E, fail, MapReply, type Reply, SetReply, SimpleString } from "../core/resp/reply.ts";
import { argReply, parseArgs } from "./command_docs.ts";
import { categoryNames } from "../core/acl/categories.ts";

/** ACL categories of a command, `@` first (`@read`, `@string`, `@fast`), in Redis's order. */
export function aclCategories(cmd: Command): string[] {
  return categoryNames(cmd.categories);
}

/** Flags in the order Redis lists them (its addReplyFlagsForCommand); may_replicate is hidden. */
const FLAG_ORDER: readonly string[] = [
  "write",
  "readonly",
  "denyoom",
  "admin",
  "pubsub",
  "noscript",
  "blocking",
  "loading",
  "stale",
  "skip_monitor",
  "skip_slowlog",
  "asking",
  "fast",
  "no_auth",
  "no_mandatory_keys",
  "no_async_loading",
  "no_multi",
  "movablekeys",
  "allow_busy",
];

function flagSet(cmd: Command): Reply {
  const movable = commandRange(cmd).movable;
  const has = (f: string) =>
    f === "movablekeys" ? movable : cmd.spec.flags?.includes(f as CommandFlag) === true;
  return new SetReply(FLAG_ORDER.filter(has).map((f) => new SimpleString(f)));
}

/** The COMMAND INFO entry of one command. */
export function commandInfo(cmd: Command): Reply {
  const range = commandRange(cmd);
  const subs = cmd.subcommands ? [...cmd.subcommands.values()].map(commandInfo) : [];
  return [
    cmd.fullName,
    cmd.arity,
    flagSet(cmd),
    range.first,
    range.last,
    range.step,
    new SetReply(aclCategories(cmd).map((c) => new SimpleString(c))),
    new SetReply([...commandTips(cmd)]),
    keySpecsReply(cmd),
    // Redis replies subcommands as an array, and their absence as an empty set.
    subs.length === 0 ? new SetReply([]) : subs,
  ];
}

/** doc_flags, deprecated_since, replaced_by and history, as Redis orders them. */
function notesReply(notes: DocNotes): Reply[] {
  const out: Reply[] = [];
  const flags = [notes.deprecated && "deprecated", notes.syscmd && "syscmd"].filter((f) => !!f);
  if (flags.length > 0) {
    out.push("doc_flags", new SetReply(flags.map((f) => new SimpleString(f as string))));
  }
  if (notes.deprecated) {
    out.push("deprecated_since", notes.deprecated[0], "replaced_by", notes.deprecated[1]);
  }
  if (notes.history) out.push("history", new SetReply(notes.history.map(([v, c]) => [v, c])));
  return out;
}

/** The COMMAND DOCS entry of one command (without its name). */
export function commandDocs(cmd: Command): Reply {
  const d = cmd.spec.docs;
  const e: Reply[] = [
    "summary",
    d?.summary ?? "",
    "since",
    d?.since ?? "0.0.0",
    "group",
    d?.group ?? cmd.parent?.spec.docs?.group ?? "server",
  ];
  if (d?.complexity) e.push("complexity", d.complexity);
  const notes = d?.notes ?? REDIS_DOC_NOTES[cmd.fullName];
  if (notes !== undefined) e.push(...notesReply(notes));
  const keySpec = { next: 0, count: commandKeySpecs(cmd).length };
  if (d?.args) e.push("arguments", parseArgs(d.args).map((a) => argReply(a, keySpec)));
  if (cmd.subcommands) {
    const subs: Reply[] = [];
    for (const s of cmd.subcommands.values()) subs.push(s.fullName, commandDocs(s));
    e.push("subcommands", new MapReply(subs));
  }
  return new MapReply(e);
}

function lookup(client: Client, name: string): Command | undefined {
  const parts = name.toLowerCase().split("|");
  if (parts.length > 2) return undefined;
  const [top, sub] = parts;
  const cmd = client.server.command(top!);
  if (sub === undefined) return cmd;
  return cmd?.subcommands?.get(sub);
}

const HELP = [
  "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "(no subcommand)",
  "    Return details about all Redis commands.",
  "COUNT",
  "    Return the total number of commands in this Redis server.",
  "LIST",
  "    Return a list of all commands in this Redis server.",
  "INFO [<command-name> ...]",
  "    Return details about multiple Redis commands.",
  "    If no command names are given, documentation details for all",
  "    commands are returned.",
  "DOCS [<command-name> ...]",
  "    Return documentation details about multiple Redis commands.",
  "    If no command names are given, documentation details for all",
  "    commands are returned.",
  "GETKEYS <full-command>",
  "    Return the keys from a full Redis command.",
  "GETKEYSANDFLAGS <full-command>",
  "    Return the keys and the access flags from a full Redis command.",
  "HELP",
  "    Print this help.",
];

function sub(spec: Omit<CommandSpec, "flags"> & Partial<Pick<CommandSpec, "flags">>): CommandSpec {
  return { flags: ["loading", "stale"], acl: ["connection"], ...spec };
}

/** COMMAND [subcommand] */
export const commandCommand: CommandSpec = {
  name: "command",
  arity: -1,
  flags: ["loading", "stale"],
  acl: ["connection"],
  docs: {
    summary: "Get array of Redis command details",
    since: "2.8.13",
    group: "server",
    complexity: "O(N) where N is the total number of Redis commands",
  },
  execute(client) {
    return [...client.server.allCommands()].map(commandInfo);
  },
  subcommands: [
    sub({
      name: "count",
      arity: 2,
      docs: {
        summary: "Get total number of Redis commands",
        since: "2.8.13",
        group: "server",
        complexity: "O(1)",
      },
      execute: (client) => [...client.server.allCommands()].length,
    }),
    sub({
      name: "info",
      arity: -2,
      docs: {
        summary: "Get array of specific Redis command details, or all when no argument is given.",
        since: "2.8.13",
        group: "server",
        complexity: "O(N) where N is the number of commands to look up",
        args: "[command-name [command-name ...]]",
      },
      execute(client, argv) {
        if (argv.length === 2) return [...client.server.allCommands()].map(commandInfo);
        return argv.slice(2).map((n) => {
          const cmd = lookup(client, n);
          return cmd ? commandInfo(cmd) : null;
        });
      },
    }),
    sub({
      name: "docs",
      arity: -2,
      docs: {
        summary: "Get array of specific Redis command documentation",
        since: "7.0.0",
        group: "server",
        complexity: "O(N) where N is the number of commands to look up",
        args: "[command-name [command-name ...]]",
      },
      execute(client, argv) {
        const cmds = argv.length === 2
          ? [...client.server.allCommands()]
          : argv.slice(2).map((n) => lookup(client, n)).filter((c): c is Command => !!c);
        const out: Reply[] = [];
        for (const c of cmds) out.push(c.fullName, commandDocs(c));
        return new MapReply(out);
      },
    }),
    sub({
      name: "list",
      arity: -2,
      docs: {
        summary: "Get an array of Redis command names",
        since: "7.0.0",
        group: "server",
        complexity: "O(N) where N is the total number of Redis commands",
        args: "[FILTERBY <MODULE module-name | ACLCAT category | PATTERN pattern>]",
      },
      execute(client, argv) {
        const names: string[] = [];
        const all = [...client.server.allCommands()];
        if (argv.length === 2) {
          return all.flatMap((
            c,
          ) => [c.name, ...[...c.subcommands?.values() ?? []].map((x) => x.fullName)]);
        }
        if (argv.length !== 5 || argv[2]!.toUpperCase() !== "FILTERBY") return fail(E.syntax);
        const kind = argv[3]!.toUpperCase();
        const v = argv[4]!;
        for (const c of all) {
          const family = [c, ...(c.subcommands?.values() ?? [])];
          for (const x of family) {
            if (kind === "PATTERN" && globMatch(v.toLowerCase(), x.fullName, true)) {
              names.push(x.fullName);
            } else if (kind === "ACLCAT" && aclCategories(x).includes(`@${v.toLowerCase()}`)) {
              names.push(x.fullName);
            }
          }
          if (kind !== "PATTERN" && kind !== "ACLCAT" && kind !== "MODULE") return fail(E.syntax);
        }
        return names;
      },
    }),
    sub({
      name: "getkeys",
      arity: -4,
      docs: {
        summary: "Extract keys given a full Redis command",
        since: "2.8.13",
        group: "server",
        complexity: "O(N) where N is the number of arguments to the command",
        args: "command [arg [arg ...]]",
      },
      execute: (client, argv) => callKeys(client, argv).map((k) => argv[k.pos + 2]!),
    }),
    sub({
      name: "getkeysandflags",
      arity: -4,
      docs: {
        summary: "Extract keys and access flags given a full Redis command",
        since: "7.0.0",
        group: "server",
        complexity: "O(N) where N is the number of arguments to the command",
        args: "command [arg [arg ...]]",
      },
      execute: (client, argv) =>
        callKeys(client, argv).map((k) => [argv[k.pos + 2]!, keyFlagsReply(k.flags)]),
    }),
    sub({
      name: "help",
      arity: 2,
      docs: {
        summary: "Show helpful text about the different subcommands",
        since: "5.0.0",
        group: "server",
        complexity: "O(1)",
      },
      execute: (client) => helpFor(client, HELP),
    }),
  ],
};
