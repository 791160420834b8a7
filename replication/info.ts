/**
 * INFO replication, with Redis 7.0's fields in Redis's order: the role, the replica-side link
 * fields on a replica, the attached replicas (`slaveN:ip=,port=,state=,offset=,lag=`), then the
 * replication ids, offsets and backlog.
 *
 * @module
 */

import type { InfoSection, Server } from "../core/server.ts";
import type { MasterSide } from "./master.ts";
import type { ReplicaSide } from "./replica.ts";
import type { ReplState } from "./state.ts";

type Fields = Array<[string, string | number]>;

/** The link fields a replica adds after `role`. */
function replicaFields(server: Server, r: ReplicaSide): Fields {
  const now = server.clock.now();
  const secs = (t: number) => Math.floor((now - t) / 1000);
  const connected = r.state === "connected";
  const fields: Fields = [
    ["master_host", r.host],
    ["master_port", r.port],
    ["master_link_status", connected ? "up" : "down"],
    ["master_last_io_seconds_ago", r.masterClient !== undefined ? secs(r.lastIo) : -1],
    ["master_sync_in_progress", r.state === "sync" ? 1 : 0],
    // Without a master, live or cached, Redis reports 1.
    ["slave_read_repl_offset", r.hasHistory ? r.readOffset : 1],
    ["slave_repl_offset", r.hasHistory ? r.reploff : 1],
  ];
  if (r.state === "sync") {
    const total = r.transferSize;
    const read = r.transferRead;
    fields.push(
      ["master_sync_total_bytes", total],
      ["master_sync_read_bytes", read],
      ["master_sync_left_bytes", total - read],
      ["master_sync_perc", total > 0 ? ((read / total) * 100).toFixed(2) : "0.00"],
      ["master_sync_last_io_seconds_ago", secs(r.lastIo)],
    );
  }
  if (!connected) {
    fields.push(["master_link_down_since_seconds", r.downSince !== 0 ? secs(r.downSince) : -1]);
  }
  fields.push(
    ["slave_priority", server.config.num("replica-priority")],
    ["slave_read_only", server.config.bool("replica-read-only") ? 1 : 0],
    ["replica_announced", server.config.bool("replica-announced") ? 1 : 0],
  );
  return fields;
}

/**
 * The INFO replication section.
 *
 * @param server the server
 * @param parts its replication stream, replicas and master link
 * @returns the section, to set as `server.infoSections.get("replication")`
 */
export function replicationInfo(
  server: Server,
  parts: {
    repl: ReplState;
    master: MasterSide;
    replica: ReplicaSide;
    failover: { readonly state: string };
  },
): InfoSection {
  return {
    title: "Replication",
    isDefault: true,
    fields(): Fields {
      const { repl, master, replica } = parts;
      repl.flush();
      const config = server.config;
      const isReplica = server.masterHost !== undefined;
      const fields: Fields = [["role", isReplica ? "slave" : "master"]];
      if (isReplica) fields.push(...replicaFields(server, replica));
      fields.push(["connected_slaves", master.links.size]);
      const min = config.num("min-replicas-to-write");
      const lag = config.num("min-replicas-max-lag");
      if (min > 0 && lag > 0) fields.push(["min_slaves_good_slaves", master.goodReplicas(lag)]);
      const now = server.clock.now();
      let i = 0;
      for (const link of master.links.values()) {
        const lagSecs = link.state === "online" ? Math.floor((now - link.ackTime) / 1000) : 0;
        fields.push([
          `slave${i++}`,
          `ip=${link.ip},port=${link.conf.port},state=${link.state},offset=${link.ackOffset},lag=${lagSecs}`,
        ]);
      }
      const backlog = repl.backlog;
      fields.push(
        ["master_failover_state", parts.failover.state],
        ["master_replid", repl.replid],
        ["master_replid2", repl.replid2],
        ["master_repl_offset", repl.offset],
        ["second_repl_offset", repl.secondOffset],
        ["repl_backlog_active", backlog !== undefined ? 1 : 0],
        ["repl_backlog_size", config.num("repl-backlog-size")],
        ["repl_backlog_first_byte_offset", backlog?.firstOffset ?? 0],
        ["repl_backlog_histlen", backlog?.histlen ?? 0],
      );
      return fields;
    },
  };
}
