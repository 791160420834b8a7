/**
 * One client as CLIENT LIST, CLIENT INFO and the server's log lines about a client (output
 * buffer limits) show it, with Redis 7.0's fields in Redis's order.
 *
 * @module
 */

import { CF, type Client } from "./client.ts";
import { TF } from "./tracking.ts";

function flagLetters(c: Client): string {
  let f = "";
  if (c.flags & CF.replica) f += "S";
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
  if (c.flags & CF.closeAfterReply) f += "c";
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
 * One CLIENT LIST / CLIENT INFO line, with Redis 7.0's fields in Redis's order. `running` is the
 * command the client is executing now: Redis counts it in `qbuf` until it completes, and its
 * arguments in `argv-mem`. The buffer figures are {@linkcode Client.memoryUsage}'s: `qbuf-free`
 * is the query storage and read buffer beyond the pending bytes, `rbs` the reply buffer's size,
 * `rbp` the largest batch it held lately, `tot-mem` everything the client's buffers hold.
 */
export function clientInfoLine(c: Client, running?: string[]): string {
  const now = c.server.clock.now();
  const pending = c.parser.pending;
  const mem = c.memoryUsage();
  const omem = c.pendingOutput;
  let argvMem = 0;
  if (running) { for (const a of running) argvMem += a.length; }
  const cmd = c.lastCommand;
  return `id=${c.id} addr=${c.addr} laddr=${c.laddr} fd=${c.transport ? c.id + 7 : -1} ` +
    `name=${c.name} age=${Math.floor((now - c.createdAt) / 1000)} ` +
    `idle=${Math.floor((now - c.lastInteraction) / 1000)} flags=${flagLetters(c)} ` +
    `db=${c.dbIndex} sub=${c.subscriptions} psub=${c.patterns} ssub=${c.shardSubscriptions} ` +
    `multi=${c.multiCount} qbuf=${pending + (running ? frameLength(running) : 0)} ` +
    `qbuf-free=${Math.max(0, mem.query - pending)} argv-mem=${argvMem} multi-mem=0 ` +
    `rbs=${c.out.buf.length} rbp=${c.out.recentPeak} obl=0 oll=0 omem=${omem} ` +
    `tot-mem=${mem.query + mem.output + argvMem} events=r ` +
    `cmd=${cmd} user=${c.user.name} redir=${
      c.tracking?.redirect ?? -1
    } resp=${c.resp} lib-name=${c.libName} lib-ver=${c.libVer}`;
}
