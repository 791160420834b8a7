/**
 * Binary-safe strings. Every key and value travels through redeno as a JS string in which each
 * UTF-16 code unit holds exactly one byte (0-255), the "latin1" view of the bytes. V8 stores such
 * strings one byte per character, Maps hash them natively, and the conversion is a bijection, so
 * any byte sequence a client sends comes back unchanged.
 *
 * @module
 */

// Both runtimes ship Node's Buffer, whose native latin1 codec beats any JS loop past a few bytes.
// It is only an accelerator: the loops below are the portable definition.
type NativeLatin1 = {
  latin1Slice(this: Uint8Array, start: number, end: number): string;
  latin1Write(this: Uint8Array, s: string, offset: number, length: number): number;
};
const native: NativeLatin1 | undefined = (() => {
  const proto = (globalThis as { Buffer?: { prototype: NativeLatin1 } }).Buffer?.prototype;
  return proto && typeof proto.latin1Slice === "function" &&
      typeof proto.latin1Write === "function"
    ? proto
    : undefined;
})();

/** Argument arrays of each length up to 64, reused by bytesToStr. */
const ARG_ARRAYS: number[][] = Array.from({ length: 65 }, (_, n) => new Array<number>(n).fill(0));

/** Bytes `[start, end)` of `buf` as a binary string. */
export function bytesToStr(buf: Uint8Array, start = 0, end = buf.length): string {
  const len = end - start;
  if (len <= 8) {
    // One fromCharCode call per string: concatenating characters costs a string add each.
    const f = String.fromCharCode;
    const b = start;
    switch (len) {
      case 0:
        return "";
      case 1:
        return f(buf[b]!);
      case 2:
        return f(buf[b]!, buf[b + 1]!);
      case 3:
        return f(buf[b]!, buf[b + 1]!, buf[b + 2]!);
      case 4:
        return f(buf[b]!, buf[b + 1]!, buf[b + 2]!, buf[b + 3]!);
      case 5:
        return f(buf[b]!, buf[b + 1]!, buf[b + 2]!, buf[b + 3]!, buf[b + 4]!);
      case 6:
        return f(buf[b]!, buf[b + 1]!, buf[b + 2]!, buf[b + 3]!, buf[b + 4]!, buf[b + 5]!);
      case 7:
        return f(
          buf[b]!,
          buf[b + 1]!,
          buf[b + 2]!,
          buf[b + 3]!,
          buf[b + 4]!,
          buf[b + 5]!,
          buf[b + 6]!,
        );
      default:
        return f(
          buf[b]!,
          buf[b + 1]!,
          buf[b + 2]!,
          buf[b + 3]!,
          buf[b + 4]!,
          buf[b + 5]!,
          buf[b + 6]!,
          buf[b + 7]!,
        );
    }
  }
  if (len <= 64) {
    // One fromCharCode call over a reused argument array builds a flat one-byte string: half the
    // cost of a native latin1Slice call for typical key sizes (measured on Deno).
    const args = ARG_ARRAYS[len]!;
    for (let i = 0; i < len; i++) args[i] = buf[start + i]!;
    return String.fromCharCode.apply(null, args);
  }
  if (native === undefined) {
    let s = "";
    for (let i = start; i < end; i += 8192) {
      s += String.fromCharCode.apply(
        null,
        buf.subarray(i, Math.min(end, i + 8192)) as unknown as number[],
      );
    }
    return s;
  }
  return native.latin1Slice.call(buf, start, end);
}

/**
 * Whether the runtime's Buffer#latin1Write is native code. Node's is (a copy at memory speed);
 * Deno's is JavaScript that allocates per call (measured on Deno 2.9: 0.94 us for 100 bytes,
 * 5.1 us for 1 KiB, ~3 ms per MiB; a plain loop takes 0.07 us and 3.4 us, encodeInto 0.10 us and
 * 0.35 us), so there writeStr does without it. Function#toString marks built-in and host
 * functions as `[native code]`.
 */
const nativeWrite = native !== undefined &&
  /\[native code\]/.test(Function.prototype.toString.call(native.latin1Write));
/** Without a native latin1Write, strings at least this long try {@linkcode writeAscii} first. */
const ASCII_MIN = 64;
/** The prefix {@linkcode writeAscii} tries before committing to the whole string. */
const ASCII_PROBE = 4096;
const asciiEncoder = new TextEncoder();

/**
 * Writes `s` with the runtime's native UTF-8 encoder when every character is ASCII (UTF-8 and
 * latin1 agree there), else writes nothing useful and returns false. A prefix goes first, so a
 * binary value costs at most that much wasted work before the caller's fallback.
 */
function writeAscii(buf: Uint8Array, offset: number, s: string): boolean {
  const len = s.length;
  const probe = Math.min(len, ASCII_PROBE);
  const head = asciiEncoder.encodeInto(
    probe === len ? s : s.substring(0, probe),
    buf.subarray(offset, offset + probe),
  );
  if (head.read !== probe || head.written !== probe) return false;
  if (probe === len) return true;
  const rest = asciiEncoder.encodeInto(
    s.substring(probe),
    buf.subarray(offset + probe, offset + len),
  );
  return rest.read === len - probe && rest.written === len - probe;
}

/** Writes binary string `s` into `buf` at `offset`; the caller guarantees room. */
export function writeStr(buf: Uint8Array, offset: number, s: string): number {
  const len = s.length;
  if (len > 16 && nativeWrite) return native!.latin1Write.call(buf, s, offset, len);
  if (len >= ASCII_MIN && writeAscii(buf, offset, s)) return len;
  for (let i = 0; i < len; i++) buf[offset + i] = s.charCodeAt(i);
  return len;
}

/** A binary string as a fresh byte array. */
export function strToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  writeStr(out, 0, s);
  return out;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** A JS (UTF-16) text as the binary string of its UTF-8 bytes, for text the server makes up. */
export function utf8ToStr(text: string): string {
  // deno-lint-ignore no-control-regex
  if (/^[\x00-\x7f]*$/.test(text)) return text;
  return bytesToStr(utf8Encoder.encode(text));
}

/** A binary string holding UTF-8 bytes as JS text (invalid sequences become U+FFFD). */
export function strToUtf8(s: string): string {
  // deno-lint-ignore no-control-regex
  if (/^[\x00-\x7f]*$/.test(s)) return s;
  return utf8Decoder.decode(strToBytes(s));
}

const MAX_I64 = 9223372036854775807n;
const MIN_I64 = -9223372036854775808n;

/**
 * Parses a signed 64-bit integer exactly as Redis's `string2ll` does: optional `-`, no `+`, no
 * spaces, no leading zeros. Returns a number when it is a safe integer, a bigint otherwise, and
 * undefined when the text is not a valid int64.
 */
export function parseI64(s: string): number | bigint | undefined {
  const len = s.length;
  if (len === 0 || len > 20) return undefined;
  let i = 0;
  let neg = false;
  if (s.charCodeAt(0) === 45) {
    neg = true;
    i = 1;
    if (len === 1) return undefined;
  }
  const first = s.charCodeAt(i);
  if (first === 48) return len === 1 ? 0 : undefined;
  if (first < 49 || first > 57) return undefined;
  if (len - i <= 15) {
    let n = 0;
    for (; i < len; i++) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return undefined;
      n = n * 10 + c;
    }
    return neg ? -n : n;
  }
  for (let j = i; j < len; j++) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) return undefined;
  }
  const big = BigInt(s);
  if (big > MAX_I64 || big < MIN_I64) return undefined;
  const n = Number(big);
  return Number.isSafeInteger(n) ? n : big;
}

/** Like {@linkcode parseI64} but always a number (precision past 2^53 is not needed by callers). */
export function parseInteger(s: string): number | undefined {
  const v = parseI64(s);
  return typeof v === "bigint" ? Number(v) : v;
}

/** True when a bigint or number result still fits a signed 64-bit integer. */
export function fitsI64(v: bigint): boolean {
  return v <= MAX_I64 && v >= MIN_I64;
}

const FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INF_RE = /^[+-]?inf(?:inity)?$/i;

/**
 * Parses a double the way Redis's `strtod`-based helpers accept it: decimal or exponent
 * notation, `inf`/`-inf`/`infinity` in any case, no surrounding spaces. NaN is refused.
 */
export function parseFloatStrict(s: string): number | undefined {
  if (s.length === 0 || s.length > 5000) return undefined;
  if (FLOAT_RE.test(s)) return Number(s);
  if (INF_RE.test(s)) return s.charCodeAt(0) === 45 ? -Infinity : Infinity;
  return undefined;
}

/** A finite double's shortest round-trip digits in positional notation (no exponent). */
function positional(x: number): string {
  const s = String(x);
  const e = s.indexOf("e");
  if (e < 0) return s;
  const neg = x < 0;
  const [intPart = "", frac = ""] = s.slice(neg ? 1 : 0, e).split(".");
  const digits = intPart + frac;
  const point = intPart.length + Number(s.slice(e + 1));
  let out: string;
  if (point <= 0) out = "0." + "0".repeat(-point) + digits;
  else if (point >= digits.length) out = digits + "0".repeat(point - digits.length);
  else out = digits.slice(0, point) + "." + digits.slice(point);
  return (neg ? "-" : "") + out;
}

function trimZeros(s: string): string {
  return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
}

/**
 * Formats a double as Redis's INCRBYFLOAT and HINCRBYFLOAT do (`%.17Lf` with trailing zeros
 * removed): positional notation, never an exponent, at most 17 decimals, no negative zero.
 */
export function formatHumanFloat(x: number): string {
  if (x === 0) return "0";
  if (Number.isInteger(x)) return BigInt(x).toString();
  const s = positional(x);
  const dot = s.indexOf(".");
  if (dot < 0 || s.length - dot - 1 <= 17) return s;
  const r = trimZeros(x.toFixed(17));
  return r === "-0" ? "0" : r;
}

/**
 * Formats a double as Redis 7.0's `%.17g` replies do (ZSCORE, RESP2 doubles): `inf`, `-inf`,
 * otherwise 17 significant digits with trailing zeros trimmed, in exponent form below 1e-4 or
 * from 1e17 up.
 */
/**
 * True when `x` sits exactly halfway between two 17-digit decimals: JS rounds such ties up, C's
 * printf (and so Redis) to even. Digits 19 to 30 are all zero only for an exact tie (or a value
 * within 1e-30 relative of one, which the exact path handles too).
 */
function isTieAt17(x: number): boolean {
  // A tie needs an exact expansion of at most 18 significant digits, so at most 18 - log10|x|
  // fractional bits (x = m / 2^f is then a multiple of 10^-(18 - log10|x|)). Multiplying by a
  // power of two is exact: almost every double fails this at once.
  const ax = Math.abs(x);
  const a = 18 - Math.floor(Math.log10(ax));
  if (a > 0 && a < 1100 && !Number.isInteger(ax * 2 ** a)) return false;
  // Then the 18th digit must read 5.
  const t18 = x.toExponential(17);
  if (t18.charCodeAt(t18.indexOf("e") - 1) !== 53) return false;
  const t = x.toExponential(29);
  const e = t.indexOf("e");
  const mant = t.charCodeAt(0) === 45 ? t.slice(1, e) : t.slice(0, e);
  // mant is "d.ddd...": the 18th significant digit is at index 18.
  if (mant.charCodeAt(18) !== 53) return false;
  for (let i = 19; i < mant.length; i++) if (mant.charCodeAt(i) !== 48) return false;
  return true;
}

/** `x.toExponential(16)` rounded half to even, from the exact decimal value of the double. */
function exactExponential17(x: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  let exp2 = Number((bits >> 52n) & 0x7ffn);
  let m = bits & 0xfffffffffffffn;
  if (exp2 === 0) exp2 = 1;
  else m |= 1n << 52n;
  exp2 -= 1075;
  // |x| = digits × 10^-scale exactly.
  let digits: string;
  let scale = 0;
  if (exp2 >= 0) digits = (m << BigInt(exp2)).toString();
  else {
    digits = (m * 5n ** BigInt(-exp2)).toString();
    scale = -exp2;
  }
  const exp10 = digits.length - 1 - scale;
  let head = BigInt(digits.slice(0, 17));
  const rest = digits.slice(17);
  const half = rest.length > 0 && rest[0] === "5" && /^5?0*$/.test(rest);
  if (
    (rest.length > 0 && rest[0]! > "5") || (rest[0] === "5" && !half) || (half && head % 2n === 1n)
  ) {
    head += 1n;
  }
  let s = head.toString();
  let e10 = exp10;
  if (s.length > 17) {
    s = s.slice(0, 17);
    e10++;
  }
  return `${x < 0 ? "-" : ""}${s[0]}.${s.slice(1)}e${e10 < 0 ? "-" : "+"}${Math.abs(e10)}`;
}

export function formatDouble(x: number): string {
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (Number.isNaN(x)) return "nan";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const tie = isTieAt17(x);
  const t = tie ? exactExponential17(x) : x.toExponential(16);
  const e = t.indexOf("e");
  const exp = Number(t.slice(e + 1));
  if (exp < -4 || exp >= 17) {
    const abs = Math.abs(exp);
    return trimZeros(t.slice(0, e)) + (exp < 0 ? "e-" : "e+") + (abs < 10 ? "0" : "") + abs;
  }
  if (!tie) return trimZeros(x.toFixed(16 - exp));
  // Fixed notation from the same 17 digits (x.toFixed would round the tie up again).
  const neg = t.charCodeAt(0) === 45;
  const digits = (neg ? t.slice(1, e) : t.slice(0, e)).replace(".", "");
  const body = exp >= 0
    ? `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`
    : `0.${"0".repeat(-exp - 1)}${digits}`;
  return (neg ? "-" : "") + trimZeros(body);
}

/**
 * `x` as Redis 7.2+ replies a double (its `d2string`): an integral value within ±2^62 as an
 * integer, otherwise the shortest digits that read back as `x`, in plain notation when short
 * enough and as `1.25e-5` / `3e+20` otherwise. Redis 7.0 used `%.17g` ({@linkcode formatDouble}).
 *
 * @param x the double
 * @returns its text
 */
export function formatDouble72(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) <= 2 ** 62 && !Object.is(x, -0)) {
    return BigInt(x).toString();
  }
  return shortestDouble(x);
}

/**
 * `x` as Redis 7.2+'s `fpconv_dtoa` writes it (DEBUG DIGEST's scores): the shortest digits that
 * read back as `x`, plain when short enough, else `1e+10`; {@linkcode formatDouble72} without
 * its integer case.
 *
 * @param x the double
 * @returns its text
 */
export function shortestDouble(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  // toExponential() without an argument gives the shortest digits that round-trip.
  const t = Math.abs(x).toExponential();
  const e = t.indexOf("e");
  const digits = t.slice(0, e).replace(".", "");
  const n = digits.length;
  const point = Number(t.slice(e + 1)); // exponent of the first digit
  const k = point - n + 1; // exponent of the last digit
  const sign = x < 0 ? "-" : "";
  const mag = Math.abs(point);
  // The thresholds of Redis's fpconv: plain integers up to 7 trailing zeros past the digits,
  // plain fractions down to 7 places (or with a small integer part).
  if (k >= 0 && mag < n + 7) return sign + digits + "0".repeat(k);
  if (k < 0 && (k > -7 || mag < 4)) {
    const whole = n + k;
    return sign +
      (whole <= 0
        ? `0.${"0".repeat(-whole)}${digits}`
        : `${digits.slice(0, whole)}.${digits.slice(whole)}`);
  }
  const mantissa = n > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${mantissa}e${point < 0 ? "-" : "+"}${mag}`;
}

/** `n` random lowercase hex digits (run ids, replication ids). */
export function randomHex(n: number): string {
  const bytes = new Uint8Array(Math.ceil(n / 2));
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("").slice(0, n);
}
