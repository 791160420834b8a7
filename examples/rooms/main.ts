/**
 * The rooms demo in one command: redeno embedded in this process (with the groups plugin and the
 * rooms created), and app instances (`app.ts`) as child processes on their own ports, each
 * talking to redeno over TCP only, as instances on several machines would.
 *
 * `npm run rooms` (or `deno run -A examples/rooms/main.ts --redis 6390 --apps 8001,8002`).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createServer } from "../../mod.ts";
import { groups } from "../../plugins/groups/mod.ts";
import { ROOMS } from "./app.ts";

/** The running demo: redeno's port, the page of each app instance, and a stop. */
export interface Rooms {
  redisPort: number;
  urls: string[];
  close(): Promise<void>;
}

/**
 * Starts redeno on `redisPort` and one app instance per port of `appPorts` (0: any free one);
 * `reserveMs`: how long a seat reserved from the lobby waits for its page (app.ts's default).
 */
export async function startRooms(
  opts: { redisPort: number; appPorts: number[]; reserveMs?: number },
): Promise<Rooms> {
  const server = createServer({ plugins: [groups()] });
  const { port: redisPort } = await server.listen({ port: opts.redisPort, hostname: "127.0.0.1" });
  for (const [room, capacity] of Object.entries(ROOMS)) {
    server.dispatch(["GROUP.CREATE", room, String(capacity)]);
  }
  const children: Deno.ChildProcess[] = [];
  const close = async () => {
    for (const child of children) {
      try {
        child.kill("SIGTERM");
      } catch { // already gone (a Ctrl-C reaches the whole process group)
      }
      await child.status;
    }
    await server.close();
  };
  try {
    const urls = await Promise.all(opts.appPorts.map(async (port) => {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", new URL("./app.ts", import.meta.url).pathname, "--port", String(port)]
          .concat(["--redis", String(redisPort)])
          .concat(opts.reserveMs === undefined ? [] : ["--reserve-ms", String(opts.reserveMs)]),
        cwd: new URL("../..", import.meta.url).pathname, // deno.json: the node_modules imports
        stdout: "piped",
      }).spawn();
      children.push(child);
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let out = "";
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        out += r.value;
        const url = /listening on (\S+)/.exec(out)?.[1];
        if (url) {
          (async () => { // drain the rest, so that the pipe never fills
            while (!(await reader.read()).done);
          })();
          return url;
        }
      }
      throw new Error(`an app instance exited before listening: ${out}`);
    }));
    return { redisPort, urls, close };
  } catch (e) {
    await close();
    throw e;
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      redis: { type: "string", default: "6390" },
      apps: { type: "string", default: "8001,8002" },
    },
  });
  const rooms = await startRooms({
    redisPort: Number(values.redis),
    appPorts: values.apps.split(",").map(Number),
  });
  console.log(`redeno on 127.0.0.1:${rooms.redisPort}; open the rooms page on each instance:`);
  for (const url of rooms.urls) console.log(`  ${url}`);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => rooms.close().finally(() => Deno.exit(0)));
  }
}
