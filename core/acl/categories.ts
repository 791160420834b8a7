/**
 * ACL categories: Redis 7.0's 21 categories (in `ACL CAT`'s order) and the categories of a
 * command. A command's categories are those its spec declares (`acl`, or by default the one of
 * its documentation group) plus those its flags imply, as Redis derives them: `write` → @write,
 * `readonly` → @read (not for scripting commands), `admin` → @admin and @dangerous, `pubsub` →
 * @pubsub, `blocking` → @blocking, `fast` → @fast, otherwise @slow.
 *
 * @module
 */

import type { CommandSpec } from "../command.ts";

/** The categories in Redis's order (ACL CAT, COMMAND INFO). */
export const CATEGORIES: readonly string[] = [
  "keyspace",
  "read",
  "write",
  "set",
  "sortedset",
  "list",
  "hash",
  "string",
  "bitmap",
  "hyperloglog",
  "geo",
  "stream",
  "pubsub",
  "admin",
  "fast",
  "slow",
  "blocking",
  "dangerous",
  "connection",
  "transaction",
  "scripting",
];

const BIT = new Map(CATEGORIES.map((c, i) => [c, 1 << i]));

/** The bit of category `name` (any case), or 0 when there is no such category. */
export function categoryBit(name: string): number {
  return BIT.get(name.toLowerCase()) ?? 0;
}

/** Category of a documentation group, for a command that declares none of its own. */
const GROUP_CATEGORY: Record<string, string> = {
  string: "string",
  generic: "keyspace",
  list: "list",
  hash: "hash",
  set: "set",
  "sorted-set": "sortedset",
  stream: "stream",
  pubsub: "pubsub",
  connection: "connection",
  scripting: "scripting",
  transactions: "transaction",
  bitmap: "bitmap",
  hyperloglog: "hyperloglog",
  geo: "geo",
};

/**
 * The category bits of a command.
 *
 * @param spec the command's spec
 * @param parent the container's spec, for a subcommand
 * @returns bits of {@linkcode categoryBit}
 */
export function commandCategoryBits(spec: CommandSpec, parent?: CommandSpec): number {
  let bits = 0;
  if (spec.acl !== undefined) {
    for (const c of spec.acl) {
      const b = categoryBit(c);
      if (b === 0) throw new TypeError(`Unknown ACL category of command ${spec.name}: ${c}`);
      bits |= b;
    }
  } else if (spec.subcommands === undefined) {
    // A container (CONFIG, OBJECT...) declares nothing: only its flags give it categories.
    const g = GROUP_CATEGORY[spec.docs?.group ?? parent?.docs?.group ?? ""];
    if (g !== undefined) bits |= categoryBit(g);
  }
  const flags = spec.flags ?? [];
  const scripting = (bits & categoryBit("scripting")) !== 0;
  for (const f of flags) {
    if (f === "write") bits |= categoryBit("write");
    else if (f === "readonly" && !scripting) bits |= categoryBit("read");
    else if (f === "admin") bits |= categoryBit("admin") | categoryBit("dangerous");
    else if (f === "pubsub") bits |= categoryBit("pubsub");
    else if (f === "blocking") bits |= categoryBit("blocking");
  }
  bits |= categoryBit(flags.includes("fast") ? "fast" : "slow");
  return bits;
}

/** The names of the categories in `bits`, with `@`, in Redis's order. */
export function categoryNames(bits: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < CATEGORIES.length; i++) if (bits & (1 << i)) out.push(`@${CATEGORIES[i]}`);
  return out;
}
