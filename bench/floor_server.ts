/**
 * The runtime's floor: a TCP server that does nothing but what every server on this runtime must
 * do per request, read the request and write a short reply. It answers each command it reads
 * (each `*` of a RESP array, or one inline line) with `+PONG`, without parsing further. It runs
 * on redeno's own network adapter (core/net: `Deno.listen` on Deno; `node:net` with its read
 * slots and direct writes on Node), so it pays exactly the I/O cost redeno pays and nothing else:
 * redeno's distance above it is redeno's own work. bench/floor.ts runs it beside redeno and
 * redis-server.
 *
 *     deno run -A bench/floor_server.ts <port>
 *     npx tsx bench/floor_server.ts <port>
 *
 * @module
 */

import process from "node:process";
import { netAdapter } from "../core/net/runtime.ts";
import type { Transport } from "../core/net/transport.ts";

const PONG = new TextEncoder().encode("+PONG\r\n");
const STAR = 42;

/** Replies of each count, made once: a reply the transport keeps is never written into again. */
const made: Uint8Array[] = [];

/**
 * `k` PONGs, as the transport's own kind of view when it has one (a Buffer on Node, which
 * `socket.write` takes as it is), as redeno's writer hands its replies.
 */
function replies(t: Transport, k: number): Uint8Array {
  let out = made[k];
  if (out === undefined) {
    const bytes = new Uint8Array(k * PONG.length);
    for (let j = 0; j < k; j++) bytes.set(PONG, j * PONG.length);
    out = t.viewOf?.(bytes, bytes.length) ?? bytes;
    if (k < 1024) made[k] = out;
  }
  return out;
}

/**
 * Answers each read's commands (one per RESP array, at least one) with PONGs. Reads arrive as
 * (buffer, length) through `onRead`, as redeno takes them, without a view per read.
 */
function serve(t: Transport) {
  const answer = (buf: Uint8Array, n: number): void => {
    let k = 0;
    for (let i = 0; i < n; i++) if (buf[i] === STAR) k++;
    t.write(replies(t, k === 0 ? 1 : k));
  };
  return {
    onRead: answer,
    onData(chunk: Uint8Array): void {
      answer(chunk, chunk.length);
    },
    onClose(): void {},
  };
}

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error("Usage: floor_server.ts <port>");
  process.exit(2);
}
const { listen } = await netAdapter();
await listen({ port, hostname: "127.0.0.1" }, serve);
