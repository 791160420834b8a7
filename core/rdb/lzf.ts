/**
 * LZF, the compression of RDB strings (`rdbcompression yes`) and of quicklist nodes
 * (`list-compress-depth`). The compressor follows Redis's bundled liblzf 3.6 as built there
 * (HLOG 16, VERY_FAST, a hash of 3 bytes into a table of positions), so the same input gives the
 * same bytes as a real Redis.
 *
 * Format: `000LLLLL` + L+1 literal bytes; `LLLooooo oooooooo` a back reference of L+2 bytes at
 * distance o+1; `111ooooo LLLLLLLL oooooooo` a back reference of L+9 bytes.
 *
 * @module
 */

const HSIZE = 1 << 16;
const MAX_LIT = 1 << 5;
const MAX_OFF = 1 << 13;
const MAX_REF = (1 << 8) + (1 << 3);

/** A back reference yields at most 264 bytes from 3 input bytes: the largest expansion. */
export const LZF_MAX_RATIO = 88;

// The hash table holds input offsets. Instead of clearing it for every call (256 KiB), a slot
// counts only when its generation is the current one: a fresh table at the cost of a counter.
const table = new Int32Array(HSIZE);
const generation = new Uint32Array(HSIZE);
let gen = 0;

/**
 * Compresses `input[start, end)` into `out` from offset 0, using at most `limit` bytes of it.
 *
 * @param input the bytes to compress
 * @param start first byte
 * @param end one past the last byte
 * @param out where the compressed bytes go (at least `limit` long)
 * @param limit most output bytes allowed
 * @returns the compressed length, or 0 when the output would not fit in `limit` bytes
 * @example
 * ```ts
 * const data = new TextEncoder().encode("a".repeat(100));
 * const out = new Uint8Array(96);
 * lzfCompress(data, 0, data.length, out, 96); // 6
 * ```
 */
export function lzfCompress(
  input: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  limit: number,
): number {
  if (end <= start || limit === 0) return 0;
  if (++gen === 0xffffffff) {
    generation.fill(0);
    gen = 1;
  }
  const g = gen;
  let ip = start;
  let op = 1; // room for the first literal run's control byte
  let lit = 0;
  const last = end - 2;
  let hval = (input[ip]! << 8) | input[ip + 1]!;
  while (ip < last) {
    hval = (hval << 8) | input[ip + 2]!;
    let slot = ((hval >>> 8) - Math.imul(hval, 5)) & (HSIZE - 1);
    // Offsets are stored relative to `start` plus one, so 0 means empty as in liblzf.
    const ref = generation[slot] === g ? table[slot]! - 1 + start : -1;
    table[slot] = ip - start + 1;
    generation[slot] = g;
    const off = ip - ref - 1;
    if (
      ref > start && off < MAX_OFF && input[ref + 2] === input[ip + 2] &&
      input[ref] === input[ip] && input[ref + 1] === input[ip + 1]
    ) {
      let len = 2;
      let maxlen = end - ip - len;
      if (maxlen > MAX_REF) maxlen = MAX_REF;
      if (op + 4 >= limit && op - (lit === 0 ? 1 : 0) + 4 >= limit) return 0;
      out[op - lit - 1] = lit - 1;
      if (lit === 0) op--;
      // liblzf first compares 16 bytes without a bound check (maxlen > 16 leaves room), then
      // goes on byte by byte; the count can pass maxlen by one or two, as in the original.
      let done = false;
      if (maxlen > 16) {
        for (let k = 0; k < 16; k++) {
          len++;
          if (input[ref + len] !== input[ip + len]) {
            done = true;
            break;
          }
        }
      }
      if (!done) {
        do len++; while (len < maxlen && input[ref + len] === input[ip + len]);
      }
      len -= 2;
      ip++;
      if (len < 7) {
        out[op++] = (off >> 8) + (len << 5);
      } else {
        out[op++] = (off >> 8) + (7 << 5);
        out[op++] = len - 7;
      }
      out[op++] = off & 0xff;
      lit = 0;
      op++;
      ip += len + 1;
      if (ip >= last) break;
      // VERY_FAST: hash the two positions before the next one.
      ip -= 2;
      hval = (input[ip]! << 8) | input[ip + 1]!;
      hval = (hval << 8) | input[ip + 2]!;
      slot = ((hval >>> 8) - Math.imul(hval, 5)) & (HSIZE - 1);
      table[slot] = ip - start + 1;
      generation[slot] = g;
      ip++;
      hval = (hval << 8) | input[ip + 2]!;
      slot = ((hval >>> 8) - Math.imul(hval, 5)) & (HSIZE - 1);
      table[slot] = ip - start + 1;
      generation[slot] = g;
      ip++;
    } else {
      if (op >= limit) return 0;
      lit++;
      out[op++] = input[ip++]!;
      if (lit === MAX_LIT) {
        out[op - lit - 1] = lit - 1;
        lit = 0;
        op++;
      }
    }
  }
  if (op + 3 > limit) return 0;
  while (ip < end) {
    lit++;
    out[op++] = input[ip++]!;
    if (lit === MAX_LIT) {
      out[op - lit - 1] = lit - 1;
      lit = 0;
      op++;
    }
  }
  out[op - lit - 1] = lit - 1;
  if (lit === 0) op--;
  return op;
}

/**
 * Decompresses LZF data that must expand to exactly `len` bytes.
 *
 * @param input the compressed bytes
 * @param len the uncompressed length
 * @param into where to decompress when it has room (a scratch buffer), else a new array
 * @returns the uncompressed bytes (a view of `into` when it was used)
 * @throws {RangeError} on malformed or truncated input, or a length the input cannot produce
 * @example
 * ```ts
 * lzfDecompress(new Uint8Array([2, 97, 98, 99]), 3); // "abc"
 * ```
 */
export function lzfDecompress(input: Uint8Array, len: number, into?: Uint8Array): Uint8Array {
  // Checked before allocating, so a hostile length cannot reserve memory the data cannot fill.
  if (len > input.length * LZF_MAX_RATIO) throw new RangeError("Invalid LZF data: bad length");
  const out = into !== undefined && into.length >= len
    ? into.subarray(0, len)
    : new Uint8Array(len);
  const n = input.length;
  let ip = 0, op = 0;
  while (ip < n) {
    const ctrl = input[ip++]!;
    if (ctrl < 32) {
      const run = ctrl + 1;
      if (op + run > len || ip + run > n) throw new RangeError("Invalid LZF data: literal run");
      out.set(input.subarray(ip, ip + run), op);
      ip += run;
      op += run;
    } else {
      let run = ctrl >> 5;
      if (ip >= n) throw new RangeError("Invalid LZF data: truncated reference");
      if (run === 7) {
        run += input[ip++]!;
        if (ip >= n) throw new RangeError("Invalid LZF data: truncated reference");
      }
      const ref = op - ((ctrl & 0x1f) << 8) - 1 - input[ip++]!;
      run += 2;
      if (ref < 0 || op + run > len) throw new RangeError("Invalid LZF data: bad reference");
      for (let i = 0; i < run; i++) out[op++] = out[ref + i]!;
    }
  }
  if (op !== len) throw new RangeError("Invalid LZF data: short output");
  return out;
}
