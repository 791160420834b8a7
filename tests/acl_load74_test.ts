/**
 * ACL LOAD as Redis 7.4 does it (#12171): clients stay connected under the new user of their
 * user's name; the clients of users the file dropped, and subscribers to channels the new user
 * no longer allows, are disconnected. The same steps on redeno and on the 7.4.1 reference.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RawConn, startServer } from "./helpers.ts";
import { pipeline } from "./redis_compare.ts";
import { REFERENCE_74, startReference } from "./reference_redis.ts";

const NO_REF = REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false;

const DEFAULT = "user default on nopass ~* &* +@all\n";
const FIRST = DEFAULT + "user dave on >pw ~* &* +@all\nuser erin on >pw ~* &* +@all\n" +
  "user sub on >pw ~* &news* +@all\n";
// dave may only GET now, erin is gone, sub keeps news1.
const SECOND = DEFAULT + "user dave on >pw ~* &* -@all +get\nuser sub on >pw ~* &news1 +@all\n";
// sub loses news1.
const THIRD = DEFAULT + "user dave on >pw ~* &* -@all +get\nuser sub on >pw ~* &other +@all\n";

/** What the clients of each user see across two ACL LOADs, on a server started by `start`. */
async function reloadRun(
  start: (file: string) => Promise<{ port: number; stop(): Promise<void> | void }>,
): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), "redeno-aclload74-"));
  const file = join(dir, "users.acl");
  writeFileSync(file, FIRST);
  const server = await start(file);
  const conns: RawConn[] = [];
  const conn = async (user: string) => {
    const c = await RawConn.connect(server.port);
    conns.push(c);
    await pipeline(c, [["AUTH", user, "pw"]]);
    return c;
  };
  try {
    const admin = await RawConn.connect(server.port);
    conns.push(admin);
    const dave = await conn("dave");
    const erin = await conn("erin");
    const sub = await conn("sub");
    await pipeline(sub, [["SUBSCRIBE", "news1"]]);
    writeFileSync(file, SECOND);
    const out = await pipeline(admin, [["ACL", "LOAD"]]);
    // The refusal's text is Redis 7.2's in the reference, 7.0's here: its code is compared.
    const daves = await pipeline(dave, [["GET", "k"], ["SET", "k", "v"]]);
    out.push(daves[0]!, daves[1]!.split(" ")[0]!);
    out.push(`erin closed: ${await erin.waitClosed()}`);
    out.push(...await pipeline(admin, [["PUBLISH", "news1", "m"]]));
    writeFileSync(file, THIRD);
    out.push(...await pipeline(admin, [["ACL", "LOAD"]]));
    out.push(`sub closed: ${await sub.waitClosed()}`, `dave open: ${!dave.closed}`);
    return out;
  } finally {
    for (const c of conns) c.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const EXPECTED = [
  "+OK\r\n",
  "$-1\r\n",
  "-NOPERM",
  "erin closed: true",
  ":1\r\n",
  "+OK\r\n",
  "sub closed: true",
  "dave open: true",
];

test("ACL LOAD keeps clients whose user is still there (Redis 7.4)", async () => {
  const got = await reloadRun(async (aclfile) => {
    const s = await startServer({ config: { aclfile } });
    return { port: s.port, stop: () => s.close() };
  });
  assert.deepEqual(got, EXPECTED);
});

test("ACL LOAD side by side with the 7.4.1 reference", { skip: NO_REF }, async () => {
  const got = await reloadRun((aclfile) => startReference(["--aclfile", aclfile]));
  assert.deepEqual(got, EXPECTED);
});
