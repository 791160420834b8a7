/**
 * Running Lua scripts (EVAL and FCALL) as Redis 7.0 does: the commands a script calls run
 * through a script client with Redis's checks (scripts cannot call `noscript` commands,
 * read-only scripts cannot write...), their writes propagate as effects wrapped in MULTI/EXEC
 * by the top-level command, and a script running longer than busy-reply-threshold is paused in
 * slices so other clients get BUSY and SCRIPT KILL / FUNCTION KILL can stop it.
 *
 * The Lua side (states, sandbox, conversions) is scripting/native/engine.c; scripting/lua_vm.ts
 * moves the bytes.
 *
 * @module
 */

import { checkCommand, scriptDenialText } from "../core/acl/check.ts";
import { OOM_ERROR } from "../core/memory/oom.ts";
import { CF, Client } from "../core/client.ts";
import { type Command, F } from "../core/command.ts";
import type { Gate } from "../core/hooks.ts";
import { ErrorReply, R, type Reply } from "../core/resp/reply.ts";
import { ReplyWriter } from "../core/resp/writer.ts";
import type { Server } from "../core/server.ts";
import { LuaVM, Run } from "./lua_vm.ts";
import { formatDouble, formatDouble72 } from "../core/bytes.ts";
import { reportedVersion } from "../core/version.ts";
import { compat } from "../core/compat.ts";

/** Script flags (shebang `flags=` and register_function's `flags`), by bit. */
export const SCRIPT_FLAG_NAMES = [
  "no-writes",
  "allow-oom",
  "allow-stale",
  "no-cluster",
  "allow-cross-slot-keys",
] as const;

/** Script flag bits (the position in SCRIPT_FLAG_NAMES), plus the EVAL-without-shebang mode. */
export const SF = {
  noWrites: 1,
  allowOom: 2,
  allowStale: 4,
  noCluster: 8,
  allowCrossSlot: 16,
  /** An EVAL script without a shebang: Redis 6 rules (no flags, may write). */
  evalCompat: 64,
} as const;

const BUSY_EVAL =
  "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
const BUSY_FUNCTION =
  "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
/** Script time between pauses once a script is past busy-reply-threshold (ms). */
const SLICE_MS = 10;
/** FUNCTION LOAD gives up on library code running longer than this (ms), as Redis does. */
const LOAD_TIMEOUT_MS = 500;

/** A cached EVAL script. */
export interface Script {
  body: string;
  flags: number;
  /** The compiled function in the engine. */
  ref: number;
  /** EVAL created it (not SCRIPT LOAD): it is in evalOrder and may be evicted. */
  evictable: boolean;
}

/** A script run in progress. */
export interface RunCtx {
  caller: Client;
  /** The EVAL or FCALL command line (FUNCTION STATS). */
  argv: string[];
  /** EVAL (true) or FCALL. */
  isEval: boolean;
  /** The SHA (EVAL) or the function name, for error messages. */
  name: string;
  readOnly: boolean;
  /** The script has run a write command: it can no longer be killed. */
  dirty: boolean;
  /** The `allow-oom` flag: `denyoom` commands run even when the server is out of memory. */
  allowOom: boolean;
  /** Cluster mode: the script's commands may use keys of several slots (EVAL without shebang). */
  allowCrossSlot: boolean;
  /** redis.set_repl flags: 3 all, 0 none. */
  repl: number;
  start: number;
  sliceStart: number;
  timedOut: boolean;
  killed: boolean;
  /** The script may be paused (a top-level call from a connected client, not in MULTI). */
  canYield: boolean;
  /** Effects recorded before a pause, given back when the script goes on. */
  effects: Array<[number, string[]]>;
}

/** A run's effects before any pause: none (never added to; a pause puts a list of its own). */
const NO_EFFECTS: Array<[number, string[]]> = [];
/** The caller and command line of the shared RunCtx between runs. */
const NO_CALLER = undefined as unknown as Client;
const NO_ARGV: string[] = [];

const engines = new WeakMap<Server, Scripting>();

/** The scripting state of a server (created on first use). */
export function scriptingOf(server: Server): Scripting {
  let s = engines.get(server);
  if (s === undefined) {
    s = new Scripting(server);
    engines.set(server, s);
  }
  return s;
}

/** The Lua engine of one server: the VM, the run in progress, the script client. */
export class Scripting {
  private vmInstance: LuaVM | undefined;
  /** The client scripts run their commands as. */
  readonly client: Client;
  /** EVAL scripts by SHA-1 (SCRIPT LOAD, first EVAL). */
  readonly scripts = new Map<string, Script>();
  /**
   * The SHA-1s of scripts that EVAL created (not SCRIPT LOAD), least recently run first: Redis
   * 7.4 evicts the oldest past 500 of them.
   */
  readonly evalOrder = new Set<string>();
  /** The run in progress, if any. */
  run: RunCtx | undefined;
  /** The state of every run (see execute()). */
  private readonly ctx: RunCtx = {
    caller: NO_CALLER,
    argv: NO_ARGV,
    isEval: true,
    name: "",
    readOnly: false,
    dirty: false,
    allowOom: false,
    allowCrossSlot: false,
    repl: 3,
    start: 0,
    sliceStart: 0,
    timedOut: false,
    killed: false,
    canYield: false,
    effects: NO_EFFECTS,
  };
  /** The server closed while a script was paused: its slices stop. */
  private stopped = false;
  /** Start of the FUNCTION LOAD in progress (for its timeout), or 0. */
  private loadStart = 0;
  private readonly writer = new ReplyWriter(1024);
  /** Functions registered by the library being loaded (see functions.ts). */
  onRegister:
    | ((name: string, desc: string | undefined, flags: number, ref: number) => string | undefined)
    | undefined;

  /** busy-reply-threshold, in ms (0: scripts are never paused). */
  private threshold: number;

  constructor(readonly server: Server) {
    this.threshold = server.config.num("busy-reply-threshold");
    server.config.onChange((name, value) => {
      if (name === "busy-reply-threshold") this.threshold = value as number;
      else if (name === "reported-redis-version") this.vmInstance?.setVersion(value as string);
    });
    this.writer.compat = compat(server.config);
    this.client = new Client(server, null);
    this.client.flags |= CF.script;
    server.tracking.scriptRun = () => this.run;
    // A script paused in slices must not outlive its server (SHUTDOWN NOSAVE, close()).
    server.on("shutdown", () => {
      if (this.run !== undefined) this.stopped = true;
    });
  }

  /** The VM, instantiated on first use (a few ms). */
  get vm(): LuaVM {
    return this.vmInstance ?? this.createVM();
  }

  /**
   * Instantiates the VM and gives it the reported version (kept across engine resets; a later
   * change of reported-redis-version reaches it through the config listener).
   */
  private createVM(): LuaVM {
    const vm = new LuaVM({
      call: (argv, resp) => this.scriptCall(argv, resp),
      encode: (reply, resp) => {
        const w = this.writer;
        w.truncate(0);
        w.reply(reply, resp);
        return w;
      },
      aclCheck: (argv) => this.aclCheck(argv),
      tick: () => this.tick(),
      log: (level, message) => {
        const levels = ["debug", "verbose", "notice", "warning"] as const;
        this.server.log(levels[level]!, message);
      },
      setRepl: (flags) => {
        if (this.run) this.run.repl = flags;
      },
      register: (name, desc, flags, ref) => this.onRegister?.(name, desc, flags, ref),
      formatDouble: (d) => compat(this.server.config).v72 ? formatDouble72(d) : formatDouble(d),
    });
    vm.setVersion(reportedVersion(this.server.config));
    this.vmInstance = vm;
    return vm;
  }

  /** True once the VM exists. */
  get started(): boolean {
    return this.vmInstance !== undefined;
  }

  /** Bytes of an engine's Lua heap: 0 (EVAL) or 1 (functions); 0 before the VM exists. */
  luaMemory(engine: number): number {
    return this.vmInstance?.memory(engine) ?? 0;
  }

  /**
   * Checks that a script with `flags` may run now (Redis's scriptPrepareForRun). Returns the
   * error, or undefined.
   */
  prepareError(flags: number, ro: boolean): ErrorReply | undefined {
    const server = this.server;
    if ((flags & SF.evalCompat) !== 0) return undefined;
    if ((flags & SF.noCluster) !== 0 && server.config.bool("cluster-enabled")) {
      return new ErrorReply("ERR Can not run script on cluster, 'no-cluster' flag is set.");
    }
    if ((flags & SF.noWrites) === 0) {
      if (server.isReplica() && server.config.bool("replica-read-only") && !server.fromMaster()) {
        return new ErrorReply("READONLY Can not run script with write flag on readonly replica");
      }
      if (ro) {
        return new ErrorReply("ERR Can not execute a script with write flag using *_ro command.");
      }
      const noReplicas = server.fromMaster() ? undefined : server.noReplicasError?.();
      if (noReplicas !== undefined) return noReplicas;
      // A script that may write is a `denyoom` command unless it says `allow-oom`.
      if ((flags & SF.allowOom) === 0 && server.preCommandOom && !server.fromMaster()) {
        return OOM_ERROR;
      }
    }
    return undefined;
  }

  /**
   * Runs compiled EVAL script or library function `ref` for `caller` with `argv[3..]` (the
   * first `nkeys` are keys). Returns its reply, or no reply when it was paused past
   * busy-reply-threshold (the caller then gets it when the script ends).
   */
  execute(
    caller: Client,
    argv: string[],
    isEval: boolean,
    name: string,
    flags: number,
    ro: boolean,
    ref: number,
    nkeys: number,
  ): Reply {
    const server = this.server;
    // The start time of the command running this script, when it was read for its timing.
    const now = server.runningArgv === argv && server.commandStart !== 0
      ? server.commandStart
      : performance.now();
    // One RunCtx serves every run (scripts do not nest, and nothing keeps it past its run):
    // a new one per run was an allocation and a write barrier per field.
    const ctx = this.ctx;
    ctx.caller = caller;
    ctx.argv = argv;
    ctx.isEval = isEval;
    ctx.name = name;
    ctx.readOnly = ro || ((flags & SF.evalCompat) === 0 && (flags & SF.noWrites) !== 0);
    ctx.dirty = false;
    ctx.allowOom = (flags & SF.evalCompat) === 0 && (flags & SF.allowOom) !== 0;
    ctx.allowCrossSlot = (flags & (SF.evalCompat | SF.allowCrossSlot)) !== 0;
    ctx.repl = 3;
    ctx.start = now;
    ctx.sliceStart = now;
    ctx.timedOut = false;
    ctx.killed = false;
    ctx.canYield = !server.nested && caller.transport !== null && (caller.flags & CF.multi) === 0;
    ctx.effects = NO_EFFECTS;
    this.client.db = caller.db;
    this.client.resp = 2;
    // The script's commands run as the caller's user (SORT's BY/GET check reads it), as in Redis.
    server.acl.setClientUser(this.client, caller.user);
    this.run = ctx;
    let r: Run;
    try {
      const hook = this.threshold > 0;
      r = isEval
        ? this.vm.evalStart(ref, argv, 3, nkeys, caller.resp, hook)
        : this.vm.fcallStart(ref, name, argv, 3, nkeys, caller.resp, hook);
    } catch (e) {
      this.run = undefined;
      throw e;
    }
    if (r !== Run.Yielded) return this.finish(ctx);
    // Past busy-reply-threshold: answer BUSY to others and go on in slices.
    ctx.effects = server.effects.take();
    caller.flags |= CF.blocked;
    server.busy = new ErrorReply(isEval ? BUSY_EVAL : BUSY_FUNCTION);
    server.addGate(this.busyGate, 60);
    setTimeout(() => this.slice(), 0);
    return R.none;
  }

  /** Rejects commands without the allow-busy flag while a script is paused. */
  private readonly busyGate: Gate = (_client, cmd) => {
    if ((cmd.bits & F.allowBusy) !== 0) return undefined;
    return this.server.busy;
  };

  private slice(): void {
    const ctx = this.run;
    if (ctx === undefined || this.stopped) return;
    const server = this.server;
    ctx.sliceStart = performance.now();
    const r = server.runForClient(ctx.caller, () => {
      server.effects.restore(ctx.effects);
      ctx.effects = NO_EFFECTS;
      const r = this.vm.resume();
      if (r === Run.Yielded) ctx.effects = server.effects.take();
      return r;
    });
    if (r === Run.Yielded) {
      setTimeout(() => this.slice(), 0);
      return;
    }
    const caller = ctx.caller;
    const reply = this.finish(ctx);
    caller.flags &= ~CF.blocked;
    caller.reply(reply);
    server.beforeReplies();
    caller.flush();
    if (server.tracking.hasPending) server.tracking.flushPending();
    queueMicrotask(() => caller.resumeInput());
  }

  private finish(ctx: RunCtx): Reply {
    this.run = undefined;
    // The shared RunCtx keeps no client or command line alive past its run.
    ctx.caller = NO_CALLER;
    ctx.argv = NO_ARGV;
    if (this.server.busy !== undefined) {
      this.server.busy = undefined;
      this.server.removeGate(this.busyGate);
    }
    if (ctx.killed) this.server.log("warning", "Lua script killed by user with SCRIPT KILL.");
    // An error is an ErrorReply, so the stats and MULTI see it.
    return this.vm.result();
  }

  /** SCRIPT KILL (isEval) or FUNCTION KILL. */
  kill(isEval: boolean): Reply {
    const ctx = this.run;
    if (ctx === undefined) return new ErrorReply("NOTBUSY No scripts in execution right now.");
    if ((ctx.caller.flags & CF.master) !== 0) {
      return new ErrorReply(
        "UNKILLABLE The busy script was sent by a master instance in the context of replication and cannot be killed.",
      );
    }
    if (ctx.dirty) {
      return new ErrorReply(
        "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.",
      );
    }
    if (isEval && !ctx.isEval) return new ErrorReply(BUSY_FUNCTION);
    if (!isEval && ctx.isEval) return new ErrorReply(BUSY_EVAL);
    ctx.killed = true;
    return R.ok;
  }

  /** Runs library code for FUNCTION LOAD, with its timeout. */
  loadLibrary(code: string): string | undefined {
    this.loadStart = performance.now();
    try {
      return this.vm.loadLibrary(code, true);
    } finally {
      this.loadStart = 0;
    }
  }

  private tick(): number {
    const now = performance.now();
    if (this.loadStart !== 0) return now - this.loadStart > LOAD_TIMEOUT_MS ? 3 : 0;
    const ctx = this.run;
    if (ctx === undefined) return 0;
    if (ctx.killed) return 1;
    if (!ctx.timedOut) {
      const elapsed = now - ctx.start;
      if (elapsed < this.threshold) return 0;
      ctx.timedOut = true;
      this.server.log(
        "warning",
        `Slow script detected: still in execution after ${
          Math.round(elapsed)
        } milliseconds. You can try killing the script using the ${
          ctx.isEval ? "SCRIPT KILL" : "FUNCTION KILL"
        } command. Script name is: ${ctx.name}.`,
      );
      return ctx.canYield ? 2 : 0;
    }
    return ctx.canYield && now - ctx.sliceStart >= SLICE_MS ? 2 : 0;
  }

  /** Looks up a command the way scripts do: no partial matches, Redis's script errors. */
  private lookup(argv: string[]): Command | string {
    const cmd = this.server.command(argv[0]!);
    let found = cmd;
    if (cmd !== undefined && cmd.subcommands !== undefined && argv.length >= 2) {
      found = cmd.subcommands.get(argv[1]!.toLowerCase());
    }
    if (found === undefined) return "ERR Unknown Redis command called from script";
    if (!found.arityOk(argv.length) || found.execute === undefined) {
      return "ERR Wrong number of args calling Redis command from script";
    }
    return found;
  }

  /** redis.call / redis.pcall from the running script: the command's reply. */
  private scriptCall(argv: string[], resp: number): Reply {
    const found = this.lookup(argv);
    const ctx = this.run;
    const server = this.server;
    let reply: Reply;
    if (typeof found === "string") {
      reply = this.reject(undefined, found);
    } else if (ctx === undefined) {
      reply = this.reject(
        found,
        "ERR redis.call/pcall can only be called inside a script invocation",
      );
    } else {
      const cmd = found;
      const bits = cmd.bits;
      let err: string | undefined;
      const caller = ctx.caller;
      const denied = (caller.flags & CF.restricted) !== 0
        ? checkCommand(caller.user, cmd, argv)
        : undefined;
      if ((bits & F.noscript) !== 0) {
        err = "ERR This Redis command is not allowed from script";
      } else if (denied !== undefined) {
        server.acl.logDenial(caller, denied, cmd, argv, "lua");
        err = `ERR ${scriptDenialText(denied, caller.user, cmd, compat(server.config).v72)}`;
      } else if (ctx.readOnly && (bits & (F.write | F.mayReplicate)) !== 0) {
        err = "ERR Write commands are not allowed from read-only scripts.";
      } else if ((bits & F.write) !== 0 && !ctx.dirty && (ctx.caller.flags & CF.master) === 0) {
        // Only the first write is checked: once a script wrote, it cannot stop half way.
        if (server.isReplica() && server.config.bool("replica-read-only")) {
          err = "READONLY You can't write against a read only replica.";
        } else {
          err = server.noReplicasError?.()?.message;
        }
      }
      if (
        err === undefined && (bits & F.denyoom) !== 0 && !ctx.dirty && !ctx.allowOom &&
        server.preCommandOom && (ctx.caller.flags & CF.master) === 0
      ) {
        // Out of memory when the script started, and it has not written yet: it may still stop.
        err = OOM_ERROR.message;
      }
      if (err === undefined && server.scriptClusterCheck !== undefined) {
        err = server.scriptClusterCheck(caller, cmd, argv, ctx.allowCrossSlot);
      }
      if (err !== undefined) {
        reply = this.reject(cmd, err);
      } else {
        if ((bits & F.write) !== 0) ctx.dirty = true;
        const client = this.client;
        client.resp = resp;
        const effects = server.effects.length;
        reply = server.execute(client, cmd, argv);
        if (ctx.repl === 0) server.effects.truncate(effects);
      }
    }
    return reply;
  }

  /**
   * redis.acl_check_cmd: 1 when the calling user may run `argv`, 0 when not, -1 for an unknown
   * command (found as Redis's lookupCommand does: no arity check).
   */
  private aclCheck(argv: string[]): number {
    let cmd = this.server.command(argv[0]!);
    if (cmd?.subcommands !== undefined && argv.length >= 2) {
      cmd = cmd.subcommands.get(argv[1]!.toLowerCase());
    }
    if (cmd === undefined) return -1;
    const caller = this.run?.caller;
    if (caller === undefined) return 1;
    return checkCommand(caller.user, cmd, argv) === undefined ? 1 : 0;
  }

  private reject(cmd: Command | undefined, message: string): ErrorReply {
    const e = new ErrorReply(message);
    if (cmd !== undefined) cmd.stats.rejected++;
    this.server.stats.countError(e);
    this.server.stats.rejectedCalls++;
    return e;
  }
}
