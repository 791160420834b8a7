/**
 * Function libraries (Redis 7.0 FUNCTION): `#!lua name=<lib>` code that registers functions with
 * `redis.register_function`, kept in the engine's second Lua state. Library and function names
 * follow Redis: libraries are case-sensitive, FCALL finds functions ignoring case.
 *
 * @module
 */

import { sealPayload, verifyPayload } from "../core/rdb/payload.ts";
import { RdbReader, RdbWriter } from "../core/rdb/strings.ts";
import { splitArgs } from "../core/resp/parser.ts";
import type { Server } from "../core/server.ts";
import { scriptingOf } from "./engine.ts";

/** A registered function. */
export interface LibFunction {
  name: string;
  description: string | undefined;
  flags: number;
  ref: number;
  library: Library;
}

/** A loaded library. */
export interface Library {
  name: string;
  /** The whole code, shebang included (FUNCTION LIST WITHCODE, DUMP). */
  code: string;
  functions: Map<string, LibFunction>;
}

const RDB_OPCODE_FUNCTION2 = 245;
const NAME_RE = /^[A-Za-z0-9_]+$/;
const NAME_ERROR =
  "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/** Error raised by library operations; the message is the reply without its `ERR ` code. */
export class LibraryError extends Error {}

const registries = new WeakMap<Server, Libraries>();

/** The function libraries of a server. */
export function librariesOf(server: Server): Libraries {
  let l = registries.get(server);
  if (l === undefined) {
    l = new Libraries(server);
    registries.set(server, l);
  }
  return l;
}

/** The loaded libraries and the functions they registered. */
export class Libraries {
  readonly libraries = new Map<string, Library>();
  /** Every function, by lowercased name. */
  readonly functions = new Map<string, LibFunction>();

  constructor(private readonly server: Server) {}

  /** Loads (or with `replace` replaces) a library; returns its name. */
  load(code: string, replace: boolean): string {
    const { name, body } = parseMetadata(code);
    const old = this.libraries.get(name);
    if (old !== undefined && !replace) throw new LibraryError(`Library '${name}' already exists`);
    const lib = this.compile(name, code, body);
    const clash = [...lib.functions.values()].find((f) => {
      const other = this.functions.get(f.name.toLowerCase());
      return other !== undefined && other.library !== old;
    });
    if (clash !== undefined) {
      this.release(lib);
      throw new LibraryError(`Function ${clash.name} already exists`);
    }
    if (old !== undefined) this.unlink(old, true);
    this.link(lib);
    return name;
  }

  /** Runs the library code and collects what it registers. */
  private compile(name: string, code: string, body: string): Library {
    const lib: Library = { name, code, functions: new Map() };
    const engine = scriptingOf(this.server);
    engine.onRegister = (fname, desc, flags, ref) => {
      if (!NAME_RE.test(fname)) return NAME_ERROR;
      if (lib.functions.has(fname)) return "Function already exists in the library";
      lib.functions.set(fname, { name: fname, description: desc, flags, ref, library: lib });
      return undefined;
    };
    let err: string | undefined;
    try {
      err = engine.loadLibrary(body);
    } finally {
      engine.onRegister = undefined;
    }
    if (err !== undefined) {
      this.release(lib);
      throw new LibraryError(err);
    }
    if (lib.functions.size === 0) throw new LibraryError("No functions registered");
    return lib;
  }

  private release(lib: Library): void {
    const vm = scriptingOf(this.server).vm;
    for (const f of lib.functions.values()) vm.unref(f.ref);
  }

  private link(lib: Library): void {
    this.libraries.set(lib.name, lib);
    for (const f of lib.functions.values()) this.functions.set(f.name.toLowerCase(), f);
  }

  private unlink(lib: Library, free: boolean): void {
    this.libraries.delete(lib.name);
    for (const f of lib.functions.values()) this.functions.delete(f.name.toLowerCase());
    if (free) this.release(lib);
  }

  /** FUNCTION DELETE. */
  delete(name: string): boolean {
    const lib = this.libraries.get(name);
    if (lib === undefined) return false;
    this.unlink(lib, true);
    return true;
  }

  /** FUNCTION FLUSH: drops every library and resets the functions' Lua state. */
  flush(): void {
    this.libraries.clear();
    this.functions.clear();
    const engine = scriptingOf(this.server);
    if (engine.started) engine.vm.reset(1);
  }

  /** FUNCTION DUMP: the libraries as a DUMP payload (RDB function records, version, CRC64). */
  dump(): Uint8Array {
    const w = new RdbWriter();
    for (const lib of this.libraries.values()) {
      w.byte(RDB_OPCODE_FUNCTION2);
      w.string(lib.code);
    }
    return sealPayload(w);
  }

  /** FUNCTION RESTORE with policy APPEND, REPLACE or FLUSH. */
  restore(payload: Uint8Array, policy: "append" | "replace" | "flush", checksum: boolean): void {
    if (!verifyPayload(payload, checksum)) {
      throw new LibraryError("DUMP payload version or checksum are wrong");
    }
    const codes: string[] = [];
    const r = new RdbReader(payload, payload.length - 10);
    while (r.pos < r.end) {
      let type: number;
      try {
        type = r.byte();
      } catch {
        throw new LibraryError("can not read data type");
      }
      if (type !== RDB_OPCODE_FUNCTION2) throw new LibraryError("given type is not a function");
      try {
        codes.push(r.string());
      } catch {
        throw new LibraryError("failed loading the given functions payload");
      }
    }
    // Validate every library against a scratch registry first, so a failure changes nothing.
    const names = new Set<string>();
    const fnames = new Map<string, string>();
    for (const code of codes) {
      const { name } = parseMetadata(code);
      if (names.has(name)) throw new LibraryError(`Library ${name} already exists`);
      names.add(name);
    }
    if (policy === "append") {
      for (const name of names) {
        if (this.libraries.has(name)) throw new LibraryError(`Library ${name} already exists`);
      }
    }
    const saved = policy === "flush" ? [] : [...this.libraries.values()];
    const keep = policy === "replace" ? saved.filter((l) => !names.has(l.name)) : saved;
    for (const lib of keep) {
      for (const f of lib.functions.values()) fnames.set(f.name.toLowerCase(), f.name);
    }
    const loaded: Library[] = [];
    try {
      for (const code of codes) {
        const { name, body } = parseMetadata(code);
        const lib = this.compile(name, code, body);
        loaded.push(lib);
        for (const f of lib.functions.values()) {
          const lower = f.name.toLowerCase();
          if (fnames.has(lower)) throw new LibraryError(`Function ${f.name} already exists`);
          fnames.set(lower, f.name);
        }
      }
    } catch (e) {
      for (const lib of loaded) this.release(lib);
      throw e;
    }
    if (policy === "flush") {
      for (const lib of [...this.libraries.values()]) this.unlink(lib, true);
    } else if (policy === "replace") {
      for (const name of names) {
        const old = this.libraries.get(name);
        if (old !== undefined) this.unlink(old, true);
      }
    }
    for (const lib of loaded) this.link(lib);
  }
}

/** Splits `#!<engine> name=<lib>` off library code (Redis's functionExtractLibMetaData). */
function parseMetadata(code: string): { name: string; body: string } {
  if (!code.startsWith("#!")) throw new LibraryError("Missing library metadata");
  const end = code.indexOf("\n");
  if (end < 0) throw new LibraryError("Invalid library metadata");
  const parts = splitArgs(code.slice(0, end));
  if (parts === undefined || parts.length === 0) throw new LibraryError("Invalid library metadata");
  const engine = parts[0]!.slice(2);
  let name: string | undefined;
  for (const part of parts.slice(1)) {
    if (part.slice(0, 5).toLowerCase() === "name=") {
      if (name !== undefined) {
        throw new LibraryError("Invalid metadata value, name argument was given multiple times");
      }
      name = part.slice(5);
      continue;
    }
    throw new LibraryError(`Invalid metadata value given: ${part}`);
  }
  if (name === undefined) throw new LibraryError("Library name was not given");
  if (!NAME_RE.test(name)) throw new LibraryError(NAME_ERROR);
  if (engine.toLowerCase() !== "lua") throw new LibraryError(`Engine '${engine}' not found`);
  return { name, body: code.slice(end) };
}
