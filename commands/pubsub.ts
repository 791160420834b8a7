/**
 * Pub/Sub commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, SSUBSCRIBE, SUNSUBSCRIBE,
 * PUBLISH, SPUBLISH and PUBSUB CHANNELS/NUMSUB/NUMPAT/SHARDCHANNELS/SHARDNUMSUB/HELP. Delivery,
 * keyspace notifications and the subscribed-context rules are in core/pubsub.ts.
 *
 * @module
 */

import { helpFor } from "../core/compat.ts";
import type { CommandFlag, CommandSpec } from "../core/command.ts";
import { CF } from "../core/client.ts";
import type { SubKind } from "../core/pubsub.ts";
import { E, fail, R, type Reply } from "../core/resp/reply.ts";

const SUB_FLAGS: CommandFlag[] = ["pubsub", "noscript", "loading", "stale"];

function subscribeSpec(
  name: string,
  kind: SubKind,
  subscribe: boolean,
  docs: { summary: string; since: string; complexity: string; args: string },
): CommandSpec {
  return {
    name,
    arity: subscribe ? -2 : -1,
    flags: SUB_FLAGS,
    docs: { ...docs, group: "pubsub" },
    execute(client, argv) {
      const pubsub = client.server.pubsub;
      // EXEC runs its commands denying blocking, which SSUBSCRIBE refuses (SUBSCRIBE and
      // PSUBSCRIBE make an exception for MULTI, as Redis 7.4 does).
      if (subscribe && kind === "shard" && (client.flags & CF.multi) !== 0) {
        return fail("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
      }
      if (subscribe) pubsub.subscribe(client, kind, argv.slice(1));
      else pubsub.unsubscribe(client, kind, argv.slice(1));
      return R.none;
    },
  };
}

function publishSpec(name: string, shard: boolean, summary: string, since: string): CommandSpec {
  return {
    name,
    arity: 3,
    flags: ["pubsub", "loading", "stale", "fast", "may_replicate"],
    docs: {
      summary,
      since,
      group: "pubsub",
      complexity: shard
        ? "O(N) where N is the number of clients subscribed to the receiving shard channel."
        : "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
      args: shard ? "shardchannel message" : "channel message",
    },
    execute: (client, argv) => client.server.pubsub.publish(argv[1]!, argv[2]!, shard),
  };
}

const HELP = [
  "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CHANNELS [<pattern>]",
  "    Return the currently active channels matching a <pattern> (default: '*').",
  "NUMPAT",
  "    Return number of subscriptions to patterns.",
  "NUMSUB [<channel> ...]",
  "    Return the number of subscribers for the specified channels, excluding",
  "    pattern subscriptions(default: no channels).",
  "SHARDCHANNELS [<pattern>]",
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  "SHARDNUMSUB [<shardchannel> ...]",
  "    Return the number of subscribers for the specified shard level channel(s)",
  "HELP",
  "    Print this help.",
];

function channelsSpec(name: string, shard: boolean): CommandSpec {
  return {
    name,
    arity: -2,
    flags: ["pubsub", "loading", "stale"],
    docs: {
      summary: shard ? "List active shard channels" : "List active channels",
      since: shard ? "7.0.0" : "2.8.0",
      group: "pubsub",
      complexity: shard
        ? "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels)."
        : "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
      args: "[pattern]",
    },
    execute(client, argv) {
      if (argv.length > 3) return fail(E.wrongArgs(`pubsub|${name}`));
      return client.server.pubsub.activeChannels(shard, argv[2]);
    },
  };
}

function numsubSpec(name: string, shard: boolean): CommandSpec {
  return {
    name,
    arity: -2,
    flags: ["pubsub", "loading", "stale"],
    docs: {
      summary: shard
        ? "Get the count of subscribers for shard channels"
        : "Get the count of subscribers for channels",
      since: shard ? "7.0.0" : "2.8.0",
      group: "pubsub",
      complexity: shard
        ? "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels"
        : "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
      args: shard ? "[shardchannel [shardchannel ...]]" : "[channel [channel ...]]",
    },
    execute(client, argv) {
      const out: Reply[] = [];
      for (const ch of argv.slice(2)) out.push(ch, client.server.pubsub.subscribers(ch, shard));
      return out;
    },
  };
}

/** PUBSUB <subcommand> */
export const pubsubCommand: CommandSpec = {
  name: "pubsub",
  arity: -2,
  docs: {
    summary: "A container for Pub/Sub commands",
    since: "2.8.0",
    group: "pubsub",
    complexity: "Depends on subcommand.",
  },
  subcommands: [
    channelsSpec("channels", false),
    numsubSpec("numsub", false),
    {
      name: "numpat",
      arity: 2,
      flags: ["pubsub", "loading", "stale"],
      docs: {
        summary: "Get the count of unique patterns pattern subscriptions",
        since: "2.8.0",
        group: "pubsub",
        complexity: "O(1)",
      },
      execute: (client) => client.server.pubsub.patterns.size,
    },
    channelsSpec("shardchannels", true),
    numsubSpec("shardnumsub", true),
    {
      name: "help",
      arity: 2,
      flags: ["loading", "stale"],
      acl: [],
      docs: {
        summary: "Show helpful text about the different subcommands",
        since: "6.2.0",
        group: "pubsub",
        complexity: "O(1)",
      },
      execute: (client) => helpFor(client, HELP),
    },
  ],
};

/** The Pub/Sub commands. */
export const pubsubCommands: CommandSpec[] = [
  subscribeSpec("subscribe", "channel", true, {
    summary: "Listen for messages published to the given channels",
    since: "2.0.0",
    complexity: "O(N) where N is the number of channels to subscribe to.",
    args: "channel [channel ...]",
  }),
  subscribeSpec("unsubscribe", "channel", false, {
    summary: "Stop listening for messages posted to the given channels",
    since: "2.0.0",
    complexity: "O(N) where N is the number of clients already subscribed to a channel.",
    args: "[channel [channel ...]]",
  }),
  subscribeSpec("psubscribe", "pattern", true, {
    summary: "Listen for messages published to channels matching the given patterns",
    since: "2.0.0",
    complexity: "O(N) where N is the number of patterns the client is already subscribed to.",
    args: "pattern [pattern ...]",
  }),
  subscribeSpec("punsubscribe", "pattern", false, {
    summary: "Stop listening for messages posted to channels matching the given patterns",
    since: "2.0.0",
    complexity:
      "O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).",
    args: "[pattern [pattern ...]]",
  }),
  subscribeSpec("ssubscribe", "shard", true, {
    summary: "Listen for messages published to the given shard channels",
    since: "7.0.0",
    complexity: "O(N) where N is the number of shard channels to subscribe to.",
    args: "shardchannel [shardchannel ...]",
  }),
  subscribeSpec("sunsubscribe", "shard", false, {
    summary: "Stop listening for messages posted to the given shard channels",
    since: "7.0.0",
    complexity: "O(N) where N is the number of clients already subscribed to a shard channel.",
    args: "[shardchannel [shardchannel ...]]",
  }),
  publishSpec("publish", false, "Post a message to a channel", "2.0.0"),
  publishSpec("spublish", true, "Post a message to a shard channel", "7.0.0"),
  pubsubCommand,
];
