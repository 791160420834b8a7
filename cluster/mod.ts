/**
 * The cluster plugin: Redis Cluster's server side with `cluster-enabled yes`.
 *
 * Layout:
 * - `node.ts`, `state.ts`: the node table and slot table as Redis 7.0 keeps them, with the
 *   rules the bus applies as it learns things (slot claims by config epoch, PFAIL/FAIL,
 *   cluster_state ok/fail)
 * - `nodes_conf.ts`: CLUSTER NODES lines and nodes.conf, written and read as Redis does
 * - `slots.ts`, `slot_keys.ts`: key hash slots (CRC16, hash tags) and db 0's keys by slot
 * - `routing.ts`: MOVED/ASK/TRYAGAIN/CROSSSLOT/CLUSTERDOWN before each command with keys
 * - `restrictions.ts`: what cluster mode forbids (SELECT n, MOVE, SWAPDB, REPLICAOF...)
 * - `commands_view.ts`, `commands_admin.ts`: the CLUSTER subcommands, READONLY, READWRITE,
 *   ASKING
 * - `mode.ts`, `context.ts`: one server's cluster mode, and what the bus shares of it
 * - `bus/`: the cluster bus (links, gossip, failure detection, elections)
 *
 * @example
 * ```ts
 * import { createServer } from "../mod.ts";
 * import { cluster } from "./mod.ts";
 *
 * const node = createServer({
 *   plugins: [cluster()],
 *   config: { "cluster-enabled": "yes", "cluster-config-file": "/tmp/nodes-7000.conf" },
 * });
 * node.dispatch(["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]);
 * ```
 *
 * @module
 */

import { type ClusterHandler, enableClusterCommands } from "../commands/cluster_mode.ts";
import type { Plugin } from "../core/server.ts";
import { adminCommands, connectionFlagCommands } from "./commands_admin.ts";
import { viewCommands } from "./commands_view.ts";
import { ClusterMode } from "./mode.ts";
import { restrictionsGate } from "./restrictions.ts";
import { Routing } from "./routing.ts";

/** Gate order of the routing check: after AUTH and ACL (10), before OOM (20) and MULTI (100). */
const ROUTING_ORDER = 15;

const modes = new WeakMap<object, ClusterMode>();

/**
 * The cluster mode of a server set up with the {@linkcode cluster} plugin and `cluster-enabled
 * yes` (undefined otherwise): what the bus builds on.
 *
 * @param server the server
 * @returns its cluster mode
 */
export function clusterOf(server: object): ClusterMode | undefined {
  return modes.get(server);
}

/**
 * The cluster plugin. With `cluster-enabled yes` it loads (or creates) nodes.conf, answers the
 * CLUSTER subcommands, READONLY, READWRITE and ASKING, and checks every command with keys against
 * the slot table; with `cluster-enabled no` it does nothing, and those commands keep answering
 * that cluster support is disabled.
 *
 * @returns the plugin
 */
export function cluster(): Plugin {
  return {
    name: "cluster",
    setup(server) {
      if (!server.config.bool("cluster-enabled")) return;
      const mode = new ClusterMode(server);
      modes.set(server, mode);
      const handlers = new Map<string, ClusterHandler>(connectionFlagCommands);
      for (const [name, h] of [...viewCommands(mode), ...adminCommands(mode)]) {
        handlers.set(`cluster|${name}`, h);
      }
      handlers.set("cluster|slaves", handlers.get("cluster|replicas")!);
      enableClusterCommands(server, handlers);
      const routing = new Routing(mode.state, {
        allowReadsWhenDown: () => server.config.bool("cluster-allow-reads-when-down"),
        allowPubsubshardWhenDown: () => server.config.bool("cluster-allow-pubsubshard-when-down"),
        endpointType: () => mode.endpointType(),
      });
      server.addGate(routing.gate, ROUTING_ORDER);
      server.scriptClusterCheck = routing.scriptCheck;
      server.addGate(restrictionsGate((c) => mode.isOwnClient(c)), ROUTING_ORDER);
      server.infoSections.set("cluster", {
        title: "Cluster",
        isDefault: true,
        fields: () => [["cluster_enabled", 1]],
      });
    },
  };
}
