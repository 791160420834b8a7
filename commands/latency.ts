/**
 * LATENCY DOCTOR, GRAPH, HISTOGRAM, HISTORY, LATEST, RESET and HELP, as Redis 7.0 (the monitor
 * and histograms are core/latency.ts, the texts core/latency_report.ts).
 *
 * @module
 */

import { helpFor } from "../core/compat.ts";
import type { Command, CommandSpec } from "../core/command.ts";
import { histogramEntries, LatencyMonitor } from "../core/latency.ts";
import { latencyDoctor, latencyGraph } from "../core/latency_report.ts";
import { fail, MapReply, type Reply, VerbatimReply } from "../core/resp/reply.ts";
import type { Server } from "../core/server.ts";

const FLAGS = ["admin", "noscript", "loading", "stale"] as const;

function sub(
  name: string,
  arity: number,
  summary: string,
  complexity: string,
  args: string | undefined,
  execute: CommandSpec["execute"],
  since = "2.8.13",
): CommandSpec {
  return {
    name,
    arity,
    flags: FLAGS,
    docs: { summary, since, group: "server", complexity, ...(args ? { args } : {}) },
    execute,
  };
}

/** A command's name and histogram, appended to `out` when it has one. */
function addHistogram(out: Reply[], cmd: Command): void {
  if (cmd.latency === undefined) return;
  const { calls, buckets } = histogramEntries(cmd);
  out.push(cmd.fullName, new MapReply(["calls", calls, "histogram_usec", new MapReply(buckets)]));
}

/** LATENCY HISTOGRAM [command ...]: every command with data, or those named (and subcommands). */
function histogram(server: Server, names: string[]): Reply {
  const out: Reply[] = [];
  if (names.length === 0) {
    for (const cmd of server.allCommands()) {
      addHistogram(out, cmd);
      for (const s of cmd.subcommands?.values() ?? []) addHistogram(out, s);
    }
    return new MapReply(out);
  }
  for (const name of names) {
    const [top, subName] = name.toLowerCase().split("|", 2);
    const cmd = server.command(top!);
    if (cmd === undefined) continue;
    if (subName !== undefined) {
      const s = cmd.subcommands?.get(subName);
      if (s !== undefined) addHistogram(out, s);
      continue;
    }
    addHistogram(out, cmd);
    for (const s of cmd.subcommands?.values() ?? []) addHistogram(out, s);
  }
  return new MapReply(out);
}

const HELP = [
  "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "DOCTOR",
  "    Return a human readable latency analysis report.",
  "GRAPH <event>",
  "    Return an ASCII latency graph for the <event> class.",
  "HISTORY <event>",
  "    Return time-latency samples for the <event> class.",
  "LATEST",
  "    Return the latest latency samples for all events.",
  "RESET [<event> ...]",
  "    Reset latency data of one or more <event> classes.",
  "    (default: reset all data for all event classes)",
  "HISTOGRAM [COMMAND ...]",
  "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
  "    If no commands are specified then all histograms are replied.",
  "HELP",
  "    Print this help.",
];

/** LATENCY <subcommand> */
export const latencyCommand: CommandSpec = {
  name: "latency",
  arity: -2,
  docs: {
    summary: "A container for latency diagnostics commands",
    since: "2.8.13",
    group: "server",
    complexity: "Depends on subcommand.",
  },
  subcommands: [
    sub(
      "doctor",
      2,
      "Return a human readable latency analysis report.",
      "O(1)",
      undefined,
      (c) => new VerbatimReply(latencyDoctor(c.server)),
    ),
    sub(
      "graph",
      3,
      "Return a latency graph for the event.",
      "O(1)",
      "event",
      (c, argv) => {
        const ts = c.server.latency.events.get(argv[2]!);
        if (ts === undefined) return fail(`ERR No samples available for event '${argv[2]}'`);
        return new VerbatimReply(latencyGraph(c.server, argv[2]!, ts));
      },
    ),
    sub(
      "histogram",
      -2,
      "Return the cumulative distribution of latencies of a subset of commands or all.",
      "O(N) where N is the number of commands with latency information being retrieved.",
      "[command [command ...]]",
      (c, argv) => histogram(c.server, argv.slice(2)),
      "7.0.0",
    ),
    sub(
      "history",
      3,
      "Return timestamp-latency samples for the event.",
      "O(1)",
      "event",
      (c, argv) => {
        const ts = c.server.latency.events.get(argv[2]!);
        if (ts === undefined) return [];
        return LatencyMonitor.samples(ts).map((s) => [s.time, s.latency]);
      },
    ),
    sub(
      "latest",
      2,
      "Return the latest latency samples for all events.",
      "O(1)",
      undefined,
      (c) =>
        [...c.server.latency.events].map(([event, ts]) => {
          const last = ts.samples[(ts.idx + ts.samples.length - 1) % ts.samples.length]!;
          return [event, last.time, last.latency, ts.max];
        }),
    ),
    sub(
      "reset",
      -2,
      "Reset latency data for one or more events.",
      "O(1)",
      "[event [event ...]]",
      (c, argv) => {
        const m = c.server.latency;
        if (argv.length === 2) return m.reset();
        let n = 0;
        for (const e of argv.slice(2)) n += m.reset(e);
        return n;
      },
    ),
    {
      name: "help",
      arity: 2,
      flags: ["loading", "stale"],
      docs: {
        summary: "Show helpful text about the different subcommands.",
        since: "2.8.13",
        group: "server",
        complexity: "O(1)",
      },
      execute: (client) => helpFor(client, HELP),
    },
  ],
};
