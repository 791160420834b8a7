/**
 * The Lua engine's WebAssembly module (scripting/lua.wasm, built from vendor/lua and
 * scripting/native/engine.c by scripting/build.sh) and the thin layer that moves bytes in and
 * out of its memory. What the server does for a script lives in scripting/engine.ts.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { bytesToStr, writeStr } from "../core/bytes.ts";
import { cpuSeconds } from "../core/proc.ts";
import { ErrorReply, R, RawReply, type Reply } from "../core/resp/reply.ts";
import { RECENT_MAX, RecentStrings } from "../core/resp/recent_strings.ts";

/** A reply encoded in the host's buffer: bytes `[0, length)` of `buf`, valid until its next call. */
export interface Encoded {
  readonly buf: Uint8Array;
  readonly length: number;
}

/**
 * Outputs up to this long are returned as binary strings, longer ones as copied bytes: on Deno a
 * typed array costs ~0.4 µs to make (the CPU profile of EVALSHA showed three per call), a short
 * string far less, and the reply encoder writes either.
 */
const SHORT_OUTPUT = 64;
/** A script's bulk string result up to this long is returned as a string (see result()). */
const DECODED_BULK = 4096;

/** An argument length at least this is the index (plus this) of one of the run's arguments. */
const RUN_ARG = 0x80000000;
const NO_ARGS: string[] = [];

/** What the module calls back into. */
export interface LuaHost {
  /** redis.call or redis.pcall (the module tells them apart) with `argv`: the command's reply. */
  call(argv: string[], resp: number): Reply;
  /** `reply` as RESP for protocol `resp` (replies {@linkcode LuaVM} does not write itself). */
  encode(reply: Reply, resp: number): Encoded;
  /** redis.acl_check_cmd: 1 allowed, 0 denied, -1 unknown command. */
  aclCheck(argv: string[]): number;
  /** The count hook: 0 go on, 1 kill, 2 yield, 3 FUNCTION LOAD timeout. */
  tick(): number;
  log(level: number, message: string): void;
  setRepl(flags: number): void;
  /** redis.register_function during FUNCTION LOAD: an error message, or undefined. */
  register(name: string, desc: string | undefined, flags: number, ref: number): string | undefined;
  /** A script's `{double=...}` reply as the server writes doubles (ASCII, < 64 bytes). */
  formatDouble(d: number): string;
}

/** Results of starting or resuming a script. */
export const enum Run {
  Done = 0,
  Error = 1,
  Yielded = 2,
}

interface Exports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  rd_io(size: number): number;
  rd_buf(which: number): number;
  rd_reply(size: number): number;
  rd_result_flag(): number;
  rd_name(): number;
  rd_init(engine: number): number;
  rd_set_version(num: number): void;
  rd_eval_unref(ref: number): void;
  rd_memory(engine: number): number;
  rd_eval_compile(sha: number, len: number, skip: number): number;
  rd_eval_start(ref: number, nkeys: number, nargs: number, resp: number, hook: number): number;
  rd_fcall_start(
    ref: number,
    name: number,
    nameLen: number,
    nkeys: number,
    nargs: number,
    resp: number,
    hook: number,
  ): number;
  rd_resume(): number;
  rd_fn_load(len: number, hook: number): number;
  rd_unref(ref: number): void;
  rd_sha1hex(len: number): number;
}

/** Strings recently made from redis.call arguments (scripts call the same keys again). */
const recent = new RecentStrings(64);

let compiled: WebAssembly.Module | undefined;

function module(): WebAssembly.Module {
  if (compiled) return compiled;
  const url = new URL("./lua.wasm", import.meta.url);
  // Compiled synchronously on the first script, so the file must be local: a module imported
  // from a web address (JSR over https) would need an asynchronous fetch here.
  if (url.protocol !== "file:") {
    throw new Error(
      `Lua scripting needs lua.wasm on the local file system, not ${url.origin}: on Deno, ` +
        `import redeno from npm (npm:redeno) to use EVAL and FUNCTION`,
    );
  }
  compiled = new WebAssembly.Module(readFileSync(url));
  return compiled;
}

/** One instance of the module: the EVAL state (engine 0) and the FUNCTION state (engine 1). */
export class LuaVM {
  private readonly ex: Exports;
  private u8: Uint8Array;
  private view: DataView;
  /** Addresses of the module's io, argb and reply buffers ({p, len, cap}: three u32). */
  private readonly ioBuf: number;
  private readonly argBuf: number;
  private readonly replyBuf: number;
  /**
   * The string whose bulk reply is in the reply buffer, when putBulk wrote what is there
   * (undefined after any other write). A script commonly returns what its last redis.call
   * returned: the module then says so (rd_result_flag) and result() gives this string back
   * instead of decoding the result's bytes (a byte loop in JavaScript costs ~3 ns a byte).
   */
  private lastBulk: string | undefined;
  /** Address of the module's flag: the last run's result is the bulk reply in the reply buffer. */
  private readonly resultFlag: number;
  /** The arguments of the last run started: `runArgs[runFrom..]` (KEYS then ARGV). */
  private runArgs: string[] = NO_ARGS;
  private runFrom = 0;

  constructor(private readonly host: LuaHost) {
    const env: WebAssembly.ModuleImports = {
      host_tick: () => this.host.tick(),
      host_log: (level: number, ptr: number, len: number) =>
        this.host.log(level, bytesToStr(this.bytes(), ptr, ptr + len)),
      host_set_repl: (flags: number) => this.host.setRepl(flags),
      host_clock: () => {
        const c = cpuSeconds();
        return c.user + c.sys;
      },
      host_call: (mode: number, argc: number, resp: number) => this.onCall(mode, argc, resp),
      host_format_double: (d: number, out: number) => {
        const text = this.host.formatDouble(d);
        writeStr(this.bytes(), out, text);
        return text.length;
      },
      host_register: (
        name: number,
        nameLen: number,
        desc: number,
        descLen: number,
        flags: number,
        ref: number,
      ) => {
        const u8 = this.bytes();
        const err = this.host.register(
          bytesToStr(u8, name, name + nameLen),
          descLen < 0 ? undefined : bytesToStr(u8, desc, desc + descLen),
          flags,
          ref,
        );
        if (err === undefined) return 0;
        this.writeReply(err);
        return err.length;
      },
    };
    const wasi: WebAssembly.ModuleImports = {};
    for (const imp of WebAssembly.Module.imports(module())) {
      if (imp.module === "wasi_snapshot_preview1") {
        wasi[imp.name] = imp.name === "proc_exit"
          ? () => {
            throw new Error("Lua engine aborted");
          }
          : imp.name === "fd_prestat_get"
          ? () => 8 // EBADF: no preopened directories
          : () => 52; // ENOSYS: the sandbox has no files
      }
    }
    const instance = new WebAssembly.Instance(module(), { env, wasi_snapshot_preview1: wasi });
    const ex = instance.exports as unknown as Exports;
    this.ex = ex;
    this.u8 = new Uint8Array(ex.memory.buffer);
    this.view = new DataView(ex.memory.buffer);
    this.ioBuf = ex.rd_buf(0);
    this.argBuf = ex.rd_buf(1);
    this.replyBuf = ex.rd_buf(2);
    this.resultFlag = ex.rd_result_flag();
    ex._initialize();
    ex.rd_init(0);
    ex.rd_init(1);
  }

  /**
   * The memory as bytes (re-read after anything that may have grown it). Growing the memory
   * detaches its old buffer, whose views then have length 0: that is checked instead of reading
   * `memory.buffer`, a call into the engine (~0.1 µs, 4% of an EVALSHA in the profile).
   */
  private bytes(): Uint8Array {
    if (this.u8.length === 0) {
      this.u8 = new Uint8Array(this.ex.memory.buffer);
      this.view = new DataView(this.ex.memory.buffer);
    }
    return this.u8;
  }

  /**
   * redis.call and friends: the arguments the module packed in argb ([u32 len][bytes] each) as
   * strings, the command run by the host, its reply written to the reply buffer as RESP.
   * Returns the reply's length (mode 2, the ACL check: its answer).
   */
  private onCall(mode: number, argc: number, resp: number): number {
    const u8 = this.bytes();
    const view = this.view;
    let p = view.getUint32(this.argBuf, true);
    const argv = new Array<string>(argc);
    for (let i = 0; i < argc; i++) {
      const len = view.getUint32(p, true);
      p += 4;
      if (len >= RUN_ARG) {
        // The running script's own argument (engine.c: record_run_args).
        argv[i] = this.runArgs[this.runFrom + len - RUN_ARG]!;
        continue;
      }
      argv[i] = len === 0
        ? ""
        : len <= RECENT_MAX
        ? recent.get(u8, p, len)
        : bytesToStr(u8, p, p + len);
      p += len;
    }
    if (mode === 2) return this.host.aclCheck(argv);
    const r = this.host.call(argv, resp);
    // The commonest replies are written here, without the host's encoder and a second copy.
    if (typeof r === "string") {
      if (r.length < 100) return this.putBulk(r);
    } else if (typeof r === "number") {
      if (Number.isSafeInteger(r)) return this.putInt(r);
    } else if (r === null) {
      return this.putAscii(resp === 3 ? "_\r\n" : "$-1\r\n");
    } else if (r === R.ok) {
      return this.putAscii("+OK\r\n");
    }
    const out = this.host.encode(r, resp);
    const n = out.length;
    const ptr = this.replyArea(n);
    const dst = this.bytes();
    const src = out.buf;
    // A short reply is copied byte by byte: a subarray to set() from is a typed array too.
    if (n <= SHORT_OUTPUT) { for (let i = 0; i < n; i++) dst[ptr + i] = src[i]!; }
    else dst.set(src.subarray(0, n), ptr);
    return n;
  }

  /**
   * Writes a string reply shorter than 100 bytes (the commonest: GET's) as a RESP bulk string
   * straight into the reply buffer, without the host's encoder and a second copy. Returns its
   * length.
   */
  private putBulk(s: string): number {
    const n = s.length;
    const total = n + (n < 10 ? 6 : 7);
    const ptr = this.replyArea(total);
    this.lastBulk = s;
    const u8 = this.bytes();
    let p = ptr;
    u8[p++] = 36; // $
    if (n >= 10) u8[p++] = 48 + ((n / 10) | 0);
    u8[p++] = 48 + (n % 10);
    u8[p++] = 13;
    u8[p++] = 10;
    for (let i = 0; i < n; i++) u8[p + i] = s.charCodeAt(i);
    p += n;
    u8[p++] = 13;
    u8[p] = 10;
    return total;
  }

  /** Writes integer reply `n` (a safe integer) into the reply buffer. Returns its length. */
  private putInt(n: number): number {
    let v = n < 0 ? -n : n;
    let digits = 1;
    for (let t = v; t >= 10; t = Math.floor(t / 10)) digits++;
    const sign = n < 0 ? 1 : 0;
    const total = 3 + sign + digits;
    const ptr = this.replyArea(total);
    const u8 = this.bytes();
    u8[ptr] = 58; // :
    if (sign) u8[ptr + 1] = 45; // -
    let q = ptr + sign + digits;
    do {
      const d = v % 10;
      u8[q--] = 48 + d;
      v = (v - d) / 10;
    } while (v > 0);
    u8[ptr + total - 2] = 13;
    u8[ptr + total - 1] = 10;
    return total;
  }

  /** Writes a short ASCII reply (`$-1\r\n`, `+OK\r\n`) into the reply buffer. */
  private putAscii(s: string): number {
    const n = s.length;
    const ptr = this.replyArea(n);
    const u8 = this.bytes();
    for (let i = 0; i < n; i++) u8[ptr + i] = s.charCodeAt(i);
    return n;
  }

  /** Where to write a reply of `n` bytes: the reply buffer, grown if it has no room for them. */
  private replyArea(n: number): number {
    this.lastBulk = undefined;
    this.bytes();
    const view = this.view;
    // rd_reply keeps a byte more for a NUL.
    if (n < view.getUint32(this.replyBuf + 8, true)) return view.getUint32(this.replyBuf, true);
    return this.ex.rd_reply(n);
  }

  private writeReply(s: string): void {
    this.lastBulk = undefined;
    const ptr = this.ex.rd_reply(s.length);
    writeStr(this.bytes(), ptr, s);
  }

  /** Copies `parts` into io as [u32 len][bytes] each. */
  private putArgs(parts: string[], from: number): void {
    let size = 0;
    for (let i = from; i < parts.length; i++) size += 4 + parts[i]!.length;
    // Into io as it is when it has room (rd_io would only say where it is).
    this.bytes();
    let p = size < this.view.getUint32(this.ioBuf + 8, true)
      ? this.view.getUint32(this.ioBuf, true)
      : this.ex.rd_io(size);
    const u8 = this.bytes();
    const view = this.view;
    for (let i = from; i < parts.length; i++) {
      const s = parts[i]!;
      view.setUint32(p, s.length, true);
      p += 4;
      p += writeStr(u8, p, s);
    }
  }

  /** Writes a name NUL-terminated into the module's name area. */
  private putName(name: string): number {
    const ptr = this.ex.rd_name();
    const u8 = this.bytes();
    writeStr(u8, ptr, name);
    u8[ptr + name.length] = 0;
    return ptr;
  }

  /**
   * The result or error the last run left in io (RESP; a leading `!` instead of `-` marks an
   * error the module already counted, see engine.c). The commonest results, a bulk string up to
   * {@linkcode DECODED_BULK} bytes and an integer, come back as a string and a number, which
   * the reply writer encodes for less than a raw reply costs; anything else as a RawReply. A
   * result that is the string of the last redis.call reply is that string (see lastBulk).
   */
  result(): Reply {
    // The run is over: its arguments are not needed any more (engine.c forgot them too).
    this.runArgs = NO_ARGS;
    const u8 = this.bytes();
    if (u8[this.resultFlag] !== 0 && this.lastBulk !== undefined) return this.lastBulk;
    const ptr = this.view.getUint32(this.ioBuf, true);
    const end = ptr + this.view.getUint32(this.ioBuf + 4, true);
    const type = u8[ptr];
    if (type === 45 || type === 33) {
      const e = new ErrorReply(bytesToStr(u8, ptr + 1, end - 2));
      e.noStats = type === 33;
      return e;
    }
    if (type === 36 || type === 58) {
      // `$<n>\r\n<n bytes>\r\n` or `:<n>\r\n`, n of at most 15 digits (an exact double).
      let p = ptr + 1;
      const neg = type === 58 && u8[p] === 45;
      if (neg) p++;
      const first = p;
      let n = 0;
      let c = 0;
      while (p < end && (c = u8[p]!) >= 48 && c <= 57) {
        n = n * 10 + c - 48;
        p++;
      }
      if (p > first && p - first <= 15 && c === 13 && u8[p + 1] === 10) {
        if (type === 58 && p + 2 === end) return neg ? -n : n;
        if (type === 36 && n <= DECODED_BULK && p + 4 + n === end) {
          return bytesToStr(u8, p + 2, p + 2 + n);
        }
      }
    }
    return new RawReply(end - ptr <= SHORT_OUTPUT ? bytesToStr(u8, ptr, end) : u8.slice(ptr, end));
  }

  /** io as a string (compile errors). */
  outputStr(): string {
    const u8 = this.bytes();
    const ptr = this.view.getUint32(this.ioBuf, true);
    return bytesToStr(u8, ptr, ptr + this.view.getUint32(this.ioBuf + 4, true));
  }

  /** Compiles an EVAL body named `sha`: its function reference, or the error message. */
  compile(sha: string, body: string, skip: number): number | string {
    const ptr = this.ex.rd_io(body.length);
    writeStr(this.bytes(), ptr, body);
    const ref = this.ex.rd_eval_compile(this.putName(sha), body.length, skip);
    return ref < 0 ? this.outputStr() : ref;
  }

  /** Starts compiled script `ref` with `argv[from..]` (the first `nkeys` are KEYS). */
  evalStart(
    ref: number,
    argv: string[],
    from: number,
    nkeys: number,
    resp: number,
    hook: boolean,
  ): Run {
    this.putArgs(argv, from);
    this.runArgs = argv;
    this.runFrom = from;
    return this.ex.rd_eval_start(ref, nkeys, argv.length - from - nkeys, resp, hook ? 1 : 0);
  }

  /** Starts library function `ref` named `name`. */
  fcallStart(
    ref: number,
    name: string,
    argv: string[],
    from: number,
    nkeys: number,
    resp: number,
    hook: boolean,
  ): Run {
    this.putArgs(argv, from);
    this.runArgs = argv;
    this.runFrom = from;
    const np = this.putName(name.slice(0, 1000));
    return this.ex.rd_fcall_start(
      ref,
      np,
      name.length,
      nkeys,
      argv.length - from - nkeys,
      resp,
      hook ? 1 : 0,
    );
  }

  /** Resumes a yielded script. */
  resume(): Run {
    return this.ex.rd_resume();
  }

  /** Runs a library's code: undefined, or the error message. */
  loadLibrary(code: string, hook: boolean): string | undefined {
    const ptr = this.ex.rd_io(code.length);
    writeStr(this.bytes(), ptr, code);
    return this.ex.rd_fn_load(code.length, hook ? 1 : 0) === 0 ? undefined : this.outputStr();
  }

  /** Releases a compiled EVAL script (evicted from the script cache). */
  evalUnref(ref: number): void {
    this.ex.rd_eval_unref(ref);
  }

  /** Releases a library function. */
  unref(ref: number): void {
    this.ex.rd_unref(ref);
  }

  /**
   * Sets the version scripts see as `redis.REDIS_VERSION` and `redis.REDIS_VERSION_NUM` (the one
   * the server reports), in both engines now and after a reset.
   *
   * @param version `major.minor.patch`
   */
  setVersion(version: string): void {
    const [major = 0, minor = 0, patch = 0] = version.split(".").map(Number);
    this.putName(version);
    this.ex.rd_set_version((major << 16) | (minor << 8) | patch);
  }

  /** Resets one engine: 0 (EVAL scripts) or 1 (functions). */
  reset(engine: number): void {
    this.ex.rd_init(engine);
  }

  /** Bytes used by an engine's Lua heap. */
  memory(engine: number): number {
    return this.ex.rd_memory(engine);
  }

  /** SHA-1 of a binary string, as 40 hex digits. */
  sha1hex(s: string): string {
    const ptr = this.ex.rd_io(s.length);
    writeStr(this.bytes(), ptr, s);
    const out = this.ex.rd_sha1hex(s.length);
    return bytesToStr(this.bytes(), out, out + 40);
  }
}
