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

function replies(k: number): Uint8Array {
  let out = made[k];
  if (out === undefined) {
    out = new Uint8Array(k * PONG.length);
    for (let j = 0; j < k; j++) out.set(PONG, j * PONG.length);
    if (k < 1024) made[k] = out;
  }
  return out;
}

/** Answers each chunk's commands (one per RESP array, at least one) with PONGs. */
function serve(t: Transport) {
  return {
    onData(chunk: Uint8Array): void {
      let k = 0;
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === STAR) k++;
      t.write(replies(k === 0 ? 1 : k));
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
