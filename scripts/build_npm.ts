/**
 * The npm build (`npm run build`, also run by `npm pack` through `prepack`): `tsc` turns the
 * entry points and everything they import into ESM JavaScript and `.d.ts` files in `dist/`
 * (see tsconfig.build.json), then the Lua engine's `lua.wasm` is copied next to the built
 * `lua_vm.js` (which loads it from its own directory), and `dist/main.js` gets the shebang that
 * lets npm run it as the `redeno` command.
 *
 * Run: `node --import tsx scripts/build_npm.ts` (what `npm run build` does).
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import process from "node:process";

const root = fileURLToPath(new URL("..", import.meta.url));
const at = (path: string): string => `${root}${path}`;

rmSync(at("dist"), { recursive: true, force: true });
execFileSync(
  process.execPath,
  [at("node_modules/typescript/bin/tsc"), "-p", at("tsconfig.build.json")],
  { stdio: "inherit" },
);
copyFileSync(at("scripting/lua.wasm"), at("dist/scripting/lua.wasm"));
const main = at("dist/main.js");
const code = readFileSync(main, "utf8");
if (!code.startsWith("#!")) writeFileSync(main, `#!/usr/bin/env node\n${code}`);
chmodSync(main, 0o755);
