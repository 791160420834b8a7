/**
 * Side by side with a real redis-server: the GEO commands must answer byte for byte what Redis
 * 7.0 answers, in RESP2 and RESP3, on hand-picked cases and on seeded random searches (scores,
 * distances and coordinates included). Skipped when `redis-server` is not installed.
 */
import { test } from "node:test";
import { compareWithRedis as compare, prng, script } from "./redis_compare.ts";
import { missing } from "./redis_tools.ts";

const NYC =
  `GEOADD nyc -73.9454966 40.747533 "lic market" -73.9733487 40.7648057 "central park n/q/r"
GEOADD nyc -73.9903085 40.7362513 "union square" -74.0131604 40.7126674 "wtc one"
GEOADD nyc -73.7858139 40.6428986 jfk -73.9375699 40.7498929 q4 -73.9564142 40.7480973 4545`;

const CASES = script(`${NYC}
ZRANGE nyc 0 -1 WITHSCORES ; GEOADD nyc CH 40.747533 -73.9454966 "lic market" ; GEOADD nyc NX 1 1 jfk
GEOADD nyc XX CH -73.9454966 40.747533 "lic market" ; GEOADD nyc XX NX 1 1 a ; GEOADD nyc ch xx foo 1 1 a
GEOADD nyc 1 1 a foo bar b ; GEOADD nyc ch ch ch ; GEOADD nyc GT 1 1 a ; GEOADD nyc 200 0 a
GEOADD nyc 1e300 -0 a ; GEOADD nyc inf -inf a ; GEOADD nyc 1 nan a ; GEOADD nyc 0 85.06 a
GEOADD nyc 180 85.05112878 edge1 -180 -85.05112878 edge2 ; GEOPOS nyc edge1 edge2 nope jfk
GEOHASH nyc edge1 edge2 jfk nope ; GEOPOS nokey a ; GEOHASH nokey a b ; GEOPOS nyc ; GEOHASH nyc
GEODIST nyc jfk q4 ; GEODIST nyc jfk q4 KM ; GEODIST nyc jfk q4 mi ; GEODIST nyc jfk q4 ft
GEODIST nyc jfk jfk ; GEODIST nyc jfk nope ; GEODIST nokey a b ; GEODIST nyc jfk q4 yd
GEODIST nyc jfk q4 km x ; GEODIST nyc edge1 edge2
GEORADIUS nyc -73.9798091 40.7598464 3 km ASC ; GEORADIUS nyc -73.9798091 40.7598464 3 km
GEORADIUS nyc -73.9798091 40.7598464 3 km WITHDIST WITHCOORD WITHHASH ASC
GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT 3 ; GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT 3 ANY
GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT 3 ANY ASC ; GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT 2 DESC
GEORADIUS nyc -73.9798091 40.7598464 10 km ANY ; GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT
GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT 0 ; GEORADIUS nyc -73.9798091 40.7598464 10 km COUNT x
GEORADIUS nyc -73.9798091 40.7598464 -1 km ; GEORADIUS nyc -73.9798091 40.7598464 x km
GEORADIUS nyc -73.9798091 40.7598464 1 yd ; GEORADIUS nyc 200 0 1 km ; GEORADIUS nyc 0 0 1 km FOO
GEORADIUS nyc -73.9798091 40.7598464 10 mi WITHDIST DESC ; GEORADIUS nyc -73.98 40.76 30000 ft WITHDIST
GEORADIUS nyc -73.9798091 40.7598464 10 km STORE dst WITHDIST ; GEORADIUS_RO nyc 0 0 1 km STORE dst
GEORADIUS_RO nyc -73.9798091 40.7598464 3 km WITHDIST ; GEORADIUSBYMEMBER nyc "wtc one" 7 km WITHDIST
GEORADIUSBYMEMBER nyc "wtc one" 7 km WITHCOORD COUNT 2 ; GEORADIUSBYMEMBER nyc nope 7 km
GEORADIUSBYMEMBER nokey nope x km WITHDIST ; GEORADIUSBYMEMBER_RO nyc jfk 20 km WITHHASH
GEOSEARCH nyc FROMLONLAT -73.9798091 40.7598464 BYBOX 6 6 km WITHDIST ASC
GEOSEARCH nyc FROMMEMBER "wtc one" BYBOX 14 14 km ; GEOSEARCH nyc FROMMEMBER jfk BYRADIUS 20 km DESC WITHCOORD
GEOSEARCH nyc FROMLONLAT 0 0 FROMMEMBER jfk BYBOX 1 1 km ; GEOSEARCH nyc FROMMEMBER jfk FROMMEMBER q4 BYRADIUS 5 km
GEOSEARCH nyc BYBOX 1 1 km ASC ; geosearch nyc FROMMEMBER jfk ASC ; GEOSEARCH nyc FROMMEMBER jfk BYRADIUS 1 km BYBOX 1 1 km
GEOSEARCH nyc FROMMEMBER jfk BYBOX -1 1 km ; GEOSEARCH nyc FROMMEMBER jfk BYBOX a 1 km ; GEOSEARCH nyc FROMMEMBER jfk BYBOX 1 b km
GEOSEARCH nyc FROMMEMBER jfk BYRADIUS 1e400 km ; GEOSEARCH nyc FROMMEMBER jfk BYRADIUS 1e-400 km
GEOSEARCH nyc FROMMEMBER jfk BYRADIUS inf km COUNT 2 ; GEOSEARCH nyc FROMMEMBER jfk BYRADIUS 1 km STOREDIST
GEOSEARCH nyc FROMMEMBER nope BYRADIUS 1 km ; GEOSEARCH nokey FROMMEMBER nope BYRADIUS 1 km
GEOSEARCH nyc FROMLONLAT 0 0 BYRADIUS 0 m ; GEOSEARCH nyc FROMMEMBER jfk BYRADIUS 0 m WITHDIST
SET str x ; GEOADD str 1 1 a ; GEOPOS str a ; GEOHASH str a ; GEODIST str a b ; GEORADIUS str 0 0 1 km
GEORADIUSBYMEMBER str m 1 km STORE d ; GEOSEARCHSTORE d str FROMMEMBER m BYBOX 1 1 m
GEORADIUS nyc -73.9798091 40.7598464 10 km STORE dst ; ZRANGE dst 0 -1 WITHSCORES ; OBJECT ENCODING dst
GEORADIUS nyc -73.9798091 40.7598464 10 km STOREDIST dst DESC COUNT 2 ; ZRANGE dst 0 -1 WITHSCORES
GEORADIUSBYMEMBER nyc jfk 100 km STORE d1 STOREDIST d2 ; EXISTS d1 d2 ; ZRANGE d2 0 -1 WITHSCORES
GEOSEARCHSTORE dst nyc FROMMEMBER jfk BYRADIUS 30 km STOREDIST ; ZRANGE dst 0 -1 WITHSCORES
GEOSEARCHSTORE dst nyc FROMMEMBER jfk BYRADIUS 30 km WITHDIST ; GEOSEARCHSTORE dst nyc FROMMEMBER jfk BYRADIUS 3 km STORE x
GEOSEARCHSTORE dst nyc FROMLONLAT 0 0 BYRADIUS 1 km ; EXISTS dst ; SET dst x
GEOSEARCHSTORE dst nokey FROMLONLAT 0 0 BYRADIUS 1 km ; EXISTS dst
GEOADD same 10 10 c 10 10 a 10 10 b 10.001 10 d ; GEOSEARCH same FROMLONLAT 10 10 BYRADIUS 1 km ASC WITHDIST
GEOSEARCH same FROMLONLAT 10 10 BYRADIUS 1 km DESC ; GEOSEARCH same FROMLONLAT 10 10 BYRADIUS 1 km
ZADD odd 1.5 x -3 y 1e20 z 9007199254740993 w ; GEOPOS odd x y z w ; GEOHASH odd x y z w
GEODIST odd x y ; GEOSEARCH odd FROMMEMBER y BYRADIUS 100000 km WITHCOORD WITHHASH
GEOADD users -47.271613776683807 -54.534504198047678 user_000000 ; GEORADIUS users 0 0 50000 km WITHCOORD
GEOADD k1 -0.15307903289794921875 85 n1 0.3515625 85.00019260486917005437 n2 ; GEORADIUSBYMEMBER k1 n1 4891.94 m
GEOADD pts 179.5 36 p1 -179.5 36 p2 ; GEOSEARCH pts FROMLONLAT 179 37 BYBOX 400 400 km ASC WITHDIST
GEOSEARCH pts FROMLONLAT -179 37 BYBOX 400 400 km ASC WITHCOORD
`);

test("GEO commands answer as Redis does in RESP2", { skip: missing("redis-server") }, async () => {
  await compare(CASES, false);
});

test("GEO commands answer as Redis does in RESP3", { skip: missing("redis-server") }, async () => {
  await compare(CASES, true);
});

/** Random points and searches from a fixed seed: same bytes, extras and order included. */
function randomCases(seed: number): string[][] {
  const rand = prng(seed);
  const lon = () => (-180 + rand() * 360).toFixed(6);
  const lat = () => (-80 + rand() * 160).toFixed(6);
  const cases: string[][] = [];
  for (let set = 0; set < 4; set++) {
    const add = ["GEOADD", "r"];
    for (let i = 0; i < 300; i++) add.push(lon(), lat(), `m${set}:${i}`);
    cases.push(["DEL", "r"], add);
    for (let q = 0; q < 25; q++) {
      const km = String(Math.floor(rand() * (q % 5 === 0 ? 5000 : 800)) + 10);
      const extras = ["WITHDIST", "WITHCOORD", "WITHHASH"].filter(() => rand() < 0.5);
      const order = rand() < 0.3 ? [] : [rand() < 0.5 ? "ASC" : "DESC"];
      const count = rand() < 0.3 ? ["COUNT", String(1 + Math.floor(rand() * 5))] : [];
      const from = rand() < 0.5
        ? ["FROMLONLAT", lon(), lat()]
        : ["FROMMEMBER", `m${set}:${Math.floor(rand() * 300)}`];
      const by = rand() < 0.5
        ? ["BYRADIUS", km, "km"]
        : ["BYBOX", km, String(Number(km) / 2), "km"];
      cases.push(["GEOSEARCH", "r", ...from, ...by, ...order, ...count, ...extras]);
      cases.push(["GEOSEARCHSTORE", "d", "r", ...from, ...by, ...count, "STOREDIST"]);
      cases.push(["ZRANGE", "d", "0", "-1"]);
    }
    cases.push(["GEOPOS", "r", "m0:1", `m${set}:7`], ["GEODIST", "r", `m${set}:1`, `m${set}:2`]);
  }
  return cases;
}

/** Many members on a few spots: ties in distance, ordered by Redis's partial sort with COUNT. */
function tieCases(seed: number): string[][] {
  const rand = prng(seed);
  const spots = [["10", "10"], ["10.001", "10"], ["10", "10.002"], ["9.997", "10.001"]];
  const cases: string[][] = [];
  for (const size of [5, 9, 30, 120]) {
    const add = ["GEOADD", `t${size}`];
    for (let i = 0; i < size; i++) add.push(...spots[Math.floor(rand() * spots.length)]!, `p${i}`);
    cases.push(add);
    for (let q = 0; q < 12; q++) {
      const count = String(1 + Math.floor(rand() * size));
      const order = rand() < 0.5 ? "ASC" : "DESC";
      cases.push([
        "GEOSEARCH",
        `t${size}`,
        "FROMLONLAT",
        "10",
        "10",
        "BYRADIUS",
        "5",
        "km",
        "COUNT",
        count,
        order,
      ]);
    }
  }
  return cases;
}

test(
  "ties in distance come out in Redis's order, COUNT or not",
  { skip: missing("redis-server") },
  async () => {
    await compare(tieCases(1), false);
    await compare(tieCases(2), true);
  },
);

test(
  "seeded random GEO searches answer as Redis does",
  { skip: missing("redis-server") },
  async () => {
    await compare(randomCases(20240611), false);
    await compare(randomCases(7), true);
  },
);
