/**
 * GEO commands: GEOADD, GEOPOS, GEODIST and GEOHASH here, the area searches in
 * `geo_search.ts`; {@linkcode geoCommands} lists them all. A geo set is a sorted set whose
 * scores are 52-bit geohashes (`core/geohash.ts`): GEOADD is ZADD of those scores and
 * propagates as that ZADD, as Redis rewrites it.
 *
 * @module
 */

import type { CommandSpec } from "../core/command.ts";
import { decodeScore, distance, geohashString, scoreOf } from "../core/geohash.ts";
import { E, fail, R, type Reply } from "../core/resp/reply.ts";
import { coordReply, distanceText, lonLatArg, unitArg } from "./geo_args.ts";
import { geoSearchCommands } from "./geo_search.ts";
import { zaddCommand } from "./zset.ts";
import { getZset } from "./zset_common.ts";

const ONE_KEY = { first: 1, last: 1, step: 1 } as const;

/** GEOADD key [NX | XX] [CH] longitude latitude member [longitude latitude member ...] */
export const geoaddCommand: CommandSpec = {
  name: "geoadd",
  arity: -5,
  flags: ["write", "denyoom"],
  keys: ONE_KEY,
  docs: {
    summary:
      "Add one or more geospatial items in the geospatial index represented using a sorted set",
    since: "3.2.0",
    group: "geo",
    complexity:
      "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
    args: "key [NX | XX] [CH] longitude latitude member [longitude latitude member ...]",
  },
  execute(client, argv) {
    let nx = false;
    let xx = false;
    let first = 2;
    for (; first < argv.length; first++) {
      const opt = argv[first]!.toLowerCase();
      if (opt === "nx") nx = true;
      else if (opt === "xx") xx = true;
      else if (opt !== "ch") break;
    }
    if ((argv.length - first) % 3 !== 0 || (nx && xx)) return fail(E.syntax);
    // ZADD key [options] score member ...: the options pass through, CH included.
    const zadd = ["zadd", ...argv.slice(1, first)];
    for (let i = first; i < argv.length; i += 3) {
      const [lon, lat] = lonLatArg(argv, i);
      zadd.push(String(scoreOf(lon, lat)), argv[i + 2]!);
    }
    const server = client.server;
    const dirty = server.dirty;
    const reply = zaddCommand.execute!(client, zadd);
    if (server.dirty !== dirty) server.replicate(client.db.id, zadd);
    return reply;
  },
};

/** GEOPOS key [member ...] */
export const geoposCommand: CommandSpec = {
  name: "geopos",
  arity: -2,
  flags: ["readonly"],
  keys: ONE_KEY,
  docs: {
    summary: "Returns longitude and latitude of members of a geospatial index",
    since: "3.2.0",
    group: "geo",
    complexity: "O(N) where N is the number of members requested.",
    args: "key member [member ...]",
  },
  execute(client, argv) {
    const z = getZset(client, argv[1]!);
    const out: Reply[] = [];
    for (let i = 2; i < argv.length; i++) {
      const score = z?.score(argv[i]!);
      if (score === undefined) out.push(R.nullArray);
      else {
        const [lon, lat] = decodeScore(score);
        out.push([coordReply(lon), coordReply(lat)]);
      }
    }
    return out;
  },
};

/** GEODIST key member1 member2 [M | KM | FT | MI] */
export const geodistCommand: CommandSpec = {
  name: "geodist",
  arity: -4,
  flags: ["readonly"],
  keys: ONE_KEY,
  docs: {
    summary: "Returns the distance between two members of a geospatial index",
    since: "3.2.0",
    group: "geo",
    complexity: "O(log(N))",
    args: "key member1 member2 [M | KM | FT | MI]",
  },
  execute(client, argv) {
    if (argv.length > 5) return fail(E.syntax);
    const toMeters = argv.length === 5 ? unitArg(argv[4]!) : 1;
    const z = getZset(client, argv[1]!);
    const s1 = z?.score(argv[2]!);
    const s2 = z?.score(argv[3]!);
    if (s1 === undefined || s2 === undefined) return null;
    const [lon1, lat1] = decodeScore(s1);
    const [lon2, lat2] = decodeScore(s2);
    return distanceText(distance(lon1, lat1, lon2, lat2) / toMeters);
  },
};

/** GEOHASH key [member ...] */
export const geohashCommand: CommandSpec = {
  name: "geohash",
  arity: -2,
  flags: ["readonly"],
  keys: ONE_KEY,
  docs: {
    summary: "Returns members of a geospatial index as standard geohash strings",
    since: "3.2.0",
    group: "geo",
    complexity:
      "O(log(N)) for each member requested, where N is the number of elements in the sorted set.",
    args: "key member [member ...]",
  },
  execute(client, argv) {
    const z = getZset(client, argv[1]!);
    const out: Reply[] = [];
    for (let i = 2; i < argv.length; i++) {
      const score = z?.score(argv[i]!);
      out.push(score === undefined ? null : geohashString(score));
    }
    return out;
  },
};

/** Every GEO command. */
export const geoCommands: CommandSpec[] = [
  geoaddCommand,
  geoposCommand,
  geodistCommand,
  geohashCommand,
  ...geoSearchCommands,
];
