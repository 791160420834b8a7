/**
 * Every built-in command family, in registration order.
 *
 * @module
 */

import { type CommandSpec, markBuiltin } from "../core/command.ts";
import { bitfieldCommands } from "./bitfield.ts";
import { bitCommands } from "./bits.ts";
import { connectionCommands } from "./connection.ts";
import { counterCommands } from "./counter.ts";
import { databaseCommands } from "./database.ts";
import { expireCommands } from "./expire.ts";
import { keysCommands } from "./keys.ts";
import { hashCommands } from "./hash.ts";
import { setCommands } from "./set.ts";
import { listCommands } from "./list.ts";
import { zsetCommands } from "./zset.ts";
import { geoCommands } from "./geo.ts";
import { sortCommands } from "./sort.ts";
import { stringCommands } from "./string.ts";
import { clientCommand } from "./client.ts";
import { configCommand } from "./config.ts";
import { aclCommand } from "./acl.ts";
import { debugCommand } from "./debug.ts";
import { moduleCommand } from "./module.ts";
import { infoCommand } from "./info.ts";
import { commandCommand } from "./introspection.ts";
import { serverCommands } from "./server.ts";
import { pubsubCommands } from "./pubsub.ts";
import { transactionCommands } from "./transactions.ts";
import { blockingListCommands } from "./blocking_list.ts";
import { blockingZsetCommands } from "./blocking_zset.ts";
import { stringRangeCommands } from "./string_range.ts";
import { scriptingCommands } from "./scripting.ts";
import { functionCommands } from "./functions.ts";
import { dumpCommands } from "./dump.ts";
import { migrateCommand } from "./migrate.ts";
import { persistenceCommands } from "./persistence.ts";
import { aofCommands } from "./aof.ts";
import { streamCommands } from "./stream.ts";
import { hyperloglogCommands } from "./hyperloglog.ts";
import { clusterModeCommands } from "./cluster_mode.ts";

/** All built-in commands. */
export const builtinCommands: CommandSpec[] = [
  ...connectionCommands,
  ...stringCommands,
  ...counterCommands,
  ...stringRangeCommands,
  ...bitCommands,
  ...bitfieldCommands,
  ...keysCommands,
  ...hashCommands,
  ...setCommands,
  ...listCommands,
  ...zsetCommands,
  ...geoCommands,
  ...sortCommands,
  ...expireCommands,
  ...databaseCommands,
  infoCommand,
  configCommand,
  clientCommand,
  commandCommand,
  debugCommand,
  moduleCommand,
  ...serverCommands,
  aclCommand,
  ...pubsubCommands,
  ...transactionCommands,
  ...blockingListCommands,
  ...blockingZsetCommands,
  ...scriptingCommands,
  ...functionCommands,
  ...dumpCommands,
  migrateCommand,
  ...persistenceCommands,
  ...aofCommands,
  ...streamCommands,
  ...hyperloglogCommands,
  ...clusterModeCommands,
];

markBuiltin(builtinCommands);
