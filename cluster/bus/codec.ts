/**
 * The cluster bus's binary message format, byte for byte as Redis 7.0 writes it (`clusterMsg`
 * in Redis's cluster.h): a fixed 2256-byte header followed by a body that depends on the type.
 * Every integer is big-endian; node names are 40 bytes of hex with no terminator; addresses are
 * NUL-padded to 46 bytes.
 *
 * Layout of the header (offsets in bytes): `RCmb` 0, totlen 4, ver 8, port 10, type 12, count 14,
 * currentEpoch 16, configEpoch 24, offset 32, sender 40, myslots 80 (16384 bits), slaveof 2128,
 * myip 2168, extensions 2214, reserved 2216, pport 2246, cport 2248, flags 2250, state 2252,
 * mflags 2253, body 2256.
 *
 * @module
 */

import { NodeFlag } from "../node.ts";

/** Node flags (`CLUSTER_NODE_*`), as carried in headers and gossip entries. */
export { NodeFlag };

/** Message types (`CLUSTERMSG_TYPE_*`). */
export const MsgType = {
  PING: 0,
  PONG: 1,
  MEET: 2,
  FAIL: 3,
  PUBLISH: 4,
  FAILOVER_AUTH_REQUEST: 5,
  FAILOVER_AUTH_ACK: 6,
  UPDATE: 7,
  MFSTART: 8,
  MODULE: 9,
  PUBLISHSHARD: 10,
} as const;

/** `mflags[0]` bits. */
export const MsgFlag0 = { PAUSED: 1, FORCEACK: 2, EXT_DATA: 4 } as const;

/** Ping extension types (7.0 has only the hostname). */
export const ExtType = { HOSTNAME: 0 } as const;

/** Length of a node name. */
export const NAMELEN = 40;
/** Number of hash slots. */
export const SLOTS = 16384;
/** Bytes of a slot bitmap. */
export const SLOT_BYTES = SLOTS / 8;
/** Length of the header, the least a message can be (`CLUSTERMSG_MIN_LEN`). */
export const HEADER_LEN = 2256;
/** Length of one gossip entry (`clusterMsgDataGossip`). */
export const GOSSIP_LEN = 104;
/** Bytes of an address field (`NET_IP_STR_LEN`). */
export const IP_LEN = 46;
/** The protocol version. */
export const PROTO_VER = 1;

const O = {
  totlen: 4,
  ver: 8,
  port: 10,
  type: 12,
  count: 14,
  currentEpoch: 16,
  configEpoch: 24,
  offset: 32,
  sender: 40,
  myslots: 80,
  slaveof: 2128,
  myip: 2168,
  extensions: 2214,
  pport: 2246,
  cport: 2248,
  flags: 2250,
  state: 2252,
  mflags: 2253,
} as const;

/** The header fields every message carries. */
export interface BusHeader {
  /** Message type (`MsgType`). */
  type: number;
  /** Type-specific count: gossip entries in PING/PONG/MEET. Set by the encoder there. */
  count?: number;
  /** The sender's current epoch. */
  currentEpoch: number;
  /** The sender's config epoch (its master's when it is a replica). */
  configEpoch: number;
  /** Replication offset. */
  offset: number;
  /** The sender's node id. */
  sender: string;
  /** Slots the sender (or its master) serves: 2048 bytes, bit `s` is byte `s >> 3`, bit `s & 7`. */
  myslots: Uint8Array;
  /** The sender's master's id, or null for a master. */
  slaveof: string | null;
  /** Announced address, "" for "use the address the connection comes from". */
  myip: string;
  /** Client port. */
  port: number;
  /** Plaintext client port when `port` is TLS. */
  pport: number;
  /** Cluster bus port. */
  cport: number;
  /** The sender's flags (`NodeFlag`). */
  flags: number;
  /** Cluster state from the sender's view: 0 ok, 1 fail. */
  state: number;
  /** The three message-flag bytes (`MsgFlag0` in the first). */
  mflags: [number, number, number];
}

/** One gossip entry: what the sender knows of another node. */
export interface GossipEntry {
  /** The node's id. */
  name: string;
  /** When the sender last pinged it, in seconds (0: no ping outstanding). */
  pingSent: number;
  /** When the sender last got its pong, in seconds. */
  pongReceived: number;
  /** Its address. */
  ip: string;
  /** Its client port. */
  port: number;
  /** Its bus port. */
  cport: number;
  /** Its flags as the sender sees them. */
  flags: number;
  /** Its plaintext port. */
  pport: number;
}

/** A ping extension of a type this codec does not know: kept as bytes. */
export interface RawExtension {
  /** The extension type. */
  type: number;
  /** Its payload (after the 8-byte extension header, padding included). */
  data: Uint8Array;
}

/** The body of a message, by type. */
export type BusBody =
  | {
    kind: "ping";
    /** Gossip entries. */
    gossip: GossipEntry[];
    /** The hostname extension: null when absent. */
    hostname: string | null;
    /** Extensions of other types, in order. */
    other?: RawExtension[];
  }
  | { kind: "fail"; /** The failing node's id. */ node: string }
  | { kind: "publish"; /** Channel. */ channel: Uint8Array; /** Message. */ message: Uint8Array }
  | {
    kind: "update";
    /** The config epoch of the node. */
    configEpoch: number;
    /** The node whose slots these are. */
    node: string;
    /** Its slots bitmap. */
    slots: Uint8Array;
  }
  | {
    kind: "module";
    /** The module's id, the 8 bytes as sent (Redis does not convert them). */
    moduleId: Uint8Array;
    /** The module's message type. */
    moduleType: number;
    /** The payload. */
    payload: Uint8Array;
  }
  | { kind: "empty" };

/** A whole message. */
export interface BusMessage {
  /** The header. */
  header: BusHeader;
  /** The body. */
  body: BusBody;
}

const latin1 = new TextDecoder("latin1");

function putAscii(buf: Uint8Array, at: number, s: string, max: number): void {
  const n = Math.min(s.length, max);
  for (let i = 0; i < n; i++) buf[at + i] = s.charCodeAt(i) & 0xff;
}

/** A copy of `b[start, end)` as a plain Uint8Array (a Node Buffer's `slice` would share memory). */
function copy(b: Uint8Array, start: number, end: number): Uint8Array {
  return Uint8Array.prototype.slice.call(b, start, end);
}

/** A fixed-width name field: 40 bytes, or null when all zero. */
function readName(buf: Uint8Array, at: number): string | null {
  const b = buf.subarray(at, at + NAMELEN);
  return b.every((x) => x === 0) ? null : latin1.decode(b);
}

/** A NUL-terminated string inside a fixed field. */
function readCString(buf: Uint8Array, at: number, max: number): string {
  const b = buf.subarray(at, at + max);
  const end = b.indexOf(0);
  return latin1.decode(end < 0 ? b : b.subarray(0, end));
}

/** An empty slots bitmap. */
export function emptySlots(): Uint8Array {
  return new Uint8Array(SLOT_BYTES);
}

/** Whether bit `slot` is set in a bitmap. */
export function slotBit(bits: Uint8Array, slot: number): boolean {
  return ((bits[slot >> 3]! >> (slot & 7)) & 1) === 1;
}

/** Sets or clears bit `slot`. */
export function setSlotBit(bits: Uint8Array, slot: number, on: boolean): void {
  if (on) bits[slot >> 3]! |= 1 << (slot & 7);
  else bits[slot >> 3]! &= ~(1 << (slot & 7));
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

function bodyLength(body: BusBody): number {
  switch (body.kind) {
    case "ping": {
      let n = body.gossip.length * GOSSIP_LEN;
      if (body.hostname) n += 8 + align8(body.hostname.length + 1);
      for (const e of body.other ?? []) n += 8 + e.data.length;
      return n;
    }
    case "fail":
      return NAMELEN;
    case "publish":
      return 8 + body.channel.length + body.message.length;
    case "update":
      return 8 + NAMELEN + SLOT_BYTES;
    case "module":
      return 13 + body.payload.length;
    case "empty":
      return 0;
  }
}

/**
 * Encodes a message as Redis writes it.
 *
 * @param msg The message.
 * @returns Its bytes.
 */
export function encodeMessage(msg: BusMessage): Uint8Array {
  const { header: h, body } = msg;
  const totlen = HEADER_LEN + bodyLength(body);
  const buf = new Uint8Array(totlen);
  const dv = new DataView(buf.buffer);
  putAscii(buf, 0, "RCmb", 4);
  dv.setUint32(O.totlen, totlen);
  dv.setUint16(O.ver, PROTO_VER);
  dv.setUint16(O.port, h.port);
  dv.setUint16(O.type, h.type);
  dv.setBigUint64(O.currentEpoch, BigInt(h.currentEpoch));
  dv.setBigUint64(O.configEpoch, BigInt(h.configEpoch));
  dv.setBigUint64(O.offset, BigInt(h.offset));
  putAscii(buf, O.sender, h.sender, NAMELEN);
  buf.set(h.myslots.subarray(0, SLOT_BYTES), O.myslots);
  if (h.slaveof !== null) putAscii(buf, O.slaveof, h.slaveof, NAMELEN);
  putAscii(buf, O.myip, h.myip, IP_LEN - 1);
  dv.setUint16(O.pport, h.pport);
  dv.setUint16(O.cport, h.cport);
  dv.setUint16(O.flags, h.flags);
  buf[O.state] = h.state;
  buf[O.mflags] = h.mflags[0];
  buf[O.mflags + 1] = h.mflags[1];
  buf[O.mflags + 2] = h.mflags[2];
  let at = HEADER_LEN;
  switch (body.kind) {
    case "ping": {
      dv.setUint16(O.count, body.gossip.length);
      for (const g of body.gossip) {
        putAscii(buf, at, g.name, NAMELEN);
        dv.setUint32(at + 40, g.pingSent);
        dv.setUint32(at + 44, g.pongReceived);
        putAscii(buf, at + 48, g.ip, IP_LEN - 1);
        dv.setUint16(at + 94, g.port);
        dv.setUint16(at + 96, g.cport);
        dv.setUint16(at + 98, g.flags);
        dv.setUint16(at + 100, g.pport);
        at += GOSSIP_LEN;
      }
      let exts = 0;
      if (body.hostname) {
        const len = 8 + align8(body.hostname.length + 1);
        dv.setUint32(at, len);
        dv.setUint16(at + 4, ExtType.HOSTNAME);
        putAscii(buf, at + 8, body.hostname, body.hostname.length);
        at += len;
        exts++;
      }
      for (const e of body.other ?? []) {
        dv.setUint32(at, 8 + e.data.length);
        dv.setUint16(at + 4, e.type);
        buf.set(e.data, at + 8);
        at += 8 + e.data.length;
        exts++;
      }
      dv.setUint16(O.extensions, exts);
      if (exts > 0) buf[O.mflags] = buf[O.mflags]! | MsgFlag0.EXT_DATA;
      break;
    }
    case "fail":
      putAscii(buf, at, body.node, NAMELEN);
      break;
    case "publish":
      dv.setUint32(at, body.channel.length);
      dv.setUint32(at + 4, body.message.length);
      buf.set(body.channel, at + 8);
      buf.set(body.message, at + 8 + body.channel.length);
      break;
    case "update":
      dv.setBigUint64(at, BigInt(body.configEpoch));
      putAscii(buf, at + 8, body.node, NAMELEN);
      buf.set(body.slots.subarray(0, SLOT_BYTES), at + 8 + NAMELEN);
      break;
    case "module":
      buf.set(body.moduleId.subarray(0, 8), at);
      dv.setUint32(at + 8, body.payload.length);
      buf[at + 12] = body.moduleType;
      buf.set(body.payload, at + 13);
      break;
    case "empty":
      break;
  }
  return buf;
}

/** Why a whole frame was not taken as a message (Redis ignores such a packet, keeping the link). */
export type Rejection = "short" | "version" | "length";

/**
 * Decodes one whole frame (as cut by `FrameReader`), with the checks Redis makes before it acts
 * on a packet: the version must be 1 and the length must be exactly what the type and its counts
 * imply (ping extensions padded to 8 and inside the packet). A packet of an unknown type is taken
 * with an empty body, as Redis takes it (and then ignores it).
 *
 * @param frame The frame's bytes.
 * @returns The message, or why Redis would ignore the packet.
 */
export function decodeMessage(frame: Uint8Array): BusMessage | Rejection {
  if (frame.length < HEADER_LEN) return "short";
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const totlen = dv.getUint32(O.totlen);
  if (totlen !== frame.length) return "length";
  if (dv.getUint16(O.ver) !== PROTO_VER) return "version";
  const type = dv.getUint16(O.type);
  const count = dv.getUint16(O.count);
  const mflags: [number, number, number] = [
    frame[O.mflags]!,
    frame[O.mflags + 1]!,
    frame[O.mflags + 2]!,
  ];
  const header: BusHeader = {
    type,
    count,
    currentEpoch: Number(dv.getBigUint64(O.currentEpoch)),
    configEpoch: Number(dv.getBigUint64(O.configEpoch)),
    offset: Number(dv.getBigUint64(O.offset)),
    sender: latin1.decode(frame.subarray(O.sender, O.sender + NAMELEN)),
    myslots: copy(frame, O.myslots, O.myslots + SLOT_BYTES),
    slaveof: readName(frame, O.slaveof),
    myip: readCString(frame, O.myip, IP_LEN),
    port: dv.getUint16(O.port),
    pport: dv.getUint16(O.pport),
    cport: dv.getUint16(O.cport),
    flags: dv.getUint16(O.flags),
    state: frame[O.state]!,
    mflags,
  };
  const body = decodeBody(frame, dv, header, count, mflags[0]);
  return body === "length" ? "length" : { header, body };
}

function decodeBody(
  frame: Uint8Array,
  dv: DataView,
  header: BusHeader,
  count: number,
  mflags0: number,
): BusBody | "length" {
  const at = HEADER_LEN;
  const len = frame.length;
  switch (header.type) {
    case MsgType.PING:
    case MsgType.PONG:
    case MsgType.MEET: {
      let explen = HEADER_LEN + count * GOSSIP_LEN;
      if (explen > len) return "length";
      const gossip: GossipEntry[] = [];
      for (let i = 0, p = at; i < count; i++, p += GOSSIP_LEN) {
        gossip.push({
          name: latin1.decode(frame.subarray(p, p + NAMELEN)),
          pingSent: dv.getUint32(p + 40),
          pongReceived: dv.getUint32(p + 44),
          ip: readCString(frame, p + 48, IP_LEN),
          port: dv.getUint16(p + 94),
          cport: dv.getUint16(p + 96),
          flags: dv.getUint16(p + 98),
          pport: dv.getUint16(p + 100),
        });
      }
      let hostname: string | null = null;
      const other: RawExtension[] = [];
      if (mflags0 & MsgFlag0.EXT_DATA) {
        let n = dv.getUint16(O.extensions);
        while (n-- > 0) {
          if (explen + 8 > len) return "length";
          const extlen = dv.getUint32(explen);
          // A zero length would never advance; Redis would loop on it, we refuse it.
          if (extlen % 8 !== 0 || extlen < 8 || len - explen < extlen) return "length";
          const type = dv.getUint16(explen + 4);
          const data = copy(frame, explen + 8, explen + extlen);
          if (type === ExtType.HOSTNAME) hostname = readCString(data, 0, data.length);
          else other.push({ type, data });
          explen += extlen;
        }
      }
      if (explen !== len) return "length";
      return other.length > 0
        ? { kind: "ping", gossip, hostname, other }
        : { kind: "ping", gossip, hostname };
    }
    case MsgType.FAIL:
      if (len !== HEADER_LEN + NAMELEN) return "length";
      return { kind: "fail", node: latin1.decode(frame.subarray(at, at + NAMELEN)) };
    case MsgType.PUBLISH:
    case MsgType.PUBLISHSHARD: {
      if (len < HEADER_LEN + 8) return "length";
      const clen = dv.getUint32(at);
      const mlen = dv.getUint32(at + 4);
      if (len !== HEADER_LEN + 8 + clen + mlen) return "length";
      return {
        kind: "publish",
        channel: copy(frame, at + 8, at + 8 + clen),
        message: copy(frame, at + 8 + clen, at + 8 + clen + mlen),
      };
    }
    case MsgType.FAILOVER_AUTH_REQUEST:
    case MsgType.FAILOVER_AUTH_ACK:
    case MsgType.MFSTART:
      return len === HEADER_LEN ? { kind: "empty" } : "length";
    case MsgType.UPDATE:
      if (len !== HEADER_LEN + 8 + NAMELEN + SLOT_BYTES) return "length";
      return {
        kind: "update",
        configEpoch: Number(dv.getBigUint64(at)),
        node: latin1.decode(frame.subarray(at + 8, at + 8 + NAMELEN)),
        slots: copy(frame, at + 8 + NAMELEN, at + 8 + NAMELEN + SLOT_BYTES),
      };
    case MsgType.MODULE: {
      if (len < HEADER_LEN + 13) return "length";
      const plen = dv.getUint32(at + 8);
      if (len !== HEADER_LEN + 13 + plen) return "length";
      return {
        kind: "module",
        moduleId: copy(frame, at, at + 8),
        moduleType: frame[at + 12]!,
        payload: copy(frame, at + 13, at + 13 + plen),
      };
    }
    default:
      return { kind: "empty" };
  }
}
