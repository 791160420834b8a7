/**
 * Geohash arithmetic of Redis's GEO commands: 52-bit interleaved cell hashes on Redis's
 * latitude range (±85.05112878, the Web Mercator limit), their decoding to cell centres, the
 * nine-cell cover of a search shape, and the haversine distance on a sphere of radius
 * {@linkcode EARTH_RADIUS_IN_METERS}.
 *
 * Hashes are plain numbers: 26 bits per axis interleave into 52 bits (53 when a coordinate sits
 * exactly on the upper limit), below 2^53, so every step stays exact without BigInt. The
 * interleaving works on 16-bit halves because JS bit operators are 32-bit.
 *
 * @module
 */

import { asin, cos, sin } from "./geo_math.ts";

/** Bits per axis of a stored position: 26 × 2 = 52 bits. */
export const GEO_STEP_MAX = 26;
/** Lowest latitude Redis can index. */
export const GEO_LAT_MIN = -85.05112878;
/** Highest latitude Redis can index. */
export const GEO_LAT_MAX = 85.05112878;
/** Lowest longitude. */
export const GEO_LONG_MIN = -180;
/** Highest longitude. */
export const GEO_LONG_MAX = 180;
/** Earth's quadratic mean radius for WGS-84, as Redis uses it. */
export const EARTH_RADIUS_IN_METERS = 6372797.560856;

const MERCATOR_MAX = 20037726.37;
const D_R = Math.PI / 180;
const TWO32 = 4294967296;

/** A cell: `step` bits per axis, interleaved into `bits` (latitude on the even bits). */
export interface GeoHash {
  bits: number;
  step: number;
}

/** A cell's bounds in degrees. */
export interface GeoArea {
  lonMin: number;
  lonMax: number;
  latMin: number;
  latMax: number;
}

/** A search shape: a circle (`radius`) or an axis-aligned box (`width` × `height`). */
export interface GeoShape {
  /** Centre longitude. */
  lon: number;
  /** Centre latitude. */
  lat: number;
  /** Metres per unit of the sizes below. */
  conversion: number;
  /** Circle radius in units; undefined for a box. */
  radius?: number | undefined;
  /** Box width in units. */
  width: number;
  /** Box height in units. */
  height: number;
}

/** Spreads the 16 low bits of `v` onto the even bits of a 32-bit word. */
function spread16(v: number): number {
  v &= 0xffff;
  v = (v | (v << 8)) & 0x00ff00ff;
  v = (v | (v << 4)) & 0x0f0f0f0f;
  v = (v | (v << 2)) & 0x33333333;
  v = (v | (v << 1)) & 0x55555555;
  return v >>> 0;
}

/** Gathers the even bits of a 32-bit word into 16 bits. */
function compact16(v: number): number {
  v &= 0x55555555;
  v = (v | (v >>> 1)) & 0x33333333;
  v = (v | (v >>> 2)) & 0x0f0f0f0f;
  v = (v | (v >>> 4)) & 0x00ff00ff;
  v = (v | (v >>> 8)) & 0x0000ffff;
  return v;
}

/** Interleaves `x` (even bits) and `y` (odd bits), each below 2^27. */
export function interleave(x: number, y: number): number {
  const lo = (spread16(x) | (spread16(y) << 1)) >>> 0;
  const hi = (spread16(x >>> 16) | (spread16(y >>> 16) << 1)) >>> 0;
  return hi * TWO32 + lo;
}

/** Splits an interleaved hash (below 2^53) into its even-bit and odd-bit halves. */
export function deinterleave(bits: number): [number, number] {
  const lo = bits >>> 0;
  const hi = Math.floor(bits / TWO32) >>> 0;
  const x = (compact16(lo) | (compact16(hi) << 16)) >>> 0;
  const y = (compact16(lo >>> 1) | (compact16(hi >>> 1) << 16)) >>> 0;
  return [x, y];
}

/**
 * The cell of `step` bits per axis holding a point, on the given latitude range.
 *
 * @param lon longitude, within the GEO limits
 * @param lat latitude, within the GEO limits and the range
 * @param step bits per axis (1-26)
 * @param latRange the latitude range: Redis's own, or [-90, 90] for standard geohash strings
 * @returns the cell
 */
export function encode(
  lon: number,
  lat: number,
  step: number,
  latRange: [number, number] = [GEO_LAT_MIN, GEO_LAT_MAX],
): GeoHash {
  const scale = 2 ** step;
  const latOffset = (lat - latRange[0]) / (latRange[1] - latRange[0]) * scale;
  const lonOffset = (lon - GEO_LONG_MIN) / (GEO_LONG_MAX - GEO_LONG_MIN) * scale;
  return { bits: interleave(Math.trunc(latOffset), Math.trunc(lonOffset)), step };
}

/** The bounds of a cell. */
export function decode(hash: GeoHash): GeoArea {
  const [ilat, ilon] = deinterleave(hash.bits);
  return cellArea(ilat, ilon, hash.step);
}

/** The 52-bit score of a cell (its bits shifted up to 26 steps). */
export function align52(hash: GeoHash): number {
  return hash.bits * 2 ** (52 - hash.step * 2);
}

/**
 * The cell indexes [latitude, longitude] of a stored score, read as C's `(uint64_t)` cast reads
 * a double: a geo score is a non-negative integer below 2^53; any other (set by ZADD) wraps
 * like the cast does on x86-64, and each axis keeps 32 of the 64 bits.
 */
function scoreAxes(score: number): [number, number] {
  if (score >= 0 && score < 2 ** 53 && Number.isInteger(score)) return deinterleave(score);
  let u: bigint;
  if (score <= -(2 ** 63)) u = 1n << 63n;
  else if (score >= 2 ** 64) u = 0n;
  else u = BigInt.asUintN(64, BigInt(Math.trunc(score)));
  const lo = Number(u & 0xffffffffn);
  const hi = Number(u >> 32n);
  return [
    (compact16(lo) | (compact16(hi) << 16)) >>> 0,
    (compact16(lo >>> 1) | (compact16(hi >>> 1) << 16)) >>> 0,
  ];
}

/** The bounds of the cell with indexes `ilat`, `ilon` at `step` bits per axis. */
function cellArea(ilat: number, ilon: number, step: number): GeoArea {
  const scale = 2 ** step;
  const latScale = GEO_LAT_MAX - GEO_LAT_MIN;
  const lonScale = GEO_LONG_MAX - GEO_LONG_MIN;
  return {
    latMin: GEO_LAT_MIN + (ilat / scale) * latScale,
    latMax: GEO_LAT_MIN + ((ilat + 1) / scale) * latScale,
    lonMin: GEO_LONG_MIN + (ilon / scale) * lonScale,
    lonMax: GEO_LONG_MIN + ((ilon + 1) / scale) * lonScale,
  };
}

/** The centre of the cell a stored score names, clamped to the GEO limits: [lon, lat]. */
export function decodeScore(score: number): [number, number] {
  const [ilat, ilon] = scoreAxes(score);
  const a = cellArea(ilat, ilon, GEO_STEP_MAX);
  let lon = (a.lonMin + a.lonMax) / 2;
  if (lon > GEO_LONG_MAX) lon = GEO_LONG_MAX;
  if (lon < GEO_LONG_MIN) lon = GEO_LONG_MIN;
  let lat = (a.latMin + a.latMax) / 2;
  if (lat > GEO_LAT_MAX) lat = GEO_LAT_MAX;
  if (lat < GEO_LAT_MIN) lat = GEO_LAT_MIN;
  return [lon, lat];
}

/** The score GEOADD stores for a point. */
export function scoreOf(lon: number, lat: number): number {
  return align52(encode(lon, lat, GEO_STEP_MAX));
}

const BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz";

/** The 11-character standard geohash (latitude range ±90) of a stored score. */
export function geohashString(score: number): string {
  const [lon, lat] = decodeScore(score);
  const bits = encode(lon, lat, GEO_STEP_MAX, [-90, 90]).bits;
  let out = "";
  for (let i = 0; i < 10; i++) out += BASE32[Math.floor(bits / 2 ** (47 - i * 5)) % 32];
  // 52 bits make ten characters and two bits: the eleventh is padded with zeros, as Redis does.
  return out + "0";
}

/** Moves a cell one step east (`d` > 0) or west on the odd (longitude) bits. */
function moveX(h: GeoHash, d: number): GeoHash {
  const [lat, lon] = deinterleave(h.bits);
  const mask = 2 ** h.step;
  const next = (d > 0 ? lon + 1 : lon - 1 + mask) % mask;
  return { bits: interleave(lat, next), step: h.step };
}

/** Moves a cell one step north (`d` > 0) or south on the even (latitude) bits. */
function moveY(h: GeoHash, d: number): GeoHash {
  const [lat, lon] = deinterleave(h.bits);
  const mask = 2 ** h.step;
  const next = (d > 0 ? lat + 1 : lat - 1 + mask) % mask;
  return { bits: interleave(next, lon), step: h.step };
}

function toRad(deg: number): number {
  return deg * D_R;
}

function toDeg(rad: number): number {
  return rad / D_R;
}

/** The search step for a radius at a latitude, as Redis's `geohashEstimateStepsByRadius`. */
export function estimateSteps(rangeMeters: number, lat: number): number {
  if (rangeMeters === 0) return 26;
  let step = 1;
  while (rangeMeters < MERCATOR_MAX) {
    rangeMeters *= 2;
    step++;
  }
  step -= 2; // so that the range is included in most of the base cases
  // Cells narrow towards the poles.
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  return Math.min(26, Math.max(1, step));
}

/** The shape's bounding box: [minLon, minLat, maxLon, maxLat]. */
export function boundingBox(s: GeoShape): [number, number, number, number] {
  const height = s.conversion * (s.radius ?? s.height / 2);
  const width = s.conversion * (s.radius ?? s.width / 2);
  const latDelta = toDeg(height / EARTH_RADIUS_IN_METERS);
  const lonDeltaTop = toDeg(width / EARTH_RADIUS_IN_METERS / cos(toRad(s.lat + latDelta)));
  const lonDeltaBottom = toDeg(
    width / EARTH_RADIUS_IN_METERS / cos(toRad(s.lat - latDelta)),
  );
  // The box's wider edge is the one nearer the equator.
  const delta = s.lat < 0 ? lonDeltaBottom : lonDeltaTop;
  return [s.lon - delta, s.lat - latDelta, s.lon + delta, s.lat + latDelta];
}

/**
 * The cells to scan for a shape, in Redis's order: the centre cell, then north, south, east,
 * west, north-east, north-west, south-east, south-west; `undefined` for a neighbour the
 * bounding box does not reach.
 */
export function searchCells(s: GeoShape): (GeoHash | undefined)[] {
  const [minLon, minLat, maxLon, maxLat] = boundingBox(s);
  const radius = s.radius !== undefined
    ? s.radius
    : Math.sqrt((s.width / 2) * (s.width / 2) + (s.height / 2) * (s.height / 2));
  let steps = estimateSteps(radius * s.conversion, s.lat);
  let hash = encode(s.lon, s.lat, steps);
  let n = neighbors(hash);
  // Near a cell's edge the estimated step may be too coarse for the neighbours to cover the box.
  if (
    steps > 1 && (
      decode(n[0]!).latMax < maxLat || decode(n[1]!).latMin > minLat ||
      decode(n[2]!).lonMax < maxLon || decode(n[3]!).lonMin > minLon
    )
  ) {
    steps--;
    hash = encode(s.lon, s.lat, steps);
    n = neighbors(hash);
  }
  const cells: (GeoHash | undefined)[] = [hash, ...n];
  if (steps >= 2) {
    const area = decode(hash);
    const drop = (...idx: number[]) => idx.forEach((i) => (cells[i + 1] = undefined));
    if (area.latMin < minLat) drop(1, 7, 6);
    if (area.latMax > maxLat) drop(0, 4, 5);
    if (area.lonMin < minLon) drop(3, 7, 5);
    if (area.lonMax > maxLon) drop(2, 6, 4);
  }
  return cells;
}

/** The eight neighbours: north, south, east, west, north-east, north-west, south-east, south-west. */
function neighbors(h: GeoHash): GeoHash[] {
  const east = moveX(h, 1);
  const west = moveX(h, -1);
  return [
    moveY(h, 1),
    moveY(h, -1),
    east,
    west,
    moveY(east, 1),
    moveY(west, 1),
    moveY(east, -1),
    moveY(west, -1),
  ];
}

/** Distance in metres along a meridian between two latitudes. */
function latDistance(lat1: number, lat2: number): number {
  return EARTH_RADIUS_IN_METERS * Math.abs(toRad(lat2) - toRad(lat1));
}

/** Great-circle distance in metres (haversine), as Redis's `geohashGetDistance`. */
export function distance(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const v = sin((toRad(lon2) - toRad(lon1)) / 2);
  // Same longitude: the haversine reduces to the latitude difference.
  if (v === 0) return latDistance(lat1, lat2);
  const lat1r = toRad(lat1);
  const lat2r = toRad(lat2);
  const u = sin((lat2r - lat1r) / 2);
  const a = u * u + cos(lat1r) * cos(lat2r) * v * v;
  return 2 * EARTH_RADIUS_IN_METERS * asin(Math.sqrt(a));
}

/**
 * The distance from the shape's centre to a point when the point lies in the shape, else
 * undefined (Redis's `geoWithinShape` after decoding).
 */
export function distanceInShape(s: GeoShape, lon: number, lat: number): number | undefined {
  if (s.radius !== undefined) {
    const d = distance(s.lon, s.lat, lon, lat);
    return d > s.radius * s.conversion ? undefined : d;
  }
  if (latDistance(s.lat, lat) > s.height * s.conversion / 2) return undefined;
  if (distance(lon, lat, s.lon, lat) > s.width * s.conversion / 2) return undefined;
  return distance(s.lon, s.lat, lon, lat);
}
