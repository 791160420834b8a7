/**
 * Channels in a key's slot (core/shard_channel.ts) for many random names, and the groups plugin's
 * notifications in cluster mode: sharded messages on that channel, not plain ones.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { hashTag, keyHashSlot, slotChannel } from "../mod.ts";
import { slotTag } from "../core/shard_channel.ts";
import { startRedenoCluster, startRedisCluster, waitClusterOk } from "./cluster_state_helpers.ts";
import { missing } from "./redis_tools.ts";
import { waitFor } from "./replication_helpers.ts";
import { createServer } from "../mod.ts";
import { groups } from "../plugins/groups/mod.ts";

const P = "__group__:";

/** A random binary string, often with braces, of 0 to 11 characters. */
function randomName(): string {
  const len = Math.floor(Math.random() * 12);
  let s = "";
  for (let i = 0; i < len; i++) {
    const r = Math.random();
    s += r < 0.15
      ? "{"
      : r < 0.3
      ? "}"
      : r < 0.9
      ? String.fromCharCode(97 + Math.floor(Math.random() * 26))
      : String.fromCharCode(Math.floor(Math.random() * 256));
  }
  return s;
}

test("slotChannel puts the channel in the key's slot for 50,000 random names", () => {
  const ruled = [0, 0, 0];
  for (let i = 0; i < 50000; i++) {
    const key = randomName();
    const channel = slotChannel(P, key);
    assert.equal(keyHashSlot(channel), keyHashSlot(key), `key ${JSON.stringify(key)}`);
    assert.ok(channel.startsWith(P) && channel.includes(key));
    if (hashTag(key) !== undefined) {
      assert.equal(channel, P + key);
      ruled[0]!++;
    } else if (key !== "" && !key.includes("}")) {
      assert.equal(channel, `${P}{${key}}`);
      ruled[1]!++;
    } else {
      assert.equal(channel, `${P}{${slotTag(keyHashSlot(key))}}${key}`);
      ruled[2]!++;
    }
  }
  assert.ok(ruled.every((n) => n > 1000), `every rule was taken: ${ruled}`);
});

test(
  "redis-server's CLUSTER KEYSLOT agrees: each random name and its channel are in one slot",
  { skip: missing("redis-server") },
  async () => {
    const node = await startRedisCluster();
    const c = new Redis({ port: node.port, host: "127.0.0.1" });
    try {
      const keys = Array.from({ length: 2000 }, randomName);
      // Binary strings go out as their bytes, one per character.
      const bytes = (s: string) => Buffer.from(s, "latin1");
      const slots = await Promise.all(keys.flatMap((k) => [
        c.call("CLUSTER", "KEYSLOT", bytes(k)),
        c.call("CLUSTER", "KEYSLOT", bytes(slotChannel(P, k))),
      ]));
      for (const [i, k] of keys.entries()) {
        assert.equal(slots[2 * i], keyHashSlot(k), `key ${JSON.stringify(k)}`);
        assert.equal(slots[2 * i + 1], slots[2 * i], `channel of ${JSON.stringify(k)}`);
      }
    } finally {
      c.disconnect();
      await node.stop();
    }
  },
);

test("slotChannel on the names of each rule, and hashTag as Redis reads a tag", () => {
  assert.equal(slotChannel(P, "{game:7}:room"), "__group__:{game:7}:room");
  assert.equal(slotChannel(P, "room:1"), "__group__:{room:1}");
  assert.equal(slotChannel(P, "a{b"), "__group__:{a{b}");
  // An empty first tag: the whole key is hashed, and it has a `}`.
  assert.equal(slotChannel(P, "x{}{y}"), `__group__:{${slotTag(keyHashSlot("x{}{y}"))}}x{}{y}`);
  assert.equal(slotChannel(P, "a}b"), `__group__:{${slotTag(keyHashSlot("a}b"))}}a}b`);
  assert.equal(slotChannel(P, ""), `__group__:{${slotTag(0)}}`);
  assert.equal(hashTag("{user:1}:cart"), "user:1");
  assert.equal(hashTag("a{b}{c}"), "b");
  assert.equal(hashTag("{}x{y}"), undefined);
  assert.equal(hashTag("}{x"), undefined);
  assert.throws(() => slotChannel("__{g}__:", "room"), RangeError);
});

test("slotTag gives every slot a short tag of letters and digits that hashes to it", () => {
  for (let slot = 0; slot < 16384; slot++) {
    const tag = slotTag(slot);
    assert.match(tag, /^[0-9A-Za-z]{1,3}$/);
    assert.equal(keyHashSlot(`{${tag}}`), slot);
  }
});

test("outside cluster mode a plugin's notification channel is prefix + key, and GROUP.CHANNEL says it", () => {
  const server = createServer({ plugins: [groups()] });
  assert.equal(server.pubsub.keyChannel(P, "room:1"), "__group__:room:1");
  assert.equal(server.pubsub.keyChannel(P, "a}b"), "__group__:a}b");
  assert.equal(server.dispatch(["GROUP.CHANNEL", "room:1"]), "__group__:room:1");
  assert.equal(server.dispatch(["GROUP.CHANNEL", "{game}:1"]), "__group__:{game}:1");
});

test("in cluster mode GROUP notifications are sharded messages on the key's slot channel", async () => {
  const node = await startRedenoCluster();
  const c = new Redis({ port: node.port, host: "127.0.0.1" });
  const ssub = new Redis({ port: node.port, host: "127.0.0.1" });
  const sub = new Redis({ port: node.port, host: "127.0.0.1" });
  try {
    await c.call("CLUSTER", "ADDSLOTSRANGE", "0", "16383");
    await waitClusterOk(node.port);
    assert.equal(node.server.pubsub.keyChannel(P, "room:1"), "__group__:{room:1}");
    // GROUP.CHANNEL answers for any name, the group need not exist yet.
    assert.equal(await c.call("GROUP.CHANNEL", "room:1"), "__group__:{room:1}");
    assert.equal(await c.call("GROUP.CHANNEL", "{game}:2"), "__group__:{game}:2");
    assert.equal(await c.call("GROUP.CHANNEL", "a}b"), slotChannel(P, "a}b"));
    const sharded: string[] = [];
    const plain: string[] = [];
    ssub.on("smessage", (ch: string, m: string) => sharded.push(`${ch} ${m}`));
    sub.on("message", (ch: string, m: string) => plain.push(`${ch} ${m}`));
    sub.on("pmessage", (_p: string, ch: string, m: string) => plain.push(`p ${ch} ${m}`));
    const odd = "a}b";
    const oddChannel = slotChannel(P, odd);
    // One slot per SSUBSCRIBE (CROSSSLOT otherwise).
    for (const ch of ["__group__:{room:1}", "__group__:{game}:2", oddChannel]) {
      await ssub.call("SSUBSCRIBE", ch);
    }
    await sub.subscribe("__group__:room:1", "end");
    await sub.psubscribe("__group__*");
    for (const room of ["room:1", "{game}:2", odd]) {
      await c.call("GROUP.CREATE", room, "1");
      assert.equal(await c.call("GROUP.JOIN", room, "alice"), 1);
      await assert.rejects(c.call("GROUP.JOIN", room, "bob"), /^ReplyError: FULL/);
      assert.equal(await c.call("GROUP.LEAVE", room, "alice"), 1);
    }
    await waitFor(() => sharded.length === 6, "the sharded notifications");
    await c.publish("end", "end");
    await waitFor(() => plain.length === 1, "the plain end message");
    assert.deepEqual(sharded, [
      "__group__:{room:1} join alice 1",
      "__group__:{room:1} leave alice 0",
      "__group__:{game}:2 join alice 1",
      "__group__:{game}:2 leave alice 0",
      `${oddChannel} join alice 1`,
      `${oddChannel} leave alice 0`,
    ]);
    assert.deepEqual(plain, ["end end"], "no plain message for a group in cluster mode");
  } finally {
    c.disconnect();
    ssub.disconnect();
    sub.disconnect();
    await node.stop();
  }
});
