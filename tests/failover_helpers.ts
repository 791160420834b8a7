/**
 * Helpers of the FAILOVER tests: redeno (in process, its log kept) and stock redis-server nodes
 * seen the same way through their sockets, a TCP proxy that can hold a link still (what Redis's
 * own failover.tcl does with SIGSTOP: a replica that stops acknowledging, a target that does not
 * answer yet), and INFO reads.
 *
 * @module
 */

import * as net from "node:net";
import { Redis } from "ioredis";
import { createServer } from "../mod.ts";
import { replication } from "../replication/mod.ts";
import { HOST, stockRedis, waitFor } from "./replication_helpers.ts";

/** A server under test: redeno in this process, or a stock redis-server process. */
export interface Node {
  readonly kind: "redeno" | "redis";
  readonly port: number;
  /** A client to it (closed by `stop`). */
  readonly c: Redis;
  /** Its log lines so far (redeno only; a stock server's log is not kept). */
  readonly log: string[];
  stop(): Promise<void>;
}

/**
 * Starts a node with its replication config.
 *
 * @param kind redeno or a stock redis-server
 * @param config directives (`replica-announce-port`, ...)
 * @returns the running node
 */
export async function startNode(
  kind: "redeno" | "redis",
  config: Record<string, string> = {},
): Promise<Node> {
  const log: string[] = [];
  if (kind === "redeno") {
    const s = createServer({
      plugins: [replication()],
      config: { "repl-diskless-sync-delay": "0", ...config },
      log: (line) => log.push(line),
    });
    const { port } = await s.listen({ port: 0, hostname: HOST });
    const c = new Redis({ port, host: HOST, maxRetriesPerRequest: 0 });
    return {
      kind,
      port,
      c,
      log,
      stop: async () => {
        c.disconnect();
        await s.close();
      },
    };
  }
  const args = Object.entries(config).flatMap(([k, v]) => [`--${k}`, v]);
  const r = await stockRedis(args);
  const c = new Redis({ port: r.port, host: HOST, maxRetriesPerRequest: 0 });
  return {
    kind,
    port: r.port,
    c,
    log,
    stop: async () => {
      c.disconnect();
      await r.stop();
    },
  };
}

/** One INFO field of a node. */
export async function infoField(node: Node, section: string, name: string): Promise<string> {
  const text = (await node.c.info(section)) as string;
  return new RegExp(`^${name}:(.*)\\r$`, "m").exec(text)?.[1] ?? "";
}

/** `master_failover_state` of a node. */
export function failoverState(node: Node): Promise<string> {
  return infoField(node, "replication", "master_failover_state");
}

/** Waits until `master_failover_state` is `state`. */
export function waitState(node: Node, state: string, ms = 10000): Promise<void> {
  return waitFor(async () => (await failoverState(node)) === state, `failover state ${state}`, ms);
}

/** The first element of ROLE: `master` or `slave`. */
export async function roleOf(node: Node): Promise<string> {
  return ((await node.c.call("ROLE")) as unknown[])[0] as string;
}

/** A counter of INFO stats (`sync_full`, `sync_partial_ok`, ...). */
export async function stat(node: Node, name: string): Promise<number> {
  return Number(await infoField(node, "stats", name));
}

/** Makes `replica` replicate the master at `port` and waits until the master sees it online. */
export async function replicate(replica: Node, master: Node, port = master.port): Promise<void> {
  await replica.c.call("REPLICAOF", HOST, String(port));
  await waitFor(
    async () => (await infoField(replica, "replication", "master_link_status")) === "up",
    "the replica's link to come up",
  );
  await waitOnline(master);
}

/** Waits until every replica attached to `master` is online. */
export async function waitOnline(master: Node): Promise<void> {
  await waitFor(async () => {
    const text = (await master.c.info("replication")) as string;
    return !/state=(wait_bgsave|send_bulk)/.test(text);
  }, "replicas online");
}

/** Waits until `replica`'s link is up and it applied everything `master` wrote so far. */
export async function waitCaughtUp(master: Node, replica: Node): Promise<void> {
  await waitFor(async () => {
    if ((await infoField(replica, "replication", "master_link_status")) !== "up") return false;
    const want = await infoField(master, "replication", "master_repl_offset");
    return (await infoField(replica, "replication", "slave_repl_offset")) === want;
  }, "the replica to catch up");
}

/** Clients writing to one server. */
export interface WriteLoad {
  /** Acknowledged INCRs of `counter`, and SETs of distinct keys. */
  readonly acked: { incr: number; set: number };
  /** The error each client stopped at (READONLY once the server became a replica). */
  readonly refusals: string[];
  /** Stops the clients and waits for them. */
  stop(): Promise<void>;
}

/**
 * Clients that each INCR `counter` then SET a key of their own (`w:<client>:<n>`), one command at
 * a time, until told to stop or refused (READONLY): what they saw acknowledged is counted.
 */
export function writeLoad(port: number, clients: number): WriteLoad {
  let stopping = false;
  const acked = { incr: 0, set: 0 };
  const refusals: string[] = [];
  const runs = Array.from({ length: clients }, async (_, i) => {
    const c = new Redis({ port, host: HOST, maxRetriesPerRequest: 0 });
    try {
      for (let j = 0; !stopping; j++) {
        try {
          await c.incr("counter");
          acked.incr++;
          await c.set(`w:${i}:${j}`, "x");
          acked.set++;
        } catch (e) {
          refusals.push((e as Error).message);
          break;
        }
      }
    } finally {
      c.disconnect();
    }
  });
  return {
    /** Acknowledged INCRs and SETs. */
    acked,
    refusals,
    async stop(): Promise<void> {
      stopping = true;
      await Promise.all(runs);
    },
  };
}

/**
 * A TCP proxy to a port that can hold its links still: while stalled, bytes in both directions
 * are kept and delivered on `resume`, as if the process behind it were stopped (SIGSTOP).
 */
export class StallProxy {
  private stalled = false;
  private held: Array<() => void> = [];
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    private target: number,
  ) {}

  /**
   * Listens on a free port and forwards each connection to `target` (which may be given later
   * with `retarget`, for a server that must know the proxy's port before it starts).
   */
  static async start(target: number): Promise<StallProxy> {
    // The proxy exists once the server listens: connections before that are refused.
    const made: StallProxy[] = [];
    const server = net.createServer((inbound) => {
      if (made.length !== 0) made[0]!.link(inbound);
      else inbound.destroy();
    });
    await new Promise<void>((r) => server.listen(0, HOST, r));
    const proxy = new StallProxy(server, (server.address() as net.AddressInfo).port, target);
    made.push(proxy);
    return proxy;
  }

  /** Forwards the next connections to `target`. */
  retarget(target: number): void {
    this.target = target;
  }

  private link(inbound: net.Socket): void {
    const outbound = net.connect({ port: this.target, host: HOST });
    for (const [from, to] of [[inbound, outbound], [outbound, inbound]] as const) {
      this.sockets.add(from);
      from.on("data", (d: Buffer) => {
        if (this.stalled) this.held.push(() => to.write(d));
        else to.write(d);
      });
      from.on("close", () => {
        this.sockets.delete(from);
        to.destroy();
      });
      from.on("error", () => {});
    }
  }

  /** Holds every byte from now on. */
  stall(): void {
    this.stalled = true;
  }

  /** Delivers what was held, in order, and forwards again. */
  resume(): void {
    this.stalled = false;
    const held = this.held;
    this.held = [];
    for (const send of held) send();
  }

  /** Closes the listener and every link. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}
