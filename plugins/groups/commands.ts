/**
 * The GROUP.* commands (see README.md for the contract). Each runs to its end on the event loop,
 * so a join's checks and its write are one atomic step, in MULTI/EXEC and in scripts too.
 *
 * @module
 */

import type { Client } from "../../core/client.ts";
import type { CommandFlag, CommandSpec } from "../../core/command.ts";
import { E, ErrorReply, fail, R, type Reply } from "../../core/resp/reply.ts";
import { capacityArg } from "./args.ts";
import { group, type Groups } from "./context.ts";
import {
  CAPACITY,
  capacityOf,
  CHANNEL_PREFIX,
  createGroup,
  findGroup,
  isOpen,
  MEMBER,
  OPEN,
  setFields,
} from "./group.ts";
import { info } from "./info.ts";
import { join } from "./join.ts";
import { joinAll, kick, leave, members, setMeta } from "./members.ts";
import { reserve } from "./reserve.ts";

const WRITE: readonly CommandFlag[] = ["write", "denyoom", "fast"];
const READ: readonly CommandFlag[] = ["readonly", "fast"];

function spec(
  name: string,
  arity: number,
  flags: readonly CommandFlag[],
  summary: string,
  args: string,
  execute: (client: Client, argv: string[]) => Reply,
): CommandSpec {
  return {
    name,
    arity,
    flags,
    keys: { first: 1, last: 1, step: 1 },
    // A group is a hash: ACL rules see the commands in @hash (and @write or @read, @fast, from
    // the flags); a write reads the group first, so its key needs read and write (`~` or %RW~).
    acl: ["hash"],
    docs: { summary, since: "1.0.0", group: "module", complexity: "O(1)", args },
    execute,
  };
}

/** The GROUP.* command specs, bound to the plugin's state. */
export function groupCommands(g: Groups): CommandSpec[] {
  return specs(g).map((s) => ({
    ...s,
    execute: (client, argv) => g.leases.run(() => s.execute!(client, argv)),
  }));
}

function specs(g: Groups): CommandSpec[] {
  return [
    spec(
      "group.create",
      -3,
      WRITE,
      "Creates a group with a capacity, open unless CLOSED is given.",
      "group capacity [CLOSED]",
      (client, argv) => {
        const key = argv[1]!;
        const capacity = capacityArg(argv[2]!);
        let open = true;
        if (argv.length === 4 && argv[3]!.toUpperCase() === "CLOSED") open = false;
        else if (argv.length !== 3) return fail(E.syntax);
        if (client.db.get(key) !== undefined) {
          if (findGroup(client.db, key) !== undefined) {
            return new ErrorReply("BUSYGROUP group already exists");
          }
        }
        createGroup(client, key, capacity, open);
        return R.ok;
      },
    ),
    spec(
      "group.join",
      -3,
      WRITE,
      "Admits a member if the group is open and not full, or waits in line with WAIT; a member already in stays in.",
      "group member [TTL milliseconds] [GRACE milliseconds] [WITHTOKEN] [TOKEN token] [WAIT timeout] [META field value [field value ...]]",
      (client, argv) => join(client, g, argv),
    ),
    spec(
      "group.leave",
      -3,
      WRITE,
      "Removes a member from a group; with TOKEN, only while that fencing token holds its seat.",
      "group member [TOKEN token]",
      (client, argv) => leave(client, g, argv),
    ),
    spec(
      "group.reserve",
      5,
      WRITE,
      "Holds a seat for a member until its TTL passes; the member's GROUP.JOIN confirms it.",
      "group member TTL milliseconds",
      (client, argv) => reserve(client, g, argv),
    ),
    spec("group.open", 2, WRITE, "Opens a group to new members.", "group", (client, argv) => {
      const hash = group(client, g, argv[1]!);
      if (!isOpen(hash)) setFields(client, argv[1]!, hash, [OPEN, "1"]);
      return R.ok;
    }),
    spec("group.close", 2, WRITE, "Closes a group to new members.", "group", (client, argv) => {
      const hash = group(client, g, argv[1]!);
      if (isOpen(hash)) setFields(client, argv[1]!, hash, [OPEN, "0"]);
      return R.ok;
    }),
    spec(
      "group.resize",
      3,
      WRITE,
      "Changes the capacity of a group.",
      "group capacity",
      (client, argv) => {
        const capacity = capacityArg(argv[2]!);
        const hash = group(client, g, argv[1]!);
        if (capacityOf(hash) !== capacity) {
          setFields(client, argv[1]!, hash, [CAPACITY, String(capacity)]);
        }
        return R.ok;
      },
    ),
    spec(
      "group.info",
      2,
      READ,
      "Returns a group's name, capacity, size, open flag, members with their lease, waiters, reservations, away members, last token and counters.",
      "group",
      (client, argv) => info(client, g, argv[1]!),
    ),
    spec(
      "group.members",
      -2,
      READ,
      "Returns the members of a group, with their metadata with WITHMETA.",
      "group [WITHMETA]",
      (client, argv) => members(client, g, argv),
    ),
    spec(
      "group.setmeta",
      -5,
      WRITE,
      "Sets metadata fields of a member.",
      "group member field value [field value ...]",
      (client, argv) => setMeta(client, g, argv),
    ),
    spec(
      "group.kick",
      -3,
      WRITE,
      "Removes a member (or its reservation), and with BAN keeps it out for a while.",
      "group member [BAN milliseconds]",
      (client, argv) => kick(client, g, argv),
    ),
    spec(
      "group.joinall",
      -3,
      WRITE,
      "Admits every member given, or none of them.",
      "group member [member ...]",
      (client, argv) => joinAll(client, g, argv),
    ),
    spec(
      "group.ismember",
      3,
      READ,
      "Tells whether a member is in a group.",
      "group member",
      (client, argv) => (group(client, g, argv[1]!).has(MEMBER + argv[2]!) ? 1 : 0),
    ),
    spec(
      "group.pos",
      3,
      READ,
      "Returns the place of a member in the group's waitlist, 1 for the first; nil when not waiting.",
      "group member",
      (client, argv) => {
        group(client, g, argv[1]!);
        return g.waitlist.position(client.db, argv[1]!, argv[2]!) ?? null;
      },
    ),
    spec(
      "group.channel",
      2,
      READ,
      "Returns the channel a group's notifications are published on (sharded in cluster mode).",
      "group",
      // The channel depends on the name alone: no group needed, so one can subscribe first.
      (client, argv) => client.server.pubsub.keyChannel(CHANNEL_PREFIX, argv[1]!),
    ),
  ];
}
