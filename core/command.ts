/**
 * Commands are data: a {@linkcode CommandSpec} names a command, its arity, flags and key
 * positions, and the synchronous handler that runs it. The registry is the one place a command is
 * known; dispatch gates, `COMMAND INFO` and `COMMAND DOCS` all read the same spec.
 *
 * @module
 */

import type { Client } from "./client.ts";
import type { Reply } from "./resp/reply.ts";
import { commandCategoryBits } from "./acl/categories.ts";
import type { KeySpec, KeySpecFlag } from "./key_spec.ts";

/** Command flags, as Redis names them in `COMMAND INFO`. */
export type CommandFlag =
  | "write"
  | "readonly"
  | "denyoom"
  | "admin"
  | "pubsub"
  | "noscript"
  | "blocking"
  | "loading"
  | "stale"
  | "skip_monitor"
  | "skip_slowlog"
  | "asking"
  | "fast"
  | "no_auth"
  | "may_replicate"
  | "no_mandatory_keys"
  | "no_async_loading"
  | "no_multi"
  | "allow_busy"
  | "movablekeys";

/** Where the keys are in argv: positions `first..last` every `step` (`last` < 0 counts from the end). */
export interface KeyRange {
  /** Position of the first key (1 = first argument). */
  first: number;
  /** Position of the last key; -1 = the last argument, -2 = the one before... */
  last: number;
  /** Distance between keys. */
  step: number;
}

/** What ACL key patterns a key of a command needs: read, write, both, or neither. */
export type KeyAccess = "R" | "W" | "RW" | "-";

/** Documentation of a command, for `COMMAND DOCS` and `redis-cli` hints. */
export interface CommandDocs {
  /** One-line summary. */
  summary: string;
  /** Redis version that introduced the command. */
  since: string;
  /** Command group (`string`, `generic`, `server`, `connection`, ...). */
  group: string;
  /** Time complexity. */
  complexity?: string;
  /**
   * The arguments after the command name, in Redis's notation: `key value [NX | XX]
   * [EX seconds | PX milliseconds] [key ...]`. Uppercase words are tokens, lowercase words are
   * placeholders, `[...]` is optional, `a | b` is a choice, `...` repeats.
   */
  args?: string;
  /** Deprecation, history and audience; Redis's own commands take Redis's (see DocNotes). */
  notes?: DocNotes;
}

/** What `COMMAND DOCS` says of a command besides its grammar: deprecation, audience, history. */
export interface DocNotes {
  /** Deprecated since a version, in favour of something else (`["6.2.0", "`GETRANGE`"]`). */
  deprecated?: readonly [since: string, replacedBy: string];
  /** A command servers send one another, not for users (REPLCONF): doc flag `syscmd`. */
  syscmd?: boolean;
  /** What changed in which version: `[["6.2.0", "Added the `GET` option."]]`. */
  history?: readonly (readonly [version: string, change: string])[];
}

/** The handler: runs synchronously to completion and returns the reply. */
export type Execute = (client: Client, argv: string[]) => Reply;

/** One command (or one subcommand of a container command like CONFIG). */
export interface CommandSpec {
  /** Lowercase name (`set`; for a subcommand, the subcommand alone: `get`). */
  name: string;
  /** Argument count including the name: positive is exact, negative is a minimum. */
  arity: number;
  /** Flags driving the dispatch gates. */
  flags?: readonly CommandFlag[];
  /** Fixed key positions. */
  keys?: KeyRange;
  /**
   * The flags of one call when they depend on its arguments (Redis's `get_command_flags`): EVAL
   * and FCALL answer their script's declared flags. Undefined: the spec's `flags`. Consulted where
   * a call's nature matters more than its name (CLIENT PAUSE WRITE).
   */
  callFlags?: (client: Client, argv: string[]) => readonly CommandFlag[] | undefined;
  /** Key positions for commands whose keys move (`EVAL script numkeys key...`). */
  getKeys?: (argv: string[]) => number[];
  /**
   * Redis 7's key specs, for `COMMAND INFO`, `COMMAND GETKEYS` and `GETKEYSANDFLAGS`: where the
   * keys are and what the command does with them (`keySpec("OW update")` for SET, see
   * core/key_spec.ts). `COMMAND INFO`'s `first, last, step` and `movablekeys` follow from them as
   * in Redis. When absent, one spec is derived from `keys`: `RW access update` for a `write`
   * command, `RO access` otherwise. Dispatch still finds keys through `keys` and `getKeys`.
   */
  keySpecs?: readonly KeySpec[];
  /**
   * The flags of the key at `pos` of a call, for `COMMAND GETKEYSANDFLAGS` when the key specs
   * cannot tell (one is `variable_flags` or `incomplete`) and the keys come from `getKeys` or
   * `keys`, as Redis's key finders of SET, BITFIELD, SORT and MIGRATE give them. Default: none.
   */
  keyFlags?: (argv: string[], pos: number) => readonly KeySpecFlag[];
  /**
   * Hints for clients and proxies in `COMMAND INFO`: `nondeterministic_output`,
   * `nondeterministic_output_order`, `request_policy:<all_shards|all_nodes|special|multi_shard>`,
   * `response_policy:<one_succeeded|all_succeeded|agg_logical_and|agg_logical_or|agg_min|agg_max|agg_sum|special>`.
   */
  tips?: readonly string[];
  /** The handler; a container command with subcommands has none. */
  execute?: Execute;
  /** Subcommands (`CONFIG GET`, `CLIENT LIST`...). */
  subcommands?: readonly CommandSpec[];
  /** Documentation. */
  docs?: CommandDocs;
  /**
   * The command may touch keys it does not name (SCAN, RANDOMKEY expire what they meet): its
   * effects are not wrapped in MULTI/EXEC when there are several, as in Redis.
   */
  touchesArbitraryKeys?: boolean;
  /**
   * Never propagated as itself, only through the effects of what it runs (EVAL, FCALL: a script
   * whose writes were all unreplicated with `redis.set_repl` propagates nothing).
   */
  effectsOnly?: boolean;
  /**
   * Timed with the batch like O(1) commands even though it is not one: EXEC, whose own work is
   * small and whose commands are timed themselves (reading the clock costs ~0.1 µs).
   */
  batchTimed?: boolean;
  /**
   * Position of the one argument that may be longer than a JavaScript string can be: the handler
   * reads it with `bigArg` (core/types/big_string.ts). A command without it answers Redis's
   * `string exceeds maximum allowed size` error to such an argument.
   */
  bigArg?: number;
  /**
   * True when the `bigArg` position takes bytes at any length from `BYTES_MIN` (a BigString the
   * command may store as it is); otherwise an argument shorter than the string cap arrives as a
   * string.
   */
  bigArgBytes?: boolean;
  /**
   * The ACL categories the command declares, without `@` (`["keyspace", "dangerous"]`): Redis's
   * `acl_categories`. Those the flags imply are added (`write` → write, `readonly` → read, `admin`
   * → admin and dangerous, `pubsub`, `blocking`, `fast`, else slow). When absent, the category of
   * the documentation group is declared (`string` → string, `generic` → keyspace...), except for a
   * container command, which declares none. See core/acl/categories.ts.
   */
  acl?: readonly string[];
  /**
   * The `yes|no|local` directive that allows the command (DEBUG: `enable-debug-command`), as
   * Redis's CMD_PROTECTED commands: refused with Redis's text unless it allows the client.
   */
  protectedBy?: string;
  /**
   * Positions of secret arguments (passwords), shown as `(redacted)` by MONITOR and SLOWLOG
   * (core/redact.ts). Runs only when one of them shows the command.
   */
  redact?: (argv: string[], client: Client) => number[];
  /**
   * What ACL key patterns a command's keys need (`%R~`, `%W~`): `R` read, `W` write, `RW` both,
   * `-` neither (EXISTS, TYPE: the key is only looked at); a pair gives the first key's need
   * and the other keys' (`SMOVE src dst`: `["RW", "W"]`). When absent, Redis's own table
   * (core/acl/key_access.ts) decides for its commands, and for others `write` commands need RW
   * and the rest R.
   */
  aclKeys?: KeyAccess | readonly [KeyAccess, KeyAccess];
}

/** Bit flags for the hot path (compiled from the spec's flag list). */
export const F = {
  write: 1,
  readonly: 2,
  denyoom: 4,
  admin: 8,
  pubsub: 16,
  noscript: 32,
  blocking: 64,
  loading: 128,
  stale: 256,
  noAuth: 512,
  fast: 1024,
  noMulti: 2048,
  allowBusy: 4096,
  mayReplicate: 8192,
  skipSlowlog: 16384,
  skipMonitor: 32768,
  /** Allowed only as its `protectedBy` directive says (core/protected.ts); not a Redis flag name. */
  protected: 65536,
} as const;

const FLAG_BITS: Partial<Record<CommandFlag, number>> = {
  write: F.write,
  readonly: F.readonly,
  denyoom: F.denyoom,
  admin: F.admin,
  pubsub: F.pubsub,
  noscript: F.noscript,
  blocking: F.blocking,
  loading: F.loading,
  stale: F.stale,
  no_auth: F.noAuth,
  fast: F.fast,
  no_multi: F.noMulti,
  allow_busy: F.allowBusy,
  may_replicate: F.mayReplicate,
  skip_slowlog: F.skipSlowlog,
  skip_monitor: F.skipMonitor,
};

/**
 * The bits of `F` for a list of flags.
 *
 * @param flags flag names
 * @returns their bits
 */
export function flagBits(flags: readonly CommandFlag[]): number {
  let bits = 0;
  for (const f of flags) bits |= FLAG_BITS[f] ?? 0;
  return bits;
}

const BUILTIN = new WeakSet<CommandSpec>();

/**
 * Marks specs as built-in: their handlers keep the dirty counter, keyspace events and effects
 * themselves, so their keyspace writes are not logged (see core/keyspace/write_log.ts). Every
 * other command (a plugin's) has its keyspace writes logged and settled by the server.
 *
 * @param specs the built-in command table
 */
export function markBuiltin(specs: Iterable<CommandSpec>): void {
  for (const spec of specs) BUILTIN.add(spec);
}

/** Per-command statistics (INFO commandstats). */
export interface CommandStats {
  /** Calls that ran. */
  calls: number;
  /** Total time spent in the command (µs). */
  usec: number;
  /** Calls refused before running (arity, gates). */
  rejected: number;
  /** Calls that ran and answered an error. */
  failed: number;
}

/** A registered command: the spec plus what the dispatcher needs at hand. */
export class Command {
  /** Lowercase name (the subcommand alone for a subcommand). */
  readonly name: string;
  /** `parent|name` for subcommands, as in error messages and COMMAND INFO. */
  readonly fullName: string;
  /** Argument count including the name: positive is exact, negative is a minimum. */
  readonly arity: number;
  /** The spec's flags as bits of `F`. */
  readonly bits: number;
  /** False for fast and O(1) commands, whose time is measured per batch, not per call. */
  readonly timed: boolean;
  /** Several effects are wrapped in MULTI/EXEC (not for SCAN-like commands, see the spec). */
  readonly wrapEffects: boolean;
  /** Propagated as its own argv when it changed the dataset without recording effects. */
  readonly propagatesSelf: boolean;
  /** A plugin's command: its keyspace writes are logged and settled (see write_log.ts). */
  readonly tracked: boolean;
  /** The handler; undefined for a container command. */
  readonly execute: Execute | undefined;
  /** Subcommands by lowercase name, for a container command. */
  readonly subcommands: Map<string, Command> | undefined;
  /** ACL category bits (core/acl/categories.ts). */
  readonly categories: number;
  /** Statistics for INFO commandstats. */
  readonly stats: CommandStats = { calls: 0, usec: 0, rejected: 0, failed: 0 };
  /** Untimed calls in the current batch (see Server.endBatch). */
  batchCalls = 0;
  /** Calls by duration bucket, for LATENCY HISTOGRAM (core/latency.ts); undefined until a call. */
  latency: number[] | undefined;

  /**
   * Wraps a spec for the dispatcher (the registry makes one per registered spec).
   *
   * @param spec the command's spec
   * @param parent the container command, for a subcommand
   */
  constructor(readonly spec: CommandSpec, readonly parent?: Command) {
    this.name = spec.name;
    this.fullName = parent ? `${parent.name}|${spec.name}` : spec.name;
    this.arity = spec.arity;
    let bits = flagBits(spec.flags ?? []);
    if ((spec.protectedBy ?? parent?.spec.protectedBy) !== undefined) bits |= F.protected;
    this.bits = bits;
    this.timed = (bits & F.fast) === 0 && spec.docs?.complexity !== "O(1)" &&
      spec.batchTimed !== true;
    this.wrapEffects = spec.touchesArbitraryKeys !== true;
    this.propagatesSelf = spec.effectsOnly !== true;
    this.tracked = parent !== undefined ? parent.tracked : !BUILTIN.has(spec);
    this.execute = spec.execute;
    this.categories = commandCategoryBits(spec, parent?.spec);
    if (spec.subcommands) {
      this.subcommands = new Map();
      for (const sub of spec.subcommands) this.subcommands.set(sub.name, new Command(sub, this));
    }
  }

  /** True when argv's length fits the arity. */
  arityOk(argc: number): boolean {
    const a = this.arity;
    return a > 0 ? argc === a : argc >= -a;
  }

  /** Positions of the keys in argv (empty when the command takes none). */
  keyPositions(argv: string[]): number[] {
    if (this.spec.getKeys) return this.spec.getKeys(argv);
    const k = this.spec.keys;
    if (!k || k.first === 0) return [];
    const last = k.last < 0 ? argv.length + k.last : k.last;
    const out: number[] = [];
    for (let i = k.first; i <= last && i < argv.length; i += k.step) out.push(i);
    return out;
  }
}
