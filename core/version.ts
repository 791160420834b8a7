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
 * The Redis version redeno answers as (INFO's `redis_version`, HELLO's `version`).
 *
 * @example
 * ```ts
 * import { REDIS_COMPAT_VERSION } from "./version.ts";
 * console.log(`compatible with Redis ${REDIS_COMPAT_VERSION}`);
 * ```
 */
export const REDIS_COMPAT_VERSION = "7.0.15";
