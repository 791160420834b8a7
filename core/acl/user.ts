/**
 * ACL users: flags (`on`/`off`, `nopass`, `sanitize-payload`), passwords (kept as SHA-256 hex
 * digests, as Redis keeps them) and selectors, and the user-level rules of ACL SETUSER
 * (ACLSetUser in acl.c). Rules are applied to a copy and the copy replaces the user only when
 * every rule was valid, so a bad rule changes nothing.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { type AclCommands, AclRuleError, RULE_ERRORS, Selector } from "./selector.ts";
import { describeSelector } from "./describe.ts";

/** SHA-256 of `password` (a binary string) as 64 lowercase hex digits. */
export function hashPassword(password: string): string {
  return createHash("sha256").update(Buffer.from(password, "latin1")).digest("hex");
}

/** Compares two digests of equal length in time that does not depend on where they differ. */
export function sameDigest(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

const HASH = /^[0-9a-f]{64}$/;

/** What `acl-pubsub-default` gives new selectors: all channels or none. */
export interface PubsubDefault {
  allChannels: boolean;
}

/** An ACL user. */
export class User {
  /** Enabled (`on`): one can authenticate as this user. */
  enabled = false;
  /** `nopass`: any password is accepted. */
  nopass = false;
  /** `sanitize-payload` (true), `skip-sanitize-payload` (false), or neither (undefined). */
  sanitize: boolean | undefined;
  /** Password digests, in the order they were added. */
  passwords: string[] = [];
  /** The root selector first, then the `(...)` selectors. */
  selectors: Selector[];
  /**
   * True when the user may run anything on any key and channel: its clients skip the ACL check
   * (see core/acl/check.ts). Recomputed after every rule.
   */
  unrestricted = false;
  /** The rules text (ACL LIST), cached until the user changes. */
  private text: string | undefined;

  /**
   * A new user: disabled, no password, no permission.
   *
   * @param name the user's name
   * @param pubsub the `acl-pubsub-default` in force
   */
  constructor(readonly name: string, pubsub: PubsubDefault) {
    this.selectors = [newSelector(pubsub)];
  }

  /** The root selector (the rules outside parentheses). */
  get root(): Selector {
    return this.selectors[0]!;
  }

  /** Copies every rule of `src` (not the name) into this user. */
  copyFrom(src: User): void {
    this.enabled = src.enabled;
    this.nopass = src.nopass;
    this.sanitize = src.sanitize;
    this.passwords = [...src.passwords];
    this.selectors = src.selectors.map((s) => s.copy());
    this.refresh();
  }

  /** Recomputes what depends on the rules (after a change). */
  private refresh(): void {
    this.text = undefined;
    this.unrestricted = this.selectors.some((s) => s.allCommands && s.allKeys && s.allChannels);
  }

  /** True when `password` is one of the user's (or the user is `nopass`). */
  checkPassword(password: string): boolean {
    if (this.nopass) return true;
    const digest = hashPassword(password);
    let ok = false;
    // Every digest is compared, so the time does not tell which one matched.
    for (const p of this.passwords) if (sameDigest(digest, p)) ok = true;
    return ok;
  }

  /**
   * Applies one rule (`on`, `>pass`, `~key*`, `(+get ~x)`, `reset`...).
   *
   * @throws {AclRuleError} with Redis's message when the rule is not valid
   */
  apply(op: string, commands: AclCommands, pubsub: PubsubDefault): void {
    try {
      this.applyRule(op, commands, pubsub);
    } finally {
      // Whatever happened, `unrestricted` never outlives the rules it was computed from.
      this.refresh();
    }
  }

  private applyRule(op: string, commands: AclCommands, pubsub: PubsubDefault): void {
    if (op === "") return;
    const lower = op.toLowerCase();
    if (lower === "on") {
      this.enabled = true;
    } else if (lower === "off") {
      this.enabled = false;
    } else if (lower === "skip-sanitize-payload") {
      this.sanitize = false;
    } else if (lower === "sanitize-payload") {
      this.sanitize = true;
    } else if (lower === "nopass") {
      this.nopass = true;
      this.passwords = [];
    } else if (lower === "resetpass") {
      this.nopass = false;
      this.passwords = [];
    } else if (op[0] === ">" || op[0] === "#") {
      const digest = op[0] === ">" ? hashPassword(op.slice(1)) : checkedHash(op.slice(1));
      if (!this.passwords.includes(digest)) this.passwords.push(digest);
      this.nopass = false;
    } else if (op[0] === "<" || op[0] === "!") {
      const digest = op[0] === "<" ? hashPassword(op.slice(1)) : checkedHash(op.slice(1));
      const i = this.passwords.indexOf(digest);
      if (i < 0) throw new AclRuleError(RULE_ERRORS.noSuchPassword);
      this.passwords.splice(i, 1);
    } else if (op[0] === "(" && op[op.length - 1] === ")") {
      const sel = newSelector(pubsub);
      for (const rule of splitRules(op.slice(1, -1))) sel.apply(rule, commands);
      this.selectors.push(sel);
    } else if (lower === "clearselectors") {
      this.selectors.length = 1;
    } else if (lower === "reset") {
      this.nopass = false;
      this.passwords = [];
      const root = this.root;
      root.apply("resetkeys", commands);
      root.apply(pubsub.allChannels ? "allchannels" : "resetchannels", commands);
      this.enabled = false;
      this.sanitize = true;
      this.selectors.length = 1;
      root.apply("-@all", commands);
    } else {
      this.root.apply(op, commands);
    }
  }

  /** The user's rules as ACL LIST shows them (`on nopass ~* &* +@all`). */
  describe(commands: AclCommands): string {
    if (this.text !== undefined) return this.text;
    const parts: string[] = [];
    for (const f of this.flags()) parts.push(f);
    for (const p of this.passwords) parts.push(`#${p}`);
    let text = parts.join(" ");
    const root = describeSelector(this.root, commands);
    text = text === "" ? root : `${text} ${root}`;
    for (const s of this.selectors.slice(1)) text += ` (${describeSelector(s, commands)})`;
    return (this.text = text);
  }

  /** The user's flags in Redis's order (ACL GETUSER, ACL LIST). */
  flags(): string[] {
    const out = [this.enabled ? "on" : "off"];
    if (this.nopass) out.push("nopass");
    if (this.sanitize === false) out.push("skip-sanitize-payload");
    if (this.sanitize === true) out.push("sanitize-payload");
    return out;
  }
}

function newSelector(pubsub: PubsubDefault): Selector {
  const s = new Selector();
  s.allChannels = pubsub.allChannels;
  return s;
}

function checkedHash(hash: string): string {
  if (!HASH.test(hash)) throw new AclRuleError(RULE_ERRORS.badHash);
  return hash;
}

/** Splits the inside of a selector `(...)` into rules, as Redis's sdssplitargs does (quotes). */
export function splitRules(text: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const m of text.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

/**
 * Joins rules spread over several arguments into selectors (`(+get`, `~x)` → `(+get ~x)`), as
 * Redis's ACLMergeSelectorArguments does.
 *
 * @returns the merged rules, or the index of the argument opening an unclosed parenthesis
 */
export function mergeSelectorArgs(args: string[]): string[] | number {
  const out: string[] = [];
  let open = -1;
  let sel = "";
  for (let j = 0; j < args.length; j++) {
    const op = args[j]!;
    if (op[0] === "(" && op[op.length - 1] !== ")") {
      sel = op;
      open = j;
      continue;
    }
    if (open !== -1) {
      sel += ` ${op}`;
      if (op[op.length - 1] === ")") {
        open = -1;
        out.push(sel);
      }
      continue;
    }
    out.push(op);
  }
  return open === -1 ? out : open;
}
