/**
 * One app instance of the rooms demo: `Deno.serve` with the page and a WebSocket per visitor,
 * all state in redeno. A visitor joins with `GROUP.JOIN … WITHTOKEN WAIT 0` on a connection of
 * its own (the join blocks while the room is full), sees its place from `GROUP.POS`, and every
 * instance learns who came and went from the `__group__:*` notifications. A seat may also be
 * reserved from the lobby (`POST /reserve`: `GROUP.RESERVE`) and confirmed when the room page's
 * socket connects (`GROUP.JOIN`), and a party joins all together or not at all
 * (`GROUP.JOINALL`). Each member carries its display name and instance as metadata (`META`),
 * which every page shows (`GROUP.MEMBERS … WITHMETA`).
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
const RESERVE_MS = 15_000; // a reserved seat whose page never connects frees itself
const HEARTBEAT_MS = 3_000;
// Waiting in line (and a waiter ahead giving up) sends no notification: poll for those.
const POLL_MS = 500;

interface Visitor {
  ws: WebSocket;
  name: string;
  display: string;
  /** `waiting` also while a reservation or a party's join is being confirmed. */
  state: "idle" | "waiting" | "in";
  room?: string;
  token?: string;
  waitConn?: Redis; // the blocked GROUP.JOIN … WAIT; closing it leaves the line
}

/** A name as the app accepts it: word characters and dashes, at most 24. */
const clean = (name: string) => name.replace(/[^\w-]/g, "").slice(0, 24);

interface RoomState {
  name: string;
  capacity: number;
  members: string[];
  /** Per member, as its metadata says: `display name @ instance`. */
  presence: string[];
  waiters: number;
  reserved: number;
}

/** A running instance. */
export interface App {
  port: number;
  close(): Promise<void>;
}

/**
 * Starts an app instance on `port` (0: any free one) against redeno on `redisPort`; a seat
 * reserved from the lobby is held `reserveMs` (default 15 s) for its page to connect.
 */
export function startApp(
  opts: { port: number; redisPort: number; hostname?: string; reserveMs?: number },
): App {
  const hostname = opts.hostname ?? "127.0.0.1";
  const reserveMs = opts.reserveMs ?? RESERVE_MS;
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
    const replies = await db.pipeline().call("GROUP.INFO", name).call(
      "GROUP.MEMBERS",
      name,
      "WITHMETA",
    ).exec();
    const [flat, withMeta] = replies!.map(([e, r]) => {
      if (e) throw e;
      return r as unknown[];
    });
    const info = new Map<string, unknown>();
    for (let i = 0; i + 1 < flat!.length; i += 2) info.set(String(flat![i]), flat![i + 1]);
    const meta = new Map<string, Map<string, string>>();
    for (let i = 0; i + 1 < withMeta!.length; i += 2) {
      const fields = withMeta![i + 1] as string[];
      const m = new Map<string, string>();
      for (let j = 0; j + 1 < fields.length; j += 2) m.set(fields[j]!, fields[j + 1]!);
      meta.set(String(withMeta![i]), m);
    }
    const members = [...meta.keys()].sort();
    return {
      name,
      capacity: Number(info.get("capacity")),
      members,
      presence: members.map((m) => {
        const d = meta.get(m)!;
        return `${d.get("display") ?? m} @ ${d.get("instance") ?? "?"}`;
      }),
      waiters: Number(info.get("waiters")),
      reserved: (info.get("reservations") as unknown[]).length / 2,
    };
  }

  /** The presence data a member's seat carries: its display name and this instance. */
  const meta = (v: Visitor) => ["META", "display", v.display, "instance", self];
  let self = ""; // host:port of this instance, once it listens

  /**
   * Seats `v` in `room` it already holds (a confirmed reservation, a party's seat) under a
   * lease, with a fencing token and its metadata: no line, no wait.
   */
  async function take(v: Visitor, room: string) {
    Object.assign(v, { state: "waiting", room });
    status(v, { pos: null });
    try {
      const reply = await db.call(
        "GROUP.JOIN",
        room,
        v.name,
        "TTL",
        TTL_MS,
        "WITHTOKEN",
        ...meta(v),
      ) as [number, number];
      if (v.room !== room) return;
      Object.assign(v, { state: "in", token: String(reply[1]) });
      status(v);
    } catch (e) {
      if (v.room !== room) return;
      Object.assign(v, { state: "idle", room: undefined });
      status(v, { error: String(e) });
    }
  }

  /** A party: `v` and the visitors it names, in `room` all together (GROUP.JOINALL) or none. */
  async function party(v: Visitor, room: string, others: string[]) {
    if (v.state !== "idle" || !(room in ROOMS)) return;
    const names = others.map(clean).filter((n) => n && n !== v.name);
    try {
      Object.assign(v, { state: "waiting", room });
      await db.call("GROUP.JOINALL", room, v.name, ...names);
    } catch (e) {
      Object.assign(v, { state: "idle", room: undefined });
      return status(v, { error: `The party cannot join: ${e}` });
    }
    // The others' instances see their `join` notifications and take their seats.
    await take(v, room);
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
        ...meta(v),
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
    for (const v of visitors) { // brought in by someone's party: take the seat here
      if (event === "join" && v.state === "idle" && v.name === member) take(v, room);
    }
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
    const param = (p: string) => url.searchParams.get(p) ?? "";
    if (url.pathname === "/reserve" && req.method === "POST") {
      // The lobby holds a seat; the room page confirms it when its socket connects.
      const room = param("room");
      if (!(room in ROOMS)) return Response.json({ error: "no such room" }, { status: 404 });
      return db.call("GROUP.RESERVE", room, clean(param("name")) || "guest", "TTL", reserveMs)
        .then(
          (taken) => Response.json({ taken }),
          (e) => Response.json({ error: String(e.message ?? e) }, { status: 409 }),
        );
    }
    if (url.pathname === "/ws") {
      const { socket, response } = Deno.upgradeWebSocket(req);
      const name = clean(param("name"));
      const display = param("display").replace(/[^\w .-]/g, "").slice(0, 32);
      const v: Visitor = { ws: socket, name: name || "guest", display, state: "idle" };
      v.display ||= v.name;
      socket.onopen = () => {
        visitors.add(v);
        status(v);
        // A room page after a reservation: connecting confirms the seat.
        if (param("room") in ROOMS) take(v, param("room"));
        for (const name of Object.keys(ROOMS)) {
          roomState(name).then((room) => send(v, { type: "room", room }), () => {});
        }
      };
      socket.onmessage = (e) => {
        let msg: { type?: string; room?: string; with?: unknown } = {};
        try {
          msg = JSON.parse(String(e.data));
        } catch { // not ours: ignored
        }
        if (msg.type === "join") join(v, String(msg.room));
        if (msg.type === "leave") leave(v);
        if (msg.type === "party" && Array.isArray(msg.with)) {
          party(v, String(msg.room), msg.with.map(String));
        }
      };
      socket.onclose = () => {
        visitors.delete(v);
        if (v.state !== "idle") leave(v);
      };
      return response;
    }
    return new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
  });

  self = `${hostname}:${server.addr.port}`;
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
      "reserve-ms": { type: "string", default: String(RESERVE_MS) },
    },
  });
  const app = startApp({
    port: Number(values.port),
    redisPort: Number(values.redis),
    reserveMs: Number(values["reserve-ms"]),
  });
  // The launcher reads this line for the port (0 asks for any free one).
  console.log(`rooms app listening on http://127.0.0.1:${app.port}/`);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => app.close().finally(() => Deno.exit(0)));
  }
}
