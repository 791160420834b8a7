/**
 * The four ways of joining a capacity-limited group that bench/groups.ts compares, each as the
 * join of one client connection, plus setting the groups up and auditing them afterwards.
 *
 * The stock flows keep the app's own layout, a hash `g:<id>` (`open`, `capacity`, `size`) and a
 * set `g:<id>:members`, and admit with the same checks, in the same order, as GROUP.JOIN (already
 * in, open, not full). Reads are pipelined wherever the app could, so each stock flow makes the
 * fewest round trips it can.
 *
 * @module
 */

import type { Redis } from "ioredis";
import Redlock from "redlock";

/** The flows, in the order they run. */
export const FLOWS = ["watch", "lua", "redlock", "group"] as const;

/** One of {@link FLOWS}. */
export type FlowName = typeof FLOWS[number];

/**
 * Connections one client (app instance) opens for `flow` to have `concurrency` joins in flight.
 * WATCH is state of the connection (the next EXEC of that connection checks it), so concurrent
 * WATCH/MULTI transactions cannot share one: the app keeps a pool with one connection per join in
 * flight. Every other flow pipelines its joins on the one connection ioredis gives it.
 *
 * @param flow the flow
 * @param concurrency joins in flight per client
 * @returns the size of each client's connection pool
 * @example
 * ```ts
 * import { connectionsPerClient } from "./groups_flows.ts";
 * console.log(connectionsPerClient("watch", 10), connectionsPerClient("group", 10)); // 10 1
 * ```
 */
export function connectionsPerClient(flow: FlowName, concurrency: number): number {
  return flow === "watch" ? concurrency : 1;
}

/** One join attempt: `member` wants a seat in group number `group`. */
export interface Attempt {
  group: number;
  member: string;
}

/**
 * Orders of the attempt list: `random` shuffles the attempts over all groups; `rush` fills the
 * groups one after another, each group's would-be members arriving together.
 */
export const ORDERS = ["random", "rush"] as const;

/** One of {@link ORDERS}. */
export type Order = typeof ORDERS[number];

/** mulberry32: a small seeded PRNG, so every flow plays the same shuffled list. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The attempt list every flow plays, in the same order: `members` distinct users (`user:<n>`)
 * for each of `groups` groups, shuffled by `seed` and arranged in `order`.
 *
 * @param o the number of groups and would-be members per group, the seed and the order
 * @returns the attempts
 * @example
 * ```ts
 * import { attemptList } from "./groups_flows.ts";
 * const list = attemptList({ groups: 2, members: 3, seed: 1, order: "rush" });
 * console.log(list.length, list[0]!.group === list[2]!.group); // 6 true
 * ```
 */
export function attemptList(
  o: { groups: number; members: number; seed: number; order: Order },
): Attempt[] {
  const random = prng(o.seed);
  const shuffle = <T>(list: T[]): T[] => {
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [list[i], list[j]] = [list[j]!, list[i]!];
    }
    return list;
  };
  const byGroup = shuffle([...Array(o.groups).keys()]).map((group) =>
    shuffle([...Array(o.members).keys()].map((m) => ({ group, member: `user:${m}` })))
  );
  return o.order === "rush" ? byGroup.flat() : shuffle(byGroup.flat());
}

/** How an attempt ended: `member` is a re-join, `failed` an unexpected error. */
export type Outcome = "admitted" | "member" | "full" | "closed" | "failed";

/** What the clients of one run did, over all of them. */
export interface Counters {
  roundTrips: number;
  /** Commands sent, counted at each client's `sendCommand`. */
  commands: number;
  retries: number;
  tally: Record<Outcome, number>;
  /**
   * Checked runs only: FULL refusals decided while the group had a seat free that no one ahead
   * in line was owed, by a count of the members read in the same atomic step as the decision.
   */
  falseFulls: number;
  /** The first unexpected error, if any. */
  error?: string;
}

/**
 * Zeroed counters.
 *
 * @returns counters with nothing counted
 * @example
 * ```ts
 * import { newCounters } from "./groups_flows.ts";
 * console.log(newCounters().tally.admitted); // 0
 * ```
 */
export function newCounters(): Counters {
  const tally = { admitted: 0, member: 0, full: 0, closed: 0, failed: 0 };
  return { roundTrips: 0, commands: 0, retries: 0, tally, falseFulls: 0 };
}

/** Redlock's retry settings (lock TTL aside). */
export interface RedlockSettings {
  retryCount: number;
  retryDelay: number;
  retryJitter: number;
}

/** A lock outlives any join by far: an expired lock would show as overbooking, not as speed. */
const LOCK_TTL_MS = 5000;

const key = (group: number): string => `g:${group}`;

/** A group as the stock flows read it. */
interface State {
  exists: boolean;
  open: boolean;
  capacity: number;
  size: number;
  member: boolean;
  /** Checked runs: the member set's cardinality, read with the rest. */
  count?: number;
}

/** The group as one pipeline reads it; `check`: with the member set's cardinality too. */
async function readState(c: Redis, g: string, member: string, check = false): Promise<State> {
  const batch = c.pipeline().hmget(g, "open", "capacity", "size").sismember(
    `${g}:members`,
    member,
  );
  if (check) batch.scard(`${g}:members`);
  const replies = await batch.exec();
  const failed = replies?.find(([e]) => e !== null);
  if (replies === null || failed !== undefined) throw failed?.[0] ?? new Error("pipeline failed");
  const [open, capacity, size] = replies[0]![1] as Array<string | null>;
  return {
    exists: open !== null,
    open: open === "1",
    capacity: Number(capacity),
    size: Number(size),
    member: replies[1]![1] === 1,
    count: check ? replies[2]![1] as number : undefined,
  };
}

/** Checked runs: a FULL refusal while the member set had fewer members than seats is false. */
function checkRefusal(n: Counters, s: State, outcome: Outcome | undefined): void {
  if (outcome === "full" && s.count !== undefined && s.count < s.capacity) n.falseFulls++;
}

/**
 * GROUP.INFO's reply (RESP2: flat pairs) as the seats a newcomer could take: capacity less
 * members and reservations, less the waiters who are owed free seats first.
 */
function seatsForNewcomer(flat: unknown[]): number {
  const f = new Map<string, unknown>();
  for (let i = 0; i + 1 < flat.length; i += 2) f.set(String(flat[i]), flat[i + 1]);
  const pairs = (k: string) => (f.get(k) as unknown[]).length / 2;
  return Number(f.get("capacity")) - pairs("members") - pairs("reservations") -
    Number(f.get("waiters"));
}

/** The same checks, in the same order, as GROUP.JOIN; undefined when the member may join. */
function refusal(s: State): Outcome | undefined {
  if (!s.exists) return "failed";
  if (s.member) return "member";
  if (!s.open) return "closed";
  return s.size >= s.capacity ? "full" : undefined;
}

/** An error reply of a script or of GROUP.JOIN as an outcome; anything else is rethrown. */
function refusedBy(e: unknown): Outcome {
  const text = (e as Error).message ?? "";
  if (text.startsWith("FULL ")) return "full";
  if (text.startsWith("CLOSED ")) return "closed";
  throw e;
}

const JOIN_LUA = `
local st = redis.call("HMGET", KEYS[1], "open", "capacity", "size")
if not st[1] then return redis.error_reply("NOGROUP no such group") end
if redis.call("SISMEMBER", KEYS[2], ARGV[1]) == 1 then return tonumber(st[3]) end
if st[1] ~= "1" then return redis.error_reply("CLOSED group is closed") end
if tonumber(st[3]) >= tonumber(st[2]) then return redis.error_reply("FULL group is full") end
redis.call("SADD", KEYS[2], ARGV[1])
return redis.call("HINCRBY", KEYS[1], "size", 1)`;

/** The join of one client connection; several may be in flight at once, except for `watch`. */
export type Join = (a: Attempt) => Promise<Outcome>;

type JoinFactory = (c: Redis, n: Counters, redlock: RedlockSettings, check: boolean) => Join;

/** By flow, the join of one client connection, counting its round trips and retries. */
const JOINS: Record<FlowName, JoinFactory> = {
  watch: (c, n, _redlock, check) => async ({ group, member }) => {
    const g = key(group);
    for (;;) {
      await c.watch(g, `${g}:members`);
      const state = await readState(c, g, member);
      n.roundTrips += 2;
      const refused = refusal(state);
      if (refused !== undefined && check) {
        // Instead of UNWATCH: a count in a MULTI, which EXEC answers only when nothing changed
        // since WATCH, so it is the count the refusal was read from; a change: the attempt again.
        const done = await c.multi().scard(`${g}:members`).exec();
        n.roundTrips++;
        if (done === null) {
          n.retries++;
          continue;
        }
        checkRefusal(n, { ...state, count: done[0]![1] as number }, refused);
        return refused;
      }
      if (refused !== undefined) {
        await c.unwatch();
        n.roundTrips++;
        return refused;
      }
      const done = await c.multi().sadd(`${g}:members`, member).hincrby(g, "size", 1).exec();
      n.roundTrips++;
      if (done !== null) return "admitted";
      n.retries++;
    }
  },
  // An integer reply counts as an admission for the script and GROUP.JOIN: the attempt lists
  // hold no re-joins, and the audit compares admissions with the members stored.
  lua: (c, n, _redlock, check) => {
    c.defineCommand("groupJoin", { numberOfKeys: 2, lua: JOIN_LUA });
    const script = c as unknown as {
      groupJoin(g: string, m: string, member: string): Promise<number>;
    };
    return async ({ group, member }) => {
      n.roundTrips++;
      if (check) {
        // The script and a count of the members in one MULTI: the count is the one it decided on.
        const m = c.multi() as unknown as {
          groupJoin(g: string, m: string, member: string): unknown;
          scard(k: string): unknown;
          hget(k: string, f: string): unknown;
          exec(): Promise<Array<[Error | null, unknown]> | null>;
        };
        m.groupJoin(key(group), `${key(group)}:members`, member);
        m.scard(`${key(group)}:members`);
        m.hget(key(group), "capacity");
        const replies = (await m.exec()) as Array<[Error | null, unknown]>;
        const [e, count, capacity] = [replies[0]![0], replies[1]![1], replies[2]![1]];
        if (e === null) return "admitted";
        const outcome = refusedBy(e);
        if (outcome === "full" && Number(count) < Number(capacity)) n.falseFulls++;
        return outcome;
      }
      try {
        await script.groupJoin(key(group), `${key(group)}:members`, member);
        return "admitted";
      } catch (e) {
        return refusedBy(e);
      }
    };
  },
  redlock: (c, n, settings, check) => {
    const redlock = new Redlock([c], settings);
    return async ({ group, member }) => {
      const g = key(group);
      const lock = await redlock.acquire([`lock:${g}`], LOCK_TTL_MS);
      n.roundTrips += lock.attempts.length + 2;
      n.retries += lock.attempts.length - 1;
      try {
        // Under the lock no other join writes: the count is the one the refusal saw.
        const state = await readState(c, g, member, check);
        const refused = refusal(state);
        checkRefusal(n, state, refused);
        if (refused !== undefined) return refused;
        const done = await c.pipeline().sadd(`${g}:members`, member).hincrby(g, "size", 1).exec();
        n.roundTrips++;
        const failed = done?.find(([e]) => e !== null);
        if (failed !== undefined) throw failed[0];
        return "admitted";
      } finally {
        // A lock that expired under us cannot be released; the audit shows what that cost.
        await redlock.release(lock, { retryCount: 0 }).catch(() => {});
      }
    };
  },
  group: (c, n, _redlock, check) => async ({ group, member }) => {
    n.roundTrips++;
    if (check) {
      // GROUP.JOIN and GROUP.INFO in one MULTI: INFO shows the group the refusal was decided on.
      const replies = await c.multi().call("GROUP.JOIN", key(group), member).call(
        "GROUP.INFO",
        key(group),
      ).exec();
      const [e, info] = [replies![0]![0], replies![1]![1]];
      if (e === null) return "admitted";
      const outcome = refusedBy(e);
      if (outcome === "full" && seatsForNewcomer(info as unknown[]) > 0) n.falseFulls++;
      return outcome;
    }
    try {
      await c.call("GROUP.JOIN", key(group), member);
      return "admitted";
    } catch (e) {
      return refusedBy(e);
    }
  },
};

/**
 * The join of one client connection for `flow`: from now on the client's commands, round trips
 * and retries are added to `options.counters`. With `options.check` every decision also reads
 * the group's member count in the same atomic step (a MULTI, or under the flow's lock) and
 * counts false FULLs: a checking run, slower, not a measured one.
 *
 * @param flow the flow
 * @param options the client, the counters and Redlock's settings
 * @returns the join
 * @example
 * ```ts ignore
 * const join = joinFor("group", { client, counters: newCounters(), redlock });
 * console.log(await join({ group: 0, member: "alice" })); // "admitted"
 * ```
 */
export function joinFor(
  flow: FlowName,
  options: { client: Redis; counters: Counters; redlock: RedlockSettings; check?: boolean },
): Join {
  const { client, counters } = options;
  const send = client.sendCommand.bind(client);
  client.sendCommand = (...args) => {
    counters.commands++;
    return send(...args);
  };
  return JOINS[flow](client, counters, options.redlock, options.check ?? false);
}

/**
 * Empties the server and creates `groups` open groups of `capacity` seats in the flow's layout.
 *
 * @param c a client
 * @param flow the flow (GROUP.CREATE for `group`, else the stock hash)
 * @param size the number of groups and their capacity
 * @example
 * ```ts ignore
 * await createGroups(client, "watch", { groups: 1000, capacity: 10 });
 * ```
 */
export async function createGroups(
  c: Redis,
  flow: FlowName,
  size: { groups: number; capacity: number },
): Promise<void> {
  const { groups, capacity } = size;
  await c.flushall();
  for (let from = 0; from < groups; from += 1000) {
    const p = c.pipeline();
    for (let g = from; g < Math.min(groups, from + 1000); g++) {
      if (flow === "group") p.call("GROUP.CREATE", key(g), String(capacity));
      else p.hset(key(g), "open", "1", "capacity", String(capacity), "size", "0");
    }
    const failed = (await p.exec())?.find(([e]) => e !== null);
    if (failed !== undefined) throw failed[0];
  }
}

/** What the keys say after a run. */
export interface Audit {
  members: number;
  overbooked: number;
  excessSeats: number;
  /** Stock layout: `size` differs from the member set's cardinality. */
  inconsistent: number;
  /** Groups with fewer members than min(capacity, would-be members). */
  underbooked: number;
}

/**
 * Reads every group back from its keys: members, overbooking, a `size` field that disagrees
 * with the member set, groups left short of seats they should have filled.
 *
 * @param c a client
 * @param flow the flow whose layout the groups have
 * @param o the number of groups, their capacity and their would-be members
 * @returns the audit
 * @example
 * ```ts ignore
 * const a = await audit(client, "redlock", { groups: 1000, capacity: 10, members: 30 });
 * console.log(a.overbooked); // 0
 * ```
 */
export async function audit(
  c: Redis,
  flow: FlowName,
  o: { groups: number; capacity: number; members: number },
): Promise<Audit> {
  const a: Audit = { members: 0, overbooked: 0, excessSeats: 0, inconsistent: 0, underbooked: 0 };
  const expected = Math.min(o.capacity, o.members);
  for (let from = 0; from < o.groups; from += 1000) {
    const p = c.pipeline();
    const upTo = Math.min(o.groups, from + 1000);
    for (let g = from; g < upTo; g++) {
      if (flow === "group") p.hgetall(key(g));
      else p.hget(key(g), "size").scard(`${key(g)}:members`);
    }
    const replies = (await p.exec())!.map(([e, r]) => {
      if (e !== null) throw e;
      return r;
    });
    for (let i = 0; i < upTo - from; i++) {
      let members: number;
      if (flow === "group") {
        const fields = Object.keys(replies[i] as Record<string, string>);
        members = fields.filter((f) => f.startsWith("m:")).length;
      } else {
        members = replies[2 * i + 1] as number;
        if (Number(replies[2 * i]) !== members) a.inconsistent++;
      }
      a.members += members;
      if (members > o.capacity) {
        a.overbooked++;
        a.excessSeats += members - o.capacity;
      }
      if (members < expected) a.underbooked++;
    }
  }
  return a;
}
