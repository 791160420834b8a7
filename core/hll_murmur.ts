/**
 * MurmurHash64A as a WebAssembly module of five small functions, assembled here from the
 * listing below (no binary file, no build step). In the text format:
 *
 * ```wat
 * (memory (export "memory") 1)      ;; the bytes to hash are copied to offset 0
 * (global $h (mut i64) (i64.const 0))
 * (func $init (export "init") (param $len i32)            ;; h = seed ^ (len * m)
 *   (global.set $h (i64.xor (i64.const SEED) (i64.mul (i64.extend_i32_u $len) (i64.const M)))))
 * (func $step (export "step") (param $n i32)              ;; the 8-byte blocks of [0, n)
 *   (local $p i32) (local $end i32) (local $k i64) (local $h i64)
 *   end = n & ~7; h = $h
 *   while p < end:
 *     k = i64.load(p) * M; k = (k ^ (k >>> 47)) * M; h = (h ^ k) * M; p += 8
 *   $h = h)
 * (func $fin (export "hash") (param $n i32) (result i64)  ;; blocks, tail, final mix
 *   (local $t i32) (local $h i64)
 *   step(n); h = $h; t = n & 7
 *   if t: h = (h ^ (i64.load(n & ~7) & ((1 << 8t) - 1))) * M
 *   h = (h ^ (h >>> 47)) * M; return h ^ (h >>> 47))
 * (func $patFin (export "patFin") (param $n i32) (result i32)   ;; Redis's hllPatLen
 *   (local $h i64)
 *   h = fin(n)
 *   return (ctz((h >>> 14) | (1 << 50)) + 1) << 14 | (h & 16383))
 * (func (export "pat") (param $len i32) (result i32) init(len); return patFin(len))
 * ```
 *
 * Memory is little-endian in WebAssembly, so `i64.load` reads a block as Redis's endian-neutral
 * MurmurHash64A does; the tail load may read past `n`, and the mask drops those bytes.
 *
 * @module
 */

/** The functions of the module (see the listing above). */
export interface MurmurModule {
  /** One page (64 KiB): the bytes to hash go at offset 0. */
  memory: WebAssembly.Memory;
  /** Starts a hash of `len` bytes. */
  init(len: number): void;
  /** Hashes the 8-byte blocks of the first `n` bytes (n a multiple of 8 unless it is the end). */
  step(n: number): void;
  /** Hashes the first `n` bytes as the last of the element and returns the hash (signed). */
  hash(n: number): bigint;
  /** {@linkcode hash}, reduced to `(run length << 14) | register index`. */
  patFin(n: number): number;
  /** {@linkcode init} and {@linkcode patFin} of an element of `len` bytes at offset 0. */
  pat(len: number): number;
}

const M = 0xc6a4a7935bd1e995n;
const SEED = 0xadc83b19n;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    const b = n & 0x7f;
    n >>>= 7;
    out.push(n !== 0 ? b | 0x80 : b);
  } while (n !== 0);
  return out;
}

function sleb(v: bigint): number[] {
  const out: number[] = [];
  v = BigInt.asIntN(64, v);
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

const I32 = 0x7f;
const I64 = 0x7e;
const get = (i: number) => [0x20, i];
const set = (i: number) => [0x21, i];
const tee = (i: number) => [0x22, i];
const i32 = (n: number) => [0x41, ...sleb(BigInt(n))];
const i64 = (n: bigint) => [0x42, ...sleb(n)];
const call = (f: number) => [0x10, f];
const GLOBAL_GET = [0x23, 0];
const GLOBAL_SET = [0x24, 0];
const LOAD64 = [0x29, 3, 0];
// deno-fmt-ignore
const [I32_ADD, I32_AND, I32_OR, I32_SHL, I32_LT_U, I32_EQZ] = [0x6a, 0x71, 0x72, 0x74, 0x49, 0x45];
// deno-fmt-ignore
const [I64_MUL, I64_XOR, I64_SHR_U, I64_SHL, I64_AND, I64_OR, I64_SUB, I64_CTZ] =
  [0x7e, 0x85, 0x88, 0x86, 0x83, 0x84, 0x7d, 0x7a];
const [EXTEND_U, WRAP, END] = [0xad, 0xa7, 0x0b];
const MUL_M = [...i64(M), I64_MUL];
/** x ^ (x >>> 47), x on the stack and in local `l`. */
const shiftXor = (l: number) => [...get(l), ...i64(47n), I64_SHR_U, I64_XOR];

// Function bodies: local declarations, then code, one line per step of the listing above.
// Function indexes: init 0, step 1, fin 2, patFin 3, pat 4.
const INIT = [0, ...i64(SEED), ...get(0), EXTEND_U, ...MUL_M, I64_XOR, ...GLOBAL_SET, END];
// deno-fmt-ignore
const STEP = [
  2, 2, I32, 2, I64, // locals p, end: i32; k, h: i64
  ...get(0), ...i32(-8), I32_AND, ...set(2), ...GLOBAL_GET, ...set(4),
  0x02, 0x40, 0x03, 0x40, // block, loop
  ...get(1), ...get(2), I32_LT_U, I32_EQZ, 0x0d, 1, // br_if out when p >= end
  ...get(1), ...LOAD64, ...MUL_M, ...tee(3), ...shiftXor(3), ...MUL_M,
  ...get(4), I64_XOR, ...MUL_M, ...set(4),
  ...get(1), ...i32(8), I32_ADD, ...set(1), 0x0c, 0, // br loop
  END, END,
  ...get(4), ...GLOBAL_SET, END,
];
// deno-fmt-ignore
const FIN = [
  2, 1, I32, 1, I64, // locals t: i32; h: i64
  ...get(0), ...call(1), ...GLOBAL_GET, ...set(2),
  ...get(0), ...i32(7), I32_AND, ...tee(1), 0x04, 0x40, // if t
  ...get(2), ...get(0), ...i32(-8), I32_AND, ...LOAD64,
  ...i64(1n), ...get(1), ...i32(3), I32_SHL, EXTEND_U, I64_SHL, ...i64(1n), I64_SUB, I64_AND,
  I64_XOR, ...MUL_M, ...set(2),
  END,
  ...get(2), ...shiftXor(2), ...MUL_M, ...tee(2), ...shiftXor(2), END,
];
// deno-fmt-ignore
const PAT_FIN = [
  1, 1, I64, // local h
  ...get(0), ...call(2), ...tee(1), WRAP, ...i32(0x3fff), I32_AND,
  ...get(1), ...i64(14n), I64_SHR_U, ...i64(1n << 50n), I64_OR, I64_CTZ, WRAP,
  ...i32(1), I32_ADD, ...i32(14), I32_SHL, I32_OR, END,
];
const PAT = [0, ...get(0), ...call(0), ...get(0), ...call(3), END];

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function name(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}

/** The module's bytes. */
function assemble(): Uint8Array<ArrayBuffer> {
  const types = [[0x60, 1, I32, 0], [0x60, 1, I32, 1, I64], [0x60, 1, I32, 1, I32]];
  const bodies = [INIT, STEP, FIN, PAT_FIN, PAT];
  const exports: Array<[string, number, number]> = [
    ["memory", 2, 0],
    ["init", 0, 0],
    ["step", 0, 1],
    ["hash", 0, 2],
    ["patFin", 0, 3],
    ["pat", 0, 4],
  ];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    ...section(1, vec(types)),
    ...section(3, vec([[0], [0], [1], [2], [2]])), // the type of each function
    ...section(5, vec([[0, 1]])), // one memory of at least one page
    ...section(6, vec([[I64, 1, ...i64(0n), END]])), // the mutable global $h
    ...section(7, vec(exports.map(([n, kind, index]) => [...name(n), kind, index]))),
    ...section(10, vec(bodies.map((b) => [...uleb(b.length), ...b]))),
  ]);
}

/**
 * A new instance of the module.
 *
 * @returns its exports
 * @example
 * ```ts
 * const m = murmurModule();
 * new Uint8Array(m.memory.buffer)[0] = 97; // "a"
 * m.init(1);
 * BigInt.asUintN(64, m.hash(1)); // 0x53d2470a9b43b1a7n
 * ```
 */
export function murmurModule(): MurmurModule {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(assemble()));
  return instance.exports as unknown as MurmurModule;
}
