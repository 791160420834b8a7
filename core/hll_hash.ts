/**
 * The element hash of Redis's HyperLogLog: MurmurHash64A (endian-neutral, seed `0xadc83b19`)
 * and the register index / run length Redis derives from it (`hllPatLen`).
 *
 * The arithmetic runs in a tiny WebAssembly module (`hll_murmur.ts`), where a 64-bit multiply
 * is one instruction: the element's bytes are copied into its memory and one call returns the
 * index and the run length. Done in JavaScript on 32-bit halves, the eight 64-bit multiplies
 * of a 20-byte element cost about twice the copy and the call (CPU profile of PFADD: murmur and
 * mulM were 20% of the command's time).
 *
 * @module
 */

import { writeStr } from "./bytes.ts";
import { murmurModule } from "./hll_murmur.ts";

const wasm = murmurModule();
const mem = new Uint8Array(wasm.memory.buffer);
/** The module's memory as 32-bit words, which are little-endian like WebAssembly's own. */
const words = new Int32Array(wasm.memory.buffer);
/** Whether this platform's typed arrays are little-endian, so that {@linkcode words} can be used. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Bytes hashed per call: a multiple of 8 (whole blocks) that leaves room in the module's one
 * page (64 KiB) for the 8-byte load of a tail.
 */
const CHUNK = 32768;

/** Below this length a plain loop copies faster than a native call would. */
const LOOP_MAX = 64;

/** Copies `len` bytes of `s` from `from` to the start of the module's memory. */
function copyIn(s: string, from: number, len: number): void {
  if (len <= LOOP_MAX) {
    for (let i = 0; i < len; i++) mem[i] = s.charCodeAt(from + i);
  } else writeStr(mem, 0, from === 0 && len === s.length ? s : s.substring(from, from + len));
}

/** Hashes `s` into the module; returns `fin`'s answer for the last chunk. */
function hashInto(s: string, fin: (n: number) => number): number;
function hashInto(s: string, fin: (n: number) => bigint): bigint;
function hashInto(s: string, fin: (n: number) => number | bigint): number | bigint {
  const len = s.length;
  wasm.init(len);
  let from = 0;
  for (; len - from > CHUNK; from += CHUNK) {
    copyIn(s, from, CHUNK);
    wasm.step(CHUNK);
  }
  copyIn(s, from, len - from);
  return fin(len - from);
}

/**
 * The 64-bit MurmurHash64A of `s` (seed `0xadc83b19`) as a bigint, for tests and debugging; the
 * hot path uses {@linkcode patLen}.
 *
 * @param s a binary string
 * @returns the hash
 * @example
 * ```ts
 * hllHash("a"); // the same value Redis computes for element "a"
 * ```
 */
export function hllHash(s: string): bigint {
  return BigInt.asUintN(64, hashInto(s, wasm.hash));
}

/** The register index of the last {@linkcode patLen} call. */
export let patIndex = 0;

/**
 * Hashes element `s` and returns the length of its `000..1` pattern (1 to 51) past the 14 index
 * bits; the register index is left in {@linkcode patIndex}. Redis's `hllPatLen`.
 *
 * @param s the element, a binary string
 * @returns the run length
 * @example
 * ```ts
 * const count = patLen("foo");
 * const register = patIndex;
 * ```
 */
export function patLen(s: string): number {
  const len = s.length;
  let r: number;
  if (len <= LOOP_MAX) {
    // Four chars a store: the copy, not the call, is most of patLen's time (a 20-byte element,
    // Node 20: 30 ns for a byte-by-byte copy, 11 ns for the call).
    let i = 0;
    if (LITTLE_ENDIAN) {
      for (; i + 3 < len; i += 4) {
        words[i >> 2] = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) |
          (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24);
      }
    }
    for (; i < len; i++) mem[i] = s.charCodeAt(i);
    r = wasm.pat(len);
  } else r = hashInto(s, wasm.patFin);
  patIndex = r & 0x3fff;
  return r >>> 14;
}
