/**
 * COMMAND side by side with the Redis 7.4.1 reference for the commands redeno takes from Redis
 * 7.2/7.4: those 7.0.15 lacks and those whose 7.0.15 metadata they no longer follow (FOLLOWS_74 and
 * DOCS_FOLLOW_74 in command_compare.ts). `COMMAND INFO` field by field and byte for byte in RESP3, `COMMAND DOCS`
 * (summary, since, group, complexity, history; argument shapes) and `COMMAND GETKEYSANDFLAGS` on
 * made-up calls. Skipped when the reference build is absent; command_info_test compares the rest
 * with 7.0.15.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ARGS_DIFFER,
  argShape,
  type CommandInfo,
  DOC_HEAD,
  DOCS_FOLLOW_74,
  flattenCommands,
  FOLLOWS_74,
  onBoth,
  pairs,
} from "./command_compare.ts";
import { replication } from "../replication/mod.ts";
import { compareWithReference, REFERENCE_74, startReference } from "./reference_redis.ts";

const NO_REF = REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false;

/** The commands 7.0.15 lacks. */
const NEW = ["client|setinfo", "client|no-touch", "waitaof"];
/** The commands whose COMMAND INFO is compared: new, or following 7.2/7.4. */
const NAMES = [...Object.keys(FOLLOWS_74), ...NEW];
/** The commands whose COMMAND DOCS is compared. */
const DOC_NAMES = [...Object.keys(DOCS_FOLLOW_74), ...NEW];

/** redeno as main.ts runs it: WAITAOF is the replication plugin's. */
const WITH_PLUGINS = { server: { plugins: [replication()] } };

const onReference = <T>(fn: Parameters<typeof onBoth<T>>[0]) => onBoth(fn, startReference);

test("COMMAND INFO of the 7.2/7.4 commands agrees with the 7.4.1 reference", {
  skip: NO_REF,
}, async () => {
  const [want, got] = await onReference(async (c) =>
    flattenCommands((await c.call("COMMAND")) as CommandInfo[])
  );
  for (const name of NAMES) {
    const [mine, info] = [got.get(name), want.get(name)];
    assert.ok(info !== undefined && mine !== undefined, `${name} on both`);
    assert.deepEqual(mine.slice(0, 9), info.slice(0, 9), `COMMAND INFO ${name}`);
  }
  await compareWithReference(NAMES.map((n) => ["COMMAND", "INFO", n]), true, WITH_PLUGINS);
});

test("COMMAND DOCS of the 7.2/7.4 commands agrees with the 7.4.1 reference", {
  skip: NO_REF,
}, async () => {
  const [want, got] = await onReference(async (c) => {
    const out = new Map<string, { head: unknown[]; args: unknown }>();
    const walk = (docs: Map<string, unknown>, prefix: string) => {
      for (const [name, doc] of docs) {
        const d = pairs(doc);
        out.set(prefix + name, {
          head: DOC_HEAD.map((k) => d.get(k)),
          args: argShape(d.get("arguments")),
        });
        if (d.has("subcommands")) walk(pairs(d.get("subcommands")), "");
      }
    };
    walk(pairs(await c.call("COMMAND", "DOCS")), "");
    return out;
  });
  for (const name of DOC_NAMES) {
    const [mine, ref] = [got.get(name), want.get(name)];
    assert.ok(mine !== undefined && ref !== undefined, `${name} on both`);
    assert.deepEqual(mine.head, ref.head, `COMMAND DOCS ${name}`);
    if (!(name in ARGS_DIFFER)) assert.deepEqual(mine.args, ref.args, `arguments of ${name}`);
  }
});

test("GETKEYSANDFLAGS of the 7.2/7.4 commands answers as the 7.4.1 reference", {
  skip: NO_REF,
}, async () => {
  const cases: string[][] = [];
  for (const name of NAMES) {
    const head = name.split("|");
    for (let n = 1; n < 6; n++) {
      cases.push([
        "COMMAND",
        "GETKEYSANDFLAGS",
        ...head,
        ...Array.from({ length: n }, (_, i) => `k${i}`),
      ]);
    }
  }
  await compareWithReference(cases, true, WITH_PLUGINS);
  await compareWithReference(cases, false, WITH_PLUGINS);
});
