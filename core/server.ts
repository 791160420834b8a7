/**
 * The server: databases, registry, clients, config, hooks and the command call path.
 *
 * @module
 */

import { Blocking } from "./blocking.ts";
import { PubSub } from "./pubsub.ts";
import { OutputLimits } from "./output_limits.ts";
import { protectedCommandGate } from "./protected.ts";
import { Monitors } from "./monitor.ts";
import { LatencyMonitor, recordLatency } from "./latency.ts";
import { ClientPause } from "./pause.ts";
import { Transactions } from "./transactions.ts";
import { CF, type Client } from "./client.ts";
import { type Clock, systemClock, TurnClock } from "./clock.ts";
import { type Command, type CommandSpec, F } from "./command.ts";
import { Config } from "./config.ts";
import { CommandRegistry } from "./registry.ts";
import { Effects } from "./effects.ts";
import { BatchTimer } from "./batch_timer.ts";
import { randomHex } from "./bytes.ts";
import { type Gate, type HookMap, Hooks } from "./hooks.ts";
import { GateList } from "./gates.ts";
import { Database, type KeyspaceHost, type Value } from "./keyspace/database.ts";
import type { TlsSettings, Transport } from "./net/transport.ts";
import {
  type ListenAddress,
  type ListenerInfo,
  type ServerListenOptions,
  ServerNet,
} from "./server_net.ts";
import { ErrorReply, R, type Reply } from "./resp/reply.ts";
import { Logger, type LogLevel } from "./log.ts";
import type {
  InfoSection,
  LocalSession,
  Plugin,
  ServerOptions,
  SlowlogEntry,
} from "./server_types.ts";

export type { InfoSection, LocalSession, Plugin, ServerOptions, SlowlogEntry };
import { Stats } from "./stats.ts";
import { N } from "./notify.ts";
import { accessStamps } from "./keyspace/access.ts";
import { createSession } from "./session.ts";
import { aofOf } from "./persistence/aof.ts";
import { rdbOf } from "./persistence/rdb_file.ts";
import { logIfSlow } from "./slowlog.ts";
import type { WriteSink } from "./keyspace/write_log.ts";
import { WriteJobs } from "./write_jobs.ts";
import { settleWrites } from "./write_settle.ts";
import { MemoryMeter } from "./memory/usage.ts";
import { Evictor } from "./memory/evict.ts";
import { MemoryGateSwitch } from "./memory/oom.ts";
import { bigArgGate } from "./types/big_string.ts";
import { heapExhausted } from "./heap.ts";
import { accessGate, Acl } from "./acl/acl.ts";
import { Tracking } from "./tracking.ts";

/** A redeno server. Create it with `createServer` from `mod.ts`. */
export class Server implements KeyspaceHost {
  /** Config directives, as CONFIG GET and CONFIG SET see them. */
  readonly config: Config = new Config();
  /** The time source. */
  readonly clock: Clock;
  /** The numbered databases (the `databases` directive). */
  readonly dbs: Database[] = [];
  /** Connected clients and in-process sessions, by ID. */
  readonly clients: Map<number, Client> = new Map();
  /**
   * Listener lists of every hook; register listeners with `on()`.
   *
   * @internal
   */
  readonly hooks: Hooks = new Hooks();
  /**
   * Counters behind INFO stats.
   *
   * @internal
   */
  readonly stats: Stats = new Stats();
  /**
   * Clients blocked on keys (BLPOP & co.).
   *
   * @internal
   */
  readonly blocking: Blocking;
  /**
   * Channels, patterns and keyspace notifications.
   *
   * @internal
   */
  readonly pubsub: PubSub;
  /**
   * Clients in MONITOR mode.
   *
   * @internal
   */
  readonly monitors: Monitors;
  /**
   * CLIENT PAUSE (core/pause.ts).
   *
   * @internal
   */
  readonly pause: ClientPause;
  /**
   * MULTI/EXEC and WATCH.
   *
   * @internal
   */
  readonly transactions: Transactions;
  /**
   * Client-side caching (CLIENT TRACKING).
   *
   * @internal
   */
  readonly tracking: Tracking;
  /**
   * The output buffer limits of clients (`client-output-buffer-limit`, the unauthenticated cap).
   *
   * @internal
   */
  readonly outputLimits: OutputLimits;
  /** Writes a log line at `level` (lines below the `loglevel` directive are dropped). */
  readonly log: (level: LogLevel, message: string) => void;
  /** Request size limits (`proto-max-bulk-len`, `client-query-buffer-limit`). */
  readonly parserLimits: { maxBulkLen: number; queryBufferLimit: number } = {
    maxBulkLen: 512 * 1024 * 1024,
    queryBufferLimit: 1024 * 1024 * 1024,
  };
  /** Access stamp of keys read now (see core/keyspace/access.ts). */
  accessStamp = 0;
  /** True while a command of a CLIENT NO-TOUCH client runs: reads leave access stamps alone. */
  noTouch = false;
  /** Access stamp of keys written now. */
  newStamp = 0;
  /** Under an LFU policy, how a read updates a key's stamp. */
  lfuUpdate: ((old: number) => number) | undefined;
  /**
   * Latency events (LATENCY LATEST, HISTORY...), see core/latency.ts.
   *
   * @internal
   */
  readonly latency: LatencyMonitor = new LatencyMonitor(this);
  /** `used_memory` and its parts (see core/memory/usage.ts). */
  readonly memory: MemoryMeter = new MemoryMeter(this);
  /**
   * maxmemory eviction (see core/memory/evict.ts).
   *
   * @internal
   */
  readonly evictor: Evictor = new Evictor(this);
  /** The `maxmemory` directive, in bytes (0: no limit). */
  maxmemory = 0;
  /** True when `maxmemory-clients` is set: client memory is checked before commands. */
  clientEviction = false;
  /**
   * True when the running top-level command found the server out of memory (Redis's
   * pre_command_oom_state): scripts refuse their first `denyoom` call then.
   */
  preCommandOom = false;
  /**
   * Answers true when memory is short whatever `maxmemory` says: `denyoom` commands are then
   * refused with the OOM error. Called before every command with the bytes a `denyoom` command
   * brings (0 for others); by default the heap's check (core/heap.ts: the JavaScript heap near its
   * limit, or the machine near full when watched).
   */
  memoryGuard: (incomingBytes: number) => boolean = heapExhausted;
  /** Which commands the maxmemory gate checks now (core/memory/oom.ts). */
  private memoryGateSwitch: MemoryGateSwitch | undefined;
  /** Number of writes since the last save (Redis's `server.dirty`). */
  dirty = 0;
  /** Time (ms) for expiry decisions: read once per batch of commands (see tick()). */
  time = 0;
  /**
   * ACL users and log (core/acl/).
   *
   * @internal
   */
  readonly acl: Acl;
  /** Host and port of our master, when replicating; set by the replication plugin. */
  masterHost: string | undefined;
  /** The client currently executing a command (undefined between commands). */
  current: Client | undefined;
  /** The client whose top-level command (sent on its connection) is running. */
  caller: Client | undefined;
  /** The argv of the command executing now (a command that blocks keeps it for the slow log). */
  runningArgv: string[] | undefined;
  /**
   * When the last command to start was started (performance.now()), if it is timed, else 0: a
   * script's start time without a second clock read (~0.1 µs on Deno).
   */
  commandStart = 0;
  /** The slow log, newest entry first. */
  readonly slowlog: SlowlogEntry[] = [];
  /** ID of the next slow log entry. */
  slowlogNextId = 0;
  /** Start time (ms, the server clock). */
  readonly startedAt: number;
  /** Time of the last successful save (ms); the start time until a save happens. */
  lastSave: number;
  /** SHUTDOWN's SAVE/NOSAVE choice (undefined: save when save points are configured). */
  shutdownSave: boolean | undefined;
  /** A random 40-hex-digit ID of this run (INFO's `run_id`). */
  readonly runId: string;
  /** Plugins set up, by name. */
  readonly plugins: Map<string, Plugin> = new Map();
  /** INFO sections by lowercase name, in output order; plugins add or replace sections. */
  readonly infoSections: Map<string, InfoSection> = new Map();
  /** Extra fields plugins add to the built-in INFO sections, by section name. */
  readonly infoFields: Map<string, Array<() => Array<[string, string | number]>>> = new Map();
  /**
   * Set while a script runs past busy-reply-threshold: the BUSY error other clients get. The
   * active expiry cycle pauses meanwhile (scripts see a frozen dataset).
   */
  busy: ErrorReply | undefined;
  /**
   * Set by the replication plugin on a master with `min-replicas-to-write`: the NOREPLICAS error
   * while too few replicas are good, else undefined. Scripts check it before their first write.
   */
  noReplicasError: (() => ErrorReply | undefined) | undefined;
  /**
   * Set by the cluster plugin in cluster mode: checks a command a script runs against the slot
   * table (the keys must be served here, and in one slot unless `allowCrossSlot`). Returns the
   * script error text, or undefined.
   */
  scriptClusterCheck:
    | ((
      caller: Client,
      cmd: Command,
      argv: string[],
      allowCrossSlot: boolean,
    ) => string | undefined)
    | undefined;
  /** Path of the config file the server started from, for CONFIG REWRITE. */
  configFile: string | undefined;
  /** False after `DEBUG SET-ACTIVE-EXPIRE 0`: keys then expire only when accessed. */
  activeExpireEnabled = true;
  /** `DEBUG DROP-CLUSTER-PACKET-FILTER <type>`: cluster bus messages of that type are dropped (-1: none). */
  clusterDropPacketFilter: number = -1;
  /**
   * `DEBUG CLUSTERLINK KILL <to|from|all> <node-id>` (set by the cluster bus): closes the links
   * with that node; returns the error text, if any.
   */
  clusterLinkKill: ((direction: string, nodeId: string) => string | undefined) | undefined;
  /** Which socket layer to use on Deno (`deno` = Deno.listen, `node` = node:net). */
  netAdapterName: "deno" | "node" | undefined;
  private readonly registry = new CommandRegistry();
  private readonly gates = new GateList();
  private readonly net: ServerNet;
  private readonly logger: Logger;

  /** The role letter of log lines: `M` master, `S` replica (set by the replication plugin). */
  set logRole(role: "M" | "S") {
    this.logger.role = role;
  }
  /**
   * Effects of the running top-level command (see core/effects.ts).
   *
   * @internal
   */
  readonly effects: Effects = new Effects(this.hooks);
  /**
   * Where the keyspace API reports writes now: undefined while a built-in command runs, a log
   * while a plugin's command runs, and between commands a sink that opens a log for the current
   * job (see core/keyspace/write_log.ts).
   */
  writes: WriteSink | undefined;
  private readonly jobs = new WriteJobs(this);
  private callDepth = 0;
  private readonly batch = new BatchTimer();
  private readonly turnClock = new TurnClock();
  private sealed = false;
  private loaded = false;
  private local: LocalSession | undefined;

  /**
   * Creates a server with no commands; `createServer` from `mod.ts` adds the built-in ones.
   *
   * @param options see {@linkcode ServerOptions}
   */
  constructor(options: ServerOptions = {}) {
    this.acl = new Acl(this, this.registry);
    this.writes = this.jobs.idle;
    this.clock = options.clock ?? systemClock;
    this.time = this.clock.now();
    this.startedAt = this.time;
    this.lastSave = this.time;
    this.runId = randomHex(40);
    this.logger = new Logger(options.log);
    this.net = new ServerNet(this);
    this.blocking = new Blocking(this);
    this.pause = new ClientPause(this);
    this.configFile = options.configFile;
    this.netAdapterName = options.net;
    this.log = (level, message) => this.logger.log(level, message);
    this.config.onChange((name, value) => this.applyConfig(name, value));
    for (const plugin of options.plugins ?? []) this.defineConfig(plugin);
    if (options.config) this.config.setFromOptions(options.config);
    for (const [def] of this.config.entries()) {
      this.applyConfig(def.name, this.config.get(def.name));
    }
    const n = this.config.num("databases");
    for (let i = 0; i < n; i++) this.dbs.push(new Database(i, this));
    this.addGate(bigArgGate, 5, CF.bigArgs);
    // Only commands flagged protected (DEBUG, MODULE) can be refused by protected-* options.
    this.gates.add(protectedCommandGate, 8, 0, F.protected);
    // One gate for both, so that the clients of the default user (neither flag) pay nothing.
    this.addGate(accessGate, 10, CF.unauthenticated | CF.restricted);
    this.memoryGateSwitch = new MemoryGateSwitch(this);
    this.outputLimits = new OutputLimits(this);
    this.pubsub = new PubSub(this);
    this.monitors = new Monitors(this);
    this.transactions = new Transactions(this);
    this.tracking = new Tracking(this);
    aofOf(this);
    rdbOf(this);
    for (const spec of options.commands ?? []) this.registerCommand(spec);
    for (const plugin of options.plugins ?? []) this.use(plugin);
  }

  /** Mirrors a directive's new value into the server's own fields. */
  private applyConfig(name: string, value: unknown): void {
    switch (name) {
      case "proto-max-bulk-len":
        this.parserLimits.maxBulkLen = value as number;
        break;
      case "client-query-buffer-limit":
        this.parserLimits.queryBufferLimit = value as number;
        break;
      case "requirepass":
        this.acl.setDefaultPassword(value as string);
        break;
      case "acl-pubsub-default":
        this.acl.pubsub.allChannels = value === "allchannels";
        break;
      case "acllog-max-len":
        this.acl.log.maxLen = value as number;
        this.acl.log.trim();
        break;
      case "loglevel":
        this.logger.level = value as LogLevel;
        break;
      case "maxmemory":
        this.maxmemory = value as number;
        // Over the new limit: evict from a timer, outside the running command (CONFIG SET).
        if (this.maxmemory !== 0 && this.evictor !== undefined) this.evictor.startTimer();
        this.memoryGateSwitch?.update();
        break;
      case "maxmemory-clients":
        this.clientEviction = value !== 0 && value !== "0%";
        this.memoryGateSwitch?.update();
        break;
      case "maxmemory-policy":
      case "lfu-log-factor":
      case "lfu-decay-time":
        this.updateStamps();
        break;
      case "latency-monitor-threshold":
        this.latency.threshold = value as number;
        break;
      case "latency-tracking":
        this.latency.tracking = value as boolean;
        break;
      case "slowlog-log-slower-than":
        this.stats.slowlogThreshold = value as number;
        break;
      case "hz":
        this.net?.restartCron();
        break;
    }
  }

  // ---- plugins and registration -------------------------------------------------------------

  /** Sets up a plugin; refused after `listen` or when its name or a command name is taken. */
  use(plugin: Plugin): void {
    if (this.sealed) throw new Error(`Cannot register plugin after listen: ${plugin.name}`);
    if (this.plugins.has(plugin.name)) throw new Error(`Plugin already registered: ${plugin.name}`);
    for (const dep of plugin.dependencies ?? []) {
      if (!this.plugins.has(dep)) {
        throw new Error(`Plugin ${plugin.name} depends on missing plugin: ${dep}`);
      }
    }
    this.plugins.set(plugin.name, plugin);
    this.defineConfig(plugin);
    plugin.setup(this);
  }

  /** Defines a plugin's config directives, once (createServer defines them before its config). */
  private defineConfig(plugin: Plugin): void {
    if (this.configDefined.has(plugin)) return;
    this.configDefined.add(plugin);
    for (const param of plugin.config ?? []) this.config.define(param);
  }

  private readonly configDefined = new WeakSet<Plugin>();

  /** Registers a command; throws when the name is taken or the server already listens. */
  registerCommand(spec: CommandSpec): Command {
    if (this.sealed) throw new Error(`Cannot register command after listen: ${spec.name}`);
    return this.registry.register(spec);
  }

  /**
   * Adds a gate that runs before every command (after the unknown-command and arity checks).
   * Gates run by ascending `order` (default 50; the MULTI queueing gate is 100, the last). A gate
   * given client flags in `when` only runs for clients with one of them set (subscribed, in
   * MULTI...), which keeps the common path free of calls.
   */
  addGate(gate: Gate, order = 50, when = 0): void {
    this.gates.add(gate, order, when);
  }

  /** Removes a gate added with addGate. */
  removeGate(gate: Gate): void {
    this.gates.remove(gate);
  }

  /** Adds a hook listener. */
  on<K extends keyof HookMap>(name: K, listener: HookMap[K]): void {
    this.hooks.on(name, listener);
  }

  /** The registered command called `name` (any case), if any. */
  command(name: string): Command | undefined {
    return this.registry.command(name);
  }

  /** Every registered top-level command. */
  allCommands(): IterableIterator<Command> {
    return this.registry.all();
  }

  // ---- the call path -------------------------------------------------------------------------

  /** Looks up argv's command (and subcommand) or returns Redis's error text. */
  resolve(argv: string[]): Command | string {
    return this.registry.resolve(argv);
  }

  /**
   * Reads the clock for the commands about to run (one batch of input, a timer, a wake-up).
   * Commands of one batch see one instant, as commands of one Redis event-loop iteration do.
   *
   * @param reuse the batch is input read from a socket: the reading of this event-loop turn will
   *   do (see TurnClock in core/clock.ts)
   */
  tick(reuse = false): void {
    if (this.callDepth !== 0) return;
    const sampling = this.batch.sampling;
    const system = this.clock === systemClock;
    const now = system ? this.turnClock.read(reuse && !sampling) : this.clock.now();
    if (now !== this.time) {
      this.time = now;
      this.updateStamps();
    }
    // A sampled batch is timed with the wall clock, read fresh above for the system clock.
    this.batch.begin(!sampling ? 0 : system ? now : Date.now());
    this.memoryGateSwitch?.update();
  }

  /** Ends a batch started by tick() (see core/batch_timer.ts), before its replies go out. */
  endBatch(): void {
    this.batch.end(this.latency.tracking);
    this.beforeReplies();
  }

  /**
   * Clients whose replies wait for a durability step (the AOF syncs once per event-loop turn
   * for every client under `appendfsync always`): see holdReplies() in core/client.ts.
   */
  heldReplies: Set<Client> | undefined;
  /** Holds of `heldReplies` not yet released (see holdReplies()). */
  replyHolds = 0;

  /** Runs the beforeReplies hooks: called before replies are written to sockets. */
  beforeReplies(): void {
    const hooks = this.hooks.beforeReplies;
    for (let i = 0; i < hooks.length; i++) hooks[i]!();
  }

  /**
   * Loads the data from disk (the `load` hooks: the AOF with `appendonly yes`), once; listen()
   * calls it. Throws when the data cannot be loaded: the server must not start.
   */
  loadData(): void {
    if (this.loaded) return;
    this.loaded = true;
    for (const h of this.hooks.load) h();
  }

  /** Recomputes the access stamps for the current time and eviction policy. */
  private updateStamps(): void {
    const st = accessStamps(this.config, this.time);
    this.accessStamp = st.accessStamp;
    this.newStamp = st.newStamp;
    this.lfuUpdate = st.lfuUpdate;
  }

  /** Runs one command from `client`: resolve, gates, execute, reply, propagate. */
  call(client: Client, argv: string[]): void {
    if (client.replyMode === 2) client.replyMode = 3;
    const top = this.callDepth === 0;
    if (top) this.caller = client;
    const cmd = this.resolve(argv);
    let reply: Reply | undefined;
    if (typeof cmd === "string") {
      reply = this.rejected(client, this.registry.named(argv), new ErrorReply(cmd));
    } else {
      if (this.gates.needed(client.flags, cmd.bits)) reply = this.gate(client, cmd, argv);
      if (reply === undefined) reply = this.execute(client, cmd, argv);
    }
    client.reply(reply);
    // Invalidations of keys the command changed for its own client go after its reply, then
    // the pub/sub messages it published to itself.
    if (this.tracking.hasPending && this.callDepth === 0) this.tracking.flushPending();
    if (top) {
      this.caller = undefined;
      if (this.pubsub.hasDeferred) this.pubsub.flushDeferred();
    }
    if (client.replyMode === 3) client.replyMode = 0;
    if (this.blocking.hasReady && this.callDepth === 0) this.blocking.serveReady();
  }

  /** Runs the gates that apply to `client` and `cmd`: the first reply given is the command's. */
  private gate(client: Client, cmd: Command, argv: string[]): Reply | undefined {
    const gates = this.gates.list;
    for (let i = 0; i < gates.length; i++) {
      const g = gates[i]!;
      if (g.when !== 0 && (client.flags & g.when) === 0) continue;
      if (g.bits !== 0 && (cmd.bits & g.bits) === 0) continue;
      const reply = g.gate(client, cmd, argv);
      if (reply !== undefined) {
        return reply instanceof ErrorReply ? this.rejected(client, cmd, reply) : reply;
      }
    }
    return undefined;
  }

  /** Counts a command refused before it ran; inside MULTI the transaction learns of it. */
  private rejected(client: Client, cmd: Command | undefined, err: ErrorReply): ErrorReply {
    if (cmd !== undefined) cmd.stats.rejected++;
    this.stats.rejectedCalls++;
    if (client.tracking !== undefined) this.tracking.commandRejected(client, cmd);
    // A refused EXEC answers EXECABORT, and that is the error counted, as in Redis.
    const reply = (client.flags & CF.multi) ? this.transactions.rejected(client, cmd, err) : err;
    this.stats.countError(reply);
    return reply;
  }

  /**
   * Runs `fn` as a command of `client` outside its input (serving a blocked client): the time,
   * `current` and the effects flush work as for a top-level command.
   */
  runForClient<T>(client: Client, fn: () => T, tracked = false): T {
    const top = this.callDepth === 0;
    if (top && this.jobs.pending) this.jobs.settleJob();
    this.callDepth++;
    const prev = this.current;
    this.current = client;
    const prevWrites = this.writes;
    const dirty = this.dirty;
    const log = tracked ? this.jobs.log() : undefined;
    this.writes = log;
    try {
      return fn();
    } finally {
      this.writes = prevWrites;
      if (log !== undefined && log.changes !== 0) settleWrites(this, log, dirty);
      this.callDepth--;
      if (top && this.effects.length !== 0) this.effects.flush(true);
      this.current = prev;
    }
  }

  /**
   * Runs `fn` with keyspace writes unlogged: for core code that changes data outside commands and
   * propagates (or deliberately does not propagate) what it did itself, such as loading a dataset.
   */
  untracked<T>(fn: () => T): T {
    const prevWrites = this.writes;
    this.writes = undefined;
    try {
      return fn();
    } finally {
      this.writes = prevWrites;
    }
  }

  /** True while a command runs (its effects are flushed when the top-level one ends). */
  get running(): boolean {
    return this.callDepth !== 0;
  }

  /**
   * Executes a resolved command (no gates): the path EXEC and scripts use for each inner
   * command. Errors thrown as ErrorReply become the reply.
   */
  execute(client: Client, cmd: Command, argv: string[]): Reply {
    const top = this.callDepth === 0;
    if (top && this.jobs.pending) this.jobs.settleJob();
    this.callDepth++;
    const dirty = this.dirty;
    const effects = this.effects.length;
    const prev = this.current;
    this.current = client;
    client.lastCommand = cmd.fullName;
    // O(1) commands are timed per batch (endBatch) unless the slow log wants sub-ms precision.
    const timed = cmd.timed || this.stats.slowlogThreshold < 1000;
    const start = this.commandStart = timed ? performance.now() : 0;
    const prevArgv = this.runningArgv;
    this.runningArgv = argv;
    const prevWrites = this.writes;
    const log = cmd.tracked ? this.jobs.log() : undefined;
    this.writes = log;
    let reply: Reply;
    const noTouch = this.noTouch;
    // CLIENT NO-TOUCH: the caller's flag holds for the commands of its scripts (Redis looks at
    // the calling client and its command, EVAL or TOUCH).
    if ((client.flags & CF.script) === 0) {
      this.noTouch = (client.flags & CF.noTouch) !== 0 && cmd.fullName !== "touch";
    }
    try {
      reply = cmd.execute!(client, argv);
    } catch (e) {
      if (e instanceof ErrorReply) {
        reply = e;
      } else {
        this.log("warning", `Command ${cmd.fullName} failed: ${(e as Error)?.stack ?? e}`);
        reply = new ErrorReply(`ERR ${(e as Error)?.message ?? e}`);
      }
    }
    this.runningArgv = prevArgv;
    this.writes = prevWrites;
    this.noTouch = noTouch;
    let usec = 0;
    if (timed) {
      usec = Math.round((performance.now() - start) * 1000);
      cmd.stats.usec += usec;
      if (this.latency.tracking) recordLatency(cmd, usec);
      if (usec >= 1000) {
        this.turnClock.stale();
        this.latency.addIfNeeded(
          (cmd.bits & F.fast) !== 0 ? "fast-command" : "command",
          usec / 1000,
        );
      }
      if (top) this.batch.timed(usec);
    } else {
      this.batch.untimedCall(cmd);
    }
    this.current = prev;
    this.callDepth--;
    const stats = cmd.stats;
    // A command that blocked is counted (calls, slow log) when it is unblocked (Redis 7.2).
    const blocked = reply === R.none && this.blocking.isBlocked(client, cmd);
    if (!blocked) {
      stats.calls++;
      this.stats.commands++;
    }
    if (reply instanceof ErrorReply) {
      stats.failed++;
      this.stats.countError(reply);
    }
    if (log !== undefined && log.changes !== 0) {
      settleWrites(this, log, dirty);
    } else if (
      this.dirty !== dirty && this.effects.length === effects &&
      this.hooks.propagate.length !== 0 && cmd.propagatesSelf
    ) {
      this.effects.add(client.db.id, argv);
    }
    if (timed && !blocked && (cmd.bits & F.skipSlowlog) === 0) {
      logIfSlow(this, client, cmd, argv, usec);
    }
    if (this.hooks.afterCommand.length !== 0) {
      for (const h of this.hooks.afterCommand) h(client, cmd, argv, reply);
    }
    if (top && this.effects.length !== 0) {
      // The effects are the client's: `current` tells propagate listeners whose (WAIT offsets).
      this.current = client;
      this.effects.flush(cmd.wrapEffects);
      this.current = prev;
    }
    return reply;
  }

  /**
   * Records `argv` as (part of) the running command's effect on `dbIndex`, instead of the
   * command as the client sent it (`SET k v EX 10` → `SET k v PXAT <abs>`).
   */
  replicate(dbIndex: number, argv: string[]): void {
    // The entry is also what tells execute() not to propagate the command's own argv.
    this.effects.add(dbIndex, argv);
  }

  /** True while a command runs inside another one (EXEC, scripts). */
  get nested(): boolean {
    return this.callDepth > 1;
  }

  /** Propagates an effect at once, outside any command (expired keys, lease expiry). */
  propagateNow(dbIndex: number, argv: string[]): void {
    if (this.callDepth > 0 || this.jobs.pending) {
      // Inside a command (or a job whose writes are logged) the effect joins the others, in order.
      this.effects.add(dbIndex, argv);
      return;
    }
    this.effects.emit(dbIndex, argv);
  }

  // ---- KeyspaceHost --------------------------------------------------------------------------

  /** The current command time in ms. */
  now(): number {
    return this.time;
  }

  /** True while replicating from a master. */
  isReplica(): boolean {
    return this.masterHost !== undefined;
  }

  /**
   * True when expired keys stay (reported expired, not deleted): on a replica, but for our
   * master's commands, and while clients are paused (the dataset holds still).
   */
  keepsExpiredKeys(): boolean {
    return (this.masterHost !== undefined && !this.fromMaster()) || this.pause.active;
  }

  /** True when the running command comes from our master. */
  fromMaster(): boolean {
    return this.current !== undefined && (this.current.flags & 4) !== 0;
  }

  /** An expired key was deleted: count, notify, propagate `DEL`. */
  keyExpired(db: Database, key: string): void {
    this.stats.expiredKeys++;
    this.keyModified(db, key);
    this.notify(db, N.expired, "expired", key);
    this.propagateNow(db.id, ["DEL", key]);
  }

  /** Signals a modified key to the listeners (WATCH, tracking), with its value when at hand. */
  keyModified(db: Database, key: string, value?: Value): void {
    const hooks = this.hooks.keyModified;
    for (let i = 0; i < hooks.length; i++) hooks[i]!(db, key, value);
  }

  /** Signals that a database was emptied. */
  dbFlushed(db: Database): void {
    for (const h of this.hooks.dbFlushed) h(db);
  }

  /** Signals that a whole database changed. */
  dbModified(db: Database): void {
    for (const h of this.hooks.dbModified) h(db);
  }

  /**
   * Publishes a keyspace event to the listeners. The opt-in classes (keymiss `m`, new `n`) are
   * only raised when `notify-keyspace-events` enables them: they fire on hot paths.
   */
  notify(db: Database, type: number, event: string, key: string): void {
    if ((type & OPT_IN_EVENTS) !== 0 && (this.pubsub.notifyBits & type) === 0) return;
    const hooks = this.hooks.keyspaceEvent;
    for (let i = 0; i < hooks.length; i++) hooks[i]!(db, type, event, key);
  }

  // ---- in-process use ------------------------------------------------------------------------

  /**
   * A new in-process session with its own client state (database, RESP version...), already
   * authenticated.
   */
  session(): LocalSession {
    return createSession(this);
  }

  /**
   * Runs one command in process, exactly as if a client had sent it, and returns the reply.
   *
   * @param argv the command and its arguments
   * @returns the reply value (errors as ErrorReply values)
   * @example
   * ```ts
   * const server = createServer();
   * server.dispatch(["SET", "k", "v"]); // SimpleString OK
   * server.dispatch(["GET", "k"]); // "v"
   * ```
   */
  dispatch(argv: string[]): Reply {
    this.local ??= this.session();
    return this.local.call(...argv);
  }

  // ---- network and lifecycle (see server_net.ts) -----------------------------------------

  /** Accepts a connection from a transport (the adapters call this). */
  accept(transport: Transport): Client {
    return this.net.accept(transport);
  }

  /** The open listeners, by kind (INFO server's `listener<n>` lines). */
  listening(): ListenerInfo[] {
    return this.net.listening();
  }

  /**
   * Starts listening. Without options, listens on the `port`, `tls-port` and `bind` directives.
   *
   * @param options the plain and TLS ports and the address to listen on
   * @returns the bound address (the real ports when 0 was asked for)
   */
  listen(options: ServerListenOptions = {}): Promise<ListenAddress> {
    this.sealed = true;
    try {
      this.loadData();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.net.listen(options);
  }

  /**
   * The TLS settings to connect to a master with (`tls-replication yes`).
   *
   * @throws ConfigError when the TLS directives do not load
   * @internal
   */
  tlsClientSettings(): TlsSettings {
    return this.net.tls.clientSettings();
  }

  /** One server tick: active expiry, idle client timeout, plugin cron hooks. */
  cron(): void {
    if (this.callDepth !== 0) return;
    this.net.cron();
    // What plugin cron hooks wrote through the keyspace API goes out with this tick.
    if (this.jobs.pending) this.jobs.settleJob();
  }

  /** Stops listening, runs shutdown hooks, and closes every client. */
  close(): Promise<void> {
    this.evictor.stop();
    return this.net.close();
  }

  /** True once {@linkcode close} has begun. */
  get isClosing(): boolean {
    return this.net.isClosing;
  }
}

const OPT_IN_EVENTS = N.keyMiss | N.new;

export { F };
