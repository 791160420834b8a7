/**
 * The directives Redis 7.2 and 7.4 added (set-max-listpack-*, hide-user-data-from-log, ...):
 * CONFIG GET and SET answer as the 7.4.1 reference build does, byte for byte when it is present,
 * and as asserted here in any case.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RawConn, startServer } from "./helpers.ts";
import { pipeline } from "./redis_compare.ts";
import { REFERENCE_74, startReference } from "./reference_redis.ts";

const NO_REF = REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false;

/** `*2` of a name and a value, as CONFIG GET of one directive answers in RESP2. */
const pair = (name: string, value: string) =>
  `*2\r\n$${name.length}\r\n${name}\r\n$${value.length}\r\n${value}\r\n`;
const failed = (name: string, why: string) =>
  `-ERR CONFIG SET failed (possibly related to argument '${name}') - ${why}\r\n`;

/** Each command and the reply Redis 7.4.1 gives it. */
const CASES: Array<[string[], string]> = [
  [["CONFIG", "GET", "set-max-listpack-entries"], pair("set-max-listpack-entries", "128")],
  [["CONFIG", "GET", "set-max-listpack-value"], pair("set-max-listpack-value", "64")],
  [["CONFIG", "GET", "hide-user-data-from-log"], pair("hide-user-data-from-log", "no")],
  [["CONFIG", "GET", "locale-collate"], pair("locale-collate", "")],
  [["CONFIG", "GET", "max-new-connections-per-cycle"], pair("max-new-connections-per-cycle", "10")],
  [
    ["CONFIG", "GET", "max-new-tls-connections-per-cycle"],
    pair("max-new-tls-connections-per-cycle", "1"),
  ],
  [["CONFIG", "GET", "cluster-ping-interval"], pair("cluster-ping-interval", "0")],
  [
    ["CONFIG", "GET", "cluster-announce-human-nodename"],
    pair("cluster-announce-human-nodename", ""),
  ],
  // Only in Redis's builds for its request/response log: unknown here and there.
  [["CONFIG", "GET", "client-default-resp"], "*0\r\n"],
  [["CONFIG", "SET", "set-max-listpack-entries", "0"], "+OK\r\n"],
  [
    ["CONFIG", "SET", "set-max-listpack-value", "1k"],
    failed(
      "set-max-listpack-value",
      "argument couldn't be parsed into an integer",
    ),
  ],
  [
    ["CONFIG", "SET", "hide-user-data-from-log", "maybe"],
    failed(
      "hide-user-data-from-log",
      "argument must be 'yes' or 'no'",
    ),
  ],
  [
    ["CONFIG", "SET", "max-new-connections-per-cycle", "0"],
    failed(
      "max-new-connections-per-cycle",
      "argument must be between 1 and 1000 inclusive",
    ),
  ],
  [["CONFIG", "SET", "max-new-connections-per-cycle", "1000"], "+OK\r\n"],
  [["CONFIG", "SET", "cluster-ping-interval", "5"], "+OK\r\n"],
  [["CONFIG", "SET", "cluster-announce-human-nodename", "a b"], "+OK\r\n"],
  [["CONFIG", "SET", "locale-collate", "C"], "+OK\r\n"],
  [["CONFIG", "GET", "set-max-listpack-entries"], pair("set-max-listpack-entries", "0")],
  [["CONFIG", "GET", "cluster-ping-interval"], pair("cluster-ping-interval", "5")],
];

async function replies(port: number): Promise<string[]> {
  const c = await RawConn.connect(port);
  try {
    return await pipeline(c, CASES.map(([argv]) => argv));
  } finally {
    c.close();
  }
}

test("CONFIG GET and SET of Redis 7.2 and 7.4's new directives", async () => {
  const ours = await startServer();
  try {
    const got = await replies(ours.port);
    CASES.forEach(([argv, want], i) => assert.equal(got[i], want, argv.join(" ")));
  } finally {
    await ours.close();
  }
});

test("the new directives answer as the 7.4.1 reference build's", { skip: NO_REF }, async () => {
  const ref = await startReference();
  try {
    const theirs = await replies(ref.port);
    CASES.forEach(([argv, want], i) => assert.equal(theirs[i], want, argv.join(" ")));
  } finally {
    ref.stop();
  }
});
