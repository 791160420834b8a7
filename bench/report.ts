/**
 * Turning the rounds' measurements into the printed tables: medians, ratios, aligned columns.
 *
 * @module
 */

import type { MemoryResult } from "./memory.ts";
import type { RunResult } from "./benchmark.ts";

/** The measurements of one scenario and test, one entry per successful round. */
export interface Series {
  scenario: string;
  test: string;
  redis: RunResult[];
  redeno: RunResult[];
  /** Why a server failed this test (e.g. redeno lacks the command), if it did. */
  error?: string;
}

/**
 * The median of a non-empty list (the mean of the middle two for an even length).
 *
 * @param values the numbers
 * @returns the median, NaN for an empty list
 * @example
 * ```ts
 * import { median } from "./report.ts";
 * console.log(median([3, 1, 2]), median([1, 2, 3, 4])); // 2 2.5
 * ```
 */
export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * A number with `digits` decimals, or `-` when it is not finite (a missing measurement).
 *
 * @param n the number
 * @param digits decimals
 * @returns the text
 * @example
 * ```ts
 * import { fixed } from "./report.ts";
 * console.log(fixed(1.234, 2), fixed(NaN, 2)); // 1.23 -
 * ```
 */
export function fixed(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "-";
}

function thousands(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-";
}

/**
 * Lays out rows as a text table: the first `left` columns left-aligned, the others (numbers)
 * right-aligned.
 *
 * @param header the column titles
 * @param rows the cells
 * @param options how many leading columns are text (default 2)
 * @returns the table, one line per row with a rule under the header
 * @example
 * ```ts
 * import { table } from "./report.ts";
 * console.log(table(["a", "b"], [["x", "1"]]));
 * ```
 */
export function table(
  header: string[],
  rows: string[][],
  options: { left?: number } = {},
): string {
  const left = options.left ?? 2;
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i < left ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/**
 * The throughput and CPU table: medians over rounds; ratios are redeno / redis (ops/s: higher is
 * better for redeno; CPU: lower is better); `paired` is the median of the per-round CPU ratios.
 *
 * @param series the measurements
 * @returns the table text
 * @example
 * ```ts
 * import { throughputTable } from "./report.ts";
 * const r = [{ rps: 100000, cpuUsPerReq: 5 }];
 * console.log(throughputTable([{ scenario: "c50", test: "set", redis: r, redeno: r }]));
 * ```
 */
export function throughputTable(series: Series[]): string {
  const rows = series.map((s) => {
    const rOps = median(s.redis.map((r) => r.rps));
    const dOps = median(s.redeno.map((r) => r.rps));
    const rCpu = median(s.redis.map((r) => r.cpuUsPerReq));
    const dCpu = median(s.redeno.map((r) => r.cpuUsPerReq));
    // Round by round, both servers ran back to back: the median of those paired ratios is less
    // sensitive to the machine drifting between rounds than the ratio of the medians.
    const paired = median(
      s.redeno.slice(0, s.redis.length).map((d, i) => d.cpuUsPerReq / s.redis[i]!.cpuUsPerReq),
    );
    return [
      s.scenario,
      s.error === undefined ? s.test : `${s.test} (failed)`,
      thousands(rOps),
      thousands(dOps),
      fixed(dOps / rOps, 2),
      fixed(rCpu, 2),
      fixed(dCpu, 2),
      fixed(dCpu / rCpu, 2),
      fixed(paired, 2),
    ];
  });
  const header = [
    "scenario",
    "test",
    "redis ops/s",
    "redeno ops/s",
    "ratio",
    "redis CPU us/req",
    "redeno CPU us/req",
    "ratio",
    "paired",
  ];
  return table(header, rows);
}

/**
 * A byte count in MiB with one decimal.
 *
 * @param bytes the count
 * @returns e.g. `7.5 MiB`
 * @example
 * ```ts
 * import { mib } from "./report.ts";
 * console.log(mib(7.5 * 1024 * 1024)); // 7.5 MiB
 * ```
 */
export function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/**
 * The memory-mode table.
 *
 * @param results the measurement of each server, by name
 * @returns the table text
 * @example
 * ```ts
 * import { memoryTable } from "./report.ts";
 * const m = { keys: 1, rssBefore: 1, rssAfter: 101, bytesPerKey: 100 };
 * console.log(memoryTable({ redis: m, redeno: m }));
 * ```
 */
export function memoryTable(results: Record<string, MemoryResult>): string {
  const rows = Object.entries(results).map(([name, m]) => [
    name,
    thousands(m.keys),
    mib(m.rssBefore),
    mib(m.rssAfter),
    fixed(m.bytesPerKey, 1),
  ]);
  return table(["server", "keys", "RSS before", "RSS after", "bytes/key"], rows, { left: 1 });
}
