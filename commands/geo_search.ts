/**
 * The GEO area searches: GEORADIUS, GEORADIUSBYMEMBER (and their `_RO` forms), GEOSEARCH and
 * GEOSEARCHSTORE, one engine as Redis's `georadiusGeneric`: parse the options in Redis's order
 * (so the same error wins), scan the sorted set's score ranges of the nine cells covering the
 * shape, keep the points inside it, sort by distance and reply or store.
 *
 * @module
 */

import type { Client } from "../core/client.ts";
import type { CommandDocs, CommandSpec } from "../core/command.ts";
import {
  align52,
  decodeScore,
  distanceInShape,
  type GeoShape,
  searchCells,
} from "../core/geohash.ts";
import { N } from "../core/notify.ts";
import { E, fail, type Reply } from "../core/resp/reply.ts";
import { zsetLimits } from "../core/types/zset.ts";
import { coordReply, distanceText, geoDouble, lonLatArg, unitArg } from "./geo_args.ts";
import { geoSort } from "./geo_sort.ts";
import { getZset, ZSet } from "./zset_common.ts";
import { intArg } from "../core/args.ts";

/** Search around coordinates given in argv (GEORADIUS). */
const COORDS = 1;
/** Search around a member given in argv (GEORADIUSBYMEMBER). */
const MEMBER = 2;
/** STORE and STOREDIST are refused (the `_RO` forms). */
const NOSTORE = 4;
/** GEOSEARCH's FROM... / BY... syntax. */
const SEARCH = 8;
/** GEOSEARCHSTORE: the destination comes first, STOREDIST is a flag. */
const SEARCHSTORE = 16;

/** One point found. */
interface Found {
  member: string;
  score: number;
  dist: number;
  lon: number;
  lat: number;
}

/** Nearer first; points at the same distance are equal. */
function nearer(x: Found, y: Found): number {
  return x.dist > y.dist ? 1 : x.dist === y.dist ? 0 : -1;
}

/** Farther first. */
function farther(x: Found, y: Found): number {
  return -nearer(x, y);
}

/** The parsed options of a search. */
interface SearchArgs {
  withDist: boolean;
  withHash: boolean;
  withCoord: boolean;
  /** 0: unsorted, 1: ascending, -1: descending. */
  sort: number;
  any: boolean;
  count: number;
  storeKey: string | undefined;
  storeDist: boolean;
}

/** A radius argument pair (`radius unit`) read into the shape, as `extractDistanceOrReply`. */
function radiusArgs(argv: string[], at: number, shape: GeoShape): void {
  const r = geoDouble(argv[at]!, "ERR need numeric radius");
  if (r < 0) fail("ERR radius cannot be negative");
  shape.radius = r;
  shape.conversion = unitArg(argv[at + 1]!);
}

/** The position of `member`, or Redis's error when it is not in the set. */
function memberPosition(z: ZSet, member: string): [number, number] {
  const score = z.score(member);
  return score === undefined
    ? fail("ERR could not decode requested zset member")
    : decodeScore(score);
}

/**
 * Points of the set inside the shape whose scores are in [min, max), appended to `out` in score
 * order; stops once `limit` (0: none) points were found.
 */
function pointsInRange(
  z: ZSet,
  min: number,
  max: number,
  shape: GeoShape,
  out: Found[],
  limit: number,
): void {
  const list = z.list;
  const before = list.countBefore((s) => s < min);
  if (before >= list.length) return;
  for (const c = list.at(before + 1); c.valid; c.next()) {
    const score = c.score;
    if (score >= max) break;
    const [lon, lat] = decodeScore(score);
    const dist = distanceInShape(shape, lon, lat);
    if (dist !== undefined) out.push({ member: c.member, score, dist, lon, lat });
    if (limit !== 0 && out.length >= limit) break;
  }
}

/** Every point in the shape, cell by cell in Redis's order (`membersOfAllNeighbors`). */
function pointsInShape(z: ZSet, shape: GeoShape, limit: number): Found[] {
  const cells = searchCells(shape);
  const out: Found[] = [];
  let last = 0;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i];
    if (cell === undefined) continue;
    // Huge radiuses make neighbours coincide: a cell equal to the last one scanned is skipped
    // (the centre, scanned first, is never compared, as in Redis).
    const prev = cells[last];
    if (last !== 0 && prev !== undefined && prev.bits === cell.bits && prev.step === cell.step) {
      continue;
    }
    if (limit !== 0 && out.length >= limit) break;
    const min = align52(cell);
    const max = align52({ bits: cell.bits + 1, step: cell.step });
    pointsInRange(z, min, max, shape, out, limit);
    last = i;
  }
  return out;
}

/** Reads the options after the fixed arguments, setting the shape's centre and size. */
function parseOptions(
  argv: string[],
  base: number,
  flags: number,
  z: ZSet | undefined,
  shape: GeoShape,
  a: SearchArgs,
): void {
  let fromMember = false;
  let fromLoc = false;
  let byRadius = false;
  let byBox = false;
  const remaining = argv.length - base;
  for (let i = 0; i < remaining; i++) {
    const arg = argv[base + i]!.toLowerCase();
    const at = base + i + 1;
    if (arg === "withdist") a.withDist = true;
    else if (arg === "withhash") a.withHash = true;
    else if (arg === "withcoord") a.withCoord = true;
    else if (arg === "any") a.any = true;
    else if (arg === "asc") a.sort = 1;
    else if (arg === "desc") a.sort = -1;
    else if (arg === "count" && i + 1 < remaining) {
      a.count = intArg(argv[at]!);
      if (a.count <= 0) fail("ERR COUNT must be > 0");
      i++;
    } else if (
      (arg === "store" || arg === "storedist") && i + 1 < remaining &&
      !(flags & NOSTORE) && !(flags & SEARCH)
    ) {
      a.storeKey = argv[at]!;
      a.storeDist = arg === "storedist";
      i++;
    } else if (arg === "storedist" && flags & SEARCHSTORE) {
      a.storeDist = true;
    } else if (arg === "frommember" && i + 1 < remaining && flags & SEARCH && !fromLoc) {
      // Without a source key the parsing goes on, for the reply that fits the options.
      if (z !== undefined) [shape.lon, shape.lat] = memberPosition(z, argv[at]!);
      fromMember = true;
      i++;
    } else if (arg === "fromlonlat" && i + 2 < remaining && flags & SEARCH && !fromMember) {
      [shape.lon, shape.lat] = lonLatArg(argv, at);
      fromLoc = true;
      i += 2;
    } else if (arg === "byradius" && i + 2 < remaining && flags & SEARCH && !byBox) {
      radiusArgs(argv, at, shape);
      byRadius = true;
      i += 2;
    } else if (arg === "bybox" && i + 3 < remaining && flags & SEARCH && !byRadius) {
      const width = geoDouble(argv[at]!, "ERR need numeric width");
      const height = geoDouble(argv[at + 1]!, "ERR need numeric height");
      if (height < 0 || width < 0) fail("ERR height or width cannot be negative");
      shape.conversion = unitArg(argv[at + 2]!);
      shape.width = width;
      shape.height = height;
      shape.radius = undefined;
      byBox = true;
      i += 3;
    } else fail(E.syntax);
  }
  if (a.storeKey !== undefined && (a.withDist || a.withHash || a.withCoord)) {
    fail(
      `ERR ${
        flags & SEARCHSTORE ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS"
      } is not compatible with WITHDIST, WITHHASH and WITHCOORD options`,
    );
  }
  if (flags & SEARCH && !(fromMember || fromLoc)) {
    fail(`ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ${argv[0]}`);
  }
  if (flags & SEARCH && !(byRadius || byBox)) {
    fail(`ERR exactly one of BYRADIUS and BYBOX can be specified for ${argv[0]}`);
  }
  if (a.any && a.count === 0) fail("ERR the ANY argument requires COUNT argument");
}

/** Writes the result set at the destination, or deletes it when nothing was found. */
function store(client: Client, key: string, found: Found[], a: SearchArgs, event: string): Reply {
  const db = client.db;
  if (found.length === 0) {
    if (db.delete(key)) {
      db.notify(N.generic, "del", key);
      client.server.dirty++;
    }
    return 0;
  }
  const members = found.map((p) => p.member);
  const scores = found.map((p) => (a.storeDist ? p.dist : p.score));
  db.set(key, ZSet.fromElements(members, scores, zsetLimits(client.server.config)));
  db.notify(N.zset, event, key);
  client.server.dirty += found.length;
  return found.length;
}

/** The search reply: members alone, or each with the requested extras. */
function searchReply(found: Found[], a: SearchArgs): Reply {
  const extras = a.withDist || a.withHash || a.withCoord;
  return found.map((p): Reply => {
    if (!extras) return p.member;
    const item: Reply[] = [p.member];
    if (a.withDist) item.push(distanceText(p.dist));
    if (a.withHash) item.push(p.score);
    if (a.withCoord) item.push([coordReply(p.lon), coordReply(p.lat)]);
    return item;
  });
}

/** The engine of every search command; `src` is the source key's index in argv. */
function searchGeneric(client: Client, argv: string[], src: number, flags: number): Reply {
  const z = getZset(client, argv[src]!);
  const shape: GeoShape = { lon: 0, lat: 0, conversion: 1, width: 0, height: 0 };
  let base: number;
  const a: SearchArgs = {
    withDist: false,
    withHash: false,
    withCoord: false,
    sort: 0,
    any: false,
    count: 0,
    storeKey: undefined,
    storeDist: false,
  };
  if (flags & COORDS) {
    base = 6;
    [shape.lon, shape.lat] = lonLatArg(argv, 2);
    radiusArgs(argv, 4, shape);
  } else if (flags & MEMBER) {
    base = 5;
    if (z !== undefined) {
      [shape.lon, shape.lat] = memberPosition(z, argv[2]!);
      radiusArgs(argv, 3, shape);
    }
  } else {
    base = flags & SEARCHSTORE ? 3 : 2;
    if (flags & SEARCHSTORE) a.storeKey = argv[1]!;
  }
  parseOptions(argv, base, flags, z, shape, a);
  if (z === undefined) {
    return a.storeKey !== undefined ? store(client, a.storeKey, [], a, "") : [];
  }
  // COUNT keeps the nearest points, so it sorts (ANY keeps the first found instead).
  if (a.count !== 0 && a.sort === 0 && !a.any) a.sort = 1;
  const found = pointsInShape(z, shape, a.any ? a.count : 0);
  if (found.length === 0 && a.storeKey === undefined) return [];
  const keep = a.count !== 0 && found.length > a.count ? a.count : found.length;
  if (a.sort !== 0) geoSort(found, a.sort === 1 ? nearer : farther, keep);
  found.length = keep;
  for (const p of found) p.dist /= shape.conversion;
  if (a.storeKey === undefined) return searchReply(found, a);
  return store(client, a.storeKey, found, a, flags & SEARCH ? "geosearchstore" : "georadiusstore");
}

/** GEORADIUS's keys: the source, and the destination of a STORE or STOREDIST (the last wins). */
function georadiusKeys(argv: string[]): number[] {
  let stored = -1;
  for (let i = 5; i < argv.length; i++) {
    const arg = argv[i]!.toLowerCase();
    if ((arg === "store" || arg === "storedist") && i + 1 < argv.length) {
      stored = i + 1;
      i++;
    }
  }
  return stored < 0 ? [1] : [1, stored];
}

const RADIUS_COMPLEXITY =
  "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.";
const SEARCH_COMPLEXITY =
  "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape";
const RADIUS_OPTIONS = "[WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC]";
const STORE_OPTIONS = "[STORE key] [STOREDIST key]";
const SEARCH_FROM = "FROMMEMBER member | FROMLONLAT longitude latitude";
const SEARCH_BY = "BYRADIUS radius M | KM | FT | MI | BYBOX width height M | KM | FT | MI";

function spec(
  name: string,
  arity: number,
  flags: number,
  docs: CommandDocs,
  keys?: (argv: string[]) => number[],
): CommandSpec {
  const src = flags & SEARCHSTORE ? 2 : 1;
  const write = (flags & (NOSTORE | SEARCH)) === 0 || (flags & SEARCHSTORE) !== 0;
  return {
    name,
    arity,
    flags: write ? ["write", "denyoom"] : ["readonly"],
    ...(keys ? { getKeys: keys } : { keys: { first: 1, last: src, step: 1 } }),
    docs,
    execute: (client, argv) => searchGeneric(client, argv, src, flags),
  };
}

/** The search commands. */
export const geoSearchCommands: CommandSpec[] = [
  spec("georadius", -6, COORDS, {
    summary:
      "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point",
    since: "3.2.0",
    group: "geo",
    complexity: RADIUS_COMPLEXITY,
    args: `key longitude latitude radius <M | KM | FT | MI> ${RADIUS_OPTIONS} ${STORE_OPTIONS}`,
  }, georadiusKeys),
  spec("georadius_ro", -6, COORDS | NOSTORE, {
    summary: "A read-only variant for GEORADIUS",
    since: "3.2.10",
    group: "geo",
    complexity: RADIUS_COMPLEXITY,
    args: `key longitude latitude radius <M | KM | FT | MI> ${RADIUS_OPTIONS}`,
  }),
  spec("georadiusbymember", -5, MEMBER, {
    summary:
      "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member",
    since: "3.2.0",
    group: "geo",
    complexity: RADIUS_COMPLEXITY,
    args: `key member radius <M | KM | FT | MI> ${RADIUS_OPTIONS} ${STORE_OPTIONS}`,
  }, georadiusKeys),
  spec("georadiusbymember_ro", -5, MEMBER | NOSTORE, {
    summary: "A read-only variant for GEORADIUSBYMEMBER",
    since: "3.2.10",
    group: "geo",
    complexity: RADIUS_COMPLEXITY,
    args: `key member radius <M | KM | FT | MI> ${RADIUS_OPTIONS}`,
  }),
  spec("geosearch", -7, SEARCH, {
    summary:
      "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.",
    since: "6.2.0",
    group: "geo",
    complexity: SEARCH_COMPLEXITY,
    args: `key ${SEARCH_FROM} ${SEARCH_BY} [ASC | DESC] [COUNT count [ANY]] [WITHCOORD] ` +
      "[WITHDIST] [WITHHASH]",
  }),
  spec("geosearchstore", -8, SEARCH | SEARCHSTORE, {
    summary:
      "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.",
    since: "6.2.0",
    group: "geo",
    complexity: SEARCH_COMPLEXITY,
    args: `destination source ${SEARCH_FROM} ${SEARCH_BY} [ASC | DESC] [COUNT count [ANY]] ` +
      "[STOREDIST]",
  }),
];
