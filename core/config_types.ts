/**
 * Types shared by the config table (`config_defs.ts`) and the live config (`config.ts`).
 *
 * @module
 */

/** Parses the text of a value; returns the value or throws `ConfigError` with Redis's wording. */
export type Parse = (args: string[]) => ConfigValue;
/** A config value as stored. */
export type ConfigValue = string | number | boolean;

/** A bad config value; the message is Redis's (`argument must be a memory value`). */
export class ConfigError extends Error {}

/** One directive. */
export interface ConfigDef {
  name: string;
  alias?: string;
  default: ConfigValue;
  parse: Parse;
  format: (v: ConfigValue) => string;
  immutable?: boolean;
  /** A secret (`requirepass`, `masterauth`): CONFIG SET's value is redacted in MONITOR/SLOWLOG. */
  sensitive?: boolean;
  /** Settable by CONFIG SET only as `enable-protected-configs` allows (`dir`, `dbfilename`). */
  protectedConfig?: boolean;
  inert?: boolean;
  /** Left out of glob matches (CONFIG GET *); only an exact name returns it. */
  hidden?: boolean;
  /** Accepts several words (`save 3600 1 300 100`). */
  multiArg?: boolean;
  /** Checks a new value against the rest of the state; throws ConfigError to refuse it. */
  validate?: (v: ConfigValue) => void;
  /**
   * Caps an accepted value, as Redis's apply step does (`hz 1000` is stored as 500): the value
   * is valid, the server just will not use more than it can.
   */
  adjust?: (v: ConfigValue) => ConfigValue;
}

/**
 * A config directive a plugin adds (see `Plugin.config`): set through `createServer({ config })`,
 * `CONFIG SET` and `CONFIG GET` like Redis's own, read with `server.config.get(name)`. Its type
 * follows its default: a number is an integer (within `min`..`max`), a boolean is `yes`/`no`, a
 * string any single word.
 */
export interface ConfigParam {
  /** The name, lowercase and namespaced like the plugin's commands (`ratelimit.window-ms`). */
  name: string;
  /** The value until one is set. */
  default: ConfigValue;
  /** Smallest integer accepted (numbers only; default `Number.MIN_SAFE_INTEGER`). */
  min?: number;
  /** Largest integer accepted (numbers only; default `Number.MAX_SAFE_INTEGER`). */
  max?: number;
  /** Only settable at startup, as Redis's immutable directives (default false). */
  immutable?: boolean;
}
