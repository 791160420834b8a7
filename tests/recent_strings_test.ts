/**
 * The table of recent strings (core/resp/recent_strings.ts) returns a string equal to the bytes
 * asked for, whatever bytes it met before: runs that differ from a remembered one in a single
 * byte (at any position, high bytes included) or only in length.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { commandName, RECENT_MAX, RecentStrings } from "../core/resp/recent_strings.ts";

function latin1(u8: Uint8Array, p: number, len: number): string {
  let s = "";
  for (let i = 0; i < len; i++) s += String.fromCharCode(u8[p + i]!);
  return s;
}

test("recent strings: every lookup gives the bytes asked for, near misses included", () => {
  const table = new RecentStrings(4);
  const buf = new Uint8Array(3 + RECENT_MAX);
  let hits = 0;
  for (let len = 1; len <= RECENT_MAX; len++) {
    for (let at = 0; at < len; at++) {
      for (const p of [0, 3]) {
        for (const changed of [0x80 | at, 0xff, 1]) {
          // A run, then the same run with one byte changed (at the same offset or another: the
          // table must compare every byte), then the first again.
          for (let i = 0; i < len; i++) buf[p + i] = 97 + ((i * 7) % 26);
          const want = latin1(buf, p, len);
          const first = table.get(buf, p, len);
          assert.equal(first, want);
          if (table.get(buf, p, len) === first) hits++;
          const before = buf[p + at]!;
          buf[p + at] = changed === before ? changed ^ 2 : changed;
          assert.equal(table.get(buf, p, len), latin1(buf, p, len), `length ${len}, byte ${at}`);
          buf[p + at] = before;
          assert.equal(table.get(buf, p, len), want);
        }
      }
    }
  }
  assert.ok(hits > 0);
});

test("command names: a remembered name is reused only for the same bytes", () => {
  const enc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
  for (const name of ["GET", "SET", "GEX", "get", "SET", "GET", "MULTI", "EXEC", "GET"]) {
    const u8 = enc(`xx${name}`);
    assert.equal(commandName(u8, 2, name.length), name);
  }
  // Names of every length up to 16 against the same name with one byte changed.
  for (let len = 1; len <= 16; len++) {
    const name = "ZREVRANGEBYSCORE".slice(0, len);
    for (let at = 0; at < len; at++) {
      const other = name.slice(0, at) + (at === 0 ? "z" : "\xff") + name.slice(at + 1);
      for (const s of [name, other, name]) assert.equal(commandName(enc(s), 0, len), s);
    }
  }
});
