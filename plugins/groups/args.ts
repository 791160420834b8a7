/**
 * Arguments of the GROUP.* commands, parsed into numbers with the README's error texts.
 *
 * @module
 */

import { parseI64 } from "../../core/bytes.ts";
import { fail } from "../../core/resp/reply.ts";

const MAX_CAPACITY = 2147483647;

/** A capacity: an integer from 0 to 2^31-1. */
export function capacityArg(s: string): number {
  const n = parseI64(s);
  if (typeof n !== "number" || n < 0 || n > MAX_CAPACITY) {
    return fail("ERR capacity must be an integer between 0 and 2147483647");
  }
  return n;
}

/** A positive number of milliseconds (TTL). */
export function ttlArg(s: string): number {
  const n = parseI64(s);
  if (typeof n !== "number" || n <= 0) {
    return fail("ERR TTL must be a positive integer number of milliseconds");
  }
  return n;
}

/** A fencing token: a positive integer. */
export function tokenArg(s: string): number {
  const n = parseI64(s);
  if (typeof n !== "number" || n <= 0) return fail("ERR token must be a positive integer");
  return n;
}

/** A grace period: a positive number of milliseconds. */
export function graceArg(s: string): number {
  const n = parseI64(s);
  if (typeof n !== "number" || n <= 0) {
    return fail("ERR GRACE must be a positive integer number of milliseconds");
  }
  return n;
}

/** A ban's length: a positive number of milliseconds. */
export function banArg(s: string): number {
  const n = parseI64(s);
  if (typeof n !== "number" || n <= 0) {
    return fail("ERR BAN must be a positive integer number of milliseconds");
  }
  return n;
}
