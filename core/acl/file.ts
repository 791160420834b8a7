/**
 * Users from files: the `aclfile` (ACL LOAD, ACL SAVE, and at startup) and the `user` directives
 * of the config file, with Redis 7.0's rules and messages (ACLLoadFromFile, ACLSaveToFile and
 * ACLLoadConfiguredUsers in acl.c). A file with one bad line changes nothing.
 *
 * @module
 */

import { readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import type { Config } from "../config.ts";
import type { Acl } from "./acl.ts";
import { type AclCommands, AclRuleError, hasSpaces, RULE_ERRORS } from "./selector.ts";
import { mergeSelectorArgs, User } from "./user.ts";

/**
 * Where the `aclfile` is: a relative path is read from the `dir` directory, where Redis, having
 * changed into it, reads it. Undefined when no ACL file is configured.
 */
export function aclFilePath(config: Config): string | undefined {
  const file = config.str("aclfile");
  if (file === "") return undefined;
  return isAbsolute(file) ? file : join(config.str("dir"), file);
}

/** Redis's messages for the errno values of file reads (strerror). */
function reason(e: unknown): string {
  const code = (e as { code?: string })?.code;
  if (code === "ENOENT") return "No such file or directory";
  if (code === "EACCES") return "Permission denied";
  if (code === "EISDIR") return "Is a directory";
  return (e as Error)?.message ?? String(e);
}

/**
 * Parses an ACL file's text into users, or returns every error found (Redis's one-line report).
 *
 * @param text the file's content
 * @param path the file name, for the messages
 */
export function parseAclFile(
  acl: Acl,
  text: string,
  path: string,
): Map<string, User> | string {
  const users = new Map<string, User>();
  let errors = "";
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
    const n = i + 1;
    if (line === "") continue;
    const argv = line.split(" ");
    if (argv[0] !== "user" || argv.length < 2) {
      errors += `${path}:${n} should start with user keyword followed by the username. `;
      continue;
    }
    const name = argv[1]!;
    if (hasSpaces(name)) {
      errors += `'${path}:${n}: username '${name}' contains invalid characters. `;
      continue;
    }
    if (users.has(name)) {
      errors += `WARNING: Duplicate user '${name}' found on line ${n}. `;
      continue;
    }
    const u = new User(name, acl.pubsub);
    users.set(name, u);
    const merged = mergeSelectorArgs(argv.slice(2));
    if (typeof merged === "number") {
      errors += `${path}:${n}: Unmatched parenthesis in selector definition.`;
      continue;
    }
    let syntaxError = false;
    for (const raw of merged) {
      const op = raw.replace(/^[\t\r\n]+|[\t\r\n]+$/g, "");
      try {
        u.apply(op, acl.commands, acl.pubsub);
      } catch (e) {
        if (!(e instanceof AclRuleError)) throw e;
        if (e.message === RULE_ERRORS.unknown) {
          errors += `${path}:${n}: Error in applying operation '${op}': ${e.message}. `;
        } else if (!syntaxError) {
          errors += `${path}:${n}: ${e.message}. `;
          syntaxError = true;
        }
      }
    }
  }
  return errors === "" ? users : errors;
}

/**
 * ACL LOAD: replaces every user by the file's. As in Redis 7.4, a client stays connected under
 * the new user of its user's name; the clients of users the file no longer has, and subscribers
 * to a channel their new user does not allow, are disconnected (the default user is updated in
 * place).
 *
 * @returns Redis's error text (without `ERR`), or undefined when loaded
 */
export function loadAclFile(acl: Acl, path: string, name = path): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, "latin1");
  } catch (e) {
    return `Error loading ACLs, opening file '${name}': ${reason(e)}`;
  }
  const users = parseAclFile(acl, text, name);
  if (typeof users === "string") {
    return `${users}WARNING: ACL errors detected, no change to the previously active ACL rules was performed`;
  }
  const old = new Set(acl.users.values());
  old.delete(acl.defaultUser);
  const fresh = users.get("default");
  const d = acl.defaultUser;
  if (fresh !== undefined) {
    d.copyFrom(fresh);
  } else {
    d.copyFrom(acl.newDefaultUser());
  }
  users.set("default", d);
  acl.users = users;
  acl.rebindAfterLoad(old);
  acl.changed(d);
  return undefined;
}

/** The ACL file text of the current users (ACL SAVE). */
export function aclFileText(acl: Acl): string {
  let out = "";
  for (const u of acl.sortedUsers()) out += `user ${u.name} ${u.describe(acl.commands)}\n`;
  return out;
}

/**
 * ACL SAVE: writes the users to `path` through a temporary file renamed over it.
 *
 * @returns the error, or undefined when written
 */
export function saveAclFile(acl: Acl, path: string, now: number): Error | undefined {
  const tmp = `${path}.tmp-${Math.floor(Math.random() * 1e9)}-${now}`;
  try {
    writeFileSync(tmp, aclFileText(acl), { encoding: "latin1", mode: 0o644 });
    renameSync(tmp, path);
    return undefined;
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // Nothing was written.
    }
    return e as Error;
  }
}

/** Commands are not known while the config file is read: every name is unknown then. */
const NO_COMMANDS: AclCommands = { lookup: () => undefined, all: () => [] };
const NO_CHANNELS = { allChannels: false };

/**
 * Checks a `user` directive of the config file as Redis does while reading it: the rules are
 * tried on a throwaway user; unknown commands are not errors yet (Redis loads modules later).
 *
 * @param words the directive's words after `user`: the name, then the rules
 * @returns Redis's error text, or undefined when the line is valid
 */
export function checkUserDirective(words: string[]): string | undefined {
  // Redis quotes the line's word at the index of the rule in the merged rules (`user` is word 0).
  const word = (j: number) => (j === 0 ? "user" : words[j - 1] ?? "");
  const merged = mergeSelectorArgs(words.slice(1));
  if (typeof merged === "number") {
    return `Error in user declaration '${word(merged)}': Syntax error`;
  }
  const fake = new User("__fakeuser:0__", NO_CHANNELS);
  for (let j = 0; j < merged.length; j++) {
    try {
      fake.apply(merged[j]!, NO_COMMANDS, NO_CHANNELS);
    } catch (e) {
      if (!(e instanceof AclRuleError)) throw e;
      if (e.message !== RULE_ERRORS.unknown) {
        return `Error in user declaration '${word(j)}': ${e.message}`;
      }
    }
  }
  return undefined;
}

/**
 * Creates the users of the config file's `user` directives (the default user is reset first
 * when one redefines it), once every command is registered.
 *
 * @param lines each directive's words after `user`
 * @returns the fatal error, or undefined
 */
export function loadConfiguredUsers(acl: Acl, lines: string[][]): string | undefined {
  const seen = new Set<string>();
  for (const words of lines) {
    const name = words[0]!;
    if (seen.has(name)) {
      return "Duplicate user found. A user can only be defined once in config files";
    }
    seen.add(name);
    if (hasSpaces(name)) return "Spaces not allowed in ACL usernames";
    let u = acl.user(name);
    if (u === undefined) {
      u = new User(name, acl.pubsub);
      acl.users.set(name, u);
    } else {
      u.apply("reset", acl.commands, acl.pubsub);
    }
    const merged = mergeSelectorArgs(words.slice(1));
    for (const op of typeof merged === "number" ? [] : merged) {
      try {
        u.apply(op, acl.commands, acl.pubsub);
      } catch (e) {
        if (!(e instanceof AclRuleError)) throw e;
        return `Error loading ACL rule '${op}' for the user named '${name}': ${e.message}`;
      }
    }
    acl.changed(u);
  }
  return undefined;
}
