/**
 * The replica's half of the replication handshake (Redis's syncWithMaster and
 * readSyncBulkPayload): `PING`, `AUTH` with masterauth, `REPLCONF listening-port` (and
 * `ip-address`), `REPLCONF capa eof capa psync2`, `PSYNC`, then the RDB payload of a full sync in
 * either form (`$<len>` or `$EOF:<mark>`). Newlines a master sends to keep the link alive while
 * it prepares the RDB are skipped.
 *
 * @module
 */

import { strToBytes } from "../core/bytes.ts";
import type { Connection } from "../core/net/transport.ts";
import { ReplyWriter } from "../core/resp/writer.ts";
import type { Server } from "../core/server.ts";
import type { LinkReader } from "./link_reader.ts";

/** The handshake or the transfer failed: the message is the log line; the link retries later. */
export class LinkError extends Error {}

/** The master answered PSYNC with something else than FULLRESYNC or CONTINUE. */
export class PsyncRefused extends LinkError {}

/** The master's answer to PSYNC. */
export type PsyncResult =
  | { full: true; replid: string; offset: number }
  | { full: false; replid: string };

/** Sends one command to the master. */
export function sendCommand(conn: Connection, argv: string[]): void {
  const w = new ReplyWriter(64);
  w.arrayHeader(argv.length);
  for (const a of argv) w.bulk(a);
  conn.write(w.take());
}

/** The next line that is not a keepalive newline. */
async function reply(reader: LinkReader): Promise<string> {
  let line: string;
  do line = await reader.line(); while (line === "");
  return line;
}

/**
 * Shakes hands with a master up to its answer to `PSYNC <id> <offset>`.
 *
 * @param server our server (config, log)
 * @param conn the link
 * @param reader the link's input
 * @param psync the id and offset to ask for (`?` and `-1` for a full sync), and `FAILOVER` when
 *   a coordinated failover hands the master role over to this master
 * @returns the master's answer
 * @throws {LinkError} when the master refuses ({@linkcode PsyncRefused} when it refuses PSYNC)
 */
export async function handshake(
  server: Server,
  conn: Connection,
  reader: LinkReader,
  psync: string[],
): Promise<PsyncResult> {
  const config = server.config;
  const log = server.log;
  sendCommand(conn, ["PING"]);
  let r = await reply(reader);
  if (
    r.startsWith("-") && !r.startsWith("-NOAUTH") && !r.startsWith("-NOPERM") &&
    !r.startsWith("-ERR operation not permitted")
  ) {
    throw new LinkError(`Error reply to PING from master: '${r.slice(1)}'`);
  }
  log("notice", "Master replied to PING, replication can continue...");
  const pass = config.str("masterauth");
  if (pass !== "") {
    const user = config.str("masteruser");
    sendCommand(conn, user !== "" ? ["AUTH", user, pass] : ["AUTH", pass]);
    r = await reply(reader);
    if (r.startsWith("-")) throw new LinkError(`Unable to AUTH to MASTER: ${r.slice(1)}`);
  }
  // As Redis: over TLS replication the port a master can reach us on is the TLS one.
  const tlsPort = config.bool("tls-replication") ? config.num("tls-port") : 0;
  const port = config.num("replica-announce-port") || tlsPort || config.num("port");
  const ip = config.str("replica-announce-ip");
  const confs: Array<[string[], string]> = [[["listening-port", String(port)], "listening-port"]];
  if (ip !== "") confs.push([["ip-address", ip], "ip-address"]);
  confs.push([["capa", "eof", "capa", "psync2"], "capa"]);
  for (const [args, what] of confs) {
    sendCommand(conn, ["REPLCONF", ...args]);
    r = await reply(reader);
    if (r.startsWith("-")) {
      log("notice", `(Non critical) Master does not understand REPLCONF ${what}: ${r}`);
    }
  }
  if (psync[0] !== "?") {
    log("notice", `Trying a partial resynchronization (request ${psync[0]}:${psync[1]}).`);
  } else {
    log("notice", "Partial resynchronization not possible (no cached master)");
  }
  sendCommand(conn, ["PSYNC", ...psync]);
  r = await reply(reader);
  if (r.startsWith("+FULLRESYNC")) {
    const [, replid = "", offset = ""] = r.split(" ");
    if (replid.length !== 40 || !/^-?\d+$/.test(offset)) {
      throw new LinkError(`Master replied with wrong +FULLRESYNC syntax: ${r}`);
    }
    log("notice", `Full resync from master: ${replid}:${offset}`);
    return { full: true, replid, offset: Number(offset) };
  }
  if (r.startsWith("+CONTINUE")) return { full: false, replid: r.slice(9).trim() };
  if (r.startsWith("-NOMASTERLINK") || r.startsWith("-LOADING")) {
    throw new PsyncRefused(`Master is currently unable to PSYNC but should be in the future: ${r}`);
  }
  throw new PsyncRefused(`Unexpected reply to PSYNC from master: ${r}`);
}

/**
 * Receives the RDB of a full sync.
 *
 * @param server our server (log)
 * @param reader the link's input
 * @param progress told the total size (-1 for the `$EOF:` form) and the bytes read so far
 * @returns the RDB image
 * @throws {LinkError} when the master sends an error or something else than a payload
 */
export async function receiveRdb(
  server: Server,
  reader: LinkReader,
  progress: (total: number, read: number) => void,
): Promise<Uint8Array> {
  const first = await reply(reader);
  if (first.startsWith("-")) {
    throw new LinkError(`MASTER aborted replication with an error: ${first.slice(1)}`);
  }
  if (!first.startsWith("$")) {
    throw new LinkError(
      `Bad protocol from MASTER, the first byte is not '$' (we received '${first}'), are you sure the host and port are right?`,
    );
  }
  if (first.startsWith("$EOF:") && first.length >= 45) {
    server.log(
      "notice",
      "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk",
    );
    return await reader.untilMark(strToBytes(first.slice(5, 45)), (n) => progress(-1, n));
  }
  const size = Number(first.slice(1));
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new LinkError(`Bad protocol from MASTER: ${first}`);
  }
  server.log("notice", `MASTER <-> REPLICA sync: receiving ${size} bytes from master to disk`);
  return await reader.exact(size, (n) => progress(size, n));
}
