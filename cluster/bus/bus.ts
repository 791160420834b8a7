/**
 * The cluster bus of one node: the listener on the bus port, the links, sending, the MEET
 * handshake and the 100 ms cron (cron.ts). What each message does on arrival is in receive.ts.
 *
 * @module
 */

import type { ClusterState } from "../state.ts";
import type { ClusterNode } from "../node.ts";
import type { ConnectFn, Listener, ListenFn } from "../../core/net/transport.ts";
import { BusLink, type LinkOwner } from "./link.ts";
import { listenAll } from "../../core/listen_all.ts";
import { decodeMessage } from "./codec.ts";
import { type Announce, buildFail, buildPing, buildPublish, buildUpdate } from "./messages.ts";
import { handleMessage } from "./receive.ts";
import { clusterCron } from "./cron.ts";
import { Election } from "./election.ts";
import { NodeFlag } from "../node.ts";

/** What the bus needs from the server. */
export interface BusOptions {
  /** Ports, announced address, offset. */
  announce: Announce;
  /** The runtime's listen function. */
  listen: ListenFn;
  /** The runtime's connect function. */
  connect: ConnectFn;
  /** Delivers a PUBLISH (sharded or not) that came over the bus to local subscribers. */
  publish?: (sharded: boolean, channel: Uint8Array, message: Uint8Array) => void;
  /** A line for the server log. */
  log?: (level: "warning" | "notice" | "verbose", message: string) => void;
  /** Stops replicating, keeping the data (a replica that won a failover). */
  stopReplicating?: () => void;
  /** Pauses writes until `end` (ms), or lifts the pause when `end` is 0 (manual failover). */
  pauseWrites?: (end: number) => void;
  /** The message type `DEBUG DROP-CLUSTER-PACKET-FILTER` drops on receipt (-1: none). */
  dropPacketFilter?: () => number;
}

/** The cluster bus. */
export class ClusterBus implements LinkOwner {
  /** Every open link, inbound and outbound. */
  readonly links = new Set<BusLink>();
  /** Nodes in PFAIL with an address, as the last cron counted them. */
  pfailNodes = 0;
  #listeners: Listener[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Number of cron runs. */
  iteration = 0;
  /** Called by the cron while we are a replica of `master` (starts replication when it is off). */
  ensureReplicating: ((master: ClusterNode) => void) | undefined;

  /**
   * @param state the cluster state
   * @param options the server's side
   */
  constructor(readonly state: ClusterState, readonly options: BusOptions) {
    this.election = new Election(this, {
      stopReplicating: () => options.stopReplicating?.(),
      pauseWrites: (end) => options.pauseWrites?.(end),
    });
  }

  /** Elections and manual failovers. */
  readonly election: Election;

  /** The clock's now. */
  now(): number {
    return this.state.clock.now();
  }

  /** Logs through the server. */
  log(level: "warning" | "notice" | "verbose", message: string): void {
    this.options.log?.(level, message);
  }

  /**
   * Listens on the bus port and starts the cron.
   *
   * @param hosts the addresses to bind (as `bind`: a leading `-` makes one optional)
   * @param port the bus port (0: any)
   * @returns the bound port
   */
  async start(hosts: string[], port: number): Promise<number> {
    this.#listeners = await listenAll(this.options.listen, { hosts, port }, (transport) => {
      const link = new BusLink(this, undefined, this.now());
      link.attach(transport);
      this.links.add(link);
      return { onData: (c) => link.onData(c), onClose: () => link.close() };
    });
    this.#timer = setInterval(() => clusterCron(this), 100);
    return this.#listeners[0]!.port;
  }

  /** Stops the cron, the listener and every link. */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const l of [...this.links]) l.close();
    const listeners = this.#listeners;
    this.#listeners = [];
    await Promise.all(listeners.map((l) => l.close()));
  }

  // ---- LinkOwner -----------------------------------------------------------------------------

  /** A whole frame arrived. */
  frame(link: BusLink, frame: Uint8Array): void {
    if (frame.length >= 16) {
      const type = (frame[12]! << 8) | frame[13]!;
      if (type < this.state.statsReceived.length) this.state.statsReceived[type]!++;
    }
    const msg = decodeMessage(frame);
    if (typeof msg === "string") {
      this.log("warning", `Received invalid cluster bus packet (${msg}), ignored`);
      return;
    }
    if (msg.header.type === this.options.dropPacketFilter?.()) {
      this.log("warning", "Dropping packet that matches debug drop filter");
      return;
    }
    handleMessage(this, link, msg);
  }

  /** A link closed. */
  closed(link: BusLink): void {
    this.links.delete(link);
  }

  // ---- links and sending ---------------------------------------------------------------------

  /**
   * Opens the outbound link to `node`; once connected it sends a MEET (node flagged MEET) or a
   * PING, keeping an older ping's time so failure detection is not reset by a reconnect.
   */
  connect(node: ClusterNode): void {
    const link = new BusLink(this, node, this.now());
    this.links.add(link);
    this.options.connect({ hostname: node.ip, port: node.cport }).then((conn) => {
      if (link.isClosed) {
        conn.destroy();
        return;
      }
      conn.attach({ onData: (c) => link.onData(c), onClose: () => link.close() });
      link.attach(conn);
      const oldPingSent = node.pingSent;
      this.sendPing(link, node.flags & NodeFlag.MEET ? 2 : 0);
      if (oldPingSent) node.pingSent = oldPingSent;
      node.flags &= ~NodeFlag.MEET;
    }, (e: Error) => {
      this.log(
        "verbose",
        `Connection with Node ${node.id} at ${node.ip}:${node.cport} failed: ${e.message}`,
      );
      link.close();
    });
  }

  /** Queues a message on a link, counting it by type. */
  send(link: BusLink | undefined, bytes: Uint8Array): void {
    if (link === undefined || link.isClosed) return;
    const type = (bytes[12]! << 8) | bytes[13]!;
    if (type < this.state.statsSent.length) this.state.statsSent[type]!++;
    link.send(bytes);
  }

  /** Sends to every node with a link, but ourselves and nodes in handshake. */
  broadcast(bytes: Uint8Array): void {
    for (const n of this.state.nodes.values()) {
      if (n.flags & (NodeFlag.MYSELF | NodeFlag.HANDSHAKE)) continue;
      this.send(n.link as BusLink | undefined, bytes);
    }
  }

  /** Sends a PING, PONG or MEET; a PING on an outbound link starts a ping in flight. */
  sendPing(link: BusLink, type: number): void {
    if (!link.inbound && type === 0 && link.node !== undefined) link.node.pingSent = this.now();
    this.send(link, buildPing(this.state, this.options.announce, type, this.pfailNodes));
  }

  /** A PONG to every connected node (a configuration change others should learn now). */
  broadcastPong(localReplicasOnly = false): void {
    const me = this.state.myself;
    for (const n of this.state.nodes.values()) {
      if (n.link === undefined || n === me || n.inHandshake) continue;
      if (localReplicasOnly) {
        const local = n.isReplica && n.replicaOf !== undefined &&
          (n.replicaOf === me || n.replicaOf === me.replicaOf);
        if (!local) continue;
      }
      this.sendPing(n.link as BusLink, 1);
    }
  }

  /** Tells every node that `node` failed. */
  sendFail(node: ClusterNode): void {
    this.broadcast(buildFail(this.state, this.options.announce, node));
  }

  /** Tells `link`'s node `node`'s slot configuration. */
  sendUpdate(link: BusLink | undefined, node: ClusterNode): void {
    if (link === undefined) return;
    this.send(link, buildUpdate(this.state, this.options.announce, node));
  }

  /**
   * Propagates a PUBLISH to every node, or a SPUBLISH to the nodes of our shard.
   *
   * @param sharded SPUBLISH
   * @param channel the channel
   * @param message the message
   */
  propagatePublish(sharded: boolean, channel: Uint8Array, message: Uint8Array): void {
    const bytes = buildPublish(this.state, this.options.announce, sharded, channel, message);
    if (!sharded) {
      this.broadcast(bytes);
      return;
    }
    const me = this.state.myself;
    const master = me.isReplica ? me.replicaOf : me;
    if (master === undefined) return;
    for (const n of [master, ...master.replicas]) {
      if (n.flags & (NodeFlag.MYSELF | NodeFlag.HANDSHAKE)) continue;
      this.send(n.link as BusLink | undefined, bytes);
    }
  }
}
