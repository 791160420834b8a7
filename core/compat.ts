/**
 * Which Redis release's behaviour a server follows where releases differ: the one it reports
 * (`reported-redis-version`, 7.4.1 by default). A server reporting 7.0.x answers as Redis 7.0
 * does (the double format, error texts and counters 7.2 and 7.4 changed), so that clients gating
 * on the version and comparisons with a 7.0 server see one consistent release. This is the one
 * place that reads the version for behaviour; code asks {@linkcode compat}.
 *
 * @module
 */

import type { Config } from "./config.ts";
import { reportedVersion } from "./version.ts";
import { helpReply, type Reply } from "./resp/reply.ts";

/** What a server behaves as. */
export interface Compat {
  /** Redis 7.2 or later: shortest doubles, 7.2's ACL and error texts. */
  readonly v72: boolean;
  /** Redis 7.4 or later: 7.4's replies, HELP texts and counters. */
  readonly v74: boolean;
}

interface MutableCompat {
  v72: boolean;
  v74: boolean;
}

const known = new WeakMap<Config, MutableCompat>();

function update(c: MutableCompat, version: string): void {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  c.v72 = major > 7 || (major === 7 && minor >= 2);
  c.v74 = major > 7 || (major === 7 && minor >= 4);
}

/**
 * What the server whose config is `config` behaves as; follows CONFIG SET.
 *
 * @param config the server's config
 * @returns the flags, one object per config (read them at each use: they change with it)
 * @example
 * ```ts
 * import { createServer } from "../mod.ts";
 * import { compat } from "./compat.ts";
 * compat(createServer({ config: { "reported-redis-version": "7.0.15" } }).config).v72; // false
 * ```
 */
export function compat(config: Config): Compat {
  let c = known.get(config);
  if (c === undefined) {
    const fresh: MutableCompat = { v72: true, v74: true };
    update(fresh, reportedVersion(config));
    config.onChange((name, value) => {
      if (name === "reported-redis-version") update(fresh, String(value));
    });
    known.set(config, fresh);
    c = fresh;
  }
  return c;
}

const PRINT_72 = "    Print this help.";
const PRINT_70 = "    Prints this help.";

/**
 * A HELP reply as the server's version words it: `lines` are Redis 7.2's (which end `HELP` /
 * `    Print this help.`); Redis 7.0 said `Prints this help.`.
 *
 * @param client the client asking (its server's version decides)
 * @param lines the reply's lines, in 7.2's words
 * @returns the reply
 */
export function helpFor(client: { server: { config: Config } }, lines: string[]): Reply {
  if (compat(client.server.config).v72) return helpReply(lines);
  return helpReply(lines.map((l) => (l === PRINT_72 ? PRINT_70 : l)));
}
