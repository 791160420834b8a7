/**
 * LOLWUT beside redis-server 7.0.15 (redeno reporting 7.0.15 through `reported-redis-version`,
 * since the caption prints the version): the version-agnostic reply, argument errors, and the art
 * of versions 5 and 6 wherever Redis's drawing is deterministic (rows without random moves), byte
 * for byte; the random rows of a full drawing keep Redis's shape (line count, caption).
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { RawConn, startServer } from "./helpers.ts";
import { compareWithRedis, pipeline, startRedis } from "./redis_compare.ts";

/** An ANSI colour escape (ESC [ ... m). */
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]+m`, "g");
import { missing } from "./redis_tools.ts";

const skip = missing("redis-server");
/** redeno answering as the redis-server 7.0.15 it is compared with. */
const AS_7015 = { config: { "reported-redis-version": "7.0.15" } };

test("LOLWUT replies as redis-server where the drawing is deterministic", { skip }, async () => {
  await compareWithRedis(
    [
      ["LOLWUT"],
      ["LOLWUT", "foo"],
      ["LOLWUT", "VERSION"],
      ["LOLWUT", "VERSION", "x"],
      ["LOLWUT", "VERSION", "7"],
      ["LOLWUT", "VERSION", "4"],
      ["LOLWUT", "VERSION", "-1"],
      ["LOLWUT", "VERSION", "56"],
      ["LOLWUT", "VERSION", "5", "abc"],
      ["LOLWUT", "VERSION", "5", "1", "1", "1"],
      ["LOLWUT", "VERSION", "5", "66", "8", "2"],
      ["LOLWUT", "VERSION", "5", "20", "3", "2"],
      ["LOLWUT", "VERSION", "5", "5000", "500", "1"],
      ["LOLWUT", "VERSION", "6", "1", "1"],
      ["LOLWUT", "VERSION", "6", "7", "1"],
      ["LOLWUT", "VERSION", "6", "0", "0"],
      ["LOLWUT", "VERSION", "6", "x"],
    ],
    false,
    undefined,
    AS_7015,
  );
  await compareWithRedis([["LOLWUT", "VERSION", "5", "10", "2", "2"]], true, undefined, AS_7015);
});

test("LOLWUT VERSION 5 and 6 full drawings keep Redis's shape", { skip }, async () => {
  const redis = await startRedis();
  const ours = await startServer(AS_7015);
  try {
    const shapes: string[][] = [];
    for (const port of [redis.port, ours.port]) {
      const c = await RawConn.connect(port);
      const replies = await pipeline(c, [["LOLWUT", "VERSION", "5"], ["LOLWUT", "VERSION", "6"]]);
      c.close();
      // Version 6's colours are random: compared without them (its RESP header counts them).
      const plain = (r: string, i: number) =>
        i === 1 ? r.replace(ANSI_COLOUR, "").replace(/^[^\n]*\n/, "") : r;
      shapes.push(
        replies.map(plain).map((r) => {
          const lines = r.split("\n");
          // The length, the number of lines, the first 7 lines (no random moves yet in version 5)
          // and the caption.
          return [r.length, lines.length, ...lines.slice(0, 7), ...lines.slice(-3)].join("|");
        }),
      );
    }
    assert.deepEqual(shapes[1], shapes[0]);
  } finally {
    redis.stop();
    await ours.close();
  }
});
