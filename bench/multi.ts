/**
 * The MULTI/SET/EXEC scenario. redis-benchmark sends one command per request, so a transaction
 * (three commands in a row on one connection) needs a load generator of its own: `clients`
 * connections, each writing `pipeline` transactions at once and waiting for all their replies
 * before the next batch, as redis-benchmark does with `-P`. Every reply byte is compared with the
 * expected `+OK`, `+QUEUED`, `*1 +OK`; the first difference fails the run. The same generator
 * drives both servers, and the server's CPU time is read from /proc around the run, as for the
 * redis-benchmark tests: the result is CPU per transaction (three commands).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import * as net from "node:net";
import type { RunResult } from "./benchmark.ts";
import { cpuSeconds } from "./procs.ts";
import type { ServerProc } from "./servers.ts";

const KEY = "bench:multi";
/** The replies to one transaction: MULTI, SET (queued), EXEC with SET's reply in an array. */
const TX_REPLY = "+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n";

/** What one run of the generator does. */
export interface TransactionSpec {
  /** Parallel connections. */
  clients: number;
  /** Transactions over all connections. */
  requests: number;
  /** Transactions written at once per connection; 1 for none. */
  pipeline: number;
  /** Bytes of the value SET. */
  dataSize: number;
}

function bulk(s: string): string {
  return `$${s.length}\r\n${s}\r\n`;
}

/** The request and expected reply bytes of `n` transactions in a row. */
interface Batch {
  request: Buffer;
  reply: Buffer;
}

function batchOf(n: number, value: string): Batch {
  const tx = `*1\r\n${bulk("MULTI")}*3\r\n${bulk("SET")}${bulk(KEY)}${bulk(value)}` +
    `*1\r\n${bulk("EXEC")}`;
  return {
    request: Buffer.from(tx.repeat(n), "latin1"),
    reply: Buffer.from(TX_REPLY.repeat(n), "latin1"),
  };
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    s.once("error", reject);
    s.once("connect", () => {
      s.setNoDelay(true);
      resolve(s);
    });
  });
}

/** Runs `count` transactions on one connection, `pipeline` at a time, checking every reply. */
function drive(
  socket: net.Socket,
  count: number,
  batches: { full: Batch; make: (n: number) => Batch; pipeline: number },
): Promise<void> {
  return new Promise((resolve, reject) => {
    let left = count;
    let expected = batches.full.reply;
    let got = 0;
    const send = (): void => {
      const n = Math.min(batches.pipeline, left);
      const batch = n === batches.pipeline ? batches.full : batches.make(n);
      left -= n;
      expected = batch.reply;
      got = 0;
      socket.write(batch.request);
    };
    socket.on("data", (chunk: Buffer) => {
      const end = got + chunk.length;
      if (end > expected.length || !chunk.equals(expected.subarray(got, end))) {
        const text = chunk.toString("latin1").slice(0, 120);
        socket.destroy();
        reject(new Error(`unexpected reply: ${JSON.stringify(text)}`));
        return;
      }
      got = end;
      if (got < expected.length) return;
      if (left > 0) send();
      else resolve();
    });
    socket.once("error", reject);
    // After resolve() a close settles nothing; before it, the server hung up mid-run.
    socket.once("close", () => reject(new Error("connection closed by the server")));
    if (count > 0) send();
    else resolve();
  });
}

/**
 * Runs `spec.requests` MULTI/SET/EXEC transactions against `server` and reads the server's CPU
 * time before and after. Throws at the first reply that is not the expected one.
 *
 * @param server the server under test
 * @param spec connections, transactions, pipeline depth and value size
 * @returns transactions per second and server CPU microseconds per transaction
 * @example
 * ```ts
 * import { runTransactions } from "./multi.ts";
 * import { freePort, startRedis } from "./servers.ts";
 * const redis = await startRedis(await freePort());
 * const spec = { clients: 50, requests: 10000, pipeline: 16, dataSize: 3 };
 * console.log(await runTransactions(redis, spec));
 * await redis.stop();
 * ```
 */
export async function runTransactions(
  server: ServerProc,
  spec: TransactionSpec,
): Promise<RunResult> {
  const value = "x".repeat(spec.dataSize);
  const batches = {
    full: batchOf(spec.pipeline, value),
    make: (n: number) => batchOf(n, value),
    pipeline: spec.pipeline,
  };
  const sockets: net.Socket[] = [];
  try {
    for (let i = 0; i < spec.clients; i++) sockets.push(await connect(server.port));
    const share = Math.floor(spec.requests / spec.clients);
    const extra = spec.requests % spec.clients;
    const before = cpuSeconds(server.pid);
    const started = performance.now();
    await Promise.all(sockets.map((s, i) => drive(s, share + (i < extra ? 1 : 0), batches)));
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuSeconds(server.pid) - before;
    return { rps: spec.requests / seconds, cpuUsPerReq: (cpu * 1e6) / spec.requests };
  } catch (e) {
    throw new Error(`MULTI/SET/EXEC on ${server.name} failed: ${(e as Error).message}`);
  } finally {
    for (const s of sockets) s.destroy();
  }
}
