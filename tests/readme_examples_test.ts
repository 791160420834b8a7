/**
 * Every TypeScript example of the READMEs runs as written: each ```ts block of README.md,
 * plugins/README.md and plugins/groups/README.md is a complete program, written to a file under
 * tmp/ with the package's import names (`redeno`, `redeno/testing`, ...) pointed at this checkout,
 * and run on the runtime running this test (a block that uses `node:test` runs as a test file).
 * A block fenced as ```ts no-run is a fragment and is left out.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { after, test } from "node:test";
import assert from "node:assert/strict";

const ROOT = resolve(import.meta.dirname ?? dirname(new URL(import.meta.url).pathname), "..");
const READMES = ["README.md", "plugins/README.md", "plugins/groups/README.md"];
const ENTRY_POINTS: Record<string, string> = {
  "redeno": "mod.ts",
  "redeno/testing": "testing.ts",
  "redeno/plugins/groups": "plugins/groups/mod.ts",
  "redeno/replication": "replication/mod.ts",
};

/** The runnable ```ts blocks of a markdown file, with the line each starts on. */
export function examples(markdown: string): Array<{ line: number; code: string }> {
  const out: Array<{ line: number; code: string }> = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== "```ts") continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end]!.trim() !== "```") end++;
    out.push({ line: start + 1, code: lines.slice(start, end).join("\n") + "\n" });
    i = end;
  }
  return out;
}

/** Points the package's import names, and imports relative to the README, at this checkout. */
function localImports(code: string, readmeDir: string): string {
  return code.replace(/from "([^"]+)"/g, (whole, spec: string) => {
    const entry = ENTRY_POINTS[spec];
    if (entry !== undefined) return `from ${JSON.stringify(join(ROOT, entry))}`;
    if (spec.startsWith("./") || spec.startsWith("../")) {
      return `from ${JSON.stringify(join(ROOT, readmeDir, spec))}`;
    }
    return whole;
  });
}

const isDeno = (globalThis as { Deno?: unknown }).Deno !== undefined;

function run(file: string, asTest: boolean): Promise<{ code: number | null; output: string }> {
  const [cmd, args] = isDeno
    ? [join(ROOT, "node_modules/deno/deno"), [asTest ? "test" : "run", "-A", file]]
    : [process.execPath, ["--import", "tsx", ...(asTest ? ["--test"] : []), file]];
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (output += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (output += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

mkdirSync(join(ROOT, "tmp"), { recursive: true });
const dir = mkdtempSync(join(ROOT, "tmp", "examples-"));
after(() => rmSync(dir, { recursive: true, force: true }));

for (const readme of READMES) {
  const found = examples(readFileSync(join(ROOT, readme), "utf8"));
  test(`${readme} has TypeScript examples`, () => {
    assert.ok(found.length > 0);
  });
  for (const { line, code } of found) {
    test(`${readme}:${line} runs as written`, async () => {
      const asTest = code.includes(`from "node:test"`);
      const name = `${readme.replaceAll("/", "_").replace(".md", "")}_${line}`;
      const file = join(dir, asTest ? `${name}.test.ts` : `${name}.ts`);
      writeFileSync(file, localImports(code, dirname(readme)));
      const { code: status, output } = await run(file, asTest);
      assert.equal(status, 0, `${readme}:${line} failed:\n${output}`);
    });
  }
}
