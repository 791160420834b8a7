/**
 * The EVALSHA scenario's set-up: each server gets a key and a one-`GET` script (SCRIPT LOAD), and
 * one EVALSHA must answer the key's value before redis-benchmark runs the same call in a loop.
 * redis-benchmark stops at the first error reply (a NOSCRIPT, say), so a run that completes
 * answered with no error; the check here makes sure the reply is also the right one.
 *
 * @module
 */

import * as net from "node:net";
import type { ServerProc } from "./servers.ts";

/** The script under test: one `GET` through `redis.call`. */
export const SCRIPT = "return redis.call('GET', KEYS[1])";

const KEY = "bench:evalsha";
const VALUE = "evalsha-value";

function bulk(s: string): string {
  return `$${s.length}\r\n${s}\r\n`;
}

/** The offset just past the RESP2 reply starting at `at`, or -1 while it is incomplete. */
function replyEnd(text: string, at: number): number {
  const eol = text.indexOf("\r\n", at);
  if (eol < 0) return -1;
  const n = Number(text.slice(at + 1, eol));
  switch (text[at]) {
    case "$":
      if (n < 0) return eol + 2;
      return text.length >= eol + 4 + n ? eol + 4 + n : -1;
    case "*": {
      let p = eol + 2;
      for (let i = 0; i < n && p >= 0; i++) p = replyEnd(text, p);
      return p;
    }
    default:
      return eol + 2;
  }
}

/**
 * Sends one command on a fresh connection and returns its raw reply (latin1 text).
 *
 * @param port the server's port on 127.0.0.1
 * @param argv the command and its arguments
 * @returns the reply's bytes as a binary string, e.g. `+OK\r\n`
 * @example
 * ```ts
 * import { request } from "./scripting.ts";
 * import { freePort, startRedis } from "./servers.ts";
 * const redis = await startRedis(await freePort());
 * console.log(JSON.stringify(await request(redis.port, ["PING"]))); // "+PONG\r\n"
 * await redis.stop();
 * ```
 */
export function request(port: number, argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    let got = "";
    s.setTimeout(10_000, () => {
      s.destroy();
      reject(new Error(`No reply to ${argv[0]} on port ${port} within 10s`));
    });
    s.on("error", reject);
    s.on("connect", () => {
      s.write(`*${argv.length}\r\n${argv.map(bulk).join("")}`, "latin1");
    });
    s.on("data", (d) => {
      got += d.toString("latin1");
      if (replyEnd(got, 0) >= 0) {
        s.destroy();
        resolve(got);
      }
    });
  });
}

async function expectReply(server: ServerProc, argv: string[], want: string): Promise<void> {
  const got = await request(server.port, argv);
  if (got !== want) {
    throw new Error(
      `${server.name}: ${argv.join(" ")} replied ${JSON.stringify(got)}, not ${
        JSON.stringify(want)
      }`,
    );
  }
}

/**
 * Prepares a server for the EVALSHA scenario: SETs the key, loads {@linkcode SCRIPT} and checks
 * that one EVALSHA returns the key's value. Throws with the server's reply when a step fails.
 *
 * @param server the server under test
 * @returns the command redis-benchmark runs: `EVALSHA <sha> 1 <key>`
 * @example
 * ```ts
 * import { prepareEvalsha } from "./scripting.ts";
 * import { freePort, startRedis } from "./servers.ts";
 * const redis = await startRedis(await freePort());
 * console.log((await prepareEvalsha(redis)).join(" ")); // EVALSHA d3c21d0c... 1 bench:evalsha
 * await redis.stop();
 * ```
 */
export async function prepareEvalsha(server: ServerProc): Promise<string[]> {
  await expectReply(server, ["SET", KEY, VALUE], "+OK\r\n");
  const load = await request(server.port, ["SCRIPT", "LOAD", SCRIPT]);
  const sha = /^\$40\r\n([0-9a-f]{40})\r\n$/.exec(load)?.[1];
  if (sha === undefined) {
    throw new Error(`${server.name}: SCRIPT LOAD replied ${JSON.stringify(load)}`);
  }
  const argv = ["EVALSHA", sha, "1", KEY];
  await expectReply(server, argv, bulk(VALUE));
  return argv;
}
