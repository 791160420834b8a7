/**
 * The runtime's floor: a TCP server that does nothing but what every server on this runtime must
 * do per request, read the request and write a short reply. It answers each command it reads
 * (each `*` of a RESP array, or one inline line) with `+PONG`, without parsing further; no server
 * written for the runtime can cost less CPU per request. bench/floor.ts runs it beside redeno
 * and redis-server.
 *
 *     deno run -A bench/floor_server.ts <port>          (Deno.listen, redeno's Deno adapter)
 *     npx tsx bench/floor_server.ts <port>              (node:net, redeno's Node adapter)
 *
 * Each runtime uses the I/O API redeno's adapter for it uses, in its cheapest pattern: on Deno,
 * one `read` then one `write` per wake-up, both awaited; on Node, one `write` per `data` event.
 *
 * @module
 */

import * as net from "node:net";
import process from "node:process";

const PONG = new TextEncoder().encode("+PONG\r\n");
const STAR = 42;

/** How many replies a read's bytes ask for: one per RESP array, at least one. */
function commands(bytes: Uint8Array, n: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (bytes[i] === STAR) k++;
  return k === 0 ? 1 : k;
}

function replies(k: number): Uint8Array {
  const out = new Uint8Array(k * PONG.length);
  for (let j = 0; j < k; j++) out.set(PONG, j * PONG.length);
  return out;
}

async function serveDeno(conn: Deno.TcpConn): Promise<void> {
  conn.setNoDelay(true);
  const buf = new Uint8Array(16 * 1024);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      let out = replies(commands(buf, n));
      while (out.length > 0) out = out.subarray(await conn.write(out));
    }
  } catch {
    // A reset connection ends its loop; the server goes on.
  } finally {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }
}

function listenDeno(port: number): void {
  const listener = Deno.listen({ port, hostname: "127.0.0.1" });
  (async () => {
    for await (const conn of listener) void serveDeno(conn);
  })();
}

function listenNode(port: number): void {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on("data", (d: Uint8Array) => socket.write(replies(commands(d, d.length))));
    socket.on("error", () => socket.destroy());
  });
  server.listen(port, "127.0.0.1");
}

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error("Usage: floor_server.ts <port>");
  process.exit(2);
}
if (typeof Deno === "object" && process.versions.deno !== undefined) listenDeno(port);
else listenNode(port);
