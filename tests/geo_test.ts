import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { createServer } from "../mod.ts";
import type { Server } from "../mod.ts";
import { decodeScore, geohashString, scoreOf } from "../core/geohash.ts";
import { distanceText } from "../commands/geo_args.ts";
import { asin, cos, exact, sin } from "../core/geo_math.ts";
import { errorText, hello3, RawConn, recordEffects, recordEvents, startServer } from "./helpers.ts";

const NYC = [
  ["-73.9454966", "40.747533", "lic market"],
  ["-73.9733487", "40.7648057", "central park n/q/r"],
  ["-73.9903085", "40.7362513", "union square"],
  ["-74.0131604", "40.7126674", "wtc one"],
  ["-73.7858139", "40.6428986", "jfk"],
  ["-73.9375699", "40.7498929", "q4"],
  ["-73.9564142", "40.7480973", "4545"],
].flat();

function withNyc(): Server {
  const server = createServer();
  assert.equal(server.dispatch(["GEOADD", "nyc", ...NYC]), 7);
  return server;
}

test("geohash scores and cell centres are Redis's", () => {
  assert.equal(scoreOf(-73.9454966, 40.747533), 1791875804419201);
  assert.equal(scoreOf(-74.0131604, 40.7126674), 1791873972053020);
  assert.equal(geohashString(scoreOf(-5.6, 42.6)), "ezs42e44yx0");
  assert.deepEqual(decodeScore(scoreOf(1, 2)).map((x) => x.toFixed(17)), [
    "0.99999994039535522",
    "2.00000018564654880",
  ]);
  // A coordinate on the upper limit makes a 53-bit hash and decodes clamped to the limit.
  assert.equal(decodeScore(scoreOf(180, 0))[0], 180);
});

test("sin, cos and asin are correctly rounded, as glibc's are (engines' differ by an ulp)", () => {
  // Values from glibc where fdlibm (older V8) is one ulp off.
  const cases: [(x: number) => number, (x: number) => number, number, number][] = [
    [sin, exact.sin, 0.8995593839435116, 0.7830529422649278],
    [sin, exact.sin, -2.311795344452305, -0.737794564802569],
    [sin, exact.sin, 2.227540920001166, 0.7919839867011075],
    [cos, exact.cos, 0.8995593839435116, 0.6219550543328992],
    [cos, exact.cos, -2.311795344452305, -0.6750253181531697],
    [cos, exact.cos, 0.09032691624389351, 0.9959232970339668],
    [asin, exact.asin, 0.8700101551766398, 1.0552229174978505],
    [asin, exact.asin, 0.5047204674288633, 0.5290581328188825],
    [asin, exact.asin, 0.8164373705606909, 0.9552140701962796],
  ];
  for (const [f, dd, x, want] of cases) {
    assert.equal(f(x), want, `${f.name}(${x})`);
    assert.equal(dd(x), want, `${dd.name}(${x})`);
  }
  assert.equal(exact.sin(0), 0);
  assert.equal(exact.cos(0), 1);
  assert.equal(exact.sin(1e300), Math.sin(1e300));
});

test("distances are rounded to four decimals, ties to even", () => {
  assert.equal(distanceText(0), "0.0000");
  assert.equal(distanceText(0.775), "0.7750");
  assert.equal(distanceText(6.0642951598391699e-05), "0.0001");
  assert.equal(distanceText(0.00005), "0.0000");
  assert.equal(distanceText(0.00025), "0.0002");
  assert.equal(distanceText(0.00035), "0.0004");
  assert.equal(distanceText(166274.1516), "166274.1516");
});

test("GEOADD is a ZADD of geohash scores and propagates as that ZADD", () => {
  const server = createServer();
  const effects = recordEffects(server);
  const events = recordEvents(server);
  assert.equal(server.dispatch(["GEOADD", "g", "CH", "13.361389", "38.115556", "Palermo"]), 1);
  assert.equal(server.dispatch(["GEOADD", "g", "NX", "13.361389", "38.115556", "Palermo"]), 0);
  assert.equal(server.dispatch(["ZSCORE", "g", "Palermo"]) !== null, true);
  assert.deepEqual(effects, [["zadd", "g", "CH", "3479099956230698", "Palermo"]]);
  assert.deepEqual(events, ["zadd:g"]);
  assert.equal(
    errorText(server.dispatch(["GEOADD", "g", "XX", "NX", "1", "1", "a"])),
    "ERR syntax error",
  );
  assert.equal(
    errorText(server.dispatch(["GEOADD", "g", "200", "1", "a"])),
    "ERR invalid longitude,latitude pair 200.000000,1.000000",
  );
  server.dispatch(["SET", "s", "x"]);
  assert.match(errorText(server.dispatch(["GEOADD", "s", "1", "1", "a"])), /^WRONGTYPE/);
});

test("GEORADIUS sorts by distance, COUNT keeps the nearest, ANY the first found", () => {
  const server = withNyc();
  const at = ["nyc", "-73.9798091", "40.7598464"];
  assert.deepEqual(server.dispatch(["GEORADIUS", ...at, "3", "km", "ASC", "WITHDIST"]), [
    ["central park n/q/r", "0.7750"],
    ["4545", "2.3651"],
    ["union square", "2.7697"],
  ]);
  assert.deepEqual(server.dispatch(["GEORADIUS", ...at, "10", "km", "COUNT", "2", "DESC"]), [
    "wtc one",
    "q4",
  ]);
  assert.deepEqual(server.dispatch(["GEORADIUS", ...at, "10", "km", "COUNT", "3", "ANY"]), [
    "wtc one",
    "union square",
    "central park n/q/r",
  ]);
  assert.equal(
    errorText(server.dispatch(["GEORADIUS", ...at, "10", "km", "ANY"])),
    "ERR the ANY argument requires COUNT argument",
  );
});

test("GEOSEARCH checks FROM and BY options and searches boxes", () => {
  const server = withNyc();
  assert.deepEqual(
    server.dispatch(["GEOSEARCH", "nyc", "FROMMEMBER", "wtc one", "BYBOX", "14", "14", "km"]),
    ["wtc one", "union square", "central park n/q/r", "4545", "lic market", "q4"],
  );
  assert.equal(
    errorText(server.dispatch(["geosearch", "nyc", "BYBOX", "1", "1", "km", "ASC"])),
    "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for geosearch",
  );
  assert.equal(
    errorText(server.dispatch(["GEOSEARCH", "nyc", "FROMMEMBER", "nope", "BYRADIUS", "1", "m"])),
    "ERR could not decode requested zset member",
  );
  assert.equal(
    errorText(server.dispatch(["GEOSEARCH", "nyc", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "yd"])),
    "ERR unsupported unit provided. please use M, KM, FT, MI",
  );
});

test("the STORE forms write a sorted set, fire their event and propagate as sent", () => {
  const server = withNyc();
  const effects = recordEffects(server);
  const events = recordEvents(server);
  const radius = ["GEORADIUS", "nyc", "-73.9798091", "40.7598464", "3", "km"];
  assert.equal(server.dispatch([...radius, "STOREDIST", "d"]), 3);
  assert.deepEqual(server.dispatch(["ZRANGE", "d", "0", "0"]), ["central park n/q/r"]);
  assert.equal(
    server.dispatch(["GEOSEARCHSTORE", "e", "nyc", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "m"]),
    0,
  );
  assert.equal(
    server.dispatch(["GEOSEARCHSTORE", "d", "nokey", "FROMMEMBER", "x", "BYBOX", "1", "1", "m"]),
    0,
  );
  assert.equal(server.dispatch(["EXISTS", "d"]), 0);
  assert.deepEqual(effects, [
    [...radius, "STOREDIST", "d"],
    ["GEOSEARCHSTORE", "d", "nokey", "FROMMEMBER", "x", "BYBOX", "1", "1", "m"],
  ]);
  assert.deepEqual(events, ["georadiusstore:d", "del:d"]);
  assert.equal(
    errorText(server.dispatch([...radius, "STORE", "d", "WITHDIST"])),
    "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
  );
  assert.equal(
    errorText(server.dispatch(["GEORADIUS_RO", ...radius.slice(1), "STORE", "d"])),
    "ERR syntax error",
  );
});

test("GEORADIUS is marked movablekeys and reports its STORE key; the _RO form is not", () => {
  const server = createServer();
  const info = server.dispatch(["COMMAND", "INFO", "georadius", "georadius_ro"]) as unknown[][];
  assert.match(JSON.stringify(info[0]![2]), /movablekeys/);
  assert.doesNotMatch(JSON.stringify(info[1]![2]), /movablekeys/);
  assert.deepEqual(
    server.dispatch([
      "COMMAND",
      "GETKEYS",
      "GEORADIUS",
      "src",
      "0",
      "0",
      "1",
      "km",
      "STORE",
      "dst",
    ]),
    ["src", "dst"],
  );
});

test("GEOPOS and GEODIST over the wire with ioredis and node-redis, RESP2 and RESP3", async () => {
  const running = await startServer();
  const io = new Redis(running.port, "127.0.0.1");
  const nr = createClient({ url: `redis://127.0.0.1:${running.port}` });
  await nr.connect();
  const raw = await RawConn.connect(running.port);
  try {
    assert.equal(
      await io.geoadd("p", 13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania"),
      2,
    );
    assert.deepEqual(await io.geopos("p", "Palermo", "nope"), [
      ["13.36138933897018433", "38.11555639549629859"],
      null,
    ]);
    assert.equal(await io.geodist("p", "Palermo", "Catania", "KM"), "166.2742");
    assert.equal(await nr.geoDist("p", "Palermo", "Catania"), 166274.1516);
    assert.deepEqual(await nr.geoHash("p", "Palermo"), ["sqc8b49rny0"]);
    await hello3(raw);
    raw.send("*4\r\n$6\r\nGEOPOS\r\n$1\r\np\r\n$7\r\nPalermo\r\n$1\r\nx\r\n");
    const want = "*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n";
    assert.equal(await raw.read(want.length), want);
  } finally {
    raw.close();
    io.disconnect();
    await nr.quit();
    await running.close();
  }
});
