/**
 * Memory per data type, redeno (on Deno and on Node) beside redis-server in one run:
 *
 *     deno run -A bench/memory_types.ts [flags]   (or: npx tsx bench/memory_types.ts; --help)
 *
 * Each row loads about a million items into a fresh server through `redis-cli --pipe` and reads
 * its resident set before and after (memory.ts): the growth divided by the items is the figure,
 * and the ratio is redeno's over Redis's. The rows (the bars are issue 14's):
 *
 * - `strings`: 1M `SET key:<12 digits> <16 bytes>` (bar 1.3x)
 * - `hashes`: 10k `HSET hash:<n> field:00 <8 bytes> ... field:99 <8 bytes>` (1.5x)
 * - `lists`: 10k `RPUSH list:<n>` of 100 8-byte elements (1.5x)
 * - `intsets`: 10k `SADD iset:<n>` of 100 integers below 1,000,000 (1.5x)
 * - `strsets`: 10k `SADD sset:<n>` of 100 8-byte non-integer members (1.5x)
 * - `zsets`: 10k `ZADD zset:<n>` of 100 integer scores and 8-byte members (1.5x)
 * - `streams`: 1M `XADD stream <i>-0 f <3 bytes>` in one stream, as bench/stream.ts loads it (1.5x)
 * - `echo`: the zsets row's bytes as 10k `ECHO` commands, which keep nothing: what the traffic
 *   alone costs (no bar; it is included in every row's whole-load figure)
 *
 * Each row is loaded in two halves: the table gives the growth per item over the whole load (read
 * as the load ends, and again after eight quiet seconds, once the command line's idle collections
 * have run: the heap's at 1 s, the young generation's at 6 s) and over the second half alone (what one more item costs once the runtime's one-time growth, such
 * as a young generation grown to its maximum, is paid). Per row the first key's `MEMORY USAGE`
 * per item and its `OBJECT ENCODING` are shown too: the estimate redeno's eviction will rely on,
 * beside the measured growth.
 *
 * Before the baseline, each server runs a warm-up of the row's first 1% of commands, then
 * `FLUSHALL SYNC`: RSS also counts the pages of the runtime's executable that a load runs for the
 * first time (on Deno ~5 MB of the `deno` binary's code, once per process whatever the dataset)
 * and the code the JIT compiles for it, which are a constant per process rather than a cost per
 * item. Redis gets the same warm-up.
 *
 * The fourth figure is the growth of private memory (RssAnon) over the whole load, after the
 * quiet time: file-backed pages left out entirely, it is what the dataset itself holds.
 *
 * @module
 */

import process from "node:process";
import { fileURLToPath } from "node:url";
import { pipeLoad, resp } from "./memory.ts";
import type { Runtime } from "./options.ts";
import { anonBytes, installCleanup, rssBytes } from "./procs.ts";
import { median, table } from "./report.ts";
import { request } from "./scripting.ts";
import { freePort, type ServerProc, startRedeno, startRedis, versionLines } from "./servers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");

/** One data type's load. */
interface Row {
  name: string;
  /** Largest ratio to Redis issue 14 accepts. */
  bar: number;
  /** Items loaded (keys for strings, elements for aggregates, entries for streams). */
  items: number;
  /** Commands sent (one reply each). */
  commands: number;
  /** The key whose MEMORY USAGE and OBJECT ENCODING are shown, and its item count. */
  sample: [string, number];
  render(from: number, to: number): string;
}

const pad = (n: number, width: number): string => String(n).padStart(width, "0");

/** A row of `keys` aggregates of `per` items each, one command per key. */
function aggregate(
  name: string,
  keys: number,
  per: number,
  command: (k: number) => string[],
): Row {
  return {
    name,
    bar: 1.5,
    items: keys * per,
    commands: keys,
    sample: [command(0)[1]!, per],
    render(from, to) {
      let out = "";
      for (let k = from; k < to; k++) out += resp(command(k));
      return out;
    },
  };
}

function rows(scale: number): Row[] {
  const million = Math.round(1_000_000 * scale);
  const keys = Math.round(10_000 * scale);
  const per = 100;
  const each = (item: (j: number) => string[]): string[] => {
    const out: string[] = [];
    for (let j = 0; j < per; j++) out.push(...item(j));
    return out;
  };
  const value16 = "x".repeat(16);
  return [
    {
      name: "strings",
      bar: 1.3,
      items: million,
      commands: million,
      sample: [`key:${pad(0, 12)}`, 1],
      render(from, to) {
        let out = "";
        for (let i = from; i < to; i++) out += resp(["SET", `key:${pad(i, 12)}`, value16]);
        return out;
      },
    },
    aggregate("hashes", keys, per, (k) => [
      "HSET",
      `hash:${pad(k, 6)}`,
      ...each((j) => [`field:${pad(j, 2)}`, `v${pad(k * per + j, 7)}`]),
    ]),
    aggregate("lists", keys, per, (k) => [
      "RPUSH",
      `list:${pad(k, 6)}`,
      ...each((j) => [`e${pad(k * per + j, 7)}`]),
    ]),
    aggregate("intsets", keys, per, (k) => [
      "SADD",
      `iset:${pad(k, 6)}`,
      ...each((j) => [String(k * per + j)]),
    ]),
    aggregate("strsets", keys, per, (k) => [
      "SADD",
      `sset:${pad(k, 6)}`,
      ...each((j) => [`m${pad(k * per + j, 7)}`]),
    ]),
    aggregate("zsets", keys, per, (k) => [
      "ZADD",
      `zset:${pad(k, 6)}`,
      ...each((j) => [String(j), `m${pad(k * per + j, 7)}`]),
    ]),
    {
      name: "streams",
      bar: 1.5,
      items: million,
      commands: million,
      sample: ["stream", million],
      render(from, to) {
        let out = "";
        for (let i = from + 1; i <= to; i++) out += resp(["XADD", "stream", `${i}-0`, "f", "xxx"]);
        return out;
      },
    },
    // The same traffic as the zsets row, answered by ECHO: nothing is kept, so the growth is what
    // a burst of commands costs the server by itself (for a JS runtime, chiefly the young
    // generation growing to its maximum size), spread over the same item count.
    {
      ...aggregate("echo", keys, per, (k) => [
        "ECHO",
        each((j) => [String(j), `m${pad(k * per + j, 7)}`]).join(" "),
      ]),
      bar: NaN,
    },
  ];
}

const USAGE =
  `Usage: deno run -A bench/memory_types.ts [flags]   (or: npx tsx bench/memory_types.ts)

Loads each data type's row into fresh servers (redis-server, redeno on Deno, redeno on Node) with
redis-cli --pipe and prints the RSS growth per item and the ratio to Redis.

  --rows a,b        only these rows (strings,hashes,lists,intsets,strsets,zsets,streams,echo)
  --runtimes a,b    redeno's runtimes (default deno,node)
  --scale F         multiply every row's size by F (default 1; e.g. 0.1 for a quick look)
  --repeat N        measure each row N times on fresh servers, report medians (default 1)
  --help            this text`;

interface Options {
  rows: string[] | undefined;
  runtimes: Runtime[];
  scale: number;
  repeat: number;
}

function parse(argv: string[]): Options | undefined {
  const o: Options = { rows: undefined, runtimes: ["deno", "node"], scale: 1, repeat: 1 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const list = (): string[] => (argv[++i] ?? "").split(",").filter((s) => s !== "");
    if (flag === "--help" || flag === "-h") return undefined;
    else if (flag === "--rows") o.rows = list();
    else if (flag === "--runtimes") {
      o.runtimes = list().map((r) => {
        if (r !== "deno" && r !== "node") throw new RangeError(`Invalid runtime: ${r}`);
        return r;
      });
    } else if (flag === "--repeat") {
      o.repeat = Number(argv[++i]);
      if (!Number.isInteger(o.repeat) || o.repeat < 1) {
        throw new RangeError(`Invalid value for --repeat: ${argv[i]}`);
      }
    } else if (flag === "--scale") {
      o.scale = Number(argv[++i]);
      if (!(o.scale > 0)) throw new RangeError(`Invalid value for --scale: ${argv[i]}`);
    } else throw new RangeError(`Unknown flag: ${flag} (see --help)`);
  }
  return o;
}

/** One server's figures for a row. */
interface Measured {
  /** RSS growth over the whole load, per item, read as the load ends. */
  perItem: number;
  /** The same, read after the server was left quiet for {@linkcode SETTLE_MS}. */
  settled: number;
  /** RSS growth over the second half of the load, per item of that half. */
  marginal: number;
  /** Private (RssAnon) growth over the whole load, per item, read after the quiet time. */
  privateSettled: number;
  usagePerItem: number;
  encoding: string;
}

function integerReply(text: string): number {
  return text.startsWith(":") ? Number(text.slice(1).trim()) : NaN;
}

/**
 * Loads a row in two halves, reading RSS before (once the started server is quiet), between and
 * after: the whole growth per item
 * includes what the first burst of work costs a runtime once (a young generation grown to its
 * maximum, compiled code, buffers), the second half's growth per item is what each further item
 * costs.
 */
async function measure(server: ServerProc, row: Row): Promise<Measured> {
  try {
    const batch = row.commands === row.items ? 10_000 : 500;
    const half = Math.floor(row.commands / 2);
    // A warm-up of the row's first commands, then FLUSHALL: the code the load runs is paged in
    // and compiled before the baseline, so neither counts as the dataset's.
    const warm = Math.max(1, Math.floor(row.commands / WARMUP_SHARE));
    await pipeLoad(server, { commands: warm, render: row.render, batch: Math.min(batch, warm) });
    await request(server.port, ["FLUSHALL", "SYNC"]);
    // The baseline is the started server settled as the end is: its start-up and warm-up garbage
    // collected and its young generation given back, so that neither counts as the load's.
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const anonBefore = anonBytes(server.pid);
    const first = await pipeLoad(server, { commands: half, render: row.render, batch });
    const second = await pipeLoad(server, {
      commands: row.commands - half,
      render: (from, to) => row.render(from + half, to + half),
      batch,
    });
    const [key, n] = row.sample;
    const usage = integerReply(await request(server.port, ["MEMORY", "USAGE", key]));
    // A bulk reply: `$<len>\r\n<encoding>\r\n`.
    const encoding = (await request(server.port, ["OBJECT", "ENCODING", key])).split("\r\n")[1]!;
    const secondItems = row.items * (row.commands - half) / row.commands;
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const rssSettled = rssBytes(server.pid);
    const anonSettled = anonBytes(server.pid);
    return {
      perItem: (second.rssAfter - first.rssBefore) / row.items,
      settled: (rssSettled - first.rssBefore) / row.items,
      marginal: (second.rssAfter - first.rssAfter) / secondItems,
      privateSettled: (anonSettled - anonBefore) / row.items,
      usagePerItem: usage / n,
      encoding,
    };
  } finally {
    await server.stop();
  }
}

/** The warm-up before the baseline loads this share (1/N) of the row's commands. */
const WARMUP_SHARE = 100;

/**
 * Quiet time before the settled reading: the command line collects its heap after 1 s of quiet,
 * and gives the young generation back after 6 s (core/memory/idle_gc.ts).
 */
const SETTLE_MS = 8000;

/** A measurement's three figures, as the table shows them. */
function figures(m: Measured): string {
  return [m.perItem, m.settled, m.marginal, m.privateSettled].map((x) => x.toFixed(1)).join(" / ");
}

/** Runs `once` n times (each on fresh servers) and keeps the median of each figure. */
async function repeated(n: number, once: () => Promise<Measured>): Promise<Measured> {
  const runs: Measured[] = [];
  for (let i = 0; i < n; i++) runs.push(await once());
  const mid = (f: (m: Measured) => number): number => median(runs.map(f));
  return {
    perItem: mid((m) => m.perItem),
    settled: mid((m) => m.settled),
    marginal: mid((m) => m.marginal),
    privateSettled: mid((m) => m.privateSettled),
    usagePerItem: mid((m) => m.usagePerItem),
    encoding: runs[0]!.encoding,
  };
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  if (o === undefined) {
    console.log(USAGE);
    return;
  }
  installCleanup();
  const started = Date.now();
  console.log(versionLines("deno", ROOT)[0]);
  for (const r of o.runtimes) console.log(versionLines(r, ROOT)[1]);
  const all = rows(o.scale).filter((r) => o.rows === undefined || o.rows.includes(r.name));
  const out: string[][] = [];
  const notes: string[] = [];
  for (const row of all) {
    const redis = await repeated(
      o.repeat,
      async () => measure(await startRedis(await freePort()), row),
    );
    const cells = [
      row.name,
      row.items.toLocaleString("en-US"),
      figures(redis),
    ];
    const note = [`redis ${redis.encoding} ${redis.usagePerItem.toFixed(1)}`];
    for (const runtime of o.runtimes) {
      const m = await repeated(
        o.repeat,
        async () => measure(await startRedeno(await freePort(), { runtime, root: ROOT }), row),
      );
      cells.push(
        figures(m),
        [
          m.perItem / redis.perItem,
          m.settled / redis.settled,
          m.marginal / redis.marginal,
          m.privateSettled / redis.privateSettled,
        ].map((x) => x.toFixed(2)).join(" / "),
      );
      note.push(`${runtime} ${m.encoding} ${m.usagePerItem.toFixed(1)}`);
      process.stderr.write(
        `${row.name} ${runtime}: ${m.perItem.toFixed(1)} B/item, ${
          m.marginal.toFixed(1)
        } marginal\n`,
      );
    }
    cells.push(Number.isNaN(row.bar) ? "-" : `${row.bar}`);
    out.push(cells);
    notes.push(`${row.name}: ${note.join(", ")}`);
  }
  const header = ["row", "items", "redis B/item"];
  for (const r of o.runtimes) header.push(`${r} B/item`, "ratio");
  header.push("bar");
  console.log(
    `\nRSS growth per item, each row on fresh servers (scale ${o.scale}, median of ${o.repeat}):`,
  );
  console.log(
    `whole load as it ends / whole load after ${
      SETTLE_MS / 1000
    } s quiet / second half of the load / private memory (RssAnon) after the quiet time\n`,
  );
  console.log(table(header, out, { left: 1 }));
  console.log("\nFirst key: OBJECT ENCODING, MEMORY USAGE per item");
  for (const n of notes) console.log(`  ${n}`);
  console.log(`\nTotal time ${((Date.now() - started) / 1000).toFixed(0)}s`);
}

try {
  await main();
} catch (e) {
  console.error(`bench: ${(e as Error).message}`);
  process.exitCode = 1;
}
