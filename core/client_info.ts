/**
 * One client as CLIENT LIST, CLIENT INFO and the server's log lines about a client (output
 * buffer limits) show it, with Redis 7.0's fields in Redis's order.
 *
 * @module
 */

import { CF, type Client } from "./client.ts";
import { TF } from "./tracking.ts";
import { argvLength, clientMemoryParts } from "./client_memory.ts";
import { compat } from "./compat.ts";

function flagLetters(c: Client): string {
  let f = "";
  // A MONITOR client is a replica with the monitor flag in Redis: `O` stands for both.
  if (c.flags & CF.monitor) f += "O";
  else if (c.flags & CF.replica) f += "S";
  if (c.flags & CF.master) f += "M";
  if (c.flags & CF.pubsub) f += "P";
  if (c.flags & CF.multi) f += "x";
  if (c.flags & CF.blocked) f += "b";
  const t = c.tracking;
  if (t !== undefined) {
    f += "t";
    if (t.flags & TF.brokenRedir) f += "R";
    if (t.flags & TF.bcast) f += "B";
  }
  if (c.flags & CF.dirtyCas) f += "d";
  if (c.flags & CF.closeAfterReply) f += "c";
  if (c.flags & CF.readonlyCluster) f += "r";
  if (c.flags & CF.noEvict) f += "e";
  if (c.flags & CF.noTouch) f += "T";
  return f === "" ? "N" : f;
}

/** Bytes of `argv` as a RESP multibulk request. */
function frameLength(argv: string[]): number {
  let n = 3 + String(argv.length).length;
  for (const a of argv) n += 5 + String(a.length).length + a.length;
  return n;
}

/**
 * One CLIENT LIST / CLIENT INFO line, with Redis 7.4's fields in its order (7.0's, and
 * `watch`, the number of keys watched, after `multi`; 7.2's `lib-name`/`lib-ver` last); a server
 * reporting 7.0.x leaves out the fields 7.2 and 7.4 added, as 7.0 does. `running` is the
 * command the client is executing now. How the buffer fields are measured here:
 * - `qbuf`: input received and not yet run; the running command's frame counts until it
 *   completes, as in Redis;
 * - `qbuf-free`: the query storage beyond that (the parser's copy of partial frames, the
 *   connection's read buffer on Deno; Node reads into a new buffer each time and holds none);
 * - `argv-mem`: the bytes of the running command's arguments, or of a frame's arguments parsed
 *   so far (Redis's `argv_len_sum`); `multi-mem`: those of the commands queued in MULTI, a
 *   pointer each included (Redis's `argv_len_sums`);
 * - `rbs`: the reply buffer's size, `rbp` the largest batch it held lately; `obl`: replies in
 *   that buffer not yet handed to the socket; `oll`: 0, as no reply list is kept beyond it;
 *   `omem`: output handed to the socket and not yet taken by the kernel (or a replica's
 *   channel);
 * - `tot-mem`: every part core/client_memory.ts adds up.
 */
export function clientInfoLine(c: Client, running?: string[]): string {
  const now = c.server.clock.now();
  const unparsed = c.parser.unparsed;
  const mem = clientMemoryParts(c, running);
  const argvMem = running ? argvLength(running) : c.parser.argsPending;
  const multiMem = c.multiCount >= 0 ? c.tx?.argvBytes ?? 0 : 0;
  const cmd = c.lastCommand;
  const { v72, v74 } = compat(c.server.config);
  const watch = v74 ? ` watch=${c.server.transactions.watchedCount(c)}` : "";
  const lib = v72 ? ` lib-name=${c.libName} lib-ver=${c.libVer}` : "";
  return `id=${c.id} addr=${c.addr} laddr=${c.laddr} fd=${c.transport ? c.id + 7 : -1} ` +
    `name=${c.name} age=${Math.floor((now - c.createdAt) / 1000)} ` +
    `idle=${Math.floor((now - c.lastInteraction) / 1000)} flags=${flagLetters(c)} ` +
    `db=${c.dbIndex} sub=${c.subscriptions} psub=${c.patterns} ssub=${c.shardSubscriptions} ` +
    `multi=${c.multiCount}${watch} qbuf=${unparsed + (running ? frameLength(running) : 0)} ` +
    `qbuf-free=${Math.max(0, mem.query - c.parser.pending)} argv-mem=${argvMem} ` +
    `multi-mem=${multiMem} ` +
    `rbs=${c.out.buf.length} rbp=${c.out.recentPeak} obl=${c.out.length} oll=0 ` +
    `omem=${c.pendingOutput} tot-mem=${mem.query + mem.output + mem.argv + mem.state} ` +
    `events=r cmd=${cmd} user=${c.user.name} redir=${
      c.tracking?.redirect ?? -1
    } resp=${c.resp}${lib}`;
}
