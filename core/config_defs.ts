/**
 * The table of every config directive redeno knows: its type, default and Redis's validation
 * and wording. Directives marked `inert` are accepted for compatibility with existing redis.conf
 * files and clients, stored and reported, but change nothing in redeno (README lists them).
 *
 * @module
 */

import { type ConfigDef, ConfigError, type ConfigParam } from "./config_types.ts";
import { bool, choice, flags, int, INT_MAX, oneArg, str } from "./config_kinds.ts";
import { TLS_DEFS } from "./tls_defs.ts";
import { DEFS_72_74 } from "./config_defs_74.ts";
import { REDIS_COMPAT_VERSION } from "./version.ts";

const LLONG_MAX = Number.MAX_SAFE_INTEGER;

/**
 * The definition of a plugin's directive: its type follows its default (see ConfigParam).
 *
 * @param param the plugin's declaration
 * @returns the definition the config table holds
 */
export function paramDef(param: ConfigParam): ConfigDef {
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(param.name)) {
    throw new TypeError(`Config parameter names are lowercase words: ${param.name}`);
  }
  const extra: Partial<ConfigDef> = param.immutable === true ? { immutable: true } : {};
  const d = param.default;
  if (typeof d === "boolean") return bool(param.name, d, extra);
  if (typeof d === "number") {
    const min = param.min ?? Number.MIN_SAFE_INTEGER;
    const max = param.max ?? Number.MAX_SAFE_INTEGER;
    if (!Number.isSafeInteger(d) || d < min || d > max) {
      throw new RangeError(`Config parameter default out of range: ${param.name}`);
    }
    return int(param.name, d, min, max, extra);
  }
  return str(param.name, d, extra);
}

/** Parses `1gb`, `64mb`, `100k`, `512` like Redis's `memtoull`. */
export function parseMemory(text: string): number | undefined {
  const m = /^(\d+)([a-z]*)$/i.exec(text);
  if (!m) return undefined;
  const units: Record<string, number> = {
    "": 1,
    b: 1,
    k: 1000,
    kb: 1024,
    m: 1000 ** 2,
    mb: 1024 ** 2,
    g: 1000 ** 3,
    gb: 1024 ** 3,
  };
  const mul = units[m[2]!.toLowerCase()];
  return mul === undefined ? undefined : Number(m[1]) * mul;
}

function mem(
  name: string,
  def: number,
  min: number,
  max: number,
  extra: Partial<ConfigDef> = {},
): ConfigDef {
  return {
    name,
    default: def,
    parse: (args) => {
      const n = parseMemory(oneArg(args));
      if (n === undefined) throw new ConfigError("argument must be a memory value");
      if (n < min || n > max) {
        throw new ConfigError(`argument must be between ${min} and ${max} inclusive`);
      }
      return n;
    },
    format: (v) => String(v),
    ...extra,
  };
}

/** appendfilename / appenddirname: a plain name inside `dir`, as Redis checks it. */
function baseName(name: string, what: string): (v: unknown) => void {
  return (v) => {
    if (v === "") throw new ConfigError(`${name} can't be empty`);
    if (/[/\\]/.test(String(v))) throw new ConfigError(`${name} can't be a path, just a ${what}`);
  };
}

/** dbfilename: may be empty, but never a path (Redis's pathIsBaseName). */
function plainName(name: string): (v: unknown) => void {
  return (v) => {
    if (/[/\\]/.test(String(v))) throw new ConfigError(`${name} can't be a path, just a filename`);
  };
}

/** Redis's check of `cluster-announce-hostname`: shorter than NET_HOST_STR_LEN, a safe charset. */
function announcedHostname(v: unknown): void {
  const s = String(v);
  if (s.length >= 256) throw new ConfigError("Hostnames must be less than 256 characters");
  if (!/^[A-Za-z0-9.-]*$/.test(s)) {
    throw new ConfigError("Hostnames may only contain alphanumeric characters, hyphens or dots");
  }
}

/** SHUTDOWN's flags, as `shutdown-on-sigint` and `shutdown-on-sigterm` take them. */
const SHUTDOWN_FLAGS = ["save", "nosave", "now", "force"];
const SHUTDOWN_EXTRA: Partial<ConfigDef> = {
  inert: true,
  validate: (v) => {
    if (/\bnosave\b/.test(String(v)) && /\bsave\b/.test(String(v))) {
      throw new ConfigError("shutdown options SAVE and NOSAVE can't be used simultaneously");
    }
  },
};

/** Multi-word directive kept as its normalised text (`save`, `client-output-buffer-limit`). */
function words(
  name: string,
  def: string,
  check: (args: string[]) => string,
  extra: Partial<ConfigDef> = {},
): ConfigDef {
  return {
    name,
    default: def,
    parse: (args) => check(args.length === 1 ? args[0]!.split(/\s+/).filter(Boolean) : args),
    format: (v) => String(v),
    multiArg: true,
    ...extra,
  };
}

/** `latency-tracking-info-percentiles`: numbers from 0 to 100, shown as the shortest decimals. */
function parsePercentiles(args: string[]): string {
  if (args.length === 1 && args[0] === "") return "";
  const out: string[] = [];
  for (const a of args) {
    const v = /^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(a) ? Number(a) : NaN;
    if (!Number.isFinite(v)) {
      throw new ConfigError("Invalid latency-tracking-info-percentiles parameters");
    }
    if (v < 0 || v > 100) {
      throw new ConfigError(
        "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]",
      );
    }
    out.push(String(v));
  }
  return out.join(" ");
}

function parseSave(args: string[]): string {
  if (args.length === 1 && args[0] === "") return "";
  if (args.length % 2 !== 0) throw new ConfigError("Invalid save parameters");
  for (const a of args) {
    if (!/^\d+$/.test(a)) throw new ConfigError("Invalid save parameters");
  }
  return args.join(" ");
}

const OBUF_CLASSES = ["normal", "replica", "slave", "pubsub"];

function parseObuf(args: string[]): string {
  if (args.length % 4 !== 0) {
    throw new ConfigError("Wrong number of arguments in buffer limit configuration.");
  }
  const cur = new Map(parseObufLimits(OBUF_DEFAULT).map((l) => [l.cls, l]));
  for (let i = 0; i < args.length; i += 4) {
    let cls = args[i]!.toLowerCase();
    if (!OBUF_CLASSES.includes(cls)) {
      throw new ConfigError("Invalid client class specified in buffer limit configuration.");
    }
    if (cls === "slave") cls = "replica";
    const hard = parseMemory(args[i + 1]!);
    const soft = parseMemory(args[i + 2]!);
    const secs = /^\d+$/.test(args[i + 3]!) ? Number(args[i + 3]) : undefined;
    if (hard === undefined || soft === undefined || secs === undefined) {
      throw new ConfigError(
        "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
      );
    }
    cur.set(cls, { cls, hard, soft, seconds: secs });
  }
  return ["normal", "replica", "pubsub"].map((c) => {
    const l = cur.get(c)!;
    return `${c === "replica" ? "slave" : c} ${l.hard} ${l.soft} ${l.seconds}`;
  }).join(" ");
}

const OBUF_DEFAULT = "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60";

/** One class's output buffer limit. */
export interface ObufLimit {
  cls: string;
  hard: number;
  soft: number;
  seconds: number;
}

/** Parses the normalised `client-output-buffer-limit` text. */
export function parseObufLimits(text: string): ObufLimit[] {
  const w = text.split(" ");
  const out: ObufLimit[] = [];
  for (let i = 0; i + 3 < w.length; i += 4) {
    const cls = w[i] === "slave" ? "replica" : w[i]!;
    out.push({ cls, hard: Number(w[i + 1]), soft: Number(w[i + 2]), seconds: Number(w[i + 3]) });
  }
  return out;
}

/** Letters of `notify-keyspace-events`, in Redis's canonical output order. */
const NOTIFY_LETTERS = "KEg$lshzxetmdn";

function parseNotify(args: string[]): string {
  const text = oneArg(args);
  let set = new Set<string>();
  for (const ch of text) {
    if (ch === "A") { for (const c of "g$lshzxetd") set.add(c); }
    else if (NOTIFY_LETTERS.includes(ch)) set.add(ch);
    else throw new ConfigError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
  }
  // Without K or E nothing is delivered; Redis then stores the empty set.
  if (!set.has("K") && !set.has("E")) set = new Set();
  let out = "";
  const all = [..."g$lshzxetd"].every((c) => set.has(c));
  if (all) out += "A";
  for (const c of "g$lshzxetd") if (!all && set.has(c)) out += c;
  if (set.has("m")) out += "m";
  if (set.has("n")) out += "n";
  if (set.has("K")) out += "K";
  if (set.has("E")) out += "E";
  return out;
}

function parseBind(args: string[]): string {
  if (args.length === 0) throw new ConfigError("Too many bind addresses specified.");
  return args.join(" ");
}

function parseReplicaOf(args: string[]): string {
  if (args.length === 2 && args[0]!.toLowerCase() === "no" && args[1]!.toLowerCase() === "one") {
    return "";
  }
  if (args.length !== 2) throw new ConfigError("wrong number of arguments");
  const port = /^[+-]?\d+$/.test(args[1]!) ? Number(args[1]) : -1;
  if (port < 0 || port > 65535) throw new ConfigError("Invalid master port");
  return `${args[0]} ${port}`;
}

const MAXMEMORY_POLICIES = [
  "volatile-lru",
  "volatile-lfu",
  "volatile-random",
  "volatile-ttl",
  "allkeys-lru",
  "allkeys-lfu",
  "allkeys-random",
  "noeviction",
];

const inert = { inert: true } as const;
const fixed = { inert: true, immutable: true } as const;

/**
 * The rest of Redis 7.0's table: features redeno does not have (cluster, unix sockets, CPU
 * affinity, syslog, active defrag, fsync pacing). A redis.conf that sets them still loads; main.ts
 * names the ones a config sets as ignored.
 */
const UNSUPPORTED: ConfigDef[] = [
  int("active-defrag-cycle-min", 1, 1, 99, inert),
  int("active-defrag-cycle-max", 25, 1, 99, inert),
  mem("active-defrag-ignore-bytes", 100 * 1024 * 1024, 1, LLONG_MAX, inert),
  int("active-defrag-max-scan-fields", 1000, 1, LLONG_MAX, inert),
  int("active-defrag-threshold-lower", 10, 0, 1000, inert),
  int("active-defrag-threshold-upper", 100, 0, 1000, inert),
  bool("aof-disable-auto-gc", false, inert),
  bool("aof-rewrite-incremental-fsync", true, inert),
  bool("rdb-save-incremental-fsync", true, inert),
  ...["server_cpulist", "bio_cpulist", "aof_rewrite_cpulist", "bgsave_cpulist"].map((n) =>
    str(n, "", fixed)
  ),
  str("bind-source-addr", "", inert),
  str("proc-title-template", "{title} {listen-addr} {server-mode}", inert),
  bool("replica-ignore-disk-write-errors", false, inert),
  int("socket-mark-id", 0, 0, 4294967295, inert),
  choice("syslog-facility", "local0", [
    "user",
    ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => `local${i}`),
  ], fixed),
  str("syslog-ident", "redis", fixed),
  str("unixsocket", "", fixed),
  {
    ...int("unixsocketperm", 0, 0, 0o777, fixed),
    // An octal mode, as Redis reads it (`unixsocketperm 700`).
    parse: (args) => {
      const text = oneArg(args);
      if (!/^[0-7]+$/.test(text) || parseInt(text, 8) > 0o777) {
        throw new ConfigError("argument must be between 0 and 777 inclusive");
      }
      return parseInt(text, 8);
    },
    format: (v) => (v as number).toString(8),
  },
  // TLS for the cluster bus: there is no cluster.
  bool("tls-cluster", false, inert),
  // Cluster mode and its bus (cluster/): the ones they read are live, the others inert.
  str("cluster-config-file", "nodes.conf", { immutable: true }),
  int("cluster-port", 0, 0, 65535, { immutable: true }),
  int("cluster-node-timeout", 15000, 0, LLONG_MAX),
  int("cluster-migration-barrier", 1, 0, INT_MAX, inert),
  int("cluster-replica-validity-factor", 10, 0, INT_MAX, {
    alias: "cluster-slave-validity-factor",
    inert: true,
  }),
  bool("cluster-replica-no-failover", false, { alias: "cluster-slave-no-failover" }),
  bool("cluster-require-full-coverage", true),
  bool("cluster-allow-reads-when-down", false),
  bool("cluster-allow-pubsubshard-when-down", true),
  bool("cluster-allow-replica-migration", true),
  str("cluster-announce-ip", ""),
  str("cluster-announce-hostname", "", { validate: announcedHostname }),
  int("cluster-announce-port", 0, 0, 65535),
  int("cluster-announce-bus-port", 0, 0, 65535),
  int("cluster-announce-tls-port", 0, 0, 65535, inert),
  choice("cluster-preferred-endpoint-type", "ip", ["ip", "hostname", "unknown-endpoint"]),
  mem("cluster-link-sendbuf-limit", 0, 0, LLONG_MAX, inert),
];

/**
 * Directives Redis 7.0 still reads but ignores (its `deprecated_configs`): a config file may set
 * them with one argument.
 */
export const DEPRECATED_DIRECTIVES: readonly string[] = [
  "list-max-ziplist-entries",
  "list-max-ziplist-value",
  "lua-replicate-commands",
];

/** A version as Redis prints its own: `major.minor.patch`, numbers only. */
function parseVersion(args: string[]): string {
  const v = oneArg(args);
  if (!/^\d{1,5}\.\d{1,5}\.\d{1,5}$/.test(v)) {
    throw new ConfigError("argument must be a version: major.minor.patch");
  }
  return v;
}

/** Every directive redeno knows, in the order CONFIG GET * lists them. */
export const CONFIG_DEFS: ConfigDef[] = [
  int("port", 6379, 0, 65535),
  words("bind", "127.0.0.1", parseBind),
  str("requirepass", "", { sensitive: true }),
  str("aclfile", "", { immutable: true }),
  int("databases", 16, 1, INT_MAX, { immutable: true }),
  // Redis accepts any hz and caps it to 1..500 (updateHZ), without a word.
  int("hz", 10, 0, INT_MAX, { adjust: (v) => Math.min(500, Math.max(1, v as number)) }),
  int("maxclients", 10000, 1, 4294967295),
  int("timeout", 0, 0, INT_MAX),
  int("tcp-keepalive", 300, 0, INT_MAX),
  int("tcp-backlog", 511, 0, INT_MAX, { immutable: true, inert: true }),
  mem("proto-max-bulk-len", 512 * 1024 * 1024, 1024 * 1024, LLONG_MAX),
  mem("client-query-buffer-limit", 1024 * 1024 * 1024, 1024 * 1024, LLONG_MAX),
  words("client-output-buffer-limit", OBUF_DEFAULT, parseObuf),
  str("notify-keyspace-events", "", { parse: parseNotify }),
  int("slowlog-log-slower-than", 10000, -1, LLONG_MAX),
  int("slowlog-max-len", 128, 0, LLONG_MAX),
  int("latency-monitor-threshold", 0, 0, LLONG_MAX),
  bool("latency-tracking", true),
  words("latency-tracking-info-percentiles", "50 99 99.9", parsePercentiles),
  mem("maxmemory", 0, 0, LLONG_MAX),
  choice("maxmemory-policy", "noeviction", MAXMEMORY_POLICIES),
  int("maxmemory-samples", 5, 1, INT_MAX),
  int("maxmemory-eviction-tenacity", 10, 0, 100),
  {
    name: "maxmemory-clients",
    default: 0,
    // A memory value, or a percentage of maxmemory written as `N%` (reported back as `N%`).
    parse: (args) => {
      const text = oneArg(args);
      const pct = /^(\d+)%$/.exec(text);
      if (pct) {
        const n = Number(pct[1]);
        if (n > 100) throw new ConfigError("percentage argument must be less or equal to 100");
        return `${n}%`;
      }
      const n = parseMemory(text);
      if (n === undefined) throw new ConfigError("argument must be a memory or percent value");
      return n;
    },
    format: (v) => String(v),
  },
  int("lfu-log-factor", 10, 0, INT_MAX),
  int("lfu-decay-time", 1, 0, INT_MAX),
  int("active-expire-effort", 1, 1, 10),
  bool("activerehashing", true, { inert: true }),
  bool("activedefrag", false, { inert: true }),
  bool("dynamic-hz", true, { inert: true }),
  bool("protected-mode", true),
  bool("daemonize", false, { immutable: true }),
  str("pidfile", "", { immutable: true }),
  choice("loglevel", "notice", ["debug", "verbose", "notice", "warning"]),
  str("logfile", "", { immutable: true }),
  bool("always-show-logo", false, { immutable: true, inert: true }),
  bool("set-proc-title", true, { immutable: true, inert: true }),
  int("io-threads", 1, 1, 128, { immutable: true, inert: true }),
  bool("io-threads-do-reads", false, { immutable: true, inert: true }),
  choice("enable-debug-command", "no", ["yes", "no", "local"], { immutable: true }),
  choice("enable-protected-configs", "no", ["yes", "no", "local"], { immutable: true }),
  choice("enable-module-command", "no", ["yes", "no", "local"], { immutable: true }),
  str("dir", ".", { protectedConfig: true }),
  str("dbfilename", "dump.rdb", { protectedConfig: true, validate: plainName("dbfilename") }),
  // Embedded servers have no save points; main.ts gives redis-server's (README, Configuration).
  words("save", "", parseSave),
  bool("rdbcompression", true),
  bool("rdbchecksum", true, { immutable: true }),
  bool("stop-writes-on-bgsave-error", true),
  bool("rdb-del-sync-files", false, { inert: true }),
  bool("appendonly", false),
  choice("appendfsync", "everysec", ["always", "everysec", "no"]),
  str("appendfilename", "appendonly.aof", {
    immutable: true,
    validate: baseName("appendfilename", "filename"),
  }),
  str("appenddirname", "appendonlydir", {
    immutable: true,
    validate: baseName("appenddirname", "dirname"),
  }),
  bool("aof-use-rdb-preamble", true),
  bool("aof-load-truncated", true),
  bool("aof-timestamp-enabled", false),
  int("auto-aof-rewrite-percentage", 100, 0, INT_MAX),
  mem("auto-aof-rewrite-min-size", 64 * 1024 * 1024, 0, LLONG_MAX),
  bool("no-appendfsync-on-rewrite", false),
  bool("lazyfree-lazy-eviction", false),
  bool("lazyfree-lazy-expire", false),
  bool("lazyfree-lazy-server-del", false, { inert: true }),
  bool("lazyfree-lazy-user-del", false),
  bool("lazyfree-lazy-user-flush", false),
  // Any int, as Redis: below -5 counts as -5 (the RDB writer clamps it).
  int("list-max-listpack-size", -2, -2147483648, INT_MAX, { alias: "list-max-ziplist-size" }),
  int("list-compress-depth", 0, 0, INT_MAX, { inert: true }),
  int("hash-max-listpack-entries", 512, 0, LLONG_MAX, { alias: "hash-max-ziplist-entries" }),
  mem("hash-max-listpack-value", 64, 0, LLONG_MAX, { alias: "hash-max-ziplist-value" }),
  int("set-max-intset-entries", 512, 0, LLONG_MAX),
  int("zset-max-listpack-entries", 128, 0, LLONG_MAX, { alias: "zset-max-ziplist-entries" }),
  mem("zset-max-listpack-value", 64, 0, LLONG_MAX, { alias: "zset-max-ziplist-value" }),
  mem("stream-node-max-bytes", 4096, 0, LLONG_MAX),
  int("stream-node-max-entries", 100, 0, LLONG_MAX),
  mem("hll-sparse-max-bytes", 3000, 0, LLONG_MAX),
  int("busy-reply-threshold", 5000, 0, LLONG_MAX, { alias: "lua-time-limit" }),
  words("replicaof", "", parseReplicaOf, { alias: "slaveof", immutable: true }),
  str("masterauth", "", { sensitive: true }),
  str("masteruser", "", { sensitive: true }),
  bool("replica-read-only", true, { alias: "slave-read-only" }),
  bool("replica-serve-stale-data", true, { alias: "slave-serve-stale-data" }),
  bool("replica-lazy-flush", false, { alias: "slave-lazy-flush", inert: true }),
  bool("replica-ignore-maxmemory", true, { alias: "slave-ignore-maxmemory" }),
  int("replica-priority", 100, 0, INT_MAX, { alias: "slave-priority", inert: true }),
  str("replica-announce-ip", "", { alias: "slave-announce-ip" }),
  int("replica-announce-port", 0, 0, 65535, { alias: "slave-announce-port" }),
  bool("replica-announced", true, { inert: true }),
  // resizeReplicationBacklog raises anything smaller to 16 KB.
  mem("repl-backlog-size", 1024 * 1024, 1, LLONG_MAX, {
    adjust: (v) => Math.max(16 * 1024, v as number),
  }),
  int("repl-backlog-ttl", 3600, 0, LLONG_MAX),
  int("repl-ping-replica-period", 10, 1, INT_MAX, { alias: "repl-ping-slave-period" }),
  int("repl-timeout", 60, 1, INT_MAX),
  bool("repl-diskless-sync", true),
  int("repl-diskless-sync-delay", 5, 0, INT_MAX),
  int("repl-diskless-sync-max-replicas", 0, 0, INT_MAX),
  choice("repl-diskless-load", "disabled", ["disabled", "on-empty-db", "swapdb"], { inert: true }),
  bool("repl-disable-tcp-nodelay", false, { inert: true }),
  int("min-replicas-to-write", 0, 0, INT_MAX, { alias: "min-slaves-to-write" }),
  int("min-replicas-max-lag", 10, 0, INT_MAX, { alias: "min-slaves-max-lag" }),
  int("shutdown-timeout", 10, 0, INT_MAX),
  flags("shutdown-on-sigint", "default", SHUTDOWN_FLAGS, SHUTDOWN_EXTRA),
  flags("shutdown-on-sigterm", "default", SHUTDOWN_FLAGS, SHUTDOWN_EXTRA),
  int("tracking-table-max-keys", 1000000, 0, LLONG_MAX),
  int("acllog-max-len", 128, 0, LLONG_MAX),
  choice("acl-pubsub-default", "resetchannels", ["allchannels", "resetchannels"]),
  choice("sanitize-dump-payload", "no", ["no", "yes", "clients"], { inert: true }),
  choice("propagation-error-behavior", "ignore", ["ignore", "panic", "panic-on-replicas"], {
    inert: true,
  }),
  bool("crash-log-enabled", true, { inert: true }),
  bool("crash-memcheck-enabled", true, { inert: true }),
  choice("oom-score-adj", "no", ["no", "yes", "relative", "absolute"], { inert: true }),
  words("oom-score-adj-values", "0 200 800", (a) => a.join(" "), { inert: true }),
  bool("disable-thp", true, { immutable: true, inert: true }),
  bool("jemalloc-bg-thread", true, { inert: true }),
  bool("cluster-enabled", false, { immutable: true }),
  // Decides, as in Redis, whether `daemonize yes` forks (not under upstart or systemd).
  choice("supervised", "no", ["upstart", "systemd", "auto", "no"], { immutable: true }),
  bool("syslog-enabled", false, { immutable: true, inert: true }),
  str("ignore-warnings", "", { inert: true }),
  int("key-load-delay", 0, -2147483648, INT_MAX, { inert: true, hidden: true }),
  int("rdb-key-save-delay", 0, -2147483648, INT_MAX, { inert: true, hidden: true }),
  bool("use-exit-on-panic", false, { inert: true, hidden: true }),
  int("watchdog-period", 0, 0, INT_MAX, { inert: true, hidden: true }),
  int("loading-process-events-interval-bytes", 2 * 1024 * 1024, 1024, INT_MAX, {
    inert: true,
    hidden: true,
  }),
  // redeno's own: the version INFO, HELLO, LOLWUT and RDB files report (clients gate on it).
  str("reported-redis-version", REDIS_COMPAT_VERSION, { parse: parseVersion }),
  ...DEFS_72_74,
  ...TLS_DEFS,
  ...UNSUPPORTED,
];
