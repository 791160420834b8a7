/**
 * CLIENT TRACKING at the wire: the same scripted sessions (several raw connections, RESP3 pushes
 * and RESP2 REDIRECT to a `__redis__:invalidate` subscriber) against redeno and against
 * redis-server 7.0.15, byte for byte; and the paths only redeno's tests drive (expiry, eviction,
 * tracking-table-max-keys, writes from a master, the cost of an untracked server).
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { RawConn, startServer } from "./helpers.ts";
import {
  client,
  field,
  HOST,
  infoText,
  redeno,
  stockRedis,
  waitFor,
} from "./replication_helpers.ts";
import { missing } from "./redis_tools.ts";

/** One step: a command on connection `on`, or a pause, or closing a connection. */
type Step = { on: number; cmd: string[] } | { sleep: number } | { close: number };

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `c` has received a reply ending with `tail` and returns everything received. */
async function drainUntil(c: RawConn, tail: string): Promise<string> {
  for (let i = 0; i < 500 && !c.pending.endsWith(tail); i++) await pause(5);
  assert.ok(c.pending.endsWith(tail), `no ${JSON.stringify(tail)} in ${JSON.stringify(c.pending)}`);
  return await c.read(c.pending.length);
}

/**
 * Runs `steps` on `n` fresh connections to `port` and returns what each connection received,
 * with client IDs written as `ID<n>`. After each step every open connection answers a PING
 * marker, so what a step caused (replies, pushes) is in the transcript before the next one.
 */
async function session(port: number, n: number, steps: Step[]): Promise<string[]> {
  const conns: RawConn[] = [];
  const ids: string[] = [];
  const open: boolean[] = [];
  const multi: boolean[] = new Array(n).fill(false);
  for (let i = 0; i < n; i++) {
    const c = await RawConn.connect(port);
    c.command("CLIENT", "ID");
    const id = (await drainUntil(c, "\r\n")).slice(1, -2);
    conns.push(c);
    ids.push(id);
    open.push(true);
  }
  const out = new Array<string>(n).fill("");
  const subst = (argv: string[]) =>
    argv.map((a) => a.replace(/^ID(\d)$/, (_m, k: string) => ids[Number(k)]!));
  let mark = 0;
  for (const step of steps) {
    if ("sleep" in step) {
      await pause(step.sleep);
      continue;
    }
    if ("close" in step) {
      conns[step.close]!.close();
      open[step.close] = false;
      await pause(20);
      continue;
    }
    conns[step.on]!.command(...subst(step.cmd));
    if (step.cmd[0] === "EXEC") multi[step.on] = false;
    // The step's own connection first: once it answered, what the step sent others is out.
    const order = [step.on, ...conns.keys()].filter((i, k) => k === 0 || i !== step.on);
    const owned = step.cmd[0] === "CLIENT" && /^(GETREDIR|TRACKINGINFO)$/i.test(step.cmd[1]!);
    const name = step.cmd[0]!.toUpperCase();
    for (const i of order) {
      if (!open[i]) continue;
      let got: string;
      if (i === step.on && (multi[i] || name === "MULTI")) {
        // Inside MULTI a marker would be queued: the command's own answer ends the step.
        got = await drainUntil(conns[i]!, multi[i] ? "+QUEUED\r\n" : "+OK\r\n");
      } else {
        const m = `m${mark++}`;
        conns[i]!.command("PING", m); // PING: a subscribed RESP2 connection answers it too
        got = await drainUntil(conns[i]!, `${m}\r\n`);
      }
      // Client IDs differ between servers: where a reply carries one, it is named.
      if (owned && i === step.on) {
        for (let k = 0; k < n; k++) got = got.replaceAll(`:${ids[k]}\r\n`, `:ID${k}\r\n`);
      }
      out[i] += got;
    }
    if (name === "MULTI") multi[step.on] = true;
  }
  for (let i = 0; i < n; i++) if (open[i]) conns[i]!.close();
  return out.map((s) => {
    s = s.replace(/\$2\r\nid\r\n:\d+\r\n/g, "$$2\r\nid\r\n:ID\r\n");
    for (let k = 0; k < n; k++) {
      s = s.replaceAll(
        `tracking-redir-broken\r\n:${ids[k]}\r\n`,
        `tracking-redir-broken\r\n:ID${k}\r\n`,
      );
    }
    return s;
  });
}

/**
 * Runs `steps` against redeno and redis-server and compares the transcripts (redeno reporting
 * 7.0.15 as the redis-server does, for HELLO's reply).
 */
async function sameAsRedis(n: number, steps: Step[]): Promise<string[]> {
  const redis = await stockRedis();
  const ours = await startServer({ config: { "reported-redis-version": "7.0.15" } });
  try {
    const theirs = await session(redis.port, n, steps);
    const mine = await session(ours.port, n, steps);
    assert.deepEqual(mine, theirs);
    return mine;
  } finally {
    await ours.close();
    await redis.stop();
  }
}

const on = (i: number, ...cmd: string[]): Step => ({ on: i, cmd });
const skip = missing("redis-server");

test(
  "RESP3 default tracking: reads remembered, writes invalidate after the reply, as redis-server",
  {
    skip,
  },
  async () => {
    const t = await sameAsRedis(2, [
      on(0, "HELLO", "3"),
      on(0, "CLIENT", "TRACKING", "on"),
      on(0, "SET", "a", "1"),
      on(0, "MGET", "a", "b", "c"),
      on(0, "SET", "a", "2"), // own write: the push follows the reply
      on(1, "SET", "b", "1"), // another client's write
      on(1, "INCR", "x"), // never read: no push
      on(0, "HGET", "h", "f"),
      on(0, "MULTI"),
      on(0, "HSET", "h", "f", "v"),
      on(0, "GET", "c"),
      on(0, "EXEC"),
      on(1, "SET", "c", "z"),
      on(0, "GET", "a"),
      on(1, "EVAL", "return redis.call('set', KEYS[1], 'y')", "1", "a"),
      on(0, "GET", "a"),
      on(1, "FLUSHALL"),
      on(0, "GET", "a"),
      on(1, "FLUSHDB"),
      on(0, "CLIENT", "TRACKINGINFO"),
      on(0, "CLIENT", "GETREDIR"),
    ]);
    assert.match(t[0]!, />2\r\n\$10\r\ninvalidate\r\n\*1\r\n\$1\r\nb\r\n/);
    assert.match(t[0]!, />2\r\n\$10\r\ninvalidate\r\n_\r\n/);
  },
);

test("RESP2 REDIRECT: invalidations as __redis__:invalidate messages, as redis-server", {
  skip,
}, async () => {
  const t = await sameAsRedis(3, [
    on(0, "SUBSCRIBE", "__redis__:invalidate"),
    on(1, "CLIENT", "TRACKING", "on", "REDIRECT", "ID0"),
    on(1, "CLIENT", "GETREDIR"),
    on(1, "GET", "k"),
    on(2, "SET", "k", "1"),
    on(1, "GET", "k"),
    on(1, "SET", "k", "2"), // own write, redirected
    on(1, "GET", "k"),
    on(2, "FLUSHALL"),
    on(1, "CLIENT", "TRACKINGINFO"),
    on(1, "CLIENT", "TRACKING", "on", "REDIRECT", "999999"),
    on(1, "CLIENT", "TRACKING", "on", "REDIRECT", "ID0", "REDIRECT", "ID2"),
    on(1, "CLIENT", "TRACKING", "off"),
    on(1, "CLIENT", "GETREDIR"),
  ]);
  assert.ok(t[0]!.includes("__redis__:invalidate\r\n*1\r\n$1\r\nk\r\n"));
});

test("RESP3 REDIRECT and tracking-redir-broken when the redirect connection goes away", {
  skip,
}, async () => {
  const t = await sameAsRedis(3, [
    on(0, "HELLO", "3"),
    on(1, "HELLO", "3"),
    on(1, "CLIENT", "TRACKING", "on", "REDIRECT", "ID0"),
    on(1, "GET", "k"),
    on(2, "SET", "k", "1"),
    on(1, "GET", "k"),
    { close: 0 },
    on(2, "SET", "k", "2"),
    on(1, "CLIENT", "TRACKINGINFO"),
  ]);
  assert.ok(t[1]!.includes("tracking-redir-broken"));
});

test("a flush's null crosses protocols as the tracking client's null, as redis-server", {
  skip,
}, async () => {
  await sameAsRedis(4, [
    on(0, "SUBSCRIBE", "__redis__:invalidate"),
    on(1, "HELLO", "3"),
    on(1, "CLIENT", "TRACKING", "on", "REDIRECT", "ID0"), // RESP3 tracking, RESP2 redirect
    on(2, "HELLO", "3"),
    on(3, "CLIENT", "TRACKING", "on", "REDIRECT", "ID2"), // RESP2 tracking, RESP3 redirect
    on(1, "GET", "a"),
    on(3, "GET", "a"),
    on(3, "FLUSHALL"),
  ]);
});

test("OPTIN, OPTOUT, CLIENT CACHING and NOLOOP, with their errors, as redis-server", {
  skip,
}, async () => {
  await sameAsRedis(2, [
    on(0, "HELLO", "3"),
    on(0, "CLIENT", "CACHING", "yes"),
    on(0, "CLIENT", "TRACKING", "on", "OPTIN"),
    on(0, "CLIENT", "CACHING", "no"),
    on(0, "CLIENT", "CACHING", "maybe"),
    on(0, "GET", "a"), // not tracked: no CACHING yes
    on(1, "SET", "a", "1"),
    on(0, "CLIENT", "CACHING", "yes"),
    on(0, "CLIENT", "TRACKINGINFO"),
    on(0, "GET", "b"),
    on(0, "CLIENT", "TRACKINGINFO"), // caching-yes used up
    on(0, "CLIENT", "CACHING", "yes"),
    on(0, "FOO"), // a refused command uses it up too
    on(0, "CLIENT", "TRACKINGINFO"),
    on(0, "CLIENT", "CACHING", "yes"),
    on(0, "GET"),
    on(0, "CLIENT", "TRACKINGINFO"),
    on(1, "SET", "b", "1"),
    on(0, "CLIENT", "TRACKING", "on", "OPTOUT"),
    on(0, "CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"),
    on(0, "CLIENT", "TRACKING", "off"),
    on(0, "CLIENT", "TRACKING", "on", "OPTOUT", "NOLOOP"),
    on(0, "CLIENT", "CACHING", "no"),
    on(0, "GET", "c"), // not tracked: CACHING no
    on(1, "SET", "c", "1"),
    on(0, "GET", "d"),
    on(0, "SET", "d", "own"), // NOLOOP: no push for its own write
    on(0, "GET", "d"),
    on(1, "SET", "d", "other"),
    on(0, "CLIENT", "TRACKINGINFO"),
    on(0, "CLIENT", "TRACKING", "on", "BCAST"),
    on(0, "CLIENT", "TRACKING", "off"),
    on(0, "CLIENT", "TRACKING", "on", "BCAST", "OPTIN"),
    on(0, "CLIENT", "TRACKING", "on", "PREFIX", "a"),
    on(0, "CLIENT", "TRACKING", "on", "WHAT"),
    on(0, "CLIENT", "TRACKING", "maybe"),
    on(0, "CLIENT", "TRACKING", "on", "NOLOOP"),
    on(0, "RESET"), // tracking off, RESP2 again
    on(0, "CLIENT", "TRACKINGINFO"),
  ]);
});

test("BCAST with prefixes, overlaps and NOLOOP, as redis-server", { skip }, async () => {
  await sameAsRedis(3, [
    on(0, "HELLO", "3"),
    on(0, "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "FOOBAR", "PREFIX", "FOO"),
    on(0, "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a:", "PREFIX", "b:"),
    on(0, "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a"),
    on(0, "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "c:"),
    on(1, "MSET", "a:1", "1", "b:2", "2", "z", "3", "c:9", "4"),
    on(1, "MULTI"),
    on(1, "INCR", "a:2"),
    on(1, "INCR", "a:1"),
    on(1, "EXEC"),
    on(0, "CLIENT", "TRACKINGINFO"),
    on(2, "HELLO", "3"),
    on(2, "CLIENT", "TRACKING", "on", "BCAST", "NOLOOP"),
    on(2, "SET", "mine", "1"), // NOLOOP: not told
    on(1, "SET", "theirs", "1"),
    on(2, "CLIENT", "TRACKINGINFO"),
  ]);
});

test("CLIENT LIST flags and INFO tracking fields, as redis-server", { skip }, async () => {
  const redis = await stockRedis();
  const ours = await startServer();
  try {
    // Two tracking connections, then the figures seen from a third.
    const figures = async (port: number) => {
      const conns = [await RawConn.connect(port), await RawConn.connect(port)];
      const c = await RawConn.connect(port);
      for (const x of conns) x.command("HELLO", "3");
      conns[0]!.command("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "p", "PREFIX", "q");
      conns[1]!.command("CLIENT", "TRACKING", "on");
      conns[1]!.command("MGET", "k1", "k2", "k3");
      conns[1]!.command("ECHO", "done");
      await drainUntil(conns[1]!, "done\r\n");
      c.command("CLIENT", "LIST");
      c.command("ECHO", "list");
      const list = await drainUntil(c, "list\r\n");
      c.command("INFO");
      c.command("ECHO", "info");
      const info = await drainUntil(c, "info\r\n");
      for (const x of [...conns, c]) x.close();
      const flags = [...list.matchAll(/flags=(\S+) .* redir=(\S+)/g)].map((m) => `${m[1]} ${m[2]}`)
        .sort();
      const fields = [...info.matchAll(/^(tracking_\w+:\d+)/gm)].map((m) => m[1]);
      return { flags, fields };
    };
    const mine = await figures(ours.port);
    assert.deepEqual(mine, await figures(redis.port));
    assert.ok(mine.flags.some((f) => f.startsWith("tB ")), mine.flags.join());
    assert.equal(mine.fields.length, 4);
  } finally {
    await ours.close();
    await redis.stop();
  }
});

test("expiry, lazy and active, invalidates a tracked key (RESP3 push)", async () => {
  const s = await startServer();
  const c = await RawConn.connect(s.port);
  try {
    c.command("HELLO", "3");
    c.command("CLIENT", "TRACKING", "on");
    c.command("SET", "lazy", "v", "PX", "1");
    c.command("SET", "active", "v", "PX", "1");
    c.command("DEBUG", "SET-ACTIVE-EXPIRE", "0");
    c.command("MGET", "lazy", "active");
    c.command("ECHO", "ready");
    await drainUntil(c, "ready\r\n");
    await pause(10);
    c.command("GET", "lazy"); // expires on access: the push follows the reply
    c.command("ECHO", "one");
    assert.equal(
      await drainUntil(c, "one\r\n"),
      "_\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$4\r\nlazy\r\n$3\r\none\r\n",
    );
    c.command("DEBUG", "SET-ACTIVE-EXPIRE", "1");
    const push = ">2\r\n$10\r\ninvalidate\r\n*1\r\n$6\r\nactive\r\n";
    for (let i = 0; i < 200 && !c.pending.includes(push); i++) await pause(10);
    assert.ok(c.pending.includes(push), JSON.stringify(c.pending));
  } finally {
    c.close();
    await s.close();
  }
});

test("maxmemory eviction invalidates a tracked key", async () => {
  const s = await startServer({ config: { "maxmemory-policy": "allkeys-random" } });
  const c = await RawConn.connect(s.port);
  const w = await RawConn.connect(s.port);
  try {
    c.command("HELLO", "3");
    c.command("CLIENT", "TRACKING", "on");
    c.command("SET", "victim", "x".repeat(1000));
    c.command("GET", "victim");
    c.command("ECHO", "ready");
    await drainUntil(c, "ready\r\n");
    s.server.dispatch(["CONFIG", "SET", "maxmemory", String(s.server.memory.used() + 20_000)]);
    for (let i = 0; i < 200 && !c.pending.includes("victim"); i++) {
      w.command("SET", `fill${i}`, "y".repeat(5000));
      w.command("ECHO", `w${i}`);
      await drainUntil(w, `w${i}\r\n`);
    }
    assert.ok(c.pending.includes(">2\r\n$10\r\ninvalidate\r\n*1\r\n$6\r\nvictim\r\n"));
  } finally {
    c.close();
    w.close();
    await s.close();
  }
});

test("tracking-table-max-keys: keys over the limit are invalidated", async () => {
  const s = await startServer();
  const c = await RawConn.connect(s.port);
  try {
    c.command("HELLO", "3");
    c.command("CLIENT", "TRACKING", "on");
    const keys = Array.from({ length: 250 }, (_, i) => `k${i}`);
    c.command("MGET", ...keys);
    c.command("PING", "ready");
    await drainUntil(c, "ready\r\n");
    assert.equal(field(infoText(s.server, "stats"), "tracking_total_keys"), "250");
    c.command("CONFIG", "SET", "tracking-table-max-keys", "10");
    // The limit is enforced in the cron, with an effort that grows while it is not reached.
    await waitFor(() => s.server.tracking.table.size === 10, "the table at its limit");
    const count = () => c.pending.split("invalidate").length - 1;
    await waitFor(() => count() >= 240, "240 invalidations");
    c.command("PING", "end");
    const all = await drainUntil(c, "end\r\n");
    assert.equal(all.split("invalidate").length - 1, 240);
    assert.equal(field(infoText(s.server, "stats"), "tracking_total_keys"), "10");
  } finally {
    c.close();
    await s.close();
  }
});

test("writes a replica applies from its master invalidate the replica's tracking clients", async () => {
  const m = await redeno();
  const r = await redeno();
  const c = await RawConn.connect(r.port);
  const mc = client(m.port);
  const rc = client(r.port);
  try {
    await mc.set("k", "1");
    assert.equal(await rc.call("REPLICAOF", HOST, String(m.port)), "OK");
    await waitFor(() => field(infoText(r.s, "replication"), "master_link_status") === "up", "sync");
    await waitFor(async () => (await rc.get("k")) === "1", "k on the replica");
    c.command("HELLO", "3");
    c.command("CLIENT", "TRACKING", "on");
    c.command("GET", "k");
    c.command("PING", "ready");
    await drainUntil(c, "ready\r\n");
    await mc.set("k", "2");
    const push = ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n";
    await waitFor(() => c.pending.includes(push), "the invalidation");
  } finally {
    c.close();
    mc.disconnect();
    rc.disconnect();
    await r.s.close();
    await m.s.close();
  }
});

test("a server without tracking clients listens to no write", async () => {
  const s = await startServer();
  const c = await RawConn.connect(s.port);
  try {
    const hooks = s.server.hooks;
    const before = [hooks.keyModified.length, hooks.afterCommand.length, hooks.dbFlushed.length];
    c.command("CLIENT", "TRACKING", "on");
    c.command("GET", "a");
    c.command("PING", "on");
    await drainUntil(c, "on\r\n");
    assert.equal(hooks.afterCommand.length, before[1]! + 1);
    c.command("CLIENT", "TRACKING", "off");
    c.command("SET", "a", "1"); // forgets the remembered key: the table is empty again
    c.command("PING", "off");
    await drainUntil(c, "off\r\n");
    assert.deepEqual(
      [hooks.keyModified.length, hooks.afterCommand.length, hooks.dbFlushed.length],
      before,
    );
    assert.equal(s.server.tracking.hasPending, false);
  } finally {
    c.close();
    await s.close();
  }
});
