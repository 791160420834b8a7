/**
 * Pub/Sub commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, SSUBSCRIBE, SUNSUBSCRIBE,
 * PUBLISH, SPUBLISH and PUBSUB CHANNELS/NUMSUB/NUMPAT/SHARDCHANNELS/SHARDNUMSUB/HELP. Delivery,
 * keyspace notifications and the subscribed-context rules are in core/pubsub.ts.
 *
 * @module
 */

import type { CommandFlag, CommandSpec } from "../core/command.ts";
import type { SubKind } from "../core/pubsub.ts";
import { E, fail, helpReply, R, type Reply } from "../core/resp/reply.ts";

const SUB_FLAGS: CommandFlag[] = ["pubsub", "noscript", "loading", "stale"];

function subscribeSpec(
  name: string,
  kind: SubKind,
  subscribe: boolean,
  summary: string,
  since: string,
  args: string,
): CommandSpec {
  return {
    name,
    arity: subscribe ? -2 : -1,
    flags: SUB_FLAGS,
    docs: {
      summary,
      since,
      group: "pubsub",
      complexity: "O(N) where N is the number of channels to subscribe to.",
      args,
    },
    execute(client, argv) {
      const pubsub = client.server.pubsub;
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
      complexity:
        "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
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
  "    Prints this help.",
];

function channelsSpec(name: string, shard: boolean): CommandSpec {
  return {
    name,
    arity: -2,
    flags: ["pubsub", "loading", "stale"],
    docs: {
      summary: shard ? "Returns the active shard channels." : "Returns the active channels.",
      since: shard ? "7.0.0" : "2.8.0",
      group: "pubsub",
      complexity:
        "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
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
        ? "Returns the count of subscribers of shard channels."
        : "Returns a count of subscribers to channels.",
      since: shard ? "7.0.0" : "2.8.0",
      group: "pubsub",
      complexity: "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
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
    summary: "A container for Pub/Sub commands.",
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
        summary: "Returns a count of unique pattern subscriptions.",
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
        summary: "Returns helpful text about the different subcommands.",
        since: "6.2.0",
        group: "pubsub",
        complexity: "O(1)",
      },
      execute: () => helpReply(HELP),
    },
  ],
};

/** The Pub/Sub commands. */
export const pubsubCommands: CommandSpec[] = [
  subscribeSpec(
    "subscribe",
    "channel",
    true,
    "Listens for messages published to channels.",
    "2.0.0",
    "channel [channel ...]",
  ),
  subscribeSpec(
    "unsubscribe",
    "channel",
    false,
    "Stops listening to messages posted to channels.",
    "2.0.0",
    "[channel [channel ...]]",
  ),
  subscribeSpec(
    "psubscribe",
    "pattern",
    true,
    "Listens for messages published to channels that match one or more patterns.",
    "2.0.0",
    "pattern [pattern ...]",
  ),
  subscribeSpec(
    "punsubscribe",
    "pattern",
    false,
    "Stops listening to messages published to channels that match one or more patterns.",
    "2.0.0",
    "[pattern [pattern ...]]",
  ),
  subscribeSpec(
    "ssubscribe",
    "shard",
    true,
    "Listens for messages published to shard channels.",
    "7.0.0",
    "shardchannel [shardchannel ...]",
  ),
  subscribeSpec(
    "sunsubscribe",
    "shard",
    false,
    "Stops listening to messages posted to shard channels.",
    "7.0.0",
    "[shardchannel [shardchannel ...]]",
  ),
  publishSpec("publish", false, "Posts a message to a channel.", "2.0.0"),
  publishSpec("spublish", true, "Post a message to a shard channel", "7.0.0"),
  pubsubCommand,
];
