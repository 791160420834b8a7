/**
 * Argument parsing and reply formatting shared by the GEO commands: coordinates, distances and
 * units with Redis's exact error texts, distances as `%.4f`-style text and coordinates in
 * Redis's "human" long double form.
 *
 * @module
 */

import { parseFloatStrict } from "../core/bytes.ts";
import { GEO_LAT_MAX, GEO_LAT_MIN, GEO_LONG_MAX, GEO_LONG_MIN } from "../core/geohash.ts";
import { DoubleReply, E, fail } from "../core/resp/reply.ts";

/**
 * A double argument as Redis's `getDoubleFromObject` reads it (`strtod`): like
 * {@linkcode parseFloatStrict}, but a value that overflows to infinity or underflows to zero is
 * refused (ERANGE), while the literal `inf` is accepted.
 *
 * @param s the argument
 * @param error the error text when it is not a valid double
 * @returns the double
 */
export function geoDouble(s: string, error: string = E.notFloat): number {
  const n = parseFloatStrict(s);
  if (n === undefined) return fail(error);
  const mantissa = s.split(/[eE]/)[0]!;
  if (!Number.isFinite(n) && /\d/.test(mantissa)) return fail(error);
  if (n === 0 && /[1-9]/.test(mantissa)) return fail(error);
  return n;
}

/** C's `%f`: six decimals, exact, `-0.000000` for negative zero, `inf` for infinities. */
function printfF(x: number): string {
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (Object.is(x, -0)) return "-0.000000";
  if (Math.abs(x) >= 1e21) return BigInt(x).toString() + ".000000";
  return x.toFixed(6);
}

/**
 * Reads a longitude and a latitude at `argv[at]`, `argv[at + 1]`, checked against the GEO
 * limits as Redis's `extractLongLatOrReply` does.
 *
 * @param argv the arguments
 * @param at index of the longitude
 * @returns [longitude, latitude]
 */
export function lonLatArg(argv: string[], at: number): [number, number] {
  const lon = geoDouble(argv[at]!);
  const lat = geoDouble(argv[at + 1]!);
  if (lon < GEO_LONG_MIN || lon > GEO_LONG_MAX || lat < GEO_LAT_MIN || lat > GEO_LAT_MAX) {
    fail(`ERR invalid longitude,latitude pair ${printfF(lon)},${printfF(lat)}`);
  }
  return [lon, lat];
}

/** Metres per unit for `m`, `km`, `ft` or `mi` (any case); an error for anything else. */
export function unitArg(s: string): number {
  switch (s.toLowerCase()) {
    case "m":
      return 1;
    case "km":
      return 1000;
    case "ft":
      return 0.3048;
    case "mi":
      return 1609.34;
    default:
      return fail("ERR unsupported unit provided. please use M, KM, FT, MI");
  }
}

/** C's `llrint` in the default rounding mode: to the nearest integer, ties to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * A distance as Redis replies it: four decimals, from the value scaled by 10^4 and rounded to
 * an integer (Redis's `fixedpoint_d2string`).
 *
 * @param d the distance in the reply's unit
 * @returns the text, e.g. `0.7750`
 */
export function distanceText(d: number): string {
  if (d === 0) return "0.0000";
  const v = roundHalfEven(d * 10000);
  const neg = v < 0;
  const digits = String(Math.abs(v)).padStart(5, "0");
  const text = `${digits.slice(0, -4)}.${digits.slice(-4)}`;
  return neg ? `-${text}` : text;
}

/**
 * A coordinate as Redis's `addReplyHumanLongDouble` sends it: `%.17Lf` of the exact value with
 * trailing zeros (and a bare point) removed; a bulk string in RESP2, a double in RESP3.
 *
 * @param x the coordinate
 * @returns the reply
 */
export function coordReply(x: number): DoubleReply {
  let text = x.toFixed(17);
  if (text.includes(".")) text = text.replace(/0+$/, "").replace(/\.$/, "");
  if (text === "-0") text = "0";
  return new DoubleReply(x, text);
}
