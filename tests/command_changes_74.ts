/**
 * Commands whose `COMMAND INFO` Redis 7.2 or 7.4 changed, as redeno now has them: the tests that
 * compare COMMAND with redis-server 7.0.15 (command_info_test, acl_categories_test) expect these
 * fields as 7.4.1 has them, and command_info_test checks them against the 7.4.1 reference build
 * when it is present.
 *
 * @module
 */
import type { CommandInfo } from "./command_compare.ts";

/** The fields 7.4.1 has for a command, where they differ from 7.0.15's, and why. */
export interface Change74 {
  flags?: string[];
  categories?: string[];
  why: string;
}

const SCRIPTABLE = "Redis 7.2 lets scripts call blocking commands (they do not block there)";

/** By command name (`client|list` for a subcommand). */
export const CHANGED_SINCE_70: Record<string, Change74> = {
  blpop: { flags: ["write", "blocking"], why: SCRIPTABLE },
  brpop: { flags: ["write", "blocking"], why: SCRIPTABLE },
  brpoplpush: { flags: ["write", "denyoom", "blocking"], why: SCRIPTABLE },
  blmove: { flags: ["write", "denyoom", "blocking"], why: SCRIPTABLE },
  bzpopmin: { flags: ["write", "blocking", "fast"], why: SCRIPTABLE },
  bzpopmax: { flags: ["write", "blocking", "fast"], why: SCRIPTABLE },
  wait: {
    flags: ["blocking"],
    categories: ["@slow", "@blocking", "@connection"],
    why: `${SCRIPTABLE}; WAIT is flagged blocking`,
  },
};

/**
 * A 7.0.15 `COMMAND INFO` entry with the fields 7.4 changed for it.
 *
 * @param name the command's name
 * @param info 7.0.15's entry
 * @returns the entry as 7.4.1 has it (the same entry when nothing changed)
 */
export function as74(name: string, info: CommandInfo): CommandInfo {
  const change = CHANGED_SINCE_70[name];
  if (change === undefined) return info;
  const out = [...info] as CommandInfo;
  if (change.flags !== undefined) out[2] = change.flags;
  if (change.categories !== undefined) out[6] = change.categories;
  return out;
}
