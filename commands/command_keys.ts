/**
 * The keys side of COMMAND: a command's key specs as `COMMAND INFO` shows them, and the keys of a
 * call with their flags for `COMMAND GETKEYS` and `GETKEYSANDFLAGS`, found as Redis 7.0 finds
 * them (the key specs first, the command's own key finder when they cannot tell).
 *
 * @module
 */

import type { Client } from "../core/client.ts";
import type { Command } from "../core/command.ts";
import {
  type FoundKey,
  keysBySpecs,
  type KeySpec,
  keySpec,
  type LegacyRange,
  legacyRange,
} from "../core/key_spec.ts";
import { REDIS_KEY_SPECS, REDIS_TIPS } from "./command_table.ts";
import {
  ErrorReply,
  fail,
  MapReply,
  type Reply,
  SetReply,
  SimpleString,
} from "../core/resp/reply.ts";

const derived = new WeakMap<Command, readonly KeySpec[]>();

/** The specs a command declares, or Redis's for a command of its name. */
function declaredSpecs(cmd: Command): readonly KeySpec[] | undefined {
  return cmd.spec.keySpecs ?? REDIS_KEY_SPECS[cmd.fullName];
}

/** The command's tips: declared, or Redis's for a command of its name. */
export function commandTips(cmd: Command): readonly string[] {
  return cmd.spec.tips ?? REDIS_TIPS[cmd.fullName] ?? [];
}

/** The command's key specs: declared, Redis's, or the one its `keys` range and flags imply. */
export function commandKeySpecs(cmd: Command): readonly KeySpec[] {
  const declared = declaredSpecs(cmd);
  if (declared !== undefined) return declared;
  let specs = derived.get(cmd);
  if (specs === undefined) {
    const k = cmd.spec.keys;
    const write = cmd.spec.flags?.includes("write") === true;
    specs = !k || k.first === 0 ? [] : [
      keySpec(write ? "RW access update" : "RO access", {
        index: k.first,
        lastkey: k.last < 0 ? k.last : k.last - k.first,
        keystep: k.step,
      }),
    ];
    derived.set(cmd, specs);
  }
  return specs;
}

/** `first, last, step` and `movablekeys` as COMMAND INFO shows them. */
export function commandRange(cmd: Command): LegacyRange {
  const r = legacyRange(commandKeySpecs(cmd));
  if (cmd.spec.getKeys !== undefined && declaredSpecs(cmd) === undefined) r.movable = true;
  return r;
}

/** Key-spec flags as a RESP3 set of simple strings. */
export function keyFlagsReply(flags: readonly string[]): Reply {
  return new SetReply(flags.map((f) => new SimpleString(f)));
}

function beginReply(b: KeySpec["begin"]): Reply {
  if (b === "unknown") return new MapReply(["type", "unknown", "spec", new MapReply([])]);
  if ("index" in b) {
    return new MapReply(["type", "index", "spec", new MapReply(["index", b.index])]);
  }
  return new MapReply([
    "type",
    "keyword",
    "spec",
    new MapReply(["keyword", b.keyword, "startfrom", b.startfrom]),
  ]);
}

function findReply(f: KeySpec["find"]): Reply {
  if (f === "unknown") return new MapReply(["type", "unknown", "spec", new MapReply([])]);
  if ("lastkey" in f) {
    return new MapReply([
      "type",
      "range",
      "spec",
      new MapReply(["lastkey", f.lastkey, "keystep", f.keystep, "limit", f.limit]),
    ]);
  }
  return new MapReply([
    "type",
    "keynum",
    "spec",
    new MapReply(["keynumidx", f.keynumidx, "firstkey", f.firstkey, "keystep", f.keystep]),
  ]);
}

/** The key specs of COMMAND INFO (a set in RESP3, as Redis 7.0.15 replies them). */
export function keySpecsReply(cmd: Command): Reply {
  return new SetReply(
    commandKeySpecs(cmd).map((ks) => {
      const m: Reply[] = ks.notes !== undefined ? ["notes", ks.notes] : [];
      m.push(
        "flags",
        keyFlagsReply(ks.flags),
        "begin_search",
        beginReply(ks.begin),
        "find_keys",
        findReply(ks.find),
      );
      return new MapReply(m);
    }),
  );
}

/** The command's own key finder finds no keys where it would refuse the call (`EVAL s x`). */
function positionsOrNone(cmd: Command, argv: string[]): number[] {
  try {
    return cmd.keyPositions(argv);
  } catch (e) {
    if (e instanceof ErrorReply) return [];
    throw e;
  }
}

/**
 * The keys of the call after `COMMAND GETKEYS[ANDFLAGS]`, with their flags, or Redis's error.
 *
 * @param client the calling client
 * @param argv the whole COMMAND call
 * @returns the keys found, positions relative to the inner call
 */
export function callKeys(client: Client, argv: string[]): FoundKey[] {
  const inner = argv.slice(2);
  const top = client.server.command(inner[0]!);
  // A container alone is itself (it has no keys); a subcommand is looked up by its name.
  const cmd = top?.subcommands && inner.length > 1
    ? top.subcommands.get(inner[1]!.toLowerCase())
    : top;
  if (cmd === undefined) return fail("ERR Invalid command specified");
  const specs = commandKeySpecs(cmd);
  const real = specs.some((s) => !s.flags.includes("not_key"));
  if (!real && cmd.spec.getKeys === undefined) return fail("ERR The command has no key arguments");
  if (!cmd.arityOk(inner.length)) {
    return fail("ERR Invalid number of arguments specified for command");
  }
  let keys: FoundKey[] | undefined;
  if (real && !specs.some((s) => s.flags.includes("variable_flags"))) {
    keys = keysBySpecs(specs, inner);
  }
  if (keys === undefined) {
    const flagsOf = cmd.spec.keyFlags;
    keys = positionsOrNone(cmd, inner).map((pos) => ({ pos, flags: flagsOf?.(inner, pos) ?? [] }));
  }
  if (keys.length === 0 && !cmd.spec.flags?.includes("no_mandatory_keys")) {
    return fail("ERR Invalid arguments specified for command");
  }
  return keys;
}
