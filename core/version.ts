/**
 * Version numbers: redeno's own, and the Redis release whose behaviour it follows (what INFO's
 * `redis_version` reports, because clients parse it to pick features).
 *
 * @module
 */

/**
 * redeno's own version (`redeno --version`, INFO's `redeno_version`).
 *
 * @example
 * ```ts
 * import { REDENO_VERSION } from "./version.ts";
 * console.log(`redeno ${REDENO_VERSION}`);
 * ```
 */
export const REDENO_VERSION = "0.2.0";

/**
 * The Redis version whose behaviour redeno follows, and the version it reports by default (INFO's
 * `redis_version`, HELLO's `version`, LOLWUT, the RDB's `redis-ver`); the `reported-redis-version`
 * directive reports another one for clients that gate features on it.
 *
 * @example
 * ```ts
 * import { REDIS_COMPAT_VERSION } from "./version.ts";
 * console.log(`compatible with Redis ${REDIS_COMPAT_VERSION}`);
 * ```
 */
export const REDIS_COMPAT_VERSION = "7.4.1";

/**
 * The Redis version a server reports: its `reported-redis-version` directive.
 *
 * @param config the server's config
 * @returns a version such as `7.4.1`
 * @example
 * ```ts
 * import { createServer } from "../mod.ts";
 * import { reportedVersion } from "./version.ts";
 * reportedVersion(createServer({ config: { "reported-redis-version": "7.0.15" } }).config);
 * // "7.0.15"
 * ```
 */
export function reportedVersion(config: { str(name: string): string }): string {
  return config.str("reported-redis-version");
}
