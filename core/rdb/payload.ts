/**
 * DUMP payloads (DUMP/RESTORE, FUNCTION DUMP/RESTORE, MIGRATE): an RDB body followed by the
 * RDB version in 2 bytes and the CRC64 of everything before the checksum in 8 bytes, both
 * little-endian.
 *
 * @module
 */

import { crc64 } from "../crc64.ts";
import type { Value } from "../keyspace/database.ts";
import { isValueType, type ReadLimits, readValue } from "./read_value.ts";
import { RdbFormatError, RdbReader, RdbWriter } from "./strings.ts";
import { valueType, type WriteOptions, writeValue } from "./write_value.ts";

/** The RDB format version Redis 7.0 writes. */
export const RDB_VERSION = 10;
/**
 * The newest RDB version read: Redis 7.4's, so that its files and DUMP payloads load (the types
 * it added that are read here: set listpacks, hashes with field TTLs).
 */
export const RDB_READ_VERSION = 12;
/** The version a DUMP payload of Redis 7.4's hash types carries, as 7.4 writes it. */
const HASH_TTL_VERSION = 12;
/** Bytes of the trailer: version and CRC64. */
const TRAILER = 10;

/**
 * Appends the trailer (RDB version, CRC64) to what `w` holds and returns the whole payload.
 *
 * @param w a writer holding the payload's body
 * @returns the payload
 * @example
 * ```ts
 * const w = new RdbWriter();
 * w.byte(0);
 * w.string("v");
 * sealPayload(w); // 0, 1, "v", 10, 0, then 8 bytes of CRC64
 * ```
 */
export function sealPayload(w: RdbWriter, version: number = RDB_VERSION): Uint8Array {
  w.byte(version & 0xff);
  w.byte(version >> 8);
  const crc = crc64(0n, w.view());
  for (let i = 0; i < 8; i++) w.byte(Number((crc >> BigInt(8 * i)) & 0xffn));
  return w.result();
}

/**
 * Checks a payload's trailer: an RDB version this server reads, and (with `checksum`) the CRC64.
 *
 * @param payload the payload
 * @param checksum whether to verify the CRC64
 * @returns true when the trailer is valid
 */
export function verifyPayload(payload: Uint8Array, checksum: boolean): boolean {
  const len = payload.length;
  if (len < TRAILER) return false;
  const version = payload[len - 10]! | (payload[len - 9]! << 8);
  if (version > RDB_READ_VERSION) return false;
  if (!checksum) return true;
  const crc = crc64(0n, payload, 0, len - 8);
  for (let i = 0; i < 8; i++) {
    if (payload[len - 8 + i] !== Number((crc >> BigInt(8 * i)) & 0xffn)) return false;
  }
  return true;
}

/**
 * The DUMP payload of a value: type byte, body, trailer.
 *
 * @param value the value
 * @param opts the write options (rdbcompression, list node shape)
 * @returns the payload
 * @throws {TypeError} for a type that has no RDB form here
 */
export function dumpValue(value: Value, opts: WriteOptions): Uint8Array {
  const w = new RdbWriter();
  const type = valueType(value);
  w.byte(type);
  writeValue(w, value, opts);
  // A 7.0 server must refuse a hash with field TTLs by its version, as it refuses 7.4's DUMPs.
  return sealPayload(w, type >= 24 ? HASH_TTL_VERSION : RDB_VERSION);
}

/**
 * The value of a payload whose trailer {@linkcode verifyPayload} accepted. Bytes between the
 * value and the trailer are ignored, as Redis ignores them.
 *
 * @param payload the payload
 * @param limits the encoding thresholds for the loaded value
 * @returns the value
 * @throws {RdbFormatError} when the body is not a valid value
 */
export function restoreValue(payload: Uint8Array, limits: ReadLimits): Value {
  const r = new RdbReader(payload, payload.length - TRAILER);
  const type = r.byte();
  if (!isValueType(type)) throw new RdbFormatError(`Not a value type: ${type}`);
  return readValue(r, type, limits);
}
