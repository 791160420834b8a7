/**
 * What happens when a deadline in a group passes (called by the lease bookkeeping, on the master
 * only, from the tick or before a GROUP command reads the group): a member whose lease passed is
 * removed, a reservation that was not confirmed frees its seat. Both notify, and the seat goes to
 * the first waiter once the change is done.
 *
 * @module
 */

import type { Database } from "../../core/keyspace/database.ts";
import type { Server } from "../../core/server.ts";
import type { HashValue } from "../../core/types/hash.ts";
import { MEMBER, publish, removeMember, RESERVED, sizeOf, write } from "./group.ts";
import type { DeadlinePassed } from "./leases.ts";

/** The handler of passed deadlines for `server`. */
export function deadlinePassed(server: Server): DeadlinePassed {
  return (db: Database, key: string, hash: HashValue, field: string) => {
    if (field.startsWith(MEMBER)) {
      removeMember(server, db, key, hash, field.slice(MEMBER.length), "expire");
    } else if (field.startsWith(RESERVED)) {
      write(server, db, key, hash, [], [field]);
      publish(server, key, "reserve-expire", field.slice(RESERVED.length), sizeOf(hash));
    }
  };
}
