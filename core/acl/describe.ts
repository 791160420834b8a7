/**
 * A selector written back as rules (ACL LIST, ACL GETUSER, ACL SAVE), as Redis 7.0 does it: the
 * commands are described from the set alone, starting from `+@all` (when commands added later
 * are allowed) or `-@all`, then the categories that fit best, one at a time, then the single
 * commands still different (ACLDescribeSelectorCommandRules in acl.c). Applying the text again
 * gives the same set.
 *
 * @module
 */

import type { Command } from "../command.ts";
import { CATEGORIES } from "./categories.ts";
import { READ, WRITE } from "./key_access.ts";
import { type AclCommands, type KeyPattern, Selector } from "./selector.ts";

/** A key pattern as a rule: `~p`, `%R~p` or `%W~p`. */
export function patternRule(p: KeyPattern): string {
  const prefix = p.perm === (READ | WRITE) ? "~" : p.perm === READ ? "%R~" : "%W~";
  return prefix + p.pattern;
}

/** The command rules of a selector (`+@all -debug`, `-@all +@read +set`). */
export function describeCommands(sel: Selector, commands: AclCommands): string {
  const all = commands.all();
  const additive = !sel.future;
  const rules: string[] = [additive ? "-@all" : "+@all"];
  // `fake` is what the rules emitted so far give; `temp` what is left to explain.
  const fake = new Selector();
  fake.apply(additive ? "-@all" : "+@all", commands);
  const temp = new Selector();
  temp.allowed = new Set(all.filter((c) => sel.has(c)));
  const applied = new Set<number>();
  for (;;) {
    let best = -1;
    let minDiff = Number.MAX_SAFE_INTEGER;
    let maxSame = 0;
    for (let j = 0; j < CATEGORIES.length; j++) {
      if (applied.has(j)) continue;
      let on = 0;
      let off = 0;
      for (const c of all) {
        if ((c.categories & (1 << j)) === 0) continue;
        if (temp.allowed.has(c)) on++;
        else off++;
      }
      const diff = additive ? off : on;
      const same = additive ? on : off;
      if (same > diff && (diff < minDiff || (diff === minDiff && same > maxSame))) {
        best = j;
        minDiff = diff;
        maxSame = same;
      }
    }
    if (best === -1) break;
    const name = CATEGORIES[best]!;
    fake.changeCategory(1 << best, additive, commands);
    temp.changeCategory(1 << best, !additive, commands);
    rules.push(`${additive ? "+" : "-"}@${name}`);
    applied.add(best);
  }
  for (const cmd of all) {
    const user = sel.has(cmd);
    if (user !== fake.has(cmd)) {
      rules.push(`${user ? "+" : "-"}${cmd.fullName}`);
      fake.change(cmd, user);
    }
    const args = user ? undefined : sel.firstArgs?.get(cmd);
    if (args !== undefined) { for (const a of args) rules.push(`+${cmd.fullName}|${a}`); }
  }
  return rules.join(" ");
}

/** A selector as rules: keys, channels, commands (`~* &* +@all`, `resetchannels -@all`). */
export function describeSelector(sel: Selector, commands: AclCommands): string {
  const parts: string[] = [];
  if (sel.allKeys) parts.push("~*");
  else for (const p of sel.patterns) parts.push(patternRule(p));
  if (sel.allChannels) {
    parts.push("&*");
  } else {
    parts.push("resetchannels");
    for (const c of sel.channels) parts.push(`&${c}`);
  }
  parts.push(describeCommands(sel, commands));
  return parts.join(" ");
}

/** The `keys` field of ACL GETUSER: `~*`, or the patterns separated by spaces. */
export function describeKeys(sel: Selector): string {
  return sel.allKeys ? "~*" : sel.patterns.map(patternRule).join(" ");
}

/** The `channels` field of ACL GETUSER: `&*`, or the patterns separated by spaces. */
export function describeChannels(sel: Selector): string {
  return sel.allChannels ? "&*" : sel.channels.map((c) => `&${c}`).join(" ");
}

/** Commands of `cmds` in Redis's ACL order: each container followed by its subcommands. */
export function flatten(cmds: Iterable<Command>): Command[] {
  const out: Command[] = [];
  for (const c of cmds) {
    out.push(c);
    if (c.subcommands !== undefined) { for (const s of c.subcommands.values()) out.push(s); }
  }
  return out;
}
