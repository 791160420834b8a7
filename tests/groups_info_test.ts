/**
 * GROUP.INFO's second-edition fields (plugins/groups/README.md): waiters, reservations, away
 * members, the last token and the counters of joins, FULL refusals, expiries and kicks.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "redis";
import { io, start } from "./groups_helpers.ts";

/** A flat INFO array (RESP2) as a record, nested maps as records too; a map as it is. */
function record(items: unknown[]): Record<string, unknown> {
  if (!Array.isArray(items)) return items as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (let i = 0; i < items.length; i += 2) {
    const v = items[i + 1];
    out[String(items[i])] = Array.isArray(v) ? record(v) : v;
  }
  return out;
}

test("GROUP.INFO counts waiters, reservations, away members, tokens, joins, FULLs, expiries, kicks", async () => {
  const { server, port, clock, close } = await start();
  const r = io(port);
  const waiter = io(port);
  const nr = createClient({ socket: { port, host: "127.0.0.1" } });
  try {
    await nr.connect();
    await r.call("GROUP.CREATE", "room", "3");
    await r.call("GROUP.JOIN", "room", "a", "TTL", "1000", "GRACE", "4000", "WITHTOKEN");
    await r.call("GROUP.JOIN", "room", "b", "TTL", "500");
    await r.call("GROUP.RESERVE", "room", "c", "TTL", "2000");
    await assert.rejects(r.call("GROUP.JOIN", "room", "x"), /FULL/);
    await assert.rejects(r.call("GROUP.RESERVE", "room", "x", "TTL", "5"), /FULL/);
    await assert.rejects(r.call("GROUP.JOINALL", "room", "x", "y"), /FULL/);
    const waiting = waiter.call("GROUP.JOIN", "room", "w", "WAIT", "0").catch((e: Error) => e);
    let p: unknown = null;
    for (let i = 0; i < 200 && p === null; i++) p = await r.call("GROUP.POS", "room", "w");
    assert.equal(p, 1);
    clock.advance(1000);
    server.cron();
    // b's lease passed (its seat went to w), a is away for 4 s, c's reservation has 1 s left.
    assert.equal(await waiting, 2);
    const got = record((await r.call("GROUP.INFO", "room")) as unknown[]);
    assert.deepEqual(got, {
      name: "room",
      capacity: 3,
      size: 2,
      open: 1,
      members: { a: 0, w: -1 },
      waiters: 0,
      reservations: { c: 1000 },
      away: { a: 4000 },
      token: 1,
      joins: 3,
      full: 3,
      expiries: 1,
      kicks: 0,
    });
    const blocked = waiter.call("GROUP.JOIN", "room", "v", "WAIT", "0").catch((e: Error) => e);
    p = null;
    for (let i = 0; i < 200 && p === null; i++) p = await r.call("GROUP.POS", "room", "v");
    const three = record((await nr.sendCommand(["GROUP.INFO", "room"])) as unknown[]);
    assert.equal(three.waiters, 1, "node-redis reads the map");
    assert.equal(await r.call("GROUP.KICK", "room", "w"), 1);
    assert.equal(await blocked, 2);
    clock.advance(1000);
    server.cron();
    const after = record((await r.call("GROUP.INFO", "room")) as unknown[]);
    assert.deepEqual(
      [after.joins, after.full, after.expiries, after.kicks, after.waiters, after.reservations],
      [4, 3, 2, 1, 0, {}],
      "v admitted, c's reservation expired, w kicked",
    );
  } finally {
    r.disconnect();
    waiter.disconnect();
    await nr.quit();
    await close();
  }
});
