/**
 * In-process sessions: a client without a socket whose replies are captured as values, for
 * tests and embedding (`server.session()`, `server.dispatch()`).
 *
 * @module
 */

import { Client } from "./client.ts";
import type { Server } from "./server.ts";
import type { LocalSession } from "./server_types.ts";

/**
 * Creates an in-process session on `server`: commands run exactly as from a socket, except that
 * the session starts authenticated (`requirepass` guards sockets, not the embedding program).
 */
export function createSession(server: Server): LocalSession {
  const client = new Client(server, null);
  // The program holding the server object already has it all: its sessions need no password.
  server.acl.exempt(client);
  client.captured = [];
  server.clients.set(client.id, client);
  for (const h of server.hooks.clientCreated) h(client);
  return {
    client,
    call: (...argv: string[]) => {
      server.tick();
      const start = client.captured!.length;
      server.call(client, argv);
      server.endBatch();
      const got = client.captured!.splice(start);
      return got.length === 0 ? null : got[0]!;
    },
    drain: () => client.captured!.splice(0),
  };
}
