/**
 * The rooms demo (examples/rooms) end to end: redeno and two app instances, four visitors in
 * headless Chromium (one browser context each, so four separate sessions), spread over both
 * instances. A room of two fills, the next two wait with their places in line shown, get in as
 * seats free (a Leave click, then a closed tab), and every page shows the same members. The
 * screenshots go to a temporary directory the test prints. A second run: a seat reserved in the
 * lobby and confirmed when the room page connects, one never confirmed expiring, a party refused
 * all together and admitted all together, and every page showing each member's display name and
 * instance from its metadata.
 *
 * Needs Deno (the demo serves with `Deno.serve`): skipped on Node. Needs Debian's `chromium`:
 * skipped when absent, a failure in CI (.ci/run installs it).
 *
 * @module
 */

import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Page } from "puppeteer-core";
import { client } from "./replication_helpers.ts";
import { missing, pathOf } from "./redis_tools.ts";

const onDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
const skip = onDeno ? missing("chromium") : "needs Deno.serve: the rooms demo runs on Deno only";
if (skip) console.warn(`\n*** tests/rooms_demo_test.ts SKIPPED: ${skip} ***\n`);

const WAIT = { timeout: 20_000 }; // bounded waits for what the pages show

/** Waits until the page's status says `state` (and `pos`, when given). */
function status(page: Page, state: string, pos?: number) {
  const p = pos === undefined ? "" : `[data-pos="${pos}"]`;
  return page.waitForSelector(`#status[data-state="${state}"]${p}`, WAIT);
}

/** Waits until the page lists exactly `members` in `room`. */
function members(page: Page, room: string, members: string[]) {
  const [id, list] = [JSON.stringify(`room-${room}`), JSON.stringify(members.join(","))];
  return page.waitForFunction(`document.getElementById(${id})?.dataset.members === ${list}`, WAIT);
}

test("rooms demo: a room fills, the next visitors wait in line and get in, all pages agree", {
  skip,
}, async () => {
  const puppeteer = (await import("puppeteer-core")).default;
  const { startRooms } = await import("../examples/rooms/main.ts");
  const shots = mkdtempSync(join(tmpdir(), "redeno-rooms-"));
  console.log(`rooms demo screenshots: ${shots}`);
  const rooms = await startRooms({ redisPort: 0, appPorts: [0, 0] });
  const browser = await puppeteer.launch({
    executablePath: pathOf("chromium"),
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const db = client(rooms.redisPort);
  try {
    const names = ["ann", "bob", "cat", "dan"];
    const pages = new Map<string, Page>();
    for (const [i, name] of names.entries()) {
      const page = await (await browser.createBrowserContext()).newPage();
      await page.setViewport({ width: 640, height: 420 });
      await page.goto(`${rooms.urls[i % 2]}?name=${name}`);
      await status(page, "idle");
      pages.set(name, page);
    }
    const page = (name: string) => pages.get(name)!;
    const enter = (name: string) => page(name).locator(`button[data-room="room:1"]`).click();
    const screenshots = async (step: string) => {
      for (const [name, p] of pages) {
        await p.screenshot({ path: join(shots, `${step}-${name}.png`) });
      }
    };

    // room:1 holds two: ann (first instance) and bob (second) fill it.
    await enter("ann");
    await status(page("ann"), "in");
    await enter("bob");
    await status(page("bob"), "in");
    // cat and dan wait, first and second in line, each told its place.
    await enter("cat");
    await status(page("cat"), "waiting", 1);
    await enter("dan");
    await status(page("dan"), "waiting", 2);
    assert.match(await page("dan").$eval("#status", (e) => e.textContent!), /number 2 in line/);
    for (const p of pages.values()) await members(p, "room:1", ["ann", "bob"]);
    await screenshots("1-full");

    // ann leaves: her seat goes to cat, the first in line; dan moves up.
    await page("ann").locator("#leave").click();
    await status(page("ann"), "idle");
    await status(page("cat"), "in");
    await status(page("dan"), "waiting", 1);
    for (const p of pages.values()) await members(p, "room:1", ["bob", "cat"]);
    await screenshots("2-ann-left");

    // bob closes his tab: his instance sees the socket close and frees the seat for dan.
    await page("bob").close();
    pages.delete("bob");
    await status(page("dan"), "in");
    for (const p of pages.values()) await members(p, "room:1", ["cat", "dan"]);
    await screenshots("3-bob-gone");

    assert.deepEqual(((await db.call("GROUP.MEMBERS", "room:1")) as string[]).sort(), [
      "cat",
      "dan",
    ]);
  } finally {
    db.disconnect();
    await browser.close();
    await rooms.close();
  }
});

test(
  "rooms demo: reserve then confirm, a reservation expiring, a party, presence metadata",
  {
    skip,
  },
  async () => {
    const puppeteer = (await import("puppeteer-core")).default;
    const { startRooms } = await import("../examples/rooms/main.ts");
    const shots = mkdtempSync(join(tmpdir(), "redeno-rooms-"));
    console.log(`rooms demo screenshots: ${shots}`);
    const rooms = await startRooms({ redisPort: 0, appPorts: [0, 0], reserveMs: 1500 });
    const browser = await puppeteer.launch({
      executablePath: pathOf("chromium"),
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
    const db = client(rooms.redisPort);
    const sub = client(rooms.redisPort);
    const events: string[] = [];
    sub.on("pmessage", (_p: string, channel: string, m: string) => events.push(`${channel} ${m}`));
    await sub.psubscribe("__group__:*");
    const seen = async (event: string) => {
      for (let i = 0; i < 400 && !events.includes(event); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(events.includes(event), `${event} in ${JSON.stringify(events)}`);
    };
    const host = (i: number) => new URL(rooms.urls[i]!).host;
    try {
      const visitors = [
        ["eve", 0, "display=Eve+E"],
        ["fay", 1, "display=Fay+F"],
        ["gus", 0, "display=Gus+G&party=fay"],
        ["hal", 1, "display=Hal+H"],
      ] as const;
      const pages = new Map<string, Page>();
      for (const [name, instance, query] of visitors) {
        const page = await (await browser.createBrowserContext()).newPage();
        await page.setViewport({ width: 720, height: 480 });
        await page.goto(`${rooms.urls[instance]}?name=${name}&${query}`);
        await status(page, "idle");
        pages.set(name, page);
      }
      const page = (name: string) => pages.get(name)!;
      const all = async (check: (p: Page) => Promise<unknown>) => {
        for (const p of pages.values()) await check(p);
      };
      const data = (p: Page, room: string, field: string, value: string) => {
        const [id, v] = [JSON.stringify(`room-${room}`), JSON.stringify(value)];
        return p.waitForFunction(`document.getElementById(${id})?.dataset.${field} === ${v}`, WAIT);
      };

      // eve reserves a seat of room:2 from the lobby; the room page it opens confirms it.
      await page("eve").locator(`button[data-reserve="room:2"]`).click();
      await status(page("eve"), "in");
      assert.equal(await page("eve").$eval("#status", (e) => e.textContent!), "In room:2");
      await seen("__group__:room:2 reserve eve 0");
      await seen("__group__:room:2 join eve 1");
      await all((p) => members(p, "room:2", ["eve"]));
      await all((p) => data(p, "room:2", "presence", `Eve E @ ${host(0)}`));
      assert.deepEqual(await db.call("GROUP.MEMBERS", "room:2", "WITHMETA"), [
        "eve",
        ["display", "Eve E", "instance", host(0)],
      ]);
      await page("eve").screenshot({ path: join(shots, "4-eve-reserved-and-confirmed.png") });

      // A reservation whose page never connects: every page shows it held, then freed.
      const res = await fetch(`${rooms.urls[1]}reserve?room=room:2&name=zed`, { method: "POST" });
      assert.deepEqual(await res.json(), { taken: 2 });
      await all((p) => data(p, "room:2", "reserved", "1"));
      await seen("__group__:room:2 reserve-expire zed 1");
      await all((p) => data(p, "room:2", "reserved", "0"));
      await all((p) => members(p, "room:2", ["eve"]));

      // room:1 (two seats) has one free after hal: gus's party of two is refused, neither joins.
      await page("hal").locator(`button[data-room="room:1"]`).click();
      await status(page("hal"), "in");
      await page("gus").locator(`button[data-party="room:1"]`).click();
      await page("gus").waitForFunction(
        `document.getElementById("status").textContent.includes("party cannot join") &&
        document.getElementById("status").textContent.includes("FULL")`,
        WAIT,
      );
      assert.deepEqual(await db.call("GROUP.MEMBERS", "room:1"), ["hal"]);
      await status(page("fay"), "idle");
      await page("gus").screenshot({ path: join(shots, "5-party-refused.png") });

      // room:3 has room for both: gus and fay are in together, fay seated by her own instance.
      await page("gus").locator(`button[data-party="room:3"]`).click();
      await status(page("gus"), "in");
      await status(page("fay"), "in");
      assert.equal(await page("fay").$eval("#status", (e) => e.textContent!), "In room:3");
      await all((p) => members(p, "room:3", ["fay", "gus"]));
      await all((p) => data(p, "room:3", "presence", `Fay F @ ${host(1)},Gus G @ ${host(0)}`));
      for (const [name, p] of pages) {
        await p.screenshot({ path: join(shots, `6-party-in-${name}.png`) });
      }

      // fay's seat is hers: her Leave frees it.
      await page("fay").locator("#leave").click();
      await status(page("fay"), "idle");
      await all((p) => members(p, "room:3", ["gus"]));
    } finally {
      sub.disconnect();
      db.disconnect();
      await browser.close();
      await rooms.close();
    }
  },
);
