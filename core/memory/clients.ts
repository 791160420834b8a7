/**
 * Client eviction, after Redis 7.0 (`maxmemory-clients`): when the memory held by normal and
 * pub/sub clients together passes the limit, the clients holding the most are disconnected until
 * the rest fit. Replicas, our master, in-process sessions and clients that turned
 * `CLIENT NO-EVICT on` are never chosen (their memory still counts). Checked before each command
 * and on every server tick, as Redis checks before each event-loop sleep.
 *
 * @module
 */

import { CF, type Client } from "../client.ts";
import type { Server } from "../server.ts";
import { clientMemoryTotal } from "../client_memory.ts";

/** Clients that are never evicted. */
const EXEMPT = CF.master | CF.replica | CF.local | CF.noEvict | CF.closed;

/** `maxmemory-clients` in bytes: a size, or a percentage of `maxmemory`; 0 when disabled. */
export function clientsLimit(server: Server): number {
  const v = server.config.get("maxmemory-clients") as number | string;
  if (typeof v === "number") return v;
  const pct = Number(v.slice(0, -1));
  return Math.floor((server.maxmemory * pct) / 100);
}

/**
 * Disconnects the biggest evictable clients while client memory is over the limit.
 *
 * @param server the server
 * @param options `limit`: `maxmemory-clients` in bytes; `caller` and `argv`: a client whose
 *   command is about to run, counted with that command's arguments
 */
export function evictClients(
  server: Server,
  options: { limit: number; caller?: Client | undefined; argv?: string[] | undefined },
): void {
  const { limit, caller, argv } = options;
  let total = 0;
  const candidates: Array<[Client, number]> = [];
  for (const c of server.clients.values()) {
    if ((c.flags & (CF.master | CF.replica)) !== 0) continue;
    const n = clientMemoryTotal(c, c === caller ? argv : undefined);
    total += n;
    if ((c.flags & EXEMPT) === 0 && c !== server.current) candidates.push([c, n]);
  }
  if (total <= limit) return;
  candidates.sort((a, b) => b[1] - a[1]);
  for (const [c, n] of candidates) {
    if (total <= limit) break;
    server.log("verbose", `Evicting client: id=${c.id} addr=${c.addr} tot-mem=${n}`);
    c.close();
    server.stats.evictedClients++;
    total -= n;
  }
}
