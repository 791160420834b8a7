/**
 * INFO [section ...]: the sections and fields clients parse, named and ordered as in Redis 7.4 (the
 * fields whose values redeno can honestly give; see the README for those it leaves out).
 * Plugins add or replace sections through `server.infoSections` (replication replaces
 * `replication`, persistence replaces `persistence`).
 *
 * @module
 */

import { compat } from "../core/compat.ts";
import { fieldTtlKeyCount } from "../core/types/hash_expiry.ts";
import { migrateLinkCount } from "../core/migrate_links.ts";
import { CF } from "../core/client.ts";
import type { Command, CommandSpec } from "../core/command.ts";
import { cpuSeconds, executable, osName, pid } from "../core/proc.ts";
import { VerbatimReply } from "../core/resp/reply.ts";
import { memorySection } from "./memory_info.ts";
import type { InfoSection, Server } from "../core/server.ts";
import { runtimeName } from "../core/net/runtime.ts";
import { aofOf } from "../core/persistence/aof.ts";
import { rdbInfoFields } from "../core/persistence/rdb_file.ts";
import { REDENO_VERSION, reportedVersion } from "../core/version.ts";
import { latencyPercentile } from "../core/latency.ts";

type Fields = Array<[string, string | number]>;

function serverSection(s: Server): Fields {
  const now = s.clock.now();
  const uptime = Math.floor((now - s.startedAt) / 1000);
  return [
    // Clients parse redis_version to pick features: the Redis version redeno answers as.
    ["redis_version", reportedVersion(s.config)],
    ["redis_git_sha1", "00000000"],
    ["redis_git_dirty", 0],
    ["redis_build_id", "0"],
    ["redis_mode", s.config.bool("cluster-enabled") ? "cluster" : "standalone"],
    ["os", osName()],
    ["arch_bits", 64],
    ["monotonic_clock", "POSIX clock_gettime"],
    ["multiplexing_api", runtimeName],
    ["atomicvar_api", "c11-builtin"],
    ["gcc_version", "0.0.0"],
    ["process_id", pid()],
    ["process_supervised", "no"],
    ["run_id", s.runId],
    // As Redis: the TLS port when there is no plain one.
    ["tcp_port", s.config.num("port") || s.config.num("tls-port")],
    ["server_time_usec", now * 1000],
    ["uptime_in_seconds", uptime],
    ["uptime_in_days", Math.floor(uptime / 86400)],
    ["hz", s.config.num("hz")],
    ["configured_hz", s.config.num("hz")],
    ["lru_clock", Math.floor(now / 1000) & 0xffffff],
    ["executable", executable()],
    ["config_file", s.configFile ?? ""],
    ["io_threads_active", 0],
    ...s.listening().map((l): [string, string] => [
      `listener${l.index}`,
      `name=${l.name}${l.hosts.map((h) => `,bind=${h}`).join("")},port=${l.port}`,
    ]),
    ["redeno_version", REDENO_VERSION],
    ["redeno_runtime", runtimeName],
  ];
}

function clientsSection(s: Server): Fields {
  let blocked = 0;
  let maxIn = 0;
  let maxOut = 0;
  let pubsub = 0;
  for (const c of s.clients.values()) {
    if (c.flags & CF.blocked) blocked++;
    if (c.flags & CF.pubsub) pubsub++;
    maxIn = Math.max(maxIn, c.parser.pending);
    maxOut = Math.max(maxOut, c.pendingOutput);
  }
  const watching = s.transactions.watchStats();
  const blocking = s.blocking.keyStats();
  return [
    ["connected_clients", countClients(s)],
    ["cluster_connections", 0],
    ["maxclients", s.config.num("maxclients")],
    ["client_recent_max_input_buffer", maxIn],
    ["client_recent_max_output_buffer", maxOut],
    ["blocked_clients", blocked],
    ["tracking_clients", s.tracking.clients],
    ["pubsub_clients", pubsub],
    ["watching_clients", watching.clients],
    // Postponed clients (CLIENT PAUSE) wait without a timeout.
    ["clients_in_timeout_table", blocked - s.pause.count],
    ["total_watched_keys", watching.keys],
    ["total_blocking_keys", blocking.keys],
    ["total_blocking_keys_on_nokey", blocking.onNoKey],
  ];
}

/** Connected clients as Redis counts them: sockets that are not replicas. */
function countClients(s: Server): number {
  let n = 0;
  for (const c of s.clients.values()) if ((c.flags & (CF.replica | CF.local)) === 0) n++;
  return n;
}

function persistenceSection(s: Server): Fields {
  return [
    ["loading", 0],
    ["async_loading", 0],
    ...rdbInfoFields(s),
    ...aofOf(s).infoFields(),
  ];
}

function statsSection(s: Server): Fields {
  const st = s.stats;
  return [
    ["total_connections_received", st.connectionsReceived],
    ["total_commands_processed", st.commands],
    ["instantaneous_ops_per_sec", st.opsPerSec],
    ["total_net_input_bytes", st.netInput],
    ["total_net_output_bytes", st.netOutput],
    ["rejected_connections", st.rejectedConnections],
    ["sync_full", st.syncFull],
    ["sync_partial_ok", st.syncPartialOk],
    ["sync_partial_err", st.syncPartialErr],
    ["expired_subkeys", st.expiredSubkeys],
    ["expired_keys", st.expiredKeys],
    ["expired_time_cap_reached_count", st.expireTimeCapReached],
    ["evicted_keys", st.evictedKeys],
    ["evicted_clients", st.evictedClients],
    ["evicted_scripts", st.evictedScripts],
    ["total_eviction_exceeded_time", s.evictor.exceededTimes().total],
    ["current_eviction_exceeded_time", s.evictor.exceededTimes().current],
    ["keyspace_hits", st.hits],
    ["keyspace_misses", st.misses],
    ["pubsub_channels", s.pubsub.channels.size],
    ["pubsub_patterns", s.pubsub.patterns.size],
    ["pubsubshard_channels", s.pubsub.shardChannels.size],
    ["latest_fork_usec", 0],
    ["total_forks", 0],
    ["migrate_cached_sockets", migrateLinkCount(s)],
    ["tracking_total_keys", s.tracking.table.size],
    ["tracking_total_items", s.tracking.items],
    ["tracking_total_prefixes", s.tracking.prefixes.size],
    ["unexpected_error_replies", 0],
    ["total_error_replies", st.errorReplies],
    ["total_reads_processed", st.reads],
    ["total_writes_processed", st.writes],
    ["client_query_buffer_limit_disconnections", st.queryBufferLimitDisconnections],
    ["client_output_buffer_limit_disconnections", st.outputBufferLimitDisconnections],
    ["acl_access_denied_auth", st.authFailures],
    ["acl_access_denied_cmd", st.aclDeniedCommands],
    ["acl_access_denied_key", st.aclDeniedKeys],
    ["acl_access_denied_channel", st.aclDeniedChannels],
  ];
}

function replicationSection(s: Server): Fields {
  return [
    ["role", "master"],
    ["connected_slaves", 0],
    ["master_failover_state", "no-failover"],
    ["master_replid", s.runId],
    ["master_replid2", "0000000000000000000000000000000000000000"],
    ["master_repl_offset", 0],
    ["second_repl_offset", -1],
    ["repl_backlog_active", 0],
    ["repl_backlog_size", s.config.num("repl-backlog-size")],
    ["repl_backlog_first_byte_offset", 0],
    ["repl_backlog_histlen", 0],
  ];
}

function cpuSection(): Fields {
  const c = cpuSeconds();
  return [
    ["used_cpu_sys", c.sys.toFixed(6)],
    ["used_cpu_user", c.user.toFixed(6)],
    ["used_cpu_sys_children", "0.000000"],
    ["used_cpu_user_children", "0.000000"],
    ["used_cpu_sys_main_thread", c.sys.toFixed(6)],
    ["used_cpu_user_main_thread", c.user.toFixed(6)],
  ];
}

function commandstatsSection(s: Server): Fields {
  const out: Fields = [];
  const add = (
    name: string,
    st: { calls: number; usec: number; rejected: number; failed: number },
  ) => {
    if (st.calls === 0 && st.rejected === 0 && st.failed === 0) return;
    const per = st.calls === 0 ? 0 : st.usec / st.calls;
    out.push([
      `cmdstat_${name}`,
      `calls=${st.calls},usec=${Math.round(st.usec)},usec_per_call=${
        per.toFixed(2)
      },rejected_calls=${st.rejected},failed_calls=${st.failed}`,
    ]);
  };
  for (const cmd of s.allCommands()) {
    add(cmd.name, cmd.stats);
    if (cmd.subcommands) {
      for (const sub of cmd.subcommands.values()) add(sub.fullName, sub.stats);
    }
  }
  return out;
}

function errorstatsSection(s: Server): Fields {
  return [...s.stats.errors].map(([code, n]) => [`errorstat_${code}`, `count=${n}`]);
}

/** `latency_percentiles_usec_<command>:p50=...` for every command called (core/latency.ts). */
function latencystatsSection(s: Server): Fields {
  // Nothing while tracking is off, even for what was recorded before (as Redis).
  if (!s.latency.tracking) return [];
  const pcts = s.config.str("latency-tracking-info-percentiles").split(" ").filter(Boolean)
    .map(Number);
  const out: Fields = [];
  const add = (cmd: Command) => {
    if (cmd.latency === undefined) return;
    out.push([
      `latency_percentiles_usec_${cmd.fullName}`,
      pcts.map((p) => `p${p}=${latencyPercentile(cmd, p).toFixed(3)}`).join(","),
    ]);
  };
  for (const cmd of s.allCommands()) {
    add(cmd);
    for (const sub of cmd.subcommands?.values() ?? []) add(sub);
  }
  return out;
}

function keyspaceSection(s: Server): Fields {
  const out: Fields = [];
  for (const db of s.dbs) {
    if (db.size === 0) continue;
    const line = `keys=${db.size},expires=${db.expires.size},avg_ttl=${Math.round(db.avgTtl)}`;
    // Redis 7.4 counts the hashes with field TTLs.
    out.push([
      `db${db.id}`,
      compat(s.config).v74 ? `${line},subexpiry=${fieldTtlKeyCount(s, db)}` : line,
    ]);
  }
  return out;
}

/** The built-in sections in Redis's order; `isDefault` marks those of plain INFO. */
function coreSections(s: Server): Array<[string, InfoSection]> {
  const sec = (title: string, isDefault: boolean, fields: () => Fields): InfoSection => ({
    title,
    isDefault,
    fields,
  });
  return [
    ["server", sec("Server", true, () => serverSection(s))],
    ["clients", sec("Clients", true, () => clientsSection(s))],
    ["memory", sec("Memory", true, () => memorySection(s))],
    ["persistence", sec("Persistence", true, () => persistenceSection(s))],
    ["stats", sec("Stats", true, () => statsSection(s))],
    ["replication", sec("Replication", true, () => replicationSection(s))],
    ["cpu", sec("CPU", true, cpuSection)],
    ["modules", sec("Modules", true, () => [])],
    ["commandstats", sec("Commandstats", false, () => commandstatsSection(s))],
    ["errorstats", sec("Errorstats", true, () => errorstatsSection(s))],
    ["latencystats", sec("Latencystats", false, () => latencystatsSection(s))],
    ["cluster", sec("Cluster", true, () => [["cluster_enabled", 0]])],
    ["keyspace", sec("Keyspace", true, () => keyspaceSection(s))],
  ];
}

/** Builds the INFO text for the requested section names (lowercase). */
export function infoText(s: Server, wanted: string[]): string {
  const sections = new Map(coreSections(s));
  for (const [name, section] of s.infoSections) sections.set(name, section);
  const all = wanted.includes("all") || wanted.includes("everything");
  const dflt = wanted.length === 0 || wanted.includes("default");
  const parts: string[] = [];
  for (const [name, section] of sections) {
    if (!(all || (dflt && section.isDefault) || wanted.includes(name))) continue;
    let text = `# ${section.title}\r\n`;
    for (const [k, v] of section.fields()) text += `${k}:${v}\r\n`;
    for (const extra of s.infoFields.get(name) ?? []) {
      for (const [k, v] of extra()) text += `${k}:${v}\r\n`;
    }
    parts.push(text);
  }
  return parts.join("\r\n");
}

/** INFO [section [section ...]] */
export const infoCommand: CommandSpec = {
  name: "info",
  arity: -1,
  flags: ["loading", "stale"],
  docs: {
    summary: "Get information and statistics about the server",
    since: "1.0.0",
    group: "server",
    complexity: "O(1)",
    args: "[section [section ...]]",
  },
  acl: ["dangerous"],
  execute(client, argv) {
    const wanted = argv.slice(1).map((a) => a.toLowerCase());
    return new VerbatimReply(infoText(client.server, wanted));
  },
};
