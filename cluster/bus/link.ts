/**
 * One cluster bus link (Redis's `clusterLink`): an outbound link this node opens to a node it
 * knows, or an inbound link a node opened to us (whose node is learned from the first message
 * that names a known sender). Bytes written before an outbound link is connected wait in its
 * send queue; bytes read are cut into frames and handed to the bus one by one.
 *
 * @module
 */

import type { ClusterLinkRef, ClusterNode } from "../node.ts";
import type { Transport } from "../../core/net/transport.ts";
import { BadFrameError, FrameReader } from "./frames.ts";

/** What a link tells its owner. */
export interface LinkOwner {
  /** A whole frame arrived on `link`. */
  frame(link: BusLink, frame: Uint8Array): void;
  /** `link` closed (either side, or an error). */
  closed(link: BusLink): void;
  /** A line for the server log. */
  log(level: "warning" | "notice" | "verbose", message: string): void;
}

/** Splits `ip:port` (IPv6 in brackets or bare) into its address. */
export function hostOf(address: string): string {
  const i = address.lastIndexOf(":");
  const host = i < 0 ? address : address.slice(0, i);
  return host.startsWith("[") ? host.slice(1, -1) : host;
}

/** A cluster bus link. */
export class BusLink implements ClusterLinkRef {
  /** Creation time, Unix ms. */
  readonly createTime: number;
  /** The node at the other end (undefined on an inbound link until a known sender speaks). */
  node: ClusterNode | undefined;
  /** True for a link a node opened to us. */
  readonly inbound: boolean;
  /** True once closed: nothing is sent or handled any more. */
  isClosed = false;
  #transport: Transport | undefined;
  #queue: Uint8Array[] = [];
  #queued = 0;
  readonly #reader = new FrameReader();

  /**
   * @param owner the bus
   * @param node the node of an outbound link; undefined for an inbound one
   * @param now creation time
   */
  constructor(readonly owner: LinkOwner, node: ClusterNode | undefined, now: number) {
    this.node = node;
    this.inbound = node === undefined;
    this.createTime = now;
    if (node !== undefined) node.link = this;
  }

  /** The address of our end ("" while connecting). */
  get localIp(): string {
    return this.#transport ? hostOf(this.#transport.localAddress) : "";
  }

  /** The address of the peer ("" while connecting). */
  get peerIp(): string {
    return this.#transport ? hostOf(this.#transport.remoteAddress) : "";
  }

  /** True once the socket is there. */
  get connected(): boolean {
    return this.#transport !== undefined;
  }

  /** "r", or "rw" while output waits (CLUSTER LINKS). */
  get events(): string {
    return this.sendBufferUsed > 0 ? "rw" : "r";
  }

  /** Bytes queued and not yet taken by the kernel. */
  get sendBufferUsed(): number {
    return this.#queued + (this.#transport?.pendingBytes ?? 0);
  }

  /** Redis reports the allocation of its send buffer; ours is what is queued. */
  get sendBufferAllocated(): number {
    return this.sendBufferUsed;
  }

  /**
   * Binds the socket: queued bytes go out now.
   *
   * @param transport the connected socket
   */
  attach(transport: Transport): void {
    if (this.isClosed) {
      transport.destroy();
      return;
    }
    this.#transport = transport;
    for (const b of this.#queue) transport.write(b);
    this.#queue = [];
    this.#queued = 0;
  }

  /**
   * Queues a message.
   *
   * @param bytes the encoded message (owned by the link from now on)
   */
  send(bytes: Uint8Array): void {
    if (this.isClosed) return;
    if (this.#transport) this.#transport.write(bytes);
    else {
      this.#queue.push(bytes);
      this.#queued += bytes.length;
    }
  }

  /** Bytes read from the socket. */
  onData(chunk: Uint8Array): void {
    if (this.isClosed) return;
    let frames: Uint8Array[];
    try {
      frames = this.#reader.push(chunk);
    } catch (e) {
      if (!(e instanceof BadFrameError)) throw e;
      this.owner.log("warning", e.message + ".");
      this.close();
      return;
    }
    for (const f of frames) {
      if (this.isClosed) return;
      this.owner.frame(this, f);
    }
  }

  /** Closes the link and detaches it from its node (Redis's freeClusterLink). */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.#transport?.destroy();
    this.#queue = [];
    this.#queued = 0;
    const node = this.node;
    if (node !== undefined) {
      if (node.link === this) node.link = undefined;
      else if (node.inboundLink === this) node.inboundLink = undefined;
    }
    this.owner.closed(this);
  }
}
