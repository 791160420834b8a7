/**
 * Key specs, Redis 7's description of where a command's keys are and what it does with them
 * (`COMMAND INFO` element 9, `COMMAND GETKEYSANDFLAGS`): the {@linkcode keySpec} helper that
 * declares one in a line, the legacy `first/last/step` range and the `movablekeys` flag that
 * follow from a command's specs, and the search of a call's keys through them.
 *
 * @module
 */

/** Key-spec flags, as Redis names them: one of RO/RW/OW/RM, what is done, and qualifiers. */
export type KeySpecFlag =
  | "RO"
  | "RW"
  | "OW"
  | "RM"
  | "access"
  | "update"
  | "insert"
  | "delete"
  | "not_key"
  | "incomplete"
  | "variable_flags";

/**
 * A key specification (Redis 7's key specs): where the search for keys begins, how the keys are
 * found from there, and what the command does with them.
 */
export interface KeySpec {
  /** Flags as Redis names them (`RW`, `access`, `delete`, `incomplete`...). */
  flags: readonly KeySpecFlag[];
  /**
   * Where the search begins: an argument index, a keyword searched from `startfrom` (backwards
   * when negative), or unknown (the keys cannot be found from the arguments alone).
   */
  begin: { index: number } | { keyword: string; startfrom: number } | "unknown";
  /**
   * The keys from there: a range (`lastkey` relative to the first key, or < 0 from the end;
   * `limit` > 1 keeps only that fraction of the rest), a count at `keynumidx` followed by the keys
   * from `firstkey` (both relative to the beginning), or unknown.
   */
  find:
    | { lastkey: number; keystep: number; limit: number }
    | { keynumidx: number; firstkey: number; keystep: number }
    | "unknown";
  /** Redis's note on the spec, shown by `COMMAND INFO`. */
  notes?: string;
}

/** Where {@linkcode keySpec} finds the keys; every field has a default. */
export interface KeyPlace {
  /** Index of the first key, or of the count (default 1). */
  index?: number;
  /** Begin after this keyword instead of at an index. */
  keyword?: string;
  /** Where the keyword search starts (negative: from the end, backwards). */
  startfrom?: number;
  /** Last key, relative to the first one, or < 0 from the end (default 0: one key). */
  lastkey?: number;
  /** Distance between keys (default 1). */
  keystep?: number;
  /** See {@linkcode KeySpec.find} (default 0). */
  limit?: number;
  /** The keys are counted: index of the count, relative to the beginning. */
  keynumidx?: number;
  /** With `keynumidx`: the first key, relative to the beginning (default keynumidx + 1). */
  firstkey?: number;
  /** Neither the beginning nor the keys can be told from the arguments. */
  unknown?: true;
  /** Redis's note on the spec. */
  notes?: string;
}

/**
 * Declares a key spec in one line: the flags as one string, and where the keys are.
 *
 * @param flags the flags, space separated (`"RW access update"`)
 * @param place where the keys are; by default one key at index 1
 * @returns the key spec
 * @example One key, a list of keys, counted keys, keys after a keyword
 * ```ts
 * import { keySpec } from "./key_spec.ts";
 * keySpec("OW update"); // SET key value
 * keySpec("RO access", { lastkey: -1 }); // MGET key [key ...]
 * keySpec("RO access", { index: 2, keynumidx: 0 }); // ZUNION numkeys key [key ...]
 * keySpec("RO access", { keyword: "STREAMS", startfrom: 1, lastkey: -1, limit: 2 }); // XREAD
 * ```
 */
export function keySpec(flags: string, place: KeyPlace = {}): KeySpec {
  const p = place;
  const begin: KeySpec["begin"] = p.unknown
    ? "unknown"
    : p.keyword !== undefined
    ? { keyword: p.keyword, startfrom: p.startfrom ?? 1 }
    : { index: p.index ?? 1 };
  const find: KeySpec["find"] = p.unknown
    ? "unknown"
    : p.keynumidx !== undefined
    ? { keynumidx: p.keynumidx, firstkey: p.firstkey ?? p.keynumidx + 1, keystep: p.keystep ?? 1 }
    : { lastkey: p.lastkey ?? 0, keystep: p.keystep ?? 1, limit: p.limit ?? 0 };
  const spec: KeySpec = { flags: flags.split(" ") as KeySpecFlag[], begin, find };
  if (p.notes !== undefined) spec.notes = p.notes;
  return spec;
}

/** The legacy `first, last, step` of `COMMAND INFO`, and whether the keys move. */
export interface LegacyRange {
  /** First key position (0: none). */
  first: number;
  /** Last key position, or < 0 from the end. */
  last: number;
  /** Distance between keys. */
  step: number;
  /** Some keys are not in the range (Redis's `movablekeys` flag). */
  movable: boolean;
}

/**
 * The range Redis shows as `first, last, step` for a command with these key specs, and whether
 * they make its keys movable, as Redis's `populateCommandLegacyRangeSpec` decides: one range spec
 * is the range itself; several consecutive range specs with a step of 1 are merged; any other spec
 * makes the keys movable.
 *
 * @param specs the command's key specs
 * @returns the legacy range
 */
export function legacyRange(specs: readonly KeySpec[]): LegacyRange {
  const none = { first: 0, last: 0, step: 0 };
  if (specs.length === 0) return { ...none, movable: false };
  const [only] = specs;
  if (specs.length === 1 && only !== undefined) {
    const b = only.begin, f = only.find;
    if (typeof b !== "string" && "index" in b && typeof f !== "string" && "lastkey" in f) {
      const last = f.lastkey < 0 ? f.lastkey : b.index + f.lastkey;
      const movable = only.flags.includes("incomplete");
      return { first: b.index, last, step: f.keystep, movable };
    }
  }
  let first = Infinity, last = 0, prevLast = 0, movable = false;
  // Redis compares last keys unsigned, so that a key counted from the end is the largest.
  const unsigned = (n: number) => n < 0 ? 2 ** 32 + n : n;
  for (const s of specs) {
    const b = s.begin, f = s.find;
    if (typeof b === "string" || !("index" in b) || typeof f === "string" || !("lastkey" in f)) {
      movable = true;
      continue;
    }
    if (f.keystep !== 1 || (prevLast !== 0 && prevLast !== b.index - 1)) {
      movable = true;
      continue;
    }
    if (s.flags.includes("incomplete")) movable = true;
    first = Math.min(first, b.index);
    const abs = f.lastkey >= 0 ? f.lastkey + b.index : f.lastkey;
    if (unsigned(abs) > unsigned(last)) last = abs;
    prevLast = last;
  }
  if (first === Infinity) return { ...none, movable: true };
  return { first, last, step: 1, movable };
}

/** A key found in a call's arguments, with the flags of the spec that found it. */
export interface FoundKey {
  /** Position in argv. */
  pos: number;
  /** The spec's flags. */
  flags: readonly KeySpecFlag[];
}

/**
 * The keys of a call as its key specs find them (Redis's `getKeysUsingKeySpecs`), skipping the
 * specs flagged `not_key`; undefined when a spec cannot be applied (an unknown spec, a bad count,
 * a range outside the arguments) or is incomplete, and a command's own key finder must decide.
 *
 * @param specs the command's key specs
 * @param argv the call, command name first
 * @returns the keys, or undefined
 */
export function keysBySpecs(specs: readonly KeySpec[], argv: string[]): FoundKey[] | undefined {
  const out: FoundKey[] = [];
  const argc = argv.length;
  for (const s of specs) {
    if (s.flags.includes("not_key")) continue;
    const b = s.begin, f = s.find;
    if (typeof b === "string" || typeof f === "string") return undefined;
    let first = 0;
    if ("index" in b) first = b.index;
    else {
      const from = b.startfrom > 0 ? b.startfrom : argc + b.startfrom;
      const to = b.startfrom > 0 ? argc - 1 : 1;
      for (let i = from; i !== to; i = from <= to ? i + 1 : i - 1) {
        if (i >= argc || i < 1) break;
        if (argv[i]!.toLowerCase() === b.keyword.toLowerCase()) {
          first = i + 1;
          break;
        }
      }
      if (first === 0) continue;
    }
    let last: number, step: number;
    if ("lastkey" in f) {
      step = f.keystep;
      if (f.lastkey >= 0) last = first + f.lastkey;
      else if (f.limit === 0) last = argc + f.lastkey;
      else last = first + Math.trunc((argc - first) / f.limit) + f.lastkey;
    } else {
      step = f.keystep;
      const text = argv[first + f.keynumidx];
      if (text === undefined || !/^(0|[1-9][0-9]*)$/.test(text)) return undefined;
      first += f.firstkey;
      last = first + Number(text) - 1;
    }
    if (last >= argc || last < first || first >= argc) return undefined;
    for (let i = first; i <= last; i += step) out.push({ pos: i, flags: s.flags });
    if (s.flags.includes("incomplete")) return undefined;
  }
  return out;
}
