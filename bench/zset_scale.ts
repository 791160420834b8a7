/**
 * Sorted set scaling check, in process: mean time per ZADD, ZRANK, ZRANGE of 10 elements at a
 * random rank and ZRANGEBYSCORE with LIMIT, on sets of 10k, 100k and 1M members, through the
 * real command path (`server.dispatch`). With O(log n) operations the times grow by about
 * log(1M)/log(10k) = 1.5x from the first row to the last, not 100x.
 *
 * Run: `deno run -A bench/zset_scale.ts` or `node --import tsx bench/zset_scale.ts`
 * (`--sizes 10000,100000` to choose the sizes).
 *
 * @module
 */

import { createServer } from "../mod.ts";

const OPS = 20000;

/** Mean microseconds per call of `op(i)` over `n` calls. */
function timeIt(n: number, op: (i: number) => void): number {
  const start = performance.now();
  for (let i = 0; i < n; i++) op(i);
  return ((performance.now() - start) * 1000) / n;
}

/** A deterministic member name for index `i`. */
function member(i: number): string {
  return `member:${(i * 2654435761) >>> 0}:${i}`;
}

/** One row of the table: mean µs per operation at `size` members. */
interface Row {
  size: number;
  zadd: number;
  zrank: number;
  zrange: number;
  zrangebyscore: number;
}

function measure(size: number): Row {
  const server = createServer();
  const key = `z${size}`;
  // Fill up to size - OPS with variadic ZADDs, then time single-member ZADDs at full size.
  const batch: string[] = [];
  for (let i = 0; i < size - OPS; i++) {
    batch.push(String((i * 7919) % size), member(i));
    if (batch.length === 2000) {
      server.dispatch(["ZADD", key, ...batch]);
      batch.length = 0;
    }
  }
  if (batch.length > 0) server.dispatch(["ZADD", key, ...batch]);
  const base = size - OPS;
  const zadd = timeIt(OPS, (i) => {
    server.dispatch(["ZADD", key, String(((base + i) * 7919) % size), member(base + i)]);
  });
  const pick = (i: number) => (i * 40503) % size;
  const zrank = timeIt(OPS, (i) => server.dispatch(["ZRANK", key, member(pick(i))]));
  const zrange = timeIt(OPS, (i) => {
    const start = pick(i);
    server.dispatch(["ZRANGE", key, String(start), String(start + 9)]);
  });
  const zrangebyscore = timeIt(OPS, (i) => {
    server.dispatch(["ZRANGEBYSCORE", key, `(${pick(i)}`, "+inf", "LIMIT", "5", "10"]);
  });
  return { size, zadd, zrank, zrange, zrangebyscore };
}

function main(): void {
  const args = (globalThis as { process?: { argv: string[] } }).process?.argv ??
    (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? [];
  const at = args.indexOf("--sizes");
  const sizes = at >= 0 ? args[at + 1]!.split(",").map(Number) : [10_000, 100_000, 1_000_000];
  // A first pass lets the JIT compile the command path, so the first row is not penalised.
  measure(sizes[0]!);
  const rows = sizes.map(measure);
  const first = rows[0]!;
  const cell = (v: number, ref: number) => `${v.toFixed(2)} (${(v / ref).toFixed(2)}x)`.padEnd(16);
  console.log(
    "members".padEnd(10) + "ZADD µs".padEnd(16) + "ZRANK µs".padEnd(16) +
      "ZRANGE 10 µs".padEnd(16) + "ZRANGEBYSCORE µs",
  );
  for (const r of rows) {
    console.log(
      String(r.size).padEnd(10) + cell(r.zadd, first.zadd) + cell(r.zrank, first.zrank) +
        cell(r.zrange, first.zrange) + cell(r.zrangebyscore, first.zrangebyscore),
    );
  }
}

main();
