/**
 * The stock Redis programs some tests run (`redis-server` side by side, `redis-cli`,
 * `redis-check-rdb`), and the one rule for a test that needs one that is not installed: on a
 * developer's machine the test is skipped (`npm test` then says how many did not run); in CI (`CI`
 * set) the test file gets a failing test naming what is missing, because a comparison that
 * silently did not run would let a regression through.
 *
 * ```ts
 * test("SORT answers like redis-server", { skip: missing("redis-server") }, async () => {});
 * ```
 *
 * `REDENO_TEST_WITHOUT=redis-server,redis-cli` makes those programs count as missing, to check
 * this rule without uninstalling them.
 *
 * @module
 */

import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import process from "node:process";
import { test } from "node:test";

/**
 * A program of Debian's `redis-server` and `redis-tools` packages that tests run (and `openssl`,
 * which makes the TLS tests' certificates, and `chromium`, which the rooms demo's test drives).
 */
export type RedisTool =
  | "redis-server"
  | "redis-cli"
  | "redis-benchmark"
  | "redis-sentinel"
  | "redis-check-rdb"
  | "redis-check-aof"
  | "openssl"
  | "chromium";

/** True when the tests run in CI, where a missing program is an error rather than a skip. */
export const inCI: boolean = isSet(process.env.CI);

const pretendMissing = new Set((process.env.REDENO_TEST_WITHOUT ?? "").split(",").filter(Boolean));
const found = new Map<RedisTool, boolean>();
const failedInCI = new Set<string>();

/**
 * Whether `tool` is an executable on PATH (a lookup, no process started).
 *
 * @param tool the program's name
 * @returns true when it can be run
 */
export function installed(tool: RedisTool): boolean {
  let ok = found.get(tool);
  if (ok === undefined) {
    ok = !pretendMissing.has(tool) && onPath(tool);
    found.set(tool, ok);
  }
  return ok;
}

/**
 * The `skip` option of a test that runs `tools`: false when all are installed, else the reason
 * (`"redis-server not found"`). In CI a missing tool also registers one failing test per reason
 * and file. (Not a throw at module load: Deno's `node:test` drops an error thrown after a file's
 * first `test()` call, and the file would pass.)
 *
 * @param tools the programs the test runs
 * @returns false, or why the test is skipped
 */
export function missing(...tools: RedisTool[]): string | false {
  const absent = tools.filter((t) => !installed(t));
  if (absent.length === 0) return false;
  const reason = `${absent.join(", ")} not found`;
  if (inCI && !failedInCI.has(reason)) {
    failedInCI.add(reason);
    test(`${reason}: the tests that need it cannot be skipped in CI`, () => {
      throw new Error(
        `Missing in CI: ${reason} on PATH (install the Debian packages .ci/run installs, or ` +
          `unset CI to skip these tests)`,
      );
    });
  }
  return reason;
}

function isSet(value: string | undefined): boolean {
  return value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false";
}

function onPath(program: string): boolean {
  return pathOf(program) !== undefined;
}

/**
 * Where `program` is on PATH.
 *
 * @param program the program's name
 * @returns its path, or undefined when no directory of PATH holds it
 */
export function pathOf(program: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    try {
      accessSync(join(dir, program), constants.X_OK);
      return join(dir, program);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}
