/**
 * Just enough of the x87 80-bit `long double` for INCRBYFLOAT and HINCRBYFLOAT: Redis parses
 * both operands with `strtold`, adds them in `long double` and prints the sum with `%.17Lf`.
 * A 64-bit double cannot reproduce that (`SET k 3000` then `INCRBYFLOAT k 0.00000000000000001`
 * answers `3000` on Redis only because the 64-bit mantissa rounds the tiny addend away), so the
 * arithmetic is done exactly with bigints and rounded the way the FPU rounds: to a 64-bit
 * mantissa, ties to even, with the format's exponent range and subnormals.
 *
 * @module
 */

/** A finite long double, `(-1)^neg * m * 2^e` with `m < 2^64`; `m === 0n` is zero. */
export interface LongDouble {
  /** Sign. */
  neg: boolean;
  /** Mantissa (at most 64 bits). */
  m: bigint;
  /** Binary exponent of the mantissa's last bit. */
  e: number;
}

/** Result of parsing: a finite value, an infinity, or undefined when `strtold` would refuse it. */
export type Parsed = LongDouble | "inf" | "-inf" | undefined;

const MANT_BITS = 64;
const TWO_64 = 1n << 64n;
/** Exponent of the smallest subnormal (2^-16445). */
const E_MIN = -16445;
/** Largest exponent of the mantissa's last bit for a finite value (below 2^16384). */
const E_MAX = 16384 - MANT_BITS;
/** Redis's MAX_LONG_DOUBLE_CHARS: longer inputs are refused. */
const MAX_CHARS = 5 * 1024;
const TEN_17 = 10n ** 17n;

const DEC_RE = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const HEX_RE = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?$/;
const INF_RE = /^([+-]?)inf(?:inity)?$/i;

function bitLength(n: bigint): number {
  return n.toString(2).length;
}

/**
 * Rounds `num / den * 2^exp2` (positive) to the nearest long double, ties to even. Returns
 * undefined when it overflows to infinity; a zero mantissa when it underflows.
 */
function round(neg: boolean, num: bigint, den: bigint, exp2: number): LongDouble | undefined {
  let e = bitLength(num) - bitLength(den) + exp2 - MANT_BITS;
  if (e < E_MIN) e = E_MIN;
  for (;;) {
    const shift = exp2 - e;
    const n = shift >= 0 ? num << BigInt(shift) : num;
    const d = shift >= 0 ? den : den << BigInt(-shift);
    let q = n / d;
    if (q >= TWO_64) {
      e++;
      continue;
    }
    const twice = (n - q * d) * 2n;
    if (twice > d || (twice === d && (q & 1n) === 1n)) q++;
    if (q === TWO_64) {
      q = 1n << 63n;
      e++;
    }
    return e > E_MAX ? undefined : { neg, m: q, e };
  }
}

function finite(neg: boolean, num: bigint, den: bigint, exp2: number): Parsed {
  const v = round(neg, num, den, exp2);
  // strtold reports ERANGE when the input overflows, or when a non-zero input rounds to zero,
  // and Redis refuses both.
  return v === undefined || v.m === 0n ? undefined : v;
}

/**
 * Parses `s` as Redis's `string2ld` does (glibc `strtold` on the whole string, no leading
 * space, no NaN, no overflow or underflow to zero): decimal, hexadecimal (`0x1.8p3`) or an
 * infinity.
 *
 * @param s the text
 * @returns the value, `"inf"`/`"-inf"`, or undefined when Redis would answer "not a valid float"
 * @example
 * ```ts
 * const a = parseLongDouble("3000");
 * const b = parseLongDouble("0.00000000000000001");
 * if (typeof a === "object" && typeof b === "object") {
 *   formatLongDouble(addLongDouble(a, b)!); // "3000", as Redis answers
 * }
 * ```
 */
export function parseLongDouble(s: string): Parsed {
  if (s.length === 0 || s.length >= MAX_CHARS) return undefined;
  let m = DEC_RE.exec(s);
  if (m !== null && (m[2] !== "" || (m[3] ?? "") !== "")) {
    const neg = m[1] === "-";
    const frac = m[3] ?? "";
    const digits = (m[2]! + frac).replace(/^0+/, "");
    if (digits === "") return { neg, m: 0n, e: 0 };
    const k = Number(m[4] ?? "0") - frac.length;
    // Decimal magnitude: the value lies in [10^(mag-1), 10^mag).
    const mag = digits.length + k;
    if (mag > 4934) return undefined;
    if (mag < -4952) return undefined;
    const d = BigInt(digits);
    return k >= 0 ? finite(neg, d * 10n ** BigInt(k), 1n, 0) : finite(neg, d, 10n ** BigInt(-k), 0);
  }
  m = HEX_RE.exec(s);
  if (m !== null && (m[2] !== "" || (m[3] ?? "") !== "")) {
    const neg = m[1] === "-";
    const frac = m[3] ?? "";
    const digits = (m[2]! + frac).replace(/^0+/, "");
    if (digits === "") return { neg, m: 0n, e: 0 };
    const exp2 = Number(m[4] ?? "0") - 4 * frac.length;
    const mag = digits.length * 4 + exp2;
    if (mag > 16390) return undefined;
    if (mag < -16450) return undefined;
    return finite(neg, BigInt("0x" + digits), 1n, exp2);
  }
  m = INF_RE.exec(s);
  if (m !== null) return m[1] === "-" ? "-inf" : "inf";
  return undefined;
}

/**
 * Adds two long doubles with one rounding, as the FPU does.
 *
 * @param a first operand
 * @param b second operand
 * @returns `a + b` rounded to a long double, or undefined when the sum overflows
 */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble | undefined {
  if (b.m === 0n) return a;
  if (a.m === 0n) return b;
  const e = Math.min(a.e, b.e);
  const x = a.m << BigInt(a.e - e);
  const y = b.m << BigInt(b.e - e);
  const sum = (a.neg ? -x : x) + (b.neg ? -y : y);
  if (sum === 0n) return { neg: false, m: 0n, e: 0 };
  return sum < 0n ? round(true, -sum, 1n, e) : round(false, sum, 1n, e);
}

/**
 * Formats as Redis's `ld2string` in human mode: `%.17Lf` (exact value rounded to 17 decimals,
 * ties to even), trailing zeros and a bare point removed, `-0` written `0`.
 *
 * @param v the value
 * @returns its text, e.g. `"-0.1"`, `"3000"`
 */
export function formatLongDouble(v: LongDouble): string {
  let scaled: bigint;
  if (v.e >= 0) {
    scaled = (v.m << BigInt(v.e)) * TEN_17;
  } else {
    const shift = BigInt(-v.e);
    const n = v.m * TEN_17;
    scaled = n >> shift;
    const twice = (n - (scaled << shift)) << 1n;
    const one = 1n << shift;
    if (twice > one || (twice === one && (scaled & 1n) === 1n)) scaled++;
  }
  const text = scaled.toString().padStart(18, "0");
  const intPart = text.slice(0, -17);
  const frac = text.slice(-17).replace(/0+$/, "");
  const out = frac === "" ? intPart : `${intPart}.${frac}`;
  return v.neg && out !== "0" ? "-" + out : out;
}
