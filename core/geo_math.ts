/**
 * `sin`, `cos` and `asin` for the GEO distances, correctly rounded. Redis computes distances
 * with glibc's functions; JS engines differ: older V8 builds use fdlibm, which is one ulp off
 * glibc for a few percent of inputs, recent ones round correctly. Correct rounding is the
 * closest one can get to glibc without its tables (glibc 2.36 itself is off the correctly
 * rounded result for about 0.1% of inputs). The engine's functions are used when they pass
 * probes on inputs where fdlibm is off; otherwise the functions are evaluated in double-double
 * arithmetic (about 106 bits) and rounded once, 5-10 times slower. The ulps show only in
 * stored distances (GEOSEARCHSTORE ... STOREDIST) and for points at a search's very edge.
 *
 * @module
 */

// π/2 as three doubles (hi + mid + lo), for the argument reduction.
const PIO2_1 = 1.5707963267948966;
const PIO2_2 = 6.123233995736766e-17;
const PIO2_3 = -1.4973849048591698e-33;
const TWO_OVER_PI = 2 / Math.PI;
/** Past this the reduction loses accuracy: the engine's functions are used instead. */
const REDUCE_MAX = 1e6;

// The double-double result of the last operation (hi, lo): no allocation per step.
let H = 0;
let L = 0;

/** Exact product of two doubles into H + L (Dekker, no FMA). */
function twoProd(a: number, b: number): void {
  const p = a * b;
  let c = 134217729 * a;
  const ah = c - (c - a);
  const al = a - ah;
  c = 134217729 * b;
  const bh = c - (c - b);
  const bl = b - bh;
  H = p;
  L = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

/** (ah, al) + (bh, bl) into H + L. */
function ddAdd(ah: number, al: number, bh: number, bl: number): void {
  const s = ah + bh;
  const bb = s - ah;
  const e = (ah - (s - bb)) + (bh - bb) + al + bl;
  H = s + e;
  L = e - (H - s);
}

/** (ah, al) × (bh, bl) into H + L. */
function ddMul(ah: number, al: number, bh: number, bl: number): void {
  twoProd(ah, bh);
  const lo = L + (ah * bl + al * bh);
  const hi = H;
  H = hi + lo;
  L = lo - (H - hi);
}

/** (ah, al) ÷ b (a double) into H + L (for the coefficients, at load). */
function ddDiv(ah: number, al: number, b: number): void {
  const q = ah / b;
  twoProd(q, b);
  const r = (ah - H - L + al) / b;
  H = q + r;
  L = r - (H - q);
}

/**
 * Taylor coefficients in z = r² as double-doubles, highest degree first: for sin r = r × Σ
 * (-1)^i z^i / (2i + 1)!, and cos r = Σ (-1)^i z^i / (2i)!. Terms past the fifth are below
 * 2^-28 of the result for |r| ≤ π/4: summed in plain doubles (their rounding errors stay
 * around 2^-80 of the result), the leading ones in double-double.
 */
function coefficients(odd: boolean): { hi: number[]; lo: number[]; tail: number[] } {
  const hi: number[] = [];
  const lo: number[] = [];
  const tail: number[] = [];
  let fact = 1;
  for (let i = 0; i < 11; i++) {
    const k = 2 * i + (odd ? 1 : 0);
    if (k > 1) fact *= k * (k - 1);
    ddDiv(i % 2 === 0 ? 1 : -1, 0, fact);
    if (i < 6) {
      hi.unshift(H);
      lo.unshift(L);
    } else tail.unshift(H);
  }
  return { hi, lo, tail };
}

const SIN = coefficients(true);
const COS = coefficients(false);

/** sin (`odd`) or cos of r = rh + rl, |r| ≤ π/4, into H + L. */
function series(rh: number, rl: number, odd: boolean): void {
  const c = odd ? SIN : COS;
  twoProd(rh, rh);
  const zh = H;
  const zl = L;
  let p = 0;
  for (const t of c.tail) p = p * zh + t;
  let ph = p;
  let pl = 0;
  for (let i = 0; i < c.hi.length; i++) {
    ddMul(ph, pl, zh, zl);
    ddAdd(H, L, c.hi[i]!, c.lo[i]!);
    ph = H;
    pl = L;
  }
  if (odd) ddMul(ph, pl, rh, 0);
  // The low part of r, to first order (sin' = cos, cos' = -sin).
  if (rl !== 0) ddAdd(H, L, odd ? rl * Math.cos(rh) : -rl * Math.sin(rh), 0);
}

/** sin (`sine`) or cos of x as a double-double in H + L; false when |x| is too large. */
function trig(x: number, sine: boolean): boolean {
  if (!(Math.abs(x) <= REDUCE_MAX)) return false;
  const k = Math.round(x * TWO_OVER_PI);
  let rh = x;
  let rl = 0;
  if (k !== 0) {
    twoProd(k, PIO2_1);
    const ph = H;
    const pl = L;
    ddAdd(x, 0, -ph, -pl);
    rh = H;
    rl = L;
    twoProd(k, PIO2_2);
    ddAdd(rh, rl, -H, -L - k * PIO2_3);
    rh = H;
    rl = L;
  }
  const q = ((k % 4) + 4) % 4;
  // sin(r + qπ/2) and cos(r + qπ/2) from sin r and cos r.
  const useSin = sine ? q % 2 === 0 : q % 2 === 1;
  const negate = sine ? q >= 2 : q === 1 || q === 2;
  series(rh, rl, useSin);
  if (negate) {
    H = -H;
    L = -L;
  }
  return true;
}

/** sin(x), correctly rounded (but for astronomically rare cases). */
function ddSin(x: number): number {
  if (x === 0 || !trig(x, true)) return Math.sin(x);
  return H + L;
}

/** cos(x), correctly rounded (but for astronomically rare cases). */
function ddCos(x: number): number {
  if (!trig(x, false)) return Math.cos(x);
  return H + L;
}

/** asin(x) for x in [0, 1], correctly rounded: one Newton step from the engine's estimate. */
function ddAsin(x: number): number {
  const y = Math.asin(x);
  if (!(x > 0 && x < 1)) return y;
  trig(y, true);
  ddAdd(H, L, -x, 0);
  const f = H + L;
  return y - f / ddCos(y);
}

/** True when `f` gives glibc's (correctly rounded) result on inputs where fdlibm is off. */
function engineRounds(f: (x: number) => number, probes: number[][]): boolean {
  return probes.every(([x, y]) => f(x!) === y);
}

// Recent V8 builds ship correctly rounded trigonometry, older ones fdlibm's: the engine's
// functions are used when they pass the probes, being 5-10 times faster.
const SIN_PROBES = [
  [2.227540920001166, 0.7919839867011075],
  [-0.7102027239668154, -0.6519874957540576],
  [-2.2962544400686067, -0.748195552285288],
  [-0.7366076585380729, -0.6717788990804997],
];
const COS_PROBES = [
  [0.09032691624389351, 0.9959232970339668],
  [0.8995593839435116, 0.6219550543328992],
  [0.36783384077919784, 0.9331084742421177],
  [0.36301603060695076, 0.9348300987574029],
];
const ASIN_PROBES = [
  [0.8700101551766398, 1.0552229174978505],
  [0.5047204674288633, 0.5290581328188825],
  [0.8164373705606909, 0.9552140701962796],
  [0.8170396683778869, 0.9562578998246477],
];

/** sin(x), correctly rounded. */
export const sin: (x: number) => number = engineRounds(Math.sin, SIN_PROBES) ? Math.sin : ddSin;
/** cos(x), correctly rounded. */
export const cos: (x: number) => number = engineRounds(Math.cos, COS_PROBES) ? Math.cos : ddCos;
/** asin(x) for x in [0, 1], correctly rounded. */
export const asin: (x: number) => number = engineRounds(Math.asin, ASIN_PROBES)
  ? Math.asin
  : ddAsin;

/** The double-double versions, whatever the engine (for tests). */
export const exact = { sin: ddSin, cos: ddCos, asin: ddAsin };
