/**
 * The rooms demo (examples/rooms) end to end: redeno and two app instances, four visitors in
 * headless Chromium (one browser context each, so four separate sessions), spread over both
 * instances. A room of two fills, the next two wait with their places in line shown, get in as
 * seats free (a Leave click, then a closed tab), and every page shows the same members. The
 * screenshots go to a temporary directory the test prints.
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
