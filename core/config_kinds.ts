/**
 * The kinds of config directive (yes/no, integer in a range, word, one of a list): each builds
 * the parse and format of a ConfigDef with Redis's wording for a bad value.
 *
 * @module
 */

import { type ConfigDef, ConfigError } from "./config_types.ts";

/** Redis's INT_MAX, the upper bound of most integer directives. */
export const INT_MAX = 2147483647;

/** The one argument of a single-word directive. */
export function oneArg(args: string[]): string {
  if (args.length !== 1) throw new ConfigError("wrong number of arguments");
  return args[0]!;
}

/** A yes/no directive. */
export function bool(name: string, def: boolean, extra: Partial<ConfigDef> = {}): ConfigDef {
  return {
    name,
    default: def,
    parse: (args) => {
      const v = oneArg(args).toLowerCase();
      if (v === "yes") return true;
      if (v === "no") return false;
      throw new ConfigError("argument must be 'yes' or 'no'");
    },
    format: (v) => (v ? "yes" : "no"),
    ...extra,
  };
}

/** An integer directive within `min`..`max`. */
export function int(
  name: string,
  def: number,
  min: number,
  max: number,
  extra: Partial<ConfigDef> = {},
): ConfigDef {
  return {
    name,
    default: def,
    parse: (args) => {
      const text = oneArg(args);
      if (!/^-?\d+$/.test(text)) {
        throw new ConfigError("argument couldn't be parsed into an integer");
      }
      const n = Number(text);
      if (n < min || n > max) {
        throw new ConfigError(`argument must be between ${min} and ${max} inclusive`);
      }
      return n;
    },
    format: (v) => String(v),
    ...extra,
  };
}

/** A directive of one word, kept as given. */
export function str(name: string, def: string, extra: Partial<ConfigDef> = {}): ConfigDef {
  return { name, default: def, parse: (args) => oneArg(args), format: (v) => String(v), ...extra };
}

/** A directive that is one of `values` (lowercased). */
export function choice(
  name: string,
  def: string,
  values: string[],
  extra: Partial<ConfigDef> = {},
): ConfigDef {
  return {
    name,
    default: def,
    parse: (args) => {
      const v = oneArg(args).toLowerCase();
      if (!values.includes(v)) {
        throw new ConfigError(`argument(s) must be one of the following: ${values.join(", ")}`);
      }
      return v;
    },
    format: (v) => String(v),
    ...extra,
  };
}

/**
 * A set of flags among `names` (Redis's bitflag enum): any order and case in, the list's order
 * out; `none` alone, or no flag, is `none`.
 */
export function flags(
  name: string,
  none: string,
  names: readonly string[],
  extra: Partial<ConfigDef> = {},
): ConfigDef {
  const all = [none, ...names];
  const bad = `argument(s) must be one of the following: ${all.join(", ")}`;
  return {
    name,
    default: none,
    parse: (args) => {
      const words = args.length === 1 ? args[0]!.split(/\s+/).filter(Boolean) : args;
      if (words.length === 0) throw new ConfigError(bad);
      const set = new Set<string>();
      for (const w of words) {
        const v = w.toLowerCase();
        if (!all.includes(v)) throw new ConfigError(bad);
        if (v !== none) set.add(v);
      }
      return set.size === 0 ? none : names.filter((n) => set.has(n)).join(" ");
    },
    format: (v) => String(v),
    multiArg: true,
    ...extra,
  };
}
