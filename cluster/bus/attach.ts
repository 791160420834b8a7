/**
 * Runs the cluster bus for a server in cluster mode: listens on the bus port (`cluster-port`, or
 * `port` + 10000) once the server listens (a bus port taken stops the server from starting),
 * announces the ports the directives say, delivers PUBLISH and SPUBLISH that arrive over the bus,
 * propagates the ones clients run here, and stops with the server.
 *
 * @module
 */

import type { Server } from "../../core/server.ts";
import { StartError } from "../../core/server_types.ts";
import type { ClusterState } from "../state.ts";
import { netAdapter } from "../../core/net/runtime.ts";
import { bytesToStr, strToBytes } from "../../core/bytes.ts";
import { ErrorReply } from "../../core/resp/reply.ts";
import { ClusterBus } from "./bus.ts";
import { PausePurpose, PauseType } from "../../core/pause.ts";

/** What the bus needs of the server's cluster mode (cluster/mode.ts). */
export interface BusHost {
  /** The server. */
  readonly server: Server;
  /** Its cluster state. */
  readonly state: ClusterState;
  /** Our replication offset. */
  replOffset(): number;
  /** Stops replicating, keeping the data (a replica that won a failover). */
  stopReplicating?(): void;
  /** The bus's part of the CLUSTER commands, set here. */
  bus:
    | {
      broadcastPong?(): void;
      failover?(mode: "default" | "force" | "takeover"): void;
    }
    | undefined;
}

/** The port the bus listens on: `cluster-port`, or the client port + 10000. */
export function busPort(server: Server): number {
  const c = server.config;
  return c.num("cluster-port") || c.num("port") + 10000;
}

/**
 * Sets up the bus of `host`; it starts listening once the server listens (and knows its port).
 *
 * @param host the server's cluster mode
 * @returns the bus (not yet listening)
 */
export function attachBus(host: BusHost): ClusterBus {
  const { server, state } = host;
  const c = server.config;
  const bus: ClusterBus = new ClusterBus(state, {
    announce: {
      port: () => c.num("cluster-announce-port") || c.num("port"),
      pport: () => 0,
      cport: () => c.num("cluster-announce-bus-port") || busPort(server),
      ip: () => c.str("cluster-announce-ip"),
      replOffset: () => host.replOffset(),
      paused: (): boolean => bus.election.mfEnd !== 0,
    },
    // Filled in at start: the runtime's adapter is loaded asynchronously.
    listen: () => Promise.reject(new Error("Cluster bus not started")),
    connect: () => Promise.reject(new Error("Cluster bus not started")),
    publish: (sharded, channel, message) => {
      server.pubsub.publish(bytesToStr(channel), bytesToStr(message), sharded);
    },
    log: (level, message) => server.log(level, message),
    dropPacketFilter: () => server.clusterDropPacketFilter,
    stopReplicating: () => host.stopReplicating?.(),
    pauseWrites: (end) => {
      if (end === 0) server.pause.unpause(PausePurpose.Failover);
      else server.pause.pause(end, PauseType.Write, PausePurpose.Failover);
    },
  });
  host.bus = {
    ...host.bus,
    broadcastPong: () => bus.broadcastPong(),
    failover: (mode) => bus.election.startManual(mode),
  };
  state.hooks.failover = (manual) => {
    if (manual) bus.election.handleManual();
    else bus.election.handle();
  };
  server.clusterLinkKill = (direction, nodeId) => {
    const node = state.lookupNode(nodeId);
    if (node === undefined) return `Unknown node ${nodeId}`;
    const dir = direction.toLowerCase();
    if (dir !== "to" && dir !== "from" && dir !== "all") return `Unknown direction ${direction}`;
    if (dir !== "from") node.link?.close();
    if (dir !== "to") node.inboundLink?.close();
    return undefined;
  };
  // As Redis: a node that cannot listen on its bus port does not start.
  server.on("listened", async () => {
    try {
      await start(bus, server);
    } catch {
      throw new StartError(`Failed listening on port ${busPort(server)} (cluster), aborting.`);
    }
  });
  // A plugin's notifications in cluster mode (PubSub.publishAbout) go to the shard as SPUBLISH's.
  server.pubsub.shardPeers = (channel, message) => {
    bus.propagatePublish(true, strToBytes(channel), strToBytes(message));
  };
  server.on("shutdown", () => bus.close());
  server.on("afterCommand", (_client, command, argv, reply) => {
    if (reply instanceof ErrorReply) return;
    const name = command.name;
    if (name !== "publish" && name !== "spublish") return;
    bus.propagatePublish(name === "spublish", strToBytes(argv[1]!), strToBytes(argv[2]!));
  });
  return bus;
}

async function start(bus: ClusterBus, server: Server): Promise<void> {
  const net = await netAdapter(server.netAdapterName);
  bus.options.listen = net.listen;
  bus.options.connect = net.connect;
  const hosts = server.config.str("bind").split(" ").filter(Boolean);
  await bus.start(hosts, busPort(server));
}
