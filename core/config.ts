/**
 * The live configuration behind CONFIG GET/SET, `--name value` flags and redis.conf: values by
 * canonical name, validated by the typed table in `config_defs.ts`.
 *
 * @module
 */

import { CONFIG_DEFS, paramDef } from "./config_defs.ts";
import { type ConfigDef, ConfigError, type ConfigParam, type ConfigValue } from "./config_types.ts";
import { globMatch } from "./glob.ts";

/** Reconfigures from the stored values after a CONFIG SET; may finish later (see onApply). */
type Applier = () => void | Promise<void>;

export { CONFIG_DEFS, paramDef, parseMemory, parseObufLimits } from "./config_defs.ts";
export type { ObufLimit } from "./config_defs.ts";
export { type ConfigDef, ConfigError, type ConfigParam, type ConfigValue } from "./config_types.ts";

/** Live configuration: values by canonical name, with change listeners. */
export class Config {
  private readonly defs = new Map<string, ConfigDef>();
  private readonly values = new Map<string, ConfigValue>();
  /** Defaults this server has instead of the table's (see setDefault). */
  private readonly defaults = new Map<string, ConfigValue>();
  private readonly listeners: Array<(name: string, value: ConfigValue) => void> = [];
  private readonly appliers: Array<{ names: ReadonlySet<string>; apply: Applier }> = [];

  constructor() {
    for (const def of CONFIG_DEFS) {
      this.defs.set(def.name, def);
      if (def.alias) this.defs.set(def.alias, def);
      this.values.set(def.name, def.default);
    }
  }

  /**

   * The definition of `name` (or an alias), if known.

   *

   * @internal

   */
  def(name: string): ConfigDef | undefined {
    return this.defs.get(name.toLowerCase());
  }

  /**
   * Adds a plugin's directive at its default value; a taken name throws.
   *
   * @param param the directive's name, default and range
   */
  define(param: ConfigParam): void {
    const def = paramDef(param);
    if (this.defs.has(def.name)) throw new Error(`Config parameter already defined: ${def.name}`);
    this.defs.set(def.name, def);
    this.values.set(def.name, def.default);
  }

  /** The typed value of a known directive. */
  get(name: string): ConfigValue {
    const def = this.def(name);
    if (!def) throw new RangeError(`Unknown config: ${name}`);
    return this.values.get(def.name)!;
  }

  /**
   * Gives a directive the user did not set another default for this server, and that value:
   * the command line's `save` points, which embedded servers do not have.
   *
   * @param name the directive
   * @param args its value as arguments
   */
  setDefault(name: string, args: string[]): void {
    this.set(name, args);
    this.defaults.set(this.def(name)!.name, this.get(name));
  }

  /**
   * The default of a known directive, as text (CONFIG REWRITE leaves directives at it out).
   *
   * @internal
   */
  defaultText(name: string): string {
    const def = this.def(name)!;
    return def.format(this.defaults.get(def.name) ?? def.default);
  }

  /** Number-valued directive. */
  num(name: string): number {
    return this.get(name) as number;
  }

  /** String-valued directive. */
  str(name: string): string {
    return String(this.get(name));
  }

  /** Boolean directive. */
  bool(name: string): boolean {
    return this.get(name) as boolean;
  }

  /** Called after every change with the canonical name. */
  onChange(listener: (name: string, value: ConfigValue) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Runs `apply` after a CONFIG SET that changed any of `names` (once per CONFIG SET, after every
   * value is stored), as Redis's apply functions: when it throws a ConfigError, the values of
   * that CONFIG SET are restored and the error names the first of `names` it set. Startup
   * settings do not run it (the server applies its whole config when it starts listening).
   * An applier that binds sockets finishes later: it returns a promise, rejected with a
   * ConfigError to refuse the values (see setMany).
   *
   * @param names the directives `apply` depends on (canonical names)
   * @param apply reconfigures from the stored values; throws ConfigError to refuse them
   */
  onApply(names: readonly string[], apply: () => void | Promise<void>): void {
    this.appliers.push({ names: new Set(names), apply });
  }

  /**
   * Sets the directives of `createServer({ config })` (booleans as yes/no, arrays as arguments).
   * Throws a TypeError naming the bad directive.
   */
  setFromOptions(options: Record<string, string | number | boolean | string[]>): void {
    const pairs: Array<[string, string[]]> = Object.entries(options).map((
      [k, v],
    ) => [k, Array.isArray(v) ? v : [typeof v === "boolean" ? (v ? "yes" : "no") : String(v)]]);
    try {
      this.setMany(pairs, true);
    } catch (e) {
      if (e instanceof ConfigError) throw new TypeError(`Invalid config: ${e.message}`);
      throw e;
    }
  }

  /**
   * Sets directives from text, all or nothing (CONFIG SET semantics). `startup` allows immutable
   * ones, `allowProtected` protected ones (core/protected.ts). Throws ConfigError naming the
   * failing argument in Redis's words.
   *
   * @returns when an applier finishes later (a port being bound), the promise of them all: it
   *   rejects with the ConfigError to answer once the old values are back and applied again
   */
  setMany(
    pairs: Array<[string, string[]]>,
    startup = false,
    allowProtected = startup,
  ): Promise<void> | undefined {
    const parsed: Array<[ConfigDef, ConfigValue]> = [];
    const seen = new Set<ConfigDef>();
    for (const [name, args] of pairs) {
      const def = this.def(name);
      if (!def) {
        throw new ConfigError(`Unknown option or number of arguments for CONFIG SET - '${name}'`);
      }
      if (def.immutable && !startup) throw setFailed(name, "can't set immutable config");
      if (def.protectedConfig && !allowProtected) {
        throw setFailed(name, "can't set protected config");
      }
      if (seen.has(def)) throw setFailed(name, "duplicate parameter");
      seen.add(def);
      try {
        let v = def.parse(args);
        def.validate?.(v);
        if (def.adjust) v = def.adjust(v);
        parsed.push([def, v]);
      } catch (e) {
        if (e instanceof ConfigError) throw setFailed(def.name, e.message);
        throw e;
      }
    }
    const before = parsed.map(([def]) => [def, this.values.get(def.name)!] as const);
    for (const [def, v] of parsed) this.values.set(def.name, v);
    const later: Array<Promise<[string, unknown]>> = [];
    if (!startup) {
      const done: Applier[] = [];
      for (const { names, apply } of this.appliers) {
        const first = parsed.find(([def]) => names.has(def.name));
        if (first === undefined) continue;
        try {
          const pending = apply();
          done.push(apply);
          if (pending !== undefined) {
            later.push(pending.then(() => ["", undefined], (e) => [first[0].name, e]));
          }
        } catch (e) {
          // As Redis: the old values come back, and what was applied is applied again with them.
          for (const [def, v] of before) this.values.set(def.name, v);
          for (const again of done) void again()?.catch(() => {});
          if (e instanceof ConfigError) throw setFailed(first[0].name, e.message);
          throw e;
        }
      }
    }
    for (const [def, v] of parsed) for (const l of this.listeners) l(def.name, v);
    if (later.length === 0) return undefined;
    return Promise.all(later).then(async (outcomes) => {
      const failed = outcomes.find(([name]) => name !== "");
      if (failed === undefined) return;
      // Every applier of this CONFIG SET runs again with the old values, the one that failed
      // too (Redis's restoreBackupConfig): a listener closed on the way is opened again.
      for (const [def, v] of before) this.values.set(def.name, v);
      const again: Array<Promise<void>> = [];
      for (const { names, apply } of this.appliers) {
        if (!parsed.some(([def]) => names.has(def.name))) continue;
        try {
          const pending = apply();
          if (pending !== undefined) again.push(pending.catch(() => {}));
        } catch {
          // Redis logs it and goes on: the old values stay stored.
        }
      }
      for (const [def, v] of before) for (const l of this.listeners) l(def.name, v);
      await Promise.all(again);
      const [name, e] = failed;
      throw e instanceof ConfigError ? setFailed(name, e.message) : e;
    });
  }

  /** Sets one directive programmatically from a typed value or text. */
  set(name: string, value: ConfigValue | string[]): void {
    const args = Array.isArray(value)
      ? value
      : [typeof value === "boolean" ? (value ? "yes" : "no") : String(value)];
    void this.setMany([[name, args]], true);
  }

  /** Name/value pairs for CONFIG GET with glob patterns (aliases match too). */
  match(patterns: string[]): Array<[string, string]> {
    const out = new Map<string, string>();
    for (const pattern of patterns) {
      const p = pattern.toLowerCase();
      for (const [name, def] of this.defs) {
        if (out.has(name)) continue;
        if (def.hidden ? p !== name : !globMatch(p, name)) continue;
        out.set(name, def.format(this.values.get(def.name)!));
      }
    }
    return [...out];
  }

  /**
   * Canonical entries with their current text, for CONFIG REWRITE.
   *
   * @internal
   */
  entries(): Array<[ConfigDef, string]> {
    return CONFIG_DEFS.map((d) => [d, d.format(this.values.get(d.name)!)]);
  }
}

function setFailed(name: string, why: string): ConfigError {
  return new ConfigError(`CONFIG SET failed (possibly related to argument '${name}') - ${why}`);
}
