/**
 * One node of the cluster as this node knows it (Redis 7.0's `clusterNode`): its id, flags,
 * addresses, epochs, the slots it claims (a 16384-bit bitmap), its replicas and the failure
 * reports other masters sent about it. The bus fills the timing fields; the state
 * (`state.ts`) keeps the cross-links (master/replicas, slot table) consistent.
 *
 * @module
 */

/** Number of hash slots. */
export const CLUSTER_SLOTS = 16384;
/** Length of a node id (40 lowercase hex characters). */
export const NODE_ID_LEN = 40;

/** Node flags, with Redis's bit values (they travel on the bus as they are). */
export const NodeFlag = {
  MASTER: 1,
  SLAVE: 2,
  PFAIL: 4,
  FAIL: 8,
  MYSELF: 16,
  HANDSHAKE: 32,
  NOADDR: 64,
  MEET: 128,
  MIGRATE_TO: 256,
  NOFAILOVER: 512,
} as const;

/** The flag names CLUSTER NODES and nodes.conf print, in Redis's order. */
export const FLAG_NAMES: ReadonlyArray<readonly [number, string]> = [
  [NodeFlag.MYSELF, "myself"],
  [NodeFlag.MASTER, "master"],
  [NodeFlag.SLAVE, "slave"],
  [NodeFlag.PFAIL, "fail?"],
  [NodeFlag.FAIL, "fail"],
  [NodeFlag.HANDSHAKE, "handshake"],
  [NodeFlag.NOADDR, "noaddr"],
  [NodeFlag.NOFAILOVER, "nofailover"],
];

/** What the state needs of a bus link (the bus implements it). */
export interface ClusterLinkRef {
  /** Creation time of the link, Unix ms. */
  readonly createTime: number;
  /** "r", "w" or "rw": the events the link waits for (CLUSTER LINKS). */
  readonly events: string;
  /** Bytes allocated for the send buffer. */
  readonly sendBufferAllocated: number;
  /** Bytes queued in the send buffer. */
  readonly sendBufferUsed: number;
  /** Closes the link. */
  close(): void;
}

/** Tests bit `pos` of a slot bitmap (bit `pos & 7` of byte `pos >> 3`, as Redis). */
export function bitTest(bitmap: Uint8Array, pos: number): boolean {
  return ((bitmap[pos >> 3] ?? 0) & (1 << (pos & 7))) !== 0;
}

/** Sets bit `pos` of a slot bitmap. */
export function bitSet(bitmap: Uint8Array, pos: number): void {
  bitmap[pos >> 3] = (bitmap[pos >> 3] ?? 0) | (1 << (pos & 7));
}

/** Clears bit `pos` of a slot bitmap. */
export function bitClear(bitmap: Uint8Array, pos: number): void {
  bitmap[pos >> 3] = (bitmap[pos >> 3] ?? 0) & ~(1 << (pos & 7));
}

/** True for a valid node id: 40 characters of `[a-z0-9]` (Redis's verifyClusterNodeId). */
export function isNodeId(id: string): boolean {
  return /^[a-z0-9]{40}$/.test(id);
}

/** A random node id: 40 lowercase hex characters. */
export function randomNodeId(): string {
  const bytes = new Uint8Array(NODE_ID_LEN / 2);
  crypto.getRandomValues(bytes);
  let id = "";
  for (const b of bytes) id += b.toString(16).padStart(2, "0");
  return id;
}

/** A node of the cluster. */
export class ClusterNode {
  /** Node id (40 hex characters; random while in handshake). */
  id: string;
  /** `NodeFlag` bits. */
  flags: number;
  /** Creation time of this record, Unix ms. */
  ctime: number;
  /** Last config epoch observed for this node. */
  configEpoch = 0;
  /** Slots this node claims. */
  readonly slots = new Uint8Array(CLUSTER_SLOTS / 8);
  /** Number of bits set in `slots`. */
  numSlots = 0;
  /** The master this node replicates, when known. */
  replicaOf: ClusterNode | undefined;
  /** The replicas of this node, when a master. */
  replicas: ClusterNode[] = [];
  /** Last IP address known for the node ("" when none). */
  ip = "";
  /** Hostname it announces ("" when none). */
  hostname = "";
  /** Client port (TLS or plain). */
  port = 0;
  /** Plaintext client port when `port` is the TLS one. */
  pport = 0;
  /** Cluster bus port. */
  cport = 0;
  /** Unix ms of the ping in flight (0: none). */
  pingSent = 0;
  /** Unix ms of the last pong received. */
  pongReceived = 0;
  /** Unix ms of the last data received on any link. */
  dataReceived = 0;
  /** Unix ms the FAIL flag was set. */
  failTime = 0;
  /** Unix ms we last voted for a replica of this master. */
  votedTime = 0;
  /** Unix ms `replOffset` was received. */
  replOffsetTime = 0;
  /** Unix ms this master became orphaned (0: not orphaned). */
  orphanedTime = 0;
  /** Last replication offset known for the node. */
  replOffset = 0;
  /** Gossip counter (which ping last carried this node). */
  lastInPingGossip = 0;
  /** Outbound bus link to the node. */
  link: ClusterLinkRef | undefined;
  /** Inbound bus link accepted from the node. */
  inboundLink: ClusterLinkRef | undefined;
  /** Failure reports: the reporting node and the Unix ms of its last report. */
  readonly failReports = new Map<ClusterNode, number>();

  /**
   * @param id the node id (a random one when omitted)
   * @param flags `NodeFlag` bits
   * @param now Unix ms of creation
   */
  constructor(id: string | undefined, flags: number, now: number) {
    this.id = id ?? randomNodeId();
    this.flags = flags;
    this.ctime = now;
  }

  /** True when the node is a master. */
  get isMaster(): boolean {
    return (this.flags & NodeFlag.MASTER) !== 0;
  }

  /** True when the node is a replica. */
  get isReplica(): boolean {
    return (this.flags & NodeFlag.SLAVE) !== 0;
  }

  /** True when the node is flagged FAIL. */
  get failed(): boolean {
    return (this.flags & NodeFlag.FAIL) !== 0;
  }

  /** True when the node is flagged PFAIL. */
  get timedOut(): boolean {
    return (this.flags & NodeFlag.PFAIL) !== 0;
  }

  /** True while the first ping exchange is pending. */
  get inHandshake(): boolean {
    return (this.flags & NodeFlag.HANDSHAKE) !== 0;
  }

  /** True when the node's address is known. */
  get hasAddr(): boolean {
    return (this.flags & NodeFlag.NOADDR) === 0;
  }

  /** True when the node claims `slot`. */
  hasSlot(slot: number): boolean {
    return bitTest(this.slots, slot);
  }

  /** Number of replicas not flagged FAIL. */
  nonFailingReplicas(): number {
    let n = 0;
    for (const r of this.replicas) if (!r.failed) n++;
    return n;
  }

  /** The flags as CLUSTER NODES prints them ("myself,master", or "noflags"). */
  flagsString(): string {
    const names: string[] = [];
    for (const [bit, name] of FLAG_NAMES) if (this.flags & bit) names.push(name);
    return names.length === 0 ? "noflags" : names.join(",");
  }

  /**
   * The slots claimed, as [start, end] ranges in ascending order.
   *
   * @returns inclusive ranges
   */
  slotRanges(): Array<[number, number]> {
    const ranges: Array<[number, number]> = [];
    let start = -1;
    for (let j = 0; j <= CLUSTER_SLOTS; j++) {
      const has = j < CLUSTER_SLOTS && this.hasSlot(j);
      if (has && start === -1) start = j;
      if (!has && start !== -1) {
        ranges.push([start, j - 1]);
        start = -1;
      }
    }
    return ranges;
  }
}
