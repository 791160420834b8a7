/**
 * ACL refusals in Redis 7.2's words (getAclErrorMessage): the user and command by name, keys
 * and channels unnamed except in ACL DRYRUN; scripts prefix `ACL failure in script:`. A server
 * reporting 7.0.x keeps 7.0's texts (tests/acl_compare_test.ts, beside Debian's redis-server).
 * Asserted directly, and byte for byte beside the 7.4.1 reference build when it is present.
 */
import { test } from "node:test";
import { startServer } from "./helpers.ts";
import { as7015 } from "./redis_compare.ts";
import { assertReplies, REFERENCE_74, startReference } from "./reference_redis.ts";

const NO_REF = REFERENCE_74 === undefined ? "the redis 7.4.1 reference build is absent" : false;
const sha = (s: string) => `script: ${s}, on @user_script:1.`;

const CASES: Array<[string[], string]> = [
  [["ACL", "SETUSER", "u", "on", "nopass", "+@all", "-get", "~a*", "&ch*"], "+OK\r\n"],
  [["AUTH", "u", "x"], "+OK\r\n"],
  [["GET", "a"], "-NOPERM User u has no permissions to run the 'get' command\r\n"],
  [["SET", "b", "1"], "-NOPERM No permissions to access a key\r\n"],
  [["PUBLISH", "zz", "m"], "-NOPERM No permissions to access a channel\r\n"],
  [
    ["EVAL", "return redis.call('get','a')", "0"],
    "-ERR ACL failure in script: User u has no permissions to run the 'get' command " +
    `${sha("eaeaa27fd219f13108fd9dea9f5ef7513173e803")}\r\n`,
  ],
  [
    ["EVAL", "return redis.call('set','b','1')", "0"],
    "-ERR ACL failure in script: No permissions to access a key " +
    `${sha("6dee20530b98af29aede2283e1e46670101fd16c")}\r\n`,
  ],
  [
    ["EVAL", "return redis.pcall('publish','zz','1')", "0"],
    "-ERR ACL failure in script: No permissions to access a channel\r\n",
  ],
  [
    ["ACL", "DRYRUN", "u", "get", "a"],
    "$50\r\nUser u has no permissions to run the 'get' command\r\n",
  ],
  [
    ["ACL", "DRYRUN", "u", "set", "b", "1"],
    "$47\r\nUser u has no permissions to access the 'b' key\r\n",
  ],
  [
    ["ACL", "DRYRUN", "u", "publish", "zz", "1"],
    "$52\r\nUser u has no permissions to access the 'zz' channel\r\n",
  ],
  [["SUBSCRIBE", "zz"], "-NOPERM No permissions to access a channel\r\n"],
];

/** The same on a server reporting 7.0.15: Redis 7.0's texts. */
const CASES_70: Array<[string[], string]> = [
  CASES[0]!,
  CASES[1]!,
  [["GET", "a"], "-NOPERM this user has no permissions to run the 'get' command\r\n"],
  [
    ["SET", "b", "1"],
    "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n",
  ],
  [
    ["EVAL", "return redis.call('get','a')", "0"],
    "-ERR The user executing the script can't run this command or subcommand " +
    `${sha("eaeaa27fd219f13108fd9dea9f5ef7513173e803")}\r\n`,
  ],
  [
    ["ACL", "DRYRUN", "u", "set", "b", "1"],
    "$50\r\nThis user has no permissions to access the 'b' key\r\n",
  ],
];

test("ACL refusals in Redis 7.2's words", async () => {
  const ours = await startServer();
  try {
    await assertReplies(ours.port, CASES);
    await assertReplies(ours.port, CASES, true);
  } finally {
    await ours.close();
  }
});

test("ACL refusals in Redis 7.2's words: the same on the 7.4.1 reference", {
  skip: NO_REF,
}, async () => {
  const ref = await startReference();
  try {
    await assertReplies(ref.port, CASES);
    await assertReplies(ref.port, CASES, true);
  } finally {
    ref.stop();
  }
});

test("a server reporting 7.0.15 refuses in Redis 7.0's words", async () => {
  const ours = await startServer(as7015());
  try {
    await assertReplies(ours.port, CASES_70);
  } finally {
    await ours.close();
  }
});
