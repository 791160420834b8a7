/**
 * A node:test reporter for `npm test` (`node --test --test-reporter=./scripts/reporter.mjs`): one
 * line per test file as it finishes (pass/fail/skip counts, duration), then every failure in full
 * (test path, assertion diff, stack; a file that failed outside its tests gets its stderr), then
 * `node: N passed, N failed[, N skipped] (time)`, and when tests were skipped for want of
 * redis-server or redis-cli (tests/redis_tools.ts), one `SKIPPED: ...` line saying how many.
 *
 * Counts follow node's own summary: every test and subtest counts once, and a file that failed
 * outside any test (a syntax error, an uncaught error at load) counts as one failure. With
 * REDENO_TEST_COUNTS set, `passed failed skipped` is also written to that file for scripts/test.sh.
 *
 * Plain JavaScript so that node loads it without a TypeScript hook; node 20's event shapes.
 */

import { writeFileSync } from "node:fs";
import { relative } from "node:path";
import { inspect } from "node:util";

/** Events that come as things happen rather than in report order. */
const UNORDERED = new Set(["test:complete", "test:enqueue", "test:dequeue", "test:watch:drained"]);

/** The runner's closing counts (`tests 7`, `pass 4`...). */
const SUMMARY = /^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) [\d.]+$/;

/** Lines of a file's stderr kept for its failure report. */
const STDERR_LINES = 60;

export default async function* reporter(source) {
  const files = new Map();
  const failures = [];
  const started = performance.now();
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  let toolSkips = 0;
  const missingTools = new Set();

  const fileOf = (path) => {
    let f = files.get(path);
    if (f === undefined) {
      f = { pass: 0, fail: 0, skip: 0, stack: [], stderr: [], printed: false, ms: undefined };
      files.set(path, f);
    }
    return f;
  };
  const line = (path, f) => {
    f.printed = true;
    const counts = [`${f.pass} passed`];
    if (f.fail > 0) counts.push(`${f.fail} failed`);
    if (f.skip > 0) counts.push(`${f.skip} skipped`);
    const time = f.ms === undefined ? "" : `  (${seconds(f.ms)})`;
    return `${f.fail > 0 ? "FAIL" : "ok  "}  ${relative(process.cwd(), path)}  ${
      counts.join(", ")
    }${time}\n`;
  };

  // Node reports a file's tests in order and one file after another; only `test:complete` (and
  // `test:enqueue`/`dequeue`) come as things happen. So a file is done when another file's
  // ordered events begin, or when the run ends.
  let current;
  const runFiles = new Set();
  for await (const { type, data } of source) {
    let path = data?.file;
    if (path === undefined) {
      // Node 20 leaves the file out of a file's own diagnostics (an error after its tests
      // ended); they come in order, so they are the current file's. The closing counts are
      // the runner's: we count for ourselves.
      if (type !== "test:diagnostic" || SUMMARY.test(data.message) || current === undefined) {
        continue;
      }
      path = current;
    }
    // Node 20 names each file's wrapper test by the file's path, at nesting 0...
    const isFile = data.name === path && data.nesting === 0;
    // (of the events that come as things happen, only the wrapper's completion is of use)
    if (UNORDERED.has(type) && !isFile) continue;
    if (isFile) runFiles.add(path);
    // ...and gives other events the file of their test() call: one made by a helper module
    // (tests/redis_tools.ts) belongs to the test file running it, the one being reported.
    else if (!runFiles.has(path) && current !== undefined) path = current;
    const f = fileOf(path);
    if (!UNORDERED.has(type) && path !== current) {
      const done = current === undefined ? undefined : files.get(current);
      if (done !== undefined && !done.printed) yield line(current, done);
      current = path;
    }
    switch (type) {
      case "test:start":
        if (!isFile) f.stack[data.nesting] = data.name;
        break;
      case "test:diagnostic":
        f.stderr.push(`${data.message}\n`);
        break;
      case "test:stderr":
        f.stderr.push(data.message);
        if (f.stderr.length > STDERR_LINES) f.stderr.shift();
        break;
      case "test:pass":
        if (isFile) break;
        if (data.skip !== undefined || data.todo !== undefined) {
          f.skip++;
          skipped++;
          // tests/redis_tools.ts's reason: "redis-server, redis-cli not found"
          const tools = /^(.+) not found$/.exec(typeof data.skip === "string" ? data.skip : "");
          if (tools !== null) {
            toolSkips++;
            for (const tool of tools[1].split(", ")) missingTools.add(tool);
          }
        } else {
          f.pass++;
          passed++;
        }
        break;
      case "test:fail": {
        const error = data.details?.error;
        // A parent failing because a subtest failed says nothing the subtest's report does not,
        // but counts, as in node's summary. A file's own failure (an error at load, an uncaught
        // error, a non-zero exit) is reported with what the file wrote to stderr.
        if (isFile && error?.failureType === "subtestsFailed") break;
        f.fail++;
        failed++;
        if (error?.failureType === "subtestsFailed") break;
        if (isFile) {
          failures.push({
            path,
            name: "(the file failed outside its tests)",
            error,
            stderr: f.stderr,
          });
        } else {
          const name = [...f.stack.slice(0, data.nesting), data.name].join(" > ");
          failures.push({ path, name, error, stderr: [] });
        }
        break;
      }
      case "test:complete":
        if (isFile) f.ms = data.details?.duration_ms;
        break;
    }
  }

  for (const [path, f] of [...files].sort()) if (!f.printed) yield line(path, f);
  if (failures.length > 0) yield `\nFailures (node):\n`;
  for (const { path, name, error, stderr } of failures) {
    yield `\n✖ ${relative(process.cwd(), path)} > ${name}\n${indent(describe(error))}\n`;
    if (stderr.length > 0) yield `  output:\n${indent(stderr.join("").trimEnd(), 4)}\n`;
  }
  const extra = skipped > 0 ? `, ${skipped} skipped` : "";
  yield `\nnode: ${passed} passed, ${failed} failed${extra} (${
    seconds(performance.now() - started)
  })\n`;
  if (toolSkips > 0) {
    const tools = [...missingTools].sort().join(", ");
    const tests = toolSkips === 1 ? "test" : "tests";
    yield `SKIPPED: ${tools} not found; ${toolSkips} comparison ${tests} did not run\n`;
  }
  if (process.env.REDENO_TEST_COUNTS) {
    writeFileSync(process.env.REDENO_TEST_COUNTS, `${passed} ${failed} ${skipped}\n`);
  }
}

/** The error as node's own reporters show it: the assertion (with its diff) and its stack. */
function describe(error) {
  if (error === undefined) return "(no error reported)";
  const cause = error.cause ?? error;
  if (cause instanceof Error || typeof cause === "object") {
    return inspect(cause, { colors: false, depth: 6 });
  }
  return String(cause);
}

function indent(text, n = 2) {
  const pad = " ".repeat(n);
  return text.split("\n").map((l) => (l === "" ? l : pad + l)).join("\n");
}

function seconds(ms) {
  return `${(ms / 1000).toFixed(1)}s`;
}
