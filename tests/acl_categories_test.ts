/**
 * ACL categories and key access side by side with a real redis-server 7.0: for every command both
 * servers have, `COMMAND INFO`'s categories (element 7) are the same set, and the table of what
 * each key needs (core/acl/key_access.ts) agrees with the flags of Redis's key specs; `ACL CAT`
 * lists the same categories and, for each, the same commands. Skipped without redis-server.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { missing } from "./redis_tools.ts";
import { type CommandInfo, flattenCommands, onBoth } from "./command_compare.ts";
import { as74, CHANGED_SINCE_70 } from "./command_changes_74.ts";
import { KEY_ACCESS } from "../core/acl/key_access.ts";

/** What a key spec's flags ask of ACL key patterns: R for ACCESS, W for INSERT/DELETE/UPDATE. */
function need(flags: string[]): string {
  const r = flags.includes("access") ? "R" : "";
  const w = flags.some((f) => f === "insert" || f === "delete" || f === "update") ? "W" : "";
  return r + w || "-";
}

test("COMMAND INFO lists Redis's ACL categories for every command", {
  skip: missing("redis-server"),
}, async () => {
  const [want, got] = await onBoth(async (c) =>
    flattenCommands((await c.call("COMMAND")) as CommandInfo[])
  );
  let compared = 0;
  for (const [name, info] of want) {
    const mine = got.get(name);
    if (mine === undefined) continue;
    const expected = as74(name, info)[6];
    assert.deepEqual([...mine[6]].sort(), [...expected].sort(), `categories of ${name}`);
    compared++;
  }
  assert.ok(compared > 300, `compared ${compared} commands`);
  // The groups plugin's commands declare theirs.
  assert.deepEqual(got.get("group.join")![6], ["@write", "@hash", "@fast"]);
  assert.deepEqual(got.get("group.info")![6], ["@read", "@hash", "@fast"]);
});

test("the key access table agrees with Redis's key specs", {
  skip: missing("redis-server"),
}, async () => {
  const [want] = await onBoth(async (c) =>
    flattenCommands((await c.call("COMMAND")) as CommandInfo[])
  );
  let compared = 0;
  for (const [name, info] of want) {
    const specs = (info[8] as unknown[][]).map((s) => {
      const m = new Map<string, unknown>();
      for (let i = 0; i < s.length; i += 2) m.set(s[i] as string, s[i + 1]);
      return m.get("flags") as string[];
    }).filter((f) => !f.includes("not_key"));
    if (specs.length === 0) continue;
    const needs = specs.map(need);
    const entry = KEY_ACCESS[name];
    assert.ok(entry !== undefined, `${name} is in the table`);
    if (typeof entry === "string") {
      for (const n of new Set(needs)) assert.equal(n, entry, `needs of ${name}`);
    } else {
      assert.equal(entry[0], needs[0], `first key of ${name}`);
      assert.equal(entry[1], needs[needs.length - 1], `other keys of ${name}`);
    }
    compared++;
  }
  assert.ok(compared > 180, `compared ${compared} commands`);
});

test("ACL CAT lists the same categories, and the same commands in each", {
  skip: missing("redis-server"),
}, async () => {
  const [want, got] = await onBoth(async (c) => {
    const cats = (await c.call("ACL", "CAT")) as string[];
    const names = flattenCommands((await c.call("COMMAND")) as CommandInfo[]);
    const each: Record<string, string[]> = {};
    for (const cat of cats) each[cat] = ((await c.call("ACL", "CAT", cat)) as string[]).sort();
    return { cats, names, each };
  });
  assert.deepEqual(got.cats, want.cats);
  for (const cat of want.cats) {
    // The commands 7.4 moved between categories are checked by the first test.
    const shared = (list: string[], other: Map<string, CommandInfo>) =>
      list.filter((n) => other.has(n) && !(n in CHANGED_SINCE_70));
    assert.deepEqual(
      shared(got.each[cat]!, want.names),
      shared(want.each[cat]!, got.names),
      `ACL CAT ${cat}`,
    );
  }
});
