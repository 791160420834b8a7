/**
 * One server's cluster mode (`cluster-enabled yes`): loads or creates the state from
 * `cluster-config-file` (nodes.conf, saved back whenever the state asks), indexes db 0's keys by
 * slot, and carries out what the state asks of the server (replicating a master, deleting the
 * keys of a lost slot, dropping the shard channels of a slot).
 *
 * @module
 */

import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  statSync,
  truncateSync,
  writeSync,
} from "node:fs";
import { isAbsolute, join } from "node:path";
import { CF, type Client } from "../core/client.ts";
import { F } from "../core/command.ts";
import { KEYSPACE_MEASURE } from "../core/memory/cost.ts";
import { ErrorReply } from "../core/resp/reply.ts";
import type { LocalSession } from "../core/server_types.ts";
import type { Server } from "../core/server.ts";
import type { Value } from "../core/keyspace/database.ts";
import type { ClusterBusHooks, ClusterContext } from "./context.ts";
import { type ClusterNode, NodeFlag } from "./node.ts";
import { loadNodesConf, nodesConfText } from "./nodes_conf.ts";
import { preferredEndpoint } from "./routing.ts";
import { type SlotKeys, SlottedMap } from "./slot_keys.ts";
import { keyHashSlot } from "./slots.ts";
import { type ClusterHooks, type ClusterSettings, ClusterState, Todo } from "./state.ts";

/** The cluster mode of a server. */
export class ClusterMode implements ClusterContext {
  /** The cluster state. */
  readonly state: ClusterState;
  /** The keys of db 0 by slot. */
  readonly slotKeys: SlotKeys;
  /** The bus's hooks, once it runs. */
  bus: ClusterBusHooks | undefined;
  /** The in-process client that turns replication on and off (REPLICAOF is refused to others). */
  private session: LocalSession | undefined;

  /**
   * Sets up cluster mode: the state from nodes.conf (a new node, saved at once, when the file is
   * missing or empty), and db 0's slot index.
   *
   * @param server the server (db 0 still empty)
   * @throws Error when nodes.conf cannot be read or is corrupted (Redis exits)
   */
  constructor(readonly server: Server) {
    const config = server.config;
    const settings: ClusterSettings = {
      nodeTimeout: () => config.num("cluster-node-timeout"),
      requireFullCoverage: () => config.bool("cluster-require-full-coverage"),
      allowReplicaMigration: () => config.bool("cluster-allow-replica-migration"),
    };
    const hooks: ClusterHooks = {
      save: (fsync) => {
        try {
          this.saveConfig(fsync);
        } catch (e) {
          server.log("warning", `Fatal: can't update cluster config file. ${(e as Error).message}`);
        }
      },
      replicate: (master) => this.replicate(master),
      countKeysInSlot: (slot) => this.slotKeys.count(slot),
      delKeysInSlot: (slot) => this.delKeysInSlot(slot),
      removeChannelsInSlot: (slot) => this.removeChannelsInSlot(slot),
      log: (level, message) => server.log(level, message),
    };
    const path = this.configPath();
    const text = existsSync(path) && statSync(path).size !== 0
      ? readFileSync(path, "latin1")
      : undefined;
    if (text !== undefined) {
      this.state = loadNodesConf(text, server.clock, { settings, hooks });
      server.log("notice", `Node configuration loaded, I'm ${this.state.myself.id}`);
    } else {
      this.state = new ClusterState(server.clock, { settings, hooks });
      server.log("notice", `No cluster configuration found, I'm ${this.state.myself.id}`);
    }
    const table = new SlottedMap<Value>(true, KEYSPACE_MEASURE);
    server.dbs[0]!.dict = table;
    this.slotKeys = table.slotKeys;
    this.refreshMyself();
    if (text === undefined) this.saveConfig(true);
    // A master turns ok only after its first evaluations (2 s): evaluate while not ok.
    this.state.todo(Todo.UPDATE_STATE);
    server.on("cron", () => this.cron());
    server.on("load", () => this.verifyConfigWithData());
    config.onChange((name) => {
      if (name.startsWith("cluster-announce") || name === "port" || name === "cluster-port") {
        this.refreshMyself();
      } else if (name === "cluster-replica-no-failover" || name === "cluster-slave-no-failover") {
        this.refreshMyself();
      }
    });
  }

  /**
   * The state side of Redis's clusterCron: a replica whose master is known replicates it (after a
   * restart from nodes.conf, say), and a cluster not ok is evaluated again.
   */
  private cron(): void {
    const me = this.state.myself;
    const master = me.replicaOf;
    if (
      me.isReplica && master !== undefined && master.hasAddr && master.ip !== "" &&
      this.server.masterHost === undefined && this.server.command("replicaof") !== undefined
    ) {
      this.run(["REPLICAOF", master.ip, String(master.port)]);
    }
    if (this.state.state !== "ok") this.state.updateState();
    if (this.server.blocking.count !== 0) this.redirectBlocked();
  }

  /**
   * Redis's clusterRedirectBlockedClientIfNeeded, for every client blocked on keys: when the
   * cluster is down, or the slot of its keys is no longer served here (nor imported), it is
   * unblocked with CLUSTERDOWN or MOVED, as a key change it waits for may never come.
   */
  private redirectBlocked(): void {
    const st = this.state;
    const me = st.myself;
    const refused: Array<[Client, string]> = [];
    for (const { client, keys, command } of this.server.blocking.blocked()) {
      if (keys.length === 0) continue;
      if (st.state === "fail") {
        refused.push([client, "CLUSTERDOWN The cluster is down"]);
        continue;
      }
      const slot = keyHashSlot(keys[0]!);
      let node = st.slots[slot];
      const write = ((this.server.command(command)?.bits ?? 0) & F.write) !== 0;
      if (
        (client.flags & CF.readonlyCluster) !== 0 && !write && me.isReplica && me.replicaOf === node
      ) node = me;
      if (node === me || st.importingFrom[slot] !== undefined) continue;
      refused.push([
        client,
        node === undefined
          ? "CLUSTERDOWN Hash slot not served"
          : `MOVED ${slot} ${preferredEndpoint(node, this.endpointType())}:${node.port}`,
      ]);
    }
    for (const [client, message] of refused) {
      this.server.tick();
      this.server.blocking.unblock(client, new ErrorReply(message));
    }
  }

  /**
   * After the dataset is loaded (Redis's verifyClusterConfigWithData): keys may only be in db 0;
   * a master with keys in a slot nobody serves takes the slot, and one with keys in another
   * node's slot marks it as importing from that node.
   *
   * @throws Error when a database other than 0 holds keys (Redis exits)
   */
  private verifyConfigWithData(): void {
    const st = this.state;
    const me = st.myself;
    if (me.isReplica) return;
    for (const db of this.server.dbs) {
      if (db.id !== 0 && db.size !== 0) {
        throw new Error(
          "You can't have keys in a DB different than DB 0 when in Cluster mode. Exiting.",
        );
      }
    }
    let changed = false;
    for (let j = 0; j < st.slots.length; j++) {
      if (this.slotKeys.count(j) === 0) continue;
      const owner = st.slots[j];
      if (owner === me || st.importingFrom[j] !== undefined) continue;
      changed = true;
      if (owner === undefined) {
        this.server.log(
          "warning",
          `I have keys for unassigned slot ${j}. Taking responsibility for it.`,
        );
        st.assignSlot(me, j);
      } else {
        this.server.log(
          "warning",
          `I have keys for slot ${j}, but the slot is assigned to another node. Setting it to importing state.`,
        );
        st.importingFrom[j] = owner;
      }
    }
    if (changed) this.saveConfig(true);
  }

  /** The path of nodes.conf (relative to `dir`). */
  configPath(): string {
    const file = this.server.config.str("cluster-config-file");
    return isAbsolute(file) ? file : join(this.server.config.str("dir"), file);
  }

  /**
   * Writes nodes.conf in place (as Redis does: padded over a longer old file, never truncated to
   * nothing first).
   *
   * @param fsync sync the file to disk
   */
  saveConfig(fsync: boolean): void {
    this.refreshMyself(false);
    const text = nodesConfText(this.state);
    const path = this.configPath();
    const fd = openSync(path, existsSync(path) ? "r+" : "w", 0o644);
    const content = new TextEncoder().encode(text);
    try {
      const old = statSync(path).size;
      const bytes = old > content.length ? new Uint8Array(old).fill(10) : content;
      if (bytes !== content) bytes.set(content);
      writeSync(fd, bytes, 0, bytes.length, 0);
      if (fsync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // The padding newlines are harmless, but the file is cut back to the content.
    if (statSync(path).size !== content.length) truncateSync(path, content.length);
  }

  /**
   * Brings myself's ports, announced ip and hostname, and the nofailover flag in line with the
   * directives.
   *
   * @param save ask for a nodes.conf save when something changed
   */
  refreshMyself(save = true): void {
    const c = this.server.config;
    const me = this.state.myself;
    const port = c.num("cluster-announce-port") || c.num("port");
    const cport = c.num("cluster-announce-bus-port") || c.num("cluster-port") || port + 10000;
    const announcedIp = c.str("cluster-announce-ip");
    const hostname = c.str("cluster-announce-hostname");
    const noFailover = c.bool("cluster-replica-no-failover") ? NodeFlag.NOFAILOVER : 0;
    const flags = (me.flags & ~NodeFlag.NOFAILOVER) | noFailover;
    const changed = me.port !== port || me.cport !== cport || me.hostname !== hostname ||
      (announcedIp !== "" && me.ip !== announcedIp) || me.flags !== flags;
    if (!changed) return;
    me.port = port;
    me.cport = cport;
    me.hostname = hostname;
    if (announcedIp !== "") me.ip = announcedIp;
    me.flags = flags;
    if (save) this.state.todo(Todo.SAVE_CONFIG);
  }

  /** cluster-preferred-endpoint-type. */
  endpointType(): string {
    return this.server.config.str("cluster-preferred-endpoint-type");
  }

  /** master_repl_offset, or slave_repl_offset on a replica, as INFO replication reports it. */
  replOffset(): number {
    const section = this.server.infoSections.get("replication");
    if (section === undefined) return 0;
    const name = this.server.masterHost !== undefined ? "slave_repl_offset" : "master_repl_offset";
    for (const [k, v] of section.fields()) if (k === name) return Number(v);
    return 0;
  }

  /** True when `client` is the one cluster mode runs REPLICAOF with. */
  isOwnClient(client: unknown): boolean {
    return this.session !== undefined && client === this.session.client;
  }

  private run(argv: string[]): void {
    this.session ??= this.server.session();
    const reply = this.session.call(...argv);
    if (reply !== null && typeof reply === "object" && "message" in reply) {
      this.server.log("warning", `Cluster: ${argv.join(" ")} failed: ${String(reply.message)}`);
    }
  }

  /** Replicates `master` (after the command that decided it has answered). */
  private replicate(master: ClusterNode): void {
    queueMicrotask(() => this.run(["REPLICAOF", master.ip, String(master.port)]));
  }

  /** Stops replicating and keeps the dataset (a replica that won a failover). */
  stopReplicating(): void {
    if (this.server.command("replicaof") !== undefined) this.run(["REPLICAOF", "NO", "ONE"]);
  }

  /** Stops replicating and empties the dataset (a replica's CLUSTER RESET). */
  becomeEmptyMaster(): void {
    if (this.server.command("replicaof") !== undefined) this.run(["REPLICAOF", "NO", "ONE"]);
    this.server.untracked(() => {
      for (const db of this.server.dbs) db.flush();
    });
  }

  private delKeysInSlot(slot: number): number {
    const db = this.server.dbs[0]!;
    const keys = this.slotKeys.keys(slot, Infinity);
    for (const key of keys) {
      if (db.delete(key)) this.server.replicate(0, ["DEL", key]);
    }
    return keys.length;
  }

  private removeChannelsInSlot(slot: number): void {
    const pubsub = this.server.pubsub;
    if (pubsub.shardChannels.size === 0) return;
    for (const [channel, clients] of [...pubsub.shardChannels]) {
      if (keyHashSlot(channel) !== slot) continue;
      for (const client of [...clients]) pubsub.unsubscribe(client, "shard", [channel]);
    }
  }
}
