/**
 * One numbered database: keys to values, and keys to absolute expiry times in milliseconds.
 * Strings are stored as plain binary strings (no wrapper object), every other type as an object
 * with a `type` tag, which keeps the per-key overhead close to Redis's own.
 *
 * @module
 */

import { E, fail } from "../resp/reply.ts";
import { N } from "../notify.ts";
import { DenseMap } from "./dense_map.ts";
import { BigString, stringOf } from "../types/big_string.ts";
import type { WriteSink } from "./write_log.ts";
import { EXPIRE_ENTRY_BYTES, KEY_ENTRY_BYTES, KEYSPACE_MEASURE } from "../memory/cost.ts";

/** A value of a non-string type (list, hash, set, zset, stream, or a plugin's own). */
export interface TypedValue {
  /** The name TYPE reports. */
  readonly type: string;
  /** The name OBJECT ENCODING reports. */
  encoding(): string;
  /** A deep copy (COPY). */
  clone(): TypedValue;
}

/** Anything a key can hold. */
export type Value = string | TypedValue;

/** What a database needs from the server around it. */
export interface KeyspaceHost {
  /** Command time in ms: fixed for the duration of a command, as Redis does. */
  now(): number;
  /** True while this server replicates from a master: keys expire logically, not physically. */
  isReplica(): boolean;
  /**
   * True when expired keys are kept, only reported expired (a replica outside its master's
   * commands, a paused server): their deletion comes later or from elsewhere.
   */
  keepsExpiredKeys(): boolean;
  /** True when the running command comes from our master (it may see and delete expired keys). */
  fromMaster(): boolean;
  /** A key expired on access or in the active cycle: propagate DEL, notify, count. */
  keyExpired(db: Database, key: string): void;
  /** A key was written (WATCH, client tracking); `value` when at hand (see HookMap). */
  keyModified(db: Database, key: string, value?: Value): void;
  /** Every key of the database may have changed (FLUSHDB, SWAPDB). */
  dbModified(db: Database): void;
  /** The database was emptied (FLUSHDB, FLUSHALL, a full sync): client tracking's null invalidation. */
  dbFlushed(db: Database): void;
  /** Keyspace notification. */
  notify(db: Database, type: number, event: string, key: string): void;
  /** Keyspace hit/miss statistics. */
  readonly stats: { hits: number; misses: number };
  /** The access stamp of a key created or overwritten now (LRU clock, or LFU initial value). */
  readonly newStamp: number;
  /** The stamp of a key read now: the LRU clock... */
  readonly accessStamp: number;
  /** ...or, under an LFU policy, how an access updates the old stamp. */
  readonly lfuUpdate: ((old: number) => number) | undefined;
  /** True when no access may update a stamp now (CLIENT NO-TOUCH). */
  readonly noTouch: boolean;
  /**
   * Where writes are reported while code the core cannot vouch for runs (plugin commands, plugin
   * code outside commands); undefined while a built-in command runs (see write_log.ts).
   */
  readonly writes: WriteSink | undefined;
}

/** The type name of a value, as TYPE reports it. */
export function typeName(v: Value): string {
  return typeof v === "string" ? "string" : v.type;
}

/** OBJECT ENCODING of a value: for strings Redis's int/embstr/raw rule. */
export function encodingOf(v: Value): string {
  if (typeof v !== "string") return v.encoding();
  if (v.length <= 20 && v.length > 0) {
    const c = v.charCodeAt(0);
    if ((c >= 48 && c <= 57) || c === 45) {
      // Redis stores a string as an integer when it round-trips exactly as a long long.
      if (/^(0|-?[1-9][0-9]*)$/.test(v)) {
        const b = BigInt(v);
        if (b >= -9223372036854775808n && b <= 9223372036854775807n) return "int";
      }
    }
  }
  return v.length <= 44 ? "embstr" : "raw";
}

/** A numbered database. */
export class Database {
  /**
   * Values by key.
   *
   * @internal
   */
  dict: DenseMap<Value> = new DenseMap<Value>(true, KEYSPACE_MEASURE);
  /**
   * Expiry times (Unix ms) of the keys that have one. A {@linkcode DenseMap} like the keys
   * themselves, for the same reason (hash_index.ts): a native Map looks a freshly received key up
   * through V8's string table, which cost a GET 4-5 µs more on a keyspace of 100k keys that all
   * had a TTL (in-process, Deno 2.9), where this table costs about what the keys' does.
   * Plugins read and change expiry times through {@linkcode getExpire}, {@linkcode setExpire}
   * and {@linkcode persist}.
   *
   * @internal
   */
  expires: DenseMap<number> = new DenseMap<number>();
  /**
   * Dense position in `expires` the active expiry cycle looks at next, walking downwards (see
   * `expire_cycle.ts`); 0 starts again from the top.
   */
  expireCursor = 0;
  /** Average TTL estimate for INFO keyspace (ms), maintained by the expiry cycle. */
  avgTtl = 0;
  /**
   * Set while a background save walks a snapshot (see snapshot.ts): called with an aggregate
   * value before a command changes it in place.
   */
  beforeWrite: ((value: TypedValue) => void) | undefined;

  /**
   * Keys whose value (of a type other than string) may have changed in place since it was last
   * measured: measured again when the memory figures are next read (see {@linkcode bytes}).
   */
  private unmeasured: string[] = [];

  /**
   * Creates an empty database; the server makes one per `databases`.
   *
   * @param id the database number
   * @param host the server services the database calls
   */
  constructor(readonly id: number, readonly host: KeyspaceHost) {}

  /** Number of keys (including logically expired ones not yet reclaimed). */
  get size(): number {
    return this.dict.size;
  }

  /**
   * Bytes this database holds by redeno's estimate (core/memory/cost.ts): its keys, values and
   * expiry times. Values changed in place are measured again first.
   */
  get bytes(): number {
    if (this.unmeasured.length !== 0) this.measurePending();
    return this.dict.bytes + this.expires.size * EXPIRE_ENTRY_BYTES;
  }

  /** The keyspace table's own bytes (MEMORY STATS overhead.hashtable.main). */
  tableBytes(): number {
    return this.dict.size * KEY_ENTRY_BYTES;
  }

  /** The expires table's bytes (MEMORY STATS overhead.hashtable.expires). */
  expiresTableBytes(): number {
    return this.expires.size * EXPIRE_ENTRY_BYTES;
  }

  /** Notes that the typed value at `key` may have changed size. */
  private changed(key: string): void {
    const u = this.unmeasured;
    if (u.length !== 0 && u[u.length - 1] === key) return;
    u.push(key);
    if (u.length > 256) this.measurePending();
  }

  /** Measures again the values changed in place since the last reading. */
  measurePending(): void {
    const u = this.unmeasured;
    for (let i = 0; i < u.length; i++) this.dict.remeasure(u[i]!);
    u.length = 0;
  }

  /**
   * Deletes `key` if its time has passed. Returns true when the key is (logically) expired.
   * On a replica the key is kept (the master's DEL will remove it) but reported expired; so it is
   * while clients are paused.
   */
  expireIfNeeded(key: string): boolean {
    const at = this.expires.get(key);
    if (at === undefined || at > this.host.now()) return false;
    if (this.host.keepsExpiredKeys()) return true;
    this.dict.delete(key);
    this.expires.delete(key);
    this.host.keyExpired(this, key);
    return true;
  }

  /**
   * The value at `key` for reading (counts hits and misses), or undefined. The access updates
   * the key's LRU/LFU stamp unless `noTouch` (TYPE, TTL, EXISTS, OBJECT, SCAN do not touch).
   */
  get(key: string, noTouch = false): Value | undefined {
    const h = this.host;
    const v = this.expires.size !== 0 && this.expireIfNeeded(key)
      ? undefined
      : noTouch || h.noTouch
      ? this.dict.get(key)
      : this.dict.getStamped(key, h.accessStamp, h.lfuUpdate);
    if (v !== undefined) {
      this.host.stats.hits++;
      return v;
    }
    this.host.stats.misses++;
    this.host.notify(this, N.keyMiss, "keymiss", key);
    return undefined;
  }

  /**
   * The value at `key` for writing (no hit/miss accounting), or undefined. From a plugin, opening
   * an existing key for writing counts as writing it (as a Redis module's key opened for writing
   * is signalled as modified when closed): change the value in place, and the server propagates
   * it, counts it and tells WATCH.
   *
   * @param key the key
   * @param measure queue a typed value to be measured again (see {@linkcode bytes}); false for a
   *   caller that calls {@linkcode touch} on every change it makes, so that a command changing
   *   nothing costs no re-measure (see {@linkcode getTypedForChange})
   * @returns the value, or undefined
   */
  lookupWrite(key: string, measure = true): Value | undefined {
    if (this.expires.size !== 0 && this.expireIfNeeded(key)) return undefined;
    const h = this.host;
    const v = h.noTouch
      ? this.dict.get(key)
      : this.dict.getStamped(key, h.accessStamp, h.lfuUpdate);
    if (v !== undefined && typeof v !== "string") {
      if (measure) this.changed(key);
      if (this.beforeWrite !== undefined) this.beforeWrite(v);
    }
    const w = this.host.writes;
    if (w !== undefined && v !== undefined) {
      if (!measure && typeof v !== "string") this.changed(key);
      w.mark(this, key);
      this.host.keyModified(this, key, v);
    }
    return v;
  }

  /** The value at `key` without any side effect (no expiry, no stats); undefined if absent. */
  peek(key: string): Value | undefined {
    const v = this.dict.get(key);
    if (v === undefined) return undefined;
    const at = this.expires.get(key);
    return at !== undefined && at <= this.host.now() ? undefined : v;
  }

  /** True when `key` exists (logically). */
  has(key: string): boolean {
    if (this.expires.size !== 0 && this.expireIfNeeded(key)) return false;
    return this.dict.has(key);
  }

  /**
   * A string value for reading (a value kept as bytes decoded, core/types/big_string.ts);
   * undefined if absent; WRONGTYPE error for other types, and for a string too long to be a JS
   * string the error Redis gives a string past its size limit.
   */
  getString(key: string): string | undefined {
    const v = this.get(key);
    if (v === undefined || typeof v === "string") return v;
    return v instanceof BigString ? stringOf(v) : fail(E.wrongType);
  }

  /** A typed value for writing, checked against `type`; undefined if absent. */
  getTyped<T extends TypedValue>(key: string, type: string, write = false): T | undefined {
    const v = write ? this.lookupWrite(key) : this.get(key);
    if (v === undefined) return undefined;
    if (typeof v === "string" || v.type !== type) return fail(E.wrongType);
    return v as T;
  }

  /**
   * A typed value for a command that calls {@linkcode touch} on every change it makes to it
   * (SADD, SREM, ZADD, ZREM, ZREMRANGEBY*), checked against `type`; undefined if absent. As
   * `getTyped(key, type, true)`, except that the value is queued to be measured again by the
   * touch, not here: a command that changes nothing (SADD of a present member, ZADD of an
   * unchanged score) costs no re-measure. Measuring the values of 256 keys every 256 such commands was 15% of an
   * in-process SADD or ZADD that changed nothing, on random keys.
   *
   * @param key the key
   * @param type the type expected
   * @returns the value, or undefined when the key is absent
   */
  getTypedForChange<T extends TypedValue>(key: string, type: string): T | undefined {
    const v = this.lookupWrite(key, false);
    if (v === undefined) return undefined;
    if (typeof v === "string" || v.type !== type) return fail(E.wrongType);
    return v as T;
  }

  /**
   * Stores `value` at `key`, dropping any TTL unless `keepTtl` (Redis's setKey). From a plugin, a
   * string stored this way raises the `set` keyspace event unless the command raises its own.
   */
  set(key: string, value: Value, keepTtl = false): void {
    if (this.dict.set(key, value, this.host.newStamp)) this.host.notify(this, N.new, "new", key);
    else if (!keepTtl && this.expires.size !== 0) this.expires.delete(key);
    if (typeof value !== "string") this.changed(key);
    this.host.keyModified(this, key, value);
    const w = this.host.writes;
    if (w !== undefined) this.written(w, key, value);
  }

  /** Adds a key known not to exist. */
  add(key: string, value: Value): void {
    this.dict.set(key, value, this.host.newStamp);
    if (typeof value !== "string") this.changed(key);
    this.host.notify(this, N.new, "new", key);
    this.host.keyModified(this, key, value);
    const w = this.host.writes;
    if (w !== undefined) this.written(w, key, value);
  }

  /** Logs a stored value; a string implies the `set` event. */
  private written(w: WriteSink, key: string, value: Value): void {
    w.mark(this, key);
    if (typeName(value) === "string") w.implied(this, N.string, "set", key);
  }

  /** Replaces the value in place, keeping the TTL (used for in-place updates of a type). */
  replace(key: string, value: Value): void {
    this.dict.set(key, value, this.host.newStamp);
    if (typeof value !== "string") this.changed(key);
    const w = this.host.writes;
    if (w !== undefined) {
      w.mark(this, key);
      this.host.keyModified(this, key, value);
    }
  }

  /**
   * Deletes `key`; true when it existed (logically). From a plugin, raises the `del` keyspace
   * event unless the command raises its own for the key.
   */
  delete(key: string): boolean {
    if (this.expires.size !== 0 && this.expireIfNeeded(key)) return false;
    if (!this.dict.delete(key)) return false;
    if (this.expires.size !== 0) this.expires.delete(key);
    this.host.keyModified(this, key);
    const w = this.host.writes;
    if (w !== undefined) {
      w.mark(this, key);
      w.implied(this, N.generic, "del", key);
    }
    return true;
  }

  /** Signals that the value at `key` changed in place. */
  touch(key: string): void {
    this.changed(key);
    this.host.keyModified(this, key);
    const w = this.host.writes;
    if (w !== undefined) w.mark(this, key);
  }

  /** Emits a keyspace notification for this database (from a plugin, in place of the implied one). */
  notify(type: number, event: string, key: string): void {
    this.host.writes?.notified(this, key);
    this.host.notify(this, type, event, key);
  }

  /** Absolute expiry of `key` in ms, or -1 when it has none. The key must exist. */
  getExpire(key: string): number {
    return this.expires.get(key) ?? -1;
  }

  /**
   * Sets the absolute expiry (Unix time in ms) of an existing key. From a plugin, raises the
   * `expire` keyspace event unless the command raises its own for the key.
   */
  setExpire(key: string, at: number): void {
    this.expires.set(key, at);
    const w = this.host.writes;
    if (w !== undefined) {
      w.mark(this, key);
      w.implied(this, N.generic, "expire", key);
      this.host.keyModified(this, key);
    }
  }

  /**
   * Removes the TTL of `key`; true when it had one. From a plugin, a removed TTL raises the
   * `persist` keyspace event unless the command raises its own for the key.
   */
  persist(key: string): boolean {
    if (!this.expires.delete(key)) return false;
    const w = this.host.writes;
    if (w !== undefined) {
      w.mark(this, key);
      w.implied(this, N.generic, "persist", key);
      this.host.keyModified(this, key);
    }
    return true;
  }

  /** Removes every key; returns how many there were. */
  flush(): number {
    const n = this.dict.size;
    this.host.writes?.flushed(this);
    this.host.dbModified(this);
    this.host.dbFlushed(this);
    this.dict.clear();
    this.expires.clear();
    this.expireCursor = 0;
    this.unmeasured.length = 0;
    return n;
  }

  /** A random key that is not logically expired, or undefined (RANDOMKEY). */
  randomKey(): string | undefined {
    // On a master every expired pick is deleted, so the loop ends with a live key or an empty
    // database. Where expired keys stay (a replica, a pause), after 100 picks one is returned.
    for (let tries = 1;; tries++) {
      const key = this.dict.randomKey();
      if (key === undefined) return undefined;
      if (!this.expireIfNeeded(key)) return key;
      if (tries >= 100 && this.host.keepsExpiredKeys()) return key;
    }
  }

  /** Exchanges the contents of two databases (SWAPDB): O(1), the maps change hands. */
  swapWith(other: Database): void {
    // Watchers are told before and after: a key present on either side counts as changed.
    this.host.writes?.swapped(this, other);
    this.measurePending();
    other.measurePending();
    this.host.dbModified(this);
    this.host.dbModified(other);
    [this.dict, other.dict] = [other.dict, this.dict];
    [this.expires, other.expires] = [other.expires, this.expires];
    [this.avgTtl, other.avgTtl] = [other.avgTtl, this.avgTtl];
    this.expireCursor = other.expireCursor = 0;
    this.host.dbModified(this);
    this.host.dbModified(other);
  }
}
