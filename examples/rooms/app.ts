/**
 * One app instance of the rooms demo: `Deno.serve` with the page and a WebSocket per visitor,
 * all state in redeno. A visitor joins with `GROUP.JOIN … WITHTOKEN WAIT 0` on a connection of
 * its own (the join blocks while the room is full), sees its place from `GROUP.POS`, and every
 * instance learns who came and went from the `__group__:*` notifications.
 *
 * Run one: `deno run -A examples/rooms/app.ts --port 8001 --redis 6390`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { PAGE } from "./page.ts";

/** The rooms the launcher creates, with their capacities. */
export const ROOMS: Record<string, number> = { "room:1": 2, "room:2": 3, "room:3": 5 };

const TTL_MS = 10_000; // a seat whose instance stops heartbeating frees itself
const HEARTBEAT_MS = 3_000;
// Waiting in line (and a waiter ahead giving up) sends no notification: poll for those.
const POLL_MS = 500;

interface Visitor {
  ws: WebSocket;
  name: string;
  state: "idle" | "waiting" | "in";
  room?: string;
  token?: string;
  waitConn?: Redis; // the blocked GROUP.JOIN … WAIT; closing it leaves the line
}

interface RoomState {
  name: string;
  capacity: number;
  members: string[];
  waiters: number;
}

/** A running instance. */
export interface App {
  port: number;
  close(): Promise<void>;
}

/** Starts an app instance on `port` (0: any free one) against redeno on `redisPort`. */
export function startApp(opts: { port: number; redisPort: number; hostname?: string }): App {
  const hostname = opts.hostname ?? "127.0.0.1";
  const connect = () => new Redis({ port: opts.redisPort, host: hostname });
  const db = connect();
  const sub = connect();
  const visitors = new Set<Visitor>();

  const send = (v: Visitor, msg: unknown) => {
    if (v.ws.readyState === WebSocket.OPEN) v.ws.send(JSON.stringify(msg));
  };
  const status = (v: Visitor, extra: Record<string, unknown> = {}) =>
    send(v, { type: "status", state: v.state, room: v.room, ...extra });

  async function roomState(name: string): Promise<RoomState> {
    const flat = (await db.call("GROUP.INFO", name)) as unknown[];
    const info = new Map<string, unknown>();
    for (let i = 0; i + 1 < flat.length; i += 2) info.set(String(flat[i]), flat[i + 1]);
    const members = (info.get("members") as string[]).filter((_, i) => i % 2 === 0).sort();
    return {
      name,
      capacity: Number(info.get("capacity")),
      members,
      waiters: Number(info.get("waiters")),
    };
  }

  const last = new Map<string, string>(); // each room as last sent, for the periodic refresh
  async function broadcastRoom(name: string, event?: string) {
    const room = await roomState(name);
    const json = JSON.stringify(room);
    if (!event && last.get(name) === json) return;
    last.set(name, json);
    for (const v of visitors) send(v, { type: "room", room, event });
  }

  async function updatePositions(room?: string) {
    for (const v of visitors) {
      if (v.state !== "waiting" || (room && v.room !== room)) continue;
      const pos = await db.call("GROUP.POS", v.room!, v.name);
      if (v.state === "waiting") status(v, { pos });
    }
  }

  async function join(v: Visitor, room: string) {
    if (v.state !== "idle" || !(room in ROOMS)) return;
    const conn = connect();
    Object.assign(v, { state: "waiting", room, waitConn: conn });
    status(v, { pos: null });
    try {
      const reply = await conn.call(
        "GROUP.JOIN",
        room,
        v.name,
        "TTL",
        TTL_MS,
        "WITHTOKEN",
        "WAIT",
        0,
      );
      if (v.waitConn !== conn) return; // gave up meanwhile (leave() frees the seat)
      Object.assign(v, { state: "in", token: String((reply as [number, number])[1]) });
      status(v);
    } catch (e) {
      if (v.waitConn !== conn) return;
      Object.assign(v, { state: "idle", room: undefined });
      status(v, { error: String(e) });
    } finally {
      if (v.waitConn === conn) v.waitConn = undefined;
      conn.disconnect();
    }
  }

  async function leave(v: Visitor) {
    const { room, token, waitConn } = v;
    Object.assign(v, { state: "idle", room: undefined, token: undefined, waitConn: undefined });
    waitConn?.disconnect(); // out of the line
    if (room) {
      // With the token: a seat this visitor lost (its lease passed) is someone else's now.
      const args = token ? ["TOKEN", token] : [];
      await db.call("GROUP.LEAVE", room, v.name, ...args).catch(() => {});
    }
    status(v);
  }

  async function heartbeat() {
    for (const v of visitors) {
      if (v.state !== "in") continue;
      try {
        await db.call("GROUP.JOIN", v.room!, v.name, "TTL", TTL_MS, "TOKEN", v.token!);
      } catch (e) {
        Object.assign(v, { state: "idle", room: undefined, token: undefined });
        status(v, { error: `Lost the seat: ${e}` });
      }
    }
  }

  sub.on("pmessage", (_pattern: string, channel: string, message: string) => {
    const room = channel.slice("__group__:".length);
    const [event, member] = message.split(" ");
    for (const v of visitors) { // out by a kick or a lease that passed: say so at once
      if ((event === "kick" || event === "expire") && v.state === "in" && v.room === room) {
        if (v.name !== member) continue;
        Object.assign(v, { state: "idle", room: undefined, token: undefined });
        status(v, { error: `Out of ${room}: ${event}` });
      }
    }
    broadcastRoom(room, `${room}: ${message}`).then(() => updatePositions(room)).catch(() => {});
  });
  sub.psubscribe("__group__:*").catch(() => {}); // ioredis subscribes again on reconnect
  const timers = [
    setInterval(() => heartbeat().catch(() => {}), HEARTBEAT_MS),
    setInterval(() => {
      updatePositions().catch(() => {});
      for (const room of Object.keys(ROOMS)) broadcastRoom(room).catch(() => {});
    }, POLL_MS),
  ];

  const server = Deno.serve({ port: opts.port, hostname, onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/ws") {
      const { socket, response } = Deno.upgradeWebSocket(req);
      const name = (url.searchParams.get("name") ?? "").replace(/[^\w-]/g, "").slice(0, 24);
      const v: Visitor = { ws: socket, name: name || "guest", state: "idle" };
      socket.onopen = () => {
        visitors.add(v);
        status(v);
        for (const name of Object.keys(ROOMS)) {
          roomState(name).then((room) => send(v, { type: "room", room }), () => {});
        }
      };
      socket.onmessage = (e) => {
        let msg: { type?: string; room?: string } = {};
        try {
          msg = JSON.parse(String(e.data));
        } catch { // not ours: ignored
        }
        if (msg.type === "join") join(v, String(msg.room));
        if (msg.type === "leave") leave(v);
      };
      socket.onclose = () => {
        visitors.delete(v);
        if (v.state !== "idle") leave(v);
      };
      return response;
    }
    return new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
  });

  return {
    port: server.addr.port,
    async close() {
      timers.forEach(clearInterval);
      for (const v of visitors) await leave(v);
      for (const v of visitors) v.ws.close();
      await server.shutdown();
      sub.disconnect();
      db.disconnect();
    },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      port: { type: "string", default: "8001" },
      redis: { type: "string", default: "6390" },
    },
  });
  const app = startApp({ port: Number(values.port), redisPort: Number(values.redis) });
  // The launcher reads this line for the port (0 asks for any free one).
  console.log(`rooms app listening on http://127.0.0.1:${app.port}/`);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => app.close().finally(() => Deno.exit(0)));
  }
}
