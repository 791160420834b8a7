/**
 * CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO: the commands of client-side caching
 * (the tracking itself is core/tracking.ts), with Redis 7.0's option checks and error texts.
 *
 * @module
 */

import { intArg } from "../core/args.ts";
import type { CommandSpec } from "../core/command.ts";
import { E, fail, MapReply, R, SetReply } from "../core/resp/reply.ts";
import { TF } from "../core/tracking.ts";

const FLAGS: CommandSpec["flags"] = ["noscript", "loading", "stale"];

function docs(summary: string, since: string, args?: string): NonNullable<CommandSpec["docs"]> {
  return { summary, since, group: "connection", complexity: "O(1)", ...(args ? { args } : {}) };
}

const MODE_SWITCH = "tracking for this client, and then re-enabling it with a different mode.";

/** CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX prefix ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP] */
const tracking: CommandSpec = {
  name: "tracking",
  arity: -3,
  flags: FLAGS,
  docs: {
    summary: "Enable or disable server assisted client side caching support",
    since: "6.0.0",
    group: "connection",
    complexity: "O(1). Some options may introduce additional complexity.",
    args:
      "<ON | OFF> [REDIRECT client-id] [PREFIX prefix [PREFIX prefix ...]] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]",
  },
  execute(client, argv) {
    const server = client.server;
    let redirect = 0;
    let options = 0;
    const prefixes: string[] = [];
    for (let j = 3; j < argv.length; j++) {
      const opt = argv[j]!.toLowerCase();
      const more = j < argv.length - 1;
      if (opt === "redirect" && more) {
        if (redirect !== 0) return fail("ERR A client can only redirect to a single other client");
        redirect = intArg(argv[++j]!);
        // The client must exist now, even though it may go away later.
        if (!server.clients.has(redirect)) {
          return fail("ERR The client ID you want redirect to does not exist");
        }
      } else if (opt === "bcast") options |= TF.bcast;
      else if (opt === "optin") options |= TF.optin;
      else if (opt === "optout") options |= TF.optout;
      else if (opt === "noloop") options |= TF.noloop;
      else if (opt === "prefix" && more) prefixes.push(argv[++j]!);
      else return fail(E.syntax);
    }
    const mode = argv[2]!.toLowerCase();
    if (mode === "off") {
      server.tracking.disable(client);
      return R.ok;
    }
    if (mode !== "on") return fail(E.syntax);
    if ((options & TF.bcast) === 0 && prefixes.length !== 0) {
      return fail("ERR PREFIX option requires BCAST mode to be enabled");
    }
    const t = client.tracking;
    if (t !== undefined && (t.flags & TF.bcast) !== (options & TF.bcast)) {
      return fail(`ERR You can't switch BCAST mode on/off before disabling ${MODE_SWITCH}`);
    }
    if ((options & TF.bcast) !== 0 && (options & (TF.optin | TF.optout)) !== 0) {
      return fail("ERR OPTIN and OPTOUT are not compatible with BCAST");
    }
    if ((options & TF.optin) !== 0 && (options & TF.optout) !== 0) {
      return fail("ERR You can't specify both OPTIN mode and OPTOUT mode");
    }
    const old = t?.flags ?? 0;
    if (
      ((options & TF.optin) !== 0 && (old & TF.optout) !== 0) ||
      ((options & TF.optout) !== 0 && (old & TF.optin) !== 0)
    ) {
      return fail(`ERR You can't switch OPTIN/OPTOUT mode before disabling ${MODE_SWITCH}`);
    }
    if ((options & TF.bcast) !== 0) {
      for (let i = 0; i < prefixes.length; i++) {
        const p = prefixes[i]!;
        const existing = server.tracking.overlapping(client, p);
        if (existing !== undefined) {
          return fail(
            `ERR Prefix '${p}' overlaps with an existing prefix '${existing}'. ` +
              "Prefixes for a single client must not overlap.",
          );
        }
        for (let k = i + 1; k < prefixes.length; k++) {
          const q = prefixes[k]!;
          if (p.startsWith(q) || q.startsWith(p)) {
            return fail(
              `ERR Prefix '${p}' overlaps with another provided prefix '${q}'. ` +
                "Prefixes for a single client must not overlap.",
            );
          }
        }
      }
    }
    server.tracking.enable(client, redirect, options, prefixes);
    return R.ok;
  },
};

/** CLIENT CACHING YES|NO: the next command is (OPTIN) or is not (OPTOUT) tracked. */
const caching: CommandSpec = {
  name: "caching",
  arity: 3,
  flags: FLAGS,
  docs: docs(
    "Instruct the server about tracking or not keys in the next request",
    "6.0.0",
    "<YES | NO>",
  ),
  execute(client, argv) {
    const t = client.tracking;
    if (t === undefined) {
      return fail(
        "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled",
      );
    }
    const v = argv[2]!.toLowerCase();
    if (v === "yes") {
      if ((t.flags & TF.optin) === 0) {
        return fail("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
      }
    } else if (v === "no") {
      if ((t.flags & TF.optout) === 0) {
        return fail("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
      }
    } else return fail(E.syntax);
    t.flags |= TF.caching;
    return R.ok;
  },
};

/** CLIENT GETREDIR: the redirect ID, 0 without one, -1 when tracking is off. */
const getredir: CommandSpec = {
  name: "getredir",
  arity: 2,
  flags: FLAGS,
  docs: docs(
    "Get tracking notifications redirection client ID if any",
    "6.0.0",
  ),
  execute: (client) => client.tracking?.redirect ?? -1,
};

/** CLIENT TRACKINGINFO: flags (a set), redirect, prefixes. */
const trackinginfo: CommandSpec = {
  name: "trackinginfo",
  arity: 2,
  flags: FLAGS,
  docs: docs(
    "Return information about server assisted client side caching for the current connection",
    "6.2.0",
  ),
  execute(client) {
    const t = client.tracking;
    const f = t?.flags ?? 0;
    const flags: string[] = [t !== undefined ? "on" : "off"];
    if (f & TF.bcast) flags.push("bcast");
    if (f & TF.optin) {
      flags.push("optin");
      if (f & TF.caching) flags.push("caching-yes");
    }
    if (f & TF.optout) {
      flags.push("optout");
      if (f & TF.caching) flags.push("caching-no");
    }
    if (f & TF.noloop) flags.push("noloop");
    if (f & TF.brokenRedir) flags.push("broken_redirect");
    const prefixes = [...(t?.prefixes ?? [])].sort();
    return new MapReply([
      "flags",
      new SetReply(flags),
      "redirect",
      t?.redirect ?? -1,
      "prefixes",
      prefixes,
    ]);
  },
};

/** The CLIENT subcommands of client-side caching. */
export const trackingSubcommands: CommandSpec[] = [tracking, caching, getredir, trackinginfo];
