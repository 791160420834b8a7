/**
 * Reads `deno test --parallel` output (the pretty reporter, NO_COLOR) on stdin and prints what
 * scripts/reporter.mjs prints for node: one line per test file (pass/fail/skip counts, time spent
 * in its tests), every failure in full (Deno's own ERRORS section: test, assertion diff, stack),
 * then `deno: N passed, N failed[, N skipped] (time)`.
 *
 * Deno has no per-file or custom reporter, and its JUnit report leaves out files that failed
 * outside a test; the pretty reporter's `./file => name ... ok (3ms)` lines carry everything. As
 * in node's counts, a step counts like a test, and a file's uncaught error counts as one failure.
 * With REDENO_TEST_COUNTS set, `passed failed skipped` is also written to that file.
 *
 * Usage: `NO_COLOR=1 deno test ... >out 2>&1; node scripts/deno_reporter.mjs $? <out`. When Deno
 * exited non-zero without an ERRORS section (a type error, a crash), its other output is printed.
 */

import { writeFileSync } from "node:fs";
import { createInterface } from "node:readline";

// `./tests/x_test.ts => name ... ok (3ms)`; a step's name holds ` ... ` (`parent ... step`).
const RESULT = /^\.\/(\S+) => (.+) \.\.\. (ok|FAILED|ignored)(?: \(due to [^)]*\))? \(([^)]*)\)$/;
const UNCAUGHT = /^Uncaught error from \.\/(\S+) FAILED$/;
const CLOSING = /^(ok|FAILED) \| \d+ passed/;

const files = new Map();
const errors = [];
const other = [];
let section = "results"; // then "errors" from ` ERRORS `, then "done" at the closing line
let passed = 0;
let failed = 0;
let skipped = 0;
let took = ""; // Deno's own run time, from its closing line

const fileOf = (path) => {
  let f = files.get(path);
  if (f === undefined) files.set(path, f = { pass: 0, fail: 0, skip: 0, ms: 0 });
  return f;
};

for await (const raw of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  const text = raw.trimEnd();
  if (section === "errors") {
    if (CLOSING.test(text)) (section = "done", took = runTime(text));
    else errors.push(raw);
    continue;
  }
  if (section === "done") continue; // `error: Test failed` and Deno's backtrace
  let m = RESULT.exec(text);
  if (m !== null) {
    const f = fileOf(m[1]);
    f.ms += milliseconds(m[4]);
    if (m[3] === "ok") (f.pass++, passed++);
    else if (m[3] === "FAILED") (f.fail++, failed++);
    else (f.skip++, skipped++);
    continue;
  }
  m = UNCAUGHT.exec(text);
  if (m !== null) {
    fileOf(m[1]).fail++;
    failed++;
    continue;
  }
  if (text === " ERRORS" || text === "ERRORS") {
    section = "errors";
    continue;
  }
  if (CLOSING.test(text)) {
    section = "done";
    took = runTime(text);
    continue;
  }
  if (!text.startsWith("Check ") && text !== "") other.push(raw);
}

const out = [];
for (const [path, f] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
  const counts = [`${f.pass} passed`];
  if (f.fail > 0) counts.push(`${f.fail} failed`);
  if (f.skip > 0) counts.push(`${f.skip} skipped`);
  out.push(`${f.fail > 0 ? "FAIL" : "ok  "}  ${path}  ${counts.join(", ")}  (${seconds(f.ms)})`);
}
if (errors.length > 0) out.push("", "Failures (deno):", "", ...trimBlank(errors));
const exitStatus = Number(process.argv[2] ?? 0);
// Deno stopped before or outside the tests (a type error, a crash): what it said is the report.
if (exitStatus !== 0 && errors.length === 0) {
  out.push("", `deno test exited with status ${exitStatus}:`, ...other.slice(-200));
  if (failed === 0) failed = 1;
}
const extra = skipped > 0 ? `, ${skipped} skipped` : "";
out.push("", `deno: ${passed} passed, ${failed} failed${extra}${took}`);
console.log(out.join("\n"));
if (process.env.REDENO_TEST_COUNTS) {
  writeFileSync(process.env.REDENO_TEST_COUNTS, `${passed} ${failed} ${skipped}\n`);
}

/** ` (41.0s)` from Deno's closing line `ok | 413 passed | 0 failed (41s)`, or "". */
function runTime(closing) {
  const m = /\(([^()]*)\)$/.exec(closing);
  return m === null ? "" : ` (${seconds(milliseconds(m[1]))})`;
}

/** `3ms`, `995µs`, `1s`, `1m 5s` as milliseconds. */
function milliseconds(text) {
  const units = { "µs": 0.001, ms: 1, s: 1000, m: 60000, h: 3600000 };
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/([\d.]+)\s*(µs|ms|s|m|h)/g)) {
    ms += Number(n) * units[unit];
  }
  return ms;
}

function seconds(ms) {
  return `${(ms / 1000).toFixed(1)}s`;
}

function trimBlank(lines) {
  let a = 0;
  let b = lines.length;
  while (a < b && lines[a].trim() === "") a++;
  while (b > a && lines[b - 1].trim() === "") b--;
  return lines.slice(a, b);
}
