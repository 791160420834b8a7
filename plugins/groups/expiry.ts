/**
 * What happens when a deadline in a group passes (called by the lease bookkeeping, on the master
 * only, from the tick or before a GROUP command reads the group): a member whose lease passed is
 * marked away for its grace period if it has one, else removed; an away member whose grace passed
 * is removed; a reservation that was not confirmed frees its seat; a ban ends. Each but the last
 * notifies, and a freed seat goes to the first waiter once the change is done.
 *
 * @module
 */

import type { Database } from "../../core/keyspace/database.ts";
import type { Server } from "../../core/server.ts";
import type { HashValue } from "../../core/types/hash.ts";
import {
  AWAY,
  BANNED,
  GRACE,
  MEMBER,
  numberField,
  publish,
  removeMember,
  RESERVED,
  write,
} from "./group.ts";
import type { DeadlinePassed } from "./leases.ts";

/** The handler of passed deadlines for `server`. */
export function deadlinePassed(server: Server): DeadlinePassed {
  return (db: Database, key: string, hash: HashValue, field: string, at: number) => {
    if (field.startsWith(MEMBER)) {
      const member = field.slice(MEMBER.length);
      // Already away: the away deadline decides.
      if (hash.has(AWAY + member)) return undefined;
      const grace = numberField(hash, GRACE + member);
      if (grace > 0) {
        const until = at + grace;
        write(server, db, key, hash, [AWAY + member, String(until)]);
        publish(server, key, "away", member, hash);
        return [AWAY + member, until];
      }
      removeMember(server, db, key, hash, member, "expire");
    } else if (field.startsWith(AWAY)) {
      removeMember(server, db, key, hash, field.slice(AWAY.length), "expire");
    } else if (field.startsWith(RESERVED)) {
      write(server, db, key, hash, [], [field]);
      publish(server, key, "reserve-expire", field.slice(RESERVED.length), hash);
    } else if (field.startsWith(BANNED)) {
      // A ban that passed: the field goes, quietly.
      write(server, db, key, hash, [], [field]);
    }
    return undefined;
  };
}
