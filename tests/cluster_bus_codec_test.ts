/**
 * The cluster bus codec: byte layout, stream framing, the checks Redis makes, and a MEET sent to a
 * real redis-server 7.0 whose PONG and PING we decode (and re-encode to the same bytes).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import {
  type BusMessage,
  decodeMessage,
  emptySlots,
  encodeMessage,
  GOSSIP_LEN,
  HEADER_LEN,
  MsgFlag0,
  MsgType,
  NodeFlag,
  setSlotBit,
  slotBit,
} from "../cluster/bus/codec.ts";
import { BadFrameError, FrameReader } from "../cluster/bus/frames.ts";
import { client, freePort, stockRedis, waitFor } from "./replication_helpers.ts";
import { missing } from "./redis_tools.ts";

const ME = "a".repeat(36) + "1234";
const OTHER = "b".repeat(40);

function ping(type: number, extra: Partial<BusMessage["header"]> = {}): BusMessage {
  const slots = emptySlots();
  setSlotBit(slots, 0, true);
  setSlotBit(slots, 16383, true);
  return {
    header: {
      type,
      currentEpoch: 7,
      configEpoch: 3,
      offset: 12345,
      sender: ME,
      myslots: slots,
      slaveof: null,
      myip: "",
      port: 7000,
      pport: 0,
      cport: 17000,
      flags: NodeFlag.MASTER | NodeFlag.MYSELF,
      state: 0,
      mflags: [0, 0, 0],
      ...extra,
    },
    body: {
      kind: "ping",
      gossip: [{
        name: OTHER,
        pingSent: 1,
        pongReceived: 2,
        ip: "127.0.0.1",
        port: 7001,
        cport: 17001,
        flags: NodeFlag.MASTER,
        pport: 0,
      }],
      hostname: "host-a",
    },
  };
}

test("a PING with gossip and a hostname has Redis's layout and decodes back", () => {
  const bytes = encodeMessage(ping(MsgType.PING));
  // header + one gossip entry + hostname extension (8 + "host-a\0" padded to 8)
  assert.equal(bytes.length, HEADER_LEN + GOSSIP_LEN + 16);
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 4)), "RCmb");
  const dv = new DataView(bytes.buffer);
  assert.equal(dv.getUint32(4), bytes.length);
  assert.equal(dv.getUint16(8), 1);
  assert.equal(dv.getUint16(10), 7000);
  assert.equal(dv.getUint16(14), 1); // count
  assert.equal(dv.getBigUint64(16), 7n);
  assert.equal(dv.getBigUint64(32), 12345n);
  assert.equal(bytes[80], 1); // slot 0
  assert.equal(bytes[80 + 2047], 0x80); // slot 16383
  assert.equal(dv.getUint16(2214), 1); // extensions
  assert.equal(dv.getUint16(2248), 17000);
  assert.equal(dv.getUint16(2250), 17);
  assert.equal(bytes[2253], MsgFlag0.EXT_DATA);
  assert.equal(dv.getUint16(HEADER_LEN + 94), 7001);
  assert.equal(dv.getUint32(HEADER_LEN + GOSSIP_LEN), 16); // extension length
  const back = decodeMessage(bytes);
  assert.ok(typeof back !== "string");
  assert.equal(back.header.sender, ME);
  assert.equal(back.header.slaveof, null);
  assert.ok(slotBit(back.header.myslots, 16383) && !slotBit(back.header.myslots, 1));
  assert.deepEqual(back.body, ping(MsgType.PING).body);
  assert.deepEqual(encodeMessage(back), bytes);
});

test("FAIL, PUBLISH, UPDATE, MODULE and AUTH messages have the lengths Redis expects", () => {
  const h = ping(MsgType.FAIL).header;
  const cases: [BusMessage, number][] = [
    [{ header: { ...h, type: MsgType.FAIL }, body: { kind: "fail", node: OTHER } }, 2296],
    [{
      header: { ...h, type: MsgType.PUBLISHSHARD },
      body: {
        kind: "publish",
        channel: new TextEncoder().encode("ch"),
        message: new TextEncoder().encode("hello"),
      },
    }, 2256 + 8 + 7],
    [{
      header: { ...h, type: MsgType.UPDATE },
      body: { kind: "update", configEpoch: 9, node: OTHER, slots: emptySlots() },
    }, 4352],
    [{
      header: { ...h, type: MsgType.MODULE },
      body: {
        kind: "module",
        moduleId: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]),
        moduleType: 5,
        payload: new Uint8Array([9, 9]),
      },
    }, 2256 + 13 + 2],
    [{ header: { ...h, type: MsgType.FAILOVER_AUTH_REQUEST }, body: { kind: "empty" } }, 2256],
  ];
  for (const [msg, len] of cases) {
    const bytes = encodeMessage(msg);
    assert.equal(bytes.length, len);
    const back = decodeMessage(bytes);
    assert.ok(typeof back !== "string");
    assert.deepEqual(back.body, msg.body);
    assert.deepEqual(encodeMessage(back), bytes);
  }
});

test("a packet whose length does not match its type, or of another version, is ignored", () => {
  const bytes = encodeMessage(ping(MsgType.PING));
  const dv = new DataView(bytes.buffer);
  dv.setUint16(14, 2); // claims two gossip entries
  assert.equal(decodeMessage(bytes), "length");
  dv.setUint16(14, 1);
  dv.setUint32(HEADER_LEN + GOSSIP_LEN, 12); // extension length not a multiple of 8
  assert.equal(decodeMessage(bytes), "length");
  dv.setUint32(HEADER_LEN + GOSSIP_LEN, 16);
  dv.setUint16(8, 2);
  assert.equal(decodeMessage(bytes), "version");
});

test("frames are cut from a stream split byte by byte or merged in one read", () => {
  const a = encodeMessage(ping(MsgType.PING));
  const b = encodeMessage(ping(MsgType.PONG));
  const stream = new Uint8Array(a.length + b.length);
  stream.set(a);
  stream.set(b, a.length);
  const r1 = new FrameReader();
  const got: Uint8Array[] = [];
  for (let i = 0; i < stream.length; i++) got.push(...r1.push(stream.subarray(i, i + 1)));
  assert.deepEqual(got, [a, b]);
  const r2 = new FrameReader();
  assert.deepEqual(r2.push(stream), [a, b]);
  assert.equal(r2.buffered, 0);
});

test("a bad signature or a length under the header drops the link", () => {
  const bad = encodeMessage(ping(MsgType.PING));
  bad[0] = 0x58;
  assert.throws(() => new FrameReader().push(bad), BadFrameError);
  const short = encodeMessage(ping(MsgType.PING)).subarray(0, 8);
  new DataView(short.buffer).setUint32(4, 2255);
  assert.throws(() => new FrameReader().push(short), BadFrameError);
});

/** Collects decoded messages from a socket. */
function collect(sock: net.Socket, out: BusMessage[], raw: Uint8Array[]): void {
  const reader = new FrameReader();
  sock.on("data", (d: Uint8Array) => {
    for (const f of reader.push(d)) {
      raw.push(f);
      const m = decodeMessage(f);
      if (typeof m !== "string") out.push(m);
    }
  });
  sock.on("error", () => {});
}

test(
  "redis-server 7.0 answers our MEET with a PONG we decode, pings us back and learns our id",
  { skip: missing("redis-server") },
  async () => {
    const cport = await freePort();
    const redis = await stockRedis([
      "--cluster-enabled",
      "yes",
      "--cluster-port",
      String(cport),
      "--cluster-announce-hostname",
      "stock-node",
    ]);
    // Our side: a bus listener the stock node connects to after our MEET.
    let pingsFromRedis = 0;
    const server = net.createServer((s) => {
      const reader = new FrameReader();
      s.on("error", () => {});
      s.on("data", (d: Uint8Array) => {
        // Answer every PING with a PONG carrying our id, as a node does.
        for (const f of reader.push(d)) {
          const m = decodeMessage(f);
          if (typeof m === "string" || m.header.type !== MsgType.PING) continue;
          pingsFromRedis++;
          const pong = ping(MsgType.PONG);
          pong.body = { kind: "ping", gossip: [], hostname: null };
          s.write(encodeMessage(pong));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const ourCport = (server.address() as net.AddressInfo).port;
    const c = client(redis.port);
    const sock = net.connect(cport, "127.0.0.1");
    const inbound: net.Socket[] = [];
    server.on("connection", (s) => inbound.push(s));
    try {
      await new Promise<void>((r, j) => sock.once("connect", () => r()).once("error", j));
      const id = String(await c.call("CLUSTER", "MYID"));
      const replies: BusMessage[] = [];
      const raw: Uint8Array[] = [];
      collect(sock, replies, raw);
      const meet = ping(MsgType.MEET, { cport: ourCport, port: 7000 });
      meet.body = { kind: "ping", gossip: [], hostname: null };
      sock.write(encodeMessage(meet));
      await waitFor(() => replies.length > 0, "a PONG from redis-server");
      const pong = replies[0]!;
      assert.equal(pong.header.type, MsgType.PONG);
      assert.equal(pong.header.sender, id);
      assert.equal(pong.header.port, redis.port);
      assert.equal(pong.header.cport, cport);
      assert.equal(pong.header.flags, NodeFlag.MASTER | NodeFlag.MYSELF);
      assert.equal(pong.header.slaveof, null);
      assert.equal(pong.header.state, 1); // no slots: the cluster is down
      assert.ok(pong.body.kind === "ping");
      assert.equal(pong.body.hostname, "stock-node");
      // Re-encoding what we decoded gives Redis's exact bytes.
      assert.deepEqual(encodeMessage(pong), raw[0]);

      // It adds us in handshake, connects to our bus port, pings; our PONG completes the handshake.
      await waitFor(async () => {
        const nodes = String(await c.call("CLUSTER", "NODES"));
        return nodes.includes(ME);
      }, "redis-server to learn our node id");
      const nodes = String(await c.call("CLUSTER", "NODES"));
      assert.ok(pingsFromRedis > 0);
      const line = nodes.split("\n").find((l) => l.startsWith(ME))!;
      assert.match(line, new RegExp(`^${ME} 127\\.0\\.0\\.1:7000@${ourCport} master `));
    } finally {
      sock.destroy();
      c.disconnect();
      await redis.stop();
      for (const s of inbound) s.destroy();
      await new Promise((r) => server.close(r));
    }
  },
);
