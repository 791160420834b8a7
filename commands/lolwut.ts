/**
 * LOLWUT [VERSION version] [args...], as Redis 7.0: version 5 draws Schotter (`cols`,
 * `squares-per-row`, `squares-per-col`), version 6 a skyline (`cols`, `rows`), any other version
 * (and no version) answers the server's version only (core/lolwut_art.ts draws).
 *
 * @module
 */

import { intArg } from "../core/args.ts";
import { utf8ToStr } from "../core/bytes.ts";
import type { CommandSpec } from "../core/command.ts";
import { schotter, skyline } from "../core/lolwut_art.ts";
import { VerbatimReply } from "../core/resp/reply.ts";
import { reportedVersion } from "../core/version.ts";

/** An optional numeric argument, clamped as Redis clamps it. */
function arg(args: string[], i: number, dflt: number, max: number): number {
  const v = args[i] === undefined ? dflt : intArg(args[i]!);
  return Math.min(max, Math.max(1, v));
}

/** LOLWUT */
export const lolwutCommand: CommandSpec = {
  name: "lolwut",
  arity: -1,
  flags: ["readonly", "fast"],
  docs: {
    summary: "Display some computer art and the Redis version",
    since: "5.0.0",
    group: "server",
    args: "[VERSION version]",
  },
  execute(client, argv) {
    const version = reportedVersion(client.server.config);
    let major = version;
    let args = argv.slice(1);
    if (argv.length >= 3 && argv[1]!.toLowerCase() === "version") {
      // Redis prints the number as a C unsigned int: "-1" becomes "4294967295".
      major = `${intArg(argv[2]!) >>> 0}.0.0`;
      args = argv.slice(3);
    }
    const [a, b, c] = major;
    const ver = ` Redis ver. ${version}\n`;
    if ((a === "5" && b === "." && c !== "9") || (a === "4" && b === "." && c === "9")) {
      const art = schotter(arg(args, 0, 66, 1000), arg(args, 1, 8, 200), arg(args, 2, 12, 200));
      return new VerbatimReply(
        utf8ToStr(art) + "\nGeorg Nees - schotter, plotter on paper, 1968." + ver,
      );
    }
    if ((a === "6" && b === "." && c !== "9") || (a === "5" && b === "." && c === "9")) {
      const art = skyline(arg(args, 0, 80, 1000), arg(args, 1, 20, 1000));
      return new VerbatimReply(
        art + "\nDedicated to the 8 bit game developers of past and present.\n" +
          "Original 8 bit image from Plaguemon by hikikomori." + ver,
      );
    }
    return new VerbatimReply(`Redis ver. ${version}\n`);
  },
};
