/**
 * `redis-cli --cluster reshard` moves 4096 slots from a redeno master to a stock redis-server
 * master and back while ioredis Cluster clients write and read keys of every slot: the clients
 * see no error, every key holds its last acknowledged value afterwards, and the check passes.
 *
 * Three masters, two of them redeno (main.ts processes) and one stock: the slots go from a
 * redeno node to the stock node and back (MIGRATE both ways, ASK/ASKING and TRYAGAIN on both
 * sides), and the third master, redeno too, learns each move through SETSLOT NODE from
 * redis-cli and through the bus, as any master not part of a move does.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { Cluster } from "ioredis";
import { missing } from "./redis_tools.ts";
import { stopAll } from "./sentinel_helpers.ts";
import {
  clusterCheck,
  clusterProcess,
  createCluster,
  run,
  selfLine,
} from "./cluster_bus_helpers.ts";

after(stopAll);

/** The ioredis Cluster clients of the load, and how many keys each writes. */
const CLIENTS = 3;
const KEYS_PER_CLIENT = 1000;
/** Concurrent workers per client; each owns its keys, so their order of writes is known. */
const WORKERS = 4;

interface Load {
  /** The last acknowledged value of every key. */
  readonly acked: Map<string, string>;
  /** What went wrong, as the clients saw it. */
  readonly errors: string[];
  /** Requests made (SET, GET and MSET). */
  requests(): number;
  /** Stops the workers and waits for them. */
  stop(): Promise<void>;
}

/**
 * Each worker loops over its keys: SET key round, then GET it back (it must be what was just
 * written); every fourth step an MSET of two keys of one slot (TRYAGAIN while the slot moves,
 * which ioredis retries).
 */
function startLoad(clients: Cluster[]): Load {
  const acked = new Map<string, string>();
  const errors: string[] = [];
  let requests = 0;
  let stopping = false;
  const workers: Promise<void>[] = [];
  clients.forEach((c, ci) => {
    for (let w = 0; w < WORKERS; w++) {
      workers.push((async () => {
        for (let round = 0; !stopping; round++) {
          for (let i = w; i < KEYS_PER_CLIENT && !stopping; i += WORKERS) {
            const key = `load:${ci}:${i}`;
            const value = `${round}`;
            try {
              requests++;
              await c.set(key, value);
              acked.set(key, value);
              requests++;
              const got = await c.get(key);
              if (got !== value) errors.push(`GET ${key}: ${got}, wrote ${value}`);
              if (i % 4 === 0) {
                const a = `{tag:${ci}:${i}}a`;
                const b = `{tag:${ci}:${i}}b`;
                requests++;
                await c.mset(a, value, b, value);
                acked.set(a, value);
                acked.set(b, value);
              }
            } catch (e) {
              errors.push(`${key}: ${(e as Error).message}`);
              // A client that fails at once must not starve the event loop.
              await new Promise((r) => setTimeout(r, 10));
            }
          }
        }
      })());
    }
  });
  return {
    acked,
    errors,
    requests: () => requests,
    async stop() {
      stopping = true;
      await Promise.all(workers);
    },
  };
}

async function reshard(via: number, from: string, to: string): Promise<string> {
  const out = await run("redis-cli", [
    "--cluster",
    "reshard",
    `127.0.0.1:${via}`,
    "--cluster-from",
    from,
    "--cluster-to",
    to,
    "--cluster-slots",
    "4096",
    "--cluster-pipeline",
    "20",
    "--cluster-yes",
  ]);
  assert.equal(out.status, 0, out.stdout);
  assert.doesNotMatch(out.stdout, /\[ERR\]/, out.stdout);
  return out.stdout;
}

/** How many slots the node on `port` serves, in its own CLUSTER NODES. */
async function slotCount(port: number): Promise<number> {
  let n = 0;
  for (const range of (await selfLine(port)).slice(8)) {
    if (range.startsWith("[")) continue;
    const [lo, hi] = range.split("-").map(Number);
    n += (hi ?? lo!) - lo! + 1;
  }
  return n;
}

test(
  "redis-cli --cluster reshard moves 4096 slots redeno -> stock -> redeno under a client load",
  { skip: missing("redis-server", "redis-cli") },
  async () => {
    const a = await clusterProcess("redeno");
    const s = await clusterProcess("redis");
    const b = await clusterProcess("redeno");
    const clients: Cluster[] = [];
    try {
      await createCluster([a.port, s.port, b.port]);
      const aId = (await selfLine(a.port))[0]!;
      const sId = (await selfLine(s.port))[0]!;
      const before = [await slotCount(a.port), await slotCount(s.port)];

      for (let i = 0; i < CLIENTS; i++) {
        clients.push(
          new Cluster([{ host: "127.0.0.1", port: [a.port, s.port, b.port][i]! }], {
            redisOptions: { maxRetriesPerRequest: 0 },
          }),
        );
      }
      const load = startLoad(clients);
      // The load runs for a while before the first move (every key written once at least).
      while (load.acked.size < CLIENTS * KEYS_PER_CLIENT && load.errors.length === 0) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const settled = load.requests();

      await reshard(a.port, aId, sId);
      assert.equal(await slotCount(a.port), before[0]! - 4096);
      assert.equal(await slotCount(s.port), before[1]! + 4096);
      await reshard(s.port, sId, aId);
      const during = load.requests() - settled;
      await load.stop();

      assert.deepEqual(load.errors.slice(0, 10), [], `${load.errors.length} errors`);
      assert.ok(during > 1000, `requests during the reshards: ${during}`);
      assert.equal(await slotCount(a.port), before[0]);
      assert.equal(await slotCount(s.port), before[1]);
      // Every key, read through a fresh client, holds its last acknowledged value.
      const reader = new Cluster([{ host: "127.0.0.1", port: b.port }]);
      clients.push(reader);
      const keys = [...load.acked.keys()];
      const values = await Promise.all(keys.map((k) => reader.get(k)));
      const wrong = keys.filter((k, i) => values[i] !== load.acked.get(k));
      assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} keys differ`);

      for (const n of [a, s, b]) {
        const check = await clusterCheck(n.port);
        assert.ok(check.ok, check.stdout);
      }
    } finally {
      for (const c of clients) c.disconnect();
      await stopAll();
    }
  },
);
