/**
 * Redis 7.0.15's documentation notes on its commands, for `COMMAND DOCS`: which are deprecated
 * (since when, and what replaces them), which are for servers rather than users (`syscmd`), and
 * what changed in which version (with Redis 7.4's entries for what redeno took from 7.4). A
 * command's own `docs` win; plugins declare theirs there.
 *
 * @module
 */

import type { DocNotes } from "../core/command.ts";

/** Documentation notes of Redis's commands, by full name. */
export const REDIS_DOC_NOTES: Readonly<Record<string, DocNotes>> = {
  "acl|getuser": {
    history: [["6.2.0", "Added Pub/Sub channel patterns."], [
      "7.0.0",
      "Added selectors and changed the format of key and channel patterns from a list to their rule representation.",
    ]],
  },
  "acl|setuser": {
    history: [["6.2.0", "Added Pub/Sub channel patterns."], [
      "7.0.0",
      "Added selectors and key based permissions.",
    ]],
  },
  auth: { history: [["6.0.0", "Added ACL style (username and password)."]] },
  bgsave: { history: [["3.2.2", "Added the `SCHEDULE` option."]] },
  bitcount: { history: [["7.0.0", "Added the `BYTE|BIT` option."]] },
  bitpos: { history: [["7.0.0", "Added the `BYTE|BIT` option."]] },
  blpop: { history: [["6.0.0", "`timeout` is interpreted as a double instead of an integer."]] },
  brpop: { history: [["6.0.0", "`timeout` is interpreted as a double instead of an integer."]] },
  brpoplpush: {
    deprecated: ["6.2.0", "`BLMOVE` with the `RIGHT` and `LEFT` arguments"],
    history: [["6.0.0", "`timeout` is interpreted as a double instead of an integer."]],
  },
  bzpopmax: { history: [["6.0.0", "`timeout` is interpreted as a double instead of an integer."]] },
  bzpopmin: { history: [["6.0.0", "`timeout` is interpreted as a double instead of an integer."]] },
  "client|kill": {
    history: [
      ["2.8.12", "Added new filter format."],
      ["2.8.12", "`ID` option."],
      [
        "3.2.0",
        "Added `master` type in for `TYPE` option.",
      ],
      [
        "5.0.0",
        "Replaced `slave` `TYPE` with `replica`. `slave` still supported for backward compatibility.",
      ],
      ["6.2.0", "`LADDR` option."],
      ["7.4.0", "`MAXAGE` option."],
    ],
  },
  "client|list": {
    history: [
      ["2.8.12", "Added unique client `id` field."],
      ["5.0.0", "Added optional `TYPE` filter."],
      ["6.0.0", "Added `user` field."],
      [
        "6.2.0",
        "Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the optional `ID` filter.",
      ],
      ["7.0.0", "Added `resp`, `multi-mem`, `rbs` and `rbp` fields."],
      ["7.0.3", "Added `ssub` field."],
    ],
  },
  "client|pause": {
    history: [["6.2.0", "`CLIENT PAUSE WRITE` mode added along with the `mode` option."]],
  },
  "cluster|meet": { history: [["4.0.0", "Added the optional `cluster_bus_port` argument."]] },
  "cluster|slaves": { deprecated: ["5.0.0", "`CLUSTER REPLICAS`"] },
  "cluster|slots": {
    deprecated: ["7.0.0", "`CLUSTER SHARDS`"],
    history: [["4.0.0", "Added node IDs."], [
      "7.0.0",
      "Added additional networking metadata field.",
    ]],
  },
  "command|info": {
    history: [["7.0.0", "Allowed to be called with no argument to get info on all commands."]],
  },
  "config|get": {
    history: [["7.0.0", "Added the ability to pass multiple pattern parameters in one call"]],
  },
  "config|set": {
    history: [["7.0.0", "Added the ability to set multiple parameters in one call."]],
  },
  debug: { syscmd: true },
  exists: { history: [["3.0.3", "Accepts multiple `key` arguments."]] },
  expire: { history: [["7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."]] },
  expireat: { history: [["7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."]] },
  flushall: {
    history: [["4.0.0", "Added the `ASYNC` flushing mode modifier."], [
      "6.2.0",
      "Added the `SYNC` flushing mode modifier.",
    ]],
  },
  flushdb: {
    history: [["4.0.0", "Added the `ASYNC` flushing mode modifier."], [
      "6.2.0",
      "Added the `SYNC` flushing mode modifier.",
    ]],
  },
  geoadd: { history: [["6.2.0", "Added the `CH`, `NX` and `XX` options."]] },
  georadius: {
    deprecated: ["6.2.0", "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument"],
    history: [["6.2.0", "Added the `ANY` option for `COUNT`."], [
      "7.0.0",
      "Added support for uppercase unit names.",
    ]],
  },
  georadius_ro: {
    deprecated: ["6.2.0", "`GEOSEARCH` with the `BYRADIUS` argument"],
    history: [["6.2.0", "Added the `ANY` option for `COUNT`."]],
  },
  georadiusbymember: {
    deprecated: [
      "6.2.0",
      "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and `FROMMEMBER` arguments",
    ],
    history: [["7.0.0", "Added support for uppercase unit names."]],
  },
  georadiusbymember_ro: {
    deprecated: ["6.2.0", "`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments"],
  },
  geosearch: { history: [["7.0.0", "Added support for uppercase unit names."]] },
  geosearchstore: { history: [["7.0.0", "Added support for uppercase unit names."]] },
  getset: { deprecated: ["6.2.0", "`SET` with the `!GET` argument"] },
  hdel: { history: [["2.4.0", "Accepts multiple `field` arguments."]] },
  hello: {
    history: [[
      "6.2.0",
      "`protover` made optional; when called without arguments the command reports the current connection's context.",
    ]],
  },
  hmset: { deprecated: ["4.0.0", "`HSET` with multiple field-value pairs"] },
  hset: { history: [["4.0.0", "Accepts multiple `field` and `value` arguments."]] },
  info: { history: [["7.0.0", "Added support for taking multiple section arguments."]] },
  lpop: { history: [["6.2.0", "Added the `count` argument."]] },
  lpush: { history: [["2.4.0", "Accepts multiple `element` arguments."]] },
  lpushx: { history: [["4.0.0", "Accepts multiple `element` arguments."]] },
  migrate: {
    history: [
      ["3.0.0", "Added the `COPY` and `REPLACE` options."],
      ["3.0.6", "Added the `KEYS` option."],
      ["4.0.7", "Added the `AUTH` option."],
      ["6.0.0", "Added the `AUTH2` option."],
    ],
  },
  pexpire: { history: [["7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."]] },
  pexpireat: { history: [["7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."]] },
  pfdebug: { syscmd: true },
  pfselftest: { syscmd: true },
  pttl: { history: [["2.8.0", "Added the -2 reply."]] },
  renamenx: {
    history: [[
      "3.2.0",
      "The command no longer returns an error when source and destination names are the same.",
    ]],
  },
  replconf: { syscmd: true },
  restore: {
    history: [
      ["3.0.0", "Added the `REPLACE` modifier."],
      ["5.0.0", "Added the `ABSTTL` modifier."],
      ["5.0.0", "Added the `IDLETIME` and `FREQ` options."],
    ],
  },
  "restore-asking": {
    syscmd: true,
    history: [
      ["3.0.0", "Added the `REPLACE` modifier."],
      ["5.0.0", "Added the `ABSTTL` modifier."],
      ["5.0.0", "Added the `IDLETIME` and `FREQ` options."],
    ],
  },
  rpop: { history: [["6.2.0", "Added the `count` argument."]] },
  rpoplpush: { deprecated: ["6.2.0", "`LMOVE` with the `RIGHT` and `LEFT` arguments"] },
  rpush: { history: [["2.4.0", "Accepts multiple `element` arguments."]] },
  rpushx: { history: [["4.0.0", "Accepts multiple `element` arguments."]] },
  sadd: { history: [["2.4.0", "Accepts multiple `member` arguments."]] },
  scan: { history: [["6.0.0", "Added the `TYPE` subcommand."]] },
  "script|flush": { history: [["6.2.0", "Added the `ASYNC` and `SYNC` flushing mode modifiers."]] },
  set: {
    history: [
      ["2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."],
      ["6.0.0", "Added the `KEEPTTL` option."],
      ["6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."],
      ["7.0.0", "Allowed the `NX` and `GET` options to be used together."],
    ],
  },
  shutdown: { history: [["7.0.0", "Added the `NOW`, `FORCE` and `ABORT` modifiers."]] },
  slaveof: { deprecated: ["5.0.0", "`REPLICAOF`"] },
  "slowlog|get": { history: [["4.0.0", "Added client IP address, port and name to the reply."]] },
  spop: { history: [["3.2.0", "Added the `count` argument."]] },
  srandmember: { history: [["2.6.0", "Added the optional `count` argument."]] },
  srem: { history: [["2.4.0", "Accepts multiple `member` arguments."]] },
  substr: { deprecated: ["2.0.0", "`GETRANGE`"] },
  ttl: { history: [["2.8.0", "Added the -2 reply."]] },
  xadd: {
    history: [[
      "6.2.0",
      "Added the `NOMKSTREAM` option, `MINID` trimming strategy and the `LIMIT` option.",
    ], ["7.0.0", "Added support for the `<ms>-*` explicit ID form."]],
  },
  xautoclaim: {
    history: [[
      "7.0.0",
      "Added an element to the reply array, containing deleted entries the command cleared from the PEL",
    ]],
  },
  "xgroup|create": { history: [["7.0.0", "Added the `entries_read` named argument."]] },
  "xgroup|setid": { history: [["7.0.0", "Added the optional `entries_read` argument."]] },
  "xinfo|groups": { history: [["7.0.0", "Added the `entries-read` and `lag` fields"]] },
  "xinfo|stream": {
    history: [["6.0.0", "Added the `FULL` modifier."], [
      "7.0.0",
      "Added the `max-deleted-entry-id`, `entries-added`, `recorded-first-entry-id`, `entries-read` and `lag` fields",
    ]],
  },
  xpending: { history: [["6.2.0", "Added the `IDLE` option and exclusive range intervals."]] },
  xrange: { history: [["6.2.0", "Added exclusive ranges."]] },
  xrevrange: { history: [["6.2.0", "Added exclusive ranges."]] },
  xsetid: {
    history: [["7.0.0", "Added the `entries_added` and `max_deleted_entry_id` arguments."]],
  },
  xtrim: { history: [["6.2.0", "Added the `MINID` trimming strategy and the `LIMIT` option."]] },
  zadd: {
    history: [["2.4.0", "Accepts multiple elements."], [
      "3.0.2",
      "Added the `XX`, `NX`, `CH` and `INCR` options.",
    ], ["6.2.0", "Added the `GT` and `LT` options."]],
  },
  zrange: { history: [["6.2.0", "Added the `REV`, `BYSCORE`, `BYLEX` and `LIMIT` options."]] },
  zrangebylex: { deprecated: ["6.2.0", "`ZRANGE` with the `BYLEX` argument"] },
  zrangebyscore: {
    deprecated: ["6.2.0", "`ZRANGE` with the `BYSCORE` argument"],
    history: [["2.0.0", "Added the `WITHSCORES` modifier."]],
  },
  zrem: { history: [["2.4.0", "Accepts multiple elements."]] },
  zrevrange: { deprecated: ["6.2.0", "`ZRANGE` with the `REV` argument"] },
  zrevrangebylex: { deprecated: ["6.2.0", "`ZRANGE` with the `REV` and `BYLEX` arguments"] },
  zrevrangebyscore: {
    deprecated: ["6.2.0", "`ZRANGE` with the `REV` and `BYSCORE` arguments"],
    history: [["2.1.6", "`min` and `max` can be exclusive."]],
  },
};
